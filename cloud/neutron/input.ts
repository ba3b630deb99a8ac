import { httpBadRequest } from './errors.ts';

/**
 * Request-body parsing with the messages of Neutron's attribute validation
 * (neutron/api/v2/base.py prepare_request_body, neutron_lib/api/validators).
 */

export type Body = Record<string, unknown>;

export const isObject = (value: unknown): value is Body => typeof value === 'object' && value !== null && !Array.isArray(value);

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

const shown = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
const invalid = (key: string, value: unknown, reason: string) => httpBadRequest(`Invalid input for ${key}. Reason: '${shown(value)}' ${reason}.`);

/** `{"<resource>": {...}}`: the one object Neutron accepts for a create or update. */
export function resourceBody(body: unknown, resource: string): Body {
  if (!isObject(body) || !(resource in body)) throw httpBadRequest(`Unable to find '${resource}' in request body`);
  const inner = body[resource];
  if (!isObject(inner)) throw httpBadRequest(`Invalid input for ${resource}. Reason: '${shown(inner)}' is not a dictionary.`);
  return inner;
}

/** Refuses attributes the resource does not have, and read-only ones on update. */
export function checkAttributes(input: Body, allowed: ReadonlySet<string>, readOnly: ReadonlySet<string>, action: 'create' | 'update'): void {
  const unknown: string[] = [];
  for (const key of Object.keys(input)) {
    if (allowed.has(key)) continue;
    if (readOnly.has(key)) throw httpBadRequest(action === 'update' ? `Cannot update read-only attribute ${key}` : `Attribute '${key}' not allowed in POST`);
    unknown.push(key);
  }
  if (unknown.length > 0) throw httpBadRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
}

export function required<T>(value: T | undefined, key: string): T {
  if (value === undefined) throw httpBadRequest(`Failed to parse request. Required attribute '${key}' not specified`);
  return value;
}

export function optString(input: Body, key: string, maxLength = 255): string | undefined {
  const value = input[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(key, value, 'is not a valid string');
  if (value.length > maxLength) throw invalid(key, value, `exceeds maximum length of ${maxLength}`);
  return value;
}

/** Neutron's convert_to_boolean: booleans, 0/1 and their strings in any case. */
export function optBoolean(input: Body, key: string): boolean | undefined {
  const value = input[key];
  if (value === undefined) return undefined;
  if (typeof value === 'boolean') return value;
  const text = String(value).toLowerCase();
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  throw invalid(key, value, 'cannot be converted to boolean');
}

export function optInteger(input: Body, key: string, min?: number, max?: number): number | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number)) throw invalid(key, value, 'is not an integer');
  if (min !== undefined && number < min) throw invalid(key, value, `is too small - must be at least '${min}'`);
  if (max !== undefined && number > max) throw invalid(key, value, `is too large - must be no more than '${max}'`);
  return number;
}

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

export function optUuid(input: Body, key: string): string | undefined {
  const value = input[key];
  if (value === undefined) return undefined;
  if (!isUuid(value)) throw invalid(key, value, 'is not a valid UUID');
  return value;
}

/** A UUID or null (null clears, e.g. a floating IP's port_id). */
export function optNullableUuid(input: Body, key: string): string | null | undefined {
  return input[key] === null ? null : optUuid(input, key);
}

export function optStringList(input: Body, key: string): string[] | undefined {
  const value = input[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw invalid(key, value, 'is not a list of strings');
  if (new Set(value).size !== value.length) throw invalid(key, value, 'has duplicate items');
  return value as string[];
}

export function optObjectList(input: Body, key: string): Body[] | undefined {
  const value = input[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => !isObject(v))) throw invalid(key, value, 'is not a list of dictionaries');
  return value as Body[];
}

/** Neutron takes either key for the owner; both must agree. */
export function requestedProject(input: Body): string | undefined {
  const project = optString(input, 'project_id');
  const tenant = optString(input, 'tenant_id');
  if (project !== undefined && tenant !== undefined && project !== tenant) throw httpBadRequest("'project_id' and 'tenant_id' do not match");
  return project ?? tenant;
}
