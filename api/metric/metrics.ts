import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { metricId as derivedMetricId, type TokenInfo } from '../../core/index.ts';
import {
  ArchivePolicyError,
  MEASURE_REFUSAL_REASONS,
  METRIC_SORT_KEYS,
  insertMetric,
  isMetricSortKey,
  listMetrics,
  markMetricDeleted,
  selectKnownMetricIds,
  readMeasureRows,
  selectMeasureRefusals,
  selectMetricMarker,
  selectMetrics,
  selectResource,
  writeMeasures,
  type ArchivePolicy,
  type MeasureInput,
  type MeasureRefusalRow,
  type MetricAttributeFilter,
  type MetricMarkerRow,
  type MetricRow,
  type MetricSort,
  type ResourceRow,
  type WriteMeasuresResult,
} from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { ApiError, DescribedApiError } from '../errors.ts';
import { callerOf, TOKEN_SECURITY } from '../http.ts';
import { NO_OTHER_FIELDS, argumentError, parseBool, parseQueryTime, parseQueryTimespan, readTimestamp, requireJsonBody, timestampKind, type TimestampKind } from '../params.ts';
import { isoBucket, isoFromClickHouse, metricCreatedView, metricDetailView, metricView, pythonFloat, type RefusedMeasuresView } from './format.ts';
import { CALENDAR_GROUPINGS, FillTooLargeError, fillSeries, isCalendarGrouping, resampleSeries, type CalendarGrouping, type FillMode, type SeriesPoint } from './measure-series.ts';
import { findResource, resourceJson } from './resource-reads.ts';
import { withTrailingSlash } from './trailing-slash.ts';
import { DEFAULT_LIMIT, UUID_PATTERN, forgetMetric, loadMetric, metricNotFound, resourceNotFound } from './shared.ts';

/** At most this many points a `fill` may add to one answer. */
export const MAX_FILL_POINTS = 100_000;
/** Gnocchi's unit column is 31 characters. */
const UNIT_MAX = 31;

// ---------------------------------------------------------------------------------------
// Reading measures

/** Gnocchi's measures query string on one metric. */
export const MEASURES_QUERY_SCHEMA = {
  type: 'object',
  properties: {
    aggregation: { type: 'string', description: "An aggregation method the metric's archive policy keeps (default mean)" },
    granularity: { type: 'string', description: 'Only this granularity: seconds or a timespan (`300`, `5min`)' },
    start: { type: 'string', description: 'From the bucket holding this time: ISO 8601, seconds since the epoch, or relative (`-1 hour`)' },
    stop: { type: 'string', description: 'Buckets before this time (exclusive)' },
    resample: { type: 'string', description: `Regroup the points into buckets of this timespan, or a calendar unit (${CALENDAR_GROUPINGS.join(', ')}); needs granularity` },
    fill: { type: 'string', description: 'Cumulus extension: empty buckets get this number, or `null`; `dropna` leaves points without value out' },
    refresh: { type: 'string', description: "Gnocchi's refresh: accepted; Cumulus writes synchronously, so there is never a backlog to process" },
  },
} as const;

/** The granularity as Gnocchi prints it in points (seconds, or the calendar unit of a resample). */
type PointGranularity = number | CalendarGrouping;

function parseFill(value: unknown): FillMode | undefined {
  if (value === undefined || value === '') return undefined;
  const text = String(value).trim();
  if (text === 'null') return { kind: 'null' };
  if (text === 'dropna') return { kind: 'dropna' };
  const n = Number(text);
  if (text !== '' && Number.isFinite(n)) return { kind: 'value', value: n };
  throw argumentError('fill', 'Must be a float, \'dropna\' or \'null\'', value);
}

/**
 * A metric's aggregated points as Gnocchi answers GET .../measures:
 * `[[iso timestamp, granularity, value], ...]`, coarsest granularity first, then by time.
 * Checks in Gnocchi's order: resample needs granularity; granularity, start and stop must
 * read; the aggregation must be kept by the policy (404), then the granularity (404).
 * `refresh` is accepted and does nothing: writes are synchronous, there is no backlog.
 */
