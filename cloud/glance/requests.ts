import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from './config.ts';
import { invalid, readOnly, reserved, schemaMismatch, unsupportedMediaType } from './errors.ts';
import type { Visibility } from './image.ts';
import { imageViolation } from './schema.ts';

/*
 * Glance's request deserializer (glance/api/v2/images.py RequestDeserializer): turns
 * the bodies and query strings clients send into validated requests, refusing what
 * glance refuses with glance's status and words.
 */

/** The two PATCH media types glance accepts and the JSON-patch draft each follows. */
export const PATCH_MEDIA_TYPES: Readonly<Record<string, 4 | 10>> = {
  'application/openstack-images-v2.0-json-patch': 4,
  'application/openstack-images-v2.1-json-patch': 10,
};

const OPERATIONS = ['add', 'remove', 'replace'] as const;
export type PatchOperation = (typeof OPERATIONS)[number];

/** One validated change of an image PATCH; `path` is the decoded JSON pointer. */
export interface ImageChange {
  op: PatchOperation;
  path: string[];
  value?: unknown;
  /** Draft 4 (v2.0) refuses to add an existing property; draft 10 (v2.1) replaces it. */
  draft: 4 | 10;
}

/** Attributes no PATCH may touch (glance's RequestDeserializer._readonly_properties). */
export const READ_ONLY_ATTRIBUTES: readonly string[] = ['created_at', 'updated_at', 'status', 'checksum', 'size', 'virtual_size', 'direct_url', 'self', 'file', 'schema', 'id', 'os_hash_algo', 'os_hash_value'];
/** Attributes reserved to glance itself. */
export const RESERVED_ATTRIBUTES: readonly string[] = ['location', 'deleted', 'deleted_at'];
/** Property names under glance's reserved namespace. */
export const RESERVED_NAMESPACE = 'os_glance';

// `__proto__` is refused too: as a key of a plain JS object it would not be a property.
const isReserved = (name: string) => RESERVED_ATTRIBUTES.includes(name) || name.startsWith(RESERVED_NAMESPACE) || name === '__proto__';

function decodePointer(pointer: unknown): string[] {
  if (typeof pointer !== 'string' || !pointer.startsWith('/')) throw invalid(`Pointer \`${String(pointer)}\` does not start with "/".`);
  if (/\/\s*?\//.test(pointer.slice(1))) throw invalid(`Pointer \`${pointer}\` contains adjacent "/".`);
  if (pointer.length > 1 && pointer.endsWith('/')) throw invalid(`Pointer \`${pointer}\` end with "/".`);
  if (/~[^01]/.test(pointer) || pointer.endsWith('~')) throw invalid(`Pointer \`${pointer}\` contains "~" not part of a recognized escape sequence.`);
  return pointer
    .replace(/^\/+/, '')
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~').trim());
}

function operationOf(raw: Record<string, unknown>, draft: 4 | 10): { op: PatchOperation; pointer: unknown } {
  const available = OPERATIONS.join(', ');
  if (draft === 10) {
    const op = raw.op;
    if (op === undefined || op === null) throw invalid(`Unable to find \`op\` in JSON Schema change. It must be one of the following: ${available}.`);
    if (!OPERATIONS.includes(op as PatchOperation)) throw invalid(`Invalid operation: \`${String(op)}\`. It must be one of the following: ${available}.`);
    if (!('path' in raw)) throw invalid("Unable to find 'path' in JSON Schema change");
    return { op: op as PatchOperation, pointer: raw.path };
  }
  const present = OPERATIONS.filter((key) => key in raw);
  if (present.length > 1) throw invalid('Operation objects must contain only one member named "add", "remove", or "replace".');
  const [op] = present;
  if (!op) throw invalid('Operation objects must contain exactly one member named "add", "remove", or "replace".');
  return { op, pointer: raw[op] };
}

/**
 * Parses an image PATCH body the way glance's RequestDeserializer.update does: media
 * type, array of operation objects, JSON pointers one level deep, read-only and
 * reserved attributes refused, values validated against the image schema.
 */
export function parseImagePatch(contentType: string | undefined, body: unknown): ImageChange[] {
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const draft = PATCH_MEDIA_TYPES[mediaType];
  if (draft === undefined) throw unsupportedMediaType(`Image PATCH expects Content-Type one of: ${Object.keys(PATCH_MEDIA_TYPES).sort().join(', ')}`);
  if (!Array.isArray(body)) throw invalid('Request body must be a JSON array of operation objects.');
  return body.map((raw: unknown): ImageChange => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid('Operations must be JSON objects.');
    const record = raw as Record<string, unknown>;
    const { op, pointer } = operationOf(record, draft);
    const path = decodePointer(pointer);
    const root = path[0] ?? '';
    if (path.length !== 1) throw invalid(`Invalid JSON pointer for this resource: '/${path.join('/')}'`);
    if (READ_ONLY_ATTRIBUTES.includes(root)) throw readOnly(root);
    if (isReserved(root) || root === 'locations') throw reserved(root);
    if (op === 'remove') return { op, path, draft };
    if (!('value' in record)) throw invalid(`Operation "${op}" requires a member named "value".`);
    const partial = { [root]: record.value };
    const reason = imageViolation(partial);
    if (reason) throw schemaMismatch('image', reason);
    return { op, path, value: record.value, draft };
  });
}

