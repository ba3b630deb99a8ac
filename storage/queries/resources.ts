/**
 * Query builders for the resource index: `resources` (the current revision of each
 * resource, ReplacingMergeTree by id, read with FINAL) and `resource_history` (closed
 * revisions, each with its revision_end). Gnocchi's search language compiles here to SQL
 * whose every value, attribute name included, is a bound parameter.
 */
import type { BoundQuery } from '../driver.ts';
import { NOT_DELETED } from './metrics.ts';
import {
  GENERIC_RESOURCE_TYPE,
  ResourceError,
  clickHouseTime,
  describeValue,
  normalizeUuid,
  parseTimestampMicros,
  type AttributeValue,
  type ResourceAttribute,
  type ResourceType,
} from '../resource-types.ts';
import { GNOCCHI_RESOURCE_ID_NAMESPACE, resourceUuid } from '../resource-ids.ts';

export interface ResourceRow {
  id: string;
  type: string;
  project_id: string;
  user_id: string;
  /** ClickHouse DateTime64(6) text, UTC: `2026-01-01 00:00:00.000000`. */
  started_at: string;
  ended_at: string | null;
  revision_start: string;
  /** JSON object of the attribute values written (see effectiveAttributes in resource-types.ts). */
  attributes: string;
  /** The resource type's generation when the row was written. */
  type_generation: number;
}

/** A revision: the current one has `revision_end` null. */
export interface ResourceRevisionRow extends ResourceRow {
  revision_end: string | null;
}

const COLUMNS = 'id, type, project_id, user_id, started_at, ended_at, revision_start, attributes, type_generation';
const DATETIME = "DateTime64(6, 'UTC')";

/** A resource by id; when `projectId` is given, only if it belongs to that project. */
export function selectResource(id: string, projectId: string | null): BoundQuery {
  return {
    sql: `SELECT ${COLUMNS} FROM resources FINAL WHERE id = {id:String}${projectId === null ? '' : ' AND project_id = {project_id:String}'} LIMIT 1`,
    params: projectId === null ? { id } : { id, project_id: projectId },
  };
}

/**
 * A resource by the UUID Gnocchi shows for it (resourceUuid(): the id itself when it is a
 * UUID in another form, or the UUIDv5 of a text id). Scans the index: try selectResource
 * with the id as given first.
 */
export function selectResourceByUuid(uuid: string, projectId: string | null): BoundQuery {
  return {
    sql: `SELECT ${COLUMNS} FROM resources FINAL WHERE ${PRESENTED_ID} = {uuid:String}${projectId === null ? '' : ' AND project_id = {project_id:String}'} LIMIT 1`,
    params: projectId === null ? { uuid } : { uuid, project_id: projectId },
  };
}

/** One revision of a resource (current or closed) by its revision_start: a history page's marker. */
export function selectResourceRevision(id: string, revisionStart: string, projectId: string | null): BoundQuery {
  const micros = parseTimestampMicros(revisionStart);
  if (micros === null) throw new ResourceError('QUERY_INVALID', `Invalid marker: expected <id>@<revision_start timestamp> for a history page, got revision_start ${describeValue(revisionStart)}`);
  const params = new Params();
  const where = [`id = ${params.bind(id, 'String')}`, `revision_start = ${params.bind(clickHouseTime(micros), DATETIME)}`];
  if (projectId !== null) where.push(`project_id = ${params.bind(projectId, 'String')}`);
  return { sql: `SELECT ${COLUMNS}, revision_end FROM ${HISTORY_SOURCE} WHERE ${where.join(' AND ')} LIMIT 1`, params: params.values };
}

/** The live metrics (MetricRow columns) of these resources, by resource then name. */
export function selectMetricsOfResources(ids: readonly string[]): BoundQuery {
  return {
    sql: `SELECT toString(id) AS id, name, resource_id, project_id, user_id, unit, archive_policy_name, created_at FROM metrics FINAL WHERE resource_id IN {ids:Array(String)} AND ${NOT_DELETED} ORDER BY resource_id, name`,
    params: { ids: [...ids] },
  };
}

/** `{id, version}`: the newest row version (created_at, deleted rows included) of these metric ids; a rewrite must go above it. */
export function selectMetricVersions(ids: readonly string[]): BoundQuery {
  return { sql: 'SELECT toString(id) AS id, toString(max(created_at)) AS version FROM metrics WHERE id IN {ids:Array(UUID)} GROUP BY id', params: { ids: [...ids] } };
}

