/**
 * The SQL of the checks, the built-in rules and the status board over `check_results`
 * (migration 8), as bound queries: every value is a parameter.
 */
import type { BoundQuery } from '../../storage/index.ts';

export const CHECK_RESULTS_TABLE = 'check_results';

/** One row of `check_results` as inserted (`at` ISO 8601, UTC). */
export interface CheckResultRow {
  check_name: string;
  at: string;
  service: string;
  region: string;
  host: string;
  ok: 0 | 1;
  latency_ms: number;
  error: string;
}

/** A row as selected: `at` as ClickHouse writes DateTime64(3) (`2026-01-01 10:00:00.123`, UTC); ok as a number. */
export interface StoredCheckResult extends Omit<CheckResultRow, 'ok'> {
  ok: number;
}

const AT = "formatDateTime(at, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC')";

/** A selected row with `at` as ISO 8601 at millisecond precision (%f may write more digits) and numbers as numbers. */
export const storedRow = (row: Omit<StoredCheckResult, 'at'> & { at_iso: string }): StoredCheckResult => {
  const { at_iso, ...rest } = row;
  return { ...rest, at: at_iso.replace(/(\.\d{3})\d*Z$/, '$1Z'), ok: Number(rest.ok), latency_ms: Number(rest.latency_ms) };
};

/** The latest row of each (check, host) that ran since `since`. */
export function selectLatestResults(since: Date, until: Date): BoundQuery {
  return {
    sql: `SELECT check_name, host, argMax(${AT}, at) AS at_iso, argMax(service, at) AS service, argMax(region, at) AS region,
        argMax(ok, at) AS ok, argMax(latency_ms, at) AS latency_ms, argMax(error, at) AS error
      FROM ${CHECK_RESULTS_TABLE}
      WHERE at >= {since:DateTime64(3, 'UTC')} AND at <= {until:DateTime64(3, 'UTC')}
      GROUP BY check_name, host ORDER BY check_name, host`,
    params: { since, until },
  };
}

/** A row of {@link selectCheckWindowStats}. */
export interface CheckWindowStats {
  check_name: string;
  service: string;
  runs: string | number;
  failures: string | number;
  latency_p50_ms: number | null;
  /** ISO 8601 of the last failure in the window, '' when none. */
  last_failure: string;
  last_error: string;
}

/**
 * Per check over [since, until]: runs, failures, the median latency of its runs and the
 * last failure. Rows of the process-health checks count per host too, which is what
 * "failures" means for them.
 */
export function selectCheckWindowStats(since: Date, until: Date, checkNames?: readonly string[]): BoundQuery {
  const params: Record<string, unknown> = { since, until };
  let filter = '';
  if (checkNames !== undefined) {
    filter = ' AND check_name IN {names:Array(String)}';
    params.names = [...checkNames];
  }
  return {
    sql: `SELECT check_name, any(service) AS service, count() AS runs, countIf(ok = 0) AS failures,
        if(count() = 0, NULL, quantileExact(0.5)(latency_ms)) AS latency_p50_ms,
        if(countIf(ok = 0) = 0, '', formatDateTime(maxIf(at, ok = 0), '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC')) AS last_failure,
        argMaxIf(error, at, ok = 0) AS last_error
      FROM ${CHECK_RESULTS_TABLE}
      WHERE at >= {since:DateTime64(3, 'UTC')} AND at <= {until:DateTime64(3, 'UTC')}${filter}
      GROUP BY check_name ORDER BY check_name`,
    params,
  };
}
