import { ConfigError, migrateState } from '../../core/index.ts';
import type { CloudServiceDeps, CloudServiceModule } from '../service-module.ts';
import { DEFAULT_PUBLISHER_ID } from './config.ts';
import { registerGlanceRoutes } from './routes.ts';
import { GlanceService } from './service.ts';
import { MIGRATIONS } from './state.ts';

export * from './config.ts';
export { GLANCE_ERRORS } from './errors.ts';
export type { Image, ImageStatus, Visibility, Viewer } from './image.ts';
export { IMAGE_EVENTS } from './notifications.ts';
export { GlanceService } from './service.ts';

export type Glance = CloudServiceModule & { service: GlanceService };

/**
 * Glance, the image service, as a module of the control plane: its tables (component
 * `cloud.glance`), its API under the catalog path `/image` (clients discover `/image/v2`),
 * and its notifications on the `glance` exchange. Stable.
 */
export function createGlance(deps: CloudServiceDeps): Glance {
  let publicUrl: URL;
  try {
    publicUrl = new URL(deps.publicUrl);
  } catch (cause) {
    throw new ConfigError(`glance: publicUrl must be an absolute URL such as http://127.0.0.1:8000; got ${JSON.stringify(deps.publicUrl)}`, cause);
  }
  migrateState(deps.db, 'cloud.glance', MIGRATIONS);
  const service = new GlanceService(deps.db, deps.notifier, deps.clock, DEFAULT_PUBLISHER_ID);
  const logger = deps.logger.child({ service: 'glance' });
  return {
    name: 'glance',
    service,
    register(app) {
      registerGlanceRoutes(app, service, deps.keystone, { publicUrl: publicUrl.href, logger });
    },
  };
}
