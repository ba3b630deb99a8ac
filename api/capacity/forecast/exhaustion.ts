import { CapacityError } from '../errors.ts';
import { seasonsOf, type ForecastPoint } from './forecast.ts';
import { fillGaps, fitSeasonalLine, type RegularSeries } from './series.ts';

/** A capacity limit: constant, one value per forecast point, or a function of time (capacity added or retired). */
export type CapacityLimit = number | readonly number[] | ((atMs: number) => number);

/** When a forecast reaches its limit (experimental). */
export interface Exhaustion {
  /** `now`: the last observed value is at or over the limit already. */
  readonly status: 'now' | 'within-horizon' | 'not-within-horizon';
  /** When the point forecast reaches the limit (interpolated between steps); null if it does not within the horizon. */
  readonly atMs: number | null;
  /** When the interval's upper bound reaches it: the earliest plausible date. */
  readonly earliestMs: number | null;
  /** When the interval's lower bound reaches it: the latest plausible date; null when later than the horizon (`latestAfterHorizon`). */
  readonly latestMs: number | null;
  readonly latestAfterHorizon: boolean;
  /** The interval level used for `earliestMs` and `latestMs`. */
  readonly level: 80 | 95;
}

export interface ExhaustionOptions {
  readonly level?: 80 | 95;
  /** The last observed point, so a crossing between it and the first forecast step is interpolated too. */
  readonly lastObserved?: { readonly atMs: number; readonly value: number };
}

/** Finds the first time the point forecast, and each interval bound, reaches the limit. */
export function findExhaustion(points: readonly ForecastPoint[], limit: CapacityLimit, options: ExhaustionOptions = {}): Exhaustion {
  const level = options.level ?? 95;
  if (level !== 80 && level !== 95) throw new CapacityError('CUMULUS_CAPACITY_CONFIG_INVALID', `level must be 80 or 95, got ${JSON.stringify(level)}`);
  if (Array.isArray(limit) && limit.length !== points.length) throw new CapacityError('CUMULUS_CAPACITY_CONFIG_INVALID', `limit as an array must hold one value per forecast point (${points.length}), got ${limit.length}`);
  const limitAt = (i: number, atMs: number): number => {
    const value = typeof limit === 'number' ? limit : typeof limit === 'function' ? limit(atMs) : (limit as readonly number[])[i]!;
    if (!Number.isFinite(value)) throw new CapacityError('CUMULUS_CAPACITY_CONFIG_INVALID', `limit must be a finite number at every forecast point, got ${String(value)} at ${new Date(atMs).toISOString()}`);
    return value;
  };
  const limits = points.map((p, i) => limitAt(i, p.atMs));
  const last = options.lastObserved;
  if (last && last.value >= (typeof limit === 'number' ? limit : limits[0] ?? Number.POSITIVE_INFINITY)) {
    return { status: 'now', atMs: last.atMs, earliestMs: last.atMs, latestMs: last.atMs, latestAfterHorizon: false, level };
  }
  const lower = level === 95 ? (p: ForecastPoint) => p.lower95 : (p: ForecastPoint) => p.lower80;
  const upper = level === 95 ? (p: ForecastPoint) => p.upper95 : (p: ForecastPoint) => p.upper80;
  const atMs = firstCrossing(points, limits, (p) => p.value, last);
  const earliestMs = firstCrossing(points, limits, upper, last);
  const latestMs = firstCrossing(points, limits, lower, last);
  return {
    status: atMs === null ? 'not-within-horizon' : 'within-horizon',
    atMs,
    // The upper bound reaches the limit no later than the point forecast; keep the order even when quantiles cross.
    earliestMs: atMs !== null && earliestMs !== null ? Math.min(earliestMs, atMs) : earliestMs,
    latestMs: atMs !== null && latestMs !== null ? Math.max(latestMs, atMs) : latestMs,
    latestAfterHorizon: latestMs === null,
    level,
  };
}

