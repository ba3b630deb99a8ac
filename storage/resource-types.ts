/**
 * Resource types, as Gnocchi models them: a name and typed attributes (string, number,
 * bool, uuid, datetime), each required or not. `generic` has no attributes; the types
 * Ceilometer creates in Gnocchi (ceilometer/gnocchi_client.py, after its update
 * operations) are built in; operators define more. Stable API: the pipeline writes under
 * these types and the API reports them.
 *
 * Two things Gnocchi keeps in table columns are kept here on the type instead:
 * - `generation` counts schema updates, and each attribute records the generation it was
 *   added in (`since`). Resource rows carry the generation they were written under, so a
 *   row written before an attribute was (re-)added never shows a stale value for it.
 * - `fill` is the value rows written before the attribute existed read as (Gnocchi writes
 *   it into every existing row; ClickHouse rows are immutable, so readers apply it).
 */
import { CumulusError } from '../core/index.ts';

// ---------------------------------------------------------------------------------------
// Errors: one catalogue, stable codes; messages start with Gnocchi's own wording (clients
// such as gnocchiclient match on it) and then say what was expected and what came.

export const RESOURCE_ERRORS = {
  TYPE_INVALID: { code: 'CUMULUS_PIPELINE_RESOURCE_TYPE_INVALID', httpStatus: 400 },
  TYPE_NOT_FOUND: { code: 'CUMULUS_PIPELINE_RESOURCE_TYPE_NOT_FOUND', httpStatus: 404 },
  TYPE_EXISTS: { code: 'CUMULUS_PIPELINE_RESOURCE_TYPE_EXISTS', httpStatus: 409 },
  /** Gnocchi answers 400 for a type still in use; kept so its clients behave the same. */
  TYPE_IN_USE: { code: 'CUMULUS_PIPELINE_RESOURCE_TYPE_IN_USE', httpStatus: 400 },
  TYPE_STATE: { code: 'CUMULUS_PIPELINE_RESOURCE_TYPE_STATE', httpStatus: 409 },
  TYPE_PATCH_INVALID: { code: 'CUMULUS_PIPELINE_RESOURCE_TYPE_PATCH_INVALID', httpStatus: 400 },
  ATTRIBUTE_UNKNOWN: { code: 'CUMULUS_PIPELINE_RESOURCE_ATTRIBUTE_UNKNOWN', httpStatus: 400 },
  ATTRIBUTE_INVALID: { code: 'CUMULUS_PIPELINE_RESOURCE_ATTRIBUTE_INVALID', httpStatus: 400 },
  ATTRIBUTE_REQUIRED: { code: 'CUMULUS_PIPELINE_RESOURCE_ATTRIBUTE_REQUIRED', httpStatus: 400 },
  QUERY_INVALID: { code: 'CUMULUS_PIPELINE_RESOURCE_QUERY_INVALID', httpStatus: 400 },
  QUERY_ATTRIBUTE: { code: 'CUMULUS_PIPELINE_RESOURCE_QUERY_ATTRIBUTE', httpStatus: 400 },
  QUERY_VALUE: { code: 'CUMULUS_PIPELINE_RESOURCE_QUERY_VALUE', httpStatus: 400 },
} as const;

export type ResourceErrorKind = keyof typeof RESOURCE_ERRORS;

export class ResourceError extends CumulusError {
  readonly kind: ResourceErrorKind;

  constructor(kind: ResourceErrorKind, message: string, cause?: unknown) {
    super(RESOURCE_ERRORS[kind].code, message, { httpStatus: RESOURCE_ERRORS[kind].httpStatus, cause });
    this.name = 'ResourceError';
    this.kind = kind;
  }
}

/** A value as an error message shows it: JSON, shortened, with its JS kind. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  const kind = Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return `${kind} (${text.length > 80 ? `${text.slice(0, 77)}...` : text})`;
}

// ---------------------------------------------------------------------------------------
// The model.

export const ATTRIBUTE_TYPES = ['string', 'number', 'bool', 'uuid', 'datetime'] as const;
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];
export type AttributeValue = string | number | boolean | null;

interface AttributeCommon {
  readonly required: boolean;
  /** The type's generation this attribute was added in (0: since the type was created). */
  readonly since: number;
  /** What rows written before `since` read as (Gnocchi's `options.fill`); absent: null. */
  readonly fill?: AttributeValue;
}
export interface StringAttribute extends AttributeCommon {
  readonly type: 'string';
  readonly min_length: number;
  readonly max_length: number;
}
export interface NumberAttribute extends AttributeCommon {
  readonly type: 'number';
  readonly min: number | null;
  readonly max: number | null;
}
export interface PlainAttribute extends AttributeCommon {
  readonly type: 'bool' | 'uuid' | 'datetime';
}
export type ResourceAttribute = StringAttribute | NumberAttribute | PlainAttribute;

