import { describe, expect, it } from 'vitest';
import { PyFloat, PythonValueError, pyEquals, pyFloat, pyFloatRepr, pyInt, pySplit, pyStr, pyTruncate } from './python-values.ts';

// Expected values are CPython 3.11's own output for the same inputs.
describe('Python value semantics', () => {
  it.each([
    [0.1, '0.1'],
    [1e16, '1e+16'],
    [1.5e16, '1.5e+16'],
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [123456789.125, '123456789.125'],
    [1e22, '1e+22'],
    [-2.5e-7, '-2.5e-07'],
    [100, '100.0'],
    [1 / 3, '0.3333333333333333'],
    [2 ** 53, '9007199254740992.0'],
    [-0, '-0.0'],
  ])('repr(float %s) is %s', (value, expected) => {
    expect(pyFloatRepr(value)).toBe(expected);
  });

  it('str() of JSON values reads like Python', () => {
    expect(pyStr({ a: [1, 2.5, null, true], b: "it's", c: 'x"y\'', d: '\n\t\x01é' })).toBe(`{'a': [1, 2.5, None, True], 'b': "it's", 'c': 'x"y\\'', 'd': '\\n\\t\\x01é'}`);
    expect(pyStr(false)).toBe('False');
    expect(pyStr(12)).toBe('12');
    expect(pyStr(0.5)).toBe('0.5');
    expect(pyStr(new PyFloat(3600))).toBe('3600.0');
    expect(pyStr(2 ** 60)).toBe('1152921504606846976');
  });

  it.each([
    ['3', 3],
    [' 3 ', 3],
    ['+3', 3],
    ['-0', 0],
    ['1_000', 1000],
    [true, 1],
    [2.7, 2],
    [-2.7, -2],
  ])('int(%j) is %j', (value, expected) => {
    expect(Object.is(pyInt(value), expected)).toBe(true);
  });

  it.each(['3.0', '', '0x10', '1__0', '_1', 'three'])('int(%j) raises', (value) => {
    expect(() => pyInt(value)).toThrow(PythonValueError);
  });

  it('int() of a list or a dict raises', () => {
    expect(() => pyInt([1])).toThrow(/not 'list'/);
    expect(() => pyInt({})).toThrow(/not 'dict'/);
  });

  it.each([
    ['3.0', 3],
    [' 1e3 ', 1000],
    ['.5', 0.5],
    ['5.', 5],
    ['1_0.5', 10.5],
    [true, 1],
    [7, 7],
  ])('float(%j) is %j', (value, expected) => {
    expect(pyFloat(value)).toBe(expected);
  });

  it.each(['1e', '.', '0x10', '1_e3', 'inf', '-Infinity', 'nan'])('float(%j) is refused (not a number, or not finite)', (value) => {
    expect(() => pyFloat(value)).toThrow(PythonValueError);
  });

  it('compares like Python: True == 1 == 1.0, deep lists and dicts', () => {
    expect(pyEquals(true, 1)).toBe(true);
    expect(pyEquals(1, new PyFloat(1))).toBe(true);
    expect(pyEquals('1', 1)).toBe(false);
    expect(pyEquals({ a: [1, { b: true }] }, { a: [1, { b: 1 }] })).toBe(true);
    expect(pyEquals({ a: 1 }, { a: 1, b: 2 })).toBe(false);
  });

  it('splits like str.split(sep, maxsplit) and crops by code points', () => {
    expect(pySplit('a.b.c', '.', 1)).toEqual(['a', 'b.c']);
    expect(pySplit('a.b.c', '.', 0)).toEqual(['a.b.c']);
    expect(pySplit('a.b.c', '.', -1)).toEqual(['a', 'b', 'c']);
    expect(pyTruncate('🙂🙂🙂', 2)).toBe('🙂🙂');
  });
});
