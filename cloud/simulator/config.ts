import { DEFAULT_LOAD_MODEL, type LoadModel } from './load-model.ts';

/** The tenant simulator's settings. Experimental. */
export interface SimulatorConfig {
  seed: number;
  /** Simulated tenants (projects, each with one member user). */
  tenants: number;
  /** Simulated time between two rounds of tenant actions. */
  stepMs: number;
  load: LoadModel;
  /** Chance per tenant per step of resizing one of its servers. */
  resizeChancePerStep: number;
  /** Mean failed logins per step (typos, expired passwords) across the cloud. */
  failedLoginsPerStep: number;
  /** Failed logins in the one brute-force burst from a single address (0 = none). */
  bruteForceAttempts: number;
}

export const DEFAULT_SIMULATOR_STEP_MS = 15 * 60_000;

export const DEFAULT_SIMULATOR_CONFIG: SimulatorConfig = {
  seed: 42,
  tenants: 8,
  stepMs: DEFAULT_SIMULATOR_STEP_MS,
  load: DEFAULT_LOAD_MODEL,
  resizeChancePerStep: 0.004,
  failedLoginsPerStep: 0.08,
  bruteForceAttempts: 40,
};

/** The flavors and images the simulated cloud offers (created when missing). */
export const SIM_FLAVORS = [
  { name: 'm1.tiny', vcpus: 1, ram: 512, disk: 1 },
  { name: 'm1.small', vcpus: 1, ram: 2048, disk: 20 },
  { name: 'm1.medium', vcpus: 2, ram: 4096, disk: 40 },
  { name: 'm1.large', vcpus: 4, ram: 8192, disk: 80 },
  { name: 'm1.xlarge', vcpus: 8, ram: 16384, disk: 160 },
] as const;

export const SIM_IMAGES = [
  { name: 'ubuntu-22.04', os_distro: 'ubuntu', weight: 7 },
  { name: 'rhel-9', os_distro: 'rhel', weight: 2 },
  { name: 'windows-server-2022', os_distro: 'windows', weight: 1 },
] as const;
