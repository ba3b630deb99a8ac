import { describe, expect, it } from 'vitest';
import { dataframesOf, JsonNumber, jsonText, parseGroupby, parseReportFilters, parseReportTime, pythonIsoformat, reportPeriod } from './reports.ts';

describe('exact JSON numbers', () => {
  it('writes decimal digits as they are, with no float in between', () => {
    expect(jsonText(new JsonNumber('0.300000000'))).toBe('0.3');
    expect(jsonText(new JsonNumber('0.000000001'))).toBe('0.000000001');
    // 2^53 + 1 and 17 significant digits: a float would change both.
    expect(jsonText({ a: new JsonNumber('9007199254740993.000000001') })).toBe('{"a":9007199254740993.000000001}');
    expect(jsonText([new JsonNumber('0'), new JsonNumber('-0.5')])).toBe('[0,-0.5]');
    expect(() => new JsonNumber('NaN')).toThrow(/finite/);
  });

  it('writes everything else as JSON.stringify does, skipping undefined members', () => {
    const value = { s: 'quote " back \\ \u2028', n: 1.5, b: true, z: null, u: undefined, list: [1, 'x', undefined], nested: { k: 'v' } };
    expect(JSON.parse(jsonText(value))).toEqual(JSON.parse(JSON.stringify(value)));
    expect(jsonText({ '__proto__': 'x' })).toBe('{}');
    expect(jsonText(JSON.parse('{"__proto__":"x"}'))).toBe('{"__proto__":"x"}');
  });
});

describe('report parameters', () => {
  it('reads CloudKitty timestamps: T or space, fraction, zone; naive is UTC', () => {
    expect(parseReportTime('begin', '2026-05-01T00:00:00')?.toISOString()).toBe('2026-05-01T00:00:00.000Z');
    expect(parseReportTime('begin', '2026-05-01 02:00:00+02:00')?.toISOString()).toBe('2026-05-01T00:00:00.000Z');
    expect(parseReportTime('end', '2026-05-01T00:00:00.250Z')?.toISOString()).toBe('2026-05-01T00:00:00.250Z');
    expect(parseReportTime('end', undefined)).toBeUndefined();
    expect(() => parseReportTime('end', '2026-13-01')).toThrow(/Invalid value for end/);
    expect(() => parseReportTime('begin', "1' OR '1'='1")).toThrow(/Invalid value for begin/);
  });

  it('defaults to the current calendar month, UTC', () => {
    expect(reportPeriod({}, new Date('2026-12-31T23:59:59Z'))).toEqual({ begin: new Date('2026-12-01T00:00:00Z'), end: new Date('2027-01-01T00:00:00Z') });
    expect(reportPeriod({ end: '2026-12-05' }, new Date('2026-12-31T23:59:59Z')).end).toEqual(new Date('2026-12-05T00:00:00Z'));
  });

  it('splits groupby lists, drops repeats, refuses empty keys and result columns', () => {
    expect(parseGroupby(undefined)).toEqual([]);
    expect(parseGroupby(['type,project_id', 'type', 'tag:team'])).toEqual(['type', 'project_id', 'tag:team']);
    expect(() => parseGroupby(['type,'])).toThrow(/Invalid value for groupby/);
    expect(() => parseGroupby(['rate'])).toThrow(/"rate" is a column/);
    expect(() => parseGroupby(['time-x'])).toThrow(/a time grouping/);
    expect(parseGroupby(['time,time-w'])).toEqual(['time', 'time-w']);
    expect(() => parseGroupby([Array.from({ length: 17 }, (_, i) => `k${i}`).join(',')])).toThrow(/at most 16/);
  });

  it('splits filters at the last colon; values of a key are alternatives unless keys must be unique', () => {
    expect(parseReportFilters(['type:instance,project_id:a', 'project_id:b', 'tag:team:blue'], false)).toEqual([
      ['type', ['instance']],
      ['project_id', ['a', 'b']],
      ['tag:team', ['blue']],
    ]);
    expect(() => parseReportFilters(['project_id:a,project_id:b'], true)).toThrow(/"project_id" is already given/);
    expect(() => parseReportFilters(['novalue'], false)).toThrow(/Invalid value for filters/);
    expect(() => parseReportFilters(['key:'], false)).toThrow(/Invalid value for filters/);
    expect(() => parseReportFilters([':value'], false)).toThrow(/Invalid value for filters/);
    expect(parseReportFilters(["id:x'); DROP TABLE rated_usage; --"], true)).toEqual([['id', ["x'); DROP TABLE rated_usage; --"]]]);
  });

  it("writes times as Python's isoformat", () => {
    expect(pythonIsoformat(new Date('2026-05-01T10:00:00Z'))).toBe('2026-05-01T10:00:00+00:00');
    expect(pythonIsoformat(new Date('2026-05-01T10:00:00.5Z'), true)).toBe('2026-05-01T10:00:00.500000');
  });
});

describe('dataframes', () => {
  const frame = (start: string, service: string, resource: string, cost: string) => ({
    project_id: 'p',
    user_id: 'u',
    resource_id: resource,
    service,
    period_start: `2026-05-01 ${start}:00:00`,
    period_end: `2026-05-01 ${String(Number(start) + 1).padStart(2, '0')}:00:00`,
    qty: '1',
    unit: 'instance',
    cost,
    groupby: { stack_id: 's', id: 'not-this' },
    metadata: { flavor_name: 'm1' },
  });

  it('groups consecutive frames of one period into a dataframe, points by service', () => {
    const frames = dataframesOf([frame('10', 'instance', 'a', '0.1'), frame('10', 'instance', 'b', '0.2'), frame('10', 'volume.size', 'c', '3'), frame('11', 'instance', 'a', '0.1')]);
    expect(JSON.parse(jsonText(frames))).toEqual([
      {
        usage: {
          instance: [
            { vol: { unit: 'instance', qty: 1 }, rating: { price: 0.1 }, groupby: { stack_id: 's', id: 'a', user_id: 'u', project_id: 'p' }, metadata: { flavor_name: 'm1' } },
            { vol: { unit: 'instance', qty: 1 }, rating: { price: 0.2 }, groupby: { stack_id: 's', id: 'b', user_id: 'u', project_id: 'p' }, metadata: { flavor_name: 'm1' } },
          ],
          'volume.size': [{ vol: { unit: 'instance', qty: 1 }, rating: { price: 3 }, groupby: { stack_id: 's', id: 'c', user_id: 'u', project_id: 'p' }, metadata: { flavor_name: 'm1' } }],
        },
        period: { begin: '2026-05-01T10:00:00+00:00', end: '2026-05-01T11:00:00+00:00' },
      },
      {
        usage: { instance: [{ vol: { unit: 'instance', qty: 1 }, rating: { price: 0.1 }, groupby: { stack_id: 's', id: 'a', user_id: 'u', project_id: 'p' }, metadata: { flavor_name: 'm1' } }] },
        period: { begin: '2026-05-01T11:00:00+00:00', end: '2026-05-01T12:00:00+00:00' },
      },
    ]);
  });
});
