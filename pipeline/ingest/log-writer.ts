import { TOPICS, type LogLevel, type LogRecord } from '../../core/index.ts';
import { DEFAULT_RETENTION_DAYS, LOG_LEVELS } from '../../storage/index.ts';
import { createRecordWriter, isPlainObject, isUuid, isoTimeMs, parseJson, pick, textFieldProblem, type RecordKind, type RecordWriter, type RecordWriterConfig, type RecordWriterDeps, type Validation } from './record-writer.ts';

/** The log writer's settings (retention default: DEFAULT_RETENTION_DAYS.logs). Stable. */
export type LogWriterConfig = RecordWriterConfig;

export const DEFAULT_LOG_WRITER_GROUP = 'cumulus-pipeline-logs';

const MALFORMED = 'CUMULUS_PIPELINE_MALFORMED_LOG';
const MAX_PID = 4_294_967_295;

const NULLABLE_TEXT = ['request_id', 'user_id', 'project_id'] as const;
/** The columns of `logs` (migration 4), each filled by the record's field of that name. */
const COLUMNS = ['id', 'timestamp', 'service', 'host', 'pid', 'level', 'logger', ...NULLABLE_TEXT, 'message'] as const;

/** Checks one stream record is a log record the store can hold. */
export function validateLogRecord(value: Buffer): Validation<LogRecord> {
  const parsed = parseJson(value);
  if (!('json' in parsed)) return parsed;
  const record = parsed.json;
  const refuse = (reason: string) => ({ code: MALFORMED, reason });
  if (!isPlainObject(record)) return refuse('record must be a JSON object');
  if (!isUuid(record.id)) return refuse(`id must be a UUID, got ${JSON.stringify(record.id)}`);
  if (isoTimeMs(record.timestamp) === null) return refuse(`log record ${record.id}: timestamp must be an ISO 8601 time between 1970 and 2105, got ${JSON.stringify(record.timestamp)}`);
  const problem = textFieldProblem(record, { required: ['service', 'host'], text: ['logger', 'message'], nullable: NULLABLE_TEXT });
  if (problem !== null) return refuse(`log record ${record.id}: ${problem}`);
  if (!Number.isInteger(record.pid) || (record.pid as number) < 0 || (record.pid as number) > MAX_PID) return refuse(`log record ${record.id}: pid must be a whole number from 0 to ${MAX_PID}, got ${JSON.stringify(record.pid)}`);
  if (!LOG_LEVELS.includes(record.level as LogLevel)) return refuse(`log record ${record.id}: level must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(record.level)}`);
  return { record: record as unknown as LogRecord };
}

/** The row of `logs`. */
export function logRow(record: LogRecord, retentionDays: number): object {
  return { ...pick(record, COLUMNS), retention_days: retentionDays };
}

export const LOG_RECORDS: RecordKind<LogRecord> = {
  noun: 'log record',
  configKey: 'pipeline.logs',
  topic: TOPICS.logs,
  table: 'logs',
  defaultRetentionDays: DEFAULT_RETENTION_DAYS.logs,
  validate: validateLogRecord,
  timeOf: (record) => isoTimeMs(record.timestamp) as number,
  toRow: logRow,
};

/** Consumes `cumulus.logs` into `logs` with exactly-once effect. Stable. */
export function createLogWriter(config: LogWriterConfig, deps: RecordWriterDeps): RecordWriter {
  return createRecordWriter(LOG_RECORDS, config, deps);
}