export async function readMeasures(context: ApiContext, row: MetricRow, query: Record<string, unknown>): Promise<Array<[string, PointGranularity, number | null]>> {
  const policy = context.policyStore.resolver.policy(row.archive_policy_name);
  const now = context.clock.now();
  // 1. resample and the parameters that must parse.
  let resample: number | CalendarGrouping | undefined;
  if (query.resample !== undefined && query.resample !== '') {
    if (query.granularity === undefined || query.granularity === '') throw new ApiError('CUMULUS_API_INVALID_PARAMETER', 400, 'A granularity must be specified to resample');
    const text = String(query.resample).trim();
    if (isCalendarGrouping(text)) resample = text;
    else {
      try {
        resample = parseQueryTimespan('resample', text);
      } catch (err) {
        throw new ApiError('CUMULUS_API_INVALID_PARAMETER', 400, (err as DescribedApiError).description.reason as string);
      }
    }
  }
  const granularity = query.granularity === undefined || query.granularity === '' ? undefined : parseQueryTimespan('granularity', query.granularity);
  const start = parseQueryTime('start', query.start, now);
  const stop = parseQueryTime('stop', query.stop, now);
  // 2. what the policy keeps.
  const method = query.aggregation === undefined || query.aggregation === '' ? 'mean' : String(query.aggregation);
  if (!policy.aggregation_methods.includes(method)) {
    throw new DescribedApiError('CUMULUS_API_AGGREGATION_NOT_FOUND', 404, `Aggregation method '${method}' does not exist for metric ${row.id}`, {
      cause: 'Aggregation method does not exist for this metric',
      detail: { metric: row.id, aggregation_method: method },
    });
  }
  if (granularity !== undefined && !policy.definition.some((l) => l.granularity === granularity)) {
    throw new ApiError('CUMULUS_API_GRANULARITY_NOT_FOUND', 404, `Aggregation method '${method}' at granularity '${pythonFloat(granularity)}' for metric ${row.id} does not exist`);
  }
  parseBool('refresh', query.refresh, false);
  const fill = parseFill(query.fill);
  if (start && stop && start >= stop) return [];
  // 3. the points (from memory when the metric's rollups are held), then Gnocchi's
  //    resample and our fill, per granularity.
  const rows = await readMeasureRows(
    context.store,
    context.hotRollups,
    { metricId: row.id, method, ...(granularity === undefined ? {} : { granularity }), ...(start ? { start } : {}), ...(stop ? { stop } : {}), now },
    policy,
  );
  // Every granularity asked for has a series (an empty one can still be filled).
  const byGranularity = new Map<number, SeriesPoint[]>((granularity === undefined ? policy.definition.map((l) => l.granularity) : [granularity]).map((g) => [g, []]));
  for (const r of rows) {
    const g = Number(r.granularity);
    const list = byGranularity.get(g) ?? [];
    list.push([Number(r.bucket) * 1000, r.value === null ? null : Number(r.value)]);
    byGranularity.set(g, list);
  }
  const out: Array<[string, PointGranularity, number | null]> = [];
  for (const [g, points] of [...byGranularity.entries()].sort((a, b) => b[0] - a[0])) {
    let series: readonly SeriesPoint[] = points;
    const pointGranularity: PointGranularity = resample ?? g;
    if (resample !== undefined) series = resampleSeries(series, method, resample);
    if (fill) {
      if (typeof pointGranularity !== 'number') throw argumentError('fill', 'cannot fill calendar groupings; resample to a timespan', query.fill);
      try {
        series = fillSeries(series, pointGranularity, fill, { ...(start ? { startMs: start.getTime() } : {}), ...(stop ? { stopMs: stop.getTime() } : {}) }, MAX_FILL_POINTS);
      } catch (err) {
        if (err instanceof FillTooLargeError) throw argumentError('fill', `${err.message}; narrow start and stop`, query.fill);
        throw err;
      }
    }
    for (const [t, v] of series) out.push([isoBucket(t), pointGranularity, v]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Writing measures

/** Gnocchi's 400 for a measure it cannot read: `{cause: "Invalid input", reason, detail}` naming the item. */
const invalidMeasure = (reason: string, detail: Array<string | number>, where: string) =>
  new DescribedApiError('CUMULUS_API_INVALID_MEASURE', 400, `Invalid input: ${reason} (at ${where})`, { cause: 'Invalid input', reason, detail });

const KIND_WORDS: Record<TimestampKind, string> = {
  epoch: 'seconds since the epoch',
  iso: 'an ISO 8601 time',
  relative: 'a time relative to now (e.g. "-5 minutes")',
};

/**
 * A measures list as Gnocchi's MeasuresListSchema reads it: `[{timestamp, value}]`, the
 * first timestamp deciding how all are read (epoch seconds, ISO 8601, or relative to
 * now), values numbers or numeric strings. `where` names the list in messages (`body`,
 * `body["<metric id>"]`...).
 */
export function parseMeasures(body: unknown, where: string, now: Date): MeasureInput[] {
  if (!Array.isArray(body)) throw invalidMeasure(`unexpected measures format: expected a list of {timestamp, value}, got ${JSON.stringify(body)?.slice(0, 80)}`, [], where);
  if (body.length === 0) return [];
  body.forEach((item, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item) || !('timestamp' in item) || !('value' in item)) {
      throw invalidMeasure(`unexpected measures format: ${where}[${i}] must be an object with timestamp and value, got ${JSON.stringify(item)?.slice(0, 80)}`, [i], where);
    }
  });
  const items = body as Array<{ timestamp: unknown; value: unknown }>;
  const kind = timestampKind(items[0]?.timestamp);
  if (kind === null) throw invalidMeasure(`unexpected timestamp ${JSON.stringify(items[0]?.timestamp)} at ${where}[0].timestamp: expected seconds since the epoch, an ISO 8601 time or a relative time`, [0, 'timestamp'], where);
  return items.map((item, i) => {
    const timestamp = readTimestamp(item.timestamp, kind, now);
    if (!timestamp || Number.isNaN(timestamp.getTime())) {
      throw invalidMeasure(`unexpected timestamp ${JSON.stringify(item.timestamp)} at ${where}[${i}].timestamp: expected ${KIND_WORDS[kind]}, like the first measure's`, [i, 'timestamp'], where);
    }
    if (timestamp.getTime() < 0) throw invalidMeasure(`unexpected timestamp at ${where}[${i}].timestamp: Timestamp must be after Epoch, got ${JSON.stringify(item.timestamp)}`, [i, 'timestamp'], where);
    const raw = item.value;
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
    if (!Number.isFinite(value)) throw invalidMeasure(`unexpected measures value at ${where}[${i}].value: expected a finite number, got ${JSON.stringify(raw)}`, [i, 'value'], where);
    return { timestamp, value };
  });
}

/** Writes a metric's measures after checking the caller may write to its project. */
export async function acceptMeasures(context: ApiContext, identity: TokenInfo, row: MetricRow, measures: readonly MeasureInput[]): Promise<WriteMeasuresResult> {
  context.access.enforce('metric:write', identity, { project_id: row.project_id, user_id: row.user_id });
  if (measures.length === 0) return { accepted: 0, refused: [] };
  return writeMeasures(context.store, { metric: row, policy: context.policyStore.resolver.policy(row.archive_policy_name), measures, now: context.clock.now(), observer: context.hotRollups ?? null });
}

/** Gnocchi answers an accepted write with an empty 202; Cumulus adds how many measures it refused. */
export function sendAccepted(reply: FastifyReply, refused: number): FastifyReply {
  return reply.code(202).header('x-cumulus-refused-measures', String(refused)).send();
}

/** A measures body as JSON schema: a list of {timestamp, value} (read and checked by parseMeasures). */
export const MEASURES_BODY_SCHEMA = {
  type: 'array',
  description: 'Measures: `[{timestamp, value}]`; timestamps all ISO 8601, all seconds since the epoch, or all relative (`-5 minutes`)',
  items: {
    type: 'object',
    required: ['timestamp', 'value'],
    properties: {
      timestamp: { description: 'ISO 8601 (naive = UTC), seconds since the epoch, or relative to now' },
      value: { description: 'A number (or a numeric string)' },
    },
  },
} as const;

// ---------------------------------------------------------------------------------------
// Creating metrics

export interface MetricInput {
  name?: string | undefined;
  unit?: string | undefined;
  archive_policy_name?: string | undefined;
  resource_id?: string | undefined;
}

/** The archive policy a new metric gets: the one named, else the rules' answer for its name. */
export function policyForNewMetric(context: ApiContext, input: MetricInput): ArchivePolicy {
  if (input.archive_policy_name !== undefined) {
    try {
      return context.policyStore.resolver.policy(input.archive_policy_name);
    } catch (err) {
      if (err instanceof ArchivePolicyError) throw new ApiError('CUMULUS_API_ARCHIVE_POLICY_NOT_FOUND', 400, `Archive policy ${input.archive_policy_name} does not exist`);
      throw err;
    }
  }
  try {
    return context.policyStore.resolver.forMetric(input.name ?? '');
  } catch (err) {
    if (err instanceof ArchivePolicyError) {
      throw new ApiError('CUMULUS_API_NO_ARCHIVE_POLICY', 400, `No archive policy name specified and no archive policy rule found matching the metric name ${input.name ?? 'None'}`);
    }
    throw err;
  }
}

/**
 * Creates a metric as Gnocchi's POST /v1/metric does, owned by the caller (and by the
 * resource's project when attached to one). A named metric of a resource takes the id the
 * pipeline derives for (resource, name), so samples and API writes meet in one metric;
 * an id that ever existed (a deleted metric) is not reused.
 */
export async function createMetric(context: ApiContext, identity: TokenInfo, input: MetricInput, resource?: ResourceRow): Promise<MetricRow> {
  if (input.name !== undefined && input.name.includes('/')) throw new ApiError('CUMULUS_API_INVALID_METRIC_NAME', 400, "'/' is not supported in metric name");
  if (input.unit !== undefined && input.unit.length > UNIT_MAX) throw new ApiError('CUMULUS_API_INVALID_INPUT', 400, `Invalid input: unit must be at most ${UNIT_MAX} characters, got ${input.unit.length}`);
  const policy = policyForNewMetric(context, input);
  if (!identity.projectId) throw new ApiError('CUMULUS_AUTH_SCOPE_REQUIRED', 403, 'This API needs a project-scoped token: authenticate with a project scope.');
  let attached = resource;
  if (input.resource_id !== undefined && !attached) {
    if (input.name === undefined) {
      throw new DescribedApiError('CUMULUS_API_INVALID_INPUT', 400, 'Name cannot be null if resource_id is not null', { cause: 'Attribute value error', detail: 'name', reason: 'Name cannot be null if resource_id is not null' });
    }
    attached = await findResource(context, input.resource_id, context.access.readableProject('resource', identity));
    if (!attached) throw resourceNotFound(input.resource_id);
  }
  const projectId = attached ? attached.project_id : identity.projectId;
  if (attached) context.access.enforce('resource:write', identity, { project_id: attached.project_id });
  context.access.enforce('metric:write', identity, { project_id: projectId });
  let id: string = randomUUID();
  if (attached && input.name !== undefined) {
    const existing = await context.store.query<MetricRow>(selectMetrics({ projectId: null, resourceId: attached.id, name: input.name, limit: 1 }));
    if (existing.length > 0) throw new DescribedApiError('CUMULUS_API_METRIC_EXISTS', 400, `Named metric ${input.name} already exists`, { cause: 'Named metric already exists', detail: input.name });
    const derived = derivedMetricId(attached.id, input.name);
    if ((await context.store.query(selectKnownMetricIds([derived]))).length === 0) id = derived;
  }
  const created = context.clock.now();
  const row: MetricRow = {
    id,
    name: input.name ?? '',
    resource_id: attached?.id ?? '',
    project_id: projectId,
    user_id: identity.userId,
    unit: input.unit ?? '',
    archive_policy_name: policy.name,
    created_at: created.toISOString().replace('T', ' ').replace('Z', ''),
  };
  await insertMetric(context.store, { ...row, created_at: created });
  return row;
}

// ---------------------------------------------------------------------------------------
// Listing

/** Gnocchi's sort syntax: `key[:asc|:desc][-nullsfirst|-nullslast]`. */
function parseSorts(value: unknown): MetricSort[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.map((item) => {
    const [key = '', direction = 'asc'] = String(item).split(':', 2);
    if (!isMetricSortKey(key)) throw new ApiError('CUMULUS_API_INVALID_SORT', 400, `Sort key supplied is invalid: ${key}; expected one of ${Object.keys(METRIC_SORT_KEYS).join(', ')}`);
    const dir = direction.replace(/-nulls(first|last)$/, '');
    if (dir !== 'asc' && dir !== 'desc') throw new ApiError('CUMULUS_API_INVALID_SORT', 400, `Invalid sort direction: ${direction}; expected asc or desc`);
    return { key, descending: dir === 'desc' };
  });
}

const LIST_FILTERS = ['id', 'name', 'unit', 'archive_policy_name', 'resource_id', 'creator', 'user_id', 'project_id'] as const;

/** The `next` page link Gnocchi sets when a page is full (RFC 5988). */
function nextLink(request: FastifyRequest, query: Record<string, unknown>, marker: string): string {
  const params = new URLSearchParams();
  const entries = Object.entries({ ...query, marker }).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, value] of entries) for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) params.append(key, String(v));
  return `<${request.protocol}://${request.host}${request.url.split('?')[0]}?${params.toString()}>; rel="next"`;
}

