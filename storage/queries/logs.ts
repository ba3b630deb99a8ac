import { InvalidInputError, type LogLevel, type LogRecord } from '../../core/index.ts';
import type { BoundQuery } from '../driver.ts';

/**
 * Queries on `logs` (migration 4): records matching service, host, level, request, user,
 * project and words of the message, a page at a time; and counts per time interval. Stable.
 */

/** Levels from least to most severe, as the `level` enum orders them. */
export const LOG_LEVELS: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];

export interface LogFilter {
  /** Only records of this project; null: any record (operators). */
  projectId: string | null;
  /** Inclusive lower bound on `timestamp`. */
  start?: Date;
  /** Exclusive upper bound on `timestamp`. */
  end?: Date;
  /** Any of these services (`nova-compute`, `mysqld`...). */
  services?: readonly string[];
  hosts?: readonly string[];
  /** This level and the more severe ones. */
  minLevel?: LogLevel;
  /** Exactly these levels (with `minLevel`, both must hold). */
  levels?: readonly LogLevel[];
  requestId?: string;
  userId?: string;
  /** Only records of this project (a filter the caller asked for, on top of `projectId`). */
  project?: string;
  /**
   * Words that must all be in the message, case-insensitive; words are what is between
   * characters other than ASCII letters and digits (`req-2b6c` is `req` and `2b6c`),
   * as the message's text index splits them.
   */
  text?: string;
  /**
   * Text that must appear in the message as it is, case-insensitive (a substring: `ova-comp`
   * matches `nova-compute`). The words it holds whole (with a separator on both sides
   * within the text) also go through the text index, so the scan reads only the granules
   * that can match.
   */
  contains?: string;
}

export interface LogQuery extends LogFilter {
  limit: number;
  /** By (timestamp, id); newest first unless told. */
  order?: 'asc' | 'desc';
  /** Keyset pagination: the page starts after this record (the previous page's last row). */
  after?: { timestamp: string; id: string };
}

export const LOG_COUNT_GROUPS = ['level', 'service', 'host'] as const;
export type LogCountGroup = (typeof LOG_COUNT_GROUPS)[number];

export interface LogCountQuery extends LogFilter {
  /** Width of one interval, in seconds (aligned on the Unix epoch). */
  intervalSeconds: number;
  /** Also split each interval by this column. */
  by?: LogCountGroup;
}

/** A row of {@link selectLogs}: `timestamp` as ClickHouse writes it (`2026-01-01 10:00:00.123456`, UTC), `pid` as a number. */
export type LogRow = LogRecord;

/** A row of {@link countLogs}: the interval's start (Unix seconds), the group's value ('' without `by`), and the count. */
export interface LogCountRow {
  bucket: number;
  key: string;
  count: string;
}

const COLUMNS = 'id, timestamp, service, host, pid, level, logger, request_id, user_id, project_id, message';

function badFilter(message: string): InvalidInputError {
  return new InvalidInputError('CUMULUS_STORAGE_BAD_FILTER', message);
}

function conditions(f: LogFilter, params: Record<string, unknown>): string[] {
  const where: string[] = [];
  if (f.projectId !== null) {
    where.push('project_id = {project_id:String}');
    params.project_id = f.projectId;
  }
  if (f.start !== undefined) {
    where.push("timestamp >= {start:DateTime64(6, 'UTC')}");
    params.start = f.start;
  }
  if (f.end !== undefined) {
    where.push("timestamp < {end:DateTime64(6, 'UTC')}");
    params.end = f.end;
  }
  if (f.services !== undefined) {
    where.push('service IN {services:Array(String)}');
    params.services = [...f.services];
  }
  if (f.hosts !== undefined) {
    where.push('host IN {hosts:Array(String)}');
    params.hosts = [...f.hosts];
  }
  if (f.minLevel !== undefined) {
    if (!LOG_LEVELS.includes(f.minLevel)) throw badFilter(`minLevel must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(f.minLevel)}`);
    // The enum's order is severity, so this is a range on the sort key's second column.
    where.push('level >= {min_level:String}');
    params.min_level = f.minLevel;
  }
  if (f.levels !== undefined) {
    const unknown = f.levels.find((level) => !LOG_LEVELS.includes(level));
    if (unknown !== undefined) throw badFilter(`levels must be among ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(unknown)}`);
    where.push('level IN {levels:Array(String)}');
    params.levels = [...f.levels];
  }
  if (f.project !== undefined) {
    where.push('project_id = {asked_project_id:String}');
    params.asked_project_id = f.project;
  }
  if (f.requestId !== undefined) {
    where.push('request_id = {request_id:String}');
    params.request_id = f.requestId;
  }
  if (f.userId !== undefined) {
    where.push('user_id = {user_id:String}');
    params.user_id = f.userId;
  }
  if (f.text !== undefined) {
    if (!/[A-Za-z0-9]/.test(f.text)) throw badFilter(`text must hold at least one word (ASCII letters or digits), got ${JSON.stringify(f.text)}`);
    // The same expression the text index is built on (lower(message)), so it is used.
    where.push('hasAllTokens(lower(message), lower({text:String}))');
    params.text = f.text;
  }
  if (f.contains !== undefined) {
    if (f.contains === '') throw badFilter('contains must not be empty');
    where.push('positionCaseInsensitiveUTF8(message, {contains:String}) > 0');
    params.contains = f.contains;
    const words = wholeWords(f.contains);
    if (words.length > 0) {
      // Only narrows what the exact test above reads; the answer is the same without it.
      where.push('hasAllTokens(lower(message), {contains_words:Array(String)})');
      params.contains_words = words;
    }
  }
  return where;
}

