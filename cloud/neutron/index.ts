import { migrateState } from '../../core/index.ts';
import type { CloudServiceDeps, CloudServiceModule } from '../service-module.ts';
import { neutronConfig, type NeutronConfig } from './config.ts';
import { NEUTRON_MIGRATIONS } from './migrations.ts';
import { registerNeutronRoutes } from './routes.ts';
import { NeutronService } from './service.ts';

export { neutronConfig, DEFAULT_PUBLIC_NETWORK, DEFAULT_PRIVATE_NETWORK, type NeutronConfig } from './config.ts';
export { NeutronService, type ComputePortRequest } from './service.ts';
export { NeutronApiError } from './errors.ts';
export { NEUTRON_EXCHANGE } from './events.ts';
export { DEVICE_OWNER, type FixedIp, type FloatingIpRecord, type NetworkRecord, type PortRecord } from './records.ts';
export { portView, networkView } from './views.ts';

/**
 * Neutron (catalog type `network`, path `/network`; clients append `/v2.0`). Stable.
 * `start()` runs the idempotent bootstrap (public/private networks, router1), so the
 * composition starts it after Keystone's bootstrap.
 */
export function createNeutron(deps: CloudServiceDeps, config: Partial<NeutronConfig> = {}): CloudServiceModule & { service: NeutronService } {
  const settings = neutronConfig(config);
  migrateState(deps.db, 'cloud.neutron', NEUTRON_MIGRATIONS);
  const service = new NeutronService(deps.db, deps.notifier, deps.clock, deps.keystone, settings, deps.logger.child({ service: 'neutron' }));
  return {
    name: 'neutron',
    service,
    register(app) {
      registerNeutronRoutes(app, service, deps.keystone, { publicUrl: deps.publicUrl });
    },
    async start() {
      await service.bootstrap();
    },
    async stop() {
      // Every request finishes its work before it answers: nothing runs in the background.
    },
  };
}
