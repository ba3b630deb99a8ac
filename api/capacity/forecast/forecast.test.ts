import { describe, expect, it } from 'vitest';
import { normalDraw, seededRandom } from './synthetic.ts';
import { forecast } from './forecast.ts';
import { fillGaps } from './series.ts';


const HOUR = 3600;
const WEEK_POINTS = 168;
const START = Date.UTC(2026, 8, 7); // a Monday 00:00 UTC
const SIGMA = 3;
/** Hourly usage: level 200, +0.05 per hour (8.4 a week), a daily sine of 20 and a weekend dip of 15. */
const truth = (t: number) => 200 + 0.05 * t + 20 * Math.sin((2 * Math.PI * (t % 24)) / 24) + (Math.floor(t / 24) % 7 >= 5 ? -15 : 0);
function synthetic(seed: number, points: number) {
  const random = seededRandom(seed);
  return Array.from({ length: points }, (_, t) => truth(t) + SIGMA * normalDraw(random));
}

describe('forecast: synthetic daily + weekly seasonality with trend and Gaussian noise (sigma 3)', () => {
  const history = 6 * WEEK_POINTS;
  const horizon = WEEK_POINTS;

  it('chooses a model that beats the seasonal naive baseline and tracks the noise-free truth within 0.6 sigma', () => {
    for (const seed of [1, 2, 3]) {
      const observed = synthetic(seed, history + horizon);
      const result = forecast({ startMs: START, stepSeconds: HOUR, values: observed.slice(0, history) }, { horizonPoints: horizon });
      const chosen = result.backtest.candidates.find((c) => c.model === result.model)!;
      expect(chosen.mase).toBeLessThan(1);
      expect(result.backtest.relativeToSeasonalNaive).toBeLessThan(1);
      for (const naive of result.backtest.candidates.filter((c) => c.model.startsWith('seasonal-naive'))) expect(chosen.mae).toBeLessThan(naive.mae);
      expect(chosen.mape).not.toBeNull();
      expect(result.points).toHaveLength(horizon);
      expect(result.points[0]!.atMs).toBe(START + history * HOUR * 1000);
      const maeToTruth = result.points.reduce((s, p, h) => s + Math.abs(p.value - truth(history + h)), 0) / horizon;
      expect(maeToTruth).toBeLessThan(0.6 * SIGMA);
    }
  });

  it('double-seasonal Holt-Winters alone has MASE < 0.6 and stays within 1 sigma of the truth a week ahead', () => {
    for (const seed of [1, 2, 3]) {
      const observed = synthetic(seed, history + horizon);
      const result = forecast({ startMs: START, stepSeconds: HOUR, values: observed.slice(0, history) }, { horizonPoints: horizon, models: ['holt-winters-double', 'seasonal-naive-weekly'] });
      const hw = result.backtest.candidates.find((c) => c.model === 'holt-winters-double')!;
      expect(hw.mase).toBeLessThan(0.6);
      expect(result.model).toBe('holt-winters-double');
      expect(Object.keys(result.parameters).sort()).toEqual(['alpha', 'beta', 'gamma_daily', 'gamma_weekly']);
      const maeToTruth = result.points.reduce((s, p, h) => s + Math.abs(p.value - truth(history + h)), 0) / horizon;
      expect(maeToTruth).toBeLessThan(SIGMA);
    }
  });

  it('95% intervals cover 90-99% and 80% intervals 70-90% of the held-out week (pooled over seeds)', () => {
    let in95 = 0;
    let in80 = 0;
    let total = 0;
    for (const seed of [11, 12, 13, 14]) {
      const observed = synthetic(seed, history + horizon);
      const result = forecast({ startMs: START, stepSeconds: HOUR, values: observed.slice(0, history) }, { horizonPoints: horizon });
      result.points.forEach((p, h) => {
        const actual = observed[history + h]!;
        expect(p.lower95).toBeLessThanOrEqual(p.lower80);
        expect(p.lower80).toBeLessThanOrEqual(p.upper80);
        expect(p.upper80).toBeLessThanOrEqual(p.upper95);
        if (actual >= p.lower95 && actual <= p.upper95) in95++;
        if (actual >= p.lower80 && actual <= p.upper80) in80++;
        total++;
      });
    }
    expect(in95 / total).toBeGreaterThanOrEqual(0.9);
    expect(in95 / total).toBeLessThanOrEqual(0.99);
    expect(in80 / total).toBeGreaterThanOrEqual(0.7);
    expect(in80 / total).toBeLessThanOrEqual(0.9);
  });

  it('works from 4 weeks: a shorter holdout, and intervals widen beyond the backtest horizon', () => {
    const observed = synthetic(21, 4 * WEEK_POINTS);
    const result = forecast({ startMs: START, stepSeconds: HOUR, values: observed }, { horizonPoints: 2 * WEEK_POINTS });
    expect(result.backtest.holdoutPoints).toBe(WEEK_POINTS);
    expect(result.backtest.horizonPoints).toBe(WEEK_POINTS / 2);
    expect(result.backtest.candidates.map((c) => c.model)).toContain('holt-winters-double');
    expect(result.notes.join('\n')).toMatch(/beyond 84 steps/);
    const width = (h: number) => result.points[h]!.upper95 - result.points[h]!.lower95;
    expect(width(2 * WEEK_POINTS - 1)).toBeGreaterThan(width(83));
    expect(result.backtest.relativeToSeasonalNaive).toBeLessThan(1);
  });

  it('fills gaps by interpolation, says so, and still forecasts', () => {
    const observed: (number | null)[] = synthetic(31, history);
    for (let t = 300; t < 310; t++) observed[t] = null;
    observed[500] = Number.NaN;
    const result = forecast({ startMs: START, stepSeconds: HOUR, values: observed }, { horizonPoints: 24 });
    expect(result.gaps).toMatchObject({ filled: 11, longestGap: 10, leading: 0, trailing: 0 });
    expect(result.notes[0]).toMatch(/11 of 1008 points were missing/);
    expect(result.points.every((p) => Number.isFinite(p.value))).toBe(true);
  });

  it('reports MAPE as undefined when actual values come near zero', () => {
    const random = seededRandom(41);
    const values = Array.from({ length: 4 * WEEK_POINTS }, (_, t) => Math.max(0, 10 * Math.sin((2 * Math.PI * t) / 24)) + 0.1 * normalDraw(random));
    const result = forecast({ startMs: START, stepSeconds: HOUR, values }, { horizonPoints: 24 });
    expect(result.backtest.candidates.every((c) => c.mape === null)).toBe(true);
    expect(result.backtest.mapeNote).toMatch(/MAPE undefined/);
  });

  it('refuses a series too short or bad options, naming what is needed', () => {
    expect(() => forecast({ startMs: START, stepSeconds: HOUR, values: synthetic(1, 20) }, { horizonPoints: 24 })).toThrow(expect.objectContaining({ code: 'CUMULUS_CAPACITY_SERIES_TOO_SHORT', message: expect.stringMatching(/has 20 points; forecasting needs at least 25 \(1 to train the simplest model and 24 held out/) }));
    expect(() => forecast({ startMs: START, stepSeconds: HOUR, values: synthetic(1, 500) }, { horizonPoints: 0 })).toThrow(expect.objectContaining({ code: 'CUMULUS_CAPACITY_CONFIG_INVALID', message: expect.stringMatching(/^horizonPoints must be an integer/) }));
    expect(() => forecast({ startMs: START, stepSeconds: HOUR, values: synthetic(1, 500) }, { horizonPoints: 24, holdoutPoints: 1 })).toThrow(expect.objectContaining({ code: 'CUMULUS_CAPACITY_CONFIG_INVALID', message: expect.stringMatching(/^holdoutPoints must be at least 2/) }));
    expect(() => forecast({ startMs: START, stepSeconds: 86_400, values: synthetic(1, 500) }, { horizonPoints: 24, models: ['holt-winters-double'] })).toThrow(expect.objectContaining({ code: 'CUMULUS_CAPACITY_CONFIG_INVALID', message: expect.stringMatching(/need a daily or weekly season, which a step of 86400 s does not have/) }));
    expect(() => forecast({ startMs: START, stepSeconds: HOUR, values: synthetic(1, 500) }, { horizonPoints: 24, models: ['prophet' as never] })).toThrow(expect.objectContaining({ code: 'CUMULUS_CAPACITY_CONFIG_INVALID', message: expect.stringMatching(/^models must name/) }));
  });
});

describe('forecast: other steps', () => {
  it('daily points: the weekly season and the trend still beat the naive baselines over a quarter', () => {
    const random = seededRandom(51);
    const daily = (d: number) => 500 + 2 * d + (d % 7 >= 5 ? -40 : 10);
    const values = Array.from({ length: 365 }, (_, d) => daily(d) + 5 * normalDraw(random));
    const result = forecast({ startMs: START, stepSeconds: 86_400, values }, { horizonPoints: 90 });
    expect(result.notes).toContain('no daily season: a step of 86400 s does not divide a day into 2 or more steps');
    expect(result.backtest.holdoutPoints).toBe(56);
    expect(result.backtest.scale.period).toBe(7);
    expect(['holt-winters-weekly', 'linear-trend-profile']).toContain(result.model);
    expect(result.backtest.relativeToSeasonalNaive).toBeLessThan(1);
    const maeToTruth = result.points.reduce((s, p, h) => s + Math.abs(p.value - daily(365 + h)), 0) / 90;
    expect(maeToTruth).toBeLessThan(2);
  });

  it('a step that divides neither day nor week falls back to trend models against the last-value baseline', () => {
    const values = Array.from({ length: 300 }, (_, t) => 10 + 0.5 * t + Math.sin(t));
    const result = forecast({ startMs: START, stepSeconds: 11 * 60, values }, { horizonPoints: 10 });
    expect(result.backtest.candidates.map((c) => c.model)).toEqual(['naive', 'holt-linear', 'linear-trend-profile']);
    expect(result.backtest.scale.period).toBe(1);
    expect(result.backtest.relativeToSeasonalNaive).toBeLessThan(1);
  });
});

describe('fillGaps', () => {
  it('interpolates inside, holds the nearest value at the edges', () => {
    const filled = fillGaps({ startMs: 0, stepSeconds: 60, values: [null, 2, null, null, 8, NaN, 10, null] });
    expect([...filled.values]).toEqual([2, 2, 4, 6, 8, 9, 10, 10]);
    expect(filled.gaps).toMatchObject({ filled: 5, longestGap: 2, leading: 1, trailing: 1 });
  });

  it('needs two known values', () => {
    expect(() => fillGaps({ startMs: 0, stepSeconds: 60, values: [null, 3, null] })).toThrow(expect.objectContaining({ code: 'CUMULUS_CAPACITY_SERIES_INVALID', message: expect.stringMatching(/at least 2 known/) }));
    expect(() => fillGaps({ startMs: 0, stepSeconds: 0, values: [1, 2] })).toThrow(expect.objectContaining({ code: 'CUMULUS_CAPACITY_SERIES_INVALID', message: expect.stringMatching(/stepSeconds/) }));
  });
});
