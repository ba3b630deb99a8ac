/**
 * Gnocchi's aggregated() (gnocchi/rest/aggregates/processor.py) over series already read
 * from the archive: per granularity, coarsest first, a grid of the references' series on
 * the union of their bucket times, filled as asked (a number, NaN for `null`/`dropna`,
 * forward/backward fills), the overlap rule when no fill is given, then the operations.
 * Experimental.
 */
import type { OperationNode } from './grammar.ts';
import { unaggregable, type LookupKey } from './errors.ts';
import { evaluate, type Frame } from './evaluator.ts';

/**
 * How missing values are filled: a number; `null` (kept, answered as null); `dropna`
 * (left out of the answer, with non-finite results); `ffill`/`bfill` (the previous/next
 * value of the same series, then dropna); `full_ffill`/`full_bfill` (both directions).
 * Undefined: no fill, the overlap rule applies.
 */
export type Fill = number | 'null' | 'dropna' | 'ffill' | 'bfill' | 'full_ffill' | 'full_bfill';
export const FILL_WORDS = ['null', 'dropna', 'ffill', 'bfill', 'full_ffill', 'full_bfill'] as const;

/** One bucket: unix seconds, granularity seconds, value (null when JSON cannot carry it). */
export type Point = readonly [number, number, number | null];

export interface SeriesInput {
  /** Which reference (index into the references) the series is. */
  readonly reference: number;
  readonly granularity: number;
  /** `[bucket start (unix s), value]`, any order. */
  readonly points: ReadonlyArray<readonly [number, number]>;
}

export interface ProcessOptions {
  /** Unix seconds; buckets from the one holding it. */
  readonly start?: number;
  /** Unix seconds, exclusive. */
  readonly stop?: number;
  /** Percent; only without fill. Default 100. */
  readonly neededOverlap?: number;
  readonly fill?: Fill;
}

export type ProcessResult =
  | { readonly kind: 'aggregated'; readonly points: Point[] }
  /** One list per reference, index-aligned. */
  | { readonly kind: 'series'; readonly perReference: Point[][] };

/** Whether output values are filtered of NaN and infinities (Gnocchi: dropna and the fills). */
const drops = (fill: Fill | undefined) => fill !== undefined && typeof fill !== 'number' && fill !== 'null';

function forwardFill(column: Float64Array): void {
  let last = Number.NaN;
  for (let i = 0; i < column.length; i++) {
    const v = column[i] as number;
    if (Number.isNaN(v)) column[i] = last;
    else last = v;
  }
}

function backwardFill(column: Float64Array): void {
  let next = Number.NaN;
  for (let i = column.length - 1; i >= 0; i--) {
    const v = column[i] as number;
    if (Number.isNaN(v)) column[i] = next;
    else next = v;
  }
}

const applyFill: Partial<Record<Fill & string, (column: Float64Array) => void>> = {
  ffill: forwardFill,
  bfill: backwardFill,
  full_ffill: (c) => {
    forwardFill(c);
    backwardFill(c);
  },
  full_bfill: (c) => {
    backwardFill(c);
    forwardFill(c);
  },
};

const json = (v: number): number | null => (Number.isFinite(v) ? v : null);

/**
 * Runs `operations` over the series. `keys[i]` is reference i's (name, aggregation), what
 * metric nodes select columns by; `details` is what refusals list (Gnocchi's lookup keys).
 */
export function processSeries(operations: OperationNode, keys: readonly LookupKey[], series: readonly SeriesInput[], options: ProcessOptions): ProcessResult {
  const neededOverlap = options.neededOverlap ?? 100;
  const fill = options.fill;
  const byGranularity = new Map<number, SeriesInput[]>();
  for (const s of series) byGranularity.set(s.granularity, [...(byGranularity.get(s.granularity) ?? []), s]);
  const granularities = [...byGranularity.keys()].sort((a, b) => b - a);

  const results: Array<{ granularity: number; times: readonly number[]; columns: readonly Float64Array[] }> = [];
  let aggregated = false;
  for (const granularity of granularities) {
    const group = byGranularity.get(granularity) as SeriesInput[];
    const from = options.start === undefined ? undefined : Math.floor(options.start / granularity) * granularity;
    const inRange = (t: number) => (from === undefined || t >= from) && (options.stop === undefined || t < options.stop);
    // 1. The grid: every reference a column (absent ones stay empty), the union of times as rows.
    const columnsOf = keys.map((_, i) => group.find((s) => s.reference === i)?.points.filter(([t]) => inRange(t)) ?? []);
    let times = [...new Set(columnsOf.flatMap((points) => points.map(([t]) => t)))].sort((a, b) => a - b);
    const row = new Map(times.map((t, i) => [t, i]));
    const filler = typeof fill === 'number' ? fill : Number.NaN;
    let columns = columnsOf.map((points) => {
      const column = new Float64Array(times.length).fill(filler);
      for (const [t, v] of points) column[row.get(t) as number] = v;
      if (typeof fill === 'string') applyFill[fill]?.(column);
      return column;
    });
    // 2. Without fill, the overlap rule: rows where every series has a value.
    if (fill === undefined) {
      const complete = times.map((_, r) => columns.every((c) => !Number.isNaN(c[r] as number)));
      const overlap = complete.flatMap((ok, r) => (ok ? [r] : []));
      if (overlap.length === 0 && neededOverlap > 0) throw unaggregable(keys, 'No overlap');
      if (times.length > 0) {
        let lo = 0;
        let hi = times.length;
        if (options.stop === undefined && overlap.length > 0) hi = (overlap[overlap.length - 1] as number) + 1;
        if (options.start === undefined && overlap.length > 0) lo = overlap[0] as number;
        times = times.slice(lo, hi);
        columns = columns.map((c) => c.slice(lo, hi));
        const percent = (overlap.length * 100) / times.length;
        if (percent < neededOverlap) throw unaggregable(keys, `Less than ${neededOverlap.toFixed(6)}% of datapoints overlap in this timespan (${percent.toFixed(2)}%)`);
      }
    }
    // 3. The operations over this granularity's grid.
    const frame: Frame = { granularity, times, columns, keys };
    const value = evaluate(operations, frame, keys);
    if (value.kind === 'scalar') throw unaggregable(keys, 'The operations give a number, not a time series; expected at least one (metric ...) to reach the result');
    aggregated = value.aggregated;
    results.push({ granularity: value.granularity, times: value.times, columns: value.columns });
  }

  // 4. The answer, coarsest granularity first; dropna and the fills leave out NaN and infinities.
  const pointsOf = (r: (typeof results)[number], column: Float64Array | undefined): Point[] => {
    if (!column) return [];
    const out: Point[] = [];
    for (let i = 0; i < r.times.length; i++) {
      const v = column[i] as number;
      if (drops(fill) && !Number.isFinite(v)) continue;
      out.push([r.times[i] as number, r.granularity, json(v)]);
    }
    return out;
  };
  if (aggregated) return { kind: 'aggregated', points: results.flatMap((r) => pointsOf(r, r.columns[0])) };
  return { kind: 'series', perReference: keys.map((_, i) => results.flatMap((r) => pointsOf(r, r.columns[i]))) };
}