/** `deleting` while a delete checks for resources: the index creates none of the type then. */
export type ResourceTypeState = 'active' | 'deleting';

export interface ResourceType {
  readonly name: string;
  readonly state: ResourceTypeState;
  /** Schema updates so far; 0 for a type as created. */
  readonly generation: number;
  readonly attributes: Readonly<Record<string, ResourceAttribute>>;
}

/** Names an attribute may not take: they are the resource's own fields (gnocchi/resource_type.py). */
export const RESERVED_ATTRIBUTE_NAMES: readonly string[] = [
  'id', 'type', 'metrics', 'revision', 'revision_start', 'revision_end', 'started_at', 'ended_at',
  'user_id', 'project_id', 'created_by_user_id', 'created_by_project_id', 'get_metric', 'creator',
];
const ATTRIBUTE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_]*$/;
const MAX_ATTRIBUTE_NAME_LENGTH = 63;
/** Type names appear in URL paths (/v1/resource/<type>), so they keep to URL-safe characters. */
const TYPE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const MAX_TYPE_NAME_LENGTH = 255;
/** Gnocchi's bounds on string attribute lengths (the column is a VARCHAR(255)). */
const MAX_STRING_LENGTH = 255;

// ---------------------------------------------------------------------------------------
// Built-in types: Gnocchi's `generic` and what Ceilometer 19's gnocchi_client creates
// (its initial types plus every update operation, applied).

const str = (required: boolean, maxLength = MAX_STRING_LENGTH): StringAttribute => ({ type: 'string', required, min_length: 0, max_length: maxLength, since: 0 });
const plain = (type: PlainAttribute['type'], required: boolean): PlainAttribute => ({ type, required, since: 0 });
const num = (required: boolean, min: number | null, max: number | null): NumberAttribute => ({ type: 'number', required, min, max, since: 0 });
const builtin = (name: string, attributes: Record<string, ResourceAttribute> = {}): ResourceType => ({ name, state: 'active', generation: 0, attributes });

export const GENERIC_RESOURCE_TYPE = 'generic';

export const BUILTIN_RESOURCE_TYPES: readonly ResourceType[] = [
  builtin(GENERIC_RESOURCE_TYPE),
  builtin('ceph_account'),
  builtin('host', { host_name: str(true) }),
  builtin('host_disk', { host_name: str(true), device_name: str(false) }),
  builtin('host_network_interface', { host_name: str(true), device_name: str(false) }),
  builtin('identity'),
  builtin('image', { name: str(true), container_format: str(true), disk_format: str(true) }),
  builtin('instance', {
    flavor_id: str(true),
    image_ref: str(false),
    host: str(true),
    display_name: str(true),
    server_group: str(false),
    flavor_name: str(true),
    launched_at: plain('datetime', false),
    created_at: plain('datetime', false),
    deleted_at: plain('datetime', false),
    availability_zone: str(false),
  }),
  builtin('instance_disk', { name: str(true), instance_id: plain('uuid', true) }),
  builtin('instance_network_interface', { name: str(true), instance_id: plain('uuid', true) }),
  builtin('ipmi'),
  builtin('ipmi_sensor', { node: str(true) }),
  builtin('manila_share', { name: str(false), host: str(true), protocol: str(false), availability_zone: str(false), status: str(true) }),
  builtin('network'),
  builtin('nova_compute', { host_name: str(true) }),
  builtin('port', { controller: str(true) }),
  // Cumulus's Placement pollster (not Ceilometer): a compute node's resource provider. `aggregates` is its
  // Placement aggregate UUIDs, comma-separated and sorted (Gnocchi attributes are scalars).
  builtin('resource_provider', { name: str(true), availability_zone: str(false), aggregates: str(false) }),
  builtin('stack'),
  builtin('swift_account'),
  builtin('switch', { controller: str(true) }),
  builtin('switch_port', { switch: str(true, 64), port_number_on_switch: num(false, 0, 4294967295), neutron_port_id: str(false), controller: str(true) }),
  builtin('switch_table', { switch: str(true, 64), controller: str(true) }),
  builtin('volume', { display_name: str(false), volume_type: str(false), image_id: plain('uuid', false), instance_id: plain('uuid', false) }),
  builtin('volume_provider'),
  builtin('volume_provider_pool', { provider: str(true) }),
];

