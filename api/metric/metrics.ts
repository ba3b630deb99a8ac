import type { FastifyInstance } from 'fastify';
import { ROLLUP_METHODS, selectMeasures, selectMetrics, type MetricRow, type RollupMethod } from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { ApiError, invalidParameter } from '../errors.ts';
import { callerOf, TOKEN_SECURITY } from '../http.ts';
import { parseGranularity, parseTimestamp } from '../params.ts';
import { metricView } from './format.ts';
import { DEFAULT_LIMIT, loadMetric } from './shared.ts';

/** A metric's aggregated points as Gnocchi answers them: `[[iso timestamp, granularity, value], ...]`. */
export async function readMeasures(context: ApiContext, row: MetricRow, query: Record<string, unknown>): Promise<Array<[string, number, number | null]>> {
  const policy = context.policyStore.resolver.policy(row.archive_policy_name);
  const method = String(query.aggregation ?? 'mean');
  if (!(ROLLUP_METHODS as readonly string[]).includes(method)) throw invalidParameter('aggregation', `one of ${ROLLUP_METHODS.join(', ')}`, method);
  if (!policy.aggregation_methods.includes(method)) throw new ApiError('CUMULUS_API_AGGREGATION_NOT_FOUND', 404, `Aggregation method '${method}' for metric ${row.id} does not exist`);
  const granularity = parseGranularity(query.granularity);
  if (granularity !== undefined && !policy.definition.some((l) => l.granularity === granularity)) {
    throw new ApiError('CUMULUS_API_GRANULARITY_NOT_FOUND', 404, `Granularity '${granularity}' for metric ${row.id} does not exist`);
  }
  const start = parseTimestamp('start', query.start);
  const stop = parseTimestamp('stop', query.stop);
  if (start && stop && start >= stop) throw invalidParameter('stop', 'a time after start', query.stop);
  const rows = await context.store.query<{ bucket: number | string; granularity: number | string; value: number | null }>(
    selectMeasures({ metricId: row.id, method: method as RollupMethod, granularity, start, stop, now: context.clock.now() }),
  );
  return rows.map((r) => [new Date(Number(r.bucket) * 1000).toISOString().replace('.000Z', '+00:00'), Number(r.granularity), r.value === null ? null : Number(r.value)]);
}

/** /v1/metric: the metric index and each metric's measures. */
export function registerMetricCrudRoutes(v1: FastifyInstance, context: ApiContext): void {
  const tags = ['metric'];
  v1.get(
    '/metric',
    {
      schema: {
        tags,
        summary: 'List metrics',
        security: TOKEN_SECURITY,
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: DEFAULT_LIMIT }, marker: { type: 'string' }, resource_id: { type: 'string' }, name: { type: 'string' } },
        },
      },
    },
    async (request) => {
      const query = request.query as { limit?: number; marker?: string; resource_id?: string; name?: string };
      const rows = await context.store.query<MetricRow>(
        selectMetrics({ projectId: context.access.readableProject('metric', callerOf(request)), resourceId: query.resource_id, name: query.name, limit: query.limit ?? DEFAULT_LIMIT, marker: query.marker }),
      );
      return rows.map((row) => metricView(row, context.policyStore.resolver.policy(row.archive_policy_name)));
    },
  );
  v1.get('/metric/:id', { schema: { tags, summary: 'Show a metric', security: TOKEN_SECURITY } }, async (request) => {
    const row = await loadMetric(context.store, (request.params as { id: string }).id, context.access.readableProject('metric', callerOf(request)));
    return metricView(row, context.policyStore.resolver.policy(row.archive_policy_name));
  });
  v1.get('/metric/:id/measures', { schema: { tags, summary: "A metric's aggregated measures", security: TOKEN_SECURITY } }, async (request) => {
    const row = await loadMetric(context.store, (request.params as { id: string }).id, context.access.readableProject('metric', callerOf(request)));
    return readMeasures(context, row, request.query as Record<string, unknown>);
  });
}
