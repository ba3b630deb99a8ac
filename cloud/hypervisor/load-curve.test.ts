import { describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, LoadCurve, WEEK_MS } from './load-curve.ts';

/** Simpson's rule with many steps: the reference the closed form must match. */
function numeric(f: (t: number) => number, a: number, b: number, steps = 20_000): number {
  const h = (b - a) / steps;
  let sum = f(a) + f(b);
  for (let i = 1; i < steps; i++) sum += (i % 2 === 0 ? 2 : 4) * f(a + i * h);
  return (sum * h) / 3;
}

const WEDNESDAY = Date.parse('2026-01-07T00:00:00Z');
const SATURDAY = Date.parse('2026-01-10T00:00:00Z');

describe('LoadCurve', () => {
  const curve = new LoadCurve();

  it('peaks at 14:00 and bottoms at 04:00 on a weekday, lower on weekends', () => {
    expect(curve.at(WEDNESDAY + 14 * HOUR_MS)).toBe(1);
    expect(curve.at(WEDNESDAY + 4 * HOUR_MS)).toBe(0.25);
    for (let h = 0; h < 24; h += 0.5) {
      expect(curve.at(WEDNESDAY + h * HOUR_MS)).toBeLessThanOrEqual(1);
      expect(curve.at(WEDNESDAY + h * HOUR_MS)).toBeGreaterThanOrEqual(0.25);
    }
    expect(curve.at(SATURDAY + 14 * HOUR_MS)).toBeLessThan(curve.at(WEDNESDAY + 14 * HOUR_MS));
    expect(curve.integral(SATURDAY, SATURDAY + DAY_MS)).toBeLessThan(curve.integral(WEDNESDAY, WEDNESDAY + DAY_MS));
  });

  it('integrates exactly: the closed form matches numeric integration across days and weekends', () => {
    for (const [a, b] of [
      [WEDNESDAY + 3.3 * HOUR_MS, WEDNESDAY + 17.9 * HOUR_MS],
      [WEDNESDAY - 0.5 * HOUR_MS, WEDNESDAY + 0.5 * HOUR_MS],
      [SATURDAY - 30 * HOUR_MS, SATURDAY + 50 * HOUR_MS],
    ] as const) {
      // Split at midnights: Simpson's rule is exact on each linear piece but not across the weekday step.
      let reference = 0;
      for (let s = a; s < b; ) {
        const next = Math.min(b, (Math.floor(s / HOUR_MS) + 1) * HOUR_MS);
        reference += numeric((t) => curve.at(t), s, next, 4);
        s = next;
      }
      expect(curve.integral(a, b)).toBeCloseTo(reference, 3);
    }
  });

  it('is additive over any split, also across weeks and years', () => {
    const a = Date.parse('2024-02-29T13:13:13.131Z');
    const b = a + 3 * WEEK_MS + 5 * DAY_MS + 7_777_777;
    const c = b + 400 * DAY_MS + 123;
    expect(curve.integral(a, b) + curve.integral(b, c)).toBeCloseTo(curve.integral(a, c), 3);
    expect(curve.integral(a, a + WEEK_MS)).toBeCloseTo(curve.integral(c, c + WEEK_MS), 3);
  });

  it('follows the local time of a UTC offset', () => {
    const tokyo = new LoadCurve(9 * 60);
    // 14:00 in UTC+9 is 05:00 UTC.
    expect(tokyo.at(WEDNESDAY + 5 * HOUR_MS)).toBe(1);
    expect(tokyo.at(WEDNESDAY + 14 * HOUR_MS)).toBeLessThan(0.5);
  });
});
