/** api/capacity/forecast: pure forecasting math for capacity planning (experimental; no I/O). */
export { forecast, seasonsOf, type Backtest, type ForecastPoint, type ForecastResult, type ModelScore } from './forecast.ts';
export { DEFAULT_HOLDOUT_SECONDS, DEFAULT_MAX_EVALUATIONS, MAPE_NEAR_ZERO_FRACTION, type ForecastOptions } from './config.ts';
export { MODEL_NAMES, type ModelName } from './models.ts';
export { fillGaps, type FilledSeries, type GapReport, type RegularSeries } from './series.ts';
export { extrapolateExhaustion, findExhaustion, type CapacityLimit, type Exhaustion, type ExhaustionOptions, type TrendExhaustion } from './exhaustion.ts';
export { MONTH_SECONDS, projectGrowth, type ProjectGrowth, type ProjectUsage } from './growth.ts';
