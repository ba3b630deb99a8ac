import { describe, expect, it } from 'vitest';
import { LineProtocolError, parseLineProtocol, type LinePoint } from './line-protocol.ts';

const one = (text: string, precision?: Parameters<typeof parseLineProtocol>[1]): LinePoint => {
  const points = parseLineProtocol(text, precision);
  expect(points).toHaveLength(1);
  return points[0] as LinePoint;
};
const plain = (p: LinePoint) => ({ ...p, tags: { ...p.tags }, fields: { ...p.fields } });

function failure(text: string): { line: number; column: number; expected: string } {
  try {
    parseLineProtocol(text);
  } catch (err) {
    expect(err).toBeInstanceOf(LineProtocolError);
    const e = err as LineProtocolError;
    return { line: e.line, column: e.column, expected: e.expected };
  }
  throw new Error(`no error for ${JSON.stringify(text)}`);
}

describe('parseLineProtocol', () => {
  it('reads measurement, tags, fields and timestamp', () => {
    expect(plain(one('cpu,host=controller-1,cpu=cpu0 usage_idle=97.5,usage_user=1.25 1510581804179554816'))).toEqual({
      measurement: 'cpu',
      tags: { host: 'controller-1', cpu: 'cpu0' },
      fields: { usage_idle: { kind: 'float', value: 97.5 }, usage_user: { kind: 'float', value: 1.25 } },
      timestampNs: 1510581804179554816n,
      line: 1,
    });
  });

  it('tells integer, unsigned, float, boolean and string fields apart', () => {
    const p = one('m f1=1,f2=-12i,f3=12u,f4=1.5e3,f5=.5,f6=-0.25,f7=t,f8=FALSE,f9=True,f10="text",f11=+3');
    expect({ ...p.fields }).toEqual({
      f1: { kind: 'float', value: 1 },
      f2: { kind: 'integer', value: -12 },
      f3: { kind: 'unsigned', value: 12 },
      f4: { kind: 'float', value: 1500 },
      f5: { kind: 'float', value: 0.5 },
      f6: { kind: 'float', value: -0.25 },
      f7: { kind: 'boolean', value: true },
      f8: { kind: 'boolean', value: false },
      f9: { kind: 'boolean', value: true },
      f10: { kind: 'string', value: 'text' },
      f11: { kind: 'float', value: 3 },
    });
  });

  it('unescapes commas, spaces, equals signs and backslashes in names, and keeps other backslashes', () => {
    const p = one('disk\\ io\\,x,path=C:\\\\temp,mount\\ point=/var\\ lib,a\\=b=c\\d r\\ead\\=s=1i');
    expect(p.measurement).toBe('disk io,x');
    expect({ ...p.tags }).toEqual({ path: 'C:\\temp', 'mount point': '/var lib', 'a=b': 'c\\d' });
    expect({ ...p.fields }).toEqual({ 'r\\ead=s': { kind: 'integer', value: 1 } });
    // Quotes in names are ordinary characters; = is part of a measurement.
    expect(one('"m"=x,"t"="v" "f"=1').measurement).toBe('"m"=x');
  });

  it('reads quoted strings with escaped quotes and backslashes, commas, spaces and even newlines', () => {
    const points = parseLineProtocol('log msg="say \\"hi\\", then \\\\ leave",n=1i 10\nlog msg="two\nlines" 20\nlog x=1 30');
    expect(points.map((p) => [p.line, { ...p.fields }, p.timestampNs])).toEqual([
      [1, { msg: { kind: 'string', value: 'say "hi", then \\ leave' }, n: { kind: 'integer', value: 1 } }, 10n],
      [2, { msg: { kind: 'string', value: 'two\nlines' } }, 20n],
      [4, { x: { kind: 'float', value: 1 } }, 30n],
    ]);
    // Another backslash inside a string is kept.
    expect(one('m s="a\\nb"').fields.s).toEqual({ kind: 'string', value: 'a\\nb' });
  });

  it('leaves the timestamp null when absent, and scales it by precision', () => {
    expect(one('m v=1').timestampNs).toBeNull();
    expect(one('m v=1   ').timestampNs).toBeNull();
    expect(one('m v=1 1510581804', 's').timestampNs).toBe(1510581804000000000n);
    expect(one('m v=1 1510581804179', 'ms').timestampNs).toBe(1510581804179000000n);
    expect(one('m v=1 5', 'us').timestampNs).toBe(5000n);
    expect(one('m v=1 2', 'h').timestampNs).toBe(7_200_000_000_000n);
    expect(one('m v=1 -1000').timestampNs).toBe(-1000n);
  });

  it('skips blank lines and comments, takes \\r\\n, and keeps the last of a repeated key', () => {
    const points = parseLineProtocol('\n# a comment\r\n  \r\nm,t=1,t=2 v=1,v=2 5\r\n\n');
    expect(points.map((p) => [p.line, { ...p.tags }, { ...p.fields }, p.timestampNs])).toEqual([[4, { t: '2' }, { v: { kind: 'float', value: 2 } }, 5n]]);
    expect(parseLineProtocol('')).toEqual([]);
  });

  it('refuses malformed lines, naming line, column and what was expected', () => {
    expect(failure('m v=1\nm')).toMatchObject({ line: 2, column: 2, expected: expect.stringMatching(/fields/) });
    expect(failure('m,host v=1')).toMatchObject({ line: 1, column: 7, expected: expect.stringMatching(/"=" after the tag key "host"/) });
    expect(failure('m,host= v=1')).toMatchObject({ line: 1, column: 8, expected: expect.stringMatching(/value for the tag "host"/) });
    expect(failure('m,=x v=1')).toMatchObject({ column: 3, expected: expect.stringMatching(/tag key/) });
    expect(failure('m v=')).toMatchObject({ column: 5, expected: expect.stringMatching(/field value/) });
    expect(failure('m v=1,w=abc')).toMatchObject({ column: 9, expected: expect.stringMatching(/got "abc"/) });
    expect(failure('m v=12i3')).toMatchObject({ column: 5 });
    expect(failure('m v=-5u')).toMatchObject({ column: 5 });
    expect(failure('m v=1e999')).toMatchObject({ column: 5, expected: expect.stringMatching(/finite/) });
    expect(failure('m v="open 1')).toMatchObject({ line: 1, column: 5, expected: expect.stringMatching(/closing "/) });
    expect(failure('m v=1 12:00')).toMatchObject({ column: 7, expected: expect.stringMatching(/timestamp/) });
    expect(failure('m v=1 1 2')).toMatchObject({ column: 9, expected: expect.stringMatching(/end of the line/) });
    expect(failure('m v=1 99999999999999999999')).toMatchObject({ column: 7 });
    expect(failure(',t=1 v=1')).toMatchObject({ column: 1, expected: expect.stringMatching(/measurement/) });
    expect(failure('m v=1,')).toMatchObject({ column: 7, expected: expect.stringMatching(/field key/) });
    expect(failure('m =1')).toMatchObject({ column: 3, expected: expect.stringMatching(/field key/) });
    expect(failure('ok v=1\nok v=2\n  bad v=1 x')).toMatchObject({ line: 3, column: 11 });
    expect(() => parseLineProtocol('m v=1 5', 's' as 'ns').length).not.toThrow();
    expect(() => parseLineProtocol('m v=1', 'weeks' as 'ns')).toThrow(RangeError);
  });

  it('keeps tags and fields free of prototype keys', () => {
    const p = one('m,__proto__=x,constructor=y toString=1');
    expect(Object.keys(p.tags)).toEqual(['__proto__', 'constructor']);
    expect(p.tags.__proto__).toBe('x');
    expect(Object.keys(p.fields)).toEqual(['toString']);
  });
});