/** A validated `POST /v2/images` body. */
export interface CreateImageRequest {
  id: string | null;
  name: string | null;
  visibility: Visibility | null;
  owner: string | null;
  disk_format: string | null;
  container_format: string | null;
  min_disk: number;
  min_ram: number;
  protected: boolean;
  os_hidden: boolean;
  tags: string[];
  properties: Record<string, string | null>;
}

/** Attributes a create body may not carry: the server sets them (ImageFactory._readonly_properties and the deserializer's disallowed ones). */
const CREATE_READ_ONLY: readonly string[] = ['direct_url', 'self', 'file', 'schema', 'stores', 'created_at', 'updated_at', 'status', 'checksum', 'os_hash_algo', 'os_hash_value', 'size', 'virtual_size'];

export const nonNegative = (param: string, value: unknown): number => {
  const n = (value ?? 0) as number;
  if (n < 0) throw invalid(`Invalid value '${n}' for parameter '${param}': Cannot be a negative value`);
  return n;
};

/** Parses a create body: base attributes, tags, and every other key a custom string property. */
export function parseImageCreate(body: unknown): CreateImageRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('Body expected in request.');
  const input = body as Record<string, unknown>;
  for (const key of CREATE_READ_ONLY) if (key in input) throw readOnly(key);
  const reason = imageViolation(input);
  if (reason) throw schemaMismatch('image', reason);
  const { id, name, visibility, owner, disk_format, container_format, min_disk, min_ram, protected: isProtected, os_hidden, tags, ...properties } = input;
  for (const key of Object.keys(properties)) {
    if (key.length > 255) throw invalid('Custom property should not be greater than 255 characters.');
    if (key === 'locations' || isReserved(key)) throw reserved(key);
  }
  return {
    id: (id as string | undefined) ?? null,
    name: (name as string | null | undefined) ?? null,
    visibility: (visibility as Visibility | undefined) ?? null,
    owner: (owner as string | null | undefined) ?? null,
    disk_format: (disk_format as string | null | undefined) ?? null,
    container_format: (container_format as string | null | undefined) ?? null,
    min_disk: nonNegative('min_disk', min_disk),
    min_ram: nonNegative('min_ram', min_ram),
    protected: (isProtected as boolean | undefined) ?? false,
    os_hidden: (os_hidden as boolean | undefined) ?? false,
    tags: [...new Set((tags as string[] | undefined) ?? [])],
    properties: properties as Record<string, string | null>,
  };
}

