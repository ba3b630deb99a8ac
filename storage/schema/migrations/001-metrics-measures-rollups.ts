import { DEDUP_WINDOW, type Migration } from './types.ts';

/** The slice's schema: metric index, resources, raw measures, the rollups and their view, batch plans. */
export const METRICS_MEASURES_ROLLUPS: Migration = {
  id: 1,
  name: 'metric index, measures and rollups',
  statements: [
    // The metric index: one row per metric; re-inserting the same metric is harmless.
    `CREATE TABLE IF NOT EXISTS metrics (
      id UUID,
      name String,
      resource_id String,
      project_id String,
      user_id String,
      unit String,
      archive_policy_name String,
      created_at DateTime64(3, 'UTC')
    ) ENGINE = ReplacingMergeTree(created_at) ORDER BY id`,
    // Resources with their latest attributes (revisions come with the resource index work).
    `CREATE TABLE IF NOT EXISTS resources (
      id String,
      type String,
      project_id String,
      user_id String,
      started_at DateTime64(6, 'UTC'),
      ended_at Nullable(DateTime64(6, 'UTC')),
      revision_start DateTime64(6, 'UTC'),
      attributes String
    ) ENGINE = ReplacingMergeTree(revision_start) ORDER BY id`,
    // Raw measures: the source every rollup is computed from. granularities/retentions
    // come from the metric's archive policy at ingest, so one rollup table serves any policy.
    `CREATE TABLE IF NOT EXISTS measures (
      metric_id UUID,
      ts DateTime64(6, 'UTC'),
      value Float64,
      sample_id UUID,
      granularities Array(UInt32),
      retentions Array(UInt32)
    ) ENGINE = MergeTree ORDER BY (metric_id, ts)
    TTL toDateTime(ts) + INTERVAL 400 DAY
    SETTINGS non_replicated_deduplication_window = ${DEDUP_WINDOW}`,
    // Per (metric, granularity, bucket): the states the aggregation methods are computed from.
    `CREATE TABLE IF NOT EXISTS rollups (
      metric_id UUID,
      granularity UInt32,
      bucket DateTime('UTC'),
      -- When the bucket leaves retention; max, so a policy change that lengthens it wins.
      expires SimpleAggregateFunction(max, DateTime('UTC')),
      count SimpleAggregateFunction(sum, UInt64),
      sum SimpleAggregateFunction(sum, Float64),
      min SimpleAggregateFunction(min, Float64),
      max SimpleAggregateFunction(max, Float64),
      sumsq SimpleAggregateFunction(sum, Float64),
      first AggregateFunction(argMin, Float64, DateTime64(6, 'UTC')),
      last AggregateFunction(argMax, Float64, DateTime64(6, 'UTC'))
    ) ENGINE = AggregatingMergeTree ORDER BY (metric_id, granularity, bucket)
    TTL expires
    SETTINGS non_replicated_deduplication_window = ${DEDUP_WINDOW}`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS rollups_mv TO rollups AS
      SELECT
        metric_id,
        g AS granularity,
        toDateTime(intDiv(toUnixTimestamp(ts), g) * g, 'UTC') AS bucket,
        toDateTime(intDiv(toUnixTimestamp(ts), g) * g + r, 'UTC') AS expires,
        count() AS count,
        sum(value) AS sum,
        min(value) AS min,
        max(value) AS max,
        sum(value * value) AS sumsq,
        argMinState(value, ts) AS first,
        argMaxState(value, ts) AS last
      FROM measures
      ARRAY JOIN granularities AS g, retentions AS r
      GROUP BY metric_id, granularity, bucket, expires`,
    // How the pipeline cut each stream batch, written before the batch's insert, so a
    // replay after a crash cuts the same way and its insert deduplicates.
    `CREATE TABLE IF NOT EXISTS ingest_plans (
      consumer String,
      topic String,
      partition UInt32,
      first_offset UInt64,
      last_offset UInt64,
      planned_at DateTime64(3, 'UTC')
    ) ENGINE = ReplacingMergeTree(planned_at) ORDER BY (consumer, topic, partition, first_offset)
    TTL toDateTime(planned_at) + INTERVAL 7 DAY`,
  ],
};
