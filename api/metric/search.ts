import type { FastifyInstance } from 'fastify';
import { parseResourceFilter, type MetricRow } from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { ApiError, DescribedApiError } from '../errors.ts';
import { callerOf, TOKEN_SECURITY } from '../http.ts';
import { parseQueryTimespan } from '../params.ts';
import { acceptJsonBodies } from './json-body.ts';
import { readMeasures } from './metrics.ts';
import { RESOURCE_PAGE_QUERY, resourcePage, type ResourcePageQuery } from './resource-reads.ts';
import { loadMetric } from './shared.ts';

/** Bound on a measure predicate's size, so a request cannot build an unbounded evaluator. */
const MAX_PREDICATE_NODES = 256;

type Predicate = (value: number) => number | boolean;

const COMPARE: Readonly<Record<string, (a: number, b: number) => number | boolean>> = {
  '=': (a, b) => a === b, '==': (a, b) => a === b, eq: (a, b) => a === b,
  '!=': (a, b) => a !== b, '≠': (a, b) => a !== b, ne: (a, b) => a !== b,
  '<': (a, b) => a < b, lt: (a, b) => a < b,
  '>': (a, b) => a > b, gt: (a, b) => a > b,
  '<=': (a, b) => a <= b, '≤': (a, b) => a <= b, le: (a, b) => a <= b,
  '>=': (a, b) => a >= b, '≥': (a, b) => a >= b, ge: (a, b) => a >= b,
  // Python's %: the sign of the divisor.
  '%': (a, b) => a - b * Math.floor(a / b), mod: (a, b) => a - b * Math.floor(a / b),
  '+': (a, b) => a + b, add: (a, b) => a + b,
  '-': (a, b) => a - b, sub: (a, b) => a - b,
  '*': (a, b) => a * b, '×': (a, b) => a * b, mul: (a, b) => a * b,
  '/': (a, b) => a / b, '÷': (a, b) => a / b, div: (a, b) => a / b,
  '**': (a, b) => a ** b, '^': (a, b) => a ** b, pow: (a, b) => a ** b,
};
const LOGICAL: Readonly<Record<string, 'all' | 'any'>> = { and: 'all', '∧': 'all', or: 'any', '∨': 'any' };

/**
 * Gnocchi's measure predicate (SearchMetricController.MeasureQuery): `{"op": n}` compares
 * the value with n; `{"op": [a, b]}` applies op to two operands, each a number or a
 * nested expression of the value; `and` / `or` over lists.
 */
export function compileMeasurePredicate(tree: unknown): Predicate {
  let nodes = 0;
  const invalid = (message: string) => new ApiError('CUMULUS_API_INVALID_QUERY', 400, `Invalid input: ${message}`);
  const operand = (node: unknown): Predicate => (typeof node === 'number' && Number.isFinite(node) ? () => node : expression(node));
  function expression(node: unknown): Predicate {
    if (++nodes > MAX_PREDICATE_NODES) throw invalid(`expected at most ${MAX_PREDICATE_NODES} operators in the query`);
    if (node === null || typeof node !== 'object' || Array.isArray(node) || Object.keys(node).length !== 1) throw invalid(`expected an object with exactly one operator, got ${JSON.stringify(node)}`);
    const [op, arg] = Object.entries(node)[0] as [string, unknown];
    const logical = LOGICAL[op];
    if (logical) {
      if (!Array.isArray(arg) || arg.length === 0) throw invalid(`${op}: expected a non-empty list of conditions, got ${JSON.stringify(arg)}`);
      const parts = arg.map(expression);
      return logical === 'all' ? (v) => parts.every((p) => Boolean(p(v))) : (v) => parts.some((p) => Boolean(p(v)));
    }
    const apply = COMPARE[op];
    if (!apply) throw invalid(`Unknown operator ${op}; expected one of and, or, ${Object.keys(COMPARE).join(', ')}`);
    if (typeof arg === 'number' && Number.isFinite(arg)) return (v) => apply(v, arg);
    if (!Array.isArray(arg) || arg.length !== 2) throw invalid(`Binary operator ${op} needs a number or 2 arguments, got ${JSON.stringify(arg)}`);
    const [left, right] = [operand(arg[0]), operand(arg[1])];
    return (v) => apply(Number(left(v)), Number(right(v)));
  }
  return expression(tree);
}

