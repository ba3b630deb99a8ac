import { describe, expect, it } from 'vitest';
import { fixedCompare, fixedPlus, fixedText, fixedTimes, parseFixed, type Fixed } from './fixed.ts';
import { Money } from './money.ts';

const f = (text: string) => parseFixed(text) as Fixed;

describe('fixed-point decimals on BigInt', () => {
  it('parses decimal text, exponents included, and refuses anything else', () => {
    expect(parseFixed('12')).toEqual({ units: 12n, scale: 0 });
    expect(parseFixed(' -0.50 ')).toEqual({ units: -50n, scale: 2 });
    expect(parseFixed('.25')).toEqual({ units: 25n, scale: 2 });
    expect(parseFixed('1e3')).toEqual({ units: 1000n, scale: 0 });
    expect(parseFixed('2.5E-4')).toEqual({ units: 25n, scale: 5 });
    for (const bad of ['', '.', 'abc', '1.2.3', '--1', '1e', 'NaN', 'Infinity']) expect(parseFixed(bad), bad).toBeNull();
  });

  it('multiplies, adds and compares exactly', () => {
    expect(fixedText(fixedTimes(f('0.034246914'), f('720')), 9)).toBe('24.657778080');
    expect(fixedText(fixedPlus(f('0.1'), f('0.2')), 9)).toBe('0.300000000');
    expect(fixedCompare(f('0.30'), f('0.3'))).toBe(0);
    expect(fixedCompare(f('-1'), f('0.000000001'))).toBe(-1);
    expect(fixedCompare(f('2e2'), f('199.999'))).toBe(1);
  });

  it('rounds half-even to the places asked, as decimal.js does, on a sweep of values', () => {
    const cases = ['0.0000000005', '0.0000000015', '0.0000000025', '-0.0000000005', '-0.0000000015', '1.23456789049999', '2.5', '3.5', '-2.5', '0', '-0.0000000001', '123456789.1234567895'];
    for (const text of cases) {
      for (const places of [0, 2, 9]) expect(fixedText(f(text), places), `${text} to ${places}`).toBe(new Money(text).toFixed(places, Money.ROUND_HALF_EVEN));
    }
    // Products with many digits, against decimal.js.
    let seed = 7;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648);
    for (let i = 0; i < 500; i++) {
      const a = `${next() % 1000}.${String(next() % 1_000_000).padStart(6, '0')}`;
      const b = `${next() % 100}.${String(next() % 1_000_000_000).padStart(9, '0')}`;
      expect(fixedText(fixedTimes(f(a), f(b)), 9), `${a} x ${b}`).toBe(new Money(a).times(b).toFixed(9, Money.ROUND_HALF_EVEN));
    }
  });
});
