/**
 * The metric index as Gnocchi's API lists and looks it up: attribute filters, sort keys
 * with keyset pagination (the marker is a metric id), several metrics by id or by
 * (resource, name) at once, and the index's size. Every value is a bound parameter; sort
 * keys are looked up in a fixed map, never spliced from input. Experimental API.
 */
import type { BoundQuery } from '../driver.ts';
import { NOT_DELETED } from './metrics.ts';

const COLUMNS = 'id, name, resource_id, project_id, user_id, unit, archive_policy_name, created_at';

/** Gnocchi's metric attributes a list may sort by, and the expression each sorts on. */
export const METRIC_SORT_KEYS = {
  id: 'toString(id)',
  name: 'name',
  unit: 'unit',
  archive_policy_name: 'archive_policy_name',
  resource_id: 'resource_id',
  creator: "concat(user_id, ':', project_id)",
  created_by_user_id: 'user_id',
  created_by_project_id: 'project_id',
  user_id: 'user_id',
  project_id: 'project_id',
  status: 'deleted',
} as const;
export type MetricSortKey = keyof typeof METRIC_SORT_KEYS;

export const isMetricSortKey = (key: string): key is MetricSortKey => Object.hasOwn(METRIC_SORT_KEYS, key);

export interface MetricSort {
  key: MetricSortKey;
  descending: boolean;
}

/** Equality filters, each on one attribute (all must hold). */
export interface MetricAttributeFilter {
  id?: string;
  name?: string;
  unit?: string;
  archive_policy_name?: string;
  resource_id?: string;
  /** `user_id:project_id`. */
  creator?: string;
  user_id?: string;
  project_id?: string;
}

const FILTER_COLUMNS: Record<keyof MetricAttributeFilter, string> = {
  id: 'toString(id)',
  name: 'name',
  unit: 'unit',
  archive_policy_name: 'archive_policy_name',
  resource_id: 'resource_id',
  creator: METRIC_SORT_KEYS.creator,
  user_id: 'user_id',
  project_id: 'project_id',
};

export interface MetricListQuery {
  /** Only this project's metrics; every project's when null. */
  projectId: string | null;
  filter: MetricAttributeFilter;
  /** `active` (default) or `delete`: the deleted ones (Gnocchi's status filter). */
  status?: 'active' | 'delete';
  /** Sort keys in order; the id always ends the order, so pages never overlap. */
  sorts: readonly MetricSort[];
  limit: number;
  /** The row the previous page ended with (from selectMetricMarker): the page starts after it. */
  marker?: MetricMarkerRow;
}

/** The sort values of a marker metric (any status). */
export interface MetricMarkerRow {
  /** Aliased: an alias `id` would shadow the UUID column in WHERE. */
  marker_id: string;
  name: string;
  unit: string;
  archive_policy_name: string;
  resource_id: string;
  user_id: string;
  project_id: string;
  deleted: number | string;
}

/** A marker metric's sort values, whatever its status; none when the id is unknown. */
export function selectMetricMarker(id: string): BoundQuery {
  return {
    sql: 'SELECT toString(id) AS marker_id, name, unit, archive_policy_name, resource_id, user_id, project_id, deleted FROM metrics FINAL WHERE id = {id:UUID} LIMIT 1',
    params: { id },
  };
}

/** The value a marker row has for a sort key, as the expression of that key computes it. */
function markerValue(marker: MetricMarkerRow, key: MetricSortKey): string | number {
  switch (key) {
    case 'id':
      return marker.marker_id;
    case 'creator':
      return `${marker.user_id}:${marker.project_id}`;
    case 'created_by_user_id':
    case 'user_id':
      return marker.user_id;
    case 'created_by_project_id':
    case 'project_id':
      return marker.project_id;
    case 'status':
      return Number(marker.deleted);
    default:
      return marker[key];
  }
}

/** Gnocchi's GET /v1/metric: filters, sorts and a keyset page; the rows are MetricRow. */
export function listMetrics(q: MetricListQuery): BoundQuery {
  const params: Record<string, unknown> = { limit: q.limit };
  const where: string[] = [q.status === 'delete' ? 'deleted = 1' : NOT_DELETED];
  if (q.projectId !== null) {
    where.push('project_id = {project_id:String}');
    params.project_id = q.projectId;
  }
  for (const [key, value] of Object.entries(q.filter) as Array<[keyof MetricAttributeFilter, string | undefined]>) {
    if (value === undefined) continue;
    where.push(`${FILTER_COLUMNS[key]} = {f_${key}:String}`);
    params[`f_${key}`] = value;
  }
  const sorts: MetricSort[] = [...q.sorts];
  if (!sorts.some((s) => s.key === 'id')) sorts.push({ key: 'id', descending: false });
  if (q.marker) {
    // After the marker in the sort order: (k1 > m1) or (k1 = m1 and k2 > m2) or ...
    const branches = sorts.map((sort, i) => {
      const equal = sorts.slice(0, i).map((s, j) => `${METRIC_SORT_KEYS[s.key]} = {m_${j}:${s.key === 'status' ? 'UInt8' : 'String'}}`);
      return [...equal, `${METRIC_SORT_KEYS[sort.key]} ${sort.descending ? '<' : '>'} {m_${i}:${sort.key === 'status' ? 'UInt8' : 'String'}}`].join(' AND ');
    });
    sorts.forEach((sort, i) => {
      params[`m_${i}`] = markerValue(q.marker as MetricMarkerRow, sort.key);
    });
    where.push(`(${branches.map((b) => `(${b})`).join(' OR ')})`);
  }
  const order = sorts.map((s) => `${METRIC_SORT_KEYS[s.key]} ${s.descending ? 'DESC' : 'ASC'}`).join(', ');
  return { sql: `SELECT ${COLUMNS} FROM metrics FINAL WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT {limit:UInt32}`, params };
}

/** The metrics of these resources, by name (Gnocchi's named metrics), any project. */
export function selectNamedMetrics(resourceIds: readonly string[], names: readonly string[]): BoundQuery {
  return {
    sql: `SELECT ${COLUMNS} FROM metrics FINAL WHERE resource_id IN {resource_ids:Array(String)} AND name IN {names:Array(String)} AND ${NOT_DELETED}`,
    params: { resource_ids: [...resourceIds], names: [...names] },
  };
}

/** Which of these ids have ever had a row, deleted or not (a new metric must not reuse one). */
export function selectKnownMetricIds(ids: readonly string[]): BoundQuery {
  return { sql: 'SELECT DISTINCT toString(id) AS known_id FROM metrics WHERE id IN {ids:Array(UUID)}', params: { ids: [...ids] } };
}

/** The index's size for /v1/status: metrics (live), raw measures, refused measures. */
export function selectMetricStoreStats(): BoundQuery {
  return {
    sql: `SELECT
      (SELECT countIf(deleted = 0) FROM metrics FINAL) AS metrics,
      (SELECT count() FROM measures) AS measures,
      (SELECT sum(refused) FROM measure_refusals) AS refused_measures`,
  };
}
