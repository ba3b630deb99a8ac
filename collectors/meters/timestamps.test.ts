import { describe, expect, it } from 'vitest';
import { formatIsoTime, parseIsoTime, secondsBetween } from './timestamps.ts';

const iso = (text: unknown) => {
  const instant = parseIsoTime(text);
  return instant ? formatIsoTime(instant) : undefined;
};

describe('times as oslo.utils parse_isotime reads them', () => {
  it.each([
    ['2026-01-02 03:04:05.123456', '2026-01-02T03:04:05.123456+00:00'],
    ['2026-01-02T03:04:05.000000', '2026-01-02T03:04:05+00:00'],
    ['2026-01-02T03:04:05.1234567Z', '2026-01-02T03:04:05.123456+00:00'],
    ['2026-01-02 03:04:05,5', '2026-01-02T03:04:05.500000+00:00'],
    ['2026', '2026-01-01T00:00:00+00:00'],
    ['20260102', '2026-01-02T00:00:00+00:00'],
    ['2026-01-02T03', '2026-01-02T03:00:00+00:00'],
    ['2026-01-02\n', '2026-01-02T00:00:00+00:00'],
    ['2026-01-02 05:04:05+02:00', '2026-01-02T03:04:05+00:00'],
    ['2026-01-02 03:04:05-05:30', '2026-01-02T08:34:05+00:00'],
    ['1969-12-31T23:59:59.5', '1969-12-31T23:59:59.500000+00:00'],
  ])('reads %j as %s', (text, expected) => {
    expect(iso(text)).toBe(expected);
  });

  it.each([['2026-02-29'], ['202601'], ['2026-01-02 24:00'], ['yesterday'], [''], [null], [1767323045]])('refuses %j', (text) => {
    expect(iso(text)).toBeUndefined();
  });

  it('measures spans like timedelta.total_seconds()', () => {
    const span = (a: string, b: string) => secondsBetween(parseIsoTime(a)!, parseIsoTime(b)!);
    expect(span('2026-01-02 03:04:00+00:00', '2026-01-02T03:04:05.250000')).toBe(5.25);
    expect(span('2026-01-02T03:04:05', '2026-01-02T03:04:00')).toBe(5);
  });
});
