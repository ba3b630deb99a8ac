/** The control plane's settings. Stable unless marked experimental. */
export interface CloudConfig {
  /** Base URL clients reach the API server at, e.g. http://127.0.0.1:8000 (catalog URLs derive from it). */
  publicUrl: string;
  region: string;
  /** Password of `admin` in project `admin`. */
  adminPassword: string;
  /** Token lifetime. */
  tokenTtlMs: number;
  /** How long a server stays in BUILD before it turns ACTIVE (the simulated spawn). */
  buildDelayMs: number;
  /** Compute hosts the scheduler places servers on. */
  computeHosts: readonly ComputeHostSpec[];
  /** Experimental: directory for the services' oslo.log files (<dataDir>/logs); no logs when unset. */
  logDirectory?: string;
  /** Experimental: directory Swift keeps object bytes under (`<dir>/swift/...`); Swift is not mounted when unset. */
  objectStoreDir?: string;
  /** Experimental: seed of the simulated hypervisor layer (guest CPU, memory, disk and network figures). */
  hypervisorSeed?: number;
  /** Experimental: host name of the controller processes (nova-api, conductor, scheduler) in the logs. */
  controllerHost?: string;
}

export interface ComputeHostSpec {
  name: string;
  availabilityZone: string;
  vcpus: number;
  memoryMb: number;
  diskGb: number;
}

export const DEFAULT_REGION = 'RegionOne';
export const DEFAULT_TOKEN_TTL_MS = 60 * 60 * 1000;
export const DEFAULT_BUILD_DELAY_MS = 100;
export const DEFAULT_COMPUTE_HOSTS: readonly ComputeHostSpec[] = [1, 2, 3, 4].map((n) => ({
  name: `compute-${n}`,
  availabilityZone: 'nova',
  vcpus: 64,
  memoryMb: 256 * 1024,
  diskGb: 2000,
}));
