import { badRequest } from '../errors.ts';

/** Cinder's checks of request values, worded as its schema validation and utils word them. */

export const UUID_LIKE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const MAX_NAME = 255;
/** Descriptions are TEXT columns in Cinder. */
export const MAX_DESCRIPTION = 65_535;

/** Parses oslo's boolean strings strictly (strutils.bool_from_string(strict=True)); undefined when not one. */
export function parseBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : undefined;
  if (typeof value !== 'string') return undefined;
  const v = value.trim().toLowerCase();
  if (['1', 't', 'true', 'on', 'y', 'yes'].includes(v)) return true;
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(v)) return false;
  return undefined;
}

/** A name or description: null when absent, trimmed (clean_name_and_description), refused when not a string or too long. */
export function optionalText(field: string, value: unknown, max = MAX_NAME): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw badRequest(`Invalid input for field/attribute ${field}. Value: ${String(value)}. ${JSON.stringify(value)} is not of type 'string', 'null'`);
  const trimmed = value.trim();
  if (trimmed.length > max) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${value}. '${value}' is too long`);
  return trimmed;
}

/** cinder.utils.check_metadata_properties: a map of strings, keys 1..255 characters, values up to 255. */
export function checkMetadata(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest('Invalid input received: Metadata must be an object of string keys and values.');
  const result: Record<string, string> = {};
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    if (!key) throw badRequest('Invalid metadata: Metadata property key blank.');
    if (key.length > MAX_NAME) throw badRequest('Invalid metadata size: Metadata property key greater than 255 characters.');
    if (typeof raw !== 'string') throw badRequest(`Invalid input received: Metadata value for key ${key} must be a string; got ${JSON.stringify(raw)}.`);
    if (raw.length > MAX_NAME) throw badRequest('Invalid metadata size: Metadata property value greater than 255 characters.');
    result[key] = raw;
  }
  return result;
}
