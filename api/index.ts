import type { FastifyInstance } from 'fastify';
import type { Clock, TokenVerifier } from '../core/index.ts';
import type { ArchivePolicy, ArchivePolicyResolver, ArchivePolicyRule, ClickHouseDriver } from '../storage/index.ts';
import { TokenAuthenticator } from './auth.ts';
import { registerMetricRoutes } from './metric/routes.ts';

export { TokenAuthenticator, readableProject, TOKEN_CACHE_TTL_MS } from './auth.ts';
export { ApiError, gnocchiErrorBody } from './errors.ts';

export interface ApiDeps {
  store: ClickHouseDriver;
  tokens: TokenVerifier;
  policies: ArchivePolicyResolver;
  /** The policies and rules as they are now (the policy store's lists). */
  policyList: () => readonly ArchivePolicy[];
  rules: () => readonly ArchivePolicyRule[];
  clock: Clock;
}

export interface Api {
  register(app: FastifyInstance): void;
}

/** The read side: Gnocchi-compatible metric API (more route families come per issue). */
export function createApi(deps: ApiDeps): Api {
  const auth = new TokenAuthenticator(deps.tokens, () => deps.clock.nowMs());
  return {
    register(app) {
      registerMetricRoutes(app, {
        store: deps.store,
        policies: deps.policies,
        auth,
        clock: deps.clock,
        policyList: () => [...deps.policyList()],
        rules: () => deps.rules(),
      });
    },
  };
}
