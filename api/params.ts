import type { FastifyRequest } from 'fastify';
import { parseTimespan } from '../storage/index.ts';
import { ApiError, DescribedApiError, invalidParameter } from './errors.ts';

const UNIT_SECONDS: Record<string, number> = { s: 1, sec: 1, second: 1, seconds: 1, min: 60, minute: 60, minutes: 60, h: 3600, hour: 3600, hours: 3600, d: 86_400, day: 86_400, days: 86_400 };

/** A granularity as Gnocchi takes it: seconds (`300`, `300.0`) or a timespan (`5min`, `1 hour`). */
export function parseGranularity(value: unknown): number | undefined {
  if (value === undefined || value === '') return undefined;
  const text = String(value).trim();
  if (/^\d+(\.\d+)?$/.test(text)) {
    const seconds = Number(text);
    if (seconds > 0 && Number.isInteger(seconds)) return seconds;
  }
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(text);
  const unit = match ? UNIT_SECONDS[(match[2] as string).toLowerCase()] : undefined;
  if (match && unit) {
    const seconds = Number(match[1]) * unit;
    if (Number.isInteger(seconds) && seconds > 0) return seconds;
  }
  const clock = /^(\d+):(\d{2}):(\d{2})$/.exec(text);
  if (clock) return Number(clock[1]) * 3600 + Number(clock[2]) * 60 + Number(clock[3]);
  throw invalidParameter('granularity', 'a whole number of seconds (e.g. 300) or a timespan (e.g. 5min)', value);
}

/** A timestamp as Gnocchi takes it: ISO 8601 (naive = UTC) or seconds since the epoch. */
export function parseTimestamp(name: string, value: unknown): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const text = String(value).trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) return new Date(Number(text) * 1000);
  const naive = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(text);
  const date = new Date(naive ? `${text.replace(' ', 'T')}${text.length > 10 ? 'Z' : 'T00:00:00Z'}` : text);
  if (Number.isNaN(date.getTime())) throw invalidParameter(name, 'an ISO 8601 timestamp (e.g. 2026-01-31T12:00:00Z) or seconds since the epoch', value);
  return date;
}

/**
 * `additionalProperties` for a body the peer refuses unknown fields in. Not `false`:
 * fastify's validator (removeAdditional) silently drops the fields `false` forbids, whereas
 * this schema refuses them, and the 400 names the field (api/http.ts).
 */
export const NO_OTHER_FIELDS = { not: {} } as const;

/** Gnocchi's 400 for a query parameter it cannot read: `{cause: "Argument value error", detail, reason}`. */
export const argumentError = (name: string, reason: string, got?: unknown) =>
  new DescribedApiError('CUMULUS_API_INVALID_PARAMETER', 400, `Invalid value for ${name}: ${reason}${got === undefined ? '' : `, got ${JSON.stringify(got)}`}`, { cause: 'Argument value error', detail: name, reason });

/** numpy.datetime64's ISO forms, as Gnocchi reads them: date, optional time, optional zone (naive = UTC). */
const ISO = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

/** An ISO 8601 time as numpy.datetime64 takes it (year alone excepted: Python's float() reads that first), else null. */
export function isoTime(text: string): Date | null {
  const m = ISO.exec(text.trim());
  if (!m) return null;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', sec = '00', frac = '', zone] = m;
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  let time = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), ms);
  const check = new Date(time);
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return null;
  if (zone && zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone) as RegExpExecArray;
    time -= (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3] ?? 0)) * 60_000;
  }
  return new Date(time);
}

/** How a list of timestamps is read; Gnocchi decides by the first one (utils.to_timestamps). */
export type TimestampKind = 'epoch' | 'iso' | 'relative';

/** A relative time (`-5 minutes`, `1 hour`) from now, as Gnocchi's to_timespan(allow_le_zero) reads it. */
function relativeTime(text: string, now: Date): Date | null {
  const trimmed = text.trim();
  const negative = trimmed.startsWith('-');
  try {
    const seconds = parseTimespan(negative ? trimmed.slice(1) : trimmed.replace(/^\+/, ''));
    return new Date(now.getTime() + (negative ? -1 : 1) * seconds * 1000);
  } catch {
    return null;
  }
}

/** The kind the first timestamp of a list has, or null when it is none of them. */
export function timestampKind(value: unknown): TimestampKind | null {
  if (typeof value === 'number') return Number.isFinite(value) ? 'epoch' : null;
  if (typeof value !== 'string') return null;
  if (NUMBER.test(value.trim())) return 'epoch';
  if (value.trim().toLowerCase() === 'now' || isoTime(value)) return 'iso';
  return relativeTime(value, new Date(0)) ? 'relative' : null;
}

/** One timestamp read as `kind`; null when it is not one. */
export function readTimestamp(value: unknown, kind: TimestampKind, now: Date): Date | null {
  if (kind === 'epoch') {
    const n = typeof value === 'number' ? value : typeof value === 'string' && NUMBER.test(value.trim()) ? Number(value) : Number.NaN;
    return Number.isFinite(n) ? new Date(Math.round(n * 1000)) : null;
  }
  if (typeof value !== 'string') return null;
  if (kind === 'iso') return value.trim().toLowerCase() === 'now' ? new Date(now.getTime()) : isoTime(value);
  return relativeTime(value, now);
}

/**
 * A query timestamp (start, stop) as Gnocchi's validate_qs reads it: seconds since the
 * epoch, ISO 8601 (naive = UTC), or a time relative to now (`-1 hour`); Gnocchi's 400 otherwise.
 */
export function parseQueryTime(name: string, value: unknown, now: Date): Date | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const kind = timestampKind(value);
  const date = kind === null ? null : readTimestamp(value, kind, now);
  if (!date || Number.isNaN(date.getTime())) throw argumentError(name, 'Must be a datetime or a timestamp', value);
  return date;
}

/** A timespan query parameter (granularity, resample) in seconds, with Gnocchi's 400 reasons. */
export function parseQueryTimespan(name: string, value: unknown): number {
  const text = String(value).trim();
  try {
    return parseTimespan(text);
  } catch (err) {
    throw argumentError(name, /positive/.test((err as Error).message) ? 'Timespan must be positive' : 'Unable to parse timespan', value);
  }
}

const TRUE = new Set(['y', 'yes', 't', 'true', 'on', '1']);
const FALSE = new Set(['n', 'no', 'f', 'false', 'off', '0']);

/** A boolean query parameter as Gnocchi's strtobool reads it (y/yes/t/true/on/1, n/no/f/false/off/0, any case). */
export function parseBool(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'boolean') return value;
  const text = String(value).toLowerCase();
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  throw new ApiError('CUMULUS_API_INVALID_PARAMETER', 400, `Unable to parse \`${name}': invalid truth value '${text}'; expected one of true, false, yes, no, on, off, 1, 0`);
}

/**
 * A route's preValidation hook: a body must be JSON (Gnocchi's 415 otherwise). The server
 * would otherwise read text/plain as a string and answer a less helpful 400.
 */
export async function requireJsonBody(request: FastifyRequest): Promise<void> {
  const type = String(request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (request.body !== undefined && type !== 'application/json') throw new ApiError('CUMULUS_API_UNSUPPORTED_MEDIA_TYPE', 415, `Unsupported Media Type: expected a body of type application/json, got ${type === '' ? 'none' : type}`);
}
