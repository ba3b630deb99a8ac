import type { FastifyInstance } from 'fastify';
import type { TokenInfo } from '../../core/index.ts';
import { normalizeUuid, selectMetricsByIds, type MetricRow, type ResourceRow } from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { callerOf, TOKEN_SECURITY } from '../http.ts';
import { NO_OTHER_FIELDS, parseBool, parseQueryTimespan } from '../params.ts';
import { isoBucket, metricView, pythonFloat } from './format.ts';
import { metricsNotFound, operationsWithoutMetric, unaggregable } from './aggregates/errors.ts';
import { extractReferences, parseOperations, REDUCER_METHODS, renameReferences, type MetricReference, type OperationNode } from './aggregates/grammar.ts';
import type { Point } from './aggregates/processor.ts';
import { parseGroupby, parseWindowQuery, WINDOW_QUERY_PROPERTIES, type WindowQuery } from './aggregates/query.ts';
import { commonGranularities, formatPoints, getMeasures, readMetricPoints, type AggregateReference } from './aggregates/reader.ts';
import {
  findResources,
  groupResources,
  metricIdReferences,
  resourceKey,
  resourceReferences,
  resourcesMetrics,
  resourceTypeOf,
  resourceView,
  searchFilter,
  unknownGroupField,
} from './aggregates/targets.ts';
import { CALENDAR_GROUPINGS, isCalendarGrouping, resampleSeries, type CalendarGrouping } from './measure-series.ts';

/*
 * /v1/aggregates (Gnocchi 4's operations over metrics and resources) and the older
 * /v1/aggregation/... routes python-gnocchiclient's `gnocchi measures aggregation` calls.
 * Both are reads: the caller sees only the metrics and resources of their project (all of
 * them for an admin); another project's answers exactly like a missing one. Experimental.
 */

type Points = Array<[string, number | string, number | null]>;
type Tree = { [key: string]: Tree | Points };

interface AggregatesBody {
  operations: unknown;
  resource_type?: string;
  search?: unknown;
}

/** Raised when no resource of a group has a metric the operations name (Gnocchi's NoSuchMetric). */
class NoMatchingMetric extends Error {}

const AGGREGATES_BODY = {
  type: 'object',
  required: ['operations'],
  properties: {
    operations: {
      type: ['string', 'array'],
      maxLength: 65_536,
      description: 'The operations: "(aggregate mean (metric (<id> mean) (<id> mean)))" or the same tree as JSON lists; with resources, metric names (fnmatch patterns) instead of ids',
    },
    resource_type: { type: 'string', minLength: 1, maxLength: 255, description: 'With search: the resource type to search (default generic)' },
    search: { type: ['object', 'string'], description: 'The resources whose metrics to use: a search tree ({"=": {"project_id": "..."}}) or the query form ("project_id = \'...\'"); {} for all' },
  },
  additionalProperties: NO_OTHER_FIELDS,
} as const;

const CROSS_METRIC_QUERY = {
  ...WINDOW_QUERY_PROPERTIES,
  aggregation: { type: 'string', maxLength: 100, description: "Each metric's aggregation method (default mean)" },
  reaggregation: { type: 'string', maxLength: 100, description: `Across metrics: ${REDUCER_METHODS.join(', ')} (default: the aggregation)` },
  resample: { type: 'string', maxLength: 100, description: 'Regroup each series into buckets of this timespan (needs granularity); one metric also takes a calendar unit Y, H, Q, M, W' },
  groupby: { type: 'array', items: { type: 'string', maxLength: 255 }, maxItems: 20, description: 'Resource fields to group by, repeatable' },
} as const;

/** Measures per metric id, then aggregation (m_output), or per resource id, then metric name, then aggregation (r_output). */
function measuresTree(refs: readonly AggregateReference[], perReference: readonly Point[][], byResource: boolean): Tree {
  const out: Tree = {};
  refs.forEach((ref, i) => {
    const path = byResource && ref.resource ? [resourceKey(ref.resource), ref.metric.name] : [ref.name];
    let node = out;
    for (const key of path) node = (node[key] ??= {}) as Tree;
    // A metric two patterns match is listed once.
    if (!node[ref.aggregation]) node[ref.aggregation] = formatPoints(perReference[i] ?? []);
  });
  return out;
}

/** The refs' measures under the operations, shaped as Gnocchi answers /v1/aggregates. */
async function aggregatesMeasures(context: ApiContext, refs: readonly AggregateReference[], operations: OperationNode, window: WindowQuery, byResource: boolean): Promise<Tree> {
  const result = await getMeasures(context, refs, operations, window);
  if (result.kind === 'aggregated') return { aggregated: formatPoints(result.points) };
  return measuresTree(refs, result.perReference, byResource);
}

