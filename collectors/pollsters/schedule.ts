import type { Lifecycle, Logger } from '../../core/index.ts';

/** Runs `work` over `items`, at most `limit` at a time (a slow host or provider does not hold the others). */
export async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * A pollster's timer, as Ceilometer's periodic tasks run (run_immediately): one poll at
 * start, then one every interval; a tick that finds the previous poll still running is
 * skipped, not queued; stop() waits for a poll under way, so what it read reaches the
 * stream before the stream stops.
 */
export function periodicPoll(poll: () => Promise<unknown>, settings: { intervalMs: number; name: string; logger: Logger }): Lifecycle {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;
  const tick = () => {
    if (running) {
      settings.logger.warn({ intervalMs: settings.intervalMs }, `${settings.name}: the previous poll is still running; this tick is skipped`);
      return;
    }
    running = poll().finally(() => {
      running = null;
    });
  };
  return {
    async start() {
      if (timer) return;
      timer = setInterval(tick, settings.intervalMs);
      tick();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}
