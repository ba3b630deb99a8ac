import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ArchivePolicyError, type ArchivePolicyInput, type ArchivePolicyRule } from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { DescribedApiError } from '../errors.ts';
import { callerOf, TOKEN_SECURITY } from '../http.ts';
import { NO_OTHER_FIELDS, requireJsonBody } from '../params.ts';
import { archivePolicyView } from './format.ts';
import { withTrailingSlash } from './trailing-slash.ts';

const NAME_PARAMS = { type: 'object', properties: { name: { type: 'string', minLength: 1 } }, required: ['name'] } as const;

/** One definition level: any two of granularity, points, timespan (seconds or timespans such as `5 minutes`). */
const LEVEL_SCHEMA = {
  type: 'object',
  properties: {
    granularity: { anyOf: [{ type: 'number' }, { type: 'string' }], description: 'Seconds or a timespan (`1 second`, `5min`)' },
    points: { anyOf: [{ type: 'integer' }, { type: 'string' }], description: 'Buckets kept (>= 1)' },
    timespan: { anyOf: [{ type: 'number' }, { type: 'string' }], description: 'How long the level is kept (granularity x points)' },
  },
  additionalProperties: NO_OTHER_FIELDS,
} as const;
const DEFINITION_SCHEMA = { type: 'array', minItems: 1, items: LEVEL_SCHEMA } as const;

const rule = (r: ArchivePolicyRule) => ({ name: r.name, metric_pattern: r.metric_pattern, archive_policy_name: r.archive_policy_name });

/** Location of a created item, as Gnocchi sets it: the collection's URL plus the quoted name. */
const locationOf = (request: FastifyRequest, name: string) => `${request.protocol}://${request.host}${request.url.split('?')[0]?.replace(/\/$/, '')}/${encodeURIComponent(name)}`;

/**
 * /v1/archive_policy and /v1/archive_policy_rule: everyone authenticated reads them, only
 * `archive_policy:write` / `archive_policy_rule:write` (admins by default) change them.
 * The policy store validates as Gnocchi does and throws its errors with Gnocchi's statuses
 * (400 invalid or in use, 404 missing, 409 duplicate).
 */