async function byMetricIds(context: ApiContext, identity: TokenInfo, operations: OperationNode, references: readonly MetricReference[], window: WindowQuery, details: boolean) {
  const { refs, metrics, normalise } = await metricIdReferences(context, identity, references);
  const measures = await aggregatesMeasures(context, refs, renameReferences(operations, normalise), window, false);
  return details ? { measures, references: metrics.map((m) => metricView(m, context.policyStore.resolver.policy(m.archive_policy_name))) } : { measures };
}

async function byResources(context: ApiContext, identity: TokenInfo, body: AggregatesBody, operations: OperationNode, patterns: readonly MetricReference[], window: WindowQuery, details: boolean, groupby: readonly string[]) {
  const type = resourceTypeOf(context, body.resource_type ?? 'generic', 400);
  const unknown = unknownGroupField(type, groupby);
  if (unknown !== undefined) throw new ApiError('CUMULUS_API_AGGREGATES_GROUPBY_INVALID', 400, `Invalid pagination: \`Sort key supplied is invalid: ${unknown}'; expected a field of resource type ${type.name}`);
  const resources = await findResources(context, identity, type, searchFilter(body.search));
  const metrics = await resourcesMetrics(context, identity, resources);
  const measure = async (rows: readonly ResourceRow[]) => {
    const refs = resourceReferences(context, rows, metrics, patterns);
    if (refs.length === 0) throw new NoMatchingMetric();
    const measures = await aggregatesMeasures(context, refs, operations, window, true);
    if (!details) return { measures };
    const used = [...new Map(refs.map((r) => [(r.resource as ResourceRow).id, r.resource as ResourceRow])).values()].sort((a, b) => resourceKey(a).localeCompare(resourceKey(b)));
    return { measures, references: used.map((r) => resourceView(context, r, metrics.get(r.id) ?? [])) };
  };
  const names = patterns.map((p) => p.name);
  if (groupby.length === 0) {
    try {
      return await measure(resources);
    } catch (err) {
      if (err instanceof NoMatchingMetric) throw metricsNotFound(names);
      throw err;
    }
  }
  const results: Array<{ group: Record<string, unknown>; measures: unknown }> = [];
  for (const { group, resources: rows } of groupResources(context, resources, groupby)) {
    try {
      results.push({ group, measures: await measure(rows) });
    } catch (err) {
      // A group none of whose resources has the metrics is left out, as in Gnocchi.
      if (!(err instanceof NoMatchingMetric)) throw err;
    }
  }
  if (results.length === 0) throw metricsNotFound(names);
  return results;
}

/**
 * Gnocchi's get_cross_metric_measures_from_objs: one metric's own measures, or the
 * reaggregation of several (needed_overlap 100 and no fill unless asked).
 */
