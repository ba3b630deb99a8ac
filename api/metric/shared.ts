import type { ClickHouseDriver, MetricRow } from '../../storage/index.ts';
import { selectMetric } from '../../storage/index.ts';
import { ApiError } from '../errors.ts';

export const DEFAULT_LIMIT = 1000;
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const UUID = new RegExp(UUID_PATTERN);

export const metricNotFound = (id: string) => new ApiError('CUMULUS_API_METRIC_NOT_FOUND', 404, `Metric ${id} does not exist`);
export const resourceNotFound = (id: string) => new ApiError('CUMULUS_API_RESOURCE_NOT_FOUND', 404, `Resource ${id} does not exist`);

/**
 * Metric rows change only when a metric is deleted, so reads keep them a few seconds:
 * under load a measures read then costs one query instead of two (chDB runs queries one
 * at a time per process). Deletes made through this process drop the row at once; a
 * delete made by another API process is seen within METRIC_ROW_TTL_MS.
 */
export const METRIC_ROW_TTL_MS = 5_000;
const METRIC_ROW_CACHE_LIMIT = 50_000;
const metricRows = new Map<string, { row: MetricRow; until: number }>();

/** Forget a metric's cached row (after deleting it), or every row (after deleting resources, which deletes their metrics). */
export function forgetMetric(id?: string): void {
  if (id === undefined) metricRows.clear();
  else metricRows.delete(id.toLowerCase());
}

/** The metric if the caller's project may see it; another project's metric is "does not exist", like a missing one. */
export async function loadMetric(store: ClickHouseDriver, id: string, project: string | null): Promise<MetricRow> {
  if (!UUID.test(id)) throw metricNotFound(id);
  const key = id.toLowerCase();
  const now = Date.now();
  let row = metricRows.get(key);
  if (!row || row.until <= now) {
    const found = (await store.query<MetricRow>(selectMetric(key, null)))[0];
    if (!found) {
      metricRows.delete(key);
      throw metricNotFound(id);
    }
    if (metricRows.size >= METRIC_ROW_CACHE_LIMIT) metricRows.clear();
    row = { row: found, until: now + METRIC_ROW_TTL_MS };
    metricRows.set(key, row);
  }
  // The project filter applies to the cached row exactly as the query's WHERE would.
  if (project !== null && row.row.project_id !== project) throw metricNotFound(id);
  return row.row;
}
