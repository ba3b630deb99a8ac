/**
 * What the compute pollster reads: per compute host, the guests' counters (libvirt's view)
 * and the host's own stats, shaped like the control plane's admin API JSON under
 * /cloud-admin/v1 (experimental, as that API is). The collectors never import cloud/:
 * the composition root hands in a source, over HTTP or in-process.
 */

export type { HostSummary, DiskReading, InterfaceReading, InstanceInspection, HostInspection, MonitorMetric, HostStats } from '../../core/index.ts';
import type { HostSummary, DiskReading, InterfaceReading, InstanceInspection, HostInspection, MonitorMetric, HostStats } from '../../core/index.ts';

/**
 * The pollster's one input. Every call reads the state now; a rejection means this host
 * (or the host list) could not be read this time. Experimental, as the admin API is.
 */
export interface ComputeSource {
  hosts(): Promise<HostSummary[]>;
  instances(host: string): Promise<HostInspection>;
  hostStats(host: string): Promise<HostStats>;
}

type MaybePromise<T> = T | Promise<T>;

/** Closures the composition root builds over the control plane it runs in this process. */
export interface InProcessComputeReaders {
  hosts(): MaybePromise<HostSummary[]>;
  inspect(host: string): MaybePromise<HostInspection>;
  stats(host: string): MaybePromise<HostStats>;
}

/**
 * The embedded-mode source: calls the given closures (over HypervisorSimulator) directly.
 * A closure that throws becomes a rejection, so one bad host is handled like an HTTP failure.
 */
export function createInProcessComputeSource(readers: InProcessComputeReaders): ComputeSource {
  return {
    hosts: async () => readers.hosts(),
    instances: async (host) => readers.inspect(host),
    hostStats: async (host) => readers.stats(host),
  };
}
