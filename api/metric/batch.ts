import type { FastifyInstance } from 'fastify';
import type { TokenInfo } from '../../core/index.ts';
import { normalizeUuid, resourceUuid, selectMetricsByIds, selectNamedMetrics, writeMeasureBatch, type MeasureInput, type MetricMeasures, type MetricRow, type ResourceRow } from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { ApiError, DescribedApiError } from '../errors.ts';
import { callerOf, TOKEN_SECURITY } from '../http.ts';
import { NO_OTHER_FIELDS, parseBool, requireJsonBody } from '../params.ts';
import { MEASURES_BODY_SCHEMA, createMetric, parseMeasures, sendAccepted } from './metrics.ts';
import { findResource } from './resource-reads.ts';

/** A named metric's entry in a resources batch: a measures list, or `{archive_policy_name?, unit?, measures}` (Gnocchi 4's form). */
const NAMED_MEASURES_SCHEMA = {
  anyOf: [
    MEASURES_BODY_SCHEMA,
    {
      type: 'object',
      required: ['measures'],
      properties: { archive_policy_name: { type: 'string', minLength: 1 }, unit: { type: 'string', maxLength: 31 }, measures: MEASURES_BODY_SCHEMA },
      additionalProperties: NO_OTHER_FIELDS,
    },
  ],
} as const;

const unknownMetrics = (names: readonly string[]) => new ApiError('CUMULUS_API_UNKNOWN_METRICS', 400, `Unknown metrics: ${[...names].sort().join(', ')}`);

/** Writes every metric's measures in one insert, after checking the caller may write to each. */
async function writeAll(context: ApiContext, identity: TokenInfo, writes: Array<{ row: MetricRow; measures: readonly MeasureInput[] }>): Promise<number> {
  for (const { row } of writes) context.access.enforce('metric:write', identity, { project_id: row.project_id, user_id: row.user_id });
  const batch: MetricMeasures[] = writes.filter((w) => w.measures.length > 0).map(({ row, measures }) => ({ metric: row, policy: context.policyStore.resolver.policy(row.archive_policy_name), measures }));
  if (batch.length === 0) return 0;
  return (await writeMeasureBatch(context.store, batch, { now: context.clock.now(), observer: context.hotRollups ?? null })).refused.length;
}

