import type { FastifyInstance } from 'fastify';
import { ALL_AGGREGATION_METHODS, selectMetricStoreStats } from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { callerOf, TOKEN_SECURITY } from '../http.ts';
import { parseBool } from '../params.ts';
import { withTrailingSlash } from './trailing-slash.ts';

/**
 * /v1/status and /v1/capabilities. Gnocchi's status reports the measures metricd still has
 * to process; Cumulus writes measures straight into the store (the rollups follow in the
 * same insert), so that backlog is always empty. The `cumulus` section adds what the store
 * holds, cheaply counted.
 */
export function registerStatusRoutes(v1: FastifyInstance, context: ApiContext): void {
  const tags = ['metric'];

  v1.get(
    '/status',
    {
      schema: {
        tags,
        summary: 'Measures waiting to be processed (always none) and what the store holds',
        description: "Gnocchi's status shape; `status:read` (admins by default).",
        security: TOKEN_SECURITY,
        querystring: { type: 'object', properties: { details: { type: 'string', description: 'false: leave measures_to_process out (default true)' } } },
      },
    },
    async (request) => {
      context.access.enforce('status:read', callerOf(request));
      const details = parseBool('details', (request.query as { details?: string }).details, true);
      const stats = (await context.store.query<{ metrics: number | string; measures: number | string; refused_measures: number | string | null }>(selectMetricStoreStats()))[0];
      return {
        storage: {
          summary: { metrics: 0, measures: 0 },
          ...(details ? { measures_to_process: {} } : {}),
        },
        // No metricd: the processing happens in the insert.
        metricd: { processors: null, statistics: {} },
        cumulus: {
          metrics: Number(stats?.metrics ?? 0),
          measures: Number(stats?.measures ?? 0),
          refused_measures: Number(stats?.refused_measures ?? 0),
        },
      };
    },
  );

  withTrailingSlash(v1).get('/capabilities', { schema: { tags, summary: 'Aggregation methods an archive policy may keep', security: TOKEN_SECURITY } }, async () => ({
    aggregation_methods: [...ALL_AGGREGATION_METHODS],
  }));
}
