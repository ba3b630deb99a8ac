import type { CloudServiceDeps, CloudServiceModule } from '../service-module.ts';
import { resolveSettings, type HypervisorOptions } from './config.ts';
import type { ComputeInventory } from './inventory.ts';
import { registerHypervisorRoutes } from './routes.ts';
import { HypervisorSimulator } from './simulator.ts';

export * from './config.ts';
export { domainRuns, novaInventory } from './inventory.ts';
export type { ComputeHost, ComputeInventory, Domain, GuestFlavor, GuestPort, NovaInventoryOptions, NovaRecords } from './inventory.ts';
export { DIURNAL_KNOTS, LoadCurve, WEEKDAY_FACTORS } from './load-curve.ts';
export { ADMIN_API_PREFIX } from './routes.ts';
export { HypervisorSimulator, MONITOR_SOURCE } from './simulator.ts';
export type { HostInspection, HostStats, HostSummary, InstanceInspection, MonitorMetric } from './simulator.ts';
export type { DiskReading, InterfaceReading } from './workload.ts';

export type Hypervisor = CloudServiceModule & { service: HypervisorSimulator };

/**
 * The simulated hypervisor layer (experimental): per compute host, what libvirt would tell
 * Ceilometer's compute pollsters about the running guests, and the host's own stats,
 * consistent with the servers Nova hosts and deterministic for a seed. Its admin API is
 * mounted under /cloud-admin/v1. `nova` is the inventory to read (`novaInventory(nova)`).
 */
export function createHypervisorSimulator(deps: CloudServiceDeps, options: HypervisorOptions & { nova: ComputeInventory }): Hypervisor {
  const { nova, ...rest } = options;
  const service = new HypervisorSimulator(nova, deps.clock, resolveSettings(rest));
  const logger = deps.logger.child({ service: 'hypervisor' });
  return {
    name: 'hypervisor',
    service,
    register(app) {
      registerHypervisorRoutes(app, service, deps.keystone, logger);
    },
  };
}
