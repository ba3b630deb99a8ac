import { CapacityError } from '../errors.ts';
import { RESOURCE_KEYS, type Resources } from './config.ts';
import { sum } from './capacity.ts';

/** A flavor's size (Nova: vcpus, ram in MB, disk in GB; ephemeral and swap folded into disk by the caller). */
export interface Flavor extends Resources {
  readonly name: string;
}

/** What flavor fit needs of a host: its free resources and the largest instance it can take. */
export interface HostRoom {
  readonly name: string;
  readonly free: Resources;
  /** Omit to check only `free`. */
  readonly maxUnit?: Resources;
}

export interface FlavorFit {
  readonly flavor: string;
  /** Instances of this flavor alone that still fit, summed over hosts. */
  readonly count: number;
  /** The resource that runs out first, summed over the hosts it limits (null when nothing fits anywhere for another reason). */
  readonly limitedBy: keyof Resources | null;
}

function validateFlavors(flavors: readonly Flavor[]): void {
  const names = new Set<string>();
  flavors.forEach((f, i) => {
    const where = `flavors[${i}]`;
    if (typeof f?.name !== 'string' || f.name === '') throw new CapacityError('CUMULUS_CAPACITY_INVENTORY_INVALID', `${where}.name must be a non-empty string, got ${JSON.stringify(f?.name)}`);
    if (names.has(f.name)) throw new CapacityError('CUMULUS_CAPACITY_INVENTORY_INVALID', `${where}.name must be unique, got ${JSON.stringify(f.name)} twice`);
    names.add(f.name);
    for (const k of RESOURCE_KEYS) {
      const v = f[k];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new CapacityError('CUMULUS_CAPACITY_INVENTORY_INVALID', `${where}.${k} (flavor ${f.name}) must be a non-negative number, got ${JSON.stringify(v)}`);
    }
    if (RESOURCE_KEYS.every((k) => f[k] === 0)) throw new CapacityError('CUMULUS_CAPACITY_INVENTORY_INVALID', `${where} (flavor ${f.name}) must need some vcpus, memoryMb or diskGb: a flavor of nothing fits without end`);
  });
}

/** How many of `flavor` fit in `room`: the floor of the scarcest resource's ratio, 0 if bigger than the host's max unit. */
function fitsIn(room: HostRoom, flavor: Resources): { count: number; limitedBy: keyof Resources | null } {
  if (room.maxUnit && RESOURCE_KEYS.some((k) => flavor[k] > room.maxUnit![k])) return { count: 0, limitedBy: null };
  let count = Number.POSITIVE_INFINITY;
  let limitedBy: keyof Resources | null = null;
  for (const k of RESOURCE_KEYS) {
    if (flavor[k] === 0) continue;
    const n = Math.floor(Math.max(0, room.free[k]) / flavor[k] + 1e-9);
    if (n < count) {
      count = n;
      limitedBy = k;
    }
  }
  return { count, limitedBy };
}

