import type { BoundQuery } from '../driver.ts';

/**
 * Reports on `rated_usage` (migration 4), read with FINAL (the latest rating of a period
 * wins): CloudKitty's totals grouped by any key (/v1/report, /v2/summary), its dataframes a
 * page at a time (/v2/dataframes), and the projects rated in a period. Money is summed as
 * Decimal inside ClickHouse (exact) and read back as decimal text, never as a float. Stable.
 *
 * Keys name what reports group and filter by, as CloudKitty does: `type` (the rated
 * service, CloudKitty's metric type), `project_id`, `user_id`, `id` (the resource), and any
 * other key a frame's `groupby` holds (`stack_id`, `tag:<name>`, ...); filters also match a
 * frame's `metadata` (flavor_name, volume_type, ...). Time keys group by period: `time`
 * (each rated period), `time-d`, `time-w`, `time-m`, `time-y` (day of the year, week of the
 * year (Sunday first, as strftime's %U), month, year of the period's start).
 */

/** Columns that are keys of their own; every other key lives in the `groupby` (and `metadata`) maps. */
const KEY_COLUMNS: ReadonlyMap<string, string> = new Map([
  ['type', 'service'],
  ['project_id', 'project_id'],
  ['user_id', 'user_id'],
  ['id', 'resource_id'],
]);

/** The time groupings and the result key each fills (CloudKitty's TIME_COMMANDS_MAP). */
export const TIME_GROUP_KEYS: ReadonlyMap<string, string> = new Map([
  ['time-d', 'day_of_the_year'],
  ['time-w', 'week_of_the_year'],
  ['time-m', 'month'],
  ['time-y', 'year'],
]);

// Maps, not objects: a key is caller input, and `constructor` must not find Object's.
const TIME_GROUP_EXPRESSIONS: ReadonlyMap<string, string> = new Map([
  ['time-d', 'toString(toDayOfYear(period_start))'],
  // strftime's %U: weeks start on Sunday, days before the first Sunday are week 00.
  ['time-w', "leftPad(toString(intDiv(toDayOfYear(period_start) + 6 - toDayOfWeek(period_start) % 7, 7)), 2, '0')"],
  ['time-m', 'toString(toMonth(period_start))'],
  ['time-y', 'toString(toYear(period_start))'],
]);

/** Groups by each rated period: the result's begin and end are the period's. */
export const TIME_GROUP = 'time';

/** What a report reads: whose rows, which periods, which keys must match. */
export interface RatedUsageFilters {
  /** Only this project's rows (a member's own); null: every project (admin). */
  readonly scope: string | null;
  /** Inclusive lower bound on `period_start`. */
  readonly begin: Date;
  /** Exclusive upper bound on `period_start`. */
  readonly end: Date;
  /** Each key must have one of its values (keys AND-ed, values OR-ed); values are compared exactly. */
  readonly match?: ReadonlyArray<readonly [key: string, values: readonly string[]]>;
}

/** The WHERE conditions of a report; parameters land in `params`, keys and values alike. */
function conditions(f: RatedUsageFilters, params: Record<string, unknown>): string {
  const where = ["period_start >= {begin:DateTime64(3, 'UTC')}", "period_start < {end:DateTime64(3, 'UTC')}"];
  params.begin = f.begin;
  params.end = f.end;
  if (f.scope !== null) {
    where.push('project_id = {scope:String}');
    params.scope = f.scope;
  }
  (f.match ?? []).forEach(([key, values], i) => {
    const v = `fv${i}`;
    params[v] = [...values];
    const column = KEY_COLUMNS.get(key);
    if (column !== undefined) {
      where.push(`${column} IN {${v}:Array(String)}`);
      return;
    }
    const k = `fk${i}`;
    params[k] = key;
    where.push(`((mapContains(groupby, {${k}:String}) AND groupby[{${k}:String}] IN {${v}:Array(String)}) OR (mapContains(metadata, {${k}:String}) AND metadata[{${k}:String}] IN {${v}:Array(String)}))`);
  });
  return where.join(' AND ');
}

/** One grouping key as SQL: the columns it selects (aliased `g<i>`, or `t_begin`/`t_end` for `time`). */
function groupColumns(key: string, i: number, params: Record<string, unknown>): string[] {
  if (key === TIME_GROUP) return ['period_start AS t_begin', 'period_end AS t_end'];
  const column = KEY_COLUMNS.get(key) ?? TIME_GROUP_EXPRESSIONS.get(key);
  if (column !== undefined) return [`${column} AS g${i}`];
  params[`gk${i}`] = key;
  return [`groupby[{gk${i}:String}] AS g${i}`];
}

const groupAliases = (groupby: readonly string[]): string[] => groupby.flatMap((key, i) => (key === TIME_GROUP ? ['t_begin', 't_end'] : [`g${i}`]));

