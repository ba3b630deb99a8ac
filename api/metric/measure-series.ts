/**
 * What Gnocchi does to one metric's aggregated points after reading them (carbonara's
 * GroupedTimeSeries): `resample` regroups them into coarser buckets (a timespan, or a
 * calendar unit Y/H/Q/M/W) with the same aggregation method; `fill` (a Cumulus extension on
 * the one-metric read) gives empty buckets a value. Pure: no I/O.
 */
import { parseAggregationMethod } from '../../storage/index.ts';

/** One point: bucket start (ms since the epoch) and value. */
export type SeriesPoint = readonly [number, number | null];

/** Gnocchi's calendar groupings (gnocchi/calendar.py GROUPINGS). */
export const CALENDAR_GROUPINGS = ['Y', 'H', 'Q', 'M', 'W'] as const;
export type CalendarGrouping = (typeof CALENDAR_GROUPINGS)[number];
export const isCalendarGrouping = (value: string): value is CalendarGrouping => (CALENDAR_GROUPINGS as readonly string[]).includes(value);

const DAY_MS = 86_400_000;

/** The start of the group a time falls in: a multiple of `sampling` seconds, or a calendar unit's start (UTC). */
export function groupStart(ms: number, sampling: number | CalendarGrouping): number {
  if (typeof sampling === 'number') {
    const step = sampling * 1000;
    return Math.floor(ms / step) * step;
  }
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  switch (sampling) {
    case 'Y':
      return Date.UTC(year, 0, 1);
    case 'H':
      return Date.UTC(year, month - (month % 6), 1);
    case 'Q':
      return Date.UTC(year, month - (month % 3), 1);
    case 'M':
      return Date.UTC(year, month, 1);
    case 'W': {
      // Weeks start on Sunday (1970-01-01 was a Thursday: day 0 of the epoch is weekday 4).
      const day = Math.floor(ms / DAY_MS);
      return (day - ((day + 4) % 7)) * DAY_MS;
    }
  }
}

/** One method over a group's values, as carbonara computes it (std: sample, none for one value). */
function aggregate(values: readonly number[], base: string, percentile: number | undefined): number | undefined {
  const n = values.length;
  if (n === 0) return undefined;
  const sum = values.reduce((a, b) => a + b, 0);
  switch (base) {
    case 'mean':
      return sum / n;
    case 'sum':
      return sum;
    case 'min':
      return Math.min(...values);
    case 'max':
      return Math.max(...values);
    case 'count':
      return n;
    case 'first':
      return values[0];
    case 'last':
      return values[n - 1];
    case 'std': {
      if (n < 2) return undefined;
      const mean = sum / n;
      return Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
    }
    case 'median':
    case 'percentile': {
      const sorted = [...values].sort((a, b) => a - b);
      const position = (n - 1) * ((base === 'median' ? 50 : (percentile as number)) / 100);
      const low = Math.floor(position);
      const high = Math.ceil(position);
      const below = sorted[low] as number;
      return low === high ? below : below * (high - position) + (sorted[high] as number) * (position - low);
    }
    default:
      return undefined;
  }
}

/**
 * Gnocchi's resample of one aggregated series: points grouped by `sampling`, each group
 * aggregated with `method`. For `rate:<m>` Gnocchi differentiates the series again
 * (consecutive differences, each at the later point's time) before grouping; so does this.
 * Null values (not finite in the store) are left out.
 */
export function resampleSeries(points: readonly SeriesPoint[], method: string, sampling: number | CalendarGrouping): SeriesPoint[] {
  const parsed = parseAggregationMethod(method);
  if (!parsed) throw new Error(`unknown aggregation method ${method}`);
  let series = points.filter((p): p is readonly [number, number] => p[1] !== null);
  if (parsed.rate) series = series.slice(1).map(([t, v], i) => [t, v - (series[i] as readonly [number, number])[1]] as const);
  const groups = new Map<number, number[]>();
  for (const [t, v] of series) {
    const key = groupStart(t, sampling);
    const group = groups.get(key);
    if (group) group.push(v);
    else groups.set(key, [v]);
  }
  const out: SeriesPoint[] = [];
  for (const [t, values] of [...groups.entries()].sort((a, b) => a[0] - b[0])) {
    const value = aggregate(values, parsed.base, parsed.percentile);
    if (value !== undefined) out.push([t, value]);
  }
  return out;
}

/** `fill`: a number, `null` (empty buckets as null) or `dropna` (points without value left out). */
export type FillMode = { kind: 'value'; value: number } | { kind: 'null' } | { kind: 'dropna' };

export class FillTooLargeError extends Error {}

/**
 * Empty buckets of one granularity between `startMs` (rounded down) or the first point,
 * and `stopMs` (exclusive) or the last point, get the fill value; `maxPoints` bounds the
 * answer (FillTooLargeError past it).
 */
export function fillSeries(points: readonly SeriesPoint[], granularitySeconds: number, fill: FillMode, range: { startMs?: number; stopMs?: number }, maxPoints: number): SeriesPoint[] {
  if (fill.kind === 'dropna') return points.filter((p) => p[1] !== null);
  const step = granularitySeconds * 1000;
  const first = range.startMs !== undefined ? Math.floor(range.startMs / step) * step : points[0]?.[0];
  const last = range.stopMs !== undefined ? Math.ceil(range.stopMs / step) * step - step : points[points.length - 1]?.[0];
  if (first === undefined || last === undefined || last < first) return [...points];
  if ((last - first) / step + 1 > maxPoints) throw new FillTooLargeError(`filling ${(last - first) / step + 1} buckets of ${granularitySeconds} s exceeds ${maxPoints}`);
  const known = new Map(points.map((p) => [p[0], p[1]]));
  const out: SeriesPoint[] = [];
  for (let t = first; t <= last; t += step) out.push([t, known.has(t) ? (known.get(t) as number | null) : fill.kind === 'null' ? null : fill.value]);
  return out;
}
