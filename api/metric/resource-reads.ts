import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  GENERIC_RESOURCE_TYPE,
  effectiveAttributes,
  isoFromMicros,
  normalizeUuid,
  parseResourceSorts,
  parseTimestampMicros,
  resourceUuid,
  searchResources,
  selectMetricsOfResources,
  selectResource,
  selectResourceByUuid,
  selectResourceHistory,
  selectResourceRevision,
  type MetricRow,
  type ResourceMarker,
  type ResourceRevisionRow,
  type ResourceRow,
  type ResourceType,
} from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { parseBool } from '../params.ts';
import { DEFAULT_LIMIT } from './shared.ts';

/** Gnocchi's default order of resource lists: oldest revision first, then oldest resource. */
export const RESOURCE_DEFAULT_SORTS: readonly string[] = ['revision_start:asc', 'started_at:asc'];

/** Query parameters of every resource list (list, search, history), as Gnocchi takes them. */
export const RESOURCE_PAGE_QUERY = {
  limit: { type: 'integer', minimum: 1, description: `At most this many (capped at ${DEFAULT_LIMIT})` },
  marker: { type: 'string', minLength: 1, description: 'The last id of the previous page (history: <id>@<revision_start>)' },
  sort: { type: 'array', items: { type: 'string', maxLength: 100 }, maxItems: 10, description: 'field[:asc|desc[-nullsfirst|-nullslast]], repeatable' },
  details: { type: 'string', description: 'true: the attributes of each resource type (generic lists)' },
  history: { type: 'string', description: 'true: every revision, not only the current one' },
  attrs: { type: 'array', items: { type: 'string', maxLength: 100 }, description: 'Only these fields of each resource, repeatable' },
} as const;

export interface ResourcePageQuery {
  limit?: number;
  marker?: string;
  sort?: string[];
  details?: string;
  history?: string;
  attrs?: string[];
}

export const resourceNotFoundError = (id: string) => new ApiError('CUMULUS_API_RESOURCE_NOT_FOUND', 404, `Resource ${id} does not exist`);

/** ClickHouse DateTime64 text as Python's isoformat() of a UTC datetime (what Gnocchi shows). */
export function isoTime(text: string | null | undefined): string | null {
  if (text === null || text === undefined) return null;
  const micros = parseTimestampMicros(text);
  return micros === null ? text : isoFromMicros(micros);
}

/**
 * A resource by the id a client gives: the stored id, or the UUID the API shows (a
 * transformed id, or a UUID in another form). `projectId`: only that project's (null: any).
 */
export async function findResource(context: ApiContext, given: string, projectId: string | null): Promise<ResourceRow | undefined> {
  const direct = (await context.store.query<ResourceRow>(selectResource(given, projectId)))[0];
  if (direct) return direct;
  const uuid = normalizeUuid(given);
  if (uuid === null) return undefined;
  return (await context.store.query<ResourceRow>(selectResourceByUuid(uuid, projectId)))[0];
}

/** The resource at /resource/<type>/<id> for this reader; another type's or project's is "does not exist". */
export async function loadResource(context: ApiContext, type: ResourceType, given: string, projectId: string | null): Promise<ResourceRow> {
  const row = await findResource(context, given, projectId);
  if (!row || (type.name !== GENERIC_RESOURCE_TYPE && row.type !== type.name)) throw resourceNotFoundError(given);
  return row;
}

/** The live metrics of these resources, by stored resource id. */
export async function metricsByResource(context: ApiContext, ids: readonly string[]): Promise<Map<string, MetricRow[]>> {
  const out = new Map<string, MetricRow[]>();
  if (ids.length === 0) return out;
  for (const row of await context.store.query<MetricRow>(selectMetricsOfResources([...new Set(ids)]))) {
    const list = out.get(row.resource_id);
    if (list) list.push(row);
    else out.set(row.resource_id, [row]);
  }
  return out;
}

/** A metric as Gnocchi lists it (no archive policy details). */
export function metricBrief(row: MetricRow) {
  return {
    id: row.id,
    creator: `${row.user_id}:${row.project_id}`,
    name: row.name,
    unit: row.unit === '' ? null : row.unit,
    resource_id: row.resource_id === '' ? null : resourceUuid(row.resource_id),
    archive_policy_name: row.archive_policy_name,
    created_by_user_id: row.user_id,
    created_by_project_id: row.project_id,
  };
}

/**
 * A resource (or one of its revisions) as Gnocchi shows it: `id` is the UUID, the stored
 * id is `original_resource_id`; with `type`, the type's attributes as it defines them now
 * (fills applied to rows older than an attribute).
 */
export function resourceJson(row: ResourceRow & { revision_end?: string | null }, type: ResourceType | undefined, metrics: readonly MetricRow[], withAttributes: boolean): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: resourceUuid(row.id),
    creator: `${row.user_id}:${row.project_id}`,
    created_by_user_id: row.user_id,
    created_by_project_id: row.project_id,
    started_at: isoTime(row.started_at),
    revision_start: isoTime(row.revision_start),
    ended_at: isoTime(row.ended_at),
    user_id: row.user_id === '' ? null : row.user_id,
    project_id: row.project_id === '' ? null : row.project_id,
    original_resource_id: row.id,
    type: row.type,
    metrics: Object.fromEntries(metrics.map((m) => [m.name, m.id])),
    revision_end: isoTime(row.revision_end),
  };
  if (!withAttributes) return view;
  const stored = JSON.parse(row.attributes || '{}') as Record<string, unknown>;
  const attributes = type ? effectiveAttributes(type, stored, Number(row.type_generation)) : stored;
  for (const [name, value] of Object.entries(attributes)) if (!Object.hasOwn(view, name)) view[name] = value;
  return view;
}

