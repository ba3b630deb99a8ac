import { InvalidInputError, type Event, type Trait, type TraitType } from '../../core/index.ts';
import type { BoundQuery } from '../driver.ts';

/**
 * Queries on `events` (migration 4): Panko's event listing with its trait filters,
 * one event by message id, the event types and the traits an event type has. Stable.
 */

/** Panko's trait filter operators. */
export const TRAIT_OPERATORS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
export type TraitOperator = (typeof TRAIT_OPERATORS)[number];

const OPERATOR_SQL: Record<TraitOperator, string> = { eq: '=', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' };

/** Which map holds a trait type, and the parameter type its values bind as. */
const TRAIT_COLUMNS: Record<TraitType, { column: string; bind: (name: string) => string }> = {
  string: { column: 'traits_string', bind: (p) => `{${p}:String}` },
  int: { column: 'traits_int', bind: (p) => `{${p}:Int64}` },
  float: { column: 'traits_float', bind: (p) => `{${p}:Float64}` },
  // ISO 8601 with any offset, microseconds kept (a Date parameter would keep milliseconds only).
  datetime: { column: 'traits_datetime', bind: (p) => `parseDateTime64BestEffort({${p}:String}, 6, 'UTC')` },
};

/**
 * A Panko trait filter: the event has trait `name` of `type` and its value compares to
 * `value` with `op` (default eq). An event without the trait never matches, `ne` included.
 */
export interface TraitFilter {
  name: string;
  type: TraitType;
  op?: TraitOperator;
  value: string | number;
}

/** Panko's sort keys; `message_id` is unique, so a sort that ends with it is total. */
export const EVENT_SORT_KEYS = ['generated', 'message_id'] as const;
export type EventSortKey = (typeof EVENT_SORT_KEYS)[number];
export interface EventSort {
  key: EventSortKey;
  dir: 'asc' | 'desc';
}

export interface EventQuery {
  /** Only this project's events; null: every project (admin). */
  projectId: string | null;
  /** Only events of this project (a filter the caller asked for, on top of `projectId`). */
  project?: string;
  /** Any of these event types (exact names). */
  eventTypes?: readonly string[];
  messageId?: string;
  /** Inclusive lower bound on `generated`. */
  start?: Date;
  /** Upper bound on `generated`: exclusive, or inclusive with `endInclusive` (Panko's end_timestamp). */
  end?: Date;
  endInclusive?: boolean;
  resourceId?: string;
  traits?: readonly TraitFilter[];
  limit: number;
  /** By (generated, message_id); ascending (Panko's order) unless told. */
  order?: 'asc' | 'desc';
  /**
   * Keyset pagination: the page starts after this event (the previous page's last row, as
   * returned). Stable while events are inserted, unlike an offset.
   */
  after?: { generated: string; messageId: string };
  /**
   * Panko's `sort` (keys and directions, in order); overrides `order`. `message_id` is
   * appended ascending when missing, so pages never tie. `after` is then read in this order.
   */
  sort?: readonly EventSort[];
}

/** A row of {@link selectEvents} / {@link selectEvent}: times as ClickHouse writes them (`2026-01-01 10:00:00.123456`, UTC). */
export interface EventRow {
  message_id: string;
  event_type: string;
  generated: string;
  project_id: string;
  resource_id: string;
  traits_string: Record<string, string>;
  /** Int64 values arrive as decimal strings (see PINNED_SETTINGS). */
  traits_int: Record<string, string | number>;
  traits_float: Record<string, number>;
  traits_datetime: Record<string, string>;
  raw: string;
}

const COLUMNS = 'message_id, event_type, generated, project_id, resource_id, traits_string, traits_int, traits_float, traits_datetime, raw';

/** A stored DateTime64(6) as ISO 8601 UTC with `+00:00`, the form the collectors write. */
const isoUtc = (stored: string) => `${stored.replace(' ', 'T')}+00:00`;

function badFilter(message: string): InvalidInputError {
  return new InvalidInputError('CUMULUS_STORAGE_BAD_FILTER', message);
}

/** The value of a trait filter as its parameter binds, or a 400 naming what was expected. */
function traitValue(filter: TraitFilter): string | number | bigint {
  const { type, value, name } = filter;
  switch (type) {
    case 'string':
      return String(value);
    case 'int': {
      const text = String(value).trim();
      if (!/^[+-]?\d+$/.test(text)) throw badFilter(`trait ${name} (int) needs an integer value, got ${JSON.stringify(value)}`);
      const n = BigInt(text);
      if (n > 9_223_372_036_854_775_807n || n < -9_223_372_036_854_775_808n) throw badFilter(`trait ${name} (int) needs a 64-bit integer, got ${text}`);
      return n;
    }
    case 'float': {
      const n = typeof value === 'number' ? value : Number(String(value).trim());
      if (String(value).trim() === '' || !Number.isFinite(n)) throw badFilter(`trait ${name} (float) needs a finite number, got ${JSON.stringify(value)}`);
      return n;
    }
    case 'datetime':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw badFilter(`trait ${name} (datetime) needs an ISO 8601 timestamp, got ${JSON.stringify(value)}`);
      return value;
    default:
      throw badFilter(`trait ${name}: type must be one of string, int, float, datetime, got ${JSON.stringify(type)}`);
  }
}

function traitConditions(filters: readonly TraitFilter[], params: Record<string, unknown>): string[] {
  return filters.map((filter, i) => {
    const op = filter.op ?? 'eq';
    if (!TRAIT_OPERATORS.includes(op)) throw badFilter(`trait ${filter.name}: op must be one of ${TRAIT_OPERATORS.join(', ')}, got ${JSON.stringify(op)}`);
    const target = TRAIT_COLUMNS[filter.type];
    if (target === undefined) throw badFilter(`trait ${filter.name}: type must be one of string, int, float, datetime, got ${JSON.stringify(filter.type)}`);
    params[`trait_name_${i}`] = filter.name;
    params[`trait_value_${i}`] = traitValue(filter);
    const key = `{trait_name_${i}:String}`;
    // mapContains first: a missing key reads as the type's default ('' or 0), which must not match.
    return `mapContains(${target.column}, ${key}) AND ${target.column}[${key}] ${OPERATOR_SQL[op]} ${target.bind(`trait_value_${i}`)}`;
  });
}

const SORT_SQL: Record<EventSortKey, { column: string; after: string }> = {
  generated: { column: 'generated', after: "parseDateTime64BestEffort({after_generated:String}, 6, 'UTC')" },
  message_id: { column: 'message_id', after: '{after_message_id:String}' },
};

/** The total order a query reads in: the sort asked for, then message_id ascending if absent. */
export function eventSortOrder(q: Pick<EventQuery, 'sort' | 'order'>): EventSort[] {
  const sort: EventSort[] = q.sort && q.sort.length > 0 ? [...q.sort] : [{ key: 'generated', dir: q.order ?? 'asc' }, { key: 'message_id', dir: q.order ?? 'asc' }];
  // A key repeated later in the list cannot change the order: keep its first use only.
  const unique = sort.filter((s, i) => sort.findIndex((t) => t.key === s.key) === i);
  if (!unique.some((s) => s.key === 'message_id')) unique.push({ key: 'message_id', dir: 'asc' });
  return unique;
}

/**
 * Rows after a given row in `order`: one tuple comparison when every key runs the same
 * way (the sort key can serve it), else the expanded form
 * `k1 > v1 OR (k1 = v1 AND k2 < v2) ...`.
 */
export function keysetAfter(order: readonly EventSort[]): string {
  if (order.every((s) => s.dir === order[0]?.dir)) {
    const op = order[0]?.dir === 'desc' ? '<' : '>';
    return `(${order.map((s) => SORT_SQL[s.key].column).join(', ')}) ${op} (${order.map((s) => SORT_SQL[s.key].after).join(', ')})`;
  }
  const terms = order.map((s, i) => {
    const equal = order.slice(0, i).map((p) => `${SORT_SQL[p.key].column} = ${SORT_SQL[p.key].after}`);
    return [...equal, `${SORT_SQL[s.key].column} ${s.dir === 'desc' ? '<' : '>'} ${SORT_SQL[s.key].after}`].join(' AND ');
  });
  return `(${terms.map((t) => `(${t})`).join(' OR ')})`;
}

/** Events matching the filters, a page at a time. */
export function selectEvents(q: EventQuery): BoundQuery {
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: q.limit };
  if (q.projectId !== null) {
    where.push('project_id = {project_id:String}');
    params.project_id = q.projectId;
  }
  if (q.project !== undefined) {
    where.push('project_id = {asked_project_id:String}');
    params.asked_project_id = q.project;
  }
  if (q.eventTypes !== undefined) {
    where.push('event_type IN {event_types:Array(String)}');
    params.event_types = [...q.eventTypes];
  }
  if (q.messageId !== undefined) {
    where.push('message_id = {message_id:String}');
    params.message_id = q.messageId;
  }
  if (q.start !== undefined) {
    where.push("generated >= {start:DateTime64(6, 'UTC')}");
    params.start = q.start;
  }
  if (q.end !== undefined) {
    where.push(`generated ${q.endInclusive ? '<=' : '<'} {end:DateTime64(6, 'UTC')}`);
    params.end = q.end;
  }
  if (q.resourceId !== undefined) {
    where.push('resource_id = {resource_id:String}');
    params.resource_id = q.resourceId;
  }
  where.push(...traitConditions(q.traits ?? [], params));
  const order = eventSortOrder(q);
  if (q.after !== undefined) {
    where.push(keysetAfter(order));
    params.after_generated = q.after.generated;
    params.after_message_id = q.after.messageId;
  }
  return {
    sql: `SELECT ${COLUMNS} FROM events FINAL${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}
      ORDER BY ${order.map((s) => `${SORT_SQL[s.key].column} ${s.dir.toUpperCase()}`).join(', ')} LIMIT {limit:UInt32}`,
    params,
  };
}

