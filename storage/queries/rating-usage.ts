import type { BoundQuery } from '../driver.ts';
import type { RatedFrame } from '../rating/types.ts';

/**
 * Queries for the rating processor: what the metering data says about a period (resource
 * revisions, gauge measures, events), and the writes of `rated_usage` (migration 4). Times
 * come back as whole seconds since the epoch (`toUnixTimestamp` truncates): rated frames
 * start on whole seconds (`period_start` is a DateTime), so every boundary is cut the same
 * way. Measure values come back as text, so a quantity never passes through a float it did
 * not come from. Stable.
 */

/** A half-open range [from, to) of time. */
export interface UsageRange {
  readonly from: Date;
  readonly to: Date;
}

/** Only these projects' rows (a reprocess's scope), or every project (null). */
export type ProjectScope = readonly string[] | null;

/** One revision of a rated resource: the current one has `revision_end_s` null. */
export interface UsageRevisionRow {
  id: string;
  type: string;
  project_id: string;
  user_id: string;
  started_s: number;
  /** Set on the row written when the resource ended (and the ones after). */
  ended_s: number | null;
  /** `ended_s` in microseconds (Int64 as text): a period's bounds cut between whole seconds. */
  ended_us: string | null;
  revision_start_s: number;
  revision_end_s: number | null;
  /** `revision_end_s` in microseconds (Int64 as text). */
  revision_end_us: string | null;
  /** JSON object of the revision's attributes. */
  attributes: string;
}

/** A gauge measure of a rated resource. */
export interface UsageMeasureRow {
  resource_id: string;
  name: string;
  at_s: number;
  /** Microseconds since the epoch (Int64, as text): picks the value in force when measures share a second. */
  at_us: string;
  /** The Float64 as ClickHouse prints it (shortest text that reads back the same). */
  value: string;
}

/** An event of a rated resource, for metadata: its traits and its notification's payload. */
export interface UsageEventRow {
  resource_id: string;
  event_type: string;
  /** Microseconds since the epoch (Int64, as text), then message_id: the order of events. */
  at_us: string;
  message_id: string;
  traits_string: Record<string, string>;
  traits_int: Record<string, string | number>;
  /** JSON text of the notification's payload ('' when the raw notification is not JSON). */
  payload: string;
}

/** A resource whose existence is known from its create and delete events only (floating IPs). */
export interface UsageLifetimeRow {
  resource_id: string;
  project_id: string;
  user_id: string;
  started_s: number;
  ended_s: number | null;
}

const SECONDS = "DateTime('UTC')";

const wholeSecond = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);
const rangeParams = (range: UsageRange) => ({ from: wholeSecond(range.from), to: wholeSecond(range.to) });

const scopeClause = (scope: ProjectScope, column = 'project_id') => (scope === null ? '' : ` AND ${column} IN {projects:Array(String)}`);
const scopeParams = (scope: ProjectScope) => (scope === null ? {} : { projects: [...scope] });

/**
 * The revisions of the resources of `type` that have the metric `metric`, which overlap
 * [from, to): the closed ones from `resource_history`, the current one from `resources`
 * (which also carries `ended_at` once the resource ended; resources that ended before the
 * period are not read). Sorted by resource, then time.
 */
export function selectUsageRevisions(input: { type: string; metric: string; range: UsageRange; scope: ProjectScope }): BoundQuery {
  const columns = 'id, type, project_id, user_id, toUnixTimestamp(started_at) AS started_s, toUnixTimestamp(ended_at) AS ended_s, toString(toUnixTimestamp64Micro(ended_at)) AS ended_us, toUnixTimestamp(revision_start) AS revision_start_s';
  const owned = `type = {type:String} AND id IN (SELECT resource_id FROM metrics WHERE name = {metric:String})${scopeClause(input.scope)}`;
  return {
    sql: `SELECT id, type, project_id, user_id, started_s, ended_s, ended_us, revision_start_s, revision_end_s, revision_end_us, attributes FROM (
        SELECT ${columns}, toUnixTimestamp(revision_end) AS revision_end_s, toString(toUnixTimestamp64Micro(revision_end)) AS revision_end_us, attributes FROM resource_history FINAL
        WHERE ${owned} AND revision_start < {to:${SECONDS}} AND revision_end > {from:${SECONDS}}
        UNION ALL
        SELECT ${columns}, CAST(NULL AS Nullable(UInt32)) AS revision_end_s, CAST(NULL AS Nullable(String)) AS revision_end_us, attributes FROM resources FINAL
        WHERE ${owned} AND revision_start < {to:${SECONDS}} AND (ended_at IS NULL OR ended_at > {from:${SECONDS}})
      ) ORDER BY id, revision_start_s`,
    params: { type: input.type, metric: input.metric, ...rangeParams(input.range), ...scopeParams(input.scope) },
  };
}

