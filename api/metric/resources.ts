import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TokenInfo } from '../../core/index.ts';
import {
  MAX_TRANSFORMABLE_ID_LENGTH,
  ResourceError,
  deleteResources,
  markMetricDeleted,
  normalizeUuid,
  parseResourceFilter,
  parseTimestampMicros,
  resourceUuid,
  revisionFromRow,
  searchResources,
  selectMetrics,
  validateAttributes,
  writeResourceRevision,
  type AttributeValue,
  type MetricRow,
  type ResourceRevision,
  type ResourceRow,
  type ResourceType,
} from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { callerOf, TOKEN_SECURITY } from '../http.ts';
import { metricView } from './format.ts';
import { acceptJsonBodies } from './json-body.ts';
import { withTrailingSlash } from './trailing-slash.ts';
import { MEASURES_BODY_SCHEMA, acceptMeasures, parseMeasures, readMeasures, sendAccepted } from './metrics.ts';
import { RESOURCE_METRICS_SCHEMA, planResourceMetrics, writeMetrics } from './resource-metrics.ts';
import { forgetMetric } from './shared.ts';
import {
  RESOURCE_PAGE_QUERY,
  findResource,
  isoTime,
  loadResource,
  metricBrief,
  metricsByResource,
  resourceDetail,
  resourcePage,
  type ResourcePageQuery,
} from './resource-reads.ts';

/** Fields of a resource body that are not attributes of its type. */
const BASE_FIELDS = new Set(['id', 'started_at', 'ended_at', 'user_id', 'project_id', 'metrics']);
/** Fields Gnocchi shows that no body may set (id and type never change; the rest are the server's). */
const READ_ONLY_FIELDS = ['id', 'type', 'original_resource_id', 'revision_start', 'revision_end', 'creator', 'created_by_user_id', 'created_by_project_id'];
/** Ids per lightweight DELETE of a batch delete, and rows read per page while collecting them. */
const DELETE_CHUNK = 1000;

const TIME_VALUE = { anyOf: [{ type: 'string' }, { type: 'number' }], description: 'ISO 8601 (no zone: UTC) or seconds since the epoch' } as const;
// null first: coerced to a string, it would read as an empty time.
const END_VALUE = { anyOf: [{ type: 'null' }, { type: 'string' }, { type: 'number' }], description: 'ISO 8601 (no zone: UTC), seconds since the epoch, or null (still running)' } as const;
const OWNER_VALUE = { type: 'string', nullable: true, maxLength: 255 } as const;
const TYPE_PARAMS = { type: 'object', properties: { type: { type: 'string', minLength: 1, maxLength: 255 } }, required: ['type'] } as const;
const RESOURCE_PARAMS = { type: 'object', properties: { type: { type: 'string', minLength: 1, maxLength: 255 }, id: { type: 'string', minLength: 1 } }, required: ['type', 'id'] } as const;
const METRIC_PARAMS = { type: 'object', properties: { ...RESOURCE_PARAMS.properties, name: { type: 'string', minLength: 1 } }, required: ['type', 'id', 'name'] } as const;

const invalidInput = (message: string) => new ApiError('CUMULUS_API_INVALID_INPUT', 400, `Invalid input: ${message}`);
const withoutNulls = (values: Readonly<Record<string, AttributeValue>>): Record<string, AttributeValue> => Object.fromEntries(Object.entries(values).filter(([, v]) => v !== null));

/** A time field of a body, in microseconds; 400 naming the field otherwise. */
function timeField(name: string, value: unknown): number {
  const micros = parseTimestampMicros(value);
  if (micros === null || micros < 0) throw invalidInput(`${name}: expected an ISO 8601 timestamp or seconds since the epoch (not before 1970), got ${JSON.stringify(value)}`);
  return micros;
}

/** A new resource's id, checked as Gnocchi checks it (the text is kept; the API shows its UUID). */
function newResourceId(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw invalidInput(`id: expected a UUID or a text id, got ${JSON.stringify(value)}`);
  if (value.includes('/')) throw invalidInput(`id: '/' is not supported in resource id, got ${JSON.stringify(value)}`);
  if (normalizeUuid(value) === null && value.length > MAX_TRANSFORMABLE_ID_LENGTH) throw invalidInput(`id: transformable resource id >${MAX_TRANSFORMABLE_ID_LENGTH} max allowed characters (got ${value.length}); use a UUID or a shorter text`);
  return value;
}

