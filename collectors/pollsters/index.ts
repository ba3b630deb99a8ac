/** collectors/pollsters: Ceilometer's compute pollsters over the control plane's hypervisor layer. Experimental. */
export { createComputePollster, type ComputePollster, type ComputePollsterDeps, type PollReport } from './pollster.ts';
export { createHttpComputeSource, type HttpComputeSourceDeps } from './http-source.ts';
export {
  createInProcessComputeSource,
  type ComputeSource,
  type DiskReading,
  type HostInspection,
  type HostStats,
  type HostSummary,
  type InProcessComputeReaders,
  type InstanceInspection,
  type InterfaceReading,
  type MonitorMetric,
} from './source.ts';
export { COMPUTE_METERS, HARDWARE_HOST_METERS, computeNodeResourceId, diskResourceId, instanceName, vnicResourceId, type MeterInfo, type ResourceKind } from './meters.ts';
export * from './config.ts';
export { ComputeSourceError, POLLSTER_ERROR_CODES, type PollsterErrorCode } from './errors.ts';