/**
 * The words of a substring that the message must hold whole, lower-cased as `lower()`
 * does (ASCII only): those with a separator (an ASCII character other than a letter or
 * digit, as the index's `splitByNonAlpha` splits) on both sides within the text. The
 * first and last runs may be parts of longer words, and a word with other than ASCII is
 * left out, since `lower()` and a case-insensitive match differ on it.
 */
export function wholeWords(text: string): string[] {
  const words = new Set<string>();
  const separator = /[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]/;
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const ch = text[i];
    const isSeparator = ch === undefined || separator.test(ch);
    if (!isSeparator) {
      if (start < 0) start = i;
      continue;
    }
    if (start > 0 && ch !== undefined) {
      const word = text.slice(start, i);
      if (/^[A-Za-z0-9]+$/.test(word)) words.add(word.toLowerCase());
    }
    start = -1;
  }
  return [...words];
}

const whereClause = (where: readonly string[]) => (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '');

/** Log records matching the filter, a page at a time. */
export function selectLogs(q: LogQuery): BoundQuery {
  const params: Record<string, unknown> = { limit: q.limit };
  const where = conditions(q, params);
  const ascending = q.order === 'asc';
  if (q.after !== undefined) {
    where.push(`(timestamp, id) ${ascending ? '>' : '<'} (parseDateTime64BestEffort({after_timestamp:String}, 6, 'UTC'), {after_id:UUID})`);
    params.after_timestamp = q.after.timestamp;
    params.after_id = q.after.id;
  }
  const direction = ascending ? 'ASC' : 'DESC';
  return {
    sql: `SELECT ${COLUMNS} FROM logs FINAL${whereClause(where)} ORDER BY timestamp ${direction}, id ${direction} LIMIT {limit:UInt32}`,
    params,
  };
}

/** How many records match per interval (and per level, service or host with `by`), oldest interval first. */
export function countLogs(q: LogCountQuery): BoundQuery {
  if (!Number.isInteger(q.intervalSeconds) || q.intervalSeconds < 1) throw badFilter(`intervalSeconds must be a whole number >= 1, got ${q.intervalSeconds}`);
  if (q.by !== undefined && !LOG_COUNT_GROUPS.includes(q.by)) throw badFilter(`by must be one of ${LOG_COUNT_GROUPS.join(', ')}, got ${JSON.stringify(q.by)}`);
  const params: Record<string, unknown> = { interval: q.intervalSeconds };
  const where = conditions(q, params);
  // `by` is one of three fixed column names, checked above: no value reaches the SQL text.
  const key = q.by === undefined ? "''" : `toString(${q.by})`;
  return {
    sql: `SELECT toUnixTimestamp(toStartOfInterval(timestamp, toIntervalSecond({interval:UInt32}))) AS bucket, ${key} AS key, count() AS count
      FROM logs FINAL${whereClause(where)} GROUP BY bucket, key ORDER BY bucket, key`,
    params,
  };
}

/** The record as the collector published it, from its row (`timestamp` with six fractional digits). */
export function logRecordFromRow(row: LogRow): LogRecord {
  return { ...row, timestamp: `${row.timestamp.replace(' ', 'T')}+00:00`, pid: Number(row.pid) };
}
