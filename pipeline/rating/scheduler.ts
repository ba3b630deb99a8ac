import cron from 'node-cron';
import { errorMessage, type Lifecycle, type Logger } from '../../core/index.ts';
import { resolveSchedule, type RatingSchedulerConfig } from './config.ts';
import type { RatingProcessor } from './processor.ts';

/**
 * Runs the rating processor on a cron schedule (node-cron; hourly at :15 by default). A
 * failed run is logged and left to the next tick, which resumes it: the processor's state
 * says what is pending. Experimental.
 */
export function createRatingScheduler(config: RatingSchedulerConfig, deps: { processor: RatingProcessor; logger: Logger }): Lifecycle {
  const schedule = resolveSchedule(config);
  let task: { stop(): void | Promise<void> } | null = null;
  let running: Promise<unknown> = Promise.resolve();

  const tick = () => {
    running = deps.processor
      .rateNow()
      .then((run) => {
        if (run.periods > 0) deps.logger.info({ periods: run.periods, frames: run.frames, unpriced: run.unpriced, reprocesses: run.reprocesses, until: run.until.toISOString() }, 'rating run done');
      })
      .catch((err: unknown) => deps.logger.warn({ err: errorMessage(err) }, 'rating run failed; the next run resumes it'));
    return running;
  };

  return {
    async start() {
      if (task) return;
      task = cron.schedule(schedule, tick);
    },
    async stop() {
      // Idempotent and safe before start; waits for a run in flight, which ends consistent.
      const current = task;
      task = null;
      if (current) await current.stop();
      await running;
    },
  };
}
