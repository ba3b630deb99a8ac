import type { FastifyInstance } from 'fastify';
import { CumulusError, type Clock } from '../../core/index.ts';
import { ROLLUP_METHODS, selectMeasures, selectMetric, selectMetrics, selectResource, type ArchivePolicyResolver, type ClickHouseDriver, type MetricRow, type ResourceRow, type RollupMethod } from '../../storage/index.ts';
import { readableProject, type TokenAuthenticator } from '../auth.ts';
import { ApiError, gnocchiErrorBody, invalidParameter } from '../errors.ts';
import { parseGranularity, parseTimestamp } from '../params.ts';
import { archivePolicyView, metricView, resourceView } from './format.ts';

export interface MetricApiDeps {
  store: ClickHouseDriver;
  policies: ArchivePolicyResolver;
  auth: TokenAuthenticator;
  clock: Clock;
  /** Every built-in and operator policy, for listing. */
  policyList: () => ReturnType<ArchivePolicyResolver['policy']>[];
  rules: () => ReadonlyArray<{ name: string; metric_pattern: string; archive_policy_name: string }>;
}

const DEFAULT_LIMIT = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const metricNotFound = (id: string) => new ApiError('CUMULUS_API_METRIC_NOT_FOUND', 404, `Metric ${id} does not exist`);
const resourceNotFound = (id: string) => new ApiError('CUMULUS_API_RESOURCE_NOT_FOUND', 404, `Resource ${id} does not exist`);

/** Gnocchi v1 under /metric/v1 (this slice: policies, rules, metrics, measures, resources by id). */
export function registerMetricRoutes(app: FastifyInstance, deps: MetricApiDeps): void {
  app.register(
    async (metric) => {
      metric.setErrorHandler((err, request, reply) => {
        const status = err instanceof CumulusError ? err.httpStatus : ((err as { statusCode?: number }).statusCode ?? 500);
        if (status >= 500) request.log.error({ err }, 'metric API failure');
        return reply.code(status).send(gnocchiErrorBody(status, status >= 500 ? 'The server could not complete the request; see its log.' : (err as Error).message));
      });
      metric.get('/', async () => ({ versions: [{ id: 'v1.0', status: 'CURRENT', links: [{ rel: 'self', href: '/metric/v1/' }] }] }));

      metric.register(
        async (v1) => {
          v1.addHook('preHandler', async (request) => {
            request.identity = await deps.auth.authenticate(request);
          });

          const loadMetric = async (id: string, project: string | null): Promise<MetricRow> => {
            if (!UUID.test(id)) throw metricNotFound(id);
            const row = (await deps.store.query<MetricRow>(selectMetric(id, project)))[0];
            if (!row) throw metricNotFound(id);
            return row;
          };

          const measures = async (row: MetricRow, query: Record<string, unknown>) => {
            const policy = deps.policies.policy(row.archive_policy_name);
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
            const rows = await deps.store.query<{ bucket: number | string; granularity: number | string; value: number | null }>(
              selectMeasures({ metricId: row.id, method: method as RollupMethod, granularity, start, stop, now: deps.clock.now() }),
            );
            return rows.map((r) => [new Date(Number(r.bucket) * 1000).toISOString().replace('.000Z', '+00:00'), Number(r.granularity), r.value === null ? null : Number(r.value)]);
          };

          v1.get('/archive_policy', async () => deps.policyList().map(archivePolicyView));
          v1.get('/archive_policy/:name', async (request) => {
            const { name } = request.params as { name: string };
            const found = deps.policyList().find((p) => p.name === name);
            if (!found) throw new ApiError('CUMULUS_API_ARCHIVE_POLICY_NOT_FOUND', 404, `Archive policy ${name} does not exist`);
            return archivePolicyView(found);
          });
          v1.get('/archive_policy_rule', async () => deps.rules().map((r) => ({ name: r.name, metric_pattern: r.metric_pattern, archive_policy_name: r.archive_policy_name })));

          v1.get('/metric', async (request) => {
            const query = request.query as Record<string, string | undefined>;
            const limit = query.limit === undefined ? DEFAULT_LIMIT : Number(query.limit);
            if (!Number.isInteger(limit) || limit < 1 || limit > DEFAULT_LIMIT) throw invalidParameter('limit', `a whole number from 1 to ${DEFAULT_LIMIT}`, query.limit);
            const rows = await deps.store.query<MetricRow>(
              selectMetrics({ projectId: readableProject(request.identity!), resourceId: query.resource_id, name: query.name, limit, marker: query.marker }),
            );
            return rows.map((row) => metricView(row, deps.policies.policy(row.archive_policy_name)));
          });
          v1.get('/metric/:id', async (request) => {
            const row = await loadMetric((request.params as { id: string }).id, readableProject(request.identity!));
            return metricView(row, deps.policies.policy(row.archive_policy_name));
          });
          v1.get('/metric/:id/measures', async (request) => {
            const row = await loadMetric((request.params as { id: string }).id, readableProject(request.identity!));
            return measures(row, request.query as Record<string, unknown>);
          });

          v1.get('/resource/:type/:id', async (request) => {
            const { type, id } = request.params as { type: string; id: string };
            const project = readableProject(request.identity!);
            const row = (await deps.store.query<ResourceRow>(selectResource(id, project)))[0];
            if (!row || (type !== 'generic' && row.type !== type)) throw resourceNotFound(id);
            const metrics = await deps.store.query<MetricRow>(selectMetrics({ projectId: project, resourceId: id, limit: DEFAULT_LIMIT }));
            return resourceView(row, metrics);
          });
          v1.get('/resource/:type/:id/metric/:name/measures', async (request) => {
            const { id, name } = request.params as { type: string; id: string; name: string };
            const project = readableProject(request.identity!);
            const row = (await deps.store.query<MetricRow>(selectMetrics({ projectId: project, resourceId: id, name, limit: 1 })))[0];
            if (!row) throw new ApiError('CUMULUS_API_METRIC_NOT_FOUND', 404, `Metric ${name} does not exist`);
            return measures(row, request.query as Record<string, unknown>);
          });
        },
        { prefix: '/v1' },
      );
    },
    { prefix: '/metric' },
  );
}
