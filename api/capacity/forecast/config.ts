import { CapacityError } from '../errors.ts';
import { MODEL_NAMES, type ModelName } from './models.ts';

/** Seconds in a day and a week: the two seasons every candidate model knows. */
export const DAY_SECONDS = 86_400;
export const WEEK_SECONDS = 7 * DAY_SECONDS;
/** The backtest holds out at most the last two weeks (issue 9: "last 1-2 weeks held out"). */
export const DEFAULT_HOLDOUT_SECONDS = 2 * WEEK_SECONDS;
/** The default holdout is at least this many points, whatever the step (two weeks of daily points are too few origins). */
export const MIN_DEFAULT_HOLDOUT_POINTS = 56;
/** The backtest needs at least one day held out to measure anything seasonal. */
export const MIN_HOLDOUT_SECONDS = DAY_SECONDS;
/** Objective evaluations per parameter fit (Nelder-Mead, restart included). */
export const DEFAULT_MAX_EVALUATIONS = 600;
/** MAPE is reported as undefined when an actual value is within this fraction of the mean absolute level from zero. */
export const MAPE_NEAR_ZERO_FRACTION = 0.05;

/** Forecast options (experimental). */
export interface ForecastOptions {
  /** How many steps to forecast after the last point. */
  readonly horizonPoints: number;
  /** Points held out at the end for the backtest; default min(2 weeks, what the models leave). */
  readonly holdoutPoints?: number;
  /** Restrict the candidates (default: all that the series' step and length allow). */
  readonly models?: readonly ModelName[];
  /** Objective evaluations per parameter fit. */
  readonly maxEvaluations?: number;
}

export interface ResolvedForecastOptions {
  readonly horizonPoints: number;
  readonly holdoutPoints: number | null;
  readonly models: readonly ModelName[];
  readonly maxEvaluations: number;
}

const positiveInteger = (key: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new CapacityError('CUMULUS_CAPACITY_CONFIG_INVALID', `${key} must be an integer in [1, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
};

const mustBeTwo = (value: number): number => {
  if (value < 2) throw new CapacityError('CUMULUS_CAPACITY_CONFIG_INVALID', `holdoutPoints must be at least 2 (the backtest forecasts half the holdout from each origin), got ${value}`);
  return value;
};

export function resolveForecastOptions(options: ForecastOptions): ResolvedForecastOptions {
  const models = options.models ?? MODEL_NAMES;
  for (const name of models) {
    if (!(MODEL_NAMES as readonly string[]).includes(name)) throw new CapacityError('CUMULUS_CAPACITY_CONFIG_INVALID', `models must name some of ${MODEL_NAMES.join(', ')}; got ${JSON.stringify(name)}`);
  }
  if (models.length === 0) throw new CapacityError('CUMULUS_CAPACITY_CONFIG_INVALID', `models must name at least one of ${MODEL_NAMES.join(', ')}`);
  return {
    horizonPoints: positiveInteger('horizonPoints', options.horizonPoints, 1_000_000),
    // Two points at least: the backtest forecasts half the holdout from each origin.
    holdoutPoints: options.holdoutPoints === undefined ? null : Math.max(positiveInteger('holdoutPoints', options.holdoutPoints), mustBeTwo(options.holdoutPoints)),
    models,
    maxEvaluations: options.maxEvaluations === undefined ? DEFAULT_MAX_EVALUATIONS : positiveInteger('maxEvaluations', options.maxEvaluations, 100_000),
  };
}
