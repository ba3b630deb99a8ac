/**
 * Aodh's event alarms (aodh/evaluator/event.py): an event of a project fires that
 * project's enabled event alarms whose `event_type` pattern (fnmatch: `*`, `?`, `[...]`)
 * matches and whose every query condition holds. A firing sets `alarm`; the event
 * evaluator never sets ok or insufficient data (those come from the API). An alarm
 * already in alarm without repeat_actions is skipped; with repeat_actions every matching
 * event notifies again and is recorded in the history.
 */
import type { Event } from '../../core/index.ts';
import type { Alarm } from '../../storage/index.ts';
import type { Decision } from './threshold.ts';

interface QueryCondition {
  field: string;
  op: 'lt' | 'le' | 'eq' | 'ne' | 'ge' | 'gt';
  value: string;
  type: '' | 'string' | 'integer' | 'float' | 'boolean' | 'datetime';
}

type Comparable = string | number | boolean | null;

/** fnmatch's pattern as a regular expression (the whole text, case-sensitive as on POSIX). */
export function fnmatchPattern(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else if (ch === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) out += '\\[';
      else {
        let set = pattern.slice(i + 1, close).replace(/\\/g, '\\\\');
        if (set.startsWith('!')) set = `^${set.slice(1)}`;
        else if (set.startsWith('^')) set = `\\${set}`;
        out += `[${set}]`;
        i = close;
      }
    } else out += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, 's');
}

/** Aodh's _sanitize_trait_value, by a query type or an event trait type. */
function typed(value: unknown, type: string): Comparable {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'integer':
    case 'int':
      return Math.trunc(Number(value));
    case 'float':
      return Number(value);
    case 'datetime': {
      const ms = Date.parse(String(value));
      return Number.isNaN(ms) ? null : ms;
    }
    case 'boolean':
      return typeof value === 'boolean' ? value : /^true$/i.test(String(value));
    default:
      return typeof value === 'number' || typeof value === 'boolean' ? String(value) : String(value);
  }
}

/** The project an event belongs to: its tenant_id or project_id trait, as Aodh reads it ('' when none). */
export function eventProject(event: Event): string {
  let project = '';
  for (const t of event.traits) if (t.name === 'tenant_id' || t.name === 'project_id') project = String(t.value);
  return project;
}

/** A field of the event: `traits.<name>` (typed by the trait), or a path into the event (`event_type`, `raw.payload.x`). */
function fieldValue(event: Event, field: string): { value: Comparable; traitType?: string } {
  if (field.startsWith('traits.')) {
    const name = field.slice('traits.'.length);
    let found: { value: Comparable; traitType?: string } = { value: null };
    for (const t of event.traits) if (t.name === name) found = { value: typed(t.value, t.type), traitType: t.type };
    return found;
  }
  let v: unknown = event;
  for (const part of field.split('.')) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[part] : undefined;
  return { value: v === undefined || v === null ? null : typeof v === 'object' ? JSON.stringify(v) : (v as Comparable) };
}

/** Python's comparison of two values: different types are never equal and never ordered. */
function compare(op: QueryCondition['op'], left: Comparable, right: Comparable): boolean {
  const sameType = left !== null && right !== null && typeof left === typeof right;
  switch (op) {
    case 'eq':
      return sameType && left === right;
    case 'ne':
      return !(sameType && left === right);
    default: {
      if (!sameType) return false;
      const l = left as string | number;
      const r = right as string | number;
      return op === 'lt' ? l < r : op === 'le' ? l <= r : op === 'gt' ? l > r : l >= r;
    }
  }
}

/** Whether the event matches the alarm's event_type and every condition of its query. */
export function eventMatches(alarm: Alarm, event: Event): boolean {
  if (!fnmatchPattern(String(alarm.rule.event_type ?? '*')).test(event.event_type)) return false;
  const query = (alarm.rule.query ?? []) as QueryCondition[];
  return query.every((q) => {
    const { value } = fieldValue(event, q.field);
    // Trait conditions read the query value as its type (string by default), as Aodh does.
    const expected = q.field.startsWith('traits.') ? typed(q.value, q.type || 'string') : typed(q.value, q.type || (typeof value === 'number' ? 'float' : typeof value === 'boolean' ? 'boolean' : 'string'));
    return compare(q.op, value, expected);
  });
}

/** Aodh's _evaluate_alarm + _fire_alarm: what an event does to one event alarm (null: nothing). */
export function eventDecision(alarm: Alarm, event: Event): Decision | null {
  if (!alarm.repeat_actions && alarm.state === 'alarm') return null;
  if (!eventMatches(alarm, event)) return null;
  const query = pythonJson(alarm.rule.query ?? []);
  return {
    state: 'alarm',
    reason: `Event <id=${event.message_id},event_type=${event.event_type}> hits the query <query=${query}>.`,
    reasonData: { type: 'event', event },
    alwaysRecord: alarm.repeat_actions,
  };
}

/** Python's json.dumps(value, sort_keys=True): Aodh's reason text quotes the query that way. */
export function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${pythonJson(v)}`).join(', ')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A stream record's bytes as an event, or null when they are not one (the pipeline dead-letters those). */
export function parseEvent(bytes: Buffer): Event | null {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as Partial<Event>;
    if (typeof value !== 'object' || value === null || typeof value.event_type !== 'string' || value.event_type === '' || typeof value.message_id !== 'string' || value.message_id === '') return null;
    return { message_id: value.message_id, event_type: value.event_type, generated: String(value.generated ?? ''), traits: Array.isArray(value.traits) ? value.traits.filter((t) => typeof t?.name === 'string') : [], raw: (value.raw ?? {}) as Record<string, unknown> };
  } catch {
    return null;
  }
}
