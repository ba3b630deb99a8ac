import { DEDUP_WINDOW, type Migration } from './types.ts';

/**
 * How long each store keeps a row unless its writer says otherwise, in days. Every row
 * carries its own `retention_days` (the column's DEFAULT is the value here) and the
 * table's TTL reads it, so retention is set per writer, without DDL, and runs on the
 * ClickHouse server's clock. docs/stores.md explains how to change it for rows already stored.
 */
export const DEFAULT_RETENTION_DAYS = {
  /** Panko keeps events forever by default; three months covers billing disputes and debugging. */
  events: 90,
  /** A year: the audit-trail retention PCI DSS and most compliance regimes ask for. */
  audit_records: 365,
  /** Operational logs: a month. */
  logs: 30,
  /** Five years of rated usage, for invoices and their disputes. */
  rated_usage: 1825,
} as const;

/** The largest per-row retention the `retention_days` columns (UInt16) hold. */
export const MAX_RETENTION_DAYS = 65_535;

/**
 * The stores of the other signals: Panko-model events, CADF audit records (the 7 Ws as
 * columns), service logs and rated usage. All four are ReplacingMergeTree keyed so that a
 * record delivered twice (a collector replay gives it the same id) collapses on merge;
 * queries read them with FINAL. Each keeps a deduplication window so a replayed insert
 * (same `insert_deduplication_token`) is dropped at once, and drops whole parts when their
 * rows' retention ended (`ttl_only_drop_parts`), which is why partitions are no finer than
 * a week: a part leaves at most one partition period after its last row expired.
 */
