import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/index.ts';
import { resolveRatingConfig } from './config.ts';
import type { RatingProcessor } from './processor.ts';
import { createRatingScheduler } from './scheduler.ts';
import { loadServiceDefinitions } from './services.ts';

const idle: RatingProcessor = { rateNow: async () => ({ periods: 0, frames: 0, unpriced: 0, reprocesses: 0, until: new Date(0) }) };
const services = loadServiceDefinitions();
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return [(err as { code?: string }).code, (err as Error).message];
  }
  return undefined;
};

describe('rating schedule and settings', () => {
  it('has a lifecycle whose stop is idempotent and safe before start', async () => {
    const scheduler = createRatingScheduler({}, { processor: idle, logger: silentLogger() });
    await scheduler.stop();
    await scheduler.start();
    await scheduler.start();
    await scheduler.stop();
    await scheduler.stop();
  });

  it('refuses settings out of range, naming the key', () => {
    expect(codeOf(() => createRatingScheduler({ schedule: 'every hour' }, { processor: idle, logger: silentLogger() }))).toEqual(['CUMULUS_RATING_CONFIG_INVALID', expect.stringContaining('rating.schedule')]);
    expect(codeOf(() => resolveRatingConfig({ services, periodSeconds: 7000 }))).toEqual(['CUMULUS_RATING_CONFIG_INVALID', expect.stringContaining('rating.periodSeconds')]);
    expect(codeOf(() => resolveRatingConfig({ services, settleDelayMs: -1 }))).toEqual(['CUMULUS_RATING_CONFIG_INVALID', expect.stringContaining('rating.settleDelayMs')]);
    expect(codeOf(() => resolveRatingConfig({ services, firstPeriod: new Date(Date.UTC(2026, 0, 1, 0, 30)) }))).toEqual(['CUMULUS_RATING_CONFIG_INVALID', expect.stringContaining('rating.firstPeriod')]);
    expect(resolveRatingConfig({ services, periodSeconds: 900 })).toMatchObject({ periodMs: 900_000, settleDelayMs: 600_000 });
  });
});