/**
 * The gauge measures of `names` on these resources in [from, to), plus each metric's last
 * measure before `from` (the value in force when the period starts; of two at the same
 * instant, the larger). Sorted by resource, name, time.
 */
export function selectUsageMeasures(input: { resourceIds: readonly string[]; names: readonly string[]; range: UsageRange }): BoundQuery {
  const metrics = 'SELECT id, resource_id, name FROM metrics WHERE resource_id IN {ids:Array(String)} AND name IN {names:Array(String)}';
  return {
    sql: `SELECT m.resource_id AS resource_id, m.name AS name, x.at_s AS at_s, x.at_us AS at_us, x.value_text AS value FROM (
        SELECT metric_id, toUnixTimestamp(ts) AS at_s, toString(toUnixTimestamp64Micro(ts)) AS at_us, toString(value) AS value_text FROM measures
        WHERE metric_id IN (SELECT id FROM (${metrics})) AND ts >= {from:${SECONDS}} AND ts < {to:${SECONDS}}
        UNION ALL
        SELECT metric_id, toUnixTimestamp(max(ts)) AS at_s, toString(toUnixTimestamp64Micro(max(ts))) AS at_us, toString(argMax(value, (ts, value))) AS value_text FROM measures
        WHERE metric_id IN (SELECT id FROM (${metrics})) AND ts < {from:${SECONDS}}
        GROUP BY metric_id
      ) AS x INNER JOIN (SELECT DISTINCT id, resource_id, name FROM (${metrics})) AS m ON x.metric_id = m.id
      ORDER BY resource_id, name, at_s, toFloat64(value)`,
    params: { ids: [...input.resourceIds], names: [...input.names], ...rangeParams(input.range) },
  };
}

/**
 * The events matching `patterns` (LIKE patterns: `compute.instance.%`) of these resources:
 * each resource's last one before `from`, and all of them in [from, to). Oldest first.
 */
export function selectUsageEvents(input: { resourceIds: readonly string[]; patterns: readonly string[]; range: UsageRange }): BoundQuery {
  const matches = "arrayExists(p -> event_type LIKE p, {patterns:Array(String)})";
  const columns = "resource_id, event_type, toString(toUnixTimestamp64Micro(generated)) AS at_us, message_id, traits_string, traits_int, if(isValidJSON(raw), JSONExtractRaw(raw, 'payload'), '') AS payload";
  const mine = `resource_id IN {ids:Array(String)} AND ${matches}`;
  return {
    sql: `SELECT resource_id, event_type, at_us, message_id, traits_string, traits_int, payload FROM (
        SELECT ${columns} FROM events WHERE ${mine} AND generated < {from:${SECONDS}}
        ORDER BY resource_id, generated DESC, message_id DESC LIMIT 1 BY resource_id
        UNION ALL
        SELECT ${columns} FROM events WHERE ${mine} AND generated >= {from:${SECONDS}} AND generated < {to:${SECONDS}}
      ) ORDER BY resource_id, toInt64(at_us), message_id`,
    params: { ids: [...input.resourceIds], patterns: [...input.patterns], ...rangeParams(input.range) },
  };
}

/**
 * Resources known by their create and delete events (the first of each), alive at some
 * time in [from, to). Owners come from the first create event (the project trait, else the
 * tenant; the user trait).
 */
export function selectUsageLifetimes(input: { create: readonly string[]; delete: readonly string[]; range: UsageRange; scope: ProjectScope }): BoundQuery {
  return {
    sql: `SELECT resource_id, owner_project AS project_id, owner_user AS user_id, started_s, ended_s FROM (
        SELECT resource_id,
          argMinIf(project_id, generated, event_type IN {create:Array(String)}) AS owner_project,
          argMinIf(traits_string['user_id'], generated, event_type IN {create:Array(String)}) AS owner_user,
          toUnixTimestamp(minIf(generated, event_type IN {create:Array(String)})) AS started_s,
          if(countIf(event_type IN {delete:Array(String)}) > 0, toUnixTimestamp(minIf(generated, event_type IN {delete:Array(String)})), NULL) AS ended_s,
          countIf(event_type IN {create:Array(String)}) AS creates
        FROM events
        WHERE event_type IN {types:Array(String)} AND resource_id != '' AND generated < {to:${SECONDS}}
        GROUP BY resource_id
      ) WHERE creates > 0 AND started_s < {to_s:UInt32} AND (ended_s IS NULL OR ended_s > {from_s:UInt32})${scopeClause(input.scope, 'owner_project')}
      ORDER BY resource_id`,
    params: {
      create: [...input.create],
      delete: [...input.delete],
      types: [...input.create, ...input.delete],
      ...rangeParams(input.range),
      from_s: Math.floor(input.range.from.getTime() / 1000),
      to_s: Math.floor(input.range.to.getTime() / 1000),
      ...scopeParams(input.scope),
    },
  };
}