/** Writes made by one request never collide with another's in ClickHouse's insert deduplication. */
const writeToken = () => `api:${randomUUID()}`;

/** Serializes the writes to each resource within this process (a check, then the rows that depend on it). */
function keyedLock() {
  const tails = new Map<string, Promise<unknown>>();
  return async <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const run = (tails.get(key) ?? Promise.resolve()).then(work, work);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}

/** /v1/resource and /v1/resource/<type>: the resource index, its revisions and each resource's metrics. */
export function registerResourceRoutes(v1: FastifyInstance, context: ApiContext): void {
  v1.register(async (scope) => {
    acceptJsonBodies(scope);
    routes(scope, context);
  });
}

function routes(v1: FastifyInstance, context: ApiContext): void {
  const tags = ['metric'];
  const exclusive = keyedLock();
  // gnocchiclient lists at `v1/resource/<type>` and batch-deletes at `v1/resource/<type>/`.
  const collection = withTrailingSlash(v1);
  const typeOf = (request: FastifyRequest): ResourceType => context.resourceTypes.get((request.params as { type: string }).type);
  /**
   * A write to the resource at the request's URL: found for this caller (404, as a missing
   * one, otherwise), writable by them (403), one write per resource at a time.
   */
  const writing = <T>(request: FastifyRequest, work: (row: ResourceRow, identity: TokenInfo, type: ResourceType) => Promise<T>): Promise<T> => {
    const identity = callerOf(request);
    const type = typeOf(request);
    const given = (request.params as { id: string }).id;
    const projectId = context.access.readableProject('resource', identity);
    return exclusive(resourceUuid(given), async () => {
      const row = await loadResource(context, type, given, projectId);
      context.access.enforce('resource:write', identity, { project_id: row.project_id });
      return work(row, identity, type);
    });
  };
  const collectionUrl = (request: FastifyRequest) => `${request.protocol}://${request.host}${(request.url.split('?')[0] as string).replace(/\/$/, '')}`;

  collection.get(
    '/resource',
    { schema: { tags, summary: 'Resource types, each with its resource list URL', security: TOKEN_SECURITY } },
    async (request) => {
      const base = collectionUrl(request);
      return Object.fromEntries(context.resourceTypes.list().map((t) => [t.name, `${base}/${t.name}`]));
    },
  );

  collection.get(
    '/resource/:type',
    { schema: { tags, summary: 'List resources of a type (generic: every type)', security: TOKEN_SECURITY, params: TYPE_PARAMS, querystring: { type: 'object', properties: RESOURCE_PAGE_QUERY } } },
    async (request, reply) => {
      const type = typeOf(request);
      const projectId = context.access.readableProject('resource', callerOf(request));
      return resourcePage(context, request, reply, { type, filter: null, projectId, query: request.query as ResourcePageQuery });
    },
  );

  collection.post(
    '/resource/:type',
    {
      schema: {
        tags,
        summary: 'Create a resource (201); other fields are attributes of its type',
        security: TOKEN_SECURITY,
        params: TYPE_PARAMS,
        body: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', minLength: 1 }, started_at: TIME_VALUE, ended_at: END_VALUE, user_id: OWNER_VALUE, project_id: OWNER_VALUE, metrics: RESOURCE_METRICS_SCHEMA },
          additionalProperties: true,
        },
      },
    },
    async (request, reply) => {
      const identity = callerOf(request);
      const type = typeOf(request);
      const body = request.body as Record<string, unknown>;
      if (type.state !== 'active') throw new ResourceError('TYPE_STATE', `Resource type ${type.name} state is ${type.state} (expected: active): no resource can be created while it is being deleted`);
      const id = newResourceId(body.id);
      for (const field of READ_ONLY_FIELDS) if (field !== 'id' && Object.hasOwn(body, field)) throw invalidInput(`${field}: extra keys not allowed (the server sets it)`);
      const projectId = body.project_id === undefined ? (identity.projectId ?? '') : ((body.project_id as string | null) ?? '');
      const userId = (body.user_id as string | null | undefined) ?? '';
      // Members create in their own project only; the admin rule allows any.
      context.access.enforce('resource:write', identity, { project_id: projectId });
      const attributes = validateAttributes(type, Object.fromEntries(Object.entries(body).filter(([k]) => !BASE_FIELDS.has(k))));
      const now = context.clock.nowMs() * 1000;
      const startedAt = body.started_at === undefined ? now : timeField('started_at', body.started_at);
      const endedAt = body.ended_at === undefined || body.ended_at === null ? null : timeField('ended_at', body.ended_at);
      if (endedAt !== null && startedAt > endedAt) throw invalidInput(`Start timestamp cannot be after end timestamp: started_at ${isoTime(String(startedAt / 1e6))} is after ended_at ${isoTime(String(endedAt / 1e6))}`);
      const uuid = resourceUuid(id);
      return exclusive(uuid, async () => {
        // Ids are unique across projects: another project's id is taken too.
        if (await findResource(context, id, null)) throw new ApiError('CUMULUS_API_RESOURCE_EXISTS', 409, `Resource ${uuid} already exists`);
        const metrics = await planResourceMetrics(context, identity, { id, project_id: projectId }, (body.metrics ?? {}) as Record<string, unknown>, [], 'replace');
        const revision: ResourceRevision = { id, type: type.name, project_id: projectId, user_id: userId, started_at: startedAt, ended_at: endedAt, revision_start: now, generation: type.generation, attributes: withoutNulls(attributes) };
        // 1. metrics, then 2. the resource: a resource is never shown with metrics still to come.
        await writeMetrics(context, metrics);
        await writeResourceRevision(context.store, { current: revision }, writeToken());
        const row = await loadResource(context, type, id, null);
        reply.code(201).header('location', `${collectionUrl(request)}/${uuid}`);
        return resourceDetail(context, row, type);
      });
    },
  );

  collection.delete(
    '/resource/:type',
    {
      schema: {
        tags,
        summary: 'Delete every resource a search filter matches (JSON body or filter=); answers {deleted}',
        security: TOKEN_SECURITY,
        params: TYPE_PARAMS,
        querystring: { type: 'object', properties: { filter: { type: 'string', minLength: 1, maxLength: 65_536 } } },
        body: { type: 'object', nullable: true, description: "Gnocchi's search tree" },
      },
    },
    async (request) => {
      const identity = callerOf(request);
      const type = typeOf(request);
      const filterText = (request.query as { filter?: string }).filter;
      const filter = request.body !== undefined && request.body !== null ? request.body : filterText !== undefined ? parseResourceFilter(filterText) : null;
      // Gnocchi refuses an empty filter: it would delete the whole index.
      if (filter === null || (typeof filter === 'object' && Object.keys(filter).length === 0)) throw invalidInput('caution: the query can not be empty, or it will delete entire database; give a search filter (JSON body or filter=)');
      const projectId = context.access.readableProject('resource', identity);
      context.access.enforce('resource:write', identity, { project_id: projectId ?? identity.projectId });
      const ids: string[] = [];
      for (let marker: string | undefined; ; ) {
        const rows = await context.store.query<ResourceRow>(searchResources({ type, filter, projectId, limit: DELETE_CHUNK, ...(marker === undefined ? {} : { marker: { id: marker } }) }));
        ids.push(...rows.map((r) => r.id));
        if (rows.length < DELETE_CHUNK) break;
        marker = (rows[rows.length - 1] as ResourceRow).id;
      }
      for (let i = 0; i < ids.length; i += DELETE_CHUNK) await deleteResources(context.store, ids.slice(i, i + DELETE_CHUNK), context.clock.now());
      forgetMetric();
      return { deleted: ids.length };
    },
  );

  v1.get('/resource/:type/:id', { schema: { tags, summary: 'Show a resource', security: TOKEN_SECURITY, params: RESOURCE_PARAMS } }, async (request) => {
    const type = typeOf(request);
    const row = await loadResource(context, type, (request.params as { id: string }).id, context.access.readableProject('resource', callerOf(request)));
    return resourceDetail(context, row, type);
  });

  v1.patch(
    '/resource/:type/:id',
    {
      schema: {
        tags,
        summary: 'Update a resource: a changed field opens a new revision; metrics given replace its metrics',
        security: TOKEN_SECURITY,
        params: RESOURCE_PARAMS,
        body: {
          type: 'object',
          properties: { started_at: TIME_VALUE, ended_at: END_VALUE, user_id: OWNER_VALUE, project_id: OWNER_VALUE, metrics: RESOURCE_METRICS_SCHEMA },
          additionalProperties: true,
        },
      },
    },
    async (request) => {
      const body = request.body as Record<string, unknown> | undefined;
      if (body === undefined) throw invalidInput('Unable to decode body: expected a JSON object of the fields to change');
      for (const field of READ_ONLY_FIELDS) if (Object.hasOwn(body, field)) throw invalidInput(`${field}: extra keys not allowed (${field === 'id' || field === 'type' ? 'it cannot change' : 'the server sets it'})`);
      return writing(request, async (row, identity, type) => {
        // Attributes are those of the type in the URL (none for generic), as in Gnocchi.
        const changes = validateAttributes(type, Object.fromEntries(Object.entries(body).filter(([k]) => !BASE_FIELDS.has(k))), { partial: true });
        // The closed revision keeps the row as written; the new one builds on what the row type reads now.
        const current = revisionFromRow(row);
        const rowType = context.resourceTypes.find(row.type);
        const attributes = { ...revisionFromRow(row, rowType).attributes };
        const next = {
          project_id: body.project_id === undefined ? current.project_id : ((body.project_id as string | null) ?? ''),
          user_id: body.user_id === undefined ? current.user_id : ((body.user_id as string | null) ?? ''),
          started_at: body.started_at === undefined ? current.started_at : timeField('started_at', body.started_at),
          ended_at: body.ended_at === undefined ? current.ended_at : body.ended_at === null ? null : timeField('ended_at', body.ended_at),
          attributes: withoutNulls({ ...attributes, ...changes }),
        };
        if (next.project_id !== current.project_id) context.access.enforce('resource:write', identity, { project_id: next.project_id });
        if (next.ended_at !== null && next.started_at > next.ended_at) throw invalidInput(`Start timestamp cannot be after end timestamp: ended_at must not be before started_at ${isoTime(row.started_at)}`);
        const changed =
          next.project_id !== current.project_id ||
          next.user_id !== current.user_id ||
          next.started_at !== current.started_at ||
          next.ended_at !== current.ended_at ||
          Object.keys(changes).some((name) => (attributes[name] ?? null) !== (changes[name] ?? null));
        // 1. metrics (a metrics-only update opens no revision, as in Gnocchi), then 2. the revision.
        if (body.metrics !== undefined) {
          const attached = (await metricsByResource(context, [row.id])).get(row.id) ?? [];
          await writeMetrics(context, await planResourceMetrics(context, identity, { id: row.id, project_id: next.project_id }, body.metrics as Record<string, unknown>, attached, 'replace'));
        }
        if (changed) {
          // Revisions order by revision_start: the new one starts after the current one, whatever the clock says.
          const now = Math.max(context.clock.nowMs() * 1000, current.revision_start + 1);
          await writeResourceRevision(
            context.store,
            { closed: { ...current, revision_end: now }, current: { ...current, ...next, type: row.type, revision_start: now, generation: rowType?.generation ?? current.generation } },
            writeToken(),
          );
        }
        return resourceDetail(context, changed ? await loadResource(context, type, row.id, null) : row, type);
      });
    },
  );

  v1.delete('/resource/:type/:id', { schema: { tags, summary: 'Delete a resource, its history and its metrics (204)', security: TOKEN_SECURITY, params: RESOURCE_PARAMS } }, async (request, reply) => {
    await writing(request, (row) => deleteResources(context.store, [row.id], context.clock.now()));
    forgetMetric();
    return reply.code(204).send();
  });

  v1.get(
    '/resource/:type/:id/history',
    { schema: { tags, summary: "A resource's revisions, oldest first", security: TOKEN_SECURITY, params: RESOURCE_PARAMS, querystring: { type: 'object', properties: RESOURCE_PAGE_QUERY } } },
    async (request, reply) => {
      const type = typeOf(request);
      const projectId = context.access.readableProject('resource', callerOf(request));
      const row = await loadResource(context, type, (request.params as { id: string }).id, projectId);
      return resourcePage(context, request, reply, { type, filter: null, projectId, query: request.query as ResourcePageQuery, historyOf: row });
    },
  );

  v1.get('/resource/:type/:id/metric', { schema: { tags, summary: "A resource's metrics", security: TOKEN_SECURITY, params: RESOURCE_PARAMS } }, async (request) => {
    const row = await loadResource(context, typeOf(request), (request.params as { id: string }).id, context.access.readableProject('resource', callerOf(request)));
    return ((await metricsByResource(context, [row.id])).get(row.id) ?? []).map(metricBrief);
  });

  v1.post(
    '/resource/:type/:id/metric',
    { schema: { tags, summary: 'Add metrics to a resource (existing ones by id, new ones by definition); 409 for a name it has', security: TOKEN_SECURITY, params: RESOURCE_PARAMS, body: RESOURCE_METRICS_SCHEMA } },
    async (request) =>
      writing(request, async (row, identity) => {
        const attached = (await metricsByResource(context, [row.id])).get(row.id) ?? [];
        await writeMetrics(context, await planResourceMetrics(context, identity, row, (request.body ?? {}) as Record<string, unknown>, attached, 'append'));
        return ((await metricsByResource(context, [row.id])).get(row.id) ?? []).map(metricBrief);
      }),
  );

  /** The resource's metric by name, or 404 naming what is missing (the resource or the metric). */
  const namedMetric = async (request: FastifyRequest, identity: TokenInfo): Promise<{ row: ResourceRow; metric: MetricRow }> => {
    const { id, name } = request.params as { id: string; name: string };
    const row = await loadResource(context, typeOf(request), id, context.access.readableProject('resource', identity));
    const metric = (await context.store.query<MetricRow>(selectMetrics({ projectId: context.access.readableProject('metric', identity), resourceId: row.id, name, limit: 1 })))[0];
    if (!metric) throw new ApiError('CUMULUS_API_METRIC_NOT_FOUND', 404, `Metric ${name} does not exist`);
    return { row, metric };
  };

  v1.get('/resource/:type/:id/metric/:name', { schema: { tags, summary: "A resource's metric, by name", security: TOKEN_SECURITY, params: METRIC_PARAMS } }, async (request) => {
    const { metric } = await namedMetric(request, callerOf(request));
    return { ...metricView(metric, context.policyStore.resolver.policy(metric.archive_policy_name)), resource_id: resourceUuid(metric.resource_id) };
  });

  v1.delete('/resource/:type/:id/metric/:name', { schema: { tags, summary: "Delete a resource's metric, by name (204)", security: TOKEN_SECURITY, params: METRIC_PARAMS } }, async (request, reply) => {
    const identity = callerOf(request);
    const { metric } = await namedMetric(request, identity);
    context.access.enforce('metric:write', identity, { project_id: metric.project_id });
    await markMetricDeleted(context.store, metric, context.clock.now());
    forgetMetric(metric.id);
    return reply.code(204).send();
  });

  v1.get('/resource/:type/:id/metric/:name/measures', { schema: { tags, summary: "Measures of a resource's metric, by name", security: TOKEN_SECURITY, params: METRIC_PARAMS } }, async (request) => {
    const { metric } = await namedMetric(request, callerOf(request));
    return readMeasures(context, metric, request.query as Record<string, unknown>);
  });

  v1.post(
    '/resource/:type/:id/metric/:name/measures',
    { schema: { tags, summary: "Add measures to a resource's metric, by name (202)", security: TOKEN_SECURITY, params: METRIC_PARAMS, body: MEASURES_BODY_SCHEMA } },
    async (request, reply) => {
      const identity = callerOf(request);
      const { metric } = await namedMetric(request, identity);
      const result = await acceptMeasures(context, identity, metric, parseMeasures(request.body, 'body', context.clock.now()));
      return sendAccepted(reply, result.refused.length);
    },
  );
}
