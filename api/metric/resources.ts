import type { FastifyInstance } from 'fastify';
import { selectMetrics, selectResource, type MetricRow, type ResourceRow } from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { callerOf, TOKEN_SECURITY } from '../http.ts';
import { resourceView } from './format.ts';
import { readMeasures } from './metrics.ts';
import { DEFAULT_LIMIT, resourceNotFound } from './shared.ts';

/** /v1/resource/<type>: the resource index (resources carry their metrics by name). */
export function registerResourceRoutes(v1: FastifyInstance, context: ApiContext): void {
  const tags = ['metric'];
  v1.get('/resource/:type/:id', { schema: { tags, summary: 'Show a resource', security: TOKEN_SECURITY } }, async (request) => {
    const { type, id } = request.params as { type: string; id: string };
    const project = context.access.readableProject('resource', callerOf(request));
    const row = (await context.store.query<ResourceRow>(selectResource(id, project)))[0];
    if (!row || (type !== 'generic' && row.type !== type)) throw resourceNotFound(id);
    const metrics = await context.store.query<MetricRow>(selectMetrics({ projectId: project, resourceId: id, limit: DEFAULT_LIMIT }));
    return resourceView(row, metrics);
  });
  v1.get('/resource/:type/:id/metric/:name/measures', { schema: { tags, summary: "Measures of a resource's metric, by name", security: TOKEN_SECURITY } }, async (request) => {
    const { id, name } = request.params as { type: string; id: string; name: string };
    const project = context.access.readableProject('metric', callerOf(request));
    const row = (await context.store.query<MetricRow>(selectMetrics({ projectId: project, resourceId: id, name, limit: 1 })))[0];
    if (!row) throw new ApiError('CUMULUS_API_METRIC_NOT_FOUND', 404, `Metric ${name} does not exist`);
    return readMeasures(context, row, request.query as Record<string, unknown>);
  });
}