async function crossMetricMeasures(context: ApiContext, metrics: readonly MetricRow[], query: Record<string, unknown>): Promise<Points> {
  const window = parseWindowQuery(query, context.clock.now());
  const aggregation = typeof query.aggregation === 'string' && query.aggregation !== '' ? query.aggregation : 'mean';
  const reaggregation = typeof query.reaggregation === 'string' && query.reaggregation !== '' ? query.reaggregation : aggregation;
  if (metrics.length === 0) return [];
  let resample: number | CalendarGrouping | undefined;
  if (typeof query.resample === 'string' && query.resample !== '') {
    if (window.granularity === undefined) throw new ApiError('CUMULUS_API_AGGREGATES_RESAMPLE_INVALID', 400, 'A granularity must be specified to resample');
    resample = isCalendarGrouping(query.resample) ? query.resample : parseQueryTimespan('resample', query.resample);
    if (typeof resample === 'number' && !Number.isInteger(resample)) throw new ApiError('CUMULUS_API_AGGREGATES_RESAMPLE_INVALID', 400, `resample: expected a whole number of seconds or one of ${CALENDAR_GROUPINGS.join(', ')}, got ${JSON.stringify(query.resample)}`);
  }
  const refs: AggregateReference[] = metrics.map((metric) => ({ key: [metric.id, aggregation], name: metric.id, aggregation, metric, policy: context.policyStore.resolver.policy(metric.archive_policy_name) }));
  // Gnocchi words a missing aggregation or granularity here as a plain 404.
  const granularities = window.granularity === undefined ? commonGranularities(refs) : [window.granularity];
  for (const ref of refs) {
    const g = granularities.find((wanted) => !ref.policy.aggregation_methods.includes(aggregation) || !ref.policy.definition.some((l) => l.granularity === wanted));
    if (g !== undefined) throw new ApiError('CUMULUS_API_AGGREGATION_NOT_FOUND', 404, `Aggregation method '${aggregation}' at granularity '${pythonFloat(g)}' for metric ${ref.metric.id} does not exist`);
  }
  granularities.sort((a, b) => b - a);
  if (refs.length === 1) {
    const points = await readMetricPoints(context, refs[0] as AggregateReference, granularities, window);
    if (resample === undefined) return formatPoints(points);
    const out: Points = [];
    for (const g of granularities) {
      const series = points.filter((p) => p[1] === g).map(([t, , v]) => [t * 1000, v] as const);
      for (const [ms, v] of resampleSeries(series, aggregation, resample)) out.push([isoBucket(ms), resample, v]);
    }
    return out;
  }
  if (!REDUCER_METHODS.includes(reaggregation)) {
    throw new ApiError('CUMULUS_API_AGGREGATES_REAGGREGATION_INVALID', 400, `Invalid reaggregation: expected one of ${REDUCER_METHODS.join(', ')}, got ${JSON.stringify(reaggregation)} (without reaggregation, the aggregation is used)`);
  }
  if (typeof resample === 'string') throw new ApiError('CUMULUS_API_AGGREGATES_RESAMPLE_INVALID', 400, `resample: a calendar unit (${resample}) works on one metric; expected a timespan to aggregate several`);
  const metricNode: OperationNode = { op: 'metric', references: refs.map((r) => ({ name: r.name, aggregation })), list: true };
  const operand: OperationNode = resample === undefined ? metricNode : { op: 'resample', method: aggregation, sampling: resample, operand: metricNode };
  const result = await getMeasures(context, refs, { op: 'aggregate', method: reaggregation, operand }, { ...window, neededOverlap: window.neededOverlap ?? 100 });
  if (result.kind !== 'aggregated') throw unaggregable(refs.map((r) => r.key), 'expected one aggregated series');
  return formatPoints(result.points);
}

const invalidMetricId = (value: unknown) => new ApiError('CUMULUS_API_INVALID_INPUT', 400, `Invalid input: expected a metric id (a UUID) in metric, got ${JSON.stringify(value)}`);

/** /v1/aggregation/metric's metric ids, resolved for the caller; a missing or hidden one is a 404. */
async function metricsByIds(context: ApiContext, identity: TokenInfo, given: readonly unknown[]): Promise<MetricRow[]> {
  const ids = given.map((value) => {
    const id = typeof value === 'string' ? normalizeUuid(value) : null;
    if (id === null) throw invalidMetricId(value);
    return id;
  });
  if (ids.length === 0) return [];
  const unique = [...new Set(ids)];
  const rows = await context.store.query<MetricRow>(selectMetricsByIds(unique, context.access.readableProject('metric', identity)));
  const byId = new Map(rows.map((r) => [String(r.id).toLowerCase(), r]));
  const missing = unique.find((id) => !byId.has(id));
  if (missing !== undefined) throw new ApiError('CUMULUS_API_METRIC_NOT_FOUND', 404, `Metric ${missing} does not exist`);
  return unique.map((id) => byId.get(id) as MetricRow);
}

