import { CapacityError } from '../errors.ts';
import { DAY_SECONDS, DEFAULT_HOLDOUT_SECONDS, MAPE_NEAR_ZERO_FRACTION, MIN_DEFAULT_HOLDOUT_POINTS, MIN_HOLDOUT_SECONDS, WEEK_SECONDS, resolveForecastOptions, type ForecastOptions } from './config.ts';
import { candidateModels, type ForecastModel, type ModelName, type Seasons } from './models.ts';
import { fillGaps, type GapReport, type RegularSeries } from './series.ts';

/** One forecast step with its 80% and 95% prediction intervals. */
export interface ForecastPoint {
  readonly atMs: number;
  readonly value: number;
  readonly lower80: number;
  readonly upper80: number;
  readonly lower95: number;
  readonly upper95: number;
}

/** How one candidate did in the backtest. */
export interface ModelScore {
  readonly model: ModelName;
  /** Mean absolute error over every origin and step of the backtest. */
  readonly mae: number;
  readonly rmse: number;
  /** MAE divided by the in-sample one-step seasonal naive MAE (`scale`); below 1 beats it. */
  readonly mase: number;
  /** Mean absolute percentage error in %, or null when actual values come near zero (see `mapeNote`). */
  readonly mape: number | null;
  /** Parameters fitted on the training part (before the holdout). */
  readonly parameters: Readonly<Record<string, number>>;
}

export interface Backtest {
  /** Points held out at the end; parameters were fitted on the points before. */
  readonly holdoutPoints: number;
  /** Steps forecast from each origin: min(horizon, holdout / 2). */
  readonly horizonPoints: number;
  /** Forecast origins: every point from the holdout's start to its end minus the horizon. */
  readonly origins: number;
  /** The MASE denominator: in-sample one-step seasonal naive MAE with this period (points: weekly, else daily, else 1 = last value). */
  readonly scale: { readonly period: number; readonly mae: number };
  readonly candidates: readonly ModelScore[];
  readonly chosen: ModelName;
  /** Chosen MAE / best naive (seasonal or last value) MAE in the same backtest (below 1: beats the naive baseline); null without a naive candidate. */
  readonly relativeToSeasonalNaive: number | null;
  readonly mapeNote: string | null;
}

export interface ForecastResult {
  readonly model: ModelName;
  /** Parameters fitted on the training part (before the holdout), as backtested; the forecast runs the model over the whole series with them. */
  readonly parameters: Readonly<Record<string, number>>;
  readonly stepSeconds: number;
  /** The series' last point (gap-filled), to pass on to findExhaustion as `lastObserved`. */
  readonly lastObserved: { readonly atMs: number; readonly value: number };
  readonly points: readonly ForecastPoint[];
  readonly backtest: Backtest;
  readonly gaps: GapReport;
  /** How the intervals were made, in one sentence. */
  readonly intervalMethod: string;
  readonly notes: readonly string[];
}

/** Quantiles of the h-step backtest errors (actual - forecast) that bound the intervals. */
const QUANTILES = { lower95: 0.025, lower80: 0.1, upper80: 0.9, upper95: 0.975 } as const;
type Bound = keyof typeof QUANTILES;
const BOUNDS = Object.keys(QUANTILES) as Bound[];
/** Forecast origins in the backtest at most (thinned evenly beyond). */
export const MAX_BACKTEST_ORIGINS = 200;
/** Errors of neighbouring horizons (h - 2 .. h + 2) are pooled: per-h quantiles from a few hundred correlated errors are jumpy. */
const POOL_RADIUS = 2;

/**
 * Forecasts a regular series: fills gaps, backtests every candidate model on rolling origins
 * over the held-out end, keeps the lowest MASE, runs it (parameters as backtested) to the
 * series' end and bounds the forecast with the empirical quantiles of that model's backtest
 * errors at each horizon.
 */
