import { describe, expect, it } from 'vitest';
import { DEFAULT_LOAD_MODEL, demand, diurnal, growth, weekly } from './load-model.ts';
import { SeededRandom } from './random.ts';

const WEDNESDAY = Date.parse('2026-11-18T00:00:00Z');
const SATURDAY = Date.parse('2026-11-21T00:00:00Z');
const HOUR = 3_600_000;

describe('load model', () => {
  it('peaks mid-afternoon and bottoms out before dawn', () => {
    expect(diurnal(DEFAULT_LOAD_MODEL, WEDNESDAY + 14 * HOUR)).toBeCloseTo(1, 9);
    expect(diurnal(DEFAULT_LOAD_MODEL, WEDNESDAY + 2 * HOUR)).toBeCloseTo(DEFAULT_LOAD_MODEL.nightFloor, 9);
    expect(diurnal(DEFAULT_LOAD_MODEL, WEDNESDAY + 9 * HOUR)).toBeGreaterThan(diurnal(DEFAULT_LOAD_MODEL, WEDNESDAY + 5 * HOUR));
  });

  it('is quieter at weekends', () => {
    expect(weekly(DEFAULT_LOAD_MODEL, WEDNESDAY)).toBe(1);
    expect(weekly(DEFAULT_LOAD_MODEL, SATURDAY)).toBe(DEFAULT_LOAD_MODEL.weekendFactor);
    expect(demand(DEFAULT_LOAD_MODEL, SATURDAY + 14 * HOUR, SATURDAY)).toBeLessThan(demand(DEFAULT_LOAD_MODEL, WEDNESDAY + 14 * HOUR, WEDNESDAY));
  });

  it('grows by the monthly rate, compounded', () => {
    expect(growth(DEFAULT_LOAD_MODEL, WEDNESDAY + 30 * 24 * HOUR, WEDNESDAY)).toBeCloseTo(1 + DEFAULT_LOAD_MODEL.monthlyGrowth, 9);
    expect(growth(DEFAULT_LOAD_MODEL, WEDNESDAY + 60 * 24 * HOUR, WEDNESDAY)).toBeCloseTo((1 + DEFAULT_LOAD_MODEL.monthlyGrowth) ** 2, 9);
  });
});

describe('seeded random', () => {
  it('repeats the same sequence for the same seed, and differs for another', () => {
    const a = new SeededRandom(7);
    const b = new SeededRandom(7);
    const c = new SeededRandom(8);
    const seq = (r: SeededRandom) => Array.from({ length: 20 }, () => r.next());
    const first = seq(a);
    expect(seq(b)).toEqual(first);
    expect(seq(c)).not.toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('draws Poisson counts with the right mean and weighted choices in proportion', () => {
    const r = new SeededRandom(1);
    const n = 20_000;
    let total = 0;
    for (let i = 0; i < n; i++) total += r.poisson(0.5);
    expect(total / n).toBeGreaterThan(0.47);
    expect(total / n).toBeLessThan(0.53);
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < n; i++) counts[r.weighted([['a', 3], ['b', 1]] as const)]++;
    expect(counts.a / n).toBeGreaterThan(0.72);
    expect(counts.a / n).toBeLessThan(0.78);
  });
});
