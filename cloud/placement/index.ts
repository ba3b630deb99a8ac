import { migrateState } from '../../core/index.ts';
import type { CloudServiceDeps, CloudServiceModule } from '../service-module.ts';
import { PLACEMENT_MIGRATIONS } from './migrations.ts';
import { registerPlacementRoutes } from './routes.ts';
import { PlacementService } from './service.ts';

export * from './config.ts';
export { AllocationConflictError, PLACEMENT_CODE, PlacementError } from './errors.ts';
export type { AllocationRequest, CandidateResult, ProviderNode } from './candidates.ts';
export { PlacementService } from './service.ts';
export type { ComputeNodeSpec, Inventory, ResourceProvider } from './service.ts';

/** The catalog entry Keystone lists for this service. */
export const PLACEMENT_CATALOG_ENTRY = { type: 'placement', name: 'placement', path: '/placement' } as const;

/**
 * OpenStack Placement (stable): the resource-provider inventory and allocation API under
 * /placement, plus the service object Nova's scheduler and the capacity reports use.
 * Migrates its tables and syncs the standard resource classes and traits on creation, so
 * the service is usable before start().
 */
export function createPlacement(deps: CloudServiceDeps): CloudServiceModule & { service: PlacementService } {
  migrateState(deps.db, 'cloud.placement', PLACEMENT_MIGRATIONS);
  const service = new PlacementService(deps.db, deps.clock, deps.logger.child({ service: 'placement' }));
  service.syncStandards();
  return {
    name: 'placement',
    service,
    register(app) {
      registerPlacementRoutes(app, service, deps.keystone, { publicUrl: deps.publicUrl });
    },
  };
}
