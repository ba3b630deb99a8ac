/**
 * The evaluator's own ClickHouse reads, as query builders with bound parameters only.
 * Experimental. (Measures, aggregates, resources and logs use storage's builders.)
 */
import type { BoundQuery } from '../../storage/index.ts';

/** A row of {@link selectCheckFailures}; counts come back as text from JSONEachRow's UInt64. */
export interface CheckFailuresRow {
  runs: number | string;
  failures: number | string;
  /** Of the latest run (the latest failed one when any failed): where the check ran. */
  service: string;
  region: string;
  host: string;
  /** The latest failure's error ('' when none failed). */
  last_error: string;
}

/**
 * An outage rule's data: how many runs of synthetic check `check` there were in
 * [startMs, endMs] and how many failed (`check_results`, migration 8; its sort key is
 * (check_name, at), so this reads one check's granules).
 */
export function selectCheckFailures(check: string, startMs: number, endMs: number): BoundQuery {
  return {
    sql: `SELECT count() AS runs, countIf(ok = 0) AS failures,
        if(failures > 0, argMaxIf(service, at, ok = 0), argMax(service, at)) AS service,
        if(failures > 0, argMaxIf(region, at, ok = 0), argMax(region, at)) AS region,
        if(failures > 0, argMaxIf(host, at, ok = 0), argMax(host, at)) AS host,
        argMaxIf(error, at, ok = 0) AS last_error
      FROM check_results
      WHERE check_name = {check:String}
        AND at >= fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
        AND at <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')`,
    params: { check, start_ms: startMs, end_ms: endMs },
  };
}
