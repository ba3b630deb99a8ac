/**
 * The rated services: which resources each one covers, how its quantity is measured, and
 * which metadata and group keys its frames carry. Read from a YAML file in the spirit of
 * CloudKitty's metrics.yml (./services.yaml is the default; its header documents the
 * format). Stable format.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { Money, type Money as MoneyValue } from '../../storage/index.ts';
import { RatingError } from './errors.ts';

export const DEFAULT_SERVICES_FILE = new URL('./services.yaml', import.meta.url).pathname;

/** Where a metadata field or group key's value comes from. */
export type ValueSource =
  | { readonly kind: 'attribute'; readonly name: string }
  | { readonly kind: 'measure'; readonly metric: string }
  | { readonly kind: 'trait'; readonly name: string }
  | { readonly kind: 'payload'; readonly path: readonly string[] };

/** How a service's quantity is measured. */
export type QuantitySource =
  /** The time a resource of the type with this metric exists. */
  | { readonly kind: 'presence'; readonly metric: string }
  /** The time-weighted value of this gauge while the resource exists. */
  | { readonly kind: 'gauge'; readonly metric: string }
  /** The time from the first create event to the first delete event. */
  | { readonly kind: 'lifetime'; readonly create: readonly string[]; readonly delete: readonly string[] };

export interface ServiceDefinition {
  /** The rated service's name (the hashmap service that prices it). */
  readonly name: string;
  readonly resourceType: string;
  readonly quantity: QuantitySource;
  readonly unit: string;
  /** Multiplies value x hours. */
  readonly factor: MoneyValue;
  /** LIKE patterns of the event types whose latest event feeds trait: and payload: sources. */
  readonly events: readonly string[];
  /** field -> sources, first with a value wins. */
  readonly metadata: Readonly<Record<string, readonly ValueSource[]>>;
  /** Extra group keys (project_id, user_id and id are always set). */
  readonly groupby: Readonly<Record<string, readonly ValueSource[]>>;
}

export interface ServiceDefinitions {
  readonly services: readonly ServiceDefinition[];
  /** Operator tags: group keys `tag:<name>`. */
  readonly tags: readonly string[];
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,254}$/;
const SOURCE_KINDS = 'attribute:<name>, measure:<metric>, trait:<name> or payload:<key>/<key>...';

const fail = (where: string, message: string): never => {
  throw new RatingError('CUMULUS_RATING_SERVICES_INVALID', `${where}: ${message}`);
};
const describe = (value: unknown) => JSON.stringify(value) ?? String(value);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function name(where: string, value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) fail(where, `expected a name of letters, digits and _ . : - (up to 255), got ${describe(value)}`);
  return value as string;
}

function names(where: string, value: unknown, options: { allowEmpty: boolean }): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || (!options.allowEmpty && list.length === 0)) fail(where, `expected a non-empty list of names, got ${describe(value)}`);
  return (list as unknown[]).map((item, i) => {
    if (typeof item !== 'string' || item.trim() === '' || item.length > 255) fail(`${where}[${i}]`, `expected a name, got ${describe(item)}`);
    return item as string;
  });
}

function source(where: string, value: unknown): ValueSource {
  if (typeof value !== 'string') return fail(where, `expected ${SOURCE_KINDS}, got ${describe(value)}`);
  const colon = value.indexOf(':');
  const kind = value.slice(0, colon);
  const rest = value.slice(colon + 1);
  if (colon <= 0 || rest === '') return fail(where, `expected ${SOURCE_KINDS}, got ${describe(value)}`);
  switch (kind) {
    case 'attribute':
      return { kind, name: rest };
    case 'measure':
      return { kind, metric: rest };
    case 'trait':
      return { kind, name: rest };
    case 'payload': {
      const path = rest.split('/');
      if (path.some((key) => key === '')) return fail(where, `expected payload:<key>/<key>... with no empty key, got ${describe(value)}`);
      return { kind, path };
    }
    default:
      return fail(where, `expected ${SOURCE_KINDS}, got ${describe(value)}`);
  }
}

function sources(where: string, value: unknown): Record<string, ValueSource[]> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) return fail(where, `expected a mapping of field -> source(s), got ${describe(value)}`);
  const out: Record<string, ValueSource[]> = {};
  for (const [field, spec] of Object.entries(value)) {
    name(`${where}.${field}`, field);
    const list = Array.isArray(spec) ? spec : [spec];
    if (list.length === 0) fail(`${where}.${field}`, `expected at least one source (${SOURCE_KINDS})`);
    out[field] = list.map((item, i) => source(Array.isArray(spec) ? `${where}.${field}[${i}]` : `${where}.${field}`, item));
  }
  return out;
}

