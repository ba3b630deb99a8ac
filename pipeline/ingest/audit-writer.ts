import { TOPICS, type AuditRecord } from '../../core/index.ts';
import { DEFAULT_RETENTION_DAYS } from '../../storage/index.ts';
import { createRecordWriter, isPlainObject, isUuid, isoTimeMs, parseJson, pick, textFieldProblem, type RecordKind, type RecordWriter, type RecordWriterConfig, type RecordWriterDeps, type Validation } from './record-writer.ts';

/** The audit writer's settings (retention default: DEFAULT_RETENTION_DAYS.audit_records). Stable. */
export type AuditWriterConfig = RecordWriterConfig;

export const DEFAULT_AUDIT_WRITER_GROUP = 'cumulus-pipeline-audit';

const MALFORMED = 'CUMULUS_PIPELINE_MALFORMED_AUDIT';

/** Fields that must hold text (the who/what/where the mapper always fills; `unknown` when CADF had none). */
const REQUIRED_TEXT = ['action', 'outcome', 'event_type', 'type_uri', 'initiator_id', 'initiator_type', 'target_id', 'target_type', 'observer_id', 'observer_type'] as const;
/** Fields that hold text or null. */
const NULLABLE_TEXT = ['initiator_name', 'project_id', 'initiator_address', 'initiator_agent', 'target_address', 'reason_code', 'request_id'] as const;
/** The columns of `audit_records` (migration 4) a record fills as they are; `raw` is stored as JSON text. */
const COLUMNS = ['id', 'event_time', ...REQUIRED_TEXT, ...NULLABLE_TEXT] as const;

/** Checks one stream record is an audit record (CADF flattened to the 7 Ws) the store can hold. */
export function validateAuditRecord(value: Buffer): Validation<AuditRecord> {
  const parsed = parseJson(value);
  if (!('json' in parsed)) return parsed;
  const record = parsed.json;
  const refuse = (reason: string) => ({ code: MALFORMED, reason });
  if (!isPlainObject(record)) return refuse('record must be a JSON object');
  if (!isUuid(record.id)) return refuse(`id must be a UUID, got ${JSON.stringify(record.id)}`);
  const problem = textFieldProblem(record, { required: REQUIRED_TEXT, nullable: NULLABLE_TEXT });
  if (problem !== null) return refuse(`audit record ${record.id}: ${problem}`);
  if (isoTimeMs(record.event_time) === null) return refuse(`audit record ${record.id}: event_time must be an ISO 8601 time between 1970 and 2105, got ${JSON.stringify(record.event_time)}`);
  if (!isPlainObject(record.raw)) return refuse(`audit record ${record.id}: raw must be the CADF event (a JSON object), got ${JSON.stringify(record.raw)}`);
  return { record: record as unknown as AuditRecord };
}

/** The row of `audit_records`: the 7 Ws as columns, the CADF event as JSON text. */
export function auditRow(record: AuditRecord, retentionDays: number): object {
  return { ...pick(record, COLUMNS), raw: JSON.stringify(record.raw), retention_days: retentionDays };
}

export const AUDIT_RECORDS: RecordKind<AuditRecord> = {
  noun: 'audit record',
  configKey: 'pipeline.audit',
  topic: TOPICS.audit,
  table: 'audit_records',
  defaultRetentionDays: DEFAULT_RETENTION_DAYS.audit_records,
  validate: validateAuditRecord,
  timeOf: (record) => isoTimeMs(record.event_time) as number,
  toRow: auditRow,
};

/** Consumes `cumulus.audit` into `audit_records` with exactly-once effect. Stable. */
export function createAuditWriter(config: AuditWriterConfig, deps: RecordWriterDeps): RecordWriter {
  return createRecordWriter(AUDIT_RECORDS, config, deps);
}
