import { describe, expect, it } from 'vitest';
import { pyArithmetic, pyCompare, pyEquals, pyFloat, pyInt, pyRepr, pySplit, pyStr, pythonRegex, PythonTypeError, truthy } from './python.ts';

describe('Python semantics on JSON values', () => {
  it('truthiness', () => {
    expect([null, undefined, false, 0, '', [], {}].map(truthy)).toEqual(Array(7).fill(false));
    expect([true, 1, -1, 'x', [0], { a: null }].map(truthy)).toEqual(Array(6).fill(true));
  });

  it('== and ordering', () => {
    expect(pyEquals(true, 1)).toBe(true);
    expect(pyEquals('1', 1)).toBe(false);
    expect(pyEquals({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBe(true);
    expect(pyCompare('b', 'a')).toBeGreaterThan(0);
    expect(pyCompare([1, 2], [1, 3])).toBeLessThan(0);
    expect(() => pyCompare('a', 1)).toThrow(PythonTypeError);
  });

  it('arithmetic, TypeError where Python raises it', () => {
    expect(pyArithmetic('+', 'a', 'b')).toBe('ab');
    expect(pyArithmetic('*', 'ab', 2)).toBe('abab');
    expect(pyArithmetic('*', 3, [1])).toEqual([1, 1, 1]);
    expect(pyArithmetic('+', true, 1)).toBe(2);
    expect(() => pyArithmetic('-', 'a', 'a')).toThrow(PythonTypeError);
    expect(() => pyArithmetic('+', 1, 'a')).toThrow(PythonTypeError);
  });

  it('float(), int(), str()', () => {
    expect(['4', ' 4.5 ', '1_000', '1e3', '.5', '-inf'].map(pyFloat)).toEqual([4, 4.5, 1000, 1000, 0.5, -Infinity]);
    expect(['', 'two', '1__0', '0x10', '1.'].map(pyFloat)).toEqual([undefined, undefined, undefined, undefined, 1]);
    expect([pyInt('42'), pyInt(' -3 '), pyInt('3.5'), pyInt(3.9), pyInt(true)]).toEqual([42, -3, undefined, 3, 1]);
    expect(() => pyInt([1])).toThrow(PythonTypeError);
    expect([pyStr(null), pyStr(true), pyStr(3), pyStr(0.5), pyStr(1e16 + 0.5), pyStr(1.5e-7)]).toEqual(['None', 'True', '3', '0.5', '1e+16', '1.5e-07']);
    expect(pyRepr({ a: ["it's", null] })).toBe(`{'a': ["it's", None]}`);
  });

  it('str.split with a limit', () => {
    expect(pySplit('a#b#c', '#', 1)).toEqual(['a', 'b#c']);
    expect(pySplit('a#b#c', '#', -1)).toEqual(['a', 'b', 'c']);
  });

  it('regular expressions: re.match anchoring, Python-only syntax, `.` and `$`', () => {
    const instance = pythonRegex('compute.instance.(?!create.start|update).*', true);
    expect(['compute.instance.create.end', 'compute.instance.exists'].every((e) => instance.test(e))).toBe(true);
    expect(['compute.instance.create.start', 'compute.instance.update', 'xcompute.instance.exists'].some((e) => instance.test(e))).toBe(false);
    expect(pythonRegex('(?P<kind>a|b)(?P=kind)$', true).test('aa\n')).toBe(true);
    expect(pythonRegex('a.b', true).test('a\nb')).toBe(false);
    expect(pythonRegex('(?i)VOLUME', true).test('volume.exists')).toBe(true);
    expect(() => pythonRegex('(?>a)', true)).toThrow(/atomic/);
  });
});
