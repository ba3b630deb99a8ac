/**
 * The rating processor: rates each closed period of metering data exactly once, catches
 * up after downtime, and re-rates periods when a reprocess is requested. Experimental API.
 *
 * Exactly once, without a distributed transaction: a period's generation (1 for its first
 * rating, +1 per reprocess) and that generation's `rated_at` are recorded in SQLite before
 * anything is written; the frames are deterministic for the same data and rules; they go to
 * `rated_usage` with the deduplication token `rated_usage:<period start>:<generation>:<rated_at>`; only
 * then is the period marked rated. A crash anywhere in between leaves the period pending,
 * and the next run resumes it with the same generation and `rated_at`: ClickHouse drops the
 * repeated insert, and had it not, the same keys with the same `rated_at` collapse under
 * FINAL. Nothing is counted twice and no period is skipped.
 */
import type { Clock, ComponentTelemetry, Logger } from '../../core/index.ts';
import {
  deleteSupersededRatedUsage,
  frameAmount,
  RATED_USAGE_TABLE,
  ratedUsageRow,
  selectFirstUsage,
  type ClickHouseDriver,
  type RatedFrame,
  type Rater,
  type RatingPeriodState,
  type ReprocessStore,
  type UsageFrame,
} from '../../storage/index.ts';
import { collectUsageForPeriods } from './collect.ts';
import { resolveRatingConfig, type RatingProcessorConfig, type ResolvedRatingConfig } from './config.ts';
import { RatingError } from './errors.ts';
import type { RatingPeriod } from './usage.ts';

export interface RatingProcessorDeps {
  readonly store: ClickHouseDriver;
  /** Period state and reprocess requests (storage/rating/reprocess-store.ts). */
  readonly periods: ReprocessStore;
  /** The rules in force; asked once per period rated, so a rule change applies from the next one. */
  rater(): Rater;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly telemetry?: ComponentTelemetry;
}

/** What one run did. */
export interface RatingRun {
  /** Generations written: first ratings, resumed ones and re-ratings. */
  readonly periods: number;
  /** Rated frames written. */
  readonly frames: number;
  /** Frames no rule priced (not stored). */
  readonly unpriced: number;
  /** Reprocess requests finished. */
  readonly reprocesses: number;
  /** Periods ending at or before this instant are rated. */
  readonly until: Date;
}

export interface RatingProcessor {
  /**
   * Rates what is due: periods left pending by an interrupted run, open reprocess requests,
   * then every closed and settled period not rated yet, oldest first. `until` lowers the
   * limit (never raises it past now - settle delay: the current period and one whose data
   * may still arrive are never rated). Runs are serialized.
   */
  rateNow(until?: Date): Promise<RatingRun>;
}

const NO_FIRST_USAGE = 4_294_967_295;

