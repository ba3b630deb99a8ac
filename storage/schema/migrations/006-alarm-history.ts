import { DEDUP_WINDOW, type Migration } from './types.ts';

/** Days alarm history is kept (Aodh's `alarm_history_time_to_live` is off by default; a year bounds the table). */
export const ALARM_HISTORY_TTL_DAYS = 365;

/**
 * `alarm_history`: Aodh's alarm changes (creation, rule change, state transition,
 * deletion), one row each, read per alarm in time order: sorted by (alarm_id, timestamp).
 * `detail` is Aodh's JSON text; `reason` the state reason of a transition. The
 * deduplication window drops a retried insert (token: the event ids).
 */
export const ALARM_HISTORY: Migration = {
  id: 6,
  name: 'alarm history',
  statements: [
    `CREATE TABLE IF NOT EXISTS alarm_history (
      alarm_id String,
      timestamp DateTime64(6, 'UTC'),
      event_id String,
      type LowCardinality(String),
      detail String,
      reason String,
      severity LowCardinality(String),
      user_id String,
      project_id String,
      on_behalf_of String
    ) ENGINE = MergeTree ORDER BY (alarm_id, timestamp)
    TTL toDateTime(timestamp) + INTERVAL ${ALARM_HISTORY_TTL_DAYS} DAY
    SETTINGS non_replicated_deduplication_window = ${DEDUP_WINDOW}`,
  ],
};
