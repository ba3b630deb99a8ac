/** pipeline/: from the stream into ClickHouse under Gnocchi-style archive policies. */
export { createSampleWriter, type SampleWriterDeps } from './ingest/sample-writer.ts';
export * from './ingest/config.ts';
export { validateSample } from './ingest/validate.ts';
export { writePlannedChunks, plannedLastOffset, recordPlan, dedupToken, type BatchPlanConfig, type PlannedChunk } from './ingest/batch-plans.ts';
export { createRecordWriter, type RecordKind, type RecordWriter, type RecordWriterConfig, type RecordWriterDeps, type Validation } from './ingest/record-writer.ts';
export { createEventWriter, validateEvent, EVENT_RECORDS, DEFAULT_EVENT_WRITER_GROUP, type EventWriterConfig } from './ingest/event-writer.ts';
export { createAuditWriter, validateAuditRecord, AUDIT_RECORDS, DEFAULT_AUDIT_WRITER_GROUP, type AuditWriterConfig } from './ingest/audit-writer.ts';
export { createLogWriter, validateLogRecord, LOG_RECORDS, DEFAULT_LOG_WRITER_GROUP, type LogWriterConfig } from './ingest/log-writer.ts';
export { createResourceIndex, type ResourceIndex, type ResourceIndexDeps, type IndexWrites } from './ingest/resource-index.ts';
export { applyBackWindow, MEASURE_BEFORE_BACK_WINDOW } from './ingest/back-window.ts';
export * from './rating/index.ts';
