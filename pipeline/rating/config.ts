import cron from 'node-cron';
import { DEFAULT_RATING_PERIOD_SECONDS } from '../../storage/index.ts';
import { RatingError } from './errors.ts';
import type { ServiceDefinitions } from './services.ts';

/** A period is rated once its end is this far in the past: samples and events still on their way land first. */
export const DEFAULT_SETTLE_DELAY_MS = 10 * 60 * 1000;
/** Hourly, a quarter past: the previous hour has settled (DEFAULT_SETTLE_DELAY_MS) by then. */
export const DEFAULT_RATING_SCHEDULE = '15 * * * *';
export { DEFAULT_RATING_PERIOD_SECONDS };
/** Periods read together at most: a span's rows are held in memory at once. */
export const MAX_SPAN_PERIODS = 1440;

/** The rating processor's settings. Experimental. */
export interface RatingProcessorConfig {
  /** Seconds per period (default 3600). Must match the reprocess store's. */
  readonly periodSeconds?: number;
  /** How long after its end a period may still receive data (default 10 min). */
  readonly settleDelayMs?: number;
  /** The services and tags (default: ./services.yaml). */
  readonly services: ServiceDefinitions;
  /**
   * The first period to rate when nothing was rated yet; default: the period of the
   * earliest usage in the metering data.
   */
  readonly firstPeriod?: Date;
  /**
   * Consecutive periods rated from one set of queries (default: a day's worth). Each
   * period still gets its own generation, insert and mark; only the reading is shared.
   */
  readonly spanPeriods?: number;
}

/** The scheduler's settings. Experimental. */
export interface RatingSchedulerConfig {
  /** A cron expression (node-cron, minute precision; default hourly at :15). */
  readonly schedule?: string;
}

export interface ResolvedRatingConfig {
  readonly periodMs: number;
  readonly settleDelayMs: number;
  readonly services: ServiceDefinitions;
  readonly firstPeriod: Date | undefined;
  readonly spanPeriods: number;
}

export function resolveRatingConfig(config: RatingProcessorConfig): ResolvedRatingConfig {
  const periodSeconds = config.periodSeconds ?? DEFAULT_RATING_PERIOD_SECONDS;
  if (!Number.isInteger(periodSeconds) || periodSeconds < 60 || 86_400 % periodSeconds !== 0) {
    throw new RatingError('CUMULUS_RATING_CONFIG_INVALID', `rating.periodSeconds: expected a whole number of seconds from 60 that divides a day (3600 = hourly), got ${periodSeconds}`);
  }
  const settleDelayMs = config.settleDelayMs ?? DEFAULT_SETTLE_DELAY_MS;
  if (!Number.isInteger(settleDelayMs) || settleDelayMs < 0) throw new RatingError('CUMULUS_RATING_CONFIG_INVALID', `rating.settleDelayMs: expected whole milliseconds >= 0, got ${settleDelayMs}`);
  const periodMs = periodSeconds * 1000;
  if (config.firstPeriod !== undefined && (Number.isNaN(config.firstPeriod.getTime()) || config.firstPeriod.getTime() % periodMs !== 0)) {
    throw new RatingError('CUMULUS_RATING_CONFIG_INVALID', `rating.firstPeriod: expected the start of a period (a multiple of ${periodSeconds} s since the epoch), got ${String(config.firstPeriod)}`);
  }
  const spanPeriods = config.spanPeriods ?? Math.max(1, Math.floor(86_400 / periodSeconds));
  if (!Number.isInteger(spanPeriods) || spanPeriods < 1 || spanPeriods > MAX_SPAN_PERIODS) {
    throw new RatingError('CUMULUS_RATING_CONFIG_INVALID', `rating.spanPeriods: expected a whole number of periods from 1 to ${MAX_SPAN_PERIODS}, got ${spanPeriods}`);
  }
  return { periodMs, settleDelayMs, services: config.services, firstPeriod: config.firstPeriod, spanPeriods };
}

export function resolveSchedule(config: RatingSchedulerConfig): string {
  const schedule = config.schedule ?? DEFAULT_RATING_SCHEDULE;
  if (!cron.validate(schedule)) throw new RatingError('CUMULUS_RATING_CONFIG_INVALID', `rating.schedule: expected a cron expression (e.g. "15 * * * *"), got ${JSON.stringify(schedule)}`);
  return schedule;
}
