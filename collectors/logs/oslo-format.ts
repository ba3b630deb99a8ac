import type { LogLevel, LogRecord } from '../../core/index.ts';
import { normaliseTimestamp } from '../notifications/envelope.ts';
import { toLogRecord, type LineFields, type LogLineSource, type ReadLine } from './line.ts';

/**
 * oslo.log's levels as they appear in the line. TRACE is oslo.log's level 5 (below
 * DEBUG), AUDIT the pre-Liberty level between INFO and WARNING, WARN and FATAL Python's
 * aliases; LogRecord keeps the five standard ones.
 */
export const OSLO_LEVELS: Readonly<Record<string, LogLevel>> = {
  TRACE: 'DEBUG',
  DEBUG: 'DEBUG',
  INFO: 'INFO',
  AUDIT: 'INFO',
  WARNING: 'WARNING',
  WARN: 'WARNING',
  ERROR: 'ERROR',
  CRITICAL: 'CRITICAL',
  FATAL: 'CRITICAL',
};

// `%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s ` and the rest.
const HEAD = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?) (\d+) ([A-Z]+) (\S+)(?: (.*))?$/;
const INSTANCE = /^\[instance: [^\]]*\] /;
// What can stand inside the context brackets: `-`, or a (global) request id first, `None` when there is none.
const CONTEXT = /^(?:-|(?:None|req-\S+)(?: [^\]]*)?)$/;

const dash = (value: string | undefined): string | null => (value === undefined || value === '-' || value === '' || value === 'None' ? null : value);

/**
 * The context brackets: `[-]` (logging_default_format_string), or
 * `[<global_request_id> <request_id> <user_identity>]` since oslo.log 5.0 (the global id
 * printed `None` when absent) and `[<request_id> <user_identity>]` before it, where
 * user_identity starts `<user> <project>` and runs on with domains (`- - default
 * default`, or `- - -` in older releases).
 */
function readContext(inside: string): Pick<LineFields, 'request_id' | 'user_id' | 'project_id'> {
  if (inside === '-') return { request_id: null, user_id: null, project_id: null };
  const tokens = inside.split(' ');
  const withGlobal = tokens.length > 1 && (tokens[0] === 'None' || (tokens[0]?.startsWith('req-') === true && tokens[1]?.startsWith('req-') === true));
  const [request, user, project] = withGlobal ? tokens.slice(1) : tokens;
  return { request_id: dash(request), user_id: dash(user), project_id: dash(project) };
}

/** Classifies one line of an oslo.log file: a record's head, a traceback line, or neither. */
export function readOsloLine(line: string): ReadLine | null {
  const match = HEAD.exec(line);
  if (!match) return null;
  const [, asctime, pid, levelName, logger, rest = ''] = match as unknown as [string, string, string, string, string, string | undefined];
  const level = OSLO_LEVELS[levelName];
  const timestamp = normaliseTimestamp(asctime);
  if (level === undefined || timestamp === null) return null;
  const base = { timestamp, service: null, pid: Number(pid), level, logger };
  // A context bracket follows the logger; anything else there (`[instance: …]`, a traceback's own text) is the exception prefix's.
  const close = rest.indexOf(']');
  if (rest.startsWith('[') && close > 0 && CONTEXT.test(rest.slice(1, close))) {
    const message = rest.slice(close + 1).replace(/^ /, '');
    return { kind: 'head', fields: { ...base, ...readContext(rest.slice(1, close)), message } };
  }
  // logging_exception_prefix `%(asctime)s.%(msecs)03d %(process)d ERROR %(name)s %(instance)s`: one traceback line.
  return { kind: 'exception', fields: { ...base, request_id: null, user_id: null, project_id: null, message: rest.replace(INSTANCE, '') } };
}

/**
 * One oslo.log line (logging_context_format_string or logging_default_format_string) as
 * a LogRecord; null for a line in neither form (a continuation line). The message is
 * kept as written, `[instance: …]` prefix and DEBUG's `funcName path:line` suffix
 * included. The time stamp is read as UTC, as the control plane's hosts log. Stable.
 */
export function parseOsloLogLine(line: string, source: LogLineSource): LogRecord | null {
  const read = readOsloLine(line);
  return read && read.kind !== 'text' ? toLogRecord(read.fields, source, line) : null;
}
