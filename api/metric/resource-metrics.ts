import { randomUUID } from 'node:crypto';
import { metricId, type TokenInfo } from '../../core/index.ts';
import { insertMetric, normalizeUuid, selectKnownMetricIds, selectMetric, selectMetricVersions, type MetricRow, type NewMetric } from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { policyForNewMetric } from './metrics.ts';

/** Gnocchi's metric unit bound (a VARCHAR(31)). */
export const MAX_UNIT_LENGTH = 31;

/** The `metrics` of a resource body: name -> an existing metric's id, or a definition of a new one. */
export const RESOURCE_METRICS_SCHEMA = {
  type: 'object',
  description: 'name -> the id of an existing metric, or {archive_policy_name?, unit?} for a new one (no name: the archive policy rules choose)',
  additionalProperties: {
    anyOf: [
      { type: 'string', minLength: 1 },
      {
        type: 'object',
        properties: { archive_policy_name: { type: 'string', minLength: 1 }, unit: { type: 'string', maxLength: MAX_UNIT_LENGTH }, name: { type: 'string' }, resource_id: { type: 'string' } },
        additionalProperties: { not: {} },
      },
    ],
  },
} as const;

export interface MetricOwner {
  /** Stored resource id. */
  readonly id: string;
  readonly project_id: string;
}

const badMetric = (message: string) => new ApiError('CUMULUS_API_RESOURCE_METRIC_INVALID', 400, message);
const msOf = (text: string): number => {
  const ms = Date.parse(`${text.replace(' ', 'T')}Z`);
  return Number.isNaN(ms) ? 0 : ms;
};

/**
 * The metric rows that give a resource the metrics a body asks for, checked before
 * anything is written. `append` (POST .../metric): a name the resource has is a 409.
 * `replace` (a resource's create or PATCH): names the resource has keep their metric,
 * metrics under names left out are detached (Gnocchi's non-append update).
 * New metrics take the id the pipeline would give them (metricId(resource, name)), so
 * samples of the same meter land in them, unless that id was ever used (a deleted
 * metric's measures must not come back).
 */
export async function planResourceMetrics(context: ApiContext, identity: TokenInfo, owner: MetricOwner, definitions: Readonly<Record<string, unknown>>, current: readonly MetricRow[], mode: 'append' | 'replace'): Promise<NewMetric[]> {
  const now = context.clock.now();
  const byName = new Map(current.map((m) => [m.name, m]));
  const writes: Array<Omit<NewMetric, 'created_at'>> = [];
  const kept = new Set<string>();
  /** Ids of metrics this plan creates. */
  const fresh = new Set<string>();
  for (const [name, definition] of Object.entries(definitions)) {
    if (name.includes('/')) throw badMetric(`'/' is not supported in metric name: ${JSON.stringify(name)}`);
    if (name === '') throw badMetric('Invalid input: metrics: a metric name cannot be empty');
    const existing = byName.get(name);
    if (typeof definition === 'string') {
      const uuid = normalizeUuid(definition);
      const metric = uuid === null ? undefined : (await context.store.query<MetricRow>(selectMetric(uuid, context.access.readableProject('metric', identity))))[0];
      if (!metric) throw badMetric(`Invalid input: metrics.${name}: Metric ${definition} does not exist; expected the id of a metric you can read, or {"archive_policy_name": ...} to create one`);
      if (existing?.id === metric.id) {
        kept.add(metric.id);
        continue;
      }
      if (existing && mode === 'append') throw new ApiError('CUMULUS_API_METRIC_EXISTS', 409, `Named metric ${name} already exists on this resource`);
      context.access.enforce('metric:write', identity, { project_id: metric.project_id });
      writes.push({ ...metric, name, resource_id: owner.id });
      kept.add(metric.id);
    } else if (definition !== null && typeof definition === 'object' && !Array.isArray(definition)) {
      if (existing) {
        if (mode === 'append') throw new ApiError('CUMULUS_API_METRIC_EXISTS', 409, `Named metric ${name} already exists on this resource`);
        kept.add(existing.id);
        continue;
      }
      const { archive_policy_name: policyName, unit } = definition as { archive_policy_name?: string; unit?: string };
      let policy: string;
      try {
        policy = policyForNewMetric(context, { name, archive_policy_name: policyName, unit }).name;
      } catch (err) {
        if (err instanceof ApiError && err.httpStatus === 400) throw badMetric(`Invalid input: metrics.${name}: ${err.message}`);
        throw err;
      }
      fresh.add(metricId(owner.id, name));
      writes.push({ id: metricId(owner.id, name), name, resource_id: owner.id, project_id: owner.project_id, user_id: identity.userId, unit: unit ?? '', archive_policy_name: policy });
    } else {
      throw badMetric(`Invalid input: metrics.${name}: expected a metric id or {"archive_policy_name": ...}, got ${JSON.stringify(definition)}`);
    }
  }
  if (new Set(writes.map((w) => w.id)).size !== writes.length) throw badMetric('Invalid input: metrics: the same metric is given under two names');
  if (mode === 'replace') {
    for (const metric of current) if (!kept.has(metric.id) && !writes.some((w) => w.id === metric.id)) writes.push({ ...metric, resource_id: '' });
  }
  if (writes.length === 0) return [];
  const used = fresh.size === 0 ? new Set<string>() : new Set((await context.store.query<{ known_id: string }>(selectKnownMetricIds([...fresh]))).map((r) => r.known_id));
  for (const write of writes) if (fresh.has(write.id) && used.has(write.id)) write.id = randomUUID();
  // A rewrite must be the newest row of its id (the table keeps the highest created_at).
  const versions = new Map((await context.store.query<{ id: string; version: string }>(selectMetricVersions(writes.map((w) => w.id)))).map((r) => [r.id, msOf(r.version)]));
  return writes.map((w) => ({ ...w, created_at: new Date(Math.max(now.getTime(), (versions.get(w.id) ?? -1) + 1)) }));
}

/** Writes planned metric rows. */
export async function writeMetrics(context: ApiContext, rows: readonly NewMetric[]): Promise<void> {
  for (const row of rows) await insertMetric(context.store, row);
}