const BUILTIN_BY_NAME = new Map(BUILTIN_RESOURCE_TYPES.map((t) => [t.name, t]));

/** A built-in type by name, or undefined: the default type lookup when no store is wired. */
export function builtinResourceType(name: string): ResourceType | undefined {
  return BUILTIN_BY_NAME.get(name);
}

// ---------------------------------------------------------------------------------------
// Definitions as the API receives them (Gnocchi's POST /v1/resource_type body and the
// attribute objects of its PATCH), checked the way Gnocchi's voluptuous schemas check them.

export interface ResourceTypeDefinition {
  name: string;
  attributes: Record<string, ResourceAttribute>;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

export function checkResourceTypeName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_TYPE_NAME_LENGTH || !TYPE_NAME.test(name)) {
    throw new ResourceError('TYPE_INVALID', `Invalid input: resource type name: expected 1 to ${MAX_TYPE_NAME_LENGTH} characters of A-Z, a-z, 0-9, _, . or - (not starting with . or -), got ${describeValue(name)}`);
  }
  return name;
}

function checkAttributeName(name: string): void {
  if (name.length > MAX_ATTRIBUTE_NAME_LENGTH || RESERVED_ATTRIBUTE_NAMES.includes(name) || !ATTRIBUTE_NAME.test(name)) {
    throw new ResourceError(
      'TYPE_INVALID',
      `Resource attribute name ${name} is invalid: expected at most ${MAX_ATTRIBUTE_NAME_LENGTH} characters of a-z, A-Z, 0-9 and _ (not starting with _), and none of ${RESERVED_ATTRIBUTE_NAMES.join(', ')}`,
    );
  }
}

const wholeNumberIn = (value: unknown, min: number, max: number): value is number => typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
const finiteOrNull = (value: unknown): value is number | null => value === null || (typeof value === 'number' && Number.isFinite(value));

/**
 * One attribute definition. `forUpdate` admits `options: {fill}` (Gnocchi accepts options
 * only in a PATCH), and then a required attribute needs a fill, unless `existing` (a PATCH
 * that re-adds an attribute the type has: Gnocchi checks its shape and ignores it).
 * `since` is the generation the attribute starts at.
 */
