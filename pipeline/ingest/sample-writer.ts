import { TOPICS, TransportError, errorMessage, metricId, type Clock, type ComponentTelemetry, type ConsumedRecord, type DeadLetter, type Lifecycle, type Logger, type Sample, type Stream, type StreamBatch, type StreamConsumerHandle } from '../../core/index.ts';
import { ConfigError } from '../../core/index.ts';
import type { ClickHouseDriver } from '../../storage/index.ts';
import type { ArchivePolicyResolver } from '../../storage/index.ts';
import type { SampleWriterConfig } from './config.ts';
import { resourceTypeFor } from './resource-types.ts';
import { isRefusal, validateSample } from './validate.ts';

export interface SampleWriterDeps {
  stream: Stream;
  store: ClickHouseDriver;
  policies: ArchivePolicyResolver;
  clock: Clock;
  logger: Logger;
  telemetry: ComponentTelemetry;
}

/** Bound on the in-memory "already indexed" caches; past it they restart empty (re-inserts are harmless). */
const INDEX_CACHE_LIMIT = 1_000_000;

const chTime = (iso: string) => new Date(iso).toISOString().replace('T', ' ').replace('Z', '');

/**
 * Consumes signed samples from the stream into ClickHouse: the metric and resource index,
 * then the measures, whose materialized view fills every rollup of the metric's policy.
 * Exactly-once effect: each batch is cut at stream offsets recorded in `ingest_plans`
 * before the insert, and inserted with a token made of those offsets, so a replay after a
 * crash cuts the same way and ClickHouse drops the repeated insert.
 */
