import { describe, expect, it } from 'vitest';
import { ManualClock, openStateDatabase } from '../../core/index.ts';
import { parseAlarm } from './model.ts';
import { matchesSimpleQuery, parseComplexQuery, parseSimpleQuery, runComplexQuery } from './query.ts';
import { createAlarmStore } from './store.ts';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const alice = { user_id: 'u1', project_id: 'p1' };
const rule = { metric: 'cpu', resource_id: 'r1', resource_type: 'instance', threshold: 80, aggregation_method: 'mean', comparison_operator: 'gt' };
const body = (name: string, extra: Record<string, unknown> = {}) => ({ name, type: 'gnocchi_resources_threshold', gnocchi_resources_threshold_rule: rule, ...extra });
const fresh = () => {
  const clock = new ManualClock(T0);
  return { clock, store: createAlarmStore(openStateDatabase(':memory:'), { clock }) };
};

describe('alarm store (SQLite)', () => {
  it('creates with the initial state and a creation entry holding the whole alarm', () => {
    const { store } = fresh();
    const { alarm, changes } = store.create(parseAlarm(body('cpu'), alice), alice);
    expect(alarm).toMatchObject({ name: 'cpu', state: 'insufficient data', state_reason: 'Not evaluated yet', timestamp: '2026-03-01T10:00:00.000Z', state_timestamp: '2026-03-01T10:00:00.000Z', project_id: 'p1' });
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ alarm_id: alarm.alarm_id, type: 'creation', user_id: 'u1', project_id: 'p1', on_behalf_of: 'p1', severity: 'low', timestamp: '2026-03-01T10:00:00.000Z', reason: '' });
    const detail = JSON.parse(changes[0]!.detail) as Record<string, unknown>;
    expect(detail).toMatchObject({ alarm_id: alarm.alarm_id, name: 'cpu', state: 'insufficient data', gnocchi_resources_threshold_rule: { threshold: 80, comparison_operator: 'gt' } });
    expect(store.find(alarm.alarm_id)).toEqual(alarm);
  });

  it('names are unique per project, not across projects', () => {
    const { store } = fresh();
    store.create(parseAlarm(body('cpu'), alice), alice);
    expect(() => store.create(parseAlarm(body('cpu'), alice), alice)).toThrow(expect.objectContaining({ code: 'CUMULUS_ALARM_CONFLICT', httpStatus: 409, message: expect.stringMatching(/name='cpu' exists in project p1/) }));
    const bob = { user_id: 'u2', project_id: 'p2' };
    expect(store.create(parseAlarm(body('cpu'), bob), bob).alarm.project_id).toBe('p2');
    const second = store.create(parseAlarm(body('mem'), alice), alice).alarm;
    expect(() => store.update(second.alarm_id, parseAlarm(body('cpu'), alice), alice)).toThrow(expect.objectContaining({ code: 'CUMULUS_ALARM_CONFLICT' }));
    expect(store.list('p1').map((a) => a.name)).toEqual(['cpu', 'mem']);
    expect(store.list(null)).toHaveLength(3);
  });

  it('an update records only the changed fields; a state change in it also records a transition', () => {
    const { store, clock } = fresh();
    const { alarm } = store.create(parseAlarm(body('cpu'), alice), alice);
    clock.advance(5000);
    const same = store.update(alarm.alarm_id, parseAlarm(body('cpu'), alice), alice);
    expect(same.changes).toEqual([]);
    clock.advance(5000);
    const { alarm: after, changes } = store.update(alarm.alarm_id, { ...parseAlarm(body('cpu', { severity: 'critical', gnocchi_resources_threshold_rule: { ...rule, threshold: 90 } }), alice), state: 'alarm', state_reason: 'by hand' }, alice);
    expect(changes.map((c) => c.type)).toEqual(['rule change', 'state transition']);
    expect(JSON.parse(changes[0]!.detail)).toEqual({ description: 'Alarm when cpu is greater than a mean of 90 over 60 seconds', severity: 'critical', gnocchi_resources_threshold_rule: { ...JSON.parse(JSON.stringify(alarm.rule)), threshold: 90 } });
    expect(JSON.parse(changes[1]!.detail)).toEqual({ state: 'alarm', state_reason: 'by hand' });
    expect(changes[1]!.reason).toBe('by hand');
    expect(after).toMatchObject({ state: 'alarm', state_timestamp: '2026-03-01T10:00:10.000Z', timestamp: '2026-03-01T10:00:10.000Z', severity: 'critical' });
  });

  it('setState: a transition with its reason; the same state again changes nothing', () => {
    const { store, clock } = fresh();
    const { alarm } = store.create(parseAlarm(body('cpu'), alice), alice);
    clock.advance(1000);
    const moved = store.setState(alarm.alarm_id, 'ok', 'Manually set via API', alice);
    expect(moved.changes).toEqual([expect.objectContaining({ type: 'state transition', detail: '{"state":"ok","state_reason":"Manually set via API"}', reason: 'Manually set via API', timestamp: '2026-03-01T10:00:01.000Z' })]);
    clock.advance(1000);
    expect(store.setState(alarm.alarm_id, 'ok', 'again', alice)).toEqual({ alarm: moved.alarm, changes: [] });
  });

  it('delete records a deletion; missing alarms are 404', () => {
    const { store } = fresh();
    const { alarm } = store.create(parseAlarm(body('cpu'), alice), alice);
    expect(store.delete(alarm.alarm_id, alice)).toEqual([expect.objectContaining({ type: 'deletion', alarm_id: alarm.alarm_id })]);
    expect(store.find(alarm.alarm_id)).toBeUndefined();
    const missing = expect.objectContaining({ code: 'CUMULUS_ALARM_NOT_FOUND', httpStatus: 404 });
    expect(() => store.delete(alarm.alarm_id, alice)).toThrow(missing);
    expect(() => store.setState(alarm.alarm_id, 'ok', '', alice)).toThrow(missing);
  });

  it('survives a reopen of the database', () => {
    const path = `/tmp/cumulus-alarm-store-${process.pid}-${Date.now()}.sqlite`;
    const db = openStateDatabase(path);
    const created = createAlarmStore(db).create(parseAlarm(body('cpu', { time_constraints: [{ name: 'n', start: '0 1 * * *', duration: 60 }] }), alice), alice).alarm;
    db.close();
    const again = openStateDatabase(path);
    expect(createAlarmStore(again).find(created.alarm_id)).toEqual(created);
    again.close();
  });
});