export const SORT_KEYS = ['name', 'status', 'container_format', 'disk_format', 'size', 'id', 'created_at', 'updated_at'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type SortDir = 'asc' | 'desc';

export type FilterOperator = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte' | 'in';

/** What `GET /v2/images` filters on. Unknown keys are custom-property filters, as in glance. */
export interface ImageFilters {
  /** null: glance's default listing (no community images but one's own). */
  visibility: Visibility | 'all' | null;
  /** name, id, status, container_format, disk_format: `eq` or `in:` a list. */
  attributes: Array<{ column: 'name' | 'id' | 'status' | 'container_format' | 'disk_format'; values: string[] }>;
  /** Plain equality on other image columns (owner, checksum, min_ram...). */
  equals: Array<{ column: string; value: string | number }>;
  ranges: Array<{ column: 'size' | 'virtual_size'; op: 'gte' | 'lte'; value: number }>;
  times: Array<{ column: 'created_at' | 'updated_at'; op: Exclude<FilterOperator, 'in'>; value: string }>;
  tags: string[];
  properties: Record<string, string>;
  osHidden: boolean;
}

export interface ImageListRequest {
  limit: number;
  marker: string | null;
  sort: Array<{ key: SortKey; dir: SortDir }>;
  filters: ImageFilters;
}

type Query = Record<string, string | string[] | undefined>;

/** A query parameter's single value; repeated ones count as their last occurrence. */
const single = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[value.length - 1] : value);
const all = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

const sortKey = (key: string): SortKey => {
  if (!(SORT_KEYS as readonly string[]).includes(key)) throw invalid(`Invalid sort key: ${key}. It must be one of the following: ${SORT_KEYS.join(', ')}.`);
  return key as SortKey;
};
const sortDir = (dir: string): SortDir => {
  if (dir !== 'asc' && dir !== 'desc') throw invalid(`Invalid sort direction: ${dir}`);
  return dir;
};

/** `sort=name:asc,size:desc` or the classic repeated `sort_key` / `sort_dir`; then created_at and id break ties. */
function parseSort(query: Query): Array<{ key: SortKey; dir: SortDir }> {
  const keys: SortKey[] = [];
  const dirs: SortDir[] = [];
  const sort = single(query.sort);
  if (sort !== undefined) {
    if (query.sort_key !== undefined || query.sort_dir !== undefined) throw invalid('Old and new sorting syntax cannot be combined');
    for (const part of sort.trim().split(',')) {
      const [key = '', dir = ''] = part.split(':');
      keys.push(sortKey(key.trim()));
      dirs.push(sortDir(dir.trim() || 'desc'));
    }
  } else {
    for (const key of all(query.sort_key)) keys.push(sortKey(key.trim()));
    for (const dir of all(query.sort_dir)) dirs.push(sortDir(dir.trim()));
    if (dirs.length > 1 && dirs.length !== keys.length) throw invalid('Number of sort dirs does not match the number of sort keys');
  }
  if (keys.length === 0) keys.push('created_at');
  // One direction applies to every key, and to the tie-breakers (glance's _image_get_all).
  const fallback: SortDir = dirs.length === 1 ? (dirs[0] as SortDir) : 'desc';
  const sortList = keys.map((key, i) => ({ key, dir: dirs.length > 1 ? (dirs[i] as SortDir) : fallback }));
  for (const key of ['created_at', 'id'] as const) if (!keys.includes(key)) sortList.push({ key, dir: fallback });
  return sortList;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** glance's split_filter_op: `op:value`, except an ISO 8601 time, which is `eq`. */
function splitOperator(expression: string): { op: string; value: string } {
  const at = expression.indexOf(':');
  if (at < 0 || ISO_TIME.test(expression)) return { op: 'eq', value: expression };
  return { op: expression.slice(0, at), value: expression.slice(at + 1) };
}

/** glance's split_filter_value_for_quotes: commas separate, double quotes protect. */
function splitList(value: string): string[] {
  const out: string[] = [];
  for (const match of value.matchAll(/"((?:[^"\\]|\\.)*)"|([^,]+)/g)) out.push((match[1] ?? match[2] ?? '').trim());
  return out;
}

