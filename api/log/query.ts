import type { LogLevel } from '../../core/index.ts';
import { LOG_COUNT_GROUPS, LOG_LEVELS, parseTimespan, type LogCountGroup, type LogFilter } from '../../storage/index.ts';
import { ApiError, invalidParameter } from '../errors.ts';
import { parseTimestamp } from '../params.ts';

/** Page sizes of /logs. */
export const DEFAULT_LOG_LIMIT = 100;
export const MAX_LOG_LIMIT = 1000;
/** The most intervals one /counts answer holds (a year of hours is 8 760). */
export const MAX_COUNT_BUCKETS = 10_000;
/** /counts without a time range covers the last day. */
export const DEFAULT_COUNT_WINDOW_S = 86_400;

const TEXT = { type: 'string', minLength: 1, maxLength: 255 } as const;
const repeatable = (items: object, description: string) => ({ type: 'array', items, minItems: 1, maxItems: 50, description: `${description}; repeat for any of several` });
const time = (description: string) => ({ type: 'string', minLength: 1, maxLength: 64, description: `${description}: ISO 8601 (naive is UTC) or seconds since the epoch` });

/** The filters /logs and /counts share, as querystring properties. */
export const LOG_FILTER_PROPERTIES = {
  start: time('records from this time (inclusive)'),
  end: time('records before this time (exclusive)'),
  service: repeatable(TEXT, 'the service (the log file: nova-compute, mysqld, rabbitmq, haproxy)'),
  host: repeatable(TEXT, 'the host the file is on'),
  level: repeatable({ type: 'string', enum: [...LOG_LEVELS] }, 'exactly this level'),
  min_level: { type: 'string', enum: [...LOG_LEVELS], description: 'this level and the more severe ones' },
  request_id: { ...TEXT, description: "the service's request id (req-...)" },
  user_id: { ...TEXT, description: 'the user of the request' },
  project_id: { ...TEXT, description: "the project of the request (members only ever see their own project's lines)" },
  text: { type: 'string', minLength: 1, maxLength: 1000, description: 'text the message contains, case-insensitive (any part of it: "ova-comp" finds "nova-compute")' },
} as const;

export const LOG_PAGE_PROPERTIES = {
  limit: { type: 'integer', minimum: 1, maximum: MAX_LOG_LIMIT, description: `records per page (default ${DEFAULT_LOG_LIMIT})` },
  order: { type: 'string', enum: ['desc', 'asc'], description: 'by (timestamp, id): newest first (desc, the default) or oldest first' },
  next: { type: 'string', minLength: 1, maxLength: 512, description: 'the "next" value of the previous page, with the same filters and order' },
} as const;

export const LOG_COUNT_PROPERTIES = {
  interval: { type: 'string', minLength: 1, maxLength: 32, description: 'width of each interval: seconds or a timespan (60s, 5min, 1h); intervals are aligned on the Unix epoch' },
  by: { type: 'string', enum: [...LOG_COUNT_GROUPS], description: 'also count per level, service or host' },
} as const;

export interface LogFilterQuery {
  start?: string;
  end?: string;
  service?: string[];
  host?: string[];
  level?: LogLevel[];
  min_level?: LogLevel;
  request_id?: string;
  user_id?: string;
  project_id?: string;
  text?: string;
}

/** The time range, checked: both parse, and start comes before end. */
export function parseLogRange(query: { start?: string; end?: string }): { start?: Date; end?: Date } {
  const start = parseTimestamp('start', query.start);
  const end = parseTimestamp('end', query.end);
  if (start && end && start >= end) throw invalidParameter('end', 'a time after start', query.end);
  return { ...(start ? { start } : {}), ...(end ? { end } : {}) };
}

/** The storage filter of a query string shaped by LOG_FILTER_PROPERTIES, within the caller's readable project. */
export function parseLogFilter(query: LogFilterQuery, projectId: string | null): LogFilter {
  const filter: LogFilter = { projectId, ...parseLogRange(query) };
  if (query.service) filter.services = query.service;
  if (query.host) filter.hosts = query.host;
  if (query.level) filter.levels = query.level;
  if (query.min_level) filter.minLevel = query.min_level;
  if (query.request_id !== undefined) filter.requestId = query.request_id;
  if (query.user_id !== undefined) filter.userId = query.user_id;
  if (query.project_id !== undefined) filter.project = query.project_id;
  if (query.text !== undefined) filter.contains = query.text;
  return filter;
}

/** The interval of /counts in whole seconds; 400 naming `interval` otherwise. */
export function parseInterval(value: string): number {
  let seconds: number;
  try {
    seconds = parseTimespan(value);
  } catch {
    throw invalidParameter('interval', 'seconds or a timespan such as 60s, 5min or 1h', value);
  }
  if (!Number.isInteger(seconds) || seconds < 1) throw invalidParameter('interval', 'a whole number of seconds, at least 1', value);
  return seconds;
}

/** The window /counts covers: as asked, else the last day up to now; refused when it would hold too many intervals. */
export function countWindow(range: { start?: Date; end?: Date }, intervalSeconds: number, now: Date): { start: Date; end: Date } {
  const end = range.end ?? now;
  const start = range.start ?? new Date(end.getTime() - DEFAULT_COUNT_WINDOW_S * 1000);
  if (start >= end) throw invalidParameter('start', `a time before end (${end.toISOString()})`, start.toISOString());
  const buckets = Math.ceil((end.getTime() - start.getTime()) / 1000 / intervalSeconds) + 1;
  if (buckets > MAX_COUNT_BUCKETS) {
    throw new ApiError('CUMULUS_API_INVALID_PARAMETER', 400, `Invalid value for interval: ${intervalSeconds} s makes ${buckets} intervals between start and end; expected at most ${MAX_COUNT_BUCKETS} (widen interval or narrow start..end)`);
  }
  return { start, end };
}

export type { LogCountGroup };