/** /v1/batch/metrics/measures and /v1/batch/resources/metrics/measures. */
export function registerBatchRoutes(v1: FastifyInstance, context: ApiContext): void {
  const tags = ['metric'];

  v1.post(
    '/batch/metrics/measures',
    {
      preValidation: requireJsonBody,
      schema: {
        tags,
        summary: 'Add measures to several metrics',
        description: '`{metric_id: [{timestamp, value}]}`; 400 listing the metrics that do not exist (another project\'s included). 202 once written.',
        security: TOKEN_SECURITY,
        body: { type: 'object', additionalProperties: MEASURES_BODY_SCHEMA },
      },
    },
    async (request, reply) => {
      const identity = callerOf(request);
      const now = context.clock.now();
      // 1. every key a metric id, every list readable, before anything is looked up.
      const byId = new Map<string, MeasureInput[]>();
      for (const [key, list] of Object.entries(request.body as Record<string, unknown>)) {
        const id = normalizeUuid(key);
        if (id === null) throw new DescribedApiError('CUMULUS_API_INVALID_INPUT', 400, `Invalid input: body key ${JSON.stringify(key)} is not a metric id (UUID)`, { cause: 'Invalid input', reason: `not a valid value for dictionary key: ${key}`, detail: [key] });
        byId.set(id, [...(byId.get(id) ?? []), ...parseMeasures(list, `body[${JSON.stringify(key)}]`, now)]);
      }
      if (byId.size === 0) return sendAccepted(reply, 0);
      // 2. the metrics the caller may see; the others are unknown, like missing ones.
      const rows = await context.store.query<MetricRow>(selectMetricsByIds([...byId.keys()], context.access.readableProject('metric', identity)));
      const found = new Map(rows.map((r) => [r.id, r]));
      const missing = [...byId.keys()].filter((id) => !found.has(id));
      if (missing.length > 0) throw unknownMetrics(missing);
      const refused = await writeAll(context, identity, [...byId].map(([id, measures]) => ({ row: found.get(id) as MetricRow, measures })));
      return sendAccepted(reply, refused);
    },
  );

  v1.post(
    '/batch/resources/metrics/measures',
    {
      preValidation: requireJsonBody,
      schema: {
        tags,
        summary: "Add measures to resources' named metrics",
        description:
          '`{resource_id: {metric_name: [measures] | {archive_policy_name?, unit?, measures}}}`. With create_metrics=true a missing metric is created (its policy the one given, else the rules\' choice), and a missing resource is a 400 "Unknown resources"; without, missing metrics are a 400 "Unknown metrics". 202 once written.',
        security: TOKEN_SECURITY,
        querystring: { type: 'object', properties: { create_metrics: { type: 'string', description: 'true: create the metrics that do not exist' } } },
        body: { type: 'object', additionalProperties: { type: 'object', additionalProperties: NAMED_MEASURES_SCHEMA } },
      },
    },
    async (request, reply) => {
      const identity = callerOf(request);
      const now = context.clock.now();
      const create = parseBool('create_metrics', (request.query as { create_metrics?: string }).create_metrics, false);
      // 1. every measures list readable first (Gnocchi validates the whole body before anything).
      type Named = { measures: MeasureInput[]; archive_policy_name?: string; unit?: string };
      const body = request.body as Record<string, Record<string, unknown>>;
      const parsed = new Map<string, Map<string, Named>>();
      for (const [resourceKey, metrics] of Object.entries(body)) {
        const names = new Map<string, Named>();
        for (const [name, entry] of Object.entries(metrics)) {
          const where = `body[${JSON.stringify(resourceKey)}][${JSON.stringify(name)}]`;
          if (Array.isArray(entry)) names.set(name, { measures: parseMeasures(entry, where, now) });
          else {
            const { measures, archive_policy_name, unit } = entry as { measures: unknown; archive_policy_name?: string; unit?: string };
            names.set(name, { measures: parseMeasures(measures, `${where}.measures`, now), ...(archive_policy_name !== undefined ? { archive_policy_name } : {}), ...(unit !== undefined ? { unit } : {}) });
          }
        }
        if (names.size > 0) parsed.set(resourceKey, names);
      }
      if (parsed.size === 0) return sendAccepted(reply, 0);
      // 2. the resources the caller may see, and their named metrics.
      const resourceProject = context.access.readableProject('resource', identity);
      const resources = new Map<string, ResourceRow | undefined>();
      for (const key of parsed.keys()) resources.set(key, await findResource(context, key, resourceProject));
      const knownIds = [...resources.values()].filter((r): r is ResourceRow => r !== undefined).map((r) => r.id);
      const allNames = [...new Set([...parsed.values()].flatMap((m) => [...m.keys()]))];
      const existing = knownIds.length === 0 ? [] : await context.store.query<MetricRow>(selectNamedMetrics(knownIds, allNames));
      const metricProject = context.access.readableProject('metric', identity);
      const byResource = new Map<string, Map<string, MetricRow>>();
      for (const m of existing) {
        if (metricProject !== null && m.project_id !== metricProject) continue;
        const names = byResource.get(m.resource_id) ?? new Map<string, MetricRow>();
        names.set(m.name, m);
        byResource.set(m.resource_id, names);
      }
      // 3. what is missing: created, or reported as Gnocchi words it.
      const unknownResources: Array<{ resource_id: string; original_resource_id: string }> = [];
      const unknown: string[] = [];
      const writes: Array<{ row: MetricRow; measures: readonly MeasureInput[] }> = [];
      for (const [key, names] of parsed) {
        const resource = resources.get(key);
        const shownId = resource ? resourceUuid(resource.id) : resourceUuid(key);
        for (const [name, entry] of names) {
          const row = resource ? byResource.get(resource.id)?.get(name) : undefined;
          if (row) writes.push({ row, measures: entry.measures });
          else if (!create) unknown.push(`${shownId}/${name}`);
          else if (!resource) {
            unknownResources.push({ resource_id: shownId, original_resource_id: key });
            break;
          } else {
            const created = await createMetric(context, identity, { name, ...(entry.unit !== undefined ? { unit: entry.unit } : {}), ...(entry.archive_policy_name !== undefined ? { archive_policy_name: entry.archive_policy_name } : {}) }, resource);
            writes.push({ row: created, measures: entry.measures });
          }
        }
      }
      if (unknownResources.length > 0) throw new DescribedApiError('CUMULUS_API_UNKNOWN_RESOURCES', 400, `Unknown resources: ${unknownResources.map((r) => r.original_resource_id).join(', ')}`, { cause: 'Unknown resources', detail: unknownResources });
      if (unknown.length > 0) throw unknownMetrics(unknown);
      return sendAccepted(reply, await writeAll(context, identity, writes));
    },
  );
}
