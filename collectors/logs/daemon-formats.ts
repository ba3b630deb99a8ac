import type { LogLevel, LogRecord } from '../../core/index.ts';
import { normaliseTimestamp } from '../notifications/envelope.ts';
import { toLogRecord, type LogLineSource, type ReadLine } from './line.ts';

/**
 * The daemons next to OpenStack that log in their own formats, read leniently: what a
 * line does not carry (an OS pid, a request) is 0 or null.
 */

const MARIADB_LEVELS: Readonly<Record<string, LogLevel>> = { Note: 'INFO', System: 'INFO', Info: 'INFO', Warning: 'WARNING', ERROR: 'ERROR', Error: 'ERROR' };
const RABBITMQ_LEVELS: Readonly<Record<string, LogLevel>> = { debug: 'DEBUG', info: 'INFO', notice: 'INFO', warning: 'WARNING', error: 'ERROR', critical: 'CRITICAL', alert: 'CRITICAL', emergency: 'CRITICAL' };

const none = { request_id: null, user_id: null, project_id: null } as const;

// MariaDB: `2026-11-24 17:00:01 0 [Note] msg` (before 10.4 the hour is space-padded: `2026-11-24  7:00:01`);
// MySQL 5.7+: `2026-11-24T17:00:01.123456Z 0 [Note] msg`. The number is a thread id, not a pid.
const MARIADB = /^(\d{4}-\d{2}-\d{2})[ T] ?(\d{1,2}):(\d{2}:\d{2}(?:\.\d{1,6})?)Z? (\d+) \[([A-Za-z]+)\] (.*)$/;
// A subsystem prefix such as `WSREP: ` or `InnoDB: ` names where the line comes from.
const SUBSYSTEM = /^([A-Z][A-Za-z_]*): /;

/** mysqld's error log as MariaDB writes it: service `mysqld`, the subsystem (WSREP, InnoDB) or `mysqld` as logger. */
export function readMariadbLine(line: string): ReadLine | null {
  const match = MARIADB.exec(line);
  if (!match) return null;
  const [, date, hour, minutes, , levelName, message] = match as unknown as [string, string, string, string, string, string, string];
  const timestamp = normaliseTimestamp(`${date} ${hour.padStart(2, '0')}:${minutes}`);
  if (timestamp === null) return null;
  const level = MARIADB_LEVELS[levelName] ?? 'INFO';
  return { kind: 'head', fields: { timestamp, service: 'mysqld', pid: 0, level, logger: SUBSYSTEM.exec(message)?.[1] ?? 'mysqld', ...none, message } };
}

// RabbitMQ 3.9+: `2026-11-24 17:00:01.123456+00:00 [info] <0.230.0> msg`; 3.7/3.8: `2026-11-24 17:00:01.123 [info] <0.230.0> msg`.
const RABBITMQ = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:[+-]\d{2}:\d{2})?) \[([a-z]+)\] (<[\d.]+>) ?(.*)$/;

/** RabbitMQ's file log: service `rabbitmq`, the Erlang process as logger (it ties a connection's lines together). */
export function readRabbitmqLine(line: string): ReadLine | null {
  const match = RABBITMQ.exec(line);
  if (!match) return null;
  const [, stamp, levelName, erlangPid, message] = match as unknown as [string, string, string, string, string];
  const timestamp = normaliseTimestamp(stamp);
  if (timestamp === null) return null;
  return { kind: 'head', fields: { timestamp, service: 'rabbitmq', pid: 0, level: RABBITMQ_LEVELS[levelName] ?? 'INFO', logger: erlangPid, ...none, message } };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
// RFC 3164: `Nov 24 17:00:01 controller-1 haproxy[812]: msg`, the day space-padded.
const SYSLOG = /^([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\S+) ([^\s[:]+)(?:\[(\d+)\])?: (.*)$/;
const DAY_MS = 86_400_000;

/**
 * A syslog (RFC 3164) line, as haproxy logs through syslog: service and pid from the tag.
 * The line has no year and no severity: the year is the one that puts the line at most a
 * day after `now`, the level INFO.
 */
export function readSyslogLine(line: string, now: Date): ReadLine | null {
  const match = SYSLOG.exec(line);
  if (!match) return null;
  const [, mon, day, hh, mm, ss, , program, pid, message] = match as unknown as [string, string, string, string, string, string, string, string, string | undefined, string];
  const month = MONTHS.indexOf(mon);
  if (month < 0) return null;
  let year = now.getUTCFullYear();
  const at = (y: number) => Date.UTC(y, month, Number(day), Number(hh), Number(mm), Number(ss));
  if (at(year) > now.getTime() + DAY_MS) year -= 1;
  const date = new Date(at(year));
  if (Number.isNaN(date.getTime()) || date.getUTCDate() !== Number(day)) return null;
  const timestamp = `${date.toISOString().slice(0, 19)}+00:00`;
  return { kind: 'head', fields: { timestamp, service: program, pid: pid === undefined ? 0 : Number(pid), level: 'INFO', logger: program, ...none, message } };
}

/** One mysqld error log line as a LogRecord (service mysqld); null for any other line. Stable. */
export function parseMariadbLogLine(line: string, source: LogLineSource): LogRecord | null {
  const read = readMariadbLine(line);
  return read?.kind === 'head' ? toLogRecord(read.fields, source, line) : null;
}

/** One RabbitMQ log line as a LogRecord (service rabbitmq); null for any other line. Stable. */
export function parseRabbitmqLogLine(line: string, source: LogLineSource): LogRecord | null {
  const read = readRabbitmqLine(line);
  return read?.kind === 'head' ? toLogRecord(read.fields, source, line) : null;
}

/** One syslog line (haproxy) as a LogRecord; null for any other line. Stable. */
export function parseSyslogLine(line: string, source: LogLineSource): LogRecord | null {
  const read = readSyslogLine(line, source.now ?? new Date());
  return read?.kind === 'head' ? toLogRecord(read.fields, source, line) : null;
}

/** The daemons' formats in turn, for a file whose format is not known in advance. */
export function readDaemonLine(line: string, now: Date): ReadLine | null {
  return readRabbitmqLine(line) ?? readMariadbLine(line) ?? readSyslogLine(line, now);
}