/** One event by message id; when `projectId` is given, only if it belongs to that project. */
export function selectEvent(messageId: string, projectId: string | null): BoundQuery {
  return {
    sql: `SELECT ${COLUMNS} FROM events FINAL WHERE message_id = {message_id:String}${projectId === null ? '' : ' AND project_id = {project_id:String}'} LIMIT 1`,
    params: projectId === null ? { message_id: messageId } : { message_id: messageId, project_id: projectId },
  };
}

/** The event types stored (Panko's /v2/event_types), sorted. */
export function selectEventTypes(projectId: string | null): BoundQuery {
  return {
    sql: `SELECT DISTINCT event_type FROM events${projectId === null ? '' : ' WHERE project_id = {project_id:String}'} ORDER BY event_type`,
    params: projectId === null ? {} : { project_id: projectId },
  };
}

/** The traits (name and type) events of one type carry (Panko's /v2/event_types/{type}/traits), sorted. */
export function selectTraitDescriptions(eventType: string, projectId: string | null): BoundQuery {
  return {
    sql: `SELECT DISTINCT name, type FROM (
        SELECT arrayJoin(arrayConcat(
          arrayMap(k -> (k, 'string'), mapKeys(traits_string)),
          arrayMap(k -> (k, 'int'), mapKeys(traits_int)),
          arrayMap(k -> (k, 'float'), mapKeys(traits_float)),
          arrayMap(k -> (k, 'datetime'), mapKeys(traits_datetime)))) AS trait,
          trait.1 AS name, trait.2 AS type
        FROM events WHERE event_type = {event_type:String}${projectId === null ? '' : ' AND project_id = {project_id:String}'})
      ORDER BY name, type`,
    params: projectId === null ? { event_type: eventType } : { event_type: eventType, project_id: projectId },
  };
}