/**
 * One resource as the show/create/update routes answer it, with its current metrics;
 * through a typed URL with its attributes, through /resource/generic without (as Gnocchi).
 */
export async function resourceDetail(context: ApiContext, row: ResourceRow, urlType: ResourceType): Promise<Record<string, unknown>> {
  const metrics = (await metricsByResource(context, [row.id])).get(row.id) ?? [];
  const generic = urlType.name === GENERIC_RESOURCE_TYPE;
  return resourceJson(row, generic ? undefined : urlType, metrics, !generic);
}

/** A page marker as the client gives it (the shown id, `<id>@<revision_start>` in history) to the stored row it names. */
async function resolveMarker(context: ApiContext, marker: string, history: boolean, projectId: string | null): Promise<ResourceMarker> {
  const invalid = () => new ApiError('CUMULUS_API_INVALID_MARKER', 400, `Invalid marker: \`${marker}'; expected the id of the last resource of the previous page${history ? ' and its revision_start, as <id>@<revision_start>' : ''}`);
  if (!history) {
    const row = await findResource(context, marker, projectId);
    if (!row) throw invalid();
    return { id: row.id };
  }
  const at = marker.lastIndexOf('@');
  if (at <= 0) throw invalid();
  const row = await findResource(context, marker.slice(0, at), projectId);
  const revisionStart = marker.slice(at + 1);
  if (!row || parseTimestampMicros(revisionStart) === null) throw invalid();
  if ((await context.store.query(selectResourceRevision(row.id, revisionStart, projectId))).length === 0) throw invalid();
  return { id: row.id, revisionStart };
}

export interface ResourcePageOptions {
  type: ResourceType;
  /** Gnocchi's search tree, or null. */
  filter: unknown;
  projectId: string | null;
  query: ResourcePageQuery;
  /** The revisions of this one resource (GET .../<id>/history). */
  historyOf?: ResourceRow;
}

/**
 * One page of resources (list, search, history) in Gnocchi's shapes, with its `Link:
 * <...>; rel="next"` header when the page is full. Sorted as asked, ties broken by id
 * (and revision), so paging on is stable and complete.
 */
export async function resourcePage(context: ApiContext, request: FastifyRequest, reply: FastifyReply, options: ResourcePageOptions): Promise<Record<string, unknown>[]> {
  const { type, query, projectId } = options;
  const history = options.historyOf !== undefined || parseBool('history', query.history, false);
  const details = parseBool('details', query.details, false);
  const limit = Math.min(query.limit ?? DEFAULT_LIMIT, DEFAULT_LIMIT);
  const sortTexts = query.sort !== undefined && query.sort.length > 0 ? query.sort : [...RESOURCE_DEFAULT_SORTS];
  const sorts = parseResourceSorts(sortTexts);
  const marker = query.marker === undefined ? undefined : await resolveMarker(context, query.marker, history, projectId);
  const page = { limit, sorts, ...(marker === undefined ? {} : { marker }) };
  const rows = await context.store.query<ResourceRevisionRow>(
    options.historyOf ? selectResourceHistory(options.historyOf.id, projectId, { ...page, type }) : searchResources({ type, filter: options.filter, projectId, history, ...page }),
  );
  const metrics = await metricsByResource(context, rows.map((r) => r.id));
  // Generic lists show the attributes of each resource's own type only when asked (details).
  const withAttributes = type.name !== GENERIC_RESOURCE_TYPE || details;
  const types = new Map<string, ResourceType | undefined>();
  const typeOf = (name: string) => {
    if (!types.has(name)) types.set(name, context.resourceTypes.find(name));
    return types.get(name);
  };
  const attrs = query.attrs !== undefined && query.attrs.length > 0 ? new Set(query.attrs) : null;
  const views = rows.map((row) => {
    const view = resourceJson(row, withAttributes ? (type.name === GENERIC_RESOURCE_TYPE ? typeOf(row.type) : type) : undefined, metrics.get(row.id) ?? [], withAttributes);
    return attrs ? Object.fromEntries(Object.entries(view).filter(([key]) => attrs.has(key))) : view;
  });
  const last = rows[rows.length - 1];
  if (last && rows.length >= limit) {
    const next = history ? `${resourceUuid(last.id)}@${isoTime(last.revision_start)}` : resourceUuid(last.id);
    reply.header('link', nextLink(request, { limit: String(limit), marker: next, sort: sortTexts }));
  }
  return views;
}

/** RFC 5988's next link, Gnocchi's way: this path with the request's parameters, marker and sort set, keys sorted. */
function nextLink(request: FastifyRequest, set: Record<string, string | string[]>): string {
  const params: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries((request.query as Record<string, unknown> | undefined) ?? {})) {
    if (typeof value === 'string') params[key] = value;
    else if (Array.isArray(value)) params[key] = value.map(String);
    else if (value !== undefined && value !== null) params[key] = String(value);
  }
  Object.assign(params, set);
  const search = new URLSearchParams();
  for (const key of Object.keys(params).sort()) {
    const value = params[key] as string | string[];
    for (const item of Array.isArray(value) ? value : [value]) search.append(key, item);
  }
  const path = request.url.split('?')[0] as string;
  return `<${request.protocol}://${request.host}${path}?${search.toString()}>; rel="next"`;
}
