import { describe, expect, it } from 'vitest';
import { normalDraw, seededRandom } from './synthetic.ts';
import { forecast, type ForecastPoint } from './forecast.ts';
import { extrapolateExhaustion, findExhaustion } from './exhaustion.ts';
import { projectGrowth } from './growth.ts';


const HOUR_MS = 3_600_000;
const START = Date.UTC(2026, 8, 7);
const HISTORY = 4 * 168;
/** Used RAM in GB: 100 growing 0.1 GB an hour, noise sigma 1; reaches 180 at hour 800, 128 h after the history ends. */
const linear = (t: number) => 100 + 0.1 * t;
const series = (seed: number, points = HISTORY) => {
  const random = seededRandom(seed);
  return { startMs: START, stepSeconds: 3600, values: Array.from({ length: points }, (_, t) => linear(t) + normalDraw(random)) };
};
const point = (i: number, value: number, spread = 0): ForecastPoint => ({ atMs: i * 1000, value, lower80: value - spread, upper80: value + spread, lower95: value - 2 * spread, upper95: value + 2 * spread });

describe('findExhaustion', () => {
  it('interpolates the crossing between steps and bounds it by the interval crossings', () => {
    const points = [point(1, 10, 1), point(2, 20, 1), point(3, 30, 1), point(4, 40, 1)];
    // value 25 is halfway between steps 2 and 3; upper95 (value + 2) reaches 25 at 2.3; lower95 (value - 2) at 2.7.
    expect(findExhaustion(points, 25)).toEqual({ status: 'within-horizon', atMs: 2500, earliestMs: 2300, latestMs: 2700, latestAfterHorizon: false, level: 95 });
    expect(findExhaustion(points, 25, { level: 80 })).toMatchObject({ earliestMs: 2400, latestMs: 2600, level: 80 });
  });

  it('follows a limit that changes over time (capacity added), as an array or a function', () => {
    const points = [point(1, 10), point(2, 20), point(3, 30), point(4, 40)];
    // 25 until step 3, then 35 (a new host): crossing moves to between steps 3 (gap -5) and 4 (gap 5).
    expect(findExhaustion(points, [25, 25, 35, 35]).atMs).toBe(3500);
    expect(findExhaustion(points, (atMs) => (atMs >= 3000 ? 35 : 25)).atMs).toBe(3500);
    expect(() => findExhaustion(points, [25])).toThrow(expect.objectContaining({ code: 'CUMULUS_CAPACITY_CONFIG_INVALID', message: expect.stringMatching(/one value per forecast point \(4\), got 1/) }));
  });

  it('says now, or not within the horizon', () => {
    const points = [point(1, 10, 1), point(2, 20, 1)];
    expect(findExhaustion(points, 5, { lastObserved: { atMs: 0, value: 6 } })).toMatchObject({ status: 'now', atMs: 0 });
    expect(findExhaustion(points, 100)).toEqual({ status: 'not-within-horizon', atMs: null, earliestMs: null, latestMs: null, latestAfterHorizon: true, level: 95 });
    // The upper bound alone reaches 21.5: only an earliest date, the latest is after the horizon.
    expect(findExhaustion(points, 21.5)).toMatchObject({ status: 'not-within-horizon', atMs: null, earliestMs: 1950, latestMs: null, latestAfterHorizon: true });
  });

  it('finds the exhaustion date of a known linear trend from a forecast within 12 hours, inside its interval', () => {
    const truthMs = START + 800 * HOUR_MS;
    for (const seed of [1, 2]) {
      const s = series(seed);
      const result = forecast(s, { horizonPoints: 2 * 168 });
      const exhaustion = findExhaustion(result.points, 180, { lastObserved: result.lastObserved });
      expect(exhaustion.status).toBe('within-horizon');
      expect(Math.abs(exhaustion.atMs! - truthMs)).toBeLessThanOrEqual(12 * HOUR_MS);
      expect(exhaustion.earliestMs!).toBeLessThanOrEqual(truthMs);
      expect(exhaustion.latestMs!).toBeGreaterThanOrEqual(truthMs);
    }
  });
});

describe('extrapolateExhaustion', () => {
  it('extrapolates a linear trend far beyond the horizon within a day of the truth (55 days out), inside its interval', () => {
    // 300 is reached at hour 2000, 1328 h (55 days) after the last point.
    const truthMs = START + 2000 * HOUR_MS;
    const result = extrapolateExhaustion(series(3), 300);
    expect(result.slopePerDay).toBeCloseTo(2.4, 1);
    expect(Math.abs(result.atMs! - truthMs)).toBeLessThanOrEqual(24 * HOUR_MS);
    expect(result.earliestMs!).toBeLessThanOrEqual(truthMs);
    expect(result.latestMs!).toBeGreaterThanOrEqual(truthMs);
    expect(result.peakAtMs!).toBeLessThanOrEqual(result.atMs!);
  });

  it('says never for a flat or falling trend, and now when the peak is already over the limit', () => {
    const falling = { startMs: START, stepSeconds: 3600, values: Array.from({ length: 400 }, (_, t) => 500 - 0.1 * t) };
    expect(extrapolateExhaustion(falling, 600)).toMatchObject({ atMs: null, latestMs: null });
    expect(extrapolateExhaustion(falling, 400).atMs).toBe(START + 399 * HOUR_MS);
  });
});

describe('projectGrowth', () => {
  it('ranks projects by usage added per month, with percent and share of growth', () => {
    const weekly = (t: number) => (Math.floor(t / 24) % 7 >= 5 ? -5 : 2);
    const project = (id: string, slope: number, level: number) => ({ projectId: id, series: { startMs: START, stepSeconds: 3600, values: Array.from({ length: 3 * 168 }, (_, t) => level + slope * t + weekly(t)) } });
    const growth = projectGrowth([project('flat', 0, 50), project('small', 0.02, 100), project('big', 0.1, 200), project('shrinking', -0.05, 300)]);
    expect(growth.map((g) => g.projectId)).toEqual(['big', 'small', 'flat', 'shrinking']);
    const big = growth[0]!;
    // 0.1 an hour x 720 hours; the weekend dip must not tilt the slope.
    expect(big.slopePerMonth).toBeCloseTo(72, 6);
    expect(big.shareOfGrowth).toBeCloseTo(72 / (72 + 14.4), 6);
    // Mean over 3 weeks: 200 + 0.1 * 251.5 + mean weekly offset (5 days x 2 - 2 days x 5) / 7 = 225.15.
    expect(big.percentPerMonth).toBeCloseTo((100 * 72) / 225.15, 6);
    expect(growth[2]).toMatchObject({ projectId: 'flat', rank: 3, shareOfGrowth: null });
    expect(growth[2]!.slopePerMonth).toBeCloseTo(0, 9);
    expect(growth[3]!.slopePerMonth).toBeCloseTo(-36, 6);
  });

  it('refuses a project named twice', () => {
    const s = { startMs: START, stepSeconds: 3600, values: [1, 2, 3] };
    expect(() => projectGrowth([{ projectId: 'a', series: s }, { projectId: 'a', series: s }])).toThrow(expect.objectContaining({ code: 'CUMULUS_CAPACITY_SERIES_INVALID', message: expect.stringMatching(/projects\[1\].projectId a appears twice/) }));
  });
});
