import { CapacityError } from '../errors.ts';

/**
 * Planning defaults from issue 9 (the seeds' capacity-planning rules). Nova's own defaults
 * differ (cpu 16:1, ram 1.5:1): these are the conservative planning figures, and every one
 * is configurable, per cloud and per host.
 */
/** Virtual CPUs sold per logical CPU. */
export const DEFAULT_CPU_ALLOCATION_RATIO = 8;
/** RAM is not overcommitted: a guest that swaps hurts its neighbours. */
export const DEFAULT_RAM_ALLOCATION_RATIO = 1;
export const DEFAULT_DISK_ALLOCATION_RATIO = 1;
/** A hyperthreaded core does about 1.3 cores' work, not 2: count cores x 1.3, not threads. */
export const DEFAULT_HYPERTHREADING_FACTOR = 1.3;
/** Share of each resource kept for the host OS and hypervisor (about 20%). */
export const DEFAULT_OS_OVERHEAD_FRACTION = 0.2;

export interface Resources {
  readonly vcpus: number;
  readonly memoryMb: number;
  readonly diskGb: number;
}
export const RESOURCE_KEYS = ['vcpus', 'memoryMb', 'diskGb'] as const;
export type ResourceKey = (typeof RESOURCE_KEYS)[number];

/** The capacity rules (experimental). Host-level overrides use the same keys. */
export interface CapacityFactors {
  readonly cpuAllocationRatio: number;
  readonly ramAllocationRatio: number;
  readonly diskAllocationRatio: number;
  readonly hyperthreadingFactor: number;
  /** Fraction of each resource kept for the host (0 <= f < 1); set 0 where `reserved` already covers the host OS. */
  readonly osOverhead: Resources;
}

export type CapacityFactorsInput = Partial<Omit<CapacityFactors, 'osOverhead'>> & { readonly osOverhead?: Partial<Resources> | number };

export const DEFAULT_CAPACITY_FACTORS: CapacityFactors = {
  cpuAllocationRatio: DEFAULT_CPU_ALLOCATION_RATIO,
  ramAllocationRatio: DEFAULT_RAM_ALLOCATION_RATIO,
  diskAllocationRatio: DEFAULT_DISK_ALLOCATION_RATIO,
  hyperthreadingFactor: DEFAULT_HYPERTHREADING_FACTOR,
  osOverhead: { vcpus: DEFAULT_OS_OVERHEAD_FRACTION, memoryMb: DEFAULT_OS_OVERHEAD_FRACTION, diskGb: DEFAULT_OS_OVERHEAD_FRACTION },
};

const invalid = (key: string, expected: string, value: unknown) => new CapacityError('CUMULUS_CAPACITY_CONFIG_INVALID', `${key} must be ${expected}, got ${JSON.stringify(value)}`);

function ratio(key: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw invalid(key, 'a positive number', value);
  return value;
}

function fraction(key: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value >= 1) throw invalid(key, 'a fraction in [0, 1)', value);
  return value;
}

/** Merges `input` over `base` (the defaults, or a cloud's factors for a host override), naming any bad key under `prefix`. */
export function resolveCapacityFactors(input: CapacityFactorsInput = {}, base: CapacityFactors = DEFAULT_CAPACITY_FACTORS, prefix = ''): CapacityFactors {
  if (typeof input !== 'object' || input === null) throw invalid(prefix || 'capacity factors', 'an object', input);
  const known = new Set(['cpuAllocationRatio', 'ramAllocationRatio', 'diskAllocationRatio', 'hyperthreadingFactor', 'osOverhead']);
  for (const key of Object.keys(input)) if (!known.has(key)) throw invalid(`${prefix}${key}`, `one of ${[...known].join(', ')} (unknown key)`, key);
  const overhead = input.osOverhead;
  const overheadObject = typeof overhead === 'number' ? { vcpus: overhead, memoryMb: overhead, diskGb: overhead } : overhead ?? {};
  if (typeof overheadObject !== 'object' || overheadObject === null) throw invalid(`${prefix}osOverhead`, 'a fraction or an object of fractions by resource', overhead);
  for (const key of Object.keys(overheadObject)) if (!(RESOURCE_KEYS as readonly string[]).includes(key)) throw invalid(`${prefix}osOverhead.${key}`, `one of ${RESOURCE_KEYS.join(', ')} (unknown key)`, key);
  const hyperthreadingFactor = ratio(`${prefix}hyperthreadingFactor`, input.hyperthreadingFactor, base.hyperthreadingFactor);
  if (hyperthreadingFactor < 1 || hyperthreadingFactor > 2) throw invalid(`${prefix}hyperthreadingFactor`, 'a number in [1, 2] (a core with two threads does between 1 and 2 cores of work)', hyperthreadingFactor);
  return {
    cpuAllocationRatio: ratio(`${prefix}cpuAllocationRatio`, input.cpuAllocationRatio, base.cpuAllocationRatio),
    ramAllocationRatio: ratio(`${prefix}ramAllocationRatio`, input.ramAllocationRatio, base.ramAllocationRatio),
    diskAllocationRatio: ratio(`${prefix}diskAllocationRatio`, input.diskAllocationRatio, base.diskAllocationRatio),
    hyperthreadingFactor,
    osOverhead: {
      vcpus: fraction(`${prefix}osOverhead.vcpus`, overheadObject.vcpus, base.osOverhead.vcpus),
      memoryMb: fraction(`${prefix}osOverhead.memoryMb`, overheadObject.memoryMb, base.osOverhead.memoryMb),
      diskGb: fraction(`${prefix}osOverhead.diskGb`, overheadObject.diskGb, base.osOverhead.diskGb),
    },
  };
}
