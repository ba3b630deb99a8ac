import { CapacityError } from '../errors.ts';
import { RESOURCE_KEYS, resolveCapacityFactors, type CapacityFactors, type CapacityFactorsInput, type Resources } from './config.ts';

/** One hypervisor as inventoried (experimental). */
export interface HostInventory {
  readonly name: string;
  readonly availabilityZone?: string;
  readonly aggregates?: readonly string[];
  /** Physical cores. */
  readonly cores: number;
  /** Hardware threads per core; above 1 means hyperthreading (counted with the hyperthreading factor). */
  readonly threadsPerCore?: number;
  readonly memoryMb: number;
  readonly diskGb: number;
  /** Nova's reserved_host_cpus / reserved_host_memory_mb / reserved_host_disk_mb (here in GB). */
  readonly reserved?: Partial<Resources>;
  /** Per-host overrides of the cloud's factors (e.g. an aggregate with another cpu ratio). */
  readonly factors?: CapacityFactorsInput;
}

/** One host's effective capacity, allocations and what is free (experimental). */
export interface HostCapacity {
  readonly name: string;
  readonly availabilityZone: string;
  readonly aggregates: readonly string[];
  /** cores x hyperthreading factor when hyperthreaded, else cores: the CPUs before overcommit. */
  readonly logicalCpus: number;
  /** What the scheduler may allocate: floor((total x (1 - overhead) - reserved) x allocation ratio), never below 0. */
  readonly capacity: Resources;
  readonly used: Resources;
  /** capacity - used; negative when allocations exceed the planning capacity. */
  readonly free: Resources;
  /** The largest single instance the host can take before overcommit (Nova refuses a flavor bigger than the raw host). */
  readonly maxUnit: Resources;
  readonly factors: CapacityFactors;
}

export interface CapacityTotals {
  readonly hosts: number;
  readonly capacity: Resources;
  readonly used: Resources;
  readonly free: Resources;
  /** used / capacity per resource; null where capacity is 0. */
  readonly utilisation: { readonly vcpus: number | null; readonly memoryMb: number | null; readonly diskGb: number | null };
}

export interface CapacityReport {
  readonly hosts: readonly HostCapacity[];
  readonly total: CapacityTotals;
  /** Keyed by aggregate name; a host in several aggregates counts in each. */
  readonly aggregates: Readonly<Record<string, CapacityTotals>>;
  /** Keyed by availability zone (`nova` when a host names none, as Nova's default zone). */
  readonly availabilityZones: Readonly<Record<string, CapacityTotals>>;
}

/** The zone Nova puts a host in when none is set (default_availability_zone). */
export const DEFAULT_AVAILABILITY_ZONE = 'nova';

const ZERO: Resources = { vcpus: 0, memoryMb: 0, diskGb: 0 };

const badHost = (where: string, expected: string, value: unknown) => new CapacityError('CUMULUS_CAPACITY_INVENTORY_INVALID', `${where} must be ${expected}, got ${JSON.stringify(value)}`);

function nonNegative(where: string, value: unknown, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw badHost(where, 'a non-negative number', value);
  return value;
}

function resources(where: string, value: Partial<Resources> | undefined): Resources {
  if (value === undefined) return ZERO;
  if (typeof value !== 'object' || value === null) throw badHost(where, 'an object with vcpus, memoryMb and diskGb', value);
  return { vcpus: nonNegative(`${where}.vcpus`, value.vcpus, 0), memoryMb: nonNegative(`${where}.memoryMb`, value.memoryMb, 0), diskGb: nonNegative(`${where}.diskGb`, value.diskGb, 0) };
}

