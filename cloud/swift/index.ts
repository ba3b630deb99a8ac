import { join } from 'node:path';
import { migrateState } from '../../core/index.ts';
import type { CloudServiceDeps, CloudServiceModule } from '../service-module.ts';
import { BlobStore } from './blob-store.ts';
import { resolveSwiftConfig, type SwiftOptions } from './config.ts';
import { SWIFT_MIGRATIONS } from './migrations.ts';
import { RequestNotifier } from './notifications.ts';
import { registerSwiftRoutes } from './routes.ts';
import { SwiftService } from './service.ts';
import { SwiftStore } from './store.ts';

export * from './config.ts';
export { SWIFT_ERRORS, SwiftApiError } from './errors.ts';
export { requestPayload, type RequestRecord } from './notifications.ts';
export { SwiftService, type AccountInfo, type ContainerUsage, type ProjectUsage } from './service.ts';

/**
 * Swift (object storage v1) for the embedded control plane, mounted under
 * /object-storage with accounts at /object-storage/v1/AUTH_{project_id} (catalog type
 * `object-store`, name `swift`). Rows in the state database (component `cloud.swift`),
 * object bytes on disk under `<dataDir>/swift/`. Every authenticated request emits
 * ceilometermiddleware's `objectstore.http.request` on the `swift` exchange;
 * `service.usage()` is the swift pollsters' source. `stop()` waits for notifications
 * under way. Stable API.
 */
export function createSwift(deps: CloudServiceDeps, options: SwiftOptions): CloudServiceModule & { service: SwiftService } {
  const config = resolveSwiftConfig(options);
  migrateState(deps.db, 'cloud.swift', SWIFT_MIGRATIONS);
  const logger = deps.logger.child({ service: 'swift' });
  const nowMs = () => deps.clock.nowMs();
  const service = new SwiftService(new SwiftStore(deps.db), new BlobStore(join(config.dataDir, 'swift'), nowMs), deps.clock, logger, config);
  const notifications = new RequestNotifier(deps.notifier, config.ignoreProjects, logger);
  return {
    name: 'swift',
    service,
    register(app) {
      registerSwiftRoutes(app, { service, keystone: deps.keystone, notifications, config, nowMs });
    },
    async stop() {
      await notifications.drain();
    },
  };
}
