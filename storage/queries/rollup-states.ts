/**
 * One metric's rollup states, merged per (granularity, bucket): what the hot reads
 * (../hot-rollups.ts) load to hold a metric in memory. Every state a later write must be
 * merged with is read, including the times of the first and last measures (migration 9
 * keeps them as (time, value) tuples).
 */
import type { BoundQuery } from '../driver.ts';

/**
 * Per (granularity, bucket) of the metric (output aliases shadow the columns of the same
 * name, hence `rollups.` on every column), every merged state, coarsest granularity last,
 * buckets in time order. No retention filter: buckets past retention are kept (the reader
 * filters by `expires`, as selectMeasures does). Columns: `granularity`, `bucket`,
 * `expires` (Unix s), `count` (UInt64, a string), `sum`, `min`, `max`, `sumsq`,
 * `first_value`, `last_value` (Float64; null for a sum that overflowed), `first_ts`,
 * `last_ts` (Int64 Unix microseconds, strings). Experimental.
 */
export function selectRollupStates(metricId: string): BoundQuery {
  return {
    sql: `SELECT granularity, toUnixTimestamp(rollups.bucket) AS bucket, toUnixTimestamp(max(rollups.expires)) AS expires,
        sum(rollups.count) AS count, sum(rollups.sum) AS sum, min(rollups.min) AS min, max(rollups.max) AS max, sum(rollups.sumsq) AS sumsq,
        toUnixTimestamp64Micro(tupleElement(min(rollups.first_measure), 1)) AS first_ts, tupleElement(min(rollups.first_measure), 2) AS first_value,
        toUnixTimestamp64Micro(tupleElement(max(rollups.last_measure), 1)) AS last_ts, tupleElement(max(rollups.last_measure), 2) AS last_value
      FROM rollups WHERE metric_id = {metric_id:UUID}
      GROUP BY granularity, rollups.bucket
      ORDER BY granularity, rollups.bucket
      SETTINGS optimize_move_to_prewhere = 0, optimize_use_projections = 0`,
    params: { metric_id: metricId },
  };
}

/** A row of selectRollupStates, as the drivers return it (64-bit integers as strings). */
export interface RollupStateRow {
  granularity: number;
  bucket: number;
  expires: number;
  count: number | string;
  sum: number | null;
  min: number | null;
  max: number | null;
  sumsq: number | null;
  first_value: number | null;
  first_ts: number | string;
  last_value: number | null;
  last_ts: number | string;
}
