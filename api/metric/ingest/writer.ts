/**
 * Writes pushed measures the way Gnocchi's get_or_create_resource_and_metrics does: each
 * resource is created on its first write (owned by the caller's project and user), each
 * metric on its first measure (under the policy its archive policy rule gives it), then the
 * measures go through storage's writeMeasureBatch (retention, back window, one insert with
 * the rollups). Experimental.
 */
import { metricId, type TokenInfo } from '../../../core/index.ts';
import {
  clickHouseTime,
  resourceRow,
  resourceUuid,
  selectMetricsOfResources,
  selectResourceStates,
  validateAttributes,
  writeMeasureBatch,
  type ArchivePolicy,
  type MetricMeasures,
  type MetricRow,
  type ResourceRevision,
  type ResourceRow,
  type ResourceType,
} from '../../../storage/index.ts';
import type { ApiContext } from '../../context.ts';
import { DescribedApiError } from '../../errors.ts';
import type { ResourceMeasures } from './mapping.ts';

export interface IngestResult {
  resources: { created: number };
  metrics: { created: number };
  measures: { accepted: number; refused: number };
}

/** Gnocchi's 409 when the resource id is taken by a resource of another type. */
const resourceConflict = (name: string, type: string, existing: string) =>
  new DescribedApiError('CUMULUS_API_RESOURCE_CONFLICT', 409, `Resource ${name} already exists with type ${existing}; this write needs type ${type}`, { cause: 'Resource already exists', detail: resourceUuid(name) });

/**
 * Creates what is missing and writes the measures. Order matters: 1. resources, 2. metrics,
 * 3. measures, so a reader never finds a measure whose metric, or a metric whose resource,
 * is not there yet, and a retry after a failure redoes only what is missing.
 */
export async function writePushedMeasures(context: ApiContext, identity: TokenInfo, type: ResourceType, resources: readonly ResourceMeasures[]): Promise<IngestResult> {
  const now = context.clock.now();
  const nowMicros = now.getTime() * 1000;
  const names = resources.map((r) => r.name);
  const result: IngestResult = { resources: { created: 0 }, metrics: { created: 0 }, measures: { accepted: 0, refused: 0 } };
  if (names.length === 0) return result;

  // 0. what exists: a resource of another type is a conflict; one of another project is not the caller's to write to.
  const existing = new Map((await context.store.query<ResourceRow>(selectResourceStates(names))).map((row) => [row.id, row]));
  for (const r of resources) {
    const row = existing.get(r.name);
    if (!row) continue;
    if (row.type !== type.name) throw resourceConflict(r.name, type.name, row.type);
    context.access.enforce('ingest:write', identity, { project_id: row.project_id, user_id: row.user_id });
  }

  // 1. new resources, owned by the caller.
  const created: ResourceRevision[] = resources
    .filter((r) => !existing.has(r.name))
    .map((r) => ({
      id: r.name,
      type: type.name,
      project_id: identity.projectId ?? '',
      user_id: identity.userId,
      started_at: nowMicros,
      ended_at: null,
      revision_start: nowMicros,
      generation: type.generation,
      attributes: validateAttributes(type, r.attributes),
    }));
  if (created.length > 0) await context.store.insert('resources', created.map(resourceRow));
  result.resources.created = created.length;
  const owners = new Map<string, { project_id: string; user_id: string }>([...existing.values(), ...created].map((r) => [r.id, { project_id: r.project_id, user_id: r.user_id }]));

  // 2. new metrics, under the policy their name's rule gives.
  const known = new Map((await context.store.query<MetricRow>(selectMetricsOfResources(names))).map((m) => [`${m.resource_id}\u001f${m.name}`, m]));
  const policies = new Map<string, ArchivePolicy>();
  const policyOf = (name: string) => {
    let policy = policies.get(name);
    if (!policy) {
      policy = context.policyStore.resolver.policy(name);
      policies.set(name, policy);
    }
    return policy;
  };
  const newMetrics: MetricRow[] = [];
  const writes: MetricMeasures[] = [];
  for (const r of resources) {
    const owner = owners.get(r.name) as { project_id: string; user_id: string };
    for (const [name, measures] of r.metrics) {
      let metric = known.get(`${r.name}\u001f${name}`);
      if (!metric) {
        const policy = context.policyStore.policyForMetric(name);
        policies.set(policy.name, policy);
        metric = { id: metricId(r.name, name), name, resource_id: r.name, project_id: owner.project_id, user_id: owner.user_id, unit: '', archive_policy_name: policy.name, created_at: clickHouseTime(nowMicros).slice(0, -3) };
        newMetrics.push(metric);
      }
      writes.push({ metric, policy: policyOf(metric.archive_policy_name), measures });
    }
  }
  if (newMetrics.length > 0) await context.store.insert('metrics', newMetrics.map((m) => ({ ...m, deleted: 0 })));
  result.metrics.created = newMetrics.length;

  // 3. the measures, in one insert.
  const written = await writeMeasureBatch(context.store, writes, { now, observer: context.hotRollups ?? null });
  result.measures = { accepted: written.accepted, refused: written.refused.length };
  return result;
}
