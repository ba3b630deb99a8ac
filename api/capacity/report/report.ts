/**
 * The capacity planning report: what planners read once a month. It is assembled from the
 * capacity model (api/capacity/model) and the forecasts (api/capacity/forecast) over the
 * usage history of each resource, then rendered as HTML with charts (./html.ts), CSV
 * (./csv.ts) or PDF (the HTML printed by Chromium). Assembly is pure: the caller reads
 * the history and the inventories (api/capacity/data.ts, or a test).
 */
import { findExhaustion, forecast, type Exhaustion, type ForecastResult, type RegularSeries } from '../forecast/index.ts';
import { fitByMonth, RESOURCE_KEYS, type CapacityTotals, type Flavor, type HostRoom, type ResourceKey, type Resources } from '../model/index.ts';

export const REPORT_RESOURCES: readonly ResourceKey[] = RESOURCE_KEYS;
export const RESOURCE_UNITS: Readonly<Record<ResourceKey, string>> = { vcpus: 'vCPU', memoryMb: 'MiB', diskGb: 'GiB' };
export const RESOURCE_TITLES: Readonly<Record<ResourceKey, string>> = { vcpus: 'vCPU', memoryMb: 'Memory', diskGb: 'Disk' };
/** Months of flavor fit shown ahead. */
export const DEFAULT_FIT_MONTHS = 6;

/** One resource's history, forecast and exhaustion, in plain numbers and ISO instants. */
export interface ResourceSection {
  resource: ResourceKey;
  unit: string;
  /** Schedulable capacity now (after overhead, reservations and allocation ratios). */
  capacity: number;
  used: number;
  free: number;
  history: Array<{ at: string; used: number }>;
  forecast: Array<{ at: string; value: number; lower80: number; upper80: number; lower95: number; upper95: number }>;
  /** The model the backtest chose, its MASE (below 1 beats the seasonal naive baseline) and MAPE. */
  model: string;
  mase: number;
  mape: number | null;
  intervalMethod: string;
  exhaustion: { status: Exhaustion['status']; at: string | null; earliest: string | null; latest: string | null; level: 80 | 95 };
  notes: string[];
}

export interface ZoneRow {
  zone: string;
  hosts: number;
  capacity: Record<ResourceKey, number>;
  used: Record<ResourceKey, number>;
}

export interface FlavorFitSection {
  /** `YYYY-MM` of each future month shown. */
  months: string[];
  flavors: Array<{ name: string; now: number; byMonth: number[] }>;
}

export interface GrowthRow {
  project: string;
  /** Growth of the project's use per month, in the resource's unit. */
  perMonth: number;
  /** The same as a percentage of its current use; null when it uses nothing now. */
  percent: number | null;
}

export interface CapacityPlanningReport {
  title: string;
  generatedAt: string;
  /** What the report covers: `cloud`, `az:<name>`, `aggregate:<name>`. */
  scope: string;
  /** The model's factors as configured (allocation ratios, overhead, hyperthreading). */
  factors: Record<string, number>;
  resources: ResourceSection[];
  zones: ZoneRow[];
  flavorFit: FlavorFitSection;
  /** Growth of vCPU use by project, fastest first. */
  growth: GrowthRow[];
}