/** /v1/search/resource/<type>: Gnocchi's resource search (the JSON tree in the body, or `filter=`). */
export function registerSearchRoutes(v1: FastifyInstance, context: ApiContext): void {
  v1.register(async (scope) => {
    acceptJsonBodies(scope);
    scope.post(
      '/search/resource/:type',
      {
        schema: {
          tags: ['metric'],
          summary: 'Search resources of a type (generic: every type) with a JSON filter body or the filter= query language',
          security: TOKEN_SECURITY,
          params: { type: 'object', properties: { type: { type: 'string', minLength: 1, maxLength: 255 } }, required: ['type'] },
          querystring: {
            type: 'object',
            properties: { ...RESOURCE_PAGE_QUERY, filter: { type: 'string', minLength: 1, maxLength: 65_536, description: "flavor_id = '2' and (display_name like 'web-%' or not ended_at = null)" } },
          },
          body: { type: 'object', nullable: true, description: 'Gnocchi\'s search tree: {"and": [{"=": {"flavor_id": "2"}}, {"like": {"display_name": "web-%"}}]}; {} or none: every resource' },
        },
      },
      async (request, reply) => {
        const type = context.resourceTypes.get((request.params as { type: string }).type);
        const query = request.query as ResourcePageQuery & { filter?: string };
        // As Gnocchi: a body wins over filter=.
        const filter = request.body !== undefined && request.body !== null ? request.body : query.filter !== undefined ? parseResourceFilter(query.filter) : null;
        const projectId = context.access.readableProject('resource', callerOf(request));
        return resourcePage(context, request, reply, { type, filter, projectId, query });
      },
    );

    scope.post(
      '/search/metric',
      {
        schema: {
          tags: ['metric'],
          summary: "The measures of metrics whose value matches a predicate, per granularity ({metric_id: [[timestamp, granularity, value], ...]})",
          security: TOKEN_SECURITY,
          querystring: {
            type: 'object',
            required: ['metric_id'],
            properties: {
              metric_id: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 100 },
              granularity: { type: 'array', items: { type: 'string' }, maxItems: 20 },
              aggregation: { type: 'string' },
              start: { type: 'string' },
              stop: { type: 'string' },
            },
          },
          body: { type: 'object', nullable: true, description: 'A predicate: {"≥": 10}, {"and": [{">": 1}, {"=": [{"%": 2}, 0]}]}' },
        },
      },
      async (request) => {
        const identity = callerOf(request);
        const query = request.query as { metric_id: string[]; granularity?: string[]; aggregation?: string; start?: string; stop?: string };
        if (request.body === undefined || request.body === null) throw new ApiError('CUMULUS_API_INVALID_QUERY', 400, 'No query specified in body: expected a predicate such as {"≥": 10}');
        const predicate = compileMeasurePredicate(request.body);
        const aggregation = query.aggregation ?? 'mean';
        const granularities = query.granularity?.map((g) => parseQueryTimespan('granularity', g));
        const project = context.access.readableProject('metric', identity);
        // As Gnocchi: ids that name no metric the caller can read are left out of the answer.
        const metrics: MetricRow[] = [];
        for (const id of new Set(query.metric_id)) {
          try {
            metrics.push(await loadMetric(context.store, id, project));
          } catch (err) {
            if (!(err instanceof ApiError) || err.httpStatus !== 404) throw err;
          }
        }
        const out: Record<string, Array<[string, unknown, number]>> = {};
        for (const metric of metrics) {
          const policy = context.policyStore.resolver.policy(metric.archive_policy_name);
          const levels = (granularities ?? policy.definition.map((l) => l.granularity)).sort((a, b) => b - a);
          for (const g of levels) {
            if (!policy.definition.some((l) => l.granularity === g) || !policy.aggregation_methods.includes(aggregation)) {
              throw new DescribedApiError('CUMULUS_API_AGGREGATION_NOT_FOUND', 400, `Aggregation method '${aggregation}' at granularity '${g}' for metric ${metric.id} does not exist`, {
                cause: 'Aggregation does not exist',
                detail: { granularity: g, aggregation_method: aggregation },
              });
            }
          }
          const points: Array<[string, unknown, number]> = [];
          for (const g of levels) {
            const series = await readMeasures(context, metric, { aggregation, granularity: String(g), start: query.start, stop: query.stop });
            for (const [timestamp, granularity, value] of series) if (value !== null && predicate(value)) points.push([timestamp, granularity, value]);
          }
          out[metric.id] = points;
        }
        return out;
      },
    );
  });
}
