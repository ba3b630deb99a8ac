import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock, ProjectDirectory, TokenInfo } from '../core/index.ts';
import type { AlarmStore, ClickHouseDriver, HashmapStore, HotRollups, PolicyStore, ReprocessStore, ResourceTypeStore, StatementStore } from '../storage/index.ts';
import type { AccessPolicy } from './access-policy.ts';
import type { TokenAuthenticator } from './auth.ts';

/** What every route family is built from: the store, the state stores, and who may do what. */
export interface ApiContext {
  readonly store: ClickHouseDriver;
  readonly clock: Clock;
  readonly auth: TokenAuthenticator;
  readonly access: AccessPolicy;
  /** Archive policies and their rules (transactional state store). */
  readonly policyStore: PolicyStore;
  readonly resourceTypes: ResourceTypeStore;
  /** CloudKitty's hashmap rating rules and module state (transactional state store). */
  readonly hashmap: HashmapStore;
  /** Issued statements and their numbers (transactional state store). */
  readonly statements: StatementStore;
  /** Rated periods and reprocess requests (transactional state store). */
  readonly reprocess: ReprocessStore;
  /** Aodh's alarm definitions and their current state (transactional state store). */
  readonly alarms: AlarmStore;
  /** What the alerts stage adds to /alarming (wired by cli/, which alone sees both stages). */
  readonly alarming: AlarmingHooks;
  /** Keystone's projects per domain; null when the API runs without one (callers then list them). */
  readonly projects: ProjectDirectory | null;
  /**
   * Recently written metrics' rollups in memory, for one-metric reads (issue 5). Only
   * exact when every writer of this process has it as its observer; absent = always ClickHouse.
   */
  readonly hotRollups?: HotRollups | null;
}

/** The API's view of a caller under /alarming/v2, for routes the alerts stage adds there. */
export interface AlarmingCallerView {
  identity(request: FastifyRequest): TokenInfo;
  /** The caller's project when it may act only there; null for operators (every project). */
  projectOf(request: FastifyRequest): string | null;
  /** The alarm's project when the caller may see the alarm; the API's 404 otherwise. */
  alarmProject(request: FastifyRequest, alarmId: string): string;
}

/** Routes registered inside /alarming/v2 (Keystone token required, WSME errors), e.g. silences and the status board. */
export type AlarmingExtension = (v2: FastifyInstance, view: AlarmingCallerView) => void;

export interface AlarmingHooks {
  readonly extensions?: readonly AlarmingExtension[];
  /** Called after alarms were deleted or disabled: their open alerts must resolve. */
  alarmsRemoved?(alarmIds: readonly string[]): void;
}
