/**
 * What capacity planning reads from the metering store: the Placement pollster's latest
 * inventory and usage per provider (with its indexed name, zone and aggregates), hourly
 * history of what is allocated per provider set (host, aggregate, zone, cloud), each
 * project's instance usage for growth rates, and the flavors instances run with. Every
 * read is a query builder of storage/queries/capacity.ts (bound parameters only).
 * Experimental: the meters and the rules may change before capacity planning is stable.
 */
import type { ClickHouseDriver } from '../../storage/index.ts';
import {
  selectHostNodeMeans,
  selectLatestProviderReadings,
  selectObservedFlavorSizes,
  selectProjectSeries,
  selectProviderAttributes,
  selectSummedSeries,
  type FlavorSizeRow,
  type HostMeasureRow,
  type ProjectBucketRow,
  type ProviderAttributesRow,
  type ProviderReadingRow,
  type SeriesBucketRow,
} from '../../storage/queries/capacity.ts';
import { ApiError } from '../errors.ts';
import type { Flavor, HostInventory, ProjectUsage, RegularSeries, ResourceKey, Resources } from './index.ts';

/** The Placement classes capacity planning covers, by their meter name part. */
export const CAPACITY_RESOURCES = ['vcpu', 'memory_mb', 'disk_gb'] as const;
export type CapacityResource = (typeof CAPACITY_RESOURCES)[number];

/** The capacity model's key for each resource. */
export const RESOURCE_KEY: Readonly<Record<CapacityResource, ResourceKey>> = { vcpu: 'vcpus', memory_mb: 'memoryMb', disk_gb: 'diskGb' };

/** A provider not polled for this long is left out (retired, or its pollster stopped): four missed polls at the 5-minute default, and some. */
export const DEFAULT_PROVIDER_LOOKBACK_MS = 60 * 60_000;
/** The history's step: hourly means, what the forecasts' daily and weekly seasons are built for. */
export const HISTORY_STEP_SECONDS = 3600;
/** The zone a provider whose host Nova did not place is shown in (Nova's default_availability_zone). */
export const UNKNOWN_ZONE = 'nova';

const INVENTORY_FIELDS = ['total', 'reserved', 'allocation_ratio', 'min_unit', 'max_unit'] as const;
const METER_NAMES = CAPACITY_RESOURCES.flatMap((r) => [...INVENTORY_FIELDS, 'used'].map((f) => `placement.${r}.${f}`));

/** One class's inventory on one provider, as Placement holds it. */
export interface ProviderInventory {
  total: number;
  reserved: number;
  allocationRatio: number;
  minUnit: number;
  maxUnit: number;
}

