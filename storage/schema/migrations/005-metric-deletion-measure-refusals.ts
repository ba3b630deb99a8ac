import { DEDUP_WINDOW, type Migration } from './types.ts';

/**
 * Deleting a metric, and counting the measures a metric refused.
 * - `metrics.deleted`: a deleted metric is a newer row of the same id with deleted = 1, so
 *   the ReplacingMergeTree's FINAL answers the deletion and every read filters it out (its
 *   measures are left to their TTL: no mutation on the hot table).
 * - `measure_refusals`: per metric and reason (`back_window`, `retention`), how many
 *   measures were refused. Gnocchi drops them silently; Cumulus reports them on the metric.
 *   Its deduplication window makes a retried write (same token) count once.
 */
export const METRIC_DELETION_MEASURE_REFUSALS: Migration = {
  id: 5,
  name: 'metric deletion marker, measure refusal counts',
  statements: [
    'ALTER TABLE metrics ADD COLUMN IF NOT EXISTS deleted UInt8 DEFAULT 0',
    `CREATE TABLE IF NOT EXISTS measure_refusals (
      metric_id UUID,
      reason LowCardinality(String),
      refused UInt64,
      last_refused_at SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
    ) ENGINE = SummingMergeTree ORDER BY (metric_id, reason)
    SETTINGS non_replicated_deduplication_window = ${DEDUP_WINDOW}`,
  ],
};
