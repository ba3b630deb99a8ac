import { minimizeBounded, type ParameterBound } from './optimize.ts';
import { fitSeasonalLine } from './series.ts';

/** The candidate models (experimental names: they appear in API answers and reports). */
export const MODEL_NAMES = [
  'naive',
  'seasonal-naive-daily',
  'seasonal-naive-weekly',
  'holt-linear',
  'holt-winters-daily',
  'holt-winters-weekly',
  'holt-winters-double',
  'holt-winters-double-damped',
  'linear-trend-profile',
] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** Season lengths in points; null when the step does not divide the day (or week). */
export interface Seasons {
  readonly daily: number | null;
  readonly weekly: number | null;
}

export interface FittedModel {
  readonly name: ModelName;
  /** The fitted smoothing parameters (empty for the parameter-free models). */
  readonly parameters: Readonly<Record<string, number>>;
  /**
   * For each origin o, the forecasts of y[o], ..., y[o + horizon - 1] made from y[0..o) only,
   * with the parameters fixed at fit time. Origins must be ascending and at least
   * `minTrainingPoints`.
   */
  forecastFrom(y: Float64Array, origins: readonly number[], horizon: number): Float64Array[];
}

export interface ForecastModel {
  readonly name: ModelName;
  /** The fewest points the model needs to start (its initialisation window). */
  readonly minTrainingPoints: number;
  /** Fits the parameters on all of `y` (minimising the one-step squared error). */
  fit(y: Float64Array, maxEvaluations: number): FittedModel;
}

/** Builds the candidates the seasons allow; a model whose season does not exist is left out. */
export function candidateModels(seasons: Seasons, names: readonly ModelName[] = MODEL_NAMES): ForecastModel[] {
  const { daily, weekly } = seasons;
  const models: ForecastModel[] = [];
  for (const name of names) {
    switch (name) {
      case 'naive':
        // The last value: the baseline when there is no season (steps of a day or more have no daily one).
        models.push(seasonalNaive(name, 1));
        break;
      case 'seasonal-naive-daily':
        if (daily) models.push(seasonalNaive(name, daily));
        break;
      case 'seasonal-naive-weekly':
        if (weekly) models.push(seasonalNaive(name, weekly));
        break;
      case 'holt-linear':
        models.push(holtWinters(name, [], false));
        break;
      case 'holt-winters-daily':
        if (daily) models.push(holtWinters(name, [daily], false));
        break;
      case 'holt-winters-weekly':
        if (weekly) models.push(holtWinters(name, [weekly], false));
        break;
      case 'holt-winters-double':
        if (daily && weekly) models.push(holtWinters(name, [daily, weekly], false));
        break;
      case 'holt-winters-double-damped':
        if (daily && weekly) models.push(holtWinters(name, [daily, weekly], true));
        break;
      case 'linear-trend-profile':
        models.push(linearTrendProfile(daily, weekly));
        break;
    }
  }
  return models;
}

/** y[t] forecast by the last observed value at the same phase of the season. */
function seasonalNaive(name: ModelName, period: number): ForecastModel {
  const fitted: FittedModel = {
    name,
    parameters: {},
    forecastFrom(y, origins, horizon) {
      return origins.map((o) => {
        const out = new Float64Array(horizon);
        for (let h = 1; h <= horizon; h++) out[h - 1] = y[o + h - 1 - period * Math.ceil(h / period)]!;
        return out;
      });
    },
  };
  return { name, minTrainingPoints: period, fit: () => fitted };
}

/**
 * Least-squares line fitted jointly with one mean per phase of the profile season (weekly
 * when at least two whole weeks are known, else daily when two whole days are, else none: a
 * plain line), refitted at every origin on the whole seasons that end there.
 */
function linearTrendProfile(daily: number | null, weekly: number | null): ForecastModel {
  const name: ModelName = 'linear-trend-profile';
  const fitted: FittedModel = {
    name,
    parameters: {},
    forecastFrom(y, origins, horizon) {
      return origins.map((o) => {
        const period = weekly !== null && o >= 2 * weekly ? weekly : daily !== null && o >= 2 * daily ? daily : 1;
        const { slope, profile } = fitSeasonalLine(y, o - Math.floor(o / period) * period, o, period);
        const out = new Float64Array(horizon);
        for (let h = 0; h < horizon; h++) out[h] = slope * (o + h) + profile[(o + h) % period]!;
        return out;
      });
    },
  };
  // Too short for a season, it is a plain line: it can start from 3 points.
  return { name, minTrainingPoints: 3, fit: () => fitted };
}

/** Points a trend-only Holt model starts from (a line through them). */
const HOLT_START_POINTS = 10;

interface HoltWintersParameters {
  readonly alpha: number;
  readonly beta: number;
  readonly phi: number;
  /** One smoothing parameter per season, in the order of the periods. */
  readonly gammas: readonly number[];
}

/**
 * Additive Holt-Winters with a (possibly damped) additive trend and one or two additive
 * seasons; with two (daily inside weekly) it is Taylor's (2003) double-seasonal method,
 * without his optional AR(1) error adjustment. Recursions (s_i: season i, m_i its period):
 *   forecast  f_t   = l + phi*b + sum_i s_i[t - m_i]
 *   level     l_t   = alpha*(y_t - sum_i s_i[t - m_i]) + (1 - alpha)*(l + phi*b)
 *   trend     b_t   = beta*(l_t - l) + (1 - beta)*phi*b
 *   season    s_i,t = gamma_i*(y_t - l_t - sum_{j != i} s_j[t - m_j]) + (1 - gamma_i)*s_i[t - m_i]
 *   h ahead         = l_t + (phi + ... + phi^h)*b_t + sum_i s_i[last estimate at that phase]
 */