// ---------------------------------------------------------------------------------------
// Routes

const ID_PARAMS = { type: 'object', properties: { id: { type: 'string', description: 'Metric id (UUID)' } }, required: ['id'] } as const;

/** A metric's policy; for a deleted metric whose policy is gone since, a policy holding only its name. */
function policyOrName(context: ApiContext, name: string): ArchivePolicy {
  try {
    return context.policyStore.resolver.policy(name);
  } catch (err) {
    if (err instanceof ArchivePolicyError) return { name, back_window: 0, aggregation_methods: [], definition: [] };
    throw err;
  }
}

/** Per reason, what a metric refused (zeros when nothing was). */
async function refusedMeasures(context: ApiContext, id: string): Promise<RefusedMeasuresView> {
  const view: RefusedMeasuresView = { back_window: 0, retention: 0, last_refused_at: null };
  for (const r of await context.store.query<MeasureRefusalRow>(selectMeasureRefusals([id]))) {
    if ((MEASURE_REFUSAL_REASONS as readonly string[]).includes(r.reason)) view[r.reason] = Number(r.refused);
    const at = isoFromClickHouse(r.last_refused_at);
    if (at && (view.last_refused_at === null || at > view.last_refused_at)) view.last_refused_at = at;
  }
  return view;
}

/** /v1/metric: the metric index and each metric's measures. */
export function registerMetricCrudRoutes(v1: FastifyInstance, context: ApiContext): void {
  const tags = ['metric'];
  const collection = withTrailingSlash(v1);

  collection.post(
    '/metric',
    {
      preValidation: requireJsonBody,
      schema: {
        tags,
        summary: 'Create a metric',
        description: "Gnocchi's POST /v1/metric: the policy is the one named, else the archive policy rules' answer for the name. 201 with the metric.",
        security: TOKEN_SECURITY,
        body: {
          type: 'object',
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 255, description: "The metric's name (no '/')" },
            unit: { type: 'string', maxLength: UNIT_MAX },
            archive_policy_name: { type: 'string', minLength: 1 },
            resource_id: { type: 'string', minLength: 1, maxLength: 255, description: 'Attach to this resource (needs a name)' },
          },
          additionalProperties: NO_OTHER_FIELDS,
        },
      },
    },
    async (request, reply) => {
      const body = (request.body ?? {}) as MetricInput;
      const row = await createMetric(context, callerOf(request), body);
      return reply
        .code(201)
        .header('location', `${request.protocol}://${request.host}${request.url.split('?')[0]?.replace(/\/$/, '')}/${row.id}`)
        .send(metricCreatedView(row));
    },
  );

  collection.get(
    '/metric',
    {
      schema: {
        tags,
        summary: 'List metrics',
        description: "Gnocchi's metric list: equality filters, `sort=key:asc|desc` (repeatable), `limit` (at most 1000; Gnocchi clamps, Cumulus refuses more) and `marker` (the last id of the previous page); a full page carries a Link to the next.",
        security: TOKEN_SECURITY,
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: DEFAULT_LIMIT, description: `Page size, at most ${DEFAULT_LIMIT}` },
            marker: { type: 'string', description: 'Id of the last metric of the previous page' },
            sort: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], description: `key[:asc|:desc], keys: ${Object.keys(METRIC_SORT_KEYS).join(', ')}` },
            status: { type: 'string', enum: ['active', 'delete'] },
            ...Object.fromEntries(LIST_FILTERS.map((f) => [f, { type: 'string' }])),
          },
        },
      },
    },
    async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      const identity = callerOf(request);
      const projectId = context.access.readableProject('metric', identity);
      const limit = Math.min(Number(query.limit ?? DEFAULT_LIMIT), DEFAULT_LIMIT);
      const sorts = parseSorts(query.sort);
      const filter: MetricAttributeFilter = {};
      for (const key of LIST_FILTERS) if (typeof query[key] === 'string') filter[key] = query[key] as string;
      let marker: MetricMarkerRow | undefined;
      if (query.marker !== undefined) {
        const text = String(query.marker);
        marker = new RegExp(UUID_PATTERN).test(text) ? (await context.store.query<MetricMarkerRow>(selectMetricMarker(text)))[0] : undefined;
        if (!marker || (projectId !== null && marker.project_id !== projectId)) {
          throw new DescribedApiError('CUMULUS_API_INVALID_MARKER', 400, `Invalid marker: \`${text}'`, { cause: 'Argument value error', reason: `Invalid marker: \`${text}'` });
        }
      }
      const rows = await context.store.query<MetricRow>(
        listMetrics({ projectId, filter, status: query.status === 'delete' ? 'delete' : 'active', sorts, limit, ...(marker ? { marker } : {}) }),
      );
      if (rows.length >= limit && rows.length > 0) reply.header('link', nextLink(request, { ...query, limit }, (rows[rows.length - 1] as MetricRow).id));
      return rows.map((row) => metricView(row, policyOrName(context, row.archive_policy_name)));
    },
  );

  v1.get('/metric/:id', { schema: { tags, summary: 'Show a metric', description: "Gnocchi's metric with its policy and resource in full, plus `refused_measures`: per reason, how many measures it refused (Cumulus's addition).", security: TOKEN_SECURITY, params: ID_PARAMS } }, async (request) => {
    const identity = callerOf(request);
    const row = await loadMetric(context.store, (request.params as { id: string }).id, context.access.readableProject('metric', identity));
    // Both at once: a ClickHouse server answers them in parallel (chDB still takes them in turn).
    const [found, refused] = await Promise.all([
      row.resource_id === '' ? Promise.resolve(undefined) : context.store.query<ResourceRow>(selectResource(row.resource_id, context.access.readableProject('resource', identity))).then((rows) => rows[0]),
      refusedMeasures(context, row.id),
    ]);
    // Gnocchi embeds the resource without its metrics (not loaded there).
    const resource = found ? resourceJson(found, context.resourceTypes.find(found.type), [], true) : null;
    return metricDetailView(row, context.policyStore.resolver.policy(row.archive_policy_name), resource, refused);
  });

  v1.delete('/metric/:id', { schema: { tags, summary: 'Delete a metric', description: '204; the metric disappears from every read.', security: TOKEN_SECURITY, params: ID_PARAMS } }, async (request, reply) => {
    const identity = callerOf(request);
    const row = await loadMetric(context.store, (request.params as { id: string }).id, context.access.readableProject('metric', identity));
    context.access.enforce('metric:write', identity, { project_id: row.project_id, user_id: row.user_id });
    await markMetricDeleted(context.store, row, context.clock.now());
    forgetMetric(row.id);
    context.hotRollups?.invalidate([row.id]);
    return reply.code(204).send();
  });

  v1.post(
    '/metric/:id/measures',
    {
      preValidation: requireJsonBody,
      schema: {
        tags,
        summary: 'Add measures to a metric',
        description:
          "202 once written (synchronously: readable at once). Measures before the metric's back window or past its retention are refused, counted on the metric (GET /v1/metric/<id> refused_measures) and in the X-Cumulus-Refused-Measures header.",
        security: TOKEN_SECURITY,
        params: ID_PARAMS,
        body: MEASURES_BODY_SCHEMA,
      },
    },
    async (request, reply) => {
      const identity = callerOf(request);
      const row = await loadMetric(context.store, (request.params as { id: string }).id, context.access.readableProject('metric', identity));
      const measures = parseMeasures(request.body, 'body', context.clock.now());
      const result = await acceptMeasures(context, identity, row, measures);
      return sendAccepted(reply, result.refused.length);
    },
  );

  v1.get(
    '/metric/:id/measures',
    { schema: { tags, summary: "A metric's aggregated measures", description: 'Points `[timestamp, granularity, value]`, coarsest granularity first.', security: TOKEN_SECURITY, params: ID_PARAMS, querystring: MEASURES_QUERY_SCHEMA } },
    async (request) => {
      const row = await loadMetric(context.store, (request.params as { id: string }).id, context.access.readableProject('metric', callerOf(request)));
      return readMeasures(context, row, request.query as Record<string, unknown>);
    },
  );
}

export { metricNotFound };