/** A positive number or fraction: `1`, `0.5`, `1/1073741824`, `3600/1000000`. */
function factor(where: string, value: unknown): MoneyValue {
  if (value === undefined) return new Money(1);
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  const match = /^(\d+(?:\.\d+)?)(?:\s*\/\s*(\d+(?:\.\d+)?))?$/.exec(text);
  const result = match ? new Money(match[1] as string).div(match[2] ?? '1') : null;
  if (!result || !result.isFinite() || result.lte(0)) return fail(where, `expected a positive number or fraction (1/1073741824), got ${describe(value)}`);
  return result;
}

const QUANTITY_KEYS = ['presence', 'gauge', 'lifetime'] as const;
const SERVICE_KEYS = new Set(['resource_type', ...QUANTITY_KEYS, 'unit', 'factor', 'events', 'metadata', 'groupby']);

function quantity(where: string, raw: Record<string, unknown>): QuantitySource {
  const given = QUANTITY_KEYS.filter((key) => raw[key] !== undefined);
  if (given.length !== 1) return fail(where, `expected exactly one of ${QUANTITY_KEYS.join(', ')}, got ${given.length === 0 ? 'none' : given.join(' and ')}`);
  const key = given[0] as (typeof QUANTITY_KEYS)[number];
  if (key === 'lifetime') {
    const lifetime = raw.lifetime;
    if (!isRecord(lifetime)) return fail(`${where}.lifetime`, `expected {create: [event types], delete: [event types]}, got ${describe(lifetime)}`);
    const extra = Object.keys(lifetime).filter((k) => k !== 'create' && k !== 'delete');
    if (extra.length > 0) fail(`${where}.lifetime`, `expected only create and delete, got also ${extra.join(', ')}`);
    return { kind: 'lifetime', create: names(`${where}.lifetime.create`, lifetime.create, { allowEmpty: false }), delete: names(`${where}.lifetime.delete`, lifetime.delete, { allowEmpty: true }) };
  }
  return { kind: key, metric: name(`${where}.${key}`, raw[key]) };
}

/** Reads service definitions from parsed YAML; `origin` (a file name) prefixes every error. */
export function parseServiceDefinitions(document: unknown, origin = 'services'): ServiceDefinitions {
  if (!isRecord(document)) return fail(origin, `expected a mapping with services (and tags), got ${describe(document)}`);
  const extra = Object.keys(document).filter((k) => k !== 'services' && k !== 'tags');
  if (extra.length > 0) fail(origin, `expected only services and tags, got also ${extra.join(', ')}`);
  if (!isRecord(document.services) || Object.keys(document.services).length === 0) fail(`${origin}: services`, `expected a mapping of service name -> definition, got ${describe(document.services)}`);
  const services: ServiceDefinition[] = [];
  for (const [serviceName, raw] of Object.entries(document.services as Record<string, unknown>)) {
    const where = `${origin}: services.${serviceName}`;
    name(where, serviceName);
    if (!isRecord(raw)) fail(where, `expected a mapping, got ${describe(raw)}`);
    const definition = raw as Record<string, unknown>;
    const unknown = Object.keys(definition).filter((k) => !SERVICE_KEYS.has(k));
    if (unknown.length > 0) fail(where, `unknown key(s) ${unknown.join(', ')}; expected ${[...SERVICE_KEYS].join(', ')}`);
    services.push({
      name: serviceName,
      resourceType: name(`${where}.resource_type`, definition.resource_type),
      quantity: quantity(where, definition),
      unit: name(`${where}.unit`, definition.unit),
      factor: factor(`${where}.factor`, definition.factor),
      events: definition.events === undefined ? [] : names(`${where}.events`, definition.events, { allowEmpty: true }),
      metadata: sources(`${where}.metadata`, definition.metadata),
      groupby: sources(`${where}.groupby`, definition.groupby),
    });
  }
  const tags = document.tags === undefined || document.tags === null ? [] : names(`${origin}: tags`, document.tags, { allowEmpty: true }).map((tag, i) => name(`${origin}: tags[${i}]`, tag));
  for (const service of services) {
    const readsEvents = [...Object.values(service.metadata), ...Object.values(service.groupby)].flat().some((s) => s.kind === 'trait' || s.kind === 'payload');
    if (readsEvents && service.events.length === 0) fail(`${origin}: services.${service.name}.events`, 'expected the event types (LIKE patterns) that its trait: and payload: sources read, got none');
  }
  return { services, tags };
}

/** Loads and checks a services file (YAML). */
export function loadServiceDefinitions(file: string = DEFAULT_SERVICES_FILE): ServiceDefinitions {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RatingError('CUMULUS_RATING_SERVICES_INVALID', `${file}: cannot read the rating services: ${(err as Error).message}`, err);
  }
  return parseServiceDefinitions(document, file);
}

/** Every metric a service's gauge and measure sources read. */
export function measuredMetrics(service: ServiceDefinition): string[] {
  const metrics = new Set<string>();
  if (service.quantity.kind === 'gauge') metrics.add(service.quantity.metric);
  for (const list of [...Object.values(service.metadata), ...Object.values(service.groupby)]) {
    for (const s of list) if (s.kind === 'measure') metrics.add(s.metric);
  }
  return [...metrics].sort();
}
