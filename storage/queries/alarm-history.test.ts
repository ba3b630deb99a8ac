import { describe, expect, it } from 'vitest';
import { ALARM_HISTORY_QUERY_FIELDS, parseComplexQuery } from '../alarms/query.ts';
import { alarmHistoryInsert, searchAlarmHistory, selectAlarmHistory, selectAlarmHistoryEvent } from './alarm-history.ts';

describe('alarm history queries', () => {
  it('binds every value; a member sees only changes of alarms their project owns', () => {
    const evil = "x' OR 1=1 --";
    const q = selectAlarmHistory({ alarmId: evil, onBehalfOf: evil, limit: 5000, before: { timestamp: '2026-01-01T00:00:00Z', eventId: evil } });
    expect(q.sql).not.toContain(evil);
    expect(q.sql).toContain('on_behalf_of = {on_behalf_of:String}');
    expect(q.sql).toMatch(/ORDER BY timestamp DESC, event_id DESC LIMIT \{limit:UInt32\}$/);
    expect(q.params).toEqual({ alarm_id: evil, on_behalf_of: evil, limit: 1000, before_ts: '2026-01-01T00:00:00Z', before_id: evil });
    const admin = selectAlarmHistory({ alarmId: 'a', onBehalfOf: null });
    expect(admin.sql).not.toContain('on_behalf_of =');
    expect(admin.params).toEqual({ alarm_id: 'a', limit: 100 });
    expect(selectAlarmHistoryEvent('a', evil).params).toEqual({ alarm_id: 'a', event_id: evil });
  });

  it('inserts with a token made of the event ids, so a retry counts once', () => {
    const change = { event_id: 'e1', alarm_id: 'a', type: 'creation' as const, detail: '{}', reason: '', timestamp: '2026-01-01T00:00:00.000Z', user_id: 'u', project_id: 'p', on_behalf_of: 'p', severity: 'low' as const };
    expect(alarmHistoryInsert([change, { ...change, event_id: 'e2' }])).toEqual({ table: 'alarm_history', rows: [change, { ...change, event_id: 'e2' }], dedupToken: 'alarm-history:e1,e2' });
  });

  it('compiles a complex history query with every value bound and the owner forced for members', () => {
    const evil = "x' OR 1=1 --";
    const query = parseComplexQuery({ filter: JSON.stringify({ and: [{ '=': { alarm_id: evil } }, { not: { in: { type: ['creation', evil] } } }, { '>=': { timestamp: '2026-01-01T00:00:00Z' } }] }), orderby: '[{"timestamp": "asc"}]', limit: 5 }, ALARM_HISTORY_QUERY_FIELDS);
    const q = searchAlarmHistory(query, 'p1');
    expect(q.sql).not.toContain(evil);
    expect(q.sql).toContain("WHERE ((alarm_id = {p0:String}) AND NOT (type IN ({p1:String}, {p2:String})) AND (timestamp >= parseDateTime64BestEffort({p3:String}, 6, 'UTC'))) AND on_behalf_of = {p4:String} ORDER BY timestamp ASC LIMIT {limit:UInt32}");
    expect(q.params).toEqual({ p0: evil, p1: 'creation', p2: evil, p3: '2026-01-01T00:00:00Z', p4: 'p1', limit: 5 });
    const admin = searchAlarmHistory(parseComplexQuery({}, ALARM_HISTORY_QUERY_FIELDS), null);
    expect(admin.sql).toMatch(/FROM alarm_history ORDER BY timestamp DESC, event_id DESC LIMIT \{limit:UInt32\}$/);
    expect(admin.params).toEqual({ limit: 1000 });
    expect(() => parseComplexQuery({ filter: '{"=": {"name": "x"}}' }, ALARM_HISTORY_QUERY_FIELDS)).toThrow(/names 'name', expected one of event_id/);
  });
});
