import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireToken, useErrorStyle } from '../http.ts';
import { registerAggregatesRoutes } from './aggregates.ts';
import { registerArchivePolicyRoutes } from './archive-policies.ts';
import { registerBatchRoutes } from './batch.ts';
import { registerIngestRoutes } from './ingest.ts';
import { registerMetricCrudRoutes } from './metrics.ts';
import { registerResourceTypeRoutes } from './resource-types.ts';
import { registerResourceRoutes } from './resources.ts';
import { registerSearchRoutes } from './search.ts';
import { registerStatusRoutes } from './status.ts';

/**
 * Gnocchi v1 under /metric (the catalog's `metric` endpoint), so python-gnocchiclient and
 * Grafana's Gnocchi datasource work unchanged. Errors are Gnocchi's `{code,title,description}`.
 */
export function registerMetricRoutes(app: FastifyInstance, context: ApiContext): void {
  app.register(
    async (metric) => {
      useErrorStyle(metric, 'gnocchi');
      metric.get('/', { schema: { tags: ['health'], summary: 'API versions (no token)' } }, async () => ({
        versions: [{ id: 'v1.0', status: 'CURRENT', links: [{ rel: 'self', href: '/metric/v1/' }] }],
      }));
      metric.register(
        async (v1) => {
          requireToken(v1, context.auth);
          registerArchivePolicyRoutes(v1, context);
          registerMetricCrudRoutes(v1, context);
          registerBatchRoutes(v1, context);
          registerResourceTypeRoutes(v1, context);
          registerResourceRoutes(v1, context);
          registerSearchRoutes(v1, context);
          registerAggregatesRoutes(v1, context);
          registerIngestRoutes(v1, context);
          registerStatusRoutes(v1, context);
        },
        { prefix: '/v1' },
      );
    },
    { prefix: '/metric' },
  );
}
