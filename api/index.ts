import type { FastifyInstance } from 'fastify';
import type { Clock, ProjectDirectory, TokenVerifier } from '../core/index.ts';
import type { AlarmStore, ClickHouseDriver, HotRollups, HashmapStore, PolicyStore, ReprocessStore, ResourceTypeStore, StatementStore } from '../storage/index.ts';
import { AccessPolicy } from './access-policy.ts';
import { TokenAuthenticator } from './auth.ts';
import type { AlarmingHooks, ApiContext } from './context.ts';
import { registerAlarmingRoutes } from './alarming/routes.ts';
import { registerAuditRoutes } from './audit/routes.ts';
import { registerCapacityRoutes } from './capacity/routes.ts';
import { registerApiDocs } from './docs.ts';
import { registerEventRoutes } from './event/routes.ts';
import { registerLogRoutes } from './log/routes.ts';
import { registerMetricRoutes } from './metric/routes.ts';
import { registerRatingRoutes } from './rating/routes.ts';

export { TokenAuthenticator, TOKEN_CACHE_TTL_MS } from './auth.ts';
export { AccessPolicy, DEFAULT_ACCESS_RULES, loadAccessPolicy, parseRule, PolicyRuleError, type PolicyRules } from './access-policy.ts';
export { ApiError, gnocchiErrorBody } from './errors.ts';
export type { AlarmingCallerView, AlarmingExtension, AlarmingHooks, ApiContext } from './context.ts';

export interface ApiDeps {
  store: ClickHouseDriver;
  tokens: TokenVerifier;
  policyStore: PolicyStore;
  resourceTypes: ResourceTypeStore;
  /** The hashmap rating rules (the same store the rating processor rates with). */
  hashmap: HashmapStore;
  statements: StatementStore;
  /** Rated periods and reprocess requests (the rating processor's state). */
  reprocess: ReprocessStore;
  /** Alarm definitions and state (Aodh's /v2/alarms). */
  alarms: AlarmStore;
  clock: Clock;
  /** Who may do what (defaults when omitted; `loadAccessPolicy(file)` for an operator's file). */
  access?: AccessPolicy;
  /** Routes and hooks of the alerts stage under /alarming (silences, status board). */
  alarming?: AlarmingHooks;
  /** Keystone's projects per domain (domain statements); without it, a domain statement lists its projects. */
  projects?: ProjectDirectory;
  /**
   * Recently written metrics' rollups in memory (single-metric reads skip ClickHouse).
   * Only where every writer of measures runs in this process and tells it (cumulus up).
   */
  hotRollups?: HotRollups | null;
}

export interface Api {
  /** Registers the OpenAPI document at /docs and every route family. */
  register(app: FastifyInstance): void;
}

/** Cumulus's read and write API: one fastify server, route families per prefix, all behind Keystone tokens. */
export function createApi(deps: ApiDeps): Api {
  const context: ApiContext = {
    store: deps.store,
    clock: deps.clock,
    auth: new TokenAuthenticator(deps.tokens, () => deps.clock.nowMs()),
    access: deps.access ?? new AccessPolicy(),
    policyStore: deps.policyStore,
    resourceTypes: deps.resourceTypes,
    hashmap: deps.hashmap,
    statements: deps.statements,
    reprocess: deps.reprocess,
    alarms: deps.alarms,
    alarming: deps.alarming ?? {},
    projects: deps.projects ?? null,
    hotRollups: deps.hotRollups ?? null,
  };
  return {
    register(app) {
      registerApiDocs(app);
      registerMetricRoutes(app, context);
      registerEventRoutes(app, context);
      registerAuditRoutes(app, context);
      registerLogRoutes(app, context);
      registerRatingRoutes(app, context);
      registerAlarmingRoutes(app, context);
      registerCapacityRoutes(app, context);
    },
  };
}