describe('alarm queries', () => {
  const { store, clock } = fresh();
  const a = store.create(parseAlarm(body('a', { severity: 'critical' }), alice), alice).alarm;
  clock.advance(1000);
  const b = store.create(parseAlarm(body('b', { enabled: false }), alice), alice).alarm;
  clock.advance(1000);
  const c = store.create(parseAlarm(body("x') OR 1=1 --"), alice), alice).alarm;
  const all = store.list(null);

  it("q filters: Aodh's fields, eq only; values are data", () => {
    const run = (field: string, value: string) => all.filter((alarm) => matchesSimpleQuery(alarm, parseSimpleQuery([{ field, op: 'eq', value }]).filters)).map((x) => x.name);
    expect(run('severity', 'critical')).toEqual(['a']);
    expect(run('enabled', 'False')).toEqual(['b']);
    expect(run('name', "x') OR 1=1 --")).toEqual(["x') OR 1=1 --"]);
    expect(run('name', "' OR ''='")).toEqual([]);
    expect(() => parseSimpleQuery([{ field: 'description', op: 'eq', value: 'x' }])).toThrow(/only fields .* are allowed/);
    expect(() => parseSimpleQuery([{ field: 'name', op: 'ne', value: 'x' }])).toThrow(/only operations eq are allowed/);
    expect(parseSimpleQuery([{ field: 'all_projects', op: 'eq', value: 'true' }]).allProjects).toBe(true);
  });

  it('complex query: and/or/not, comparisons, in, orderby, limit', () => {
    const names = (q: Record<string, unknown>) => runComplexQuery(all, parseComplexQuery(q)).map((x) => x.name);
    expect(names({})).toEqual([c.name, b.name, a.name]);
    expect(names({ filter: '{"=": {"name": "a"}}' })).toEqual(['a']);
    expect(names({ filter: '{"or": [{"=": {"severity": "critical"}}, {"=": {"enabled": false}}]}', orderby: '[{"name": "asc"}]' })).toEqual(['a', 'b']);
    expect(names({ filter: '{"not": {"in": {"name": ["a", "b"]}}}' })).toEqual([c.name]);
    expect(names({ filter: `{">": {"timestamp": "${a.timestamp}"}}`, orderby: '[{"timestamp": "ASC"}]', limit: 1 })).toEqual(['b']);
    expect(names({ filter: JSON.stringify({ '=': { name: "' OR ''='" } }) })).toEqual([]);
    expect(() => parseComplexQuery({ filter: '{"=": {"colour": "red"}}' })).toThrow(/Filter expression not valid: filter\.= names 'colour'/);
    expect(() => parseComplexQuery({ filter: '{"=~": {"name": ".*"}}' })).toThrow(/operator '=~'/);
    expect(() => parseComplexQuery({ filter: 'not json' })).toThrow(/filter: expected JSON text/);
    expect(() => parseComplexQuery({ orderby: '[{"name": "up"}]' })).toThrow(/Order-by expression not valid/);
    expect(() => parseComplexQuery({ limit: 0 })).toThrow(/Limit must be positive/);
  });
});