function holtWinters(name: ModelName, periods: readonly number[], damped: boolean): ForecastModel {
  const longest = Math.max(1, ...periods);
  // Two seasons start the state (a few points without a season); one more gives the parameter
  // fit errors the start did not see.
  const window = periods.length > 0 ? 2 * longest : HOLT_START_POINTS;
  const minTrainingPoints = window + Math.max(longest, HOLT_START_POINTS);
  const bounds: ParameterBound[] = [
    { name: 'alpha', min: 0.001, max: 0.999, start: 0.2 },
    // A trend that follows every wiggle extrapolates noise over a long horizon: cap beta.
    { name: 'beta', min: 0.0001, max: 0.3, start: 0.01 },
    ...periods.map((p, i) => ({ name: periods.length === 1 ? 'gamma' : i === 0 ? 'gamma_daily' : 'gamma_weekly', min: 0.001, max: 0.999, start: 0.1 })),
    ...(damped ? [{ name: 'phi', min: 0.8, max: 0.999, start: 0.95 }] : []),
  ];
  const unpack = (v: readonly number[]): HoltWintersParameters => ({
    alpha: v[0]!,
    beta: v[1]!,
    gammas: v.slice(2, 2 + periods.length),
    phi: damped ? v[2 + periods.length]! : 1,
  });
  return {
    name,
    minTrainingPoints,
    fit(y, maxEvaluations) {
      const init = initialState(y, periods, window);
      const result = minimizeBounded((v) => runFilter(y, periods, init, unpack(v), [], 0).sse, bounds, { maxEvaluations, relativeTolerance: 1e-7 });
      const params = unpack(result.values);
      return {
        name,
        parameters: result.parameters,
        // The initial state comes from the first seasons of the fitting data; any series that
        // shares that prefix (the backtest's) restarts from the same state.
        forecastFrom: (data, origins, horizon) => runFilter(data, periods, init, params, origins, horizon).forecasts,
      };
    },
  };
}

interface InitialState {
  /** Points the state was estimated from. */
  readonly window: number;
  readonly level: number;
  readonly trend: number;
  readonly seasons: readonly Float64Array[];
}

/**
 * Start from a line fitted jointly with the longest season's phase means over the first
 * `window` points (see fitSeasonalLine: a line alone is tilted by the season): its slope is
 * the trend, the mean of the phase means the level, and the phase means minus the level are
 * split into the daily season (mean per daily phase) and what the weekly one adds, each
 * centred on zero.
 */
function initialState(y: Float64Array, periods: readonly number[], window: number): InitialState {
  const longest = periods[periods.length - 1] ?? 1;
  const { slope, profile } = fitSeasonalLine(y, 0, window, longest);
  const level = profile.reduce((a, b) => a + b, 0) / longest;
  const residual = profile.map((p) => p - level);
  const seasons: Float64Array[] = [];
  for (const period of periods) {
    const season = new Float64Array(period);
    for (let j = 0; j < longest; j++) season[j % period]! += residual[j]! / (longest / period);
    let mean = 0;
    for (let j = 0; j < period; j++) mean += season[j]! / period;
    for (let j = 0; j < period; j++) season[j] = season[j]! - mean;
    // The next (longer) season models what this one leaves.
    for (let j = 0; j < longest; j++) residual[j] = residual[j]! - season[j % period]!;
    seasons.push(season);
  }
  // Level and trend as they stood one step before the first point.
  return { window, level: level - slope, trend: slope, seasons };
}

function runFilter(y: Float64Array, periods: readonly number[], init: InitialState, p: HoltWintersParameters, origins: readonly number[], horizon: number): { sse: number; forecasts: Float64Array[] } {
  const k = periods.length;
  const seasons = init.seasons.map((s) => Float64Array.from(s));
  let level = init.level;
  let trend = init.trend;
  let sse = 0;
  const forecasts: Float64Array[] = [];
  let nextOrigin = 0;
  const end = origins.length > 0 ? Math.min(y.length, origins[origins.length - 1]!) : y.length;
  const old = new Float64Array(k);
  // Cumulative damped trend multipliers phi + ... + phi^h, computed once.
  const damping = new Float64Array(horizon + 1);
  for (let h = 1, power = 1; h <= horizon; h++) {
    power *= p.phi;
    damping[h] = damping[h - 1]! + power;
  }
  const emit = (t: number) => {
    while (nextOrigin < origins.length && origins[nextOrigin] === t) {
      const out = new Float64Array(horizon);
      for (let h = 1; h <= horizon; h++) {
        let value = level + damping[h]! * trend;
        for (let i = 0; i < k; i++) value += seasons[i]![(t + h - 1) % periods[i]!]!;
        out[h - 1] = value;
      }
      forecasts.push(out);
      nextOrigin++;
    }
  };
  for (let t = 0; t < end; t++) {
    emit(t);
    let seasonal = 0;
    for (let i = 0; i < k; i++) {
      old[i] = seasons[i]![t % periods[i]!]!;
      seasonal += old[i]!;
    }
    const damped = p.phi * trend;
    const error = y[t]! - (level + damped + seasonal);
    // The initial state was estimated from the first `window` points: their errors are in-sample and would favour rigid seasons.
    if (t >= init.window) sse += error * error;
    const previous = level;
    level = p.alpha * (y[t]! - seasonal) + (1 - p.alpha) * (previous + damped);
    trend = p.beta * (level - previous) + (1 - p.beta) * damped;
    for (let i = 0; i < k; i++) {
      const others = seasonal - old[i]!;
      seasons[i]![t % periods[i]!] = p.gammas[i]! * (y[t]! - level - others) + (1 - p.gammas[i]!) * old[i]!;
    }
  }
  emit(end);
  return { sse, forecasts };
}
