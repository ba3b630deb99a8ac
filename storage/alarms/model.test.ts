import { describe, expect, it } from 'vitest';
import { alarmView, parseAlarm, parseAlarmRule, parseCompositeRule, type AlarmDefinition } from './model.ts';

const owner = { project_id: 'p1', user_id: 'u1' };
const invalid = (pattern: RegExp) => expect.objectContaining({ code: 'CUMULUS_ALARM_INVALID', httpStatus: 400, message: expect.stringMatching(pattern) });
const refuse = (body: unknown, pattern: RegExp) => expect(() => parseAlarm(body, owner)).toThrow(invalid(pattern));

const resources = { metric: 'cpu', resource_id: 'r1', resource_type: 'instance', threshold: 80, aggregation_method: 'mean' };

describe('alarm model: gnocchi threshold rules', () => {
  it("fills Aodh's defaults and keeps the rule under its type", () => {
    const { definition, state } = parseAlarm({ name: 'cpu high', type: 'gnocchi_resources_threshold', gnocchi_resources_threshold_rule: resources }, owner);
    expect(state).toBeUndefined();
    expect(definition).toEqual<AlarmDefinition>({
      name: 'cpu high',
      description: 'Alarm when cpu is equal to a mean of 80 over 60 seconds',
      type: 'gnocchi_resources_threshold',
      enabled: true,
      severity: 'low',
      repeat_actions: false,
      time_constraints: [],
      alarm_actions: [],
      ok_actions: [],
      insufficient_data_actions: [],
      project_id: 'p1',
      user_id: 'u1',
      rule: { comparison_operator: 'eq', threshold: 80, aggregation_method: 'mean', granularity: 60, evaluation_periods: 1, metric: 'cpu', resource_id: 'r1', resource_type: 'instance' },
    });
  });

  it('accepts median, std and percentiles, and every comparison operator', () => {
    for (const method of ['median', 'std', '95pct', 'rate:mean', 'count']) {
      expect(parseAlarmRule('gnocchi_resources_threshold', { ...resources, aggregation_method: method }).aggregation_method).toBe(method);
    }
    for (const op of ['lt', 'le', 'eq', 'ne', 'ge', 'gt']) expect(parseAlarmRule('gnocchi_resources_threshold', { ...resources, comparison_operator: op }).comparison_operator).toBe(op);
  });

  it('refuses a bad rule naming the field', () => {
    expect(() => parseAlarmRule('gnocchi_resources_threshold', { ...resources, aggregation_method: '100pct' })).toThrow(invalid(/gnocchi_resources_threshold_rule\.aggregation_method: expected an aggregation method .* got "100pct"/));
    expect(() => parseAlarmRule('gnocchi_resources_threshold', { ...resources, comparison_operator: 'gte' })).toThrow(invalid(/comparison_operator: expected one of 'lt'.*got "gte"/));
    expect(() => parseAlarmRule('gnocchi_resources_threshold', { ...resources, threshold: 'high' })).toThrow(invalid(/threshold: expected a number, got "high"/));
    expect(() => parseAlarmRule('gnocchi_resources_threshold', { ...resources, granularity: 0 })).toThrow(invalid(/granularity: expected a positive integer, got 0/));
    expect(() => parseAlarmRule('gnocchi_resources_threshold', { ...resources, evaluation_periods: 1.5 })).toThrow(invalid(/evaluation_periods: expected a positive integer/));
    expect(() => parseAlarmRule('gnocchi_resources_threshold', { ...resources, resource_id: undefined })).toThrow(invalid(/resource_id: expected a string, got nothing/));
    expect(() => parseAlarmRule('gnocchi_resources_threshold', { ...resources, metrics: ['a'] })).toThrow(invalid(/unknown field 'metrics'/));
  });

  it('by metrics: a non-empty list of metric ids', () => {
    const rule = parseAlarmRule('gnocchi_aggregation_by_metrics_threshold', { metrics: ['m1', 'm2'], threshold: '2.5', aggregation_method: 'max', granularity: '300', evaluation_periods: 3, comparison_operator: 'gt' });
    expect(rule).toEqual({ metrics: ['m1', 'm2'], threshold: 2.5, aggregation_method: 'max', granularity: 300, evaluation_periods: 3, comparison_operator: 'gt' });
    expect(() => parseAlarmRule('gnocchi_aggregation_by_metrics_threshold', { metrics: [], threshold: 1, aggregation_method: 'max' })).toThrow(invalid(/metrics: expected a non-empty list/));
  });

  it('by resources: the query is JSON text of a resource search', () => {
    const query = '{"=": {"server_group": "web"}}';
    expect(parseAlarmRule('gnocchi_aggregation_by_resources_threshold', { metric: 'cpu', resource_type: 'instance', query, threshold: 1, aggregation_method: 'mean' }).query).toBe(query);
    expect(() => parseAlarmRule('gnocchi_aggregation_by_resources_threshold', { metric: 'cpu', resource_type: 'instance', query: 'server_group=web', threshold: 1, aggregation_method: 'mean' })).toThrow(invalid(/query: expected a JSON resource search/));
  });
});

