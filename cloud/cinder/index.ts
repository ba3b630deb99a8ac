import { migrateState } from '../../core/index.ts';
import type { CloudServiceDeps, CloudServiceModule } from '../service-module.ts';
import { resolveCinderConfig, type CinderOptions } from './config.ts';
import { CINDER_MIGRATIONS } from './migrations.ts';
import { registerCinderRoutes } from './routes.ts';
import { CinderService } from './service.ts';
import { CinderStore } from './store.ts';

export * from './config.ts';
export type { Backup, ServerVolume, Snapshot, Volume, VolumeAttachment, VolumeType } from './model.ts';
export { CinderService, type AttachInput, type CreateVolumeInput } from './service.ts';
export { MAX_MICROVERSION, MIN_MICROVERSION } from './microversion.ts';

/**
 * Cinder (block storage v3) for the embedded control plane, mounted under /volume with
 * the API at /volume/v3/{project_id}. Migrates its tables on creation; `start()` creates
 * the default volume type; `stop()` lets transitions under way finish. Stable API.
 */
export function createCinder(deps: CloudServiceDeps, options: CinderOptions = {}): CloudServiceModule & { service: CinderService } {
  const config = resolveCinderConfig(options);
  migrateState(deps.db, 'cloud.cinder', CINDER_MIGRATIONS);
  const service = new CinderService(new CinderStore(deps.db), deps.notifier, deps.clock, deps.logger.child({ service: 'cinder' }), config);
  return {
    name: 'cinder',
    service,
    register(app) {
      registerCinderRoutes(app, service, deps.keystone, { publicUrl: deps.publicUrl });
    },
    async start() {
      service.bootstrap();
    },
    async stop() {
      await service.stop();
    },
  };
}
