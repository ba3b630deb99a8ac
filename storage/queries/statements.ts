import type { BoundQuery } from '../driver.ts';

/**
 * Queries on `rated_usage` (migration 4) for statements, running costs and cost by
 * application. Rows are read with FINAL (a re-rated period replaces its row), money and
 * quantities come back as decimal TEXT (`toString`), never as numbers, and a frame belongs
 * to the period its `period_start` falls in. Stable.
 */

/** Whose rows: these projects, or every project (null: operators). */
export interface RatedScope {
  readonly projectIds: readonly string[] | null;
}

/** A half-open time range [start, end) on `period_start`. */
export interface RatedRange {
  readonly start: Date;
  readonly end: Date;
}

/** One statement line: a resource's frames of one service at one unit price. */
export interface StatementLineRow {
  project_id: string;
  service: string;
  resource_id: string;
  resource_type: string;
  /** The resource's latest `display_name` (else `name`) in its metadata; '' when neither. */
  display_name: string;
  unit: string;
  /** Decimal text. */
  price: string;
  currency: string;
  /** Exact sums, decimal text. */
  quantity: string;
  cost: string;
  /** `YYYY-MM-DD hh:mm:ss` (UTC). */
  first_start: string;
  last_end: string;
  frames: string;
}

/** One day's cost (UTC days). */
export interface DailyCostRow {
  /** `YYYY-MM-DD`. */
  day: string;
  currency: string;
  cost: string;
}

/** Cost of one application (the group key's value, '' when a frame has none) and service. */
export interface ApplicationCostRow {
  application: string;
  service: string;
  currency: string;
  cost: string;
}

function scoped(scope: RatedScope, range: RatedRange, params: Record<string, unknown>): string {
  params.start = range.start;
  params.end = range.end;
  const where = ["period_start >= {start:DateTime64(3, 'UTC')}", "period_start < {end:DateTime64(3, 'UTC')}"];
  if (scope.projectIds !== null) {
    params.project_ids = [...scope.projectIds];
    where.unshift('project_id IN {project_ids:Array(String)}');
  }
  return where.join(' AND ');
}

/**
 * The lines of a statement: per project, service, resource, unit, unit price and
 * currency, the exact sums of quantity and cost. A price change or a resize within the
 * range gives the resource one line per price.
 */
export function selectStatementLines(scope: RatedScope, range: RatedRange): BoundQuery {
  const params: Record<string, unknown> = {};
  return {
    sql: `SELECT project_id, service, resource_id, any(resource_type) AS resource_type,
        argMax(if(metadata['display_name'] != '', metadata['display_name'], metadata['name']), period_start) AS display_name,
        unit, toString(price) AS price, currency,
        toString(sum(quantity)) AS quantity, toString(sum(cost)) AS cost,
        toString(min(period_start)) AS first_start, toString(max(period_end)) AS last_end, toString(count()) AS frames
      FROM rated_usage FINAL
      WHERE ${scoped(scope, range, params)}
      GROUP BY project_id, service, resource_id, unit, price, currency
      ORDER BY project_id, service, resource_id, first_start, price`,
    params,
  };
}

/** Cost per UTC day (of `period_start`) and currency, for the daily trend. */
export function selectDailyCosts(scope: RatedScope, range: RatedRange): BoundQuery {
  const params: Record<string, unknown> = {};
  return {
    sql: `SELECT toString(toDate(period_start)) AS day, currency, toString(sum(cost)) AS cost
      FROM rated_usage FINAL
      WHERE ${scoped(scope, range, params)}
      GROUP BY day, currency
      ORDER BY day, currency`,
    params,
  };
}

/**
 * Cost per application and service: the application is the value of `key` in the row's
 * `groupby` map (`stack_id`, `tag:<name>`), '' when the frame has none. The key is a
 * bound parameter, so any text is only data.
 */
export function selectApplicationCosts(scope: RatedScope, range: RatedRange, key: string): BoundQuery {
  const params: Record<string, unknown> = { key };
  return {
    sql: `SELECT groupby[{key:String}] AS application, service, currency, toString(sum(cost)) AS cost
      FROM rated_usage FINAL
      WHERE ${scoped(scope, range, params)}
      GROUP BY application, service, currency
      ORDER BY application, service, currency`,
    params,
  };
}

/**
 * How far rating has got: the end of the latest rated period (of any project) that
 * started in [since, before); '' when none did. Rating runs for every project at once, so
 * this tells "not rated yet" from "no usage".
 */
export function selectRatedThrough(since: Date, before: Date): BoundQuery {
  return {
    sql: `SELECT if(count() = 0, '', toString(max(period_end))) AS rated_through
      FROM rated_usage
      WHERE period_start >= {since:DateTime64(3, 'UTC')} AND period_start < {before:DateTime64(3, 'UTC')}`,
    params: { since, before },
  };
}

/** The start of a project's first rated period ever; '' when it has none. */
export function selectFirstRatedPeriod(projectId: string): BoundQuery {
  return {
    sql: `SELECT if(count() = 0, '', toString(min(period_start))) AS first_start FROM rated_usage WHERE project_id = {project_id:String}`,
    params: { project_id: projectId },
  };
}

/** A project's exact cost per currency over each of two ranges (month to date, the projection's window). */
export function selectRunningCosts(projectId: string, monthToDate: RatedRange, window: RatedRange): BoundQuery {
  return {
    sql: `SELECT currency,
        toString(sumIf(cost, period_start >= {mtd_start:DateTime64(3, 'UTC')} AND period_start < {mtd_end:DateTime64(3, 'UTC')})) AS month_to_date,
        toString(sumIf(cost, period_start >= {window_start:DateTime64(3, 'UTC')} AND period_start < {window_end:DateTime64(3, 'UTC')})) AS window_cost
      FROM rated_usage FINAL
      WHERE project_id = {project_id:String}
        AND period_start >= least({mtd_start:DateTime64(3, 'UTC')}, {window_start:DateTime64(3, 'UTC')})
        AND period_start < greatest({mtd_end:DateTime64(3, 'UTC')}, {window_end:DateTime64(3, 'UTC')})
      GROUP BY currency
      ORDER BY currency`,
    params: { project_id: projectId, mtd_start: monthToDate.start, mtd_end: monthToDate.end, window_start: window.start, window_end: window.end },
  };
}
