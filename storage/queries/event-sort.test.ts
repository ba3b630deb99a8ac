import { describe, expect, it } from 'vitest';
import { eventSortOrder, keysetAfter, selectEvents } from './events.ts';

describe("events: Panko's sort and keyset pages", () => {
  it('makes every order total by ending it with message_id', () => {
    expect(eventSortOrder({})).toEqual([
      { key: 'generated', dir: 'asc' },
      { key: 'message_id', dir: 'asc' },
    ]);
    expect(eventSortOrder({ sort: [{ key: 'generated', dir: 'desc' }] })).toEqual([
      { key: 'generated', dir: 'desc' },
      { key: 'message_id', dir: 'asc' },
    ]);
    expect(eventSortOrder({ sort: [{ key: 'message_id', dir: 'desc' }, { key: 'generated', dir: 'asc' }, { key: 'message_id', dir: 'asc' }] })).toEqual([
      { key: 'message_id', dir: 'desc' },
      { key: 'generated', dir: 'asc' },
    ]);
  });

  it('compares one tuple when all keys run one way, and expands mixed directions', () => {
    expect(keysetAfter([{ key: 'generated', dir: 'desc' }, { key: 'message_id', dir: 'desc' }])).toBe(
      "(generated, message_id) < (parseDateTime64BestEffort({after_generated:String}, 6, 'UTC'), {after_message_id:String})",
    );
    expect(keysetAfter([{ key: 'generated', dir: 'desc' }, { key: 'message_id', dir: 'asc' }])).toBe(
      "((generated < parseDateTime64BestEffort({after_generated:String}, 6, 'UTC')) OR (generated = parseDateTime64BestEffort({after_generated:String}, 6, 'UTC') AND message_id > {after_message_id:String}))",
    );
  });

  it('binds every value: the SQL text never holds one', () => {
    const q = selectEvents({ projectId: "p' OR 1=1", project: "x'--", messageId: 'm\\', eventTypes: ["a'"], limit: 5, after: { generated: '2026-01-01 00:00:00', messageId: "m'" }, sort: [{ key: 'message_id', dir: 'desc' }] });
    expect(q.sql).not.toMatch(/OR 1=1|x'--|m\\|a'|m'/);
    expect(q.sql).toMatch(/ORDER BY message_id DESC LIMIT/);
    expect(q.params).toMatchObject({ project_id: "p' OR 1=1", asked_project_id: "x'--", message_id: 'm\\', event_types: ["a'"], after_message_id: "m'" });
  });
});