/** For each flavor alone: per host the floor of the minimum over resources of free / size, summed over hosts. */
export function fitEachFlavor(hosts: readonly HostRoom[], flavors: readonly Flavor[]): FlavorFit[] {
  validateFlavors(flavors);
  return flavors.map((flavor) => {
    let count = 0;
    const limits = new Map<keyof Resources, number>();
    for (const room of hosts) {
      const fit = fitsIn(room, flavor);
      count += fit.count;
      if (fit.limitedBy) limits.set(fit.limitedBy, (limits.get(fit.limitedBy) ?? 0) + 1);
    }
    const limitedBy = [...limits.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
    return { flavor: flavor.name, count, limitedBy };
  });
}

export interface MixShare {
  readonly flavor: string;
  /** Relative share of new instances (e.g. 3 for three of this per one of a flavor with 1). */
  readonly weight: number;
}

export interface MixedPacking {
  /** Instances placed per flavor before the mix could not continue. */
  readonly placed: Readonly<Record<string, number>>;
  readonly total: number;
  /** The flavor whose next instance found no host (the mix stops there), or null if the placement budget ran out first. */
  readonly stoppedBy: string | null;
  /** Free resources left after the packing, summed over hosts. */
  readonly leftover: Resources;
}

/** Placements a single packing may make: a safety stop for huge clouds of tiny flavors. */
export const MAX_PACKED_INSTANCES = 1_000_000;

/**
 * Greedy mixed packing ("boxes in a van"): new instances arrive in the mix's proportions
 * (always the flavor furthest below its share next; ties to the bigger flavor, as big boxes
 * go in first), and each goes to the host it fits best (the least normalised room left
 * afterwards, which keeps large holes for large boxes). Stops at the first instance that
 * fits nowhere: from then on the mix cannot be honoured. A heuristic, not an optimum:
 * optimal multi-resource bin packing is NP-hard, and greedy best fit is what a filter
 * scheduler with packing weighers approximates anyway.
 */
export function packMix(hosts: readonly HostRoom[], flavors: readonly Flavor[], mix: readonly MixShare[], maxInstances = MAX_PACKED_INSTANCES): MixedPacking {
  validateFlavors(flavors);
  const byName = new Map(flavors.map((f) => [f.name, f]));
  mix.forEach((m, i) => {
    if (!byName.has(m.flavor)) throw new CapacityError('CUMULUS_CAPACITY_CONFIG_INVALID', `mix[${i}].flavor must name one of the flavors (${[...byName.keys()].join(', ')}), got ${JSON.stringify(m.flavor)}`);
    if (typeof m.weight !== 'number' || !Number.isFinite(m.weight) || m.weight <= 0) throw new CapacityError('CUMULUS_CAPACITY_CONFIG_INVALID', `mix[${i}].weight must be a positive number, got ${JSON.stringify(m.weight)}`);
  });
  if (mix.length === 0) throw new CapacityError('CUMULUS_CAPACITY_CONFIG_INVALID', 'mix must name at least one flavor');
  const room = hosts.map((h) => ({ name: h.name, free: { ...h.free } as { vcpus: number; memoryMb: number; diskGb: number }, maxUnit: h.maxUnit }));
  // Normalise by the cloud's total free room so one MB and one vCPU weigh comparably in "best fit".
  const totalFree = sum(room.map((r) => ({ vcpus: Math.max(0, r.free.vcpus), memoryMb: Math.max(0, r.free.memoryMb), diskGb: Math.max(0, r.free.diskGb) })));
  const norm = (r: Resources) => RESOURCE_KEYS.reduce((s, k) => s + (totalFree[k] > 0 ? r[k] / totalFree[k] : 0), 0);
  const shares = mix.map((m) => ({ flavor: byName.get(m.flavor)!, weight: m.weight, placed: 0, size: norm(byName.get(m.flavor)!) }));
  let total = 0;
  let stoppedBy: string | null = null;
  while (total < maxInstances) {
    const next = shares.reduce((a, b) => {
      const da = a.placed / a.weight;
      const db = b.placed / b.weight;
      return db < da || (db === da && b.size > a.size) ? b : a;
    });
    let bestHost = -1;
    let bestSlack = Number.POSITIVE_INFINITY;
    room.forEach((r, i) => {
      if (fitsIn(r, next.flavor).count < 1) return;
      const slack = norm(r.free) - next.size;
      if (slack < bestSlack) {
        bestSlack = slack;
        bestHost = i;
      }
    });
    if (bestHost < 0) {
      stoppedBy = next.flavor.name;
      break;
    }
    const free = room[bestHost]!.free;
    for (const k of RESOURCE_KEYS) free[k] -= next.flavor[k];
    next.placed++;
    total++;
  }
  return {
    placed: Object.fromEntries(shares.map((s) => [s.flavor.name, s.placed])),
    total,
    stoppedBy,
    leftover: sum(room.map((r) => r.free)),
  };
}

export interface FutureUse {
  /** The month (or any instant) this row describes. */
  readonly atMs: number;
  /** Forecast allocations then minus allocations now, for the whole set of hosts (from the forecast's point value). */
  readonly additionalUsed: Resources;
}

export interface MonthlyFit {
  readonly atMs: number;
  readonly fits: readonly FlavorFit[];
}

/**
 * Flavor fit at future instants: the forecast growth is taken from every host's free room in
 * proportion to that room (growth lands where there is room, as a spreading scheduler would
 * put it), then each flavor alone is fitted as now. Growth beyond the total free room leaves
 * every host with nothing.
 */
export function fitByMonth(hosts: readonly HostRoom[], flavors: readonly Flavor[], future: readonly FutureUse[]): MonthlyFit[] {
  validateFlavors(flavors);
  const totalFree = sum(hosts.map((h) => ({ vcpus: Math.max(0, h.free.vcpus), memoryMb: Math.max(0, h.free.memoryMb), diskGb: Math.max(0, h.free.diskGb) })));
  return future.map((row, i) => {
    for (const k of RESOURCE_KEYS) {
      if (!Number.isFinite(row.additionalUsed?.[k])) throw new CapacityError('CUMULUS_CAPACITY_CONFIG_INVALID', `future[${i}].additionalUsed.${k} must be a finite number, got ${JSON.stringify(row.additionalUsed?.[k])}`);
    }
    const keep = (k: keyof Resources) => (totalFree[k] > 0 ? Math.min(1, Math.max(0, 1 - row.additionalUsed[k] / totalFree[k])) : 0);
    const factor = { vcpus: keep('vcpus'), memoryMb: keep('memoryMb'), diskGb: keep('diskGb') };
    const shrunk = hosts.map((h) => ({
      name: h.name,
      free: { vcpus: Math.max(0, h.free.vcpus) * factor.vcpus, memoryMb: Math.max(0, h.free.memoryMb) * factor.memoryMb, diskGb: Math.max(0, h.free.diskGb) * factor.diskGb },
      ...(h.maxUnit ? { maxUnit: h.maxUnit } : {}),
    }));
    return { atMs: row.atMs, fits: fitEachFlavor(shrunk, flavors) };
  });
}
