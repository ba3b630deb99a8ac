import { parseArgs } from 'node:util';
import { DEFAULT_SIMULATOR_CONFIG, TenantSimulator, type SimulationSummary } from '../cloud/simulator/index.ts';
import { WarpClock, type CumulusConfig, type Logger } from '../core/index.ts';
import { injectClient } from './inject-client.ts';
import { startPlatform, type Platform } from './platform.ts';

const DAY_MS = 86_400_000;

/** What the rating processor did during a warp (rated periods, stored frames, frames no rule priced). */
export interface RatingTally {
  periods: number;
  frames: number;
  unpriced: number;
}

export interface SimulateOptions {
  days: number;
  seed: number;
  tenants: number;
  /**
   * When the warped history ends (Unix ms; default: now). The seeded tenants follow the
   * time of day, so a fixed end (a midnight, say) gives the same history on every run.
   */
  endMs?: number;
  /**
   * Rate each settled hour as the warp goes, as `cumulus up`'s schedule would (default
   * true). A warp that only needs the history (the capacity forecasts' test) skips it: the
   * rating of an hour costs more than the hour's simulation.
   */
  rate?: boolean;
}

export function parseSimulateOptions(values: { days?: string; seed?: string; tenants?: string }, defaults: SimulateOptions): SimulateOptions {
  const whole = (name: string, text: string | undefined, fallback: number, min: number) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number >= ${min}, got "${text}"`);
    return n;
  };
  return { days: whole('days', values.days, defaults.days, 0), seed: whole('seed', values.seed, defaults.seed, 0), tenants: whole('tenants', values.tenants, defaults.tenants, 1) };
}

/** A progress bar on stderr, redrawn at most every 200 ms. */
function progressBar(label: string): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (done < total && now - last < 200) return;
    last = now;
    const width = 32;
    const filled = Math.round((done / total) * width);
    process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round((done / total) * 100)}% (${done}/${total} steps)${done >= total ? '\n' : ''}`);
  };
}

/**
 * Builds `days` of history ending now: the platform runs on a warped clock while the
 * seeded tenants play the APIs, and every notification goes through the collectors and
 * the pipeline into the store. Returns the platform on real time again.
 */
export async function warp(platform: Platform, clock: WarpClock, options: SimulateOptions, logger: Logger): Promise<{ simulator: TenantSimulator; summary: SimulationSummary; startMs: number; rating: RatingTally }> {
  const rating: RatingTally = { periods: 0, frames: 0, unpriced: 0 };
  const rate = async (until: number) => {
    const run = await platform.rateNow(new Date(until));
    rating.periods += run.periods;
    rating.frames += run.frames;
    rating.unpriced += run.unpriced;
  };
  const simulator = new TenantSimulator(
    { ...DEFAULT_SIMULATOR_CONFIG, seed: options.seed, tenants: options.tenants },
    {
      api: injectClient(platform.app),
      setTime: (ms) => clock.set(ms),
      settle: () => platform.drain(120_000),
      everyHour: async (start, end) => {
        await platform.periodic.hourly(start, end);
        // Ceilometer polls every 10 minutes; an hourly poll keeps a warp quick and the counters' shape.
        await platform.pollster?.poll();
        // Placement's inventories and usages once an hour too: the capacity forecasts read hourly means.
        await platform.placementPollster?.poll();
        // Rate as the hours go by, as `cumulus up`'s schedule would: each settled hour once.
        if (options.rate !== false) await rate(end.getTime());
      },
      onProgress: progressBar(`simulating ${options.days} day(s)`),
      logger,
      adminPassword: platform.adminPassword,
    },
  );
  const endMs = options.endMs ?? Date.now();
  const startMs = endMs - options.days * DAY_MS;
  const summary = options.days > 0 ? await simulator.run(startMs, endMs) : { steps: 0, serversCreated: 0, serversDeleted: 0, resizes: 0, failedLogins: 0, quotaRefusals: 0, apiErrors: 0 };
  // The last hours settle on the warped clock before it goes back to real time.
  if (options.days > 0) {
    await platform.drain(120_000);
    if (options.rate !== false) await rate(endMs);
  }
  clock.reset();
  return { simulator, summary, startMs, rating };
}

/** `cumulus simulate`: warp, report, stop. */
export async function simulateCommand(config: CumulusConfig, options: SimulateOptions, logger: Logger): Promise<SimulationSummary> {
  const clock = new WarpClock();
  const platform = await startPlatform(config, { clock, logger, buildDelayMs: 0, periodicTasks: false, computePollster: false, placementPollster: false });
  try {
    const started = Date.now();
    const { summary, rating } = await warp(platform, clock, options, logger);
    const stored = await platform.store.query<{ n: string }>({ sql: 'SELECT count() AS n FROM measures' });
    process.stdout.write(
      [
        `simulated ${options.days} day(s) with ${options.tenants} tenant(s), seed ${options.seed}, in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        `  steps ${summary.steps}, servers created ${summary.serversCreated}, deleted ${summary.serversDeleted}, resizes ${summary.resizes}`,
        `  failed logins ${summary.failedLogins}, quota refusals ${summary.quotaRefusals}, failed API calls ${summary.apiErrors}`,
        `  rated ${rating.periods} period(s): ${rating.frames} frame(s) stored, ${rating.unpriced} without a price (set prices with cloudkitty hashmap, then reprocess)`,
        `  measures in the store: ${Number(stored[0]?.n ?? 0).toLocaleString('en-US')} (data in ${config.dataDir})`,
      ].join('\n') + '\n',
    );
    return summary;
  } finally {
    await platform.stop();
  }
}