describe('alarm model: event, composite, log and outage rules', () => {
  it('event: event_type (default *) and a typed trait query', () => {
    expect(parseAlarmRule('event', undefined)).toEqual({ event_type: '*', query: [] });
    expect(parseAlarmRule('event', { event_type: 'compute.instance.update', query: [{ field: 'traits.state', op: 'eq', value: 'error', type: 'string' }, { field: 'traits.vcpus', value: 4, type: 'integer' }] })).toEqual({
      event_type: 'compute.instance.update',
      query: [
        { field: 'traits.state', op: 'eq', value: 'error', type: 'string' },
        { field: 'traits.vcpus', op: 'eq', value: '4', type: 'integer' },
      ],
    });
    expect(() => parseAlarmRule('event', { query: [{ field: 'traits.vcpus', value: 'four', type: 'integer' }] })).toThrow(invalid(/event_rule\.query\[0\]\.value: expected a integer, got "four"/));
    expect(() => parseAlarmRule('event', { query: [{ field: 'x', op: 'like', value: 'a' }] })).toThrow(invalid(/event_rule\.query\[0\]\.op/));
  });

  it('composite: and/or of typed sub-rules, validated recursively', () => {
    const leaf = { type: 'gnocchi_resources_threshold', ...resources };
    const rule = parseCompositeRule({ or: [leaf, { and: [{ type: 'log', level: 'error', threshold: 10, window: 300 }, { type: 'outage', check: 'token-issue', window: 60 }] }] });
    expect(rule).toEqual({
      or: [
        { type: 'gnocchi_resources_threshold', comparison_operator: 'eq', threshold: 80, aggregation_method: 'mean', granularity: 60, evaluation_periods: 1, metric: 'cpu', resource_id: 'r1', resource_type: 'instance' },
        { and: [{ type: 'log', level: 'ERROR', comparison_operator: 'gt', threshold: 10, window: 300 }, { type: 'outage', check: 'token-issue', comparison_operator: 'ge', threshold: 1, window: 60 }] },
      ],
    });
    expect(() => parseCompositeRule({ or: [leaf, { and: [{ ...leaf, threshold: 'x' }] }] })).toThrow(invalid(/composite_rule\.or\[1\]\.and\[0\]\.threshold: expected a number/));
    expect(() => parseCompositeRule({ or: [] })).toThrow(invalid(/composite_rule\.or: expected a non-empty list/));
    expect(() => parseCompositeRule({ or: [{ type: 'event', event_type: 'x' }] })).toThrow(invalid(/composite_rule\.or\[0\]\.type: expected one of/));
    expect(() => parseCompositeRule({ xor: [leaf] })).toThrow(invalid(/expected \{"and": \[\.\.\.\]\}/));
    let deep: unknown = leaf;
    for (let i = 0; i < 10; i++) deep = { and: [deep] };
    expect(() => parseCompositeRule(deep)).toThrow(invalid(/nested deeper than 8/));
  });

  it('log and outage (extensions): counts over a window', () => {
    expect(parseAlarmRule('log', { service: 'nova-api', level: 'warning', text: 'timeout', threshold: 0, window: 60 })).toEqual({ service: 'nova-api', level: 'WARNING', text: 'timeout', comparison_operator: 'gt', threshold: 0, window: 60 });
    expect(() => parseAlarmRule('log', { level: 'loud', threshold: 1, window: 60 })).toThrow(invalid(/log_rule\.level: expected one of/));
    expect(() => parseAlarmRule('log', { threshold: 1.5, window: 60 })).toThrow(invalid(/log_rule\.threshold: expected a line count/));
    expect(() => parseAlarmRule('outage', { check: 'token-issue' })).toThrow(invalid(/outage_rule\.window: expected a number, got nothing/));
    expect(() => parseAlarm({ name: 'x', type: 'outage' }, owner)).toThrow(invalid(/outage_rule: required/));
  });
});

