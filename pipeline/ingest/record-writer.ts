import { ConfigError, TOPICS, errorMessage, refusedByReason, type Clock, type ComponentTelemetry, type DeadLetter, type Lifecycle, type Logger, type Stream, type StreamBatch, type StreamConsumerHandle } from '../../core/index.ts';
import { MAX_RETENTION_DAYS, type ClickHouseDriver } from '../../storage/index.ts';
import { writePlannedChunks, type PlannedChunk } from './batch-plans.ts';
import type { Refusal } from './validate.ts';

/** Settings every record writer (events, audit records, logs) takes. Stable. */
export interface RecordWriterConfig {
  /** The Kafka consumer group (and the name its batch plans are recorded under). */
  groupId: string;
  /** Records handed to one ClickHouse insert at most. */
  maxBatchRecords: number;
  /** Days a stored row is kept (its `retention_days`); the table's documented default when unset. */
  retentionDays?: number;
}

export interface RecordWriterDeps {
  stream: Stream;
  store: ClickHouseDriver;
  clock: Clock;
  logger: Logger;
  telemetry: ComponentTelemetry;
}

export type RecordWriter = Lifecycle & { consume(batch: StreamBatch): Promise<void> };

/**
 * Work that must happen with a chunk's rows before its offsets are committed (the
 * resource index ends resources on delete events): called after the insert with the
 * accepted records and the chunk's token; a rejection retries the chunk like a failed insert.
 */
export type AfterInsert<T> = (records: readonly T[], dedupToken: string) => Promise<void>;

/** A record that passed its checks, or why it was refused. */
export type Validation<T> = { record: T } | Refusal;

/** What makes one writer differ from another: where records come from and go, how they are checked and stored. */
export interface RecordKind<T> {
  /** What telemetry and logs call one record: `event`, `audit record`, `log record`. */
  noun: string;
  /** Its config section, for error messages (`pipeline.events`). */
  configKey: string;
  topic: string;
  /** A trusted identifier (never input). */
  table: string;
  defaultRetentionDays: number;
  /** Parses and checks one stream record's bytes. Whatever the store could not take must be refused here, or it would stall the partition. */
  validate(value: Buffer): Validation<T>;
  /** When the record happened, ms since the epoch: retention counts from there. */
  timeOf(record: T): number;
  toRow(record: T, retentionDays: number): object;
}

const DAY_MS = 86_400_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** ISO 8601 as the collectors write it; no zone means UTC (as for ClickHouse, whose session zone is UTC). */
const ISO_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?$/;
/** The rows' TTLs convert to DateTime, which holds 1970 to 2106: a time outside would expire at once or never. */
const MIN_TIME_MS = 0;
const MAX_TIME_MS = Date.UTC(2106, 0, 1);

export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);

/** Milliseconds since the epoch of an ISO 8601 timestamp a row's DateTime64 column can store, else null. */
export function isoTimeMs(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const m = ISO_TIME.exec(value);
  if (m === null) return null;
  const zone = m[4] === undefined ? 'Z' : /^[+-]\d{4}$/.test(m[4]) ? `${m[4].slice(0, 3)}:${m[4].slice(3)}` : m[4];
  // The fields must name a real instant: the shape alone lets 2026-02-30 or 25:61 through.
  const wall = Date.parse(`${m[1]}T${m[2]}Z`);
  if (Number.isNaN(wall) || new Date(wall).toISOString().slice(0, 19) !== `${m[1]}T${m[2]}`) return null;
  const ms = Date.parse(`${m[1]}T${m[2]}${(m[3] ?? '').slice(0, 4)}${zone}`);
  return !Number.isNaN(ms) && ms >= MIN_TIME_MS && ms < MAX_TIME_MS ? ms : null;
}

/** A JSON object (not an array, not null). */
export const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The first problem with a record's text fields, or null: `required` must be non-empty
 * strings, `text` strings, `nullable` strings or null.
 */
export function textFieldProblem(record: Record<string, unknown>, fields: { required?: readonly string[]; text?: readonly string[]; nullable?: readonly string[] }): string | null {
  for (const field of fields.required ?? []) {
    if (typeof record[field] !== 'string' || record[field] === '') return `${field} must be a non-empty string, got ${JSON.stringify(record[field])}`;
  }
  for (const field of fields.text ?? []) {
    if (typeof record[field] !== 'string') return `${field} must be a string, got ${JSON.stringify(record[field])}`;
  }
  for (const field of fields.nullable ?? []) {
    if (record[field] !== null && typeof record[field] !== 'string') return `${field} must be a string or null, got ${JSON.stringify(record[field])}`;
  }
  return null;
}

