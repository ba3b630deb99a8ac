/**
 * The hypervisor simulator's settings and model constants. Experimental: the numbers shape
 * simulated load, not an OpenStack contract, and may be retuned.
 */
import { ConfigError } from '../../core/index.ts';

/** Seed when the composition gives none: any fixed value keeps runs reproducible. */
export const DEFAULT_SEED = 1;
/** What the host OS, nova-compute, libvirtd and OVS keep resident, besides the guests. */
export const DEFAULT_HOST_OVERHEAD_MEMORY_MB = 1536;
/** CPU the host's own processes use, as a share of the host's cores. */
export const DEFAULT_HOST_OVERHEAD_CPU_PERCENT = 3;
/** The offset of the hosts' local time from UTC: the diurnal curve peaks at 14:00 local. */
export const DEFAULT_UTC_OFFSET_MINUTES = 0;

/** Hosts reboot for maintenance this often (seeded phase per host); their counters restart then. */
export const HOST_MAINTENANCE_INTERVAL_MS = 30 * 24 * 3_600_000;
/** nova's CPU monitor refreshes about once a minute: its percentages cover the last minute. */
export const CPU_PERCENT_WINDOW_MS = 60_000;
/** The windows of the 1, 5 and 15 minute load averages. */
export const LOAD_WINDOWS_MS = { '1min': 60_000, '5min': 300_000, '15min': 900_000 } as const;
/** Where host CPU demand can exceed the cores, it is capped per step of this length (fixed-step integration). */
export const HOST_CAP_STEP_MS = 3_600_000;

/** A guest's base utilisation (its vCPUs' busy share at the weekday peak) is drawn in this range. */
export const GUEST_UTILISATION_RANGE = [0.05, 0.8] as const;
/** The share of a guest's load that follows the diurnal curve (the rest is flat), drawn in this range. */
export const GUEST_DIURNAL_SHARE_RANGE = [0.4, 0.9] as const;
/** A short-period ripple on top, as a fraction of the guest's lowest activity, so activity stays positive. */
export const GUEST_RIPPLE_FRACTION = 0.1;
/** The ripple's period is drawn in this range (minutes), so guests do not move in lock-step. */
export const GUEST_RIPPLE_PERIOD_MIN = [17, 97] as const;
/** Guest memory in use never exceeds this share of the flavor's RAM. */
export const GUEST_MEMORY_CEILING = 0.95;
/** A freshly started guest's memory climbs from 65% of its level with this time constant (page cache warming). */
export const GUEST_MEMORY_WARMUP_MS = 20 * 60_000;
/** qemu's own footprint on the host besides guest RAM: fixed plus a share of the guest RAM. */
export const QEMU_OVERHEAD_MB = 30;
export const QEMU_OVERHEAD_SHARE = 0.01;
/** A guest reads this much (drawn, MiB) while booting, with this time constant. */
export const GUEST_BOOT_READ_MIB = [150, 600] as const;
export const GUEST_BOOT_READ_TAU_MS = 90_000;
/** The root disk's qcow2 fills from the image's share towards a plateau with a time constant (days) drawn here. */
export const DISK_FILL_DAYS = [3, 60] as const;

/** The options a composition gives `createHypervisorSimulator`, validated by `resolveSettings`. */
export interface HypervisorOptions {
  /** Same seed and same history give the same numbers. */
  seed: number;
  hostOverheadMemoryMb?: number;
  hostOverheadCpuPercent?: number;
  utcOffsetMinutes?: number;
}

export interface HypervisorSettings {
  seed: number;
  hostOverheadMemoryMb: number;
  hostOverheadCpuPercent: number;
  utcOffsetMinutes: number;
}

/** Fills the defaults and refuses what would make the model meaningless, naming the field. */
export function resolveSettings(options: HypervisorOptions): HypervisorSettings {
  const check = (field: string, value: number, min: number, max: number): number => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      throw new ConfigError(`hypervisor: ${field} must be a number from ${min} to ${max}; got ${JSON.stringify(value)}`);
    }
    return value;
  };
  if (!Number.isSafeInteger(options.seed)) throw new ConfigError(`hypervisor: seed must be a safe integer; got ${JSON.stringify(options.seed)}`);
  return {
    seed: options.seed,
    hostOverheadMemoryMb: check('hostOverheadMemoryMb', options.hostOverheadMemoryMb ?? DEFAULT_HOST_OVERHEAD_MEMORY_MB, 0, 1_048_576),
    hostOverheadCpuPercent: check('hostOverheadCpuPercent', options.hostOverheadCpuPercent ?? DEFAULT_HOST_OVERHEAD_CPU_PERCENT, 0, 100),
    utcOffsetMinutes: check('utcOffsetMinutes', options.utcOffsetMinutes ?? DEFAULT_UTC_OFFSET_MINUTES, -14 * 60, 14 * 60),
  };
}