export function forecast(series: RegularSeries, options: ForecastOptions): ForecastResult {
  const resolved = resolveForecastOptions(options);
  const filled = fillGaps(series);
  const y = filled.values;
  const n = y.length;
  const step = filled.stepSeconds;
  const seasons = seasonsOf(step);
  const notes: string[] = [];
  if (filled.gaps.note) notes.push(filled.gaps.note);
  if (seasons.daily === null) notes.push(`no daily season: a step of ${step} s does not divide a day into 2 or more steps`);
  if (seasons.weekly === null) notes.push(`no weekly season: a step of ${step} s does not divide a week into 2 or more steps`);

  // 1. Pick the holdout and the models that can still train on what precedes it.
  const candidates = candidateModels(seasons, resolved.models);
  if (candidates.length === 0) throw new CapacityError('CUMULUS_CAPACITY_CONFIG_INVALID', `models (${resolved.models.join(', ')}) need a daily or weekly season, which a step of ${step} s does not have; add naive, holt-linear or linear-trend-profile`);
  const plan = planBacktest(candidates, n, step, resolved.holdoutPoints);
  const { models, holdout } = plan;
  const skipped = resolved.models.filter((name) => !models.some((m) => m.name === name));
  if (skipped.length > 0) notes.push(`not evaluated (series too short or season missing): ${skipped.join(', ')}`);
  const training = n - holdout;
  const backtestHorizon = Math.min(resolved.horizonPoints, Math.floor(holdout / 2));
  // Every point is an origin, thinned evenly past MAX_BACKTEST_ORIGINS so fine steps (5 min over
  // weeks) keep the backtest's time and memory bounded.
  const stride = Math.max(1, Math.ceil((n - backtestHorizon - training + 1) / MAX_BACKTEST_ORIGINS));
  const origins: number[] = [];
  for (let o = training; o <= n - backtestHorizon; o += stride) origins.push(o);

  // 2. The MASE scale comes from the training part only, as Hyndman & Koehler define it.
  const scalePeriod = seasons.weekly !== null && training >= 2 * seasons.weekly ? seasons.weekly : seasons.daily !== null && training >= 2 * seasons.daily ? seasons.daily : 1;
  const scale = seasonalNaiveMae(y, training, scalePeriod);
  if (scale === 0) notes.push('the series repeats its season exactly in the training part: MASE is infinite or undefined, models are ranked by MAE');

  // 3. Backtest each candidate with parameters fitted before the holdout (no look-ahead).
  const trainingSeries = y.subarray(0, training);
  const mapeDefined = mapeIsDefined(y, training);
  const scored = models.map((model) => {
    const fitted = model.fit(trainingSeries, resolved.maxEvaluations);
    const errors = backtestErrors(y, fitted.forecastFrom(y, origins, backtestHorizon), origins);
    return { model, fitted, errors, score: score(model.name, fitted.parameters, y, origins, errors, scale, mapeDefined) };
  });
  const rank = (s: ModelScore) => (scale > 0 ? s.mase : s.mae);
  const best = scored.reduce((a, b) => (rank(b.score) < rank(a.score) ? b : a));
  const naive = scored.filter((s) => s.model.name === 'naive' || s.model.name.startsWith('seasonal-naive')).map((s) => s.score.mae);
  const relativeToSeasonalNaive = naive.length > 0 ? best.score.mae / Math.min(...naive) : null;

  // 4. Forecast from the end with the parameters the backtest measured (the filter still runs
  // over every point, so the state is current). Refitting on the whole series would give
  // parameters whose multi-step errors nobody measured: one-step SSE is nearly flat along
  // alpha*beta, and a refit can land on a trend gain that is harmless one step ahead and
  // ruinous a week ahead; the intervals also come from these parameters' errors.
  const horizon = resolved.horizonPoints;
  const point = best.fitted.forecastFrom(y, [n], horizon)[0]!;
  const offsets = intervalOffsets(best.errors, backtestHorizon, horizon);
  if (horizon > backtestHorizon) notes.push(`intervals beyond ${backtestHorizon} steps (the backtest horizon) are the last measured ones widened by sqrt(h / ${backtestHorizon})`);

  const stepMs = step * 1000;
  const points: ForecastPoint[] = [];
  for (let h = 0; h < horizon; h++) {
    const value = point[h]!;
    const o = offsets[h]!;
    points.push({ atMs: filled.startMs + (n + h) * stepMs, value, lower80: value + o.lower80, upper80: value + o.upper80, lower95: value + o.lower95, upper95: value + o.upper95 });
  }
  return {
    model: best.model.name,
    parameters: best.fitted.parameters,
    stepSeconds: step,
    lastObserved: { atMs: filled.startMs + (n - 1) * stepMs, value: y[n - 1]! },
    points,
    backtest: {
      holdoutPoints: holdout,
      horizonPoints: backtestHorizon,
      origins: origins.length,
      scale: { period: scalePeriod, mae: scale },
      candidates: scored.map((s) => s.score),
      chosen: best.model.name,
      relativeToSeasonalNaive,
      mapeNote: mapeDefined ? null : `MAPE undefined: some actual values in the holdout are within ${MAPE_NEAR_ZERO_FRACTION * 100}% of the mean absolute level from zero`,
    },
    gaps: filled.gaps,
    intervalMethod: `empirical: quantiles (2.5/10/90/97.5%) of the chosen model's h-step backtest errors over ${origins.length} origins, pooled over h±${POOL_RADIUS} and made non-narrowing in h; sqrt(h) widening beyond ${backtestHorizon} steps`,
    notes,
  };
}

/** Daily and weekly season lengths in points, when the step divides them into at least 2. */
export function seasonsOf(stepSeconds: number): Seasons {
  const points = (seconds: number) => {
    const p = seconds / stepSeconds;
    return Number.isInteger(p) && p >= 2 ? p : null;
  };
  return { daily: points(DAY_SECONDS), weekly: points(WEEK_SECONDS) };
}

