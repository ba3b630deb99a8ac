import { describe, expect, it } from 'vitest';
import { pankoEvent, pankoTime, pythonFloat } from './format.ts';

describe("Panko's wire forms", () => {
  it("prints floats as Python's repr does", () => {
    // Expected values are Python 3's repr() of the same doubles.
    const cases: Array<[number, string]> = [
      [1, '1.0'],
      [0, '0.0'],
      [-0, '-0.0'],
      [0.25, '0.25'],
      [200.123456, '200.123456'],
      [0.1 + 0.2, '0.30000000000000004'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [-0.000123, '-0.000123'],
      [1e15, '1000000000000000.0'],
      [1e16, '1e+16'],
      [123456789012345678, '1.2345678901234568e+17'],
      [1.5e300, '1.5e+300'],
      [-2.5e-7, '-2.5e-07'],
      [Number.NaN, 'nan'],
      [Number.POSITIVE_INFINITY, 'inf'],
    ];
    for (const [value, expected] of cases) expect(pythonFloat(value), String(value)).toBe(expected);
  });

  it("prints times as Python's naive isoformat, the fraction only when not zero", () => {
    expect(pankoTime('2014-01-01 05:00:00.000000')).toBe('2014-01-01T05:00:00');
    expect(pankoTime('2014-01-01 05:00:00.120000')).toBe('2014-01-01T05:00:00.120000');
    expect(pankoTime('2014-01-01 05:00:00')).toBe('2014-01-01T05:00:00');
  });

  it('turns a row into an event: values as text, int exact, types by their long names', () => {
    const event = pankoEvent({
      message_id: 'm1',
      event_type: 'compute.instance.create.end',
      generated: '2026-01-01 10:00:00.000001',
      project_id: 'p1',
      resource_id: 'vm-1',
      traits_string: { service: 'compute' },
      traits_int: { big: '9007199254740993' },
      traits_float: { load: 2 },
      traits_datetime: { launched_at: '2026-01-01 09:00:00.000000' },
      raw: '{"payload":{"a":1}}',
    });
    expect(event).toEqual({
      message_id: 'm1',
      event_type: 'compute.instance.create.end',
      generated: '2026-01-01T10:00:00.000001',
      traits: [
        { name: 'service', type: 'string', value: 'compute' },
        { name: 'big', type: 'integer', value: '9007199254740993' },
        { name: 'load', type: 'float', value: '2.0' },
        { name: 'launched_at', type: 'datetime', value: '2026-01-01T09:00:00' },
      ],
      raw: { payload: { a: 1 } },
    });
  });
});