export function parseAttributeDefinition(name: string, raw: unknown, options: { forUpdate: boolean; since: number; existing?: boolean }): ResourceAttribute {
  checkAttributeName(name);
  const invalid = (what: string) => new ResourceError('TYPE_INVALID', `Invalid input: attribute ${name}: ${what}`);
  if (!isPlainObject(raw)) throw invalid(`expected an object with a type, got ${describeValue(raw)}`);
  const type = raw.type;
  if (typeof type !== 'string' || !(ATTRIBUTE_TYPES as readonly string[]).includes(type)) throw invalid(`type: expected one of ${ATTRIBUTE_TYPES.join(', ')}, got ${describeValue(type)}`);
  const allowed = new Set(['type', 'required', ...(options.forUpdate ? ['options'] : [])]);
  if (type === 'string') ['min_length', 'max_length'].forEach((k) => allowed.add(k));
  if (type === 'number') ['min', 'max'].forEach((k) => allowed.add(k));
  const extra = Object.keys(raw).filter((k) => !allowed.has(k));
  if (extra.length > 0) throw invalid(`unexpected key(s) ${extra.join(', ')} for a ${type} attribute; expected only ${[...allowed].join(', ')}`);
  const required = raw.required ?? true;
  if (typeof required !== 'boolean') throw invalid(`required: expected true or false, got ${describeValue(required)}`);

  let attribute: ResourceAttribute;
  if (type === 'string') {
    const minLength = raw.min_length ?? 0;
    const maxLength = raw.max_length ?? MAX_STRING_LENGTH;
    if (!wholeNumberIn(minLength, 0, MAX_STRING_LENGTH)) throw invalid(`min_length: expected a whole number from 0 to ${MAX_STRING_LENGTH}, got ${describeValue(minLength)}`);
    if (!wholeNumberIn(maxLength, 1, MAX_STRING_LENGTH)) throw invalid(`max_length: expected a whole number from 1 to ${MAX_STRING_LENGTH}, got ${describeValue(maxLength)}`);
    if (minLength > maxLength) throw new ResourceError('TYPE_INVALID', `Resource attribute value min (or min_length) ${minLength} must be less than or equal to max (or max_length) ${maxLength} (attribute ${name})`);
    attribute = { type, required, min_length: minLength, max_length: maxLength, since: options.since };
  } else if (type === 'number') {
    const min = raw.min ?? null;
    const max = raw.max ?? null;
    if (!finiteOrNull(min)) throw invalid(`min: expected a number or null, got ${describeValue(min)}`);
    if (!finiteOrNull(max)) throw invalid(`max: expected a number or null, got ${describeValue(max)}`);
    if (min !== null && max !== null && min > max) throw new ResourceError('TYPE_INVALID', `Resource attribute value min (or min_length) ${min} must be less than or equal to max (or max_length) ${max} (attribute ${name})`);
    attribute = { type, required, min, max, since: options.since };
  } else {
    attribute = { type: type as PlainAttribute['type'], required, since: options.since };
  }

  if (options.forUpdate) {
    // Gnocchi's update schema defaults options to {}: a new required attribute without a fill is refused.
    const given = raw.options ?? {};
    if (!isPlainObject(given)) throw invalid(`options: expected an object, got ${describeValue(given)}`);
    const extraOptions = Object.keys(given).filter((k) => k !== 'fill');
    if (extraOptions.length > 0) throw invalid(`options: unexpected key(s) ${extraOptions.join(', ')}; expected only fill`);
    const fill = given.fill ?? null;
    if (fill === null) {
      if (required && !options.existing) throw new ResourceError('TYPE_INVALID', `Option 'fill' of resource attribute ${name} is invalid: must not be empty if required=True`);
    } else {
      const checked = checkValue(attribute, fill);
      if (!checked.ok) throw new ResourceError('TYPE_INVALID', `Option 'fill' of resource attribute ${name} is invalid: expected ${checked.expected}, got ${describeValue(fill)}`);
      attribute = { ...attribute, fill: checked.value };
    }
  }
  return attribute;
}

/** Gnocchi's POST /v1/resource_type body: `{name, attributes: {name: definition}}`. */
export function parseResourceTypeDefinition(body: unknown): ResourceTypeDefinition {
  if (!isPlainObject(body)) throw new ResourceError('TYPE_INVALID', `Invalid input: expected an object with name and attributes, got ${describeValue(body)}`);
  const extra = Object.keys(body).filter((k) => k !== 'name' && k !== 'attributes');
  if (extra.length > 0) throw new ResourceError('TYPE_INVALID', `Invalid input: unexpected key(s) ${extra.join(', ')}; expected only name and attributes`);
  const name = checkResourceTypeName(body.name);
  const rawAttributes = body.attributes ?? {};
  if (!isPlainObject(rawAttributes)) throw new ResourceError('TYPE_INVALID', `Invalid input: attributes: expected an object of attribute definitions, got ${describeValue(rawAttributes)}`);
  const attributes: Record<string, ResourceAttribute> = {};
  for (const [attributeName, raw] of Object.entries(rawAttributes)) attributes[attributeName] = parseAttributeDefinition(attributeName, raw, { forUpdate: false, since: 0 });
  return { name, attributes };
}

/** An attribute as Gnocchi shows it (`since` and `fill` are Cumulus bookkeeping, not shown). */
export function attributeView(attribute: ResourceAttribute): Record<string, unknown> {
  if (attribute.type === 'string') return { type: 'string', required: attribute.required, min_length: attribute.min_length, max_length: attribute.max_length };
  if (attribute.type === 'number') return { type: 'number', required: attribute.required, min: attribute.min, max: attribute.max };
  return { type: attribute.type, required: attribute.required };
}