/** Deletes every row of these resources from `resources` or `resource_history` (a lightweight DELETE). */
export function deleteResourceRows(table: 'resources' | 'resource_history', ids: readonly string[]): BoundQuery {
  return { sql: `DELETE FROM ${table} WHERE id IN {ids:Array(String)}`, params: { ids: [...ids] } };
}

/** The current rows of these resources (the resource index's read on a cache miss). */
export function selectResourceStates(ids: readonly string[]): BoundQuery {
  return { sql: `SELECT ${COLUMNS} FROM resources FINAL WHERE id IN {ids:Array(String)}`, params: { ids: [...ids] } };
}

/** Which of these metric ids the index already has (`{id}` rows). */
export function selectIndexedMetricIds(ids: readonly string[]): BoundQuery {
  // No `AS id` alias: in ClickHouse an alias shadows the column in WHERE too. UUIDs read back as text.
  return { sql: 'SELECT DISTINCT id FROM metrics WHERE id IN {ids:Array(UUID)}', params: { ids: [...ids] } };
}

/** `{n}`: 1 when any revision of any resource has this type, else 0 (refuses a type's delete). */
export function selectResourceTypeUsage(type: string): BoundQuery {
  return {
    sql: 'SELECT (SELECT count() FROM (SELECT 1 FROM resources WHERE type = {type:String} LIMIT 1)) + (SELECT count() FROM (SELECT 1 FROM resource_history WHERE type = {type:String} LIMIT 1)) > 0 AS n',
    params: { type },
  };
}

/** Where a page starts: after this id (and, in history, after this revision). */
export interface ResourceMarker {
  /** The stored id (what ResourceRow.id holds), not the UUID the API shows. */
  id: string;
  /** History pages only: the revision_start of the marker's revision (any timestamp form). */
  revisionStart?: string;
}

/** One sort key, as Gnocchi's `sort=field:asc-nullslast`. */
export interface ResourceSort {
  field: string;
  direction: 'asc' | 'desc';
  /** Where unset values go; PostgreSQL's default (and so Gnocchi's): last ascending, first descending. */
  nulls?: 'first' | 'last';
}

/** Bound on sort keys per query (each adds to the page condition). */
export const MAX_SORT_KEYS = 10;

export interface ResourceListQuery {
  /** `generic` lists resources of every type, as Gnocchi does. */
  type: string;
  projectId: string | null;
  limit: number;
  marker?: ResourceMarker;
  /** Every revision instead of the current one. */
  history?: boolean;
  /**
   * Sort keys; the stored id (then revision_start in history) breaks ties, so pages are
   * stable and complete. Without keys, rows come in stored-id order.
   */
  sorts?: readonly ResourceSort[];
}

export interface ResourceSearchQuery extends Omit<ResourceListQuery, 'type'> {
  type: ResourceType;
  /** Gnocchi's search tree (`{"=": {"flavor_id": "1"}}`); null or `{}`: no condition. */
  filter: unknown;
}

export function selectResources(q: ResourceListQuery): BoundQuery {
  return build(q.type, null, q);
}

export function searchResources(q: ResourceSearchQuery): BoundQuery {
  return build(q.type.name, q.type, q);
}

/**
 * Every revision of one resource, oldest first (Gnocchi's GET .../<id>/history); with
 * `type` and `sorts`, sorted as asked (attributes of the type included).
 */
export function selectResourceHistory(id: string, projectId: string | null, page: { limit: number; marker?: ResourceMarker; sorts?: readonly ResourceSort[]; type?: ResourceType }): BoundQuery {
  const params = new Params();
  const where = [`id = ${params.bind(id, 'String')}`];
  if (projectId !== null) where.push(`project_id = ${params.bind(projectId, 'String')}`);
  return paged(HISTORY_SOURCE, where, params, { ...page, history: true }, page.type ?? null);
}

/** Parses Gnocchi's sort keys: `field`, `field:asc`, `field:desc-nullsfirst`, ... (fields are checked when the query is built). */
export function parseResourceSorts(texts: readonly string[]): ResourceSort[] {
  if (texts.length > MAX_SORT_KEYS) throw new ResourceError('QUERY_INVALID', `Invalid sort: expected at most ${MAX_SORT_KEYS} sort keys, got ${texts.length}`);
  return texts.map((text) => {
    const m = /^([A-Za-z0-9_]+)(?::(asc|desc)(?:-(nullsfirst|nullslast))?)?$/.exec(text);
    if (!m) throw new ResourceError('QUERY_INVALID', `Invalid sort: expected <field>[:asc|desc[-nullsfirst|-nullslast]], got ${describeValue(text)}`);
    const sort: ResourceSort = { field: m[1] as string, direction: (m[2] ?? 'asc') as 'asc' | 'desc' };
    return m[3] === undefined ? sort : { ...sort, nulls: m[3] === 'nullsfirst' ? 'first' : 'last' };
  });
}

