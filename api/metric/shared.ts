import type { ClickHouseDriver, MetricRow } from '../../storage/index.ts';
import { selectMetric } from '../../storage/index.ts';
import { ApiError } from '../errors.ts';

export const DEFAULT_LIMIT = 1000;
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const UUID = new RegExp(UUID_PATTERN);

export const metricNotFound = (id: string) => new ApiError('CUMULUS_API_METRIC_NOT_FOUND', 404, `Metric ${id} does not exist`);
export const resourceNotFound = (id: string) => new ApiError('CUMULUS_API_RESOURCE_NOT_FOUND', 404, `Resource ${id} does not exist`);

/** The metric if the caller's project may see it; another project's metric is "does not exist", like a missing one. */
export async function loadMetric(store: ClickHouseDriver, id: string, project: string | null): Promise<MetricRow> {
  if (!UUID.test(id)) throw metricNotFound(id);
  const row = (await store.query<MetricRow>(selectMetric(id, project)))[0];
  if (!row) throw metricNotFound(id);
  return row;
}
