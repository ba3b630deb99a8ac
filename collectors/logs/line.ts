import { deriveId, type LogLevel, type LogRecord } from '../../core/index.ts';

/** What a parser needs to know about where a line comes from. */
export interface LogLineSource {
  /** The process the file belongs to (`nova-compute` for nova-compute.log); formats that name their daemon override it. */
  service: string;
  host: string;
  /** The file within the host's folder; with `offset`, it makes the record id. Default `<service>.log`. */
  file?: string;
  /** Byte offset of the line in its file. Default 0. */
  offset?: number;
  /** Syslog lines carry no year: the one that puts the line closest before this instant is taken. Default: now. */
  now?: Date;
}

/** A record's fields as one head line gives them, before id and host are stamped on. */
export interface LineFields {
  timestamp: string;
  /** Null: the file's service. */
  service: string | null;
  pid: number;
  level: LogLevel;
  logger: string;
  request_id: string | null;
  user_id: string | null;
  project_id: string | null;
  message: string;
}

/**
 * One line, classified: a `head` starts a record; an `exception` line is oslo.log's
 * logging_exception_prefix form (a traceback line, which continues the record before it
 * when pid and logger match); `text` matches no known format and continues the record
 * before it.
 */
export type ReadLine = { kind: 'head'; fields: LineFields } | { kind: 'exception'; fields: LineFields } | { kind: 'text' };

/**
 * A log record's id: the host, the file and the byte offset where the record starts,
 * plus its first line. The offset alone would repeat once a file is rotated or truncated
 * (the next generation starts at 0 again); the first line (time stamp to the millisecond,
 * pid, text) tells two generations apart, and is the same on every re-read.
 */
export function logRecordId(host: string, file: string, offset: number, firstLine: string): string {
  return deriveId('log', host, file, String(offset), firstLine);
}

export function toLogRecord(fields: LineFields, source: LogLineSource, firstLine: string): LogRecord {
  return {
    id: logRecordId(source.host, source.file ?? `${source.service}.log`, source.offset ?? 0, firstLine),
    timestamp: fields.timestamp,
    service: fields.service ?? source.service,
    host: source.host,
    pid: fields.pid,
    level: fields.level,
    logger: fields.logger,
    request_id: fields.request_id,
    user_id: fields.user_id,
    project_id: fields.project_id,
    message: fields.message,
  };
}
