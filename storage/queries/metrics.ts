import type { BoundQuery } from '../driver.ts';

export interface MetricRow {
  id: string;
  name: string;
  resource_id: string;
  project_id: string;
  user_id: string;
  unit: string;
  archive_policy_name: string;
  created_at: string;
}

const COLUMNS = 'id, name, resource_id, project_id, user_id, unit, archive_policy_name, created_at';
/** A deleted metric is a newer row of its id with deleted = 1 (migration 5); read after FINAL, so it hides the metric. */
export const NOT_DELETED = 'deleted = 0';

/** A metric by id; when `projectId` is given, only if it belongs to that project. */
export function selectMetric(id: string, projectId: string | null): BoundQuery {
  return {
    sql: `SELECT ${COLUMNS} FROM metrics FINAL WHERE id = {id:UUID} AND ${NOT_DELETED}${projectId === null ? '' : ' AND project_id = {project_id:String}'} LIMIT 1`,
    params: projectId === null ? { id } : { id, project_id: projectId },
  };
}

export interface MetricFilter {
  projectId: string | null;
  resourceId?: string;
  name?: string;
  limit: number;
  /** Ids sort as strings; the page starts after this one. */
  marker?: string;
}

export function selectMetrics(filter: MetricFilter): BoundQuery {
  const where: string[] = [NOT_DELETED];
  const params: Record<string, unknown> = { limit: filter.limit };
  if (filter.projectId !== null) {
    where.push('project_id = {project_id:String}');
    params.project_id = filter.projectId;
  }
  if (filter.resourceId !== undefined) {
    where.push('resource_id = {resource_id:String}');
    params.resource_id = filter.resourceId;
  }
  if (filter.name !== undefined) {
    where.push('name = {name:String}');
    params.name = filter.name;
  }
  if (filter.marker !== undefined) {
    where.push('toString(id) > {marker:String}');
    params.marker = filter.marker;
  }
  return {
    sql: `SELECT ${COLUMNS} FROM metrics FINAL ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY toString(id) LIMIT {limit:UInt32}`,
    params,
  };
}

/** One row when any metric uses the archive policy (what a policy delete must check first). */
export function selectPolicyUsage(policyName: string): BoundQuery {
  return { sql: `SELECT 1 AS one FROM metrics FINAL WHERE archive_policy_name = {name:String} AND ${NOT_DELETED} LIMIT 1`, params: { name: policyName } };
}
