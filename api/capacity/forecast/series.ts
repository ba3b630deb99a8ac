import { CapacityError } from '../errors.ts';

/** A regular series: `values[i]` is the value at `startMs + i * stepSeconds * 1000`; null or NaN is a gap. */
export interface RegularSeries {
  readonly startMs: number;
  readonly stepSeconds: number;
  readonly values: ReadonlyArray<number | null>;
}

/** What gap filling did, so a report can say how much of the input was invented. */
export interface GapReport {
  /** Points that were missing and got a value. */
  readonly filled: number;
  /** The longest run of consecutive missing points. */
  readonly longestGap: number;
  /** Missing points before the first known value (filled with it: nothing to interpolate from). */
  readonly leading: number;
  /** Missing points after the last known value (filled with it). */
  readonly trailing: number;
  /** One sentence for the report, or null when nothing was missing. */
  readonly note: string | null;
}

export interface FilledSeries {
  readonly startMs: number;
  readonly stepSeconds: number;
  readonly values: Float64Array;
  readonly gaps: GapReport;
}

const isKnown = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Validates a series and fills its gaps: linear interpolation between the known neighbours
 * inside the series, the nearest known value at either end (extrapolating a trend into an
 * edge gap would invent growth). Needs at least two known values.
 */
export function fillGaps(series: RegularSeries): FilledSeries {
  if (!Number.isFinite(series.startMs)) throw new CapacityError('CUMULUS_CAPACITY_SERIES_INVALID', `series.startMs must be a finite epoch in milliseconds, got ${String(series.startMs)}`);
  if (!(Number.isFinite(series.stepSeconds) && series.stepSeconds > 0)) throw new CapacityError('CUMULUS_CAPACITY_SERIES_INVALID', `series.stepSeconds must be a positive number of seconds, got ${String(series.stepSeconds)}`);
  const n = series.values.length;
  const known: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = series.values[i];
    if (v !== null && typeof v !== 'number') throw new CapacityError('CUMULUS_CAPACITY_SERIES_INVALID', `series.values[${i}] must be a number, null or NaN, got ${typeof v}`);
    if (isKnown(v)) known.push(i);
  }
  if (known.length < 2) throw new CapacityError('CUMULUS_CAPACITY_SERIES_INVALID', `series.values must hold at least 2 known (finite) values, got ${known.length} of ${n}`);

  const values = new Float64Array(n);
  let longestGap = 0;
  const first = known[0]!;
  const last = known[known.length - 1]!;
  for (let i = 0; i < first; i++) values[i] = series.values[first] as number;
  for (let k = 0; k < known.length; k++) {
    const at = known[k]!;
    const v = series.values[at] as number;
    values[at] = v;
    const next = known[k + 1];
    if (next === undefined) break;
    const gap = next - at - 1;
    if (gap > 0) {
      longestGap = Math.max(longestGap, gap);
      const w = series.values[next] as number;
      for (let i = at + 1; i < next; i++) values[i] = v + ((w - v) * (i - at)) / (next - at);
    }
  }
  for (let i = last + 1; i < n; i++) values[i] = series.values[last] as number;
  longestGap = Math.max(longestGap, first, n - 1 - last);

  const filled = n - known.length;
  const note = filled === 0
    ? null
    : `${filled} of ${n} points were missing and were filled (linear interpolation inside the series${first > 0 || last < n - 1 ? `, nearest known value at the edges: ${first} leading, ${n - 1 - last} trailing` : ''}); longest gap ${longestGap} points`;
  return { startMs: series.startMs, stepSeconds: series.stepSeconds, values, gaps: { filled, longestGap, leading: first, trailing: n - 1 - last, note } };
}

/** Ordinary least squares line over `y[from..to)` against the index: value = intercept + slope * index. */
export function fitLine(y: ArrayLike<number>, from = 0, to = y.length): { intercept: number; slope: number; residualStd: number; slopeStdError: number } {
  const n = to - from;
  let st = 0;
  let sy = 0;
  for (let t = from; t < to; t++) {
    st += t;
    sy += y[t]!;
  }
  const mt = st / n;
  const my = sy / n;
  let stt = 0;
  let sty = 0;
  for (let t = from; t < to; t++) {
    stt += (t - mt) * (t - mt);
    sty += (t - mt) * (y[t]! - my);
  }
  const slope = stt > 0 ? sty / stt : 0;
  const intercept = my - slope * mt;
  let sse = 0;
  for (let t = from; t < to; t++) {
    const r = y[t]! - intercept - slope * t;
    sse += r * r;
  }
  const residualStd = n > 2 ? Math.sqrt(sse / (n - 2)) : 0;
  return { intercept, slope, residualStd, slopeStdError: stt > 0 ? residualStd / Math.sqrt(stt) : Number.POSITIVE_INFINITY };
}

/**
 * Least squares of y on the index plus one mean per phase of `period` (season dummies) over
 * `y[from..to)`: value = slope * index + profile[index % period]. Fitting the line and the
 * season together matters: a line fitted alone is tilted by any season that is not symmetric
 * in time (a weekend dip at the end of each week pulls the slope down), and that tilt grows
 * without bound when extrapolated.
 */
export function fitSeasonalLine(y: ArrayLike<number>, from: number, to: number, period: number): { slope: number; profile: Float64Array; slopeStdError: number } {
  const sumT = new Float64Array(period);
  const sumY = new Float64Array(period);
  const count = new Float64Array(period);
  for (let t = from; t < to; t++) {
    const j = t % period;
    sumT[j]! += t;
    sumY[j]! += y[t]!;
    count[j]! += 1;
  }
  let stt = 0;
  let sty = 0;
  for (let t = from; t < to; t++) {
    const j = t % period;
    const dt = t - sumT[j]! / count[j]!;
    stt += dt * dt;
    sty += dt * (y[t]! - sumY[j]! / count[j]!);
  }
  const slope = stt > 0 ? sty / stt : 0;
  const profile = new Float64Array(period);
  for (let j = 0; j < period; j++) profile[j] = count[j]! > 0 ? (sumY[j]! - slope * sumT[j]!) / count[j]! : Number.NaN;
  let sse = 0;
  for (let t = from; t < to; t++) {
    const r = y[t]! - slope * t - profile[t % period]!;
    sse += r * r;
  }
  const freedom = to - from - Math.min(period, to - from) - 1;
  // Textbook standard error, assuming independent residuals (see the README on why it is optimistic).
  const slopeStdError = freedom > 0 && stt > 0 ? Math.sqrt(sse / freedom / stt) : Number.POSITIVE_INFINITY;
  return { slope, profile, slopeStdError };
}