/** The named fields of a record: a row gets exactly its table's columns, whatever else a newer record carries. */
export function pick<T extends object>(record: T, fields: readonly (keyof T & string)[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const field of fields) row[field] = record[field];
  return row;
}

/** JSON.parse of a record's bytes, or the refusal every writer gives for bytes that are not JSON. */
export function parseJson(value: Buffer): { json: unknown } | Refusal {
  try {
    return { json: JSON.parse(value.toString('utf8')) as unknown };
  } catch (err) {
    return { code: 'CUMULUS_PIPELINE_MALFORMED_JSON', reason: `record is not JSON: ${errorMessage(err)}` };
  }
}

/**
 * Consumes one topic into one table with exactly-once effect (pipeline/ingest/batch-plans.ts):
 * each planned chunk is validated, its good records inserted under the chunk's token, its
 * refused ones sent to `cumulus.dead` with their reason and bytes; the offsets are
 * committed once every chunk of the batch is done. Rows already past their retention are
 * dropped (counted), since the store would delete them at the next merge.
 */
export function createRecordWriter<T>(kind: RecordKind<T>, config: RecordWriterConfig, deps: RecordWriterDeps & { afterInsert?: AfterInsert<T> }): RecordWriter {
  if (typeof config.groupId !== 'string' || config.groupId.trim() === '') throw new ConfigError(`${kind.configKey}.groupId must be a non-empty consumer group name, got ${JSON.stringify(config.groupId)}`);
  if (!Number.isInteger(config.maxBatchRecords) || config.maxBatchRecords < 1) throw new ConfigError(`${kind.configKey}.maxBatchRecords must be a whole number >= 1, got ${config.maxBatchRecords}`);
  const retentionDays = config.retentionDays ?? kind.defaultRetentionDays;
  if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > MAX_RETENTION_DAYS) throw new ConfigError(`${kind.configKey}.retentionDays must be a whole number of days from 1 to ${MAX_RETENTION_DAYS}, got ${config.retentionDays}`);
  const plans = { consumer: config.groupId, maxBatchRecords: config.maxBatchRecords };
  let handle: StreamConsumerHandle | null = null;

  async function write(chunk: PlannedChunk): Promise<void> {
    const started = deps.clock.nowMs();
    const horizon = started - retentionDays * DAY_MS;
    const rows: object[] = [];
    const accepted: T[] = [];
    const dead: DeadLetter[] = [];
    let expired = 0;
    for (const item of chunk.records) {
      const result = kind.validate(item.value);
      if (!('record' in result)) {
        dead.push({ stage: 'pipeline', code: result.code, reason: result.reason, origin: { topic: chunk.topic, partition: chunk.partition, offset: item.offset }, payload_base64: item.value.toString('base64'), refused_at: deps.clock.now().toISOString() });
      } else if (kind.timeOf(result.record) < horizon) expired += 1;
      else {
        rows.push(kind.toRow(result.record, retentionDays));
        accepted.push(result.record);
      }
    }
    // 1. the rows, under the chunk's token: a replay of this chunk is dropped by the table.
    if (rows.length > 0) await deps.store.insert(kind.table, rows, { dedupToken: chunk.dedupToken });
    if (deps.afterInsert && accepted.length > 0) await deps.afterInsert(accepted, chunk.dedupToken);
    // 2. dead letters, so a refused record is kept with its reason before its offset is committed
    //    (a replay sends them again: dead letters are at-least-once).
    if (dead.length > 0) await deps.stream.send(TOPICS.dead, dead.map((d) => ({ key: null, value: Buffer.from(JSON.stringify(d)) })));
    deps.telemetry.accepted(rows.length);
    refusedByReason(deps.telemetry, dead.map((d) => d.code));
    deps.telemetry.dropped(expired);
    deps.telemetry.observeBatch(deps.clock.nowMs() - started);
    if (dead.length > 0) deps.logger.warn({ count: dead.length, code: dead[0]?.code, topic: chunk.topic }, `${kind.noun}s refused to dead letters`);
    if (expired > 0) deps.logger.debug({ count: expired, retentionDays }, `${kind.noun}s past their retention dropped`);
  }

  // 3. resolving lets the stream commit the batch's offsets: after every chunk is stored.
  const consume = (batch: StreamBatch): Promise<void> => writePlannedChunks(deps.store, plans, batch, write);

  return {
    consume,
    async start() {
      if (handle) return;
      handle = await deps.stream.subscribe({ groupId: config.groupId, topics: [kind.topic], fromBeginning: true, maxBatchRecords: config.maxBatchRecords }, { consume });
    },
    async stop() {
      const current = handle;
      handle = null;
      await current?.close().catch((err: unknown) => deps.logger.warn({ err: errorMessage(err) }, `closing the ${kind.noun} consumer failed`));
    },
  };
}