/** A row of {@link selectRatedTotals}: sums as decimal text, `g<i>` the i-th grouping key's value. */
export interface RatedTotalRow {
  readonly qty: string;
  readonly rate: string;
  /** With the `time` grouping: the period, as ClickHouse writes DateTime (`2026-01-01 10:00:00`, UTC). */
  readonly t_begin?: string;
  readonly t_end?: string;
  readonly [group: `g${number}`]: string;
}

export interface RatedTotalsQuery {
  readonly filters: RatedUsageFilters;
  /** Grouping keys, in order (no duplicates); none: one grand total (no row when nothing matched). */
  readonly groupby: readonly string[];
  readonly offset: number;
  readonly limit: number;
}

/**
 * Quantity and cost summed per group, a page at a time, ordered by the grouping keys in
 * their order (each group once, so pages are stable and complete).
 */
export function selectRatedTotals(q: RatedTotalsQuery): BoundQuery {
  const params: Record<string, unknown> = { offset: q.offset, limit: q.limit };
  const where = conditions(q.filters, params);
  const groups = q.groupby.flatMap((key, i) => groupColumns(key, i, params));
  const aliases = groupAliases(q.groupby);
  const grouping = aliases.length > 0 ? ` GROUP BY ${aliases.join(', ')} ORDER BY ${aliases.join(', ')}` : ' HAVING count() > 0';
  const sql =
    `SELECT toString(sum(quantity)) AS qty, toString(sum(cost)) AS rate${groups.map((g) => `, ${g}`).join('')}` +
    ` FROM rated_usage FINAL WHERE ${where}${grouping} LIMIT {limit:UInt32} OFFSET {offset:UInt64}`;
  return { sql, params };
}

/** How many groups {@link selectRatedTotals} pages through: `[{total: "12"}]`. */
export function countRatedTotals(q: Omit<RatedTotalsQuery, 'offset' | 'limit'>): BoundQuery {
  const params: Record<string, unknown> = {};
  const where = conditions(q.filters, params);
  if (q.groupby.length === 0) return { sql: `SELECT toUInt64(count() > 0) AS total FROM rated_usage FINAL WHERE ${where}`, params };
  const groups = q.groupby.flatMap((key, i) => groupColumns(key, i, params));
  return { sql: `SELECT count() AS total FROM (SELECT ${groups.join(', ')} FROM rated_usage FINAL WHERE ${where} GROUP BY ${groupAliases(q.groupby).join(', ')})`, params };
}

/** A row of {@link selectRatedFrames}: one rated frame, money and quantity as decimal text. */
export interface RatedFrameRow {
  readonly project_id: string;
  readonly user_id: string;
  readonly resource_id: string;
  readonly service: string;
  /** As ClickHouse writes DateTime: `2026-01-01 10:00:00` (UTC). */
  readonly period_start: string;
  readonly period_end: string;
  readonly qty: string;
  readonly unit: string;
  readonly cost: string;
  readonly groupby: Readonly<Record<string, string>>;
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Rated frames a page at a time, by (period, service, project, resource): the table's key,
 * so the order is total and pages neither skip nor repeat a frame.
 */
export function selectRatedFrames(q: { readonly filters: RatedUsageFilters; readonly offset: number; readonly limit: number }): BoundQuery {
  const params: Record<string, unknown> = { offset: q.offset, limit: q.limit };
  const where = conditions(q.filters, params);
  return {
    sql:
      'SELECT project_id, user_id, resource_id, service, period_start, period_end, toString(quantity) AS qty, unit, toString(cost) AS cost, groupby, metadata' +
      ` FROM rated_usage FINAL WHERE ${where} ORDER BY period_start, period_end, service, project_id, resource_id LIMIT {limit:UInt32} OFFSET {offset:UInt64}`,
    params,
  };
}

/** How many frames {@link selectRatedFrames} pages through: `[{total: "12"}]`. */
export function countRatedFrames(filters: RatedUsageFilters): BoundQuery {
  const params: Record<string, unknown> = {};
  return { sql: `SELECT count() AS total FROM rated_usage FINAL WHERE ${conditions(filters, params)}`, params };
}

/**
 * The projects with rated usage in [begin, end), sorted: `[{project_id}]`. No FINAL: a
 * re-rated frame keeps its project, so the distinct projects are the same either way.
 */
export function selectRatedProjects(begin: Date, end: Date): BoundQuery {
  return {
    sql: "SELECT DISTINCT project_id FROM rated_usage WHERE period_start >= {begin:DateTime64(3, 'UTC')} AND period_start < {end:DateTime64(3, 'UTC')} ORDER BY project_id",
    params: { begin, end },
  };
}
