import { describe, expect, it } from 'vitest';
import { isoTime, parseBool, parseQueryTime, parseQueryTimespan, readTimestamp, timestampKind } from '../params.ts';
import { FillTooLargeError, fillSeries, groupStart, resampleSeries, type SeriesPoint } from './measure-series.ts';

const T = Date.UTC(2026, 0, 1, 0, 0, 0);
const s = (seconds: number) => T + seconds * 1000;

describe('resample (carbonara GroupedTimeSeries)', () => {
  const points: SeriesPoint[] = [
    [s(0), 43.1],
    [s(60), 12],
    [s(75), 16],
    [s(120), 9],
    [s(135), 11],
  ];

  it('regroups aggregated points with the same method', () => {
    expect(resampleSeries(points, 'mean', 120)).toEqual([
      [s(0), (43.1 + 12 + 16) / 3],
      [s(120), 10],
    ]);
    expect(resampleSeries(points, 'count', 120).map((p) => p[1])).toEqual([3, 2]);
    expect(resampleSeries(points, 'max', 3600)).toEqual([[s(0), 43.1]]);
    expect(resampleSeries(points, 'first', 120).map((p) => p[1])).toEqual([43.1, 9]);
    expect(resampleSeries(points, 'last', 120).map((p) => p[1])).toEqual([16, 11]);
    // numpy's linear percentile: 12, 16, 43.1 at 90% -> 16 + 0.8 x 27.1.
    expect(resampleSeries(points, '90pct', 120)[0]?.[1]).toBeCloseTo(16 + 0.8 * 27.1, 12);
    expect(resampleSeries(points, 'median', 120).map((p) => p[1])).toEqual([16, 10]);
    // Sample standard deviation; a group of one value has none.
    expect(resampleSeries([[s(0), 1], [s(10), 3], [s(200), 5]], 'std', 120)).toEqual([[s(0), Math.SQRT2]]);
  });

  it('differentiates again for rate: methods (as Gnocchi does) and skips null values', () => {
    expect(resampleSeries([...points, [s(140), null]], 'rate:sum', 120)).toEqual([
      [s(0), 12 - 43.1 + 4],
      [s(120), -7 + 2],
    ]);
  });

  it('groups by calendar units: years, halves, quarters, months, weeks from Sunday', () => {
    const at = Date.UTC(2026, 7, 20, 15, 30); // Thursday 20 August 2026
    expect(new Date(groupStart(at, 'Y')).toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(new Date(groupStart(at, 'H')).toISOString()).toBe('2026-07-01T00:00:00.000Z');
    expect(new Date(groupStart(at, 'Q')).toISOString()).toBe('2026-07-01T00:00:00.000Z');
    expect(new Date(groupStart(at, 'M')).toISOString()).toBe('2026-08-01T00:00:00.000Z');
    expect(new Date(groupStart(at, 'W')).toISOString()).toBe('2026-08-16T00:00:00.000Z');
    expect(new Date(groupStart(Date.UTC(2026, 7, 16), 'W')).toISOString()).toBe('2026-08-16T00:00:00.000Z');
  });
});

describe('fill (Cumulus extension)', () => {
  it('fills the empty buckets of a range, or of the points, and drops nulls on dropna', () => {
    const points: SeriesPoint[] = [
      [s(60), 1],
      [s(180), null],
    ];
    expect(fillSeries(points, 60, { kind: 'value', value: 0 }, { startMs: s(10), stopMs: s(240) }, 100)).toEqual([
      [s(0), 0],
      [s(60), 1],
      [s(120), 0],
      [s(180), null],
    ]);
    expect(fillSeries(points, 60, { kind: 'null' }, {}, 100)).toEqual([
      [s(60), 1],
      [s(120), null],
      [s(180), null],
    ]);
    expect(fillSeries(points, 60, { kind: 'dropna' }, {}, 100)).toEqual([[s(60), 1]]);
    expect(() => fillSeries([], 1, { kind: 'null' }, { startMs: s(0), stopMs: s(1000) }, 100)).toThrow(FillTooLargeError);
  });
});

describe("timestamps and timespans as Gnocchi's API reads them", () => {
  const now = new Date(s(3600));

  it('decides the kind by the first value: epoch (numbers first, as float() does), ISO, relative', () => {
    expect(timestampKind(1425652437.5)).toBe('epoch');
    expect(timestampKind('2015')).toBe('epoch');
    expect(timestampKind('2015-03-06T14:33:57')).toBe('iso');
    expect(timestampKind('-5 minutes')).toBe('relative');
    expect(timestampKind('soon')).toBeNull();
    expect(timestampKind(null)).toBeNull();
    expect(readTimestamp('1425652437.5', 'epoch', now)?.toISOString()).toBe('2015-03-06T14:33:57.500Z');
    expect(readTimestamp('-5 minutes', 'relative', now)?.getTime()).toBe(s(3300));
    expect(readTimestamp('2015-03-06T14:33:57', 'relative', now)).toBeNull();
  });

  it('reads ISO 8601 forms numpy accepts, naive as UTC, with offsets, and refuses impossible dates', () => {
    expect(isoTime('2015-03-06T14:34')?.toISOString()).toBe('2015-03-06T14:34:00.000Z');
    expect(isoTime('2015-03-06 14:34:12.123456')?.toISOString()).toBe('2015-03-06T14:34:12.123Z');
    expect(isoTime('2015-03-06T15:33:57+01:00')?.toISOString()).toBe('2015-03-06T14:33:57.000Z');
    expect(isoTime('2015-03-06T14:33:57Z')?.toISOString()).toBe('2015-03-06T14:33:57.000Z');
    expect(isoTime('2015-03')?.toISOString()).toBe('2015-03-01T00:00:00.000Z');
    expect(isoTime('1915-100-06T14:33:57')).toBeNull();
    expect(isoTime('2015-02-30')).toBeNull();
    expect(isoTime("2015-03-06' OR 1=1")).toBeNull();
  });

  it("answers Gnocchi's argument errors", () => {
    expect(() => parseQueryTime('start', 'yesterday-ish', now)).toThrow(expect.objectContaining({ httpStatus: 400, description: { cause: 'Argument value error', detail: 'start', reason: 'Must be a datetime or a timestamp' } }));
    expect(parseQueryTime('start', 'now', now)?.getTime()).toBe(now.getTime());
    expect(parseQueryTimespan('granularity', '5min')).toBe(300);
    expect(parseQueryTimespan('granularity', '300.0')).toBe(300);
    expect(() => parseQueryTimespan('granularity', 'foobar')).toThrow(expect.objectContaining({ description: { cause: 'Argument value error', detail: 'granularity', reason: 'Unable to parse timespan' } }));
    expect(() => parseQueryTimespan('granularity', '-5')).toThrow(expect.objectContaining({ description: expect.objectContaining({ reason: 'Timespan must be positive' }) }));
    expect(parseBool('refresh', 'False', true)).toBe(false);
    expect(parseBool('refresh', 'YES', false)).toBe(true);
    expect(() => parseBool('refresh', 'maybe', false)).toThrow(/Unable to parse `refresh'/);
  });
});