export function registerArchivePolicyRoutes(v1: FastifyInstance, context: ApiContext): void {
  const tags = ['metric'];
  const store = context.policyStore;
  const collection = withTrailingSlash(v1);

  collection.get('/archive_policy', { schema: { tags, summary: 'List archive policies', security: TOKEN_SECURITY } }, async (request) => {
    context.access.enforce('archive_policy:read', callerOf(request));
    return store.listPolicies().map(archivePolicyView);
  });

  collection.post(
    '/archive_policy',
    {
      preValidation: requireJsonBody,
      schema: {
        tags,
        summary: 'Create an archive policy',
        description: "Gnocchi's archive policy: 201 with it, 409 when the name exists. aggregation_methods: names, `*`, or `+m`/`-m` over the defaults.",
        security: TOKEN_SECURITY,
        body: {
          type: 'object',
          required: ['name', 'definition'],
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 255 },
            back_window: { anyOf: [{ type: 'integer' }, { type: 'string' }], description: 'Blocks of the coarsest granularity a late measure may still land in (default 0)' },
            aggregation_methods: { type: 'array', items: { type: 'string' } },
            definition: DEFINITION_SCHEMA,
          },
          additionalProperties: NO_OTHER_FIELDS,
        },
      },
    },
    async (request, reply) => {
      context.access.enforce('archive_policy:write', callerOf(request));
      const policy = store.createPolicy(request.body as ArchivePolicyInput);
      return reply.code(201).header('location', locationOf(request, policy.name)).send(archivePolicyView(policy));
    },
  );

  v1.get('/archive_policy/:name', { schema: { tags, summary: 'Show an archive policy', security: TOKEN_SECURITY, params: NAME_PARAMS } }, async (request) => {
    context.access.enforce('archive_policy:read', callerOf(request));
    return archivePolicyView(store.getPolicy((request.params as { name: string }).name));
  });

  v1.patch(
    '/archive_policy/:name',
    {
      preValidation: requireJsonBody,
      schema: {
        tags,
        summary: "Change an archive policy's definition",
        description: 'Only the definition, with the same granularities (points and timespans may change); 400 otherwise.',
        security: TOKEN_SECURITY,
        params: NAME_PARAMS,
        body: { type: 'object', required: ['definition'], properties: { definition: DEFINITION_SCHEMA }, additionalProperties: NO_OTHER_FIELDS },
      },
    },
    async (request) => {
      const { name } = request.params as { name: string };
      // Gnocchi looks the policy up before checking the caller: a missing one is 404 for anyone.
      store.getPolicy(name);
      context.access.enforce('archive_policy:write', callerOf(request));
      const updated = store.updatePolicy(name, request.body as { definition?: unknown });
      // New retentions apply to later writes; the hot copy pruned buckets by the old ones.
      context.hotRollups?.clear();
      return archivePolicyView(updated);
    },
  );

  v1.delete('/archive_policy/:name', { schema: { tags, summary: 'Delete an archive policy', description: '204; 400 while a rule or a metric uses it.', security: TOKEN_SECURITY, params: NAME_PARAMS } }, async (request, reply: FastifyReply) => {
    context.access.enforce('archive_policy:write', callerOf(request));
    await store.deletePolicy((request.params as { name: string }).name);
    return reply.code(204).send();
  });

  collection.get('/archive_policy_rule', { schema: { tags, summary: 'List archive policy rules', description: 'In the order they are tried: metric_pattern descending, then name.', security: TOKEN_SECURITY } }, async (request) => {
    context.access.enforce('archive_policy_rule:read', callerOf(request));
    return store.listRules().map(rule);
  });

  collection.post(
    '/archive_policy_rule',
    {
      preValidation: requireJsonBody,
      schema: {
        tags,
        summary: 'Create an archive policy rule',
        description: 'A metric whose name matches metric_pattern (fnmatch: `*`, `?`, `[seq]`) gets archive_policy_name, unless created with a policy. 201; 409 when the name exists; 400 when the policy does not.',
        security: TOKEN_SECURITY,
        body: {
          type: 'object',
          required: ['name', 'metric_pattern', 'archive_policy_name'],
          properties: { name: { type: 'string', minLength: 1, maxLength: 255 }, metric_pattern: { type: 'string', minLength: 1, maxLength: 255 }, archive_policy_name: { type: 'string', minLength: 1, maxLength: 255 } },
          additionalProperties: NO_OTHER_FIELDS,
        },
      },
    },
    async (request, reply) => {
      context.access.enforce('archive_policy_rule:write', callerOf(request));
      const body = request.body as { name: string; metric_pattern: string; archive_policy_name: string };
      try {
        store.getPolicy(body.archive_policy_name);
      } catch (err) {
        if (err instanceof ArchivePolicyError && err.httpStatus === 404) {
          throw new DescribedApiError('CUMULUS_API_ARCHIVE_POLICY_NOT_FOUND', 400, `Archive policy ${body.archive_policy_name} does not exist`, { cause: 'Archive policy does not exist', detail: body.archive_policy_name });
        }
        throw err;
      }
      const created = store.createRule(body);
      return reply.code(201).header('location', locationOf(request, created.name)).send(rule(created));
    },
  );

  v1.get('/archive_policy_rule/:name', { schema: { tags, summary: 'Show an archive policy rule', security: TOKEN_SECURITY, params: NAME_PARAMS } }, async (request) => {
    const found = store.getRule((request.params as { name: string }).name);
    context.access.enforce('archive_policy_rule:read', callerOf(request));
    return rule(found);
  });

  v1.patch(
    '/archive_policy_rule/:name',
    {
      preValidation: requireJsonBody,
      schema: {
        tags,
        summary: 'Rename an archive policy rule',
        description: 'Only the name changes; 400 when the new name is taken.',
        security: TOKEN_SECURITY,
        params: NAME_PARAMS,
        body: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 255 } }, additionalProperties: NO_OTHER_FIELDS },
      },
    },
    async (request) => {
      const { name } = request.params as { name: string };
      store.getRule(name);
      context.access.enforce('archive_policy_rule:write', callerOf(request));
      return rule(store.renameRule(name, request.body as { name?: unknown }));
    },
  );

  v1.delete('/archive_policy_rule/:name', { schema: { tags, summary: 'Delete an archive policy rule', security: TOKEN_SECURITY, params: NAME_PARAMS } }, async (request, reply) => {
    const { name } = request.params as { name: string };
    store.getRule(name);
    context.access.enforce('archive_policy_rule:write', callerOf(request));
    store.deleteRule(name);
    return reply.code(204).send();
  });
}
