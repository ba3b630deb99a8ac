import type { Clock } from '../core/index.ts';
import type { AlarmStore, ClickHouseDriver, HashmapStore, PolicyStore, ReprocessStore, ResourceTypeStore, StatementStore } from '../storage/index.ts';
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
}
