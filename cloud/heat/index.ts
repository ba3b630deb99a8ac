import { hostname } from 'node:os';
import { ConfigError, migrateState } from '../../core/index.ts';
import type { CloudServiceDeps, CloudServiceModule } from '../service-module.ts';
import { resolveSettings } from './config.ts';
import { HEAT_MIGRATIONS } from './migrations.ts';
import { BUILT_IN_TYPES, noneType, randomStringType, serverType, type ComputeApi, type ImageResolver, type ResourceCreator } from './resource-types.ts';
import { registerHeatRoutes } from './routes.ts';
import { HeatService } from './service.ts';
import { StackStore } from './store.ts';

export * from './config.ts';
export { HeatError } from './errors.ts';
export type { ComputeApi, ImageResolver, ResourceCreateRequest, ResourceCreated, ResourceCreator } from './resource-types.ts';
/** For creators' checkCreateComplete: an abortable wait, and Heat's error for a resource gone to an error state. */
export { ResourceInError, sleep } from './resource-types.ts';
export { HeatService, type StackCreateInput, type StackListFilter, type StackOutput, type StackUpdateInput } from './service.ts';
export type { ResourceRecord, StackAction, StackRecord, StackStatus } from './store.ts';

export interface HeatOptions {
  /** Creates and deletes the servers of OS::Nova::Server resources: pass the NovaService. */
  compute: ComputeApi;
  /** Creators of further resource types by Heat type name, e.g. `OS::Cinder::Volume`. */
  resourceTypes?: Readonly<Record<string, ResourceCreator>>;
  /** Lets a server's `image` name an image (Glance); without it the value reaches Nova as given. */
  images?: ImageResolver;
  /** The engine's host (`publisher_id` = `orchestration.<host>`); the machine's host name by default. */
  host?: string;
  pollIntervalMs?: number;
  resourceTimeoutMs?: number;
  maxStacksPerProject?: number;
}

export type Heat = CloudServiceModule & { service: HeatService };

const TYPE_NAME = /^[A-Za-z0-9]+(::[A-Za-z0-9_]+)+$/;

/**
 * Heat, the orchestration service, as a module of the control plane: its tables
 * (component `cloud.heat`), the Stacks API under `/heat-api/v1/{project_id}` (catalog
 * type `orchestration`, name `heat`), and `orchestration.stack.*` notifications on the
 * `heat` exchange. Servers it creates carry `metering.stack=<stack id>`, so usage
 * can be billed per stack. Stable; the template subset is experimental.
 */
export function createHeat(deps: CloudServiceDeps, options: HeatOptions): Heat {
  try {
    new URL(deps.publicUrl);
  } catch (cause) {
    throw new ConfigError(`heat: publicUrl must be an absolute URL such as http://127.0.0.1:8000; got ${JSON.stringify(deps.publicUrl)}`, cause);
  }
  if (typeof options.compute?.createServer !== 'function' || typeof options.compute.deleteServer !== 'function') {
    throw new ConfigError('heat.compute must have createServer(input, context) and deleteServer(id, context) (pass the NovaService)');
  }
  const settings = resolveSettings(options, hostname());
  const types = new Map<string, ResourceCreator>([
    ['OS::Nova::Server', serverType(options.compute, options.images, settings)],
    ['OS::Heat::None', noneType],
    ['OS::Heat::RandomString', randomStringType],
  ]);
  for (const [name, creator] of Object.entries(options.resourceTypes ?? {})) {
    if (!TYPE_NAME.test(name)) throw new ConfigError(`heat.resourceTypes: "${name}" is not a resource type name such as OS::Cinder::Volume`);
    if ((BUILT_IN_TYPES as readonly string[]).includes(name)) throw new ConfigError(`heat.resourceTypes: "${name}" is built in and cannot be replaced`);
    if (typeof creator?.create !== 'function' || typeof creator.delete !== 'function') throw new ConfigError(`heat.resourceTypes["${name}"] must have create(request, context) and delete(id, context)`);
    types.set(name, creator);
  }

  migrateState(deps.db, 'cloud.heat', HEAT_MIGRATIONS);
  const logger = deps.logger.child({ service: 'heat' });
  const service = new HeatService(new StackStore(deps.db), deps.notifier, deps.clock, logger, settings, types);
  return {
    name: 'heat',
    service,
    register(app) {
      registerHeatRoutes(app, service, deps.keystone, { publicUrl: deps.publicUrl });
    },
    async stop() {
      await service.stop();
    },
  };
}
