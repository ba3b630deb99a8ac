import { invalidParameter } from './errors.ts';

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