/** The first time `value(point) - limit` turns non-negative, interpolated linearly between steps. */
function firstCrossing(points: readonly ForecastPoint[], limits: readonly number[], value: (p: ForecastPoint) => number, last: { atMs: number; value: number } | undefined): number | null {
  let previous = last ? { atMs: last.atMs, gap: last.value - limits[0]! } : null;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    const gap = value(p) - limits[i]!;
    if (gap >= 0) {
      if (!previous) return p.atMs;
      return previous.atMs + ((p.atMs - previous.atMs) * -previous.gap) / (gap - previous.gap);
    }
    previous = { atMs: p.atMs, gap };
  }
  return null;
}

/** A long-horizon exhaustion date from the series' trend (experimental). */
export interface TrendExhaustion {
  readonly method: 'linear-trend';
  /** Growth of the deseasonalised level per day. */
  readonly slopePerDay: number;
  /** When the deseasonalised level reaches the limit; null when the trend is flat or falling. */
  readonly atMs: number | null;
  /** With the slope at its upper bound (slope + z * standard error). */
  readonly earliestMs: number | null;
  /** With the slope at its lower bound; null when that bound is flat or falling (never). */
  readonly latestMs: number | null;
  /**
   * When the season's highest phase on top of the trend first reaches the limit: the first
   * peak that touches it, no later than `atMs`. On a series without a real season this is
   * the largest noise excursion, so it runs early; read it as a warning date.
   */
  readonly peakAtMs: number | null;
}

/**
 * Extrapolates a straight trend far beyond any seasonal forecast's horizon: a line fitted
 * jointly with the weekly (else daily) season over the last whole seasons of the series.
 * The interval varies only the slope, by z standard errors computed as if residuals were
 * independent; residuals of real usage series are autocorrelated, so this interval is
 * narrower than the truth there, and is no substitute for the forecast's empirical one
 * inside the horizon. The level's own uncertainty is ignored (small next to the slope's
 * over a long horizon).
 */
export function extrapolateExhaustion(series: RegularSeries, limit: number, options: { z?: number } = {}): TrendExhaustion {
  if (!Number.isFinite(limit)) throw new CapacityError('CUMULUS_CAPACITY_CONFIG_INVALID', `limit must be a finite number, got ${String(limit)}`);
  const z = options.z ?? 1.96;
  if (!(Number.isFinite(z) && z >= 0)) throw new CapacityError('CUMULUS_CAPACITY_CONFIG_INVALID', `z must be a non-negative number, got ${String(z)}`);
  const filled = fillGaps(series);
  const y = filled.values;
  const n = y.length;
  const seasons = seasonsOf(filled.stepSeconds);
  const period = seasons.weekly !== null && n >= 2 * seasons.weekly ? seasons.weekly : seasons.daily !== null && n >= 2 * seasons.daily ? seasons.daily : 1;
  const from = n - Math.floor(n / period) * period;
  const fit = fitSeasonalLine(y, from, n, period);
  const mean = fit.profile.reduce((a, b) => a + b, 0) / period;
  const peak = Math.max(...fit.profile);
  const lastIndex = n - 1;
  const stepMs = filled.stepSeconds * 1000;
  const lastMs = filled.startMs + lastIndex * stepMs;
  const crossing = (offset: number, slope: number): number | null => {
    const now = fit.slope * lastIndex + offset;
    if (now >= limit) return lastMs;
    if (!(slope > 0)) return null;
    return lastMs + ((limit - now) / slope) * stepMs;
  };
  return {
    method: 'linear-trend',
    slopePerDay: (fit.slope * 86_400) / filled.stepSeconds,
    atMs: crossing(mean, fit.slope),
    earliestMs: crossing(mean, fit.slope + z * fit.slopeStdError),
    latestMs: crossing(mean, fit.slope - z * fit.slopeStdError),
    peakAtMs: crossing(peak, fit.slope),
  };
}