/** A row of {@link selectTraitValues}: the value as text (Int64 exact, DateTime64 as stored). */
export interface TraitValueRow {
  name: string;
  type: TraitType;
  value: string;
}

/**
 * Every value of one trait in the events of one type (Panko's
 * /v2/event_types/{type}/traits/{name}): string values first, then int, float, datetime
 * (Panko reads its four trait tables in that order), each in event order; at most `limit`.
 */
export function selectTraitValues(eventType: string, traitName: string, projectId: string | null, limit: number): BoundQuery {
  const project = projectId === null ? '' : ' AND project_id = {project_id:String}';
  const part = (rank: number, type: TraitType, column: string) =>
    `SELECT ${rank} AS rank, '${type}' AS type, toString(${column}[{trait_name:String}]) AS value, generated, message_id
      FROM events FINAL WHERE event_type = {event_type:String} AND mapContains(${column}, {trait_name:String})${project}`;
  const parts = [part(1, 'string', 'traits_string'), part(2, 'int', 'traits_int'), part(3, 'float', 'traits_float'), part(4, 'datetime', 'traits_datetime')];
  return {
    sql: `SELECT {trait_name:String} AS name, type, value FROM (${parts.join('\n      UNION ALL ')})
      ORDER BY rank, generated, message_id LIMIT {limit:UInt32}`,
    params: { event_type: eventType, trait_name: traitName, limit, ...(projectId === null ? {} : { project_id: projectId }) },
  };
}

/**
 * An event as the collectors published it, from its row: traits grouped by type (as Panko
 * returns them), in stored order within a type; times with six fractional digits.
 */
export function eventFromRow(row: EventRow): Event {
  const traits: Trait[] = [
    ...Object.entries(row.traits_string).map(([name, value]): Trait => ({ name, type: 'string', value })),
    ...Object.entries(row.traits_int).map(([name, value]): Trait => ({ name, type: 'int', value: Number(value) })),
    ...Object.entries(row.traits_float).map(([name, value]): Trait => ({ name, type: 'float', value: Number(value) })),
    ...Object.entries(row.traits_datetime).map(([name, value]): Trait => ({ name, type: 'datetime', value: isoUtc(value) })),
  ];
  return { message_id: row.message_id, event_type: row.event_type, generated: isoUtc(row.generated), traits, raw: JSON.parse(row.raw) as Record<string, unknown> };
}