const HISTORY_SOURCE = `(SELECT ${COLUMNS}, CAST(revision_end AS Nullable(${DATETIME})) AS revision_end FROM resource_history FINAL
  UNION ALL SELECT ${COLUMNS}, CAST(NULL AS Nullable(${DATETIME})) AS revision_end FROM resources FINAL)`;

function build(typeName: string, type: ResourceType | null, q: Omit<ResourceListQuery, 'type'> & { filter?: unknown }): BoundQuery {
  const params = new Params();
  const where: string[] = [];
  if (typeName !== GENERIC_RESOURCE_TYPE) where.push(`type = ${params.bind(typeName, 'String')}`);
  if (q.projectId !== null) where.push(`project_id = ${params.bind(q.projectId, 'String')}`);
  if (type !== null && q.filter !== undefined && q.filter !== null) {
    const condition = compileInto(q.filter, type, { history: q.history === true }, params);
    if (condition !== null) where.push(condition);
  }
  return paged(q.history ? HISTORY_SOURCE : 'resources FINAL', where, params, q, type ?? { name: typeName, state: 'active', generation: 0, attributes: {} });
}

/** What an unset value sorts as, after isNull() has put it first or last. */
const SORT_DEFAULT: Readonly<Record<Kind, string>> = { string: "''", uuid: "''", resource_id: "''", number: '0', lifespan: '0', bool: 'false', datetime: `toDateTime64(0, 6, 'UTC')` };

interface SortComponent {
  sql: string;
  descending: boolean;
}

/** Sort keys as ORDER BY components: isNull() then the value, so unset values go where asked. */
function sortComponents(sorts: readonly ResourceSort[], type: ResourceType, history: boolean, params: Params): SortComponent[] {
  if (sorts.length > MAX_SORT_KEYS) throw new ResourceError('QUERY_INVALID', `Invalid sort: expected at most ${MAX_SORT_KEYS} sort keys, got ${sorts.length}`);
  const ctx: CompileContext = { type, history, params, nodes: 0 };
  const components: SortComponent[] = [];
  for (const sort of sorts) {
    const { expr, kind } = resolveField(sort.field, ctx);
    const descending = sort.direction === 'desc';
    const nullsFirst = (sort.nulls ?? (descending ? 'first' : 'last')) === 'first';
    components.push({ sql: `isNull(${expr})`, descending: nullsFirst }, { sql: `ifNull(${expr}, ${SORT_DEFAULT[kind]})`, descending });
  }
  components.push({ sql: 'id', descending: false });
  if (history) components.push({ sql: 'revision_start', descending: false });
  return components;
}

function paged(source: string, where: string[], params: Params, q: { limit: number; marker?: ResourceMarker; history?: boolean; sorts?: readonly ResourceSort[] }, type: ResourceType | null): BoundQuery {
  if (!Number.isInteger(q.limit) || q.limit < 1) throw new ResourceError('QUERY_INVALID', `Invalid pagination: limit: expected a whole number >= 1, got ${describeValue(q.limit)}`);
  const history = q.history === true;
  let markerStart: string | null = null;
  if (q.marker !== undefined && history) {
    const micros = parseTimestampMicros(q.marker.revisionStart);
    if (micros === null) throw new ResourceError('QUERY_INVALID', `Invalid pagination: marker: expected <id>@<revision_start timestamp> for a history page, got revision_start ${describeValue(q.marker.revisionStart)}`);
    markerStart = clickHouseTime(micros);
  }
  const columns = history ? `${COLUMNS}, revision_end` : `${COLUMNS}, CAST(NULL AS Nullable(${DATETIME})) AS revision_end`;
  const sorts = q.sorts ?? [];
  let prefix = '';
  let order: string;
  if (sorts.length === 0) {
    if (q.marker !== undefined) {
      where.push(history ? `(id, revision_start) > (${params.bind(q.marker.id, 'String')}, ${params.bind(markerStart, DATETIME)})` : `id > ${params.bind(q.marker.id, 'String')}`);
    }
    order = `id${history ? ', revision_start' : ''}`;
  } else {
    const components = sortComponents(sorts, type ?? { name: GENERIC_RESOURCE_TYPE, state: 'active', generation: 0, attributes: {} }, history, params);
    if (q.marker !== undefined) {
      // The marker row's sort values, read once; the page is what sorts after them.
      const at = [`id = ${params.bind(q.marker.id, 'String')}`];
      if (markerStart !== null) at.push(`revision_start = ${params.bind(markerStart, DATETIME)}`);
      prefix = `WITH (SELECT tuple(${components.map((c) => c.sql).join(', ')}) FROM ${source} WHERE ${at.join(' AND ')} LIMIT 1) AS page_marker `;
      const after = components.map((c, i) => {
        const equal = components.slice(0, i).map((e, j) => `${e.sql} = tupleElement(page_marker, ${j + 1})`);
        return `(${[...equal, `${c.sql} ${c.descending ? '<' : '>'} tupleElement(page_marker, ${i + 1})`].join(' AND ')})`;
      });
      where.push(`(${after.join(' OR ')})`);
    }
    order = components.map((c) => `${c.sql}${c.descending ? ' DESC' : ''}`).join(', ');
  }
  return {
    sql: `${prefix}SELECT ${columns} FROM ${source}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ${params.bind(q.limit, 'UInt32')}`,
    params: params.values,
  };
}