export function createRatingProcessor(config: RatingProcessorConfig, deps: RatingProcessorDeps): RatingProcessor {
  const settings: ResolvedRatingConfig = resolveRatingConfig(config);
  if (deps.periods.periodSeconds * 1000 !== settings.periodMs) {
    throw new RatingError('CUMULUS_RATING_CONFIG_INVALID', `rating.periodSeconds: expected the reprocess store's period (${deps.periods.periodSeconds} s), got ${settings.periodMs / 1000} s`);
  }
  const { store, periods, clock, logger } = deps;
  const periodMs = settings.periodMs;

  /** Prices frames; keeps the cost to the frame scale, the rater's other fields as given. */
  function price(frames: readonly UsageFrame[], rater: Rater): { rated: RatedFrame[]; unpriced: number } {
    const rated: RatedFrame[] = [];
    let unpriced = 0;
    for (const frame of frames) {
      const result = rater.rate(frame);
      if (result === null) unpriced += 1;
      else rated.push({ ...result, cost: frameAmount(result.cost) });
    }
    return { rated, unpriced };
  }

  /** Writes one generation of one period from its frames, then marks it rated. Order matters; see the file's comment. */
  async function writeGeneration(state: RatingPeriodState, frames: readonly UsageFrame[], started: number): Promise<{ frames: number; unpriced: number }> {
    const period: RatingPeriod = { start: state.periodStart, end: state.periodEnd };
    // 1. the generation and its rated_at were fixed in SQLite by the caller (beginPeriod /
    //    beginRegeneration) before anything is written.
    // 2. price: deterministic for the same data and rules.
    const { rated, unpriced } = price(frames, deps.rater());
    // 3. insert under the generation's token (its rated_at in it: a state store started
    //    afresh never collides with an old one's inserts): a retry is dropped by ClickHouse.
    if (rated.length > 0) {
      await store.insert(
        RATED_USAGE_TABLE,
        rated.map((frame) => ratedUsageRow(frame, state.ratedAt)),
        { dedupToken: `rated_usage:${state.periodStart.toISOString()}:${state.generation}:${state.ratedAt.getTime()}` },
      );
    }
    // 4. a re-rating clears what the older generations wrote and this one did not rewrite
    //    (after the insert: readers never see the period empty).
    if (state.generation > 1) await store.command(deleteSupersededRatedUsage({ range: { from: period.start, to: period.end }, ratedAt: state.ratedAt, scope: state.scope }));
    // 5. only now is the period rated (and its reprocess request moved on).
    periods.completePeriod(state.periodStart, state.generation, rated.length, clock.now());
    deps.telemetry?.accepted(rated.length);
    deps.telemetry?.dropped(unpriced);
    deps.telemetry?.observeBatch(clock.nowMs() - started);
    logger.info({ period: state.periodStart.toISOString(), generation: state.generation, frames: rated.length, unpriced, scope: state.scope }, 'rated a period');
    return { frames: rated.length, unpriced };
  }

  /**
   * Rates begun generations: consecutive ones of the same scope share one set of queries
   * (at most a span's worth), then each is written and marked on its own, so a crash
   * leaves every unmarked one pending with its own generation and token.
   */
  async function rateGenerations(states: readonly RatingPeriodState[]): Promise<Array<{ frames: number; unpriced: number }>> {
    const results: Array<{ frames: number; unpriced: number }> = [];
    let i = 0;
    while (i < states.length) {
      const first = states[i] as RatingPeriodState;
      const run: RatingPeriodState[] = [first];
      const scope = JSON.stringify(first.scope);
      while (run.length < settings.spanPeriods && i + run.length < states.length) {
        const next = states[i + run.length] as RatingPeriodState;
        const previous = run[run.length - 1] as RatingPeriodState;
        if (next.periodStart.getTime() !== previous.periodEnd.getTime() || JSON.stringify(next.scope) !== scope) break;
        run.push(next);
      }
      const started = clock.nowMs();
      const frames = await collectUsageForPeriods(store, settings.services, run.map((state) => ({ start: state.periodStart, end: state.periodEnd })), first.scope);
      for (const [k, state] of run.entries()) results.push(await writeGeneration(state, frames[k] ?? [], started));
      i += run.length;
    }
    return results;
  }

  /** Where catch-up starts: after the last period begun, else the configured or the earliest usage's period. */
  async function nextPeriodStart(): Promise<number | null> {
    const last = periods.lastPeriod();
    if (last) return last.periodEnd.getTime();
    if (settings.firstPeriod) return settings.firstPeriod.getTime();
    const types = settings.services.services.filter((s) => s.quantity.kind !== 'lifetime').map((s) => s.resourceType);
    const createEvents = settings.services.services.flatMap((s) => (s.quantity.kind === 'lifetime' ? s.quantity.create : []));
    const [row] = await store.query<{ first_s: number | string }>(selectFirstUsage({ types, createEvents }));
    const first = Number(row?.first_s ?? NO_FIRST_USAGE);
    if (first >= NO_FIRST_USAGE) return null;
    return Math.floor((first * 1000) / periodMs) * periodMs;
  }

  async function run(until: Date | undefined): Promise<RatingRun> {
    const settled = clock.nowMs() - settings.settleDelayMs;
    const limit = Math.min(settled, until?.getTime() ?? settled);
    const totals = { periods: 0, frames: 0, unpriced: 0, reprocesses: 0 };
    const add = (result: { frames: number; unpriced: number }) => {
      totals.periods += 1;
      totals.frames += result.frames;
      totals.unpriced += result.unpriced;
    };

    // 1. generations an interrupted run left pending: the same generation, the same rows.
    for (const result of await rateGenerations(periods.pendingPeriods())) add(result);

    // 2. reprocess requests, oldest first: each period of the window gets a new generation,
    //    begun a span at a time.
    for (const request of periods.openReprocesses()) {
      const resumeFrom = request.currentTime === null ? request.start.getTime() : Math.max(request.start.getTime(), request.currentTime.getTime() + periodMs);
      for (let spanStart = resumeFrom; spanStart < request.end.getTime(); spanStart += settings.spanPeriods * periodMs) {
        const begun: RatingPeriodState[] = [];
        for (let start = spanStart; start < Math.min(request.end.getTime(), spanStart + settings.spanPeriods * periodMs); start += periodMs) {
          const state = periods.beginRegeneration(new Date(start), request.id, clock.now());
          if (state) begun.push(state);
        }
        for (const result of await rateGenerations(begun)) add(result);
      }
      periods.finishReprocess(request.id, clock.now());
      totals.reprocesses += 1;
      logger.info({ reprocess: request.id, start: request.start.toISOString(), end: request.end.toISOString(), scope: request.scopeIds, reason: request.reason }, 'reprocess done');
    }

    // 3. catch up: every closed, settled period after the last one rated.
    let next = await nextPeriodStart();
    while (next !== null && next + periodMs <= limit) {
      const begun: RatingPeriodState[] = [];
      for (; next + periodMs <= limit && begun.length < settings.spanPeriods; next += periodMs) {
        const state = periods.beginPeriod(new Date(next), new Date(next + periodMs), clock.now());
        if (state.state === 'pending') begun.push(state);
      }
      for (const result of await rateGenerations(begun)) add(result);
    }
    return { ...totals, until: new Date(limit) };
  }

  // One run at a time: two interleaved runs could begin the same period twice.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    rateNow(until) {
      const result = queue.then(() => run(until));
      queue = result.catch(() => undefined);
      return result;
    },
  };
}