/** A type as Gnocchi's GET /v1/resource_type/<name> shows it. */
export function resourceTypeView(type: ResourceType): { name: string; state: string; attributes: Record<string, Record<string, unknown>> } {
  return { name: type.name, state: type.state, attributes: Object.fromEntries(Object.entries(type.attributes).map(([name, a]) => [name, attributeView(a)])) };
}

// ---------------------------------------------------------------------------------------
// Values.

type Checked = { ok: true; value: AttributeValue } | { ok: false; expected: string };

/** What an attribute takes, in words, for error messages. */
export function expectedValue(attribute: ResourceAttribute): string {
  switch (attribute.type) {
    case 'string':
      return `a string of ${attribute.min_length} to ${attribute.max_length} characters`;
    case 'number':
      return attribute.min === null && attribute.max === null ? 'a number' : `a number${attribute.min === null ? '' : ` >= ${attribute.min}`}${attribute.max === null ? '' : `${attribute.min === null ? '' : ' and'} <= ${attribute.max}`}`;
    case 'bool':
      return 'true or false';
    case 'uuid':
      return 'a UUID';
    case 'datetime':
      return 'an ISO 8601 timestamp or seconds since the epoch, not before 1970';
  }
}

function refused(attribute: ResourceAttribute): Checked {
  return { ok: false, expected: expectedValue(attribute) };
}

/** Python's len(): code points, not UTF-16 units (counted only when they could differ). */
function codePoints(text: string): number {
  let surrogates = 0;
  for (let i = 0; i < text.length; i += 1) if ((text.charCodeAt(i) & 0xfc00) === 0xd800) surrogates += 1;
  return text.length - surrogates;
}

/** Strict, as Gnocchi's schemas: a string must be a string, a number a number. */
function checkValue(attribute: ResourceAttribute, value: unknown): Checked {
  const no = refused;
  switch (attribute.type) {
    case 'string': {
      if (typeof value !== 'string') return no(attribute);
      const length = value.length <= attribute.max_length && attribute.min_length === 0 ? 0 : codePoints(value);
      return length >= attribute.min_length && length <= attribute.max_length ? { ok: true, value } : no(attribute);
    }
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return no(attribute);
      if ((attribute.min !== null && value < attribute.min) || (attribute.max !== null && value > attribute.max)) return no(attribute);
      return { ok: true, value };
    case 'bool':
      return typeof value === 'boolean' ? { ok: true, value } : no(attribute);
    case 'uuid': {
      const uuid = normalizeUuid(value);
      return uuid === null ? no(attribute) : { ok: true, value: uuid };
    }
    case 'datetime': {
      const micros = parseTimestampMicros(value);
      // Gnocchi refuses times before the epoch ("Timestamp must be after Epoch").
      return micros === null || micros < 0 ? no(attribute) : { ok: true, value: isoFromMicros(micros) };
    }
  }
}

/**
 * Checks attribute values against a type, as Gnocchi's API does for a resource body:
 * unknown attributes and invalid values are refused; required ones must be present
 * unless `partial` (a PATCH). Returns the values normalised (UUIDs lower-case with
 * dashes, datetimes ISO 8601 in UTC).
 */
export function validateAttributes(type: ResourceType, values: Readonly<Record<string, unknown>>, options: { partial?: boolean } = {}): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(values)) {
    const attribute = type.attributes[name];
    if (!attribute) {
      const known = Object.keys(type.attributes);
      throw new ResourceError('ATTRIBUTE_UNKNOWN', `Resource type ${type.name} has no ${name} attribute; expected ${known.length ? `one of ${known.join(', ')}` : 'none (it has no attributes)'}`);
    }
    out[name] = validateAttributeValue(type.name, name, attribute, value);
  }
  if (!options.partial) {
    for (const [name, attribute] of Object.entries(type.attributes)) {
      if (attribute.required && (out[name] === undefined || out[name] === null)) {
        throw new ResourceError('ATTRIBUTE_REQUIRED', `Attribute ${name} of resource type ${type.name} is required: expected ${expectedValue(attribute)}, got ${describeValue(values[name])}`);
      }
    }
  }
  return out;
}