// ---------------------------------------------------------------------------------------
// Gnocchi's search language (gnocchi/indexer/sqlalchemy.py QueryTransformer, and the
// voluptuous schema of rest/api.py): a tree of one-key objects.

export type ResourceFilterValue = string | number | boolean | null;
/** `{"and": [...]}`, `{"not": {...}}`, `{"=": {"field": value}}`, `{"in": {"field": [values]}}`. */
export type ResourceFilter = { readonly [operator: string]: ResourceFilter | readonly ResourceFilter[] | { readonly [field: string]: ResourceFilterValue | readonly ResourceFilterValue[] } };

type Comparison = '=' | '!=' | '<' | '>' | '<=' | '>=' | 'in' | 'like' | 'ilike';

const COMPARISONS: Readonly<Record<string, Comparison>> = {
  '=': '=', '==': '=', eq: '=',
  '!=': '!=', '≠': '!=', ne: '!=',
  '<': '<', lt: '<',
  '>': '>', gt: '>',
  '<=': '<=', '≤': '<=', le: '<=',
  '>=': '>=', '≥': '>=', ge: '>=',
  in: 'in',
  like: 'like',
  // Not in Gnocchi 4: a case-insensitive like (ClickHouse's ILIKE).
  ilike: 'ilike',
};
const LOGICAL: Readonly<Record<string, 'AND' | 'OR'>> = { and: 'AND', '∧': 'AND', or: 'OR', '∨': 'OR' };
/** Bounds on one query, so a request cannot make an unbounded statement. */
export const MAX_FILTER_NODES = 512;
export const MAX_IN_VALUES = 10_000;

/** `resource_id`: Gnocchi's `id`, matched as the id stored or the UUID shown (see resourceUuid()). */
type Kind = 'string' | 'uuid' | 'number' | 'bool' | 'datetime' | 'lifespan' | 'resource_id';

/** Gnocchi's transformed-id namespace as hex, for the SQL below (a constant, never input). */
const NAMESPACE_HEX = GNOCCHI_RESOURCE_ID_NAMESPACE.replace(/-/g, '');
/** normalizeUuid()'s steps on the stored id: prefixes, braces and dashes off. */
const UUID_HEX = "replaceAll(replaceRegexpAll(replaceRegexpOne(replaceRegexpOne(id, '^urn:', ''), '^uuid:', ''), '^[{]+|[}]+$', ''), '-', '')";
const dashed = (hex: string) => `concat(substring(${hex}, 1, 8), '-', substring(${hex}, 9, 4), '-', substring(${hex}, 13, 4), '-', substring(${hex}, 17, 4), '-', substring(${hex}, 21, 12))`;
const ID_SHA1 = `SHA1(concat(unhex('${NAMESPACE_HEX}'), id, char(0), char(0)))`;
/** The UUIDv5 bytes: SHA-1 with the version (5) and variant bits set, as resourceUuid() does. */
const ID_UUID5_HEX = `lower(concat(hex(substring(${ID_SHA1}, 1, 6)), hex(toUInt8(bitOr(bitAnd(reinterpretAsUInt8(substring(${ID_SHA1}, 7, 1)), 15), 80))), hex(substring(${ID_SHA1}, 8, 1)), hex(toUInt8(bitOr(bitAnd(reinterpretAsUInt8(substring(${ID_SHA1}, 9, 1)), 63), 128))), hex(substring(${ID_SHA1}, 10, 7))))`;
/** resourceUuid(id) in SQL: the id the API shows for a stored id. */
const PRESENTED_ID = `if(match(${UUID_HEX}, '^[0-9a-fA-F]{32}$'), ${dashed(`lower(${UUID_HEX})`)}, ${dashed(ID_UUID5_HEX)})`;

