import type { LogRecord } from '../../core/index.ts';
import { readDaemonLine } from './daemon-formats.ts';
import { toLogRecord, type LogLineSource, type ReadLine } from './line.ts';
import { readOsloLine } from './oslo-format.ts';

/**
 * Classifies a line of any known format: oslo.log first (the files are mostly the
 * OpenStack services'), then RabbitMQ, MariaDB and syslog. Formats never overlap: each
 * starts with its own time stamp shape.
 */
export function readLogLine(line: string, now: Date): ReadLine {
  return readOsloLine(line) ?? readDaemonLine(line, now) ?? { kind: 'text' };
}

/** One line of any known format as a LogRecord; null for a continuation line. Stable. */
export function parseLogLine(line: string, source: LogLineSource): LogRecord | null {
  const read = readLogLine(line, source.now ?? new Date());
  return read.kind === 'text' ? null : toLogRecord(read.fields, source, line);
}
