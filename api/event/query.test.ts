import { describe, expect, it } from 'vitest';
import { parseEventFilter, parseEventSort, parseIsoTime } from './query.ts';

describe("Panko's event query", () => {
  it('splits q into event fields and typed trait filters', () => {
    const filter = parseEventFilter({
      'q.field': ['event_type', 'start_timestamp', 'end_timestamp', 'vcpus', 'load', 'host', 'project_id', 'all_tenants'],
      'q.op': ['eq', 'ge', 'le', 'gt', 'le', '', 'eq', 'eq'],
      'q.value': ['compute.instance.create.end', '2026-01-01T00:00:00', '2026-01-02T00:00:00+01:00', '2', '0.5', 'h1', 'p1', 'True'],
      'q.type': ['', '', '', 'integer', 'float', '', 'string', ''],
    });
    expect(filter).toEqual({
      eventType: 'compute.instance.create.end',
      start: new Date('2026-01-01T00:00:00Z'),
      end: new Date('2026-01-01T23:00:00Z'),
      project: 'p1',
      traits: [
        { name: 'vcpus', type: 'int', op: 'gt', value: '2' },
        { name: 'load', type: 'float', op: 'le', value: '0.5' },
        { name: 'host', type: 'string', op: 'eq', value: 'h1' },
      ],
    });
  });

  it("refuses what Panko refuses, naming the field", () => {
    const q = (field: string, value: string, op?: string, type?: string) => () =>
      parseEventFilter({ 'q.field': [field], 'q.value': [value], ...(op ? { 'q.op': [op] } : {}), ...(type ? { 'q.type': [type] } : {}) });
    expect(q('event_type', 'x', 'gt')).toThrow("querystring.q.op[0]: Operator gt is not supported. Only `eq' operator is available for field event_type");
    expect(q('start_timestamp', '2026-01-01', 'gt')).toThrow(/Only `ge' operator is available for field start_timestamp/);
    expect(q('end_timestamp', '2026-01-01', 'ge')).toThrow(/Only `le' operator is available for field end_timestamp/);
    expect(q('trait_A', 'x', 'whats-up')).toThrow("querystring.q.op[0]: Operator whats-up is not supported. The supported operators are: ('lt', 'le', 'eq', 'ne', 'ge', 'gt')");
    expect(q('trait_A', 'x', 'eq', 'whats-up')).toThrow("querystring.q.type[0]: The data type whats-up is not supported. The supported data type list is: ['string', 'integer', 'float', 'datetime']");
    expect(q('vcpus', '2.5', 'eq', 'integer')).toThrow('querystring.q.value[0]: Unable to convert the value 2.5 to the expected data type integer.');
    expect(q('vcpus', '9223372036854775808', 'eq', 'integer')).toThrow(/data type integer/);
    expect(q('load', 'nan', 'eq', 'float')).toThrow(/data type float/);
    expect(q('when', '1700000000', 'eq', 'datetime')).toThrow(/data type datetime/);
    expect(q('start_timestamp', 'yesterday', 'ge')).toThrow(/start_timestamp.*datetime/);
    expect(() => parseEventFilter({ 'q.field': ['a', 'b'], 'q.value': ['1'] })).toThrow(/q\.value has 1 entries for 2 q\.field/);
    expect(() => parseEventFilter({ 'q.field': ['a'], 'q.value': ['1'], 'q.op': ['eq', 'eq'] })).toThrow(/q\.op has 2 entries/);
    // WSME pairs by position: a shorter q.op leaves the last filters at eq.
    expect(parseEventFilter({ 'q.field': ['a', 'b'], 'q.value': ['1', '2'], 'q.op': ['ne'] }).traits.map((t) => t.op)).toEqual(['ne', 'eq']);
  });

  it('keeps injection text as a plain value', () => {
    const filter = parseEventFilter({ 'q.field': ["x') OR 1=1 --"], 'q.value': ["' OR ''='"] });
    expect(filter.traits).toEqual([{ name: "x') OR 1=1 --", type: 'string', op: 'eq', value: "' OR ''='" }]);
  });

  it('reads sort keys and directions like Panko', () => {
    expect(parseEventSort(['generated:desc', 'message_id'])).toEqual([
      { key: 'generated', dir: 'desc' },
      { key: 'message_id', dir: 'asc' },
    ]);
    expect(() => parseEventSort(['invalid_key:desc'])).toThrow(/^Invalid input for field\/attribute sort\. Value: 'invalid_key:desc'\..*\('message_id', 'generated'\)$/);
    expect(() => parseEventSort(['message_id:bah'])).toThrow(/^Invalid input for field\/attribute sort direction\. Value: 'message_id:bah'\..*\('asc', 'desc'\)$/);
  });

  it('reads isotimes, naive as UTC', () => {
    expect(parseIsoTime('t', '2014-01-01T05:00:00').toISOString()).toBe('2014-01-01T05:00:00.000Z');
    expect(parseIsoTime('t', '2014-01-01 05:00:00.5Z').toISOString()).toBe('2014-01-01T05:00:00.500Z');
    expect(parseIsoTime('t', '2014-01-01T05:00:00-0200').toISOString()).toBe('2014-01-01T07:00:00.000Z');
  });
});
