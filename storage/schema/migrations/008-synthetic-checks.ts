import { DEDUP_WINDOW, type Migration } from './types.ts';

/** Days synthetic check results are kept (availability reports look back a quarter). */
export const CHECK_RESULTS_TTL_DAYS = 90;

/**
 * `check_results`: one row per run of a synthetic availability check (token issue, flavor
 * list, volume create/delete, server boot/delete, ...) or per process health probe:
 * whether it completed, how long it took, and why it failed. Sorted by (check_name, at): outage
 * alarms count one check's failures over a window, the status board reads each check's
 * latest rows.
 */
export const SYNTHETIC_CHECKS: Migration = {
  id: 8,
  name: 'synthetic check results',
  statements: [
    `CREATE TABLE IF NOT EXISTS check_results (
      check_name LowCardinality(String),
      at DateTime64(3, 'UTC'),
      service LowCardinality(String),
      region LowCardinality(String),
      host LowCardinality(String),
      ok UInt8,
      latency_ms Float64,
      error String
    ) ENGINE = MergeTree ORDER BY (check_name, at)
    TTL toDateTime(at) + INTERVAL ${CHECK_RESULTS_TTL_DAYS} DAY
    SETTINGS non_replicated_deduplication_window = ${DEDUP_WINDOW}`,
  ],
};