export function createSampleWriter(config: SampleWriterConfig, deps: SampleWriterDeps): Lifecycle & { consume(batch: StreamBatch): Promise<void> } {
  if (!config.meteringSecret) throw new ConfigError('pipeline.meteringSecret is required to verify sample signatures');
  if (!Number.isInteger(config.maxBatchRecords) || config.maxBatchRecords < 1) throw new ConfigError(`pipeline.maxBatchRecords must be a whole number >= 1, got ${config.maxBatchRecords}`);
  const knownMetrics = new Set<string>();
  const knownResources = new Map<string, { type: string; attributes: Record<string, unknown>; fingerprint: string }>();
  let handle: StreamConsumerHandle | null = null;

  async function plannedLastOffset(topic: string, partition: number, firstOffset: string): Promise<bigint | null> {
    const rows = await deps.store.query<{ last_offset: string }>({
      sql: `SELECT last_offset FROM ingest_plans FINAL
            WHERE consumer = {consumer:String} AND topic = {topic:String} AND partition = {partition:UInt32} AND first_offset = {first:UInt64} LIMIT 1`,
      params: { consumer: config.groupId, topic, partition, first: BigInt(firstOffset) },
    });
    return rows[0] ? BigInt(rows[0].last_offset) : null;
  }

  /** Types of resources not in the cache, as the index has them (one query per batch, only on misses). */
  async function indexedTypes(ids: readonly string[]): Promise<Map<string, { type: string; attributes: Record<string, unknown> }>> {
    if (ids.length === 0) return new Map();
    const rows = await deps.store.query<{ id: string; type: string; attributes: string }>({ sql: 'SELECT id, type, attributes FROM resources FINAL WHERE id IN {ids:Array(String)}', params: { ids: [...ids] } });
    return new Map(rows.map((r) => [r.id, { type: r.type, attributes: JSON.parse(r.attributes || '{}') as Record<string, unknown> }]));
  }

  async function indexMetrics(samples: readonly Sample[]): Promise<void> {
    const metricRows: object[] = [];
    const resourceRows: object[] = [];
    // Staged, and cached only once the inserts succeeded: a failed batch is retried in full.
    const newMetrics = new Set<string>();
    const staged = new Map<string, { type: string; attributes: Record<string, unknown>; fingerprint: string }>();
    const misses = [...new Set(samples.map((s) => s.resource_id).filter((id) => !knownResources.has(id)))];
    for (const [id, known] of await indexedTypes(misses)) staged.set(id, { ...known, fingerprint: '' });
    for (const sample of samples) {
      const id = metricId(sample.resource_id, sample.name);
      if (!knownMetrics.has(id) && !newMetrics.has(id)) {
        metricRows.push({
          id,
          name: sample.name,
          resource_id: sample.resource_id,
          project_id: sample.project_id ?? '',
          user_id: sample.user_id ?? '',
          unit: sample.unit,
          archive_policy_name: deps.policies.forMetric(sample.name).name,
          created_at: chTime(sample.timestamp),
        });
        newMetrics.add(id);
      }
      const mapping = resourceTypeFor(sample.name);
      const known = staged.get(sample.resource_id) ?? knownResources.get(sample.resource_id);
      // A resource keeps its specific type: a meter Gnocchi files under `generic` does not demote it.
      const type = mapping.type === 'generic' && known ? known.type : mapping.type;
      // Attributes merge: a sample that lacks some (a poll has no image_ref) keeps the known ones.
      const attributes: Record<string, unknown> = { ...(known?.type === type ? known.attributes : {}) };
      for (const [attribute, key] of Object.entries(mapping.attributes)) {
        const value = sample.resource_metadata[key];
        if (value !== undefined && value !== null && value !== '') attributes[attribute] = value;
      }
      const fingerprint = `${type}|${sample.project_id}|${JSON.stringify(attributes)}`;
      if (known?.fingerprint === fingerprint || (known && known.type === type && known.fingerprint === '' && JSON.stringify(known.attributes) === JSON.stringify(attributes))) {
        staged.set(sample.resource_id, { type, attributes, fingerprint });
        continue;
      }
      staged.set(sample.resource_id, { type, attributes, fingerprint });
      resourceRows.push({
        id: sample.resource_id,
        type,
        project_id: sample.project_id ?? '',
        user_id: sample.user_id ?? '',
        started_at: chTime(sample.timestamp),
        ended_at: null,
        revision_start: chTime(sample.timestamp),
        attributes: JSON.stringify(attributes),
      });
    }
    if (metricRows.length > 0) await deps.store.insert('metrics', metricRows);
    if (resourceRows.length > 0) await deps.store.insert('resources', resourceRows);
    for (const id of newMetrics) knownMetrics.add(id);
    for (const [id, entry] of staged) knownResources.set(id, entry);
    if (knownMetrics.size > INDEX_CACHE_LIMIT) knownMetrics.clear();
    if (knownResources.size > INDEX_CACHE_LIMIT) knownResources.clear();
  }

  async function write(topic: string, partition: number, records: readonly ConsumedRecord[]): Promise<void> {
    const started = deps.clock.nowMs();
    const samples: Sample[] = [];
    const dead: DeadLetter[] = [];
    for (const record of records) {
      const result = validateSample(record.value, config.meteringSecret);
      if (isRefusal(result)) {
        dead.push({ stage: 'pipeline', code: result.code, reason: result.reason, origin: { topic, partition, offset: record.offset }, payload_base64: record.value.toString('base64'), refused_at: deps.clock.now().toISOString() });
      } else samples.push(result);
    }
    const first = (records[0] as ConsumedRecord).offset;
    const last = (records[records.length - 1] as ConsumedRecord).offset;
    // 1. index first: a metric is queryable by id before its measures land, never after.
    await indexMetrics(samples);
    // 2. measures, deduplicated by the batch's offsets (the rollups' view inherits the token).
    const measures = samples.map((s) => {
      const policy = deps.policies.forMetric(s.name);
      return {
        metric_id: metricId(s.resource_id, s.name),
        ts: chTime(s.timestamp),
        value: s.volume,
        sample_id: s.id,
        granularities: policy.definition.map((l) => l.granularity),
        retentions: policy.definition.map((l) => l.granularity * l.points),
      };
    });
    if (measures.length > 0) await deps.store.insert('measures', measures, { dedupToken: `${config.groupId}:${topic}:${partition}:${first}-${last}` });
    // 3. dead letters, so a refused record is kept with its reason before its offset is committed.
    if (dead.length > 0) await deps.stream.send(TOPICS.dead, dead.map((d) => ({ key: null, value: Buffer.from(JSON.stringify(d)) })));
    deps.telemetry.accepted(samples.length);
    deps.telemetry.refused(dead.length);
    deps.telemetry.observeBatch(deps.clock.nowMs() - started);
    if (dead.length > 0) deps.logger.warn({ count: dead.length, code: dead[0]?.code }, 'samples refused to dead letters');
  }

  const consume = async (batch: StreamBatch): Promise<void> => {
    let remaining = batch.records;
    while (remaining.length > 0) {
      const firstOffset = (remaining[0] as ConsumedRecord).offset;
      const planned = await plannedLastOffset(batch.topic, batch.partition, firstOffset);
      let chunk: readonly ConsumedRecord[];
      if (planned !== null) {
        // A replay: cut exactly where the first attempt did, so its insert deduplicates.
        chunk = remaining.filter((r) => BigInt(r.offset) <= planned);
        if (BigInt((chunk[chunk.length - 1] as ConsumedRecord).offset) !== planned) {
          throw new TransportError('CUMULUS_PIPELINE_REPLAY_SHORT', `replay of ${batch.topic}/${batch.partition} from ${firstOffset} has records only to ${(chunk[chunk.length - 1] as ConsumedRecord).offset}, the first attempt went to ${planned}; waiting for the rest`);
        }
      } else {
        chunk = remaining.slice(0, config.maxBatchRecords);
        // Record the cut before writing anything it covers. Wall-clock time on purpose: the
        // plans' TTL runs on the server's clock, whatever time the simulator warps data to.
        await deps.store.insert('ingest_plans', [{ consumer: config.groupId, topic: batch.topic, partition: batch.partition, first_offset: firstOffset, last_offset: (chunk[chunk.length - 1] as ConsumedRecord).offset, planned_at: chTime(new Date().toISOString()) }]);
      }
      await write(batch.topic, batch.partition, chunk);
      remaining = remaining.slice(chunk.length);
    }
  };

  return {
    consume,
    async start() {
      if (handle) return;
      handle = await deps.stream.subscribe({ groupId: config.groupId, topics: [TOPICS.samples], fromBeginning: true, maxBatchRecords: config.maxBatchRecords }, { consume });
    },
    async stop() {
      const current = handle;
      handle = null;
      await current?.close().catch((err: unknown) => deps.logger.warn({ err: errorMessage(err) }, 'closing the sample consumer failed'));
    },
  };
}