function planBacktest(all: ForecastModel[], n: number, step: number, holdoutPoints: number | null): { models: ForecastModel[]; holdout: number } {
  const minHoldout = Math.max(2, Math.ceil(MIN_HOLDOUT_SECONDS / step));
  // Coarse steps (a day) would hold out only 14 points in two weeks: hold out enough origins.
  const wanted = holdoutPoints ?? Math.max(minHoldout, MIN_DEFAULT_HOLDOUT_POINTS, Math.floor(DEFAULT_HOLDOUT_SECONDS / step));
  // Drop the hungriest models until the rest fit in front of the holdout.
  const models = [...all].sort((a, b) => a.minTrainingPoints - b.minTrainingPoints);
  while (models.length > 0) {
    const needed = Math.max(...models.map((m) => m.minTrainingPoints));
    const holdout = Math.min(wanted, n - needed);
    if (holdout >= (holdoutPoints ?? minHoldout)) return { models: all.filter((m) => models.includes(m)), holdout };
    models.pop();
  }
  const least = Math.min(...all.map((m) => m.minTrainingPoints));
  throw new CapacityError('CUMULUS_CAPACITY_SERIES_TOO_SHORT', `the series has ${n} points; forecasting needs at least ${least + (holdoutPoints ?? minHoldout)} (${least} to train the simplest model and ${holdoutPoints ?? minHoldout} held out for the backtest)`);
}

function seasonalNaiveMae(y: Float64Array, end: number, period: number): number {
  let sum = 0;
  for (let t = period; t < end; t++) sum += Math.abs(y[t]! - y[t - period]!);
  return end > period ? sum / (end - period) : 0;
}

function mapeIsDefined(y: Float64Array, from: number): boolean {
  let level = 0;
  for (let t = from; t < y.length; t++) level += Math.abs(y[t]!) / (y.length - from);
  for (let t = from; t < y.length; t++) if (Math.abs(y[t]!) <= MAPE_NEAR_ZERO_FRACTION * level) return false;
  return level > 0;
}

/** errors[o][h] = actual - forecast for origin index o and step h + 1. */
function backtestErrors(y: Float64Array, forecasts: Float64Array[], origins: readonly number[]): Float64Array[] {
  return forecasts.map((f, i) => f.map((value, h) => y[origins[i]! + h]! - value));
}

function score(model: ModelName, parameters: Readonly<Record<string, number>>, y: Float64Array, origins: readonly number[], errors: Float64Array[], scale: number, mapeDefined: boolean): ModelScore {
  let abs = 0;
  let sq = 0;
  let pct = 0;
  let count = 0;
  errors.forEach((row, i) => row.forEach((e, h) => {
    abs += Math.abs(e);
    sq += e * e;
    if (mapeDefined) pct += Math.abs(e / y[origins[i]! + h]!);
    count++;
  }));
  const mae = abs / count;
  return { model, mae, rmse: Math.sqrt(sq / count), mase: scale > 0 ? mae / scale : Number.POSITIVE_INFINITY, mape: mapeDefined ? (100 * pct) / count : null, parameters };
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (at - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Offsets to add to the point forecast at each step 1..horizon for each interval bound. */
function intervalOffsets(errors: Float64Array[], measured: number, horizon: number): Record<Bound, number>[] {
  const perStep: Record<Bound, number>[] = [];
  for (let h = 0; h < measured; h++) {
    const pool: number[] = [];
    for (let k = Math.max(0, h - POOL_RADIUS); k <= Math.min(measured - 1, h + POOL_RADIUS); k++) for (const row of errors) pool.push(row[k]!);
    const sorted = Float64Array.from(pool).sort();
    const offsets = Object.fromEntries(BOUNDS.map((b) => [b, quantile(sorted, QUANTILES[b])])) as Record<Bound, number>;
    // Uncertainty does not shrink with the horizon: keep each bound at least as wide as the step before.
    const previous = perStep[h - 1];
    if (previous) {
      offsets.lower95 = Math.min(offsets.lower95, previous.lower95);
      offsets.lower80 = Math.min(offsets.lower80, previous.lower80);
      offsets.upper80 = Math.max(offsets.upper80, previous.upper80);
      offsets.upper95 = Math.max(offsets.upper95, previous.upper95);
    }
    perStep.push(offsets);
  }
  const last = perStep[measured - 1]!;
  for (let h = measured; h < horizon; h++) {
    const widen = Math.sqrt((h + 1) / measured);
    perStep.push(Object.fromEntries(BOUNDS.map((b) => [b, last[b] * widen])) as Record<Bound, number>);
  }
  return perStep.slice(0, horizon);
}
