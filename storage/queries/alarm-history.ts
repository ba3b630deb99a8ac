import type { ComplexFilter, ComplexQuery } from '../alarms/query.ts';
import type { AlarmChange } from '../alarms/store.ts';
import type { BoundQuery } from '../driver.ts';

/**
 * Writes and reads `alarm_history` (migration 6): Aodh's alarm changes per alarm, newest
 * first (Aodh's order). Stable.
 */
export const ALARM_HISTORY_TABLE = 'alarm_history';
/** Aodh's default page of history (api `default_api_return_limit`). */
export const DEFAULT_ALARM_HISTORY_LIMIT = 100;
export const MAX_ALARM_HISTORY_LIMIT = 1000;

/** The rows to insert for `changes` and the deduplication token that makes a retried insert count once. */
export function alarmHistoryInsert(changes: readonly AlarmChange[]): { table: string; rows: AlarmChange[]; dedupToken: string } {
  return { table: ALARM_HISTORY_TABLE, rows: changes.map((c) => ({ ...c })), dedupToken: `alarm-history:${changes.map((c) => c.event_id).join(',')}` };
}

export interface AlarmHistoryFilter {
  alarmId: string;
  /** Only changes of alarms this project owns (null: operators, every project). */
  onBehalfOf: string | null;
  limit?: number;
  /** Changes strictly older than this event (the previous page's last event_id). */
  before?: { timestamp: string; eventId: string };
}

// The text time is aliased `at`: an alias named `timestamp` would shadow the column in WHERE and ORDER BY.
const COLUMNS = "event_id, alarm_id, type, detail, reason, severity, user_id, project_id, on_behalf_of, formatDateTime(timestamp, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC') AS at";

/** A row as selected: `at` is the ISO 8601 time (microseconds, UTC). */
export type AlarmHistoryRow = Omit<AlarmChange, 'timestamp'> & { at: string };

/** The row as Aodh shows a change (`timestamp`). */
export const alarmHistoryView = ({ at, ...rest }: AlarmHistoryRow): AlarmChange => ({ ...rest, timestamp: at });

export function selectAlarmHistory(f: AlarmHistoryFilter): BoundQuery {
  const where = ['alarm_id = {alarm_id:String}'];
  const params: Record<string, unknown> = { alarm_id: f.alarmId, limit: Math.min(Math.max(1, f.limit ?? DEFAULT_ALARM_HISTORY_LIMIT), MAX_ALARM_HISTORY_LIMIT) };
  if (f.onBehalfOf !== null) {
    where.push('on_behalf_of = {on_behalf_of:String}');
    params.on_behalf_of = f.onBehalfOf;
  }
  if (f.before) {
    where.push("(timestamp, event_id) < (parseDateTime64BestEffort({before_ts:String}, 6, 'UTC'), {before_id:String})");
    params.before_ts = f.before.timestamp;
    params.before_id = f.before.eventId;
  }
  return { sql: `SELECT ${COLUMNS} FROM ${ALARM_HISTORY_TABLE} WHERE ${where.join(' AND ')} ORDER BY timestamp DESC, event_id DESC LIMIT {limit:UInt32}`, params };
}

/** The one event a marker names (to page from it). */
export function selectAlarmHistoryEvent(alarmId: string, eventId: string): BoundQuery {
  return { sql: `SELECT ${COLUMNS} FROM ${ALARM_HISTORY_TABLE} WHERE alarm_id = {alarm_id:String} AND event_id = {event_id:String} LIMIT 1`, params: { alarm_id: alarmId, event_id: eventId } };
}

const COMPARISONS: Record<string, string> = { '=': '=', '!=': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

/**
 * Aodh's POST /v2/query/alarms/history: a validated complex query (storage/alarms/query.ts,
 * on ALARM_HISTORY_QUERY_FIELDS) as SQL. Field names come from that allow-list; every value
 * is a bound parameter. A member's search is ANDed with on_behalf_of = their project.
 */
export function searchAlarmHistory(query: ComplexQuery, onBehalfOf: string | null): BoundQuery {
  const params: Record<string, unknown> = {};
  let n = 0;
  const bind = (value: unknown, type: string) => {
    const name = `p${n++}`;
    params[name] = value;
    return `{${name}:${type}}`;
  };
  const value = (field: string, v: unknown) => (field === 'timestamp' ? `parseDateTime64BestEffort(${bind(String(v), 'String')}, 6, 'UTC')` : bind(String(v), 'String'));
  const compile = (node: ComplexFilter): string => {
    const [op, operand] = Object.entries(node)[0]!;
    if (op === 'and' || op === 'or') return `(${(operand as ComplexFilter[]).map(compile).join(op === 'and' ? ' AND ' : ' OR ')})`;
    if (op === 'not') return `NOT ${compile(operand as ComplexFilter)}`;
    const [field, expected] = Object.entries(operand as Record<string, unknown>)[0]!;
    if (op === 'in') return `(${field} IN (${(expected as unknown[]).map((v) => value(field, v)).join(', ')}))`;
    const sqlOp = COMPARISONS[op];
    if (sqlOp === undefined) throw new Error(`searchAlarmHistory: operator ${op} was not validated`);
    return `(${field} ${sqlOp} ${value(field, expected)})`;
  };
  const where: string[] = [];
  if (query.filter) where.push(compile(query.filter));
  if (onBehalfOf !== null) where.push(`on_behalf_of = ${bind(onBehalfOf, 'String')}`);
  const order = query.orderby.length > 0 ? query.orderby.map((o) => `${o.field} ${o.dir.toUpperCase()}`).join(', ') : 'timestamp DESC, event_id DESC';
  params.limit = Math.min(query.limit ?? MAX_ALARM_HISTORY_LIMIT, MAX_ALARM_HISTORY_LIMIT);
  return { sql: `SELECT ${COLUMNS} FROM ${ALARM_HISTORY_TABLE}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT {limit:UInt32}`, params };
}