/** Resource fields every type has, with the column they read. */
const FIELDS: Readonly<Record<string, { expr: string; kind: Kind; historyOnly?: boolean }>> = {
  id: { expr: PRESENTED_ID, kind: 'resource_id' },
  original_resource_id: { expr: 'id', kind: 'string' },
  type: { expr: 'type', kind: 'string' },
  project_id: { expr: 'project_id', kind: 'string' },
  user_id: { expr: 'user_id', kind: 'string' },
  started_at: { expr: 'started_at', kind: 'datetime' },
  ended_at: { expr: 'ended_at', kind: 'datetime' },
  revision_start: { expr: 'revision_start', kind: 'datetime' },
  revision_end: { expr: 'revision_end', kind: 'datetime', historyOnly: true },
  // Gnocchi's `lifespan`: ended_at - started_at, compared with a timespan.
  lifespan: { expr: '(toUnixTimestamp64Micro(ended_at) - toUnixTimestamp64Micro(started_at)) / 1000000', kind: 'lifespan' },
};

const SQL_TYPE: Readonly<Record<Exclude<Kind, 'lifespan' | 'resource_id'>, string>> = { string: 'String', uuid: 'String', number: 'Float64', bool: 'Bool', datetime: DATETIME };

/** Bound parameters, named p0, p1, ... in the order the compiler meets them. */
class Params {
  readonly values: Record<string, unknown> = {};
  private next = 0;

  bind(value: unknown, type: string): string {
    const name = `p${this.next++}`;
    this.values[name] = value;
    return `{${name}:${type}}`;
  }
}

/**
 * Compiles a search tree against a type to a condition with bound parameters. Fields are
 * the resource's own (id, type, project_id, user_id, started_at, ended_at, revision_start,
 * lifespan; revision_end in history) and the type's attributes; anything else is refused.
 * Returns null for an empty tree (`{}`).
 */
export function compileResourceFilter(filter: unknown, type: ResourceType, options: { history?: boolean } = {}): { sql: string | null; params: Record<string, unknown> } {
  const params = new Params();
  const sql = compileInto(filter, type, { history: options.history === true }, params);
  return { sql, params: params.values };
}

interface CompileContext {
  readonly type: ResourceType;
  readonly history: boolean;
  readonly params: Params;
  nodes: number;
}