/** One value, strictly; null only where the attribute is optional. */
export function validateAttributeValue(typeName: string, name: string, attribute: ResourceAttribute, value: unknown): AttributeValue {
  if (value === null && !attribute.required) return null;
  const checked = checkValue(attribute, value);
  if (!checked.ok) throw new ResourceError('ATTRIBUTE_INVALID', `Value ${describeValue(value)} for attribute ${name} on resource type ${typeName} is invalid: expected ${checked.expected}`);
  return checked.value;
}

/**
 * Lenient, for what the collectors observed: a value is converted where the meaning is
 * unambiguous (a number or bool into a string attribute, a numeric string into a number,
 * "true"/"false" into a bool) and refused otherwise, so one odd metadata value costs that
 * attribute, not the resource.
 */
export function coerceAttributeValue(attribute: ResourceAttribute, value: unknown): Checked {
  if (attribute.type === 'string' && (typeof value === 'number' || typeof value === 'boolean')) return checkValue(attribute, String(value));
  if (attribute.type === 'number' && typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return checkValue(attribute, Number(value));
  if (attribute.type === 'bool' && typeof value === 'string' && /^(true|false)$/i.test(value)) return { ok: true, value: value.toLowerCase() === 'true' };
  return checkValue(attribute, value);
}

/**
 * A stored resource row's attributes as its type defines them now: every attribute of the
 * type, null when unset; an attribute added after the row was written (row generation
 * below its `since`) reads as its fill; attributes the type no longer has are left out.
 */
export function effectiveAttributes(type: ResourceType, stored: Readonly<Record<string, unknown>>, rowGeneration: number): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [name, attribute] of Object.entries(type.attributes)) {
    if (rowGeneration < attribute.since) out[name] = attribute.fill ?? null;
    else out[name] = Object.hasOwn(stored, name) ? ((stored[name] ?? null) as AttributeValue) : null;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// UUIDs and timestamps, normalised the way Gnocchi stores them.

/** Python's uuid.UUID(text): optional urn:/uuid: prefix, braces and dashes, 32 hex digits. */
export function normalizeUuid(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const hex = value.replace(/^urn:/, '').replace(/^uuid:/, '').replace(/^\{+|\}+$/g, '').replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return null;
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|([+-])(\d{2})(?::?(\d{2}))?)?$/;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Microseconds since the epoch from an ISO 8601 text (no zone: UTC, like Gnocchi), a
 * ClickHouse DateTime64 text, or seconds since the epoch (number or numeric text).
 * Microseconds, not milliseconds: Gnocchi and ClickHouse keep them, and revisions order by them.
 * Runs per sample, so it parses by hand rather than through Date.parse.
 */
export function parseTimestampMicros(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.round(value * 1e6) : null;
  if (typeof value !== 'string') return null;
  const m = ISO.exec(value.trim());
  if (!m) {
    const text = value.trim();
    return /^[+-]?\d+(\.\d+)?$/.test(text) ? Math.round(Number(text) * 1e6) : null;
  }
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (month < 1 || month > 12 || day < 1 || day > (month === 2 && !leap ? 28 : (DAYS_IN_MONTH[month - 1] as number)) || hour > 23 || minute > 59 || second > 59) return null;
  const offsetMinutes = m[9] === undefined ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + (m[11] === undefined ? 0 : Number(m[11])));
  const fraction = m[7] === undefined ? 0 : Number(m[7].length >= 6 ? m[7].slice(0, 6) : m[7].padEnd(6, '0'));
  return (Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000) * 1000 + fraction;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function partsOf(micros: number): { date: string; time: string; fraction: number } {
  const ms = Math.floor(micros / 1000);
  const d = new Date(ms);
  const fraction = micros - ms * 1000 + d.getUTCMilliseconds() * 1000;
  return {
    date: `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`,
    time: `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`,
    fraction,
  };
}

/** Python's isoformat() of a UTC datetime: fraction only when non-zero, `+00:00` zone. */
export function isoFromMicros(micros: number): string {
  const { date, time, fraction } = partsOf(micros);
  return `${date}T${time}${fraction === 0 ? '' : `.${pad(fraction, 6)}`}+00:00`;
}

/** ClickHouse DateTime64(6) text, read as UTC (the drivers pin session_timezone = UTC). */
export function clickHouseTime(micros: number): string {
  const { date, time, fraction } = partsOf(micros);
  return `${date} ${time}.${pad(fraction, 6)}`;
}