describe('alarm model: common fields', () => {
  const base = { name: 'a', type: 'event', event_rule: { event_type: 'x' } };

  it('time constraints: five-field cron and an IANA time zone', () => {
    const { definition } = parseAlarm({ ...base, time_constraints: [{ name: 'nights', start: '0 23 * * *', duration: 3600, timezone: 'Europe/Ljubljana' }] }, owner);
    expect(definition.time_constraints).toEqual([{ name: 'nights', description: 'Time constraint at 0 23 * * * lasting for 3600 seconds', start: '0 23 * * *', duration: 3600, timezone: 'Europe/Ljubljana' }]);
    refuse({ ...base, time_constraints: [{ name: 'n', start: '0 25 * * *', duration: 60 }] }, /time_constraints\[0\]\.start: expected a five-field cron/);
    refuse({ ...base, time_constraints: [{ name: 'n', start: '0 0 23 * * *', duration: 60 }] }, /time_constraints\[0\]\.start: expected a five-field cron/);
    refuse({ ...base, time_constraints: [{ name: 'n', start: '0 23 * * *', duration: 60, timezone: 'Mars/Olympus' }] }, /time_constraints\[0\]\.timezone: expected an IANA time zone/);
    refuse({ ...base, time_constraints: [{ name: 'n', start: '0 23 * * *', duration: 0 }] }, /time_constraints\[0\]\.duration: expected a positive integer/);
    refuse({ ...base, time_constraints: [{ name: 'n', start: '0 23 * * *', duration: 1 }, { name: 'n', start: '0 1 * * *', duration: 1 }] }, /time_constraints\[1\]\.name: 'n' is used twice/);
  });

  it('actions: http(s) and log URLs, duplicates dropped; trust+ refused with a reason', () => {
    const { definition } = parseAlarm({ ...base, alarm_actions: ['https://hooks.example/a', 'log://', 'https://hooks.example/a'], ok_actions: ['http://10.0.0.1:8080/ok'] }, owner);
    expect(definition.alarm_actions).toEqual(['https://hooks.example/a', 'log://']);
    expect(definition.ok_actions).toEqual(['http://10.0.0.1:8080/ok']);
    refuse({ ...base, alarm_actions: ['trust+https://hooks.example/a'] }, /alarm_actions\[0\]: trust\+https:\/\/ actions need Keystone trusts.*give an https:\/\/ URL/);
    refuse({ ...base, ok_actions: ['zaqar://?queue_name=q'] }, /ok_actions\[0\]: expected an http:\/\/, https:\/\/ or log:\/\/ URL/);
    refuse({ ...base, insufficient_data_actions: 'http://x' }, /insufficient_data_actions: expected a list of URLs/);
  });

  it('state, severity, type, booleans and unknown fields', () => {
    const parsed = parseAlarm({ ...base, state: 'alarm', state_reason: 'by hand', severity: 'critical', enabled: 'False', repeat_actions: true, project_id: 'p2', user_id: 'u2' }, owner);
    expect(parsed.state).toBe('alarm');
    expect(parsed.state_reason).toBe('by hand');
    expect(parsed.definition).toMatchObject({ severity: 'critical', enabled: false, repeat_actions: true, project_id: 'p2', user_id: 'u2' });
    refuse({ ...base, state: 'insufficient_data' }, /^state: expected one of 'ok', 'alarm', 'insufficient data', got "insufficient_data"/);
    refuse({ ...base, severity: 'high' }, /^severity: expected one of 'low', 'moderate', 'critical'/);
    refuse({ ...base, type: 'threshold' }, /^type: expected one of/);
    refuse({ ...base, name: '' }, /^name: expected a non-empty string/);
    refuse({ ...base, enabled: 'maybe' }, /^enabled: expected true or false/);
    refuse({ ...base, colour: 'red' }, /^alarm: unknown field 'colour'/);
    refuse({ ...base, gnocchi_resources_threshold_rule: resources }, /gnocchi_resources_threshold_rule: an alarm of type 'event' takes event_rule/);
    // The client sends the other rules empty: accepted.
    expect(parseAlarm({ ...base, threshold_rule: {}, composite_rule: null }, owner).definition.type).toBe('event');
  });

  it('alarmView puts the rule under <type>_rule', () => {
    const { definition } = parseAlarm(base, owner);
    const view = alarmView({ ...definition, alarm_id: 'id', state: 'ok', state_reason: '', state_timestamp: 't', timestamp: 't' });
    expect(view.event_rule).toEqual({ event_type: 'x', query: [] });
    expect(view).not.toHaveProperty('rule');
  });
});