function compileInto(filter: unknown, type: ResourceType, options: { history: boolean }, params: Params): string | null {
  if (isObject(filter) && Object.keys(filter).length === 0) return null;
  return compileNode(filter, { type, history: options.history, params, nodes: 0 });
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

function invalid(message: string): ResourceError {
  return new ResourceError('QUERY_INVALID', `Unable to parse this query: ${message}`);
}

function compileNode(node: unknown, ctx: CompileContext): string {
  if (++ctx.nodes > MAX_FILTER_NODES) throw invalid(`expected at most ${MAX_FILTER_NODES} conditions, got more`);
  if (!isObject(node)) throw invalid(`expected an object with one operator, got ${describeValue(node)}`);
  const keys = Object.keys(node);
  if (keys.length !== 1) throw invalid(`expected exactly one operator per object, got ${keys.length ? keys.join(', ') : 'none'}`);
  const operator = keys[0] as string;
  const operand = node[operator];
  const logical = LOGICAL[operator];
  if (logical) {
    if (!Array.isArray(operand) || operand.length === 0) throw invalid(`${operator}: expected a non-empty list of conditions, got ${describeValue(operand)}`);
    return `(${operand.map((child) => compileNode(child, ctx)).join(` ${logical} `)})`;
  }
  if (operator === 'not') return `(NOT ${compileNode(operand, ctx)})`;
  const comparison = COMPARISONS[operator];
  if (!comparison) throw new ResourceError('QUERY_INVALID', `Unknown operator \`${operator}'; expected one of and, or, not, ${Object.keys(COMPARISONS).join(', ')}`);
  if (!isObject(operand) || Object.keys(operand).length !== 1) throw invalid(`${operator}: expected an object with exactly one field, got ${describeValue(operand)}`);
  const [field, value] = Object.entries(operand)[0] as [string, unknown];
  return comparisonSql(comparison, field, value, ctx);
}

interface FieldRef {
  expr: string;
  kind: Kind;
}

function resolveField(field: string, ctx: CompileContext): FieldRef {
  const own = FIELDS[field];
  if (own && (!own.historyOnly || ctx.history)) return { expr: own.expr, kind: own.kind };
  const attribute = ctx.type.attributes[field];
  if (attribute) return { expr: attributeExpression(field, attribute, ctx.params), kind: attribute.type };
  const known = [...Object.keys(FIELDS).filter((f) => ctx.history || !FIELDS[f]?.historyOnly), ...Object.keys(ctx.type.attributes)];
  throw new ResourceError('QUERY_ATTRIBUTE', `Resource type ${ctx.type.name} has no ${field} attribute; expected one of ${known.join(', ')}`);
}

/**
 * An attribute read from the row's JSON, typed; the same rule as effectiveAttributes():
 * rows written before the attribute's generation read as its fill.
 */
function attributeExpression(name: string, attribute: ResourceAttribute, params: Params): string {
  const key = params.bind(name, 'String');
  const raw = (target: string) => `JSONExtract(attributes, ${key}, '${target}')`;
  const extract =
    attribute.type === 'number' ? raw('Nullable(Float64)')
    : attribute.type === 'bool' ? raw('Nullable(Bool)')
    : attribute.type === 'datetime' ? `parseDateTime64BestEffortOrNull(${raw('Nullable(String)')}, 6, 'UTC')`
    : raw('Nullable(String)');
  if (attribute.since === 0) return extract;
  const fill = attribute.fill === undefined || attribute.fill === null ? 'NULL' : params.bind(fillParam(attribute), SQL_TYPE[attribute.type]);
  return `if(type_generation >= ${params.bind(attribute.since, 'UInt32')}, ${extract}, ${fill})`;
}

function fillParam(attribute: ResourceAttribute): AttributeValue {
  if (attribute.type === 'datetime') return clickHouseTime(parseTimestampMicros(attribute.fill) as number);
  return attribute.fill ?? null;
}

function valueError(value: unknown, field: string, expected: string): ResourceError {
  return new ResourceError('QUERY_VALUE', `Invalid value: \`${typeof value === 'string' ? value : JSON.stringify(value)}' for field \`${field}': expected ${expected}, got ${describeValue(value)}`);
}

/** One comparison value as the field's kind takes it (Gnocchi's converters), or a QUERY_VALUE error. */
function convert(value: unknown, kind: Kind, field: string): unknown {
  switch (kind) {
    case 'string':
    case 'resource_id':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      // Python's str(True).
      if (typeof value === 'boolean') return value ? 'True' : 'False';
      throw valueError(value, field, 'a string');
    case 'uuid': {
      const uuid = normalizeUuid(value);
      if (uuid === null) throw valueError(value, field, 'a UUID');
      return uuid;
    }
    case 'number':
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
      throw valueError(value, field, 'a number');
    case 'bool':
      if (typeof value === 'boolean') return value;
      throw valueError(value, field, 'true or false');
    case 'datetime': {
      const micros = parseTimestampMicros(value);
      if (micros === null) throw valueError(value, field, 'an ISO 8601 timestamp or seconds since the epoch');
      return clickHouseTime(micros);
    }
    case 'lifespan': {
      const seconds = parseTimespanSeconds(value);
      if (seconds === null) throw valueError(value, field, 'a timespan: seconds, or a number and a unit such as "1 hour" or "30min"');
      return seconds;
    }
  }
}

function comparisonSql(op: Comparison, field: string, value: unknown, ctx: CompileContext): string {
  const { expr, kind } = resolveField(field, ctx);
  if (kind === 'resource_id') return idComparison(op, field, value, ctx);
  const sqlType = kind === 'lifespan' ? 'Float64' : SQL_TYPE[kind];
  if (op === 'in') {
    if (!Array.isArray(value) || value.length === 0) throw valueError(value, field, 'a non-empty list of values');
    if (value.length > MAX_IN_VALUES) throw valueError(`${value.length} values`, field, `at most ${MAX_IN_VALUES} values`);
    // A null in the list matches nothing, as in SQL (and in Gnocchi).
    const values = value.filter((v) => v !== null).map((v) => convert(v, kind, field));
    return values.length === 0 ? '0' : `${expr} IN ${ctx.params.bind(values, `Array(${sqlType})`)}`;
  }
  if (op === 'like' || op === 'ilike') {
    if (kind !== 'string' && kind !== 'uuid') throw valueError(value, field, `no ${op}: ${field} is a ${kind}; ${op} compares strings`);
    if (typeof value !== 'string') throw valueError(value, field, 'a string pattern (% and _ are wildcards)');
    return `${expr} ${op === 'like' ? 'LIKE' : 'ILIKE'} ${ctx.params.bind(value, 'String')}`;
  }
  if (value === null) {
    if (op === '=') return `isNull(${expr})`;
    if (op === '!=') return `isNotNull(${expr})`;
    throw valueError(value, field, `a value to compare with ${op} (null only works with = and !=)`);
  }
  if (Array.isArray(value) || isObject(value)) throw valueError(value, field, 'a string, number, boolean or null');
  const bound = ctx.params.bind(convert(value, kind, field), sqlType);
  // Gnocchi's != also matches rows where the field is unset.
  if (op === '!=') return `(isNull(${expr}) OR ${expr} != ${bound})`;
  return `${expr} ${op} ${bound}`;
}

/**
 * Gnocchi's `id`: the value as given is the stored id, or its UUID (resourceUuid()) is the
 * id shown; either matches. Ordering compares the shown UUIDs. No like: patterns go to
 * original_resource_id, as in Gnocchi.
 */
function idComparison(op: Comparison, field: string, value: unknown, ctx: CompileContext): string {
  if (op === 'like' || op === 'ilike') throw new ResourceError('QUERY_INVALID', `Unable to parse this query: ${op} does not apply to ${field} (a resource id); match patterns on original_resource_id instead`);
  const given = (v: unknown): string => {
    if (v === null || Array.isArray(v) || isObject(v)) throw valueError(v, field, 'a resource id (a UUID or the text the resource was created with)');
    return convert(v, 'resource_id', field) as string;
  };
  if (op === 'in') {
    if (!Array.isArray(value) || value.length === 0) throw valueError(value, field, 'a non-empty list of resource ids');
    if (value.length > MAX_IN_VALUES) throw valueError(`${value.length} values`, field, `at most ${MAX_IN_VALUES} values`);
    const ids = value.filter((v) => v !== null).map(given);
    if (ids.length === 0) return '0';
    return `(id IN ${ctx.params.bind(ids, 'Array(String)')} OR ${PRESENTED_ID} IN ${ctx.params.bind(ids.map(resourceUuid), 'Array(String)')})`;
  }
  const id = given(value);
  if (op === '=' || op === '!=') {
    const equal = `(id = ${ctx.params.bind(id, 'String')} OR ${PRESENTED_ID} = ${ctx.params.bind(resourceUuid(id), 'String')})`;
    return op === '=' ? equal : `(NOT ${equal})`;
  }
  return `${PRESENTED_ID} ${op} ${ctx.params.bind(resourceUuid(id), 'String')}`;
}

const TIMESPAN_UNITS: Readonly<Record<string, number>> = {
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600,
  d: 86_400, day: 86_400, days: 86_400,
  w: 604_800, week: 604_800, weeks: 604_800,
};

/** Seconds from a number or `"<n> <unit>"` (a subset of what pytimeparse reads). */
export function parseTimespanSeconds(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  if (!m) return null;
  const unit = (m[2] ?? '').toLowerCase();
  const factor = unit === '' ? 1 : TIMESPAN_UNITS[unit];
  return factor === undefined ? null : Number(m[1]) * factor;
}

// ---------------------------------------------------------------------------------------
// The `filter=` query string form (gnocchi/rest/api.py QueryStringSearchAttrFilter):
// `flavor_id = '2' and (host != compute-1 or not ended_at = null)`.

type Token =
  | { kind: 'op'; text: string }
  | { kind: 'word'; text: string }
  | { kind: 'string'; text: string }
  | { kind: 'punct'; text: '(' | ')' | '[' | ']' | ',' };

const SYMBOL_OPERATORS = ['>=', '<=', '!=', '==', '≠', '≥', '≤', '=', '>', '<'];
const WORD_OPERATORS = new Set(['eq', 'ne', 'lt', 'gt', 'ge', 'le', 'in', 'like', 'ilike']);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    if (c === '(' || c === ')' || c === '[' || c === ']' || c === ',') {
      tokens.push({ kind: 'punct', text: c });
      i += 1;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new ResourceError('QUERY_INVALID', `Invalid filter: a quoted string starting at character ${i + 1} is not closed (expected a closing ${c})`);
      tokens.push({ kind: 'string', text: text.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const symbol = SYMBOL_OPERATORS.find((op) => text.startsWith(op, i));
    if (symbol) {
      tokens.push({ kind: 'op', text: symbol });
      i += symbol.length;
      continue;
    }
    if (c === '∧' || c === '∨') {
      tokens.push({ kind: 'word', text: c });
      i += 1;
      continue;
    }
    const word = /^[A-Za-z0-9_.+:-]+/.exec(text.slice(i))?.[0];
    if (!word) throw new ResourceError('QUERY_INVALID', `Invalid filter: unexpected character ${JSON.stringify(c)} at character ${i + 1}; expected a field, an operator, a value, a parenthesis or a quoted string`);
    tokens.push(WORD_OPERATORS.has(word) ? { kind: 'op', text: word } : { kind: 'word', text: word });
    i += word.length;
  }
  return tokens;
}

const UUID_TEXT = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
const NUMBER_TEXT = /^[+-]?\d+(\.\d*)?([eE][+-]?\d+)?$/;
const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * Parses the query string form into the same tree the JSON form gives. Precedence as
 * Gnocchi's: not, then and, then or; parentheses group. Values: null/None, true/false,
 * UUIDs, numbers, bare words and quoted strings (as text), and [lists] for `in`.
 */
export function parseResourceFilter(text: string): ResourceFilter {
  const tokens = tokenize(text);
  let at = 0;
  const peek = () => tokens[at];
  const fail = (expected: string): never => {
    const got = peek();
    throw new ResourceError('QUERY_INVALID', `Invalid filter: expected ${expected}, got ${got ? JSON.stringify(got.text) : 'the end of the filter'} (token ${at + 1})`);
  };
  const isWord = (t: Token | undefined, ...words: string[]) => t?.kind === 'word' && words.includes(t.text);

  const value = (): ResourceFilterValue | ResourceFilterValue[] => {
    const t = peek();
    if (!t) return fail('a value');
    if (t.kind === 'punct' && t.text === '[') {
      at += 1;
      const list: ResourceFilterValue[] = [];
      if (!(peek()?.kind === 'punct' && peek()?.text === ']')) {
        for (;;) {
          const item = value();
          if (Array.isArray(item)) fail('a value (lists do not nest)');
          list.push(item as ResourceFilterValue);
          if (peek()?.kind === 'punct' && peek()?.text === ',') at += 1;
          else break;
        }
      }
      if (!(peek()?.kind === 'punct' && peek()?.text === ']')) fail('] to close the list');
      at += 1;
      return list;
    }
    at += 1;
    if (t.kind === 'string') return t.text;
    if (t.kind !== 'word') return fail('a value');
    const w = t.text;
    if (w === 'None' || w === 'none' || w === 'null') return null;
    if (/^(true|True|false|False)$/.test(w)) return w.toLowerCase() === 'true';
    if (UUID_TEXT.test(w)) return w;
    if (NUMBER_TEXT.test(w)) return Number(w);
    if (IDENTIFIER.test(w)) return w;
    at -= 1;
    return fail('a value: null, true, false, a UUID, a number, a name or a quoted string');
  };

  const condition = (): ResourceFilter => {
    const fieldToken = peek();
    if (!fieldToken || fieldToken.kind !== 'word' || !IDENTIFIER.test(fieldToken.text)) return fail('a field name');
    at += 1;
    const opToken = peek();
    if (!opToken || opToken.kind !== 'op') return fail('a comparison operator (=, !=, <, >, <=, >=, in, like, ...)');
    at += 1;
    return { [opToken.text]: { [fieldToken.text]: value() } } as ResourceFilter;
  };

  const primary = (): ResourceFilter => {
    const t = peek();
    if (t?.kind === 'punct' && t.text === '(') {
      at += 1;
      const inner = orExpression();
      if (!(peek()?.kind === 'punct' && peek()?.text === ')')) fail(') to close the group');
      at += 1;
      return inner;
    }
    return condition();
  };
  const notExpression = (): ResourceFilter => {
    if (isWord(peek(), 'not')) {
      at += 1;
      return { not: notExpression() };
    }
    return primary();
  };
  const andExpression = (): ResourceFilter => {
    const parts = [notExpression()];
    while (isWord(peek(), 'and', '∧')) {
      at += 1;
      parts.push(notExpression());
    }
    return parts.length === 1 ? (parts[0] as ResourceFilter) : { and: parts };
  };
  function orExpression(): ResourceFilter {
    const parts = [andExpression()];
    while (isWord(peek(), 'or', '∨')) {
      at += 1;
      parts.push(andExpression());
    }
    return parts.length === 1 ? (parts[0] as ResourceFilter) : { or: parts };
  }

  if (tokens.length === 0) throw new ResourceError('QUERY_INVALID', 'Invalid filter: expected a condition such as flavor_id = 1, got an empty filter');
  const tree = orExpression();
  if (at < tokens.length) fail('and, or, or the end of the filter');
  return tree;
}
