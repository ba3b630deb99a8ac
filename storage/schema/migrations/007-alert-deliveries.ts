import { DEDUP_WINDOW, type Migration } from './types.ts';

/** Days the delivery log is kept: long enough to answer "was the on-call paged last quarter". */
export const ALERT_DELIVERIES_TTL_DAYS = 180;

/**
 * `alert_deliveries`: the delivery log of the alerts stage, one row per attempt to hand a
 * notification to a receiver (Slack, PagerDuty, webhook, email), sorted by
 * (notification_id, at) so one notification's attempts read in order. The notification
 * itself waits in the transactional outbox (SQLite) until delivered; this table is what
 * operators query afterwards. `target` never holds a secret (webhook paths and routing keys
 * are redacted before the row is written).
 */
export const ALERT_DELIVERIES: Migration = {
  id: 7,
  name: 'alert deliveries',
  statements: [
    `CREATE TABLE IF NOT EXISTS alert_deliveries (
      notification_id String,
      at DateTime64(3, 'UTC'),
      attempt UInt16,
      receiver LowCardinality(String),
      kind LowCardinality(String),
      target String,
      group_key String,
      alarm_ids Array(String),
      status LowCardinality(String),
      resolved UInt8,
      http_status UInt16,
      error String,
      duration_ms Float64
    ) ENGINE = MergeTree ORDER BY (notification_id, at)
    TTL toDateTime(at) + INTERVAL ${ALERT_DELIVERIES_TTL_DAYS} DAY
    SETTINGS non_replicated_deduplication_window = ${DEDUP_WINDOW}`,
  ],
};