export const EVENTS_AUDIT_LOGS_RATED_USAGE: Migration = {
  id: 4,
  name: 'events, audit records, logs and rated usage',
  statements: [
    // Panko's model. Traits are kept in one map per trait type, as Panko keeps one table
    // per type, so a filter compares typed values (int traits as numbers, datetimes as
    // times). project_id and resource_id are lifted out of the traits for the sort key and
    // the most frequent filter.
    `CREATE TABLE IF NOT EXISTS events (
      message_id String,
      event_type LowCardinality(String),
      generated DateTime64(6, 'UTC'),
      -- The project_id trait, else tenant_id; '' when the event has neither.
      project_id String,
      -- The resource_id trait; '' when absent.
      resource_id String,
      traits_string Map(LowCardinality(String), String),
      traits_int Map(LowCardinality(String), Int64),
      traits_float Map(LowCardinality(String), Float64),
      traits_datetime Map(LowCardinality(String), DateTime64(6, 'UTC')),
      -- The notification as Ceilometer stores it (JSON text).
      raw String CODEC(ZSTD(3)),
      retention_days UInt16 DEFAULT ${DEFAULT_RETENTION_DAYS.events},
      INDEX message_id_idx message_id TYPE bloom_filter(0.001) GRANULARITY 4,
      INDEX resource_id_idx resource_id TYPE bloom_filter(0.01) GRANULARITY 4,
      INDEX string_trait_names_idx mapKeys(traits_string) TYPE bloom_filter(0.01) GRANULARITY 4,
      INDEX string_trait_values_idx mapValues(traits_string) TYPE bloom_filter(0.01) GRANULARITY 4
    ) ENGINE = ReplacingMergeTree
    PARTITION BY toMonday(generated)
    ORDER BY (event_type, project_id, generated, message_id)
    TTL toDateTime(generated) + toIntervalDay(retention_days)
    SETTINGS non_replicated_deduplication_window = ${DEDUP_WINDOW}, ttl_only_drop_parts = 1`,
    // CADF audit records: the 7 Ws as columns for compliance queries, the raw event kept.
    // Sorted by day, then initiator: audits ask for a period first, then who did what.
    `CREATE TABLE IF NOT EXISTS audit_records (
      id UUID,
      event_time DateTime64(6, 'UTC'),
      action LowCardinality(String),
      outcome LowCardinality(String),
      event_type LowCardinality(String),
      type_uri LowCardinality(String),
      initiator_id String,
      initiator_type LowCardinality(String),
      initiator_name Nullable(String),
      project_id Nullable(String),
      initiator_address Nullable(String),
      initiator_agent Nullable(String),
      target_id String,
      target_type LowCardinality(String),
      target_address Nullable(String),
      observer_id String,
      observer_type LowCardinality(String),
      reason_code Nullable(String),
      request_id Nullable(String),
      raw String CODEC(ZSTD(3)),
      retention_days UInt16 DEFAULT ${DEFAULT_RETENTION_DAYS.audit_records},
      INDEX target_id_idx target_id TYPE bloom_filter(0.01) GRANULARITY 4,
      INDEX project_id_idx project_id TYPE bloom_filter(0.01) GRANULARITY 4,
      INDEX request_id_idx request_id TYPE bloom_filter(0.01) GRANULARITY 4,
      INDEX action_idx action TYPE set(256) GRANULARITY 4,
      INDEX outcome_idx outcome TYPE set(8) GRANULARITY 4
    ) ENGINE = ReplacingMergeTree
    PARTITION BY toYYYYMM(event_time)
    ORDER BY (toStartOfDay(event_time), initiator_id, event_time, id)
    TTL toDateTime(event_time) + toIntervalDay(retention_days)
    SETTINGS non_replicated_deduplication_window = ${DEDUP_WINDOW}, ttl_only_drop_parts = 1`,
    // Service logs. Levels as an ordered enum, so "WARNING and worse" is a range; the
    // message has a text index over its lower-cased tokens (queries search lower-cased too,
    // so the answer is the same whether or not the index is used).
    `CREATE TABLE IF NOT EXISTS logs (
      id UUID,
      timestamp DateTime64(6, 'UTC'),
      service LowCardinality(String),
      host LowCardinality(String),
      pid UInt32,
      level Enum8('DEBUG' = 1, 'INFO' = 2, 'WARNING' = 3, 'ERROR' = 4, 'CRITICAL' = 5),
      logger LowCardinality(String),
      request_id Nullable(String),
      user_id Nullable(String),
      project_id Nullable(String),
      message String CODEC(ZSTD(3)),
      retention_days UInt16 DEFAULT ${DEFAULT_RETENTION_DAYS.logs},
      INDEX message_idx lower(message) TYPE text(tokenizer = 'splitByNonAlpha'),
      INDEX request_id_idx request_id TYPE bloom_filter(0.01) GRANULARITY 4,
      INDEX host_idx host TYPE set(1024) GRANULARITY 4,
      INDEX user_id_idx user_id TYPE bloom_filter(0.01) GRANULARITY 4,
      INDEX project_id_idx project_id TYPE bloom_filter(0.01) GRANULARITY 4
    ) ENGINE = ReplacingMergeTree
    PARTITION BY toMonday(timestamp)
    ORDER BY (service, level, timestamp, id)
    TTL toDateTime(timestamp) + toIntervalDay(retention_days)
    SETTINGS non_replicated_deduplication_window = ${DEDUP_WINDOW}, ttl_only_drop_parts = 1`,
    // Rated usage (CloudKitty's dataframes): one row per project, resource, service and
    // period. Money is Decimal, never Float. Rating a period again (a corrected rule)
    // replaces the row: the latest rated_at wins.
    `CREATE TABLE IF NOT EXISTS rated_usage (
      project_id String,
      user_id String,
      resource_id String,
      resource_type LowCardinality(String),
      service LowCardinality(String),
      period_start DateTime('UTC'),
      period_end DateTime('UTC'),
      quantity Decimal(38, 9),
      unit LowCardinality(String),
      price Decimal(38, 12),
      cost Decimal(38, 9),
      currency LowCardinality(String),
      -- The rating rule (in the transactional store) that priced this row.
      rule_id String,
      groupby Map(LowCardinality(String), String),
      metadata Map(LowCardinality(String), String),
      rated_at DateTime64(3, 'UTC'),
      retention_days UInt16 DEFAULT ${DEFAULT_RETENTION_DAYS.rated_usage},
      INDEX resource_id_idx resource_id TYPE bloom_filter(0.01) GRANULARITY 4
    ) ENGINE = ReplacingMergeTree(rated_at)
    PARTITION BY toYYYYMM(period_start)
    ORDER BY (project_id, period_start, service, resource_id)
    TTL period_start + toIntervalDay(retention_days)
    SETTINGS non_replicated_deduplication_window = ${DEDUP_WINDOW}, ttl_only_drop_parts = 1`,
  ],
};