/** A resource provider (compute node) as last polled. */
export interface ProviderState {
  uuid: string;
  name: string;
  availabilityZone: string;
  /** Placement aggregate UUIDs. */
  aggregates: string[];
  /** The latest reading's instant (ISO 8601). */
  observedAt: string;
  /** Classes without an inventory are absent. */
  inventories: Partial<Record<CapacityResource, ProviderInventory>>;
  /** Allocated amount per class (0 when nothing is allocated). */
  used: Record<CapacityResource, number>;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

function parseAttributes(text: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * Every provider polled in the last `lookbackMs` before `nowMs`, with its latest inventory
 * and usage per class and its attributes from the resource index (name, zone, aggregates;
 * the uuid and zone `nova` until the index has the resource). Sorted by name.
 */
export async function readProviders(store: ClickHouseDriver, options: { nowMs: number; lookbackMs?: number }): Promise<ProviderState[]> {
  const lookbackMs = options.lookbackMs ?? DEFAULT_PROVIDER_LOOKBACK_MS;
  const rows = await store.query<ProviderReadingRow>(selectLatestProviderReadings({ names: METER_NAMES, since: new Date(options.nowMs - lookbackMs), until: new Date(options.nowMs) }));
  const readings = new Map<string, Map<string, { value: number; atMs: number }>>();
  for (const row of rows) {
    const own = readings.get(row.provider_id) ?? new Map<string, { value: number; atMs: number }>();
    own.set(row.name, { value: num(row.value), atMs: num(row.at_ms) });
    readings.set(row.provider_id, own);
  }
  if (readings.size === 0) return [];
  const attributes = new Map((await store.query<ProviderAttributesRow>(selectProviderAttributes({ ids: [...readings.keys()] }))).map((r) => [r.id, parseAttributes(r.attributes)]));
  const providers: ProviderState[] = [];
  for (const [uuid, meters] of readings) {
    const attrs = attributes.get(uuid) ?? {};
    const value = (name: string) => meters.get(name)?.value;
    const inventories: Partial<Record<CapacityResource, ProviderInventory>> = {};
    const used = { vcpu: 0, memory_mb: 0, disk_gb: 0 };
    for (const resource of CAPACITY_RESOURCES) {
      const total = value(`placement.${resource}.total`);
      if (total === undefined) continue;
      inventories[resource] = {
        total,
        reserved: value(`placement.${resource}.reserved`) ?? 0,
        allocationRatio: value(`placement.${resource}.allocation_ratio`) ?? 1,
        minUnit: value(`placement.${resource}.min_unit`) ?? 1,
        maxUnit: value(`placement.${resource}.max_unit`) ?? total,
      };
      used[resource] = value(`placement.${resource}.used`) ?? 0;
    }
    const observedMs = Math.max(...[...meters.values()].map((m) => m.atMs));
    const aggregates = typeof attrs.aggregates === 'string' && attrs.aggregates !== '' ? attrs.aggregates.split(',') : [];
    providers.push({
      uuid,
      name: typeof attrs.name === 'string' && attrs.name !== '' ? attrs.name : uuid,
      availabilityZone: typeof attrs.availability_zone === 'string' && attrs.availability_zone !== '' ? attrs.availability_zone : UNKNOWN_ZONE,
      aggregates,
      observedAt: new Date(observedMs).toISOString(),
      inventories,
      used,
    });
  }
  return providers.sort((a, b) => a.name.localeCompare(b.name) || a.uuid.localeCompare(b.uuid));
}

/**
 * The capacity model's view of a provider: Placement's totals as the hardware (a VCPU
 * inventory counts logical CPUs already, so no hyperthreading factor applies: threadsPerCore
 * 1), Placement's reservations, and Placement's allocation ratios as the host's own factors,
 * since they are what the scheduler enforces. The cloud's OS overhead still applies on top.
 */
export function hostInventoryOf(provider: ProviderState): HostInventory {
  const inv = provider.inventories;
  return {
    name: provider.name,
    availabilityZone: provider.availabilityZone,
    aggregates: provider.aggregates,
    cores: inv.vcpu?.total ?? 0,
    threadsPerCore: 1,
    memoryMb: inv.memory_mb?.total ?? 0,
    diskGb: inv.disk_gb?.total ?? 0,
    reserved: { vcpus: inv.vcpu?.reserved ?? 0, memoryMb: inv.memory_mb?.reserved ?? 0, diskGb: inv.disk_gb?.reserved ?? 0 },
    factors: {
      ...(inv.vcpu ? { cpuAllocationRatio: inv.vcpu.allocationRatio } : {}),
      ...(inv.memory_mb ? { ramAllocationRatio: inv.memory_mb.allocationRatio } : {}),
      ...(inv.disk_gb ? { diskAllocationRatio: inv.disk_gb.allocationRatio } : {}),
    },
  };
}

export function usedOf(provider: ProviderState): Resources {
  return { vcpus: provider.used.vcpu, memoryMb: provider.used.memory_mb, diskGb: provider.used.disk_gb };
}

/** Placement's own capacity of a class: (total - reserved) x allocation_ratio, what the scheduler admits. */
export function placementCapacity(inventory: ProviderInventory | undefined): number {
  return inventory ? Math.max(0, Math.floor((inventory.total - inventory.reserved) * inventory.allocationRatio + 1e-9)) : 0;
}

/** Where a forecast or an exhaustion applies. */
export type CapacityScope = { kind: 'cloud' } | { kind: 'az' | 'aggregate' | 'host'; name: string };

/** `cloud`, `az:<zone>`, `aggregate:<uuid>` or `host:<name>`; 400 naming the parameter otherwise. */
export function parseScope(text: string, parameter = 'scope'): CapacityScope {
  if (text === 'cloud') return { kind: 'cloud' };
  const match = /^(az|aggregate|host):(.+)$/.exec(text);
  if (!match) throw new ApiError('CUMULUS_API_INVALID_PARAMETER', 400, `Invalid value for ${parameter}: expected cloud, az:<zone>, aggregate:<aggregate uuid> or host:<host name>, got ${JSON.stringify(text)}`);
  return { kind: match[1] as 'az' | 'aggregate' | 'host', name: match[2] as string };
}

export function scopeText(scope: CapacityScope): string {
  return scope.kind === 'cloud' ? 'cloud' : `${scope.kind}:${scope.name}`;
}

/** The providers of a scope now; 404 when a zone, aggregate or host has none. */
export function providersIn(providers: readonly ProviderState[], scope: CapacityScope): ProviderState[] {
  if (scope.kind === 'cloud') return [...providers];
  const inScope = providers.filter((p) => (scope.kind === 'az' ? p.availabilityZone === scope.name : scope.kind === 'aggregate' ? p.aggregates.includes(scope.name) : p.name === scope.name || p.uuid === scope.name));
  if (inScope.length === 0) throw new ApiError('CUMULUS_API_NOT_FOUND', 404, `No resource provider polled in the last hour is in ${scopeText(scope)}: check the name (GET /capacity/v1/hosts lists hosts, zones and aggregates)`);
  return inScope;
}

/**
 * Hourly history of the amount of `resource` allocated over a set of providers (null: every
 * provider ever polled), on a regular grid from `fromMs` to `toMs` (both rounded down to the
 * step). A step with no reading is null (a gap the forecast fills).
 */
export async function readUsageHistory(
  store: ClickHouseDriver,
  options: { resource: CapacityResource; providerIds: readonly string[] | null; fromMs: number; toMs: number; stepSeconds?: number },
): Promise<RegularSeries & { members: number[] }> {
  const step = options.stepSeconds ?? HISTORY_STEP_SECONDS;
  const stepMs = step * 1000;
  const startMs = Math.floor(options.fromMs / stepMs) * stepMs;
  const endMs = Math.floor(options.toMs / stepMs) * stepMs;
  const count = Math.max(0, Math.round((endMs - startMs) / stepMs));
  const values: Array<number | null> = new Array(count).fill(null);
  const members: number[] = new Array(count).fill(0);
  const rows = await store.query<SeriesBucketRow>(selectSummedSeries({ name: `placement.${options.resource}.used`, from: new Date(startMs), to: new Date(endMs), stepSeconds: step, resourceIds: options.providerIds }));
  for (const row of rows) {
    const i = Math.round((num(row.bucket_s) * 1000 - startMs) / stepMs);
    if (i < 0 || i >= count) continue;
    values[i] = num(row.value);
    members[i] = num(row.members);
  }
  return { startMs, stepSeconds: step, values, members };
}

/** The instance gauge that says how much of a resource an instance holds. */
const INSTANCE_METER: Readonly<Record<CapacityResource, string>> = { vcpu: 'vcpus', memory_mb: 'memory', disk_gb: 'disk.root.size' };

/**
 * Per project, the hourly sum over its instances of their `vcpus` (`memory`, `disk.root.size`)
 * gauge: growth by project. Projects with fewer than two known hours are left out (no slope).
 */
export async function readProjectUsage(store: ClickHouseDriver, options: { resource: CapacityResource; fromMs: number; toMs: number; stepSeconds?: number }): Promise<ProjectUsage[]> {
  const step = options.stepSeconds ?? HISTORY_STEP_SECONDS;
  const stepMs = step * 1000;
  const startMs = Math.floor(options.fromMs / stepMs) * stepMs;
  const endMs = Math.floor(options.toMs / stepMs) * stepMs;
  const count = Math.max(0, Math.round((endMs - startMs) / stepMs));
  const rows = await store.query<ProjectBucketRow>(selectProjectSeries({ name: INSTANCE_METER[options.resource], from: new Date(startMs), to: new Date(endMs), stepSeconds: step }));
  const byProject = new Map<string, Array<number | null>>();
  for (const row of rows) {
    const values = byProject.get(row.project_id) ?? new Array<number | null>(count).fill(null);
    const i = Math.round((num(row.bucket_s) * 1000 - startMs) / stepMs);
    if (i >= 0 && i < count) values[i] = num(row.value);
    byProject.set(row.project_id, values);
  }
  return [...byProject.entries()]
    .filter(([, values]) => values.filter((v) => v !== null).length >= 2)
    .map(([projectId, values]) => ({ projectId, series: { startMs, stepSeconds: step, values } }));
}

const SIZE_METERS = ['vcpus', 'memory', 'disk.root.size', 'disk.ephemeral.size'];

/**
 * The flavors instances run with, sized from their instances' gauges (root and ephemeral
 * disk folded into disk, as flavor fit wants): the flavors that matter for fit are those in
 * use. A flavor whose vCPU or memory gauge is missing is left out.
 */
export async function readObservedFlavors(store: ClickHouseDriver, options: { nowMs: number; lookbackMs: number }): Promise<Flavor[]> {
  const rows = await store.query<FlavorSizeRow>(selectObservedFlavorSizes({ names: SIZE_METERS, since: new Date(options.nowMs - options.lookbackMs) }));
  const sizes = new Map<string, Record<string, number>>();
  for (const row of rows) sizes.set(row.flavor, { ...(sizes.get(row.flavor) ?? {}), [row.name]: num(row.value) });
  const flavors: Flavor[] = [];
  for (const [name, size] of sizes) {
    if (size.vcpus === undefined || size.memory === undefined) continue;
    flavors.push({ name, vcpus: size.vcpus, memoryMb: size.memory, diskGb: (size['disk.root.size'] ?? 0) + (size['disk.ephemeral.size'] ?? 0) });
  }
  return flavors;
}

/**
 * Measured CPU use per compute host (percent of the host's CPUs, nova-compute's monitor as
 * the compute pollster reports it), averaged over the last `windowMs`: the "utilization from
 * the pollsters" beside Placement's allocations. Hosts the pollster has not read are absent.
 */
export async function readHostCpuUtilisation(store: ClickHouseDriver, options: { nowMs: number; windowMs: number }): Promise<Map<string, number>> {
  const rows = await store.query<HostMeasureRow>(selectHostNodeMeans({ name: 'compute.node.cpu.percent', since: new Date(options.nowMs - options.windowMs), until: new Date(options.nowMs) }));
  return new Map(rows.map((r) => [r.host, num(r.value)]));
}
