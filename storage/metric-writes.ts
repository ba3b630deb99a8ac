/**
 * Writes to the metric index (`metrics`, a ReplacingMergeTree by id whose version is
 * `created_at`) on behalf of the API: create a metric, delete one. Every reader goes
 * through FINAL and `deleted = 0` (queries/metrics.ts), so the newest row of an id is the
 * metric's state. Experimental API.
 */
import type { ClickHouseDriver } from './driver.ts';
import type { MetricRow } from './queries/metrics.ts';

/** What a new metric row holds: a MetricRow whose `created_at` (the row version, ms precision) is a time. */
export type NewMetric = Omit<MetricRow, 'created_at'> & { created_at: Date };

/** ClickHouse DateTime64(3) text for a time. */
const msTime = (date: Date): string => date.toISOString().replace('T', ' ').replace('Z', '');

/** Inserts a metric row (idempotent: inserting the same row again changes nothing a reader sees). */
export async function insertMetric(store: ClickHouseDriver, metric: NewMetric): Promise<void> {
  await store.insert('metrics', [{ ...metric, created_at: msTime(metric.created_at), deleted: 0 }]);
}

/**
 * Deletes a metric: a newer row of the same id with deleted = 1. Its version must be above
 * the stored row's even when the clock is behind the metric's creation (a pipeline metric
 * is versioned by its first sample's time), hence the max.
 */
export async function markMetricDeleted(store: ClickHouseDriver, row: MetricRow, now: Date): Promise<void> {
  const createdMs = Date.parse(`${row.created_at.replace(' ', 'T')}Z`);
  const version = new Date(Math.max(now.getTime(), Number.isNaN(createdMs) ? 0 : createdMs + 1));
  const { id, name, resource_id, project_id, user_id, unit, archive_policy_name } = row;
  await store.insert('metrics', [{ id, name, resource_id, project_id, user_id, unit, archive_policy_name, created_at: msTime(version), deleted: 1 }]);
}
