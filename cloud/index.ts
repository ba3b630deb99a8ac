import type { FastifyInstance } from 'fastify';
import type { Bus, Clock, Logger, Lifecycle, StateDatabase, TokenVerifier } from '../core/index.ts';
import { migrateState } from '../core/index.ts';
import type { CloudConfig } from './config.ts';
import { KeystoneService } from './keystone/service.ts';
import { registerKeystoneRoutes } from './keystone/routes.ts';
import { Notifier } from './notifier.ts';
import { NovaService } from './nova/service.ts';
import { registerNovaRoutes } from './nova/routes.ts';
import { CLOUD_MIGRATIONS } from './state.ts';

export * from './config.ts';
export type { RequestContext } from './notifier.ts';
export { osloTimestamp } from './notifier.ts';

export interface CloudDeps {
  db: StateDatabase;
  bus: Bus;
  clock: Clock;
  logger: Logger;
}

export interface Cloud extends Lifecycle {
  /** Mounts every service's API on the one server, under its catalog prefix. */
  register(app: FastifyInstance): void;
  /** Verifies tokens in-process for the API stages (embedded mode). */
  readonly tokens: TokenVerifier;
  /** For the CLI and tests: identity administration without HTTP. */
  readonly keystone: KeystoneService;
  readonly nova: NovaService;
}

/**
 * The embedded OpenStack control plane. It knows nothing of telemetry: it serves the
 * services' APIs and emits what the real services emit on the bus.
 */
export function createCloud(config: CloudConfig, deps: CloudDeps): Cloud {
  migrateState(deps.db, 'cloud', CLOUD_MIGRATIONS);
  const notifier = new Notifier(deps.bus, deps.clock);
  const keystone = new KeystoneService(deps.db, deps.clock, config.tokenTtlMs);
  const nova = new NovaService(deps.db, notifier, deps.clock, deps.logger.child({ service: 'nova' }), config.buildDelayMs, (id) => keystone.projectName(id));
  return {
    tokens: keystone,
    keystone,
    nova,
    async start() {
      keystone.bootstrap(config.adminPassword);
      nova.seedHosts(config.computeHosts);
    },
    register(app) {
      registerKeystoneRoutes(app, keystone, config);
      registerNovaRoutes(app, nova, keystone, config);
    },
    async stop() {
      await nova.stop();
    },
  };
}