/**
 * `{first_s}`: when the earliest usage the services could rate began (0 when there is
 * none): the first resource of these types, or the first of these create events.
 */
export function selectFirstUsage(input: { types: readonly string[]; createEvents: readonly string[] }): BoundQuery {
  return {
    sql: `SELECT least(
        (SELECT if(count() = 0, 4294967295, toUnixTimestamp(min(started_at))) FROM resources WHERE type IN {types:Array(String)}),
        (SELECT if(count() = 0, 4294967295, toUnixTimestamp(min(generated))) FROM events WHERE event_type IN {create:Array(String)} AND resource_id != '')
      ) AS first_s`,
    params: { types: [...input.types], create: [...input.createEvents] },
  };
}

export const RATED_USAGE_TABLE = 'rated_usage';

/** The row of a rated frame, stamped with its generation's `rated_at` (the ReplacingMergeTree's version). */
export function ratedUsageRow(frame: RatedFrame, ratedAt: Date): RatedUsageRow {
  return {
    project_id: frame.projectId,
    user_id: frame.userId,
    resource_id: frame.resourceId,
    resource_type: frame.resourceType,
    service: frame.service,
    period_start: frame.periodStart.toISOString(),
    period_end: frame.periodEnd.toISOString(),
    quantity: frame.quantity,
    unit: frame.unit,
    price: frame.price,
    cost: frame.cost,
    currency: frame.currency,
    rule_id: frame.ruleId,
    groupby: { ...frame.groupby },
    metadata: { ...frame.metadata },
    rated_at: ratedAt.toISOString(),
  };
}

/**
 * Removes the rows an older rating of [from, to) wrote (rated_at before this one's) in
 * the scope: a frame the new rating no longer produces (a rule removed, a resource now out
 * of scope) would otherwise stay. Rows the new rating rewrote are already superseded by
 * the ReplacingMergeTree's version; this clears the rest. A lightweight DELETE.
 */
export function deleteSupersededRatedUsage(input: { range: UsageRange; ratedAt: Date; scope: ProjectScope }): BoundQuery {
  return {
    sql: `DELETE FROM rated_usage WHERE period_start >= {from:${SECONDS}} AND period_start < {to:${SECONDS}} AND rated_at < {rated_at:DateTime64(3, 'UTC')}${scopeClause(input.scope)}`,
    params: { ...rangeParams(input.range), rated_at: input.ratedAt, ...scopeParams(input.scope) },
  };
}

/**
 * A `rated_usage` row, money and quantities as decimal text. Times are ISO 8601 when
 * inserted, and read back as ClickHouse prints them: `YYYY-MM-DD hh:mm:ss` (UTC; rated_at
 * with `.sss`).
 */
export interface RatedUsageRow {
  project_id: string;
  user_id: string;
  resource_id: string;
  resource_type: string;
  service: string;
  period_start: string;
  period_end: string;
  quantity: string;
  unit: string;
  price: string;
  cost: string;
  currency: string;
  rule_id: string;
  groupby: Record<string, string>;
  metadata: Record<string, string>;
  rated_at: string;
}

/** The rated frames whose period_start is in [from, to) (FINAL: the latest rating of each), in key order. */
export function selectRatedUsage(input: { range: UsageRange; scope: ProjectScope }): BoundQuery {
  return {
    sql: `SELECT project_id, user_id, resource_id, resource_type, service, period_start, period_end, toString(quantity) AS quantity, unit,
        toString(price) AS price, toString(cost) AS cost, currency, rule_id, groupby, metadata, rated_at
      FROM rated_usage FINAL
      WHERE period_start >= {from:${SECONDS}} AND period_start < {to:${SECONDS}}${scopeClause(input.scope)}
      ORDER BY project_id, period_start, service, resource_id`,
    params: { ...rangeParams(input.range), ...scopeParams(input.scope) },
  };
}