export interface ReportInputs {
  scope: string;
  now: Date;
  factors: Record<string, number>;
  /** Capacity and use now, over the scope. */
  totals: CapacityTotals;
  /** Used amount history per resource (hourly, say), the forecasts' input. */
  history: Readonly<Record<ResourceKey, RegularSeries>>;
  horizonDays: number;
  zones: ZoneRow[];
  /** Each host's free room now, for flavor fit. */
  rooms: readonly HostRoom[];
  flavors: readonly Flavor[];
  growth: GrowthRow[];
  fitMonths?: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

function section(resource: ResourceKey, inputs: ReportInputs): { section: ResourceSection; result: ForecastResult } {
  const series = inputs.history[resource];
  const steps = Math.max(1, Math.round((inputs.horizonDays * 86_400) / series.stepSeconds));
  const result = forecast(series, { horizonPoints: steps });
  const capacity = inputs.totals.capacity[resource];
  const used = inputs.totals.used[resource];
  const lastIndex = series.values.length - 1;
  const last = [...series.values].reverse().find((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const exhaustion = findExhaustion(result.points, capacity, {
    level: 95,
    ...(last !== undefined ? { lastObserved: { atMs: series.startMs + lastIndex * series.stepSeconds * 1000, value: last } } : {}),
  });
  return {
    result,
    section: {
      resource,
      unit: RESOURCE_UNITS[resource],
      capacity,
      used,
      free: capacity - used,
      history: series.values.map((v, i) => ({ at: iso(series.startMs + i * series.stepSeconds * 1000), used: typeof v === 'number' && Number.isFinite(v) ? v : Number.NaN })).filter((p) => !Number.isNaN(p.used)),
      forecast: result.points.map((p) => ({ at: iso(p.atMs), value: p.value, lower80: p.lower80, upper80: p.upper80, lower95: p.lower95, upper95: p.upper95 })),
      model: result.model,
      mase: result.backtest.candidates.find((c) => c.model === result.model)?.mase ?? Number.NaN,
      mape: result.backtest.candidates.find((c) => c.model === result.model)?.mape ?? null,
      intervalMethod: result.intervalMethod,
      exhaustion: {
        status: exhaustion.status,
        at: exhaustion.atMs === null ? null : iso(exhaustion.atMs),
        earliest: exhaustion.earliestMs === null ? null : iso(exhaustion.earliestMs),
        latest: exhaustion.latestMs === null ? null : iso(exhaustion.latestMs),
        level: exhaustion.level,
      },
      notes: [...result.notes, ...(result.gaps.note ? [result.gaps.note] : [])],
    },
  };
}

/** The first instant of each of the next `count` calendar months (UTC) after `now`. */
export function nextMonths(now: Date, count: number): Date[] {
  return Array.from({ length: count }, (_, i) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + i + 1, 1)));
}

/**
 * Forecasts each resource, finds when it runs out, and how many of each flavor still fit
 * now and at the start of each coming month (the forecast's growth taken from the free
 * room of every host in proportion to its share of the free room: the "boxes in a van"
 * model applied to the forecast, not a scheduler's placement).
 */
export function assembleCapacityReport(inputs: ReportInputs): CapacityPlanningReport {
  const built = REPORT_RESOURCES.map((r) => section(r, inputs));
  const months = nextMonths(inputs.now, inputs.fitMonths ?? DEFAULT_FIT_MONTHS);
  // Expected extra use at each month's start: the point forecast there minus the use now (none when it falls).
  const growthAt = (resource: ResourceKey, at: Date): number => {
    const { section: s, result } = built[REPORT_RESOURCES.indexOf(resource)] as { section: ResourceSection; result: ForecastResult };
    const points = result.points;
    if (points.length === 0) return 0;
    const target = at.getTime();
    const point = points.find((p) => p.atMs >= target) ?? points[points.length - 1];
    return Math.max(0, (point?.value ?? s.used) - s.used);
  };
  const growthBy = (at: Date): Resources => ({ vcpus: growthAt('vcpus', at), memoryMb: growthAt('memoryMb', at), diskGb: growthAt('diskGb', at) });
  const byMonth = fitByMonth(inputs.rooms, inputs.flavors, months.map((at) => ({ atMs: at.getTime(), additionalUsed: growthBy(at) })));
  const nowFit = fitByMonth(inputs.rooms, inputs.flavors, [{ atMs: inputs.now.getTime(), additionalUsed: { vcpus: 0, memoryMb: 0, diskGb: 0 } }])[0];
  return {
    title: `Capacity planning report: ${inputs.scope}`,
    generatedAt: inputs.now.toISOString(),
    scope: inputs.scope,
    factors: inputs.factors,
    resources: built.map((b) => b.section),
    zones: inputs.zones,
    flavorFit: {
      months: months.map((m) => m.toISOString().slice(0, 7)),
      flavors: inputs.flavors.map((f) => ({
        name: f.name,
        now: nowFit?.fits.find((x) => x.flavor === f.name)?.count ?? 0,
        byMonth: byMonth.map((m) => m.fits.find((x) => x.flavor === f.name)?.count ?? 0),
      })),
    },
    growth: inputs.growth,
  };
}