/** /v1/aggregates and the /v1/aggregation/... routes. */
export function registerAggregatesRoutes(v1: FastifyInstance, context: ApiContext): void {
  const tags = ['metric'];

  v1.post(
    '/aggregates',
    {
      schema: {
        tags,
        summary: 'Operations over metrics (by id) or over the metrics of the resources a search finds, optionally grouped',
        description:
          'Gnocchi 4 /v1/aggregates. Operators: metric, aggregate, resample, rolling, + - * / ** % (and their names), = != < > <= >=, clip, clip_min, clip_max, max, abs, neg, cos, sin, tan, floor, ceil, rateofchange, rateofchangesec. Without fill and needed_overlap, fill is dropna.',
        security: TOKEN_SECURITY,
        querystring: {
          type: 'object',
          properties: {
            ...WINDOW_QUERY_PROPERTIES,
            details: { type: 'string', maxLength: 10, description: 'true: also the metrics (or resources) the operations used, as references' },
            groupby: { type: 'array', items: { type: 'string', maxLength: 255 }, maxItems: 20, description: 'With a search: resource fields to group by, repeatable' },
          },
        },
        body: AGGREGATES_BODY,
      },
    },
    async (request) => {
      const identity = callerOf(request);
      const query = request.query as Record<string, unknown>;
      const body = request.body as AggregatesBody;
      // Gnocchi's order: details, the window parameters, then the body.
      const details = parseBool('details', query.details, false);
      const window = parseWindowQuery(query, context.clock.now());
      if (window.fill === undefined && window.neededOverlap === undefined) window.fill = 'dropna';
      const operations = parseOperations(body.operations);
      const references = extractReferences(operations);
      if (references.length === 0) throw operationsWithoutMetric(body.operations);
      if (body.resource_type !== undefined || body.search !== undefined) {
        return byResources(context, identity, body, operations, references, window, details, parseGroupby(query.groupby));
      }
      return byMetricIds(context, identity, operations, references, window, details);
    },
  );

  const aggregationMetric = {
    tags,
    summary: 'The aggregation of several metrics (by id) across them; one metric: its measures (gnocchi measures aggregation)',
    security: TOKEN_SECURITY,
    querystring: {
      type: 'object',
      properties: { ...CROSS_METRIC_QUERY, metric: { type: 'array', items: { type: 'string', maxLength: 100 }, maxItems: 1000, description: 'Metric ids, repeatable (GET)' } },
    },
  };
  v1.get('/aggregation/metric', { schema: aggregationMetric }, async (request) => {
    const query = request.query as Record<string, unknown>;
    const metrics = await metricsByIds(context, callerOf(request), (query.metric as unknown[] | undefined) ?? []);
    return crossMetricMeasures(context, metrics, query);
  });
  v1.post(
    '/aggregation/metric',
    { schema: { ...aggregationMetric, body: { type: 'array', items: { type: 'string', maxLength: 100 }, maxItems: 1000, description: 'The metric ids' } } },
    async (request) => {
      const metrics = await metricsByIds(context, callerOf(request), request.body as unknown[]);
      return crossMetricMeasures(context, metrics, request.query as Record<string, unknown>);
    },
  );

  const resourceParams = {
    type: 'object',
    properties: { type: { type: 'string', minLength: 1, maxLength: 255 }, name: { type: 'string', minLength: 1, maxLength: 255 } },
    required: ['type', 'name'],
  } as const;
  v1.post(
    '/aggregation/resource/:type/metric/:name',
    {
      schema: {
        tags,
        summary: 'The aggregation of one metric (by name) of the resources a search finds, optionally grouped by resource fields',
        security: TOKEN_SECURITY,
        params: resourceParams,
        querystring: {
          type: 'object',
          properties: { ...CROSS_METRIC_QUERY, filter: { type: 'string', maxLength: 65_536, description: "The search in the query form (project_id = '...'), when there is no body" } },
        },
        body: { type: ['object', 'null'], description: 'A search tree ({"=": {"project_id": "..."}}); none or {}: every resource' },
      },
    },
    async (request) => {
      const identity = callerOf(request);
      const { type: typeName, name } = request.params as { type: string; name: string };
      const query = request.query as Record<string, unknown>;
      const type = resourceTypeOf(context, typeName, 404);
      const groupby = parseGroupby(query.groupby);
      if (unknownGroupField(type, groupby) !== undefined) throw new ApiError('CUMULUS_API_AGGREGATES_GROUPBY_INVALID', 400, `Invalid groupby attribute: expected fields of resource type ${type.name}, got ${groupby.join(', ')}`);
      // As Gnocchi: a body wins over filter=.
      const body = request.body;
      const search = body !== undefined && body !== null ? body : query.filter;
      const resources = await findResources(context, identity, type, searchFilter(search));
      const metrics = await resourcesMetrics(context, identity, resources);
      const named = (rows: readonly ResourceRow[]) => rows.flatMap((r) => (metrics.get(r.id) ?? []).filter((m) => m.name === name).slice(0, 1));
      if (groupby.length === 0) return crossMetricMeasures(context, named(resources), query);
      const out: Array<{ group: Record<string, unknown>; measures: Points }> = [];
      for (const { group, resources: rows } of groupResources(context, resources, groupby)) out.push({ group, measures: await crossMetricMeasures(context, named(rows), query) });
      return out;
    },
  );
  v1.get('/aggregation/resource/:type/metric/:name', { schema: { tags, summary: 'Not allowed: this aggregation is a POST (405, as Gnocchi)', security: TOKEN_SECURITY, params: resourceParams } }, async () => {
    throw new ApiError('CUMULUS_API_METHOD_NOT_ALLOWED', 405, 'The method GET is not allowed for this resource; expected POST with the search in the body or in filter=');
  });
}

