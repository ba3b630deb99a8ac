/** The rating processor: usage per period from the metering data, rated once, reprocessed on request. Experimental. */
export { createRatingProcessor, type RatingProcessor, type RatingProcessorDeps, type RatingRun } from './processor.ts';
export { createRatingScheduler } from './scheduler.ts';
export { DEFAULT_RATING_PERIOD_SECONDS, DEFAULT_RATING_SCHEDULE, DEFAULT_SETTLE_DELAY_MS, type RatingProcessorConfig, type RatingSchedulerConfig } from './config.ts';
export { DEFAULT_SERVICES_FILE, loadServiceDefinitions, parseServiceDefinitions, type QuantitySource, type ServiceDefinition, type ServiceDefinitions, type ValueSource } from './services.ts';
export { extractFrames, QUANTITY_SCALE, type RatingPeriod, type ServiceUsageData } from './usage.ts';
export { collectUsage, collectUsageForPeriods } from './collect.ts';
export { RatingError, type RatingErrorCode } from './errors.ts';
export { createStatementJob, DEFAULT_STATEMENT_SCHEDULE, DEFAULT_STATEMENT_TIMEZONE, type StatementJob, type StatementJobConfig, type StatementJobDeps } from './statements-job.ts';