/** Effective capacity of one host under `factors` (the host's own overrides applied on top). */
export function hostCapacity(host: HostInventory, used: Partial<Resources> | undefined, factors: CapacityFactors, where = `host ${JSON.stringify(host?.name)}`): HostCapacity {
  if (typeof host !== 'object' || host === null) throw badHost(where, 'an object', host);
  if (typeof host.name !== 'string' || host.name === '') throw badHost(`${where}.name`, 'a non-empty string', host.name);
  const own = host.factors === undefined ? factors : resolveCapacityFactors(host.factors, factors, `${where}.factors.`);
  const cores = nonNegative(`${where}.cores`, host.cores);
  const threads = nonNegative(`${where}.threadsPerCore`, host.threadsPerCore, 1);
  if (threads < 1) throw badHost(`${where}.threadsPerCore`, 'at least 1', threads);
  const memoryMb = nonNegative(`${where}.memoryMb`, host.memoryMb);
  const diskGb = nonNegative(`${where}.diskGb`, host.diskGb);
  const reserved = resources(`${where}.reserved`, host.reserved);
  const usedResources = resources(`${where}.used`, used);
  const logicalCpus = threads > 1 ? cores * own.hyperthreadingFactor : cores;
  // Overhead first (a share of the hardware), then nova's fixed reservations, then overcommit.
  const usable = {
    vcpus: Math.max(0, logicalCpus * (1 - own.osOverhead.vcpus) - reserved.vcpus),
    memoryMb: Math.max(0, memoryMb * (1 - own.osOverhead.memoryMb) - reserved.memoryMb),
    diskGb: Math.max(0, diskGb * (1 - own.osOverhead.diskGb) - reserved.diskGb),
  };
  // Floors: the scheduler deals in whole vCPUs, MB and GB; a fraction of a vCPU sells nothing.
  const capacity: Resources = {
    vcpus: Math.floor(usable.vcpus * own.cpuAllocationRatio + 1e-9),
    memoryMb: Math.floor(usable.memoryMb * own.ramAllocationRatio + 1e-9),
    diskGb: Math.floor(usable.diskGb * own.diskAllocationRatio + 1e-9),
  };
  return {
    name: host.name,
    availabilityZone: host.availabilityZone ?? DEFAULT_AVAILABILITY_ZONE,
    aggregates: [...(host.aggregates ?? [])],
    logicalCpus,
    capacity,
    used: usedResources,
    free: subtract(capacity, usedResources),
    maxUnit: { vcpus: Math.floor(usable.vcpus + 1e-9), memoryMb: Math.floor(usable.memoryMb + 1e-9), diskGb: Math.floor(usable.diskGb + 1e-9) },
    factors: own,
  };
}

/**
 * The capacity model: every host's effective capacity, used (the sum of its allocations,
 * keyed by host name) and free, rolled up per aggregate, per availability zone and in total.
 */
export function capacityReport(hosts: readonly HostInventory[], usedByHost: Readonly<Record<string, Partial<Resources>>> = {}, factorsInput: CapacityFactorsInput = {}): CapacityReport {
  const factors = resolveCapacityFactors(factorsInput);
  const names = new Set<string>();
  const computed = hosts.map((host, i) => {
    const result = hostCapacity(host, usedByHost[host?.name], factors, `hosts[${i}]`);
    if (names.has(result.name)) throw badHost(`hosts[${i}].name`, 'unique', result.name);
    names.add(result.name);
    return result;
  });
  for (const name of Object.keys(usedByHost)) if (!names.has(name)) throw badHost(`used[${JSON.stringify(name)}]`, 'the name of an inventoried host', name);
  const group = (keyOf: (h: HostCapacity) => readonly string[]) => {
    const members = new Map<string, HostCapacity[]>();
    for (const h of computed) for (const key of keyOf(h)) members.set(key, [...(members.get(key) ?? []), h]);
    return Object.fromEntries([...members.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, list]) => [key, totals(list)]));
  };
  return { hosts: computed, total: totals(computed), aggregates: group((h) => h.aggregates), availabilityZones: group((h) => [h.availabilityZone]) };
}

export function totals(hosts: readonly HostCapacity[]): CapacityTotals {
  const capacity = sum(hosts.map((h) => h.capacity));
  const used = sum(hosts.map((h) => h.used));
  const share = (k: keyof Resources) => (capacity[k] > 0 ? used[k] / capacity[k] : null);
  return { hosts: hosts.length, capacity, used, free: subtract(capacity, used), utilisation: { vcpus: share('vcpus'), memoryMb: share('memoryMb'), diskGb: share('diskGb') } };
}

export function sum(list: readonly Resources[]): Resources {
  const out = { vcpus: 0, memoryMb: 0, diskGb: 0 };
  for (const r of list) for (const k of RESOURCE_KEYS) out[k] += r[k];
  return out;
}

export function subtract(a: Resources, b: Resources): Resources {
  return { vcpus: a.vcpus - b.vcpus, memoryMb: a.memoryMb - b.memoryMb, diskGb: a.diskGb - b.diskGb };
}