const COLUMNS_WITH_EQUALITY = ['owner', 'checksum', 'os_hash_value', 'os_hash_algo', 'min_ram', 'min_disk', 'size', 'virtual_size'];

/** Parses the query string of `GET /v2/images` (glance's RequestDeserializer.index and the db filters). */
export function parseImageList(query: Query): ImageListRequest {
  const { limit: rawLimit, marker, member_status: memberStatus, tag, sort: _sort, sort_key: _sortKey, sort_dir: _sortDir, ...rest } = query;
  let limit = DEFAULT_LIST_LIMIT;
  const asked = single(rawLimit);
  if (asked !== undefined) {
    if (!/^\s*[-+]?\d+\s*$/.test(asked)) throw invalid('limit param must be an integer');
    limit = Number(asked);
    if (limit < 0) throw invalid('limit param must be positive');
  }
  const status = single(memberStatus) ?? 'accepted';
  if (!['pending', 'accepted', 'rejected', 'all'].includes(status)) throw invalid(`Invalid status: ${status}`);

  const filters: ImageFilters = { visibility: null, attributes: [], equals: [], ranges: [], times: [], tags: all(tag).map((t) => t.trim()), properties: {}, osHidden: false };
  for (const [key, raw] of Object.entries(rest)) {
    const value = single(raw);
    if (value === undefined) continue;
    if (key === 'visibility') {
      if (!['community', 'public', 'private', 'shared', 'all'].includes(value)) throw invalid(`Invalid visibility value: ${value}`);
      filters.visibility = value as Visibility | 'all';
    } else if (key === 'changes-since') {
      throw invalid('The "changes-since" filter is no longer available on v2.');
    } else if (key === 'os_hidden' || key === 'protected') {
      const lowered = value.toLowerCase();
      if (lowered !== 'true' && lowered !== 'false') throw invalid(`Invalid value '${value}' for '${key}' filter. Valid values are 'true' or 'false'.`);
      if (key === 'os_hidden') filters.osHidden = lowered === 'true';
      else filters.equals.push({ column: 'protected', value: lowered === 'true' ? 1 : 0 });
    } else if (key === 'size_min' || key === 'size_max' || key === 'virtual_size_min' || key === 'virtual_size_max') {
      if (!/^\s*[-+]?\d+\s*$/.test(value)) throw invalid('Unable to filter on a range with a non-numeric value.');
      filters.ranges.push({ column: key.startsWith('virtual') ? 'virtual_size' : 'size', op: key.endsWith('_min') ? 'gte' : 'lte', value: Number(value) });
    } else if (key === 'created_at' || key === 'updated_at') {
      const { op, value: time } = splitOperator(value);
      if (!['eq', 'neq', 'gt', 'gte', 'lt', 'lte'].includes(op)) throw invalid(`Unable to filter by unknown operator '${op}'.`);
      if (!ISO_TIME.test(time) || Number.isNaN(Date.parse(time))) throw invalid(`Bad "${key}" query filter format. Use ISO 8601 DateTime notation.`);
      filters.times.push({ column: key, op: op as Exclude<FilterOperator, 'in'>, value: new Date(time).toISOString() });
    } else if (key === 'name' || key === 'id' || key === 'status' || key === 'container_format' || key === 'disk_format') {
      const { op, value: operand } = splitOperator(value);
      if (op === 'in') filters.attributes.push({ column: key, values: splitList(operand) });
      else if (op === 'eq') filters.attributes.push({ column: key, values: [operand] });
      else throw invalid(`Unable to filter by unknown operator '${op}'.`);
    } else if (COLUMNS_WITH_EQUALITY.includes(key)) {
      filters.equals.push({ column: key, value });
    } else {
      filters.properties[key] = value;
    }
  }
  return { limit: Math.min(limit, MAX_LIST_LIMIT), marker: single(marker) ?? null, sort: parseSort(query), filters };
}
