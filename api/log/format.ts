import type { LogRecord } from '../../core/index.ts';
import { LOG_LEVELS, logRecordFromRow, type LogRow } from '../../storage/index.ts';

const NULLABLE_TEXT = { type: 'string', nullable: true } as const;

/** One log record as the API answers it: the collector's LogRecord (times ISO 8601 UTC, microseconds). */
export const LOG_RECORD_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'stable id derived from the host, file, offset and first line' },
    timestamp: { type: 'string', description: 'ISO 8601 UTC with microseconds' },
    service: { type: 'string', description: 'the process whose file it is (nova-compute, mysqld, rabbitmq, haproxy)' },
    host: { type: 'string' },
    pid: { type: 'integer' },
    level: { type: 'string', enum: [...LOG_LEVELS] },
    logger: { type: 'string', description: 'the Python logger, or the daemon subsystem' },
    request_id: { ...NULLABLE_TEXT, description: "the service's local request id (req-...)" },
    user_id: NULLABLE_TEXT,
    project_id: NULLABLE_TEXT,
    message: { type: 'string', description: 'as written, continuation lines (tracebacks) included' },
  },
} as const;

export const logView = (row: LogRow): LogRecord => logRecordFromRow(row);
