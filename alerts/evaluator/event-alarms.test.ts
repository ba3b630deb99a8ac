import { describe, expect, it } from 'vitest';
import type { Event } from '../../core/index.ts';
import { parseAlarm, type Alarm, type AlarmState } from '../../storage/index.ts';
import { eventDecision, eventMatches, eventProject, fnmatchPattern, parseEvent, pythonJson } from './event-alarms.ts';

const owner = { project_id: 'p1', user_id: 'u1' };
function alarm(rule: Record<string, unknown>, state: AlarmState = 'insufficient data', repeat_actions = false): Alarm {
  const { definition } = parseAlarm({ name: 'ev', type: 'event', event_rule: rule, repeat_actions }, owner);
  return { ...definition, alarm_id: 'a1', state, state_reason: '', state_timestamp: '', timestamp: '' };
}
const event = (event_type: string, traits: Event['traits']): Event => ({ message_id: 'm1', event_type, generated: '2026-11-24T10:00:00Z', traits, raw: {} });
const created = event('compute.instance.create.end', [
  { name: 'project_id', type: 'string', value: 'p1' },
  { name: 'state', type: 'string', value: 'active' },
  { name: 'memory_mb', type: 'int', value: 2048 },
  { name: 'launched_at', type: 'datetime', value: '2026-11-24T09:59:00Z' },
]);

describe('event alarms (Aodh event evaluator)', () => {
  it('matches event types with fnmatch patterns', () => {
    expect(fnmatchPattern('compute.instance.*').test('compute.instance.create.end')).toBe(true);
    expect(fnmatchPattern('compute.instance.*').test('volume.create.end')).toBe(false);
    expect(fnmatchPattern('*.create.?nd').test('volume.create.end')).toBe(true);
    expect(fnmatchPattern('image.[!d]*').test('image.upload')).toBe(true);
    expect(fnmatchPattern('image.[!d]*').test('image.delete')).toBe(false);
    expect(fnmatchPattern('a.b').test('axb')).toBe(false);
  });

  it('checks every trait condition with the query value read as its type', () => {
    expect(eventMatches(alarm({ event_type: 'compute.instance.*', query: [{ field: 'traits.state', op: 'eq', value: 'active' }] }), created)).toBe(true);
    expect(eventMatches(alarm({ event_type: 'compute.instance.*', query: [{ field: 'traits.state', op: 'eq', value: 'error' }] }), created)).toBe(false);
    expect(eventMatches(alarm({ query: [{ field: 'traits.memory_mb', op: 'ge', value: '2048', type: 'integer' }] }), created)).toBe(true);
    expect(eventMatches(alarm({ query: [{ field: 'traits.memory_mb', op: 'gt', value: '2048', type: 'integer' }] }), created)).toBe(false);
    // A string query against an int trait: never equal (Python compares types first).
    expect(eventMatches(alarm({ query: [{ field: 'traits.memory_mb', op: 'eq', value: '2048' }] }), created)).toBe(false);
    expect(eventMatches(alarm({ query: [{ field: 'traits.launched_at', op: 'lt', value: '2026-11-24T10:00:00Z', type: 'datetime' }] }), created)).toBe(true);
    expect(eventMatches(alarm({ query: [{ field: 'traits.absent', op: 'eq', value: 'x' }] }), created)).toBe(false);
    expect(eventMatches(alarm({ query: [{ field: 'event_type', op: 'eq', value: 'compute.instance.create.end' }] }), created)).toBe(true);
  });

  it('fires alarm with Aodh reason; an alarm already firing is skipped unless repeat_actions', () => {
    const rule = { event_type: 'compute.instance.create.end', query: [{ field: 'traits.state', op: 'eq', value: 'active' }] };
    const decision = eventDecision(alarm(rule, 'ok'), created);
    expect(decision).toEqual({
      state: 'alarm',
      reason: 'Event <id=m1,event_type=compute.instance.create.end> hits the query <query=[{"field": "traits.state", "op": "eq", "type": "", "value": "active"}]>.',
      reasonData: { type: 'event', event: created },
      alwaysRecord: false,
    });
    expect(eventDecision(alarm(rule, 'alarm'), created)).toBeNull();
    expect(eventDecision(alarm(rule, 'alarm', true), created)).toMatchObject({ state: 'alarm', alwaysRecord: true });
  });

  it('reads the project from tenant_id or project_id traits, and parses stream records', () => {
    expect(eventProject(created)).toBe('p1');
    expect(eventProject(event('x', [{ name: 'tenant_id', type: 'string', value: 't9' }]))).toBe('t9');
    expect(eventProject(event('x', []))).toBe('');
    expect(parseEvent(Buffer.from(JSON.stringify(created)))).toEqual(created);
    expect(parseEvent(Buffer.from('{"event_type": ""}'))).toBeNull();
    expect(parseEvent(Buffer.from('not json'))).toBeNull();
    expect(pythonJson({ b: [1, 'x'], a: null })).toBe('{"a": null, "b": [1, "x"]}');
  });
});
