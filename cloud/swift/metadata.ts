import type { IncomingHttpHeaders } from 'node:http';
import { MAX_META_COUNT, MAX_META_NAME_LENGTH, MAX_META_OVERALL_SIZE, MAX_META_VALUE_LENGTH } from './config.ts';
import { badRequest } from './errors.ts';

/** User metadata of an account, container or object: title-cased names (after the `X-<Level>-Meta-` prefix) to values. */
export type Metadata = Record<string, string>;
export type MetadataLevel = 'account' | 'container' | 'object';

/** What a request asks to do with a level's metadata. */
export interface MetadataChange {
  /** Names to set, title-cased as swift stores them. */
  set: Metadata;
  /** Names to drop: `X-Remove-<Level>-Meta-<name>`, or a set with an empty value. */
  remove: string[];
}

/**
 * Python's str.title(), which swob applies to every header name: a letter is upper-cased
 * after a non-letter and lower-cased after a letter (`x-object-meta-my_key` -> `My_Key`).
 */
export function pythonTitle(name: string): string {
  let out = '';
  let previousCased = false;
  for (const ch of name) {
    const cased = ch.toLowerCase() !== ch.toUpperCase();
    out += cased ? (previousCased ? ch.toLowerCase() : ch.toUpperCase()) : ch;
    previousCased = cased;
  }
  return out;
}

const headerValue = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(', ') : (value ?? ''));

/** Reads `X-<Level>-Meta-*` and `X-Remove-<Level>-Meta-*` request headers. */
export function metadataChange(headers: IncomingHttpHeaders, level: MetadataLevel): MetadataChange {
  const setPrefix = `x-${level}-meta-`;
  const removePrefix = `x-remove-${level}-meta-`;
  const change: MetadataChange = { set: {}, remove: [] };
  for (const [name, raw] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower.startsWith(setPrefix) && lower.length > setPrefix.length) {
      const key = pythonTitle(lower.slice(setPrefix.length));
      const value = headerValue(raw).trim();
      if (value === '') change.remove.push(key);
      else change.set[key] = value;
    } else if (lower.startsWith(removePrefix) && lower.length > removePrefix.length) {
      change.remove.push(pythonTitle(lower.slice(removePrefix.length)));
    }
  }
  return change;
}

/** Applies a change on top of what is stored (containers and accounts merge; objects replace). */
export function applyChange(current: Metadata, change: MetadataChange): Metadata {
  const next: Metadata = { ...current, ...change.set };
  for (const key of change.remove) if (!(key in change.set)) delete next[key];
  return next;
}

/** swift's constraints.check_metadata: the limits every level's metadata must keep. */
export function checkMetadata(metadata: Metadata, level: MetadataLevel): void {
  const names = Object.keys(metadata);
  let size = 0;
  for (const name of names) {
    const value = metadata[name] ?? '';
    if (name.length > MAX_META_NAME_LENGTH) throw badRequest(`Metadata name too long: X-${pythonTitle(level)}-Meta-${name}`);
    if (value.length > MAX_META_VALUE_LENGTH) throw badRequest(`Metadata value longer than ${MAX_META_VALUE_LENGTH}: X-${pythonTitle(level)}-Meta-${name}`);
    size += name.length + value.length;
  }
  if (names.length > MAX_META_COUNT) throw badRequest(`Too many metadata items; max ${MAX_META_COUNT}`);
  if (size > MAX_META_OVERALL_SIZE) throw badRequest(`Total metadata too large; max ${MAX_META_OVERALL_SIZE}`);
}

/** The response headers that carry a level's metadata back. */
export function metadataHeaders(metadata: Metadata, level: MetadataLevel): Record<string, string> {
  const prefix = `X-${pythonTitle(level)}-Meta-`;
  return Object.fromEntries(Object.entries(metadata).map(([name, value]) => [`${prefix}${name}`, value]));
}

export function parseMetadata(json: string): Metadata {
  const value: unknown = JSON.parse(json);
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Metadata) : {};
}
