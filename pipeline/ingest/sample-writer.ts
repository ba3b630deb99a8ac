import { ConfigError, TOPICS, errorMessage, metricId, type Clock, type ComponentTelemetry, type DeadLetter, type Lifecycle, type Logger, type Sample, type Stream, type StreamBatch, type StreamConsumerHandle } from '../../core/index.ts';
import { selectNewestMeasureTimes, type ArchivePolicy, type ClickHouseDriver, type NewestMeasureTimeRow } from '../../storage/index.ts';
import { applyBackWindow, type BackWindowMeasure } from './back-window.ts';
import { writePlannedChunks, type PlannedChunk } from './batch-plans.ts';
import type { SampleWriterConfig } from './config.ts';
import type { ResourceIndex } from './resource-index.ts';
import { isRefusal, validateSample } from './validate.ts';

export interface SampleWriterDeps {
  stream: Stream;
  store: ClickHouseDriver;
  /** The archive policy of a metric, by name (the archive-policy rules' answer). */
  policies: { forMetric(metricName: string): ArchivePolicy };
  /** Metrics and resources are indexed before their measures land. */
  resourceIndex: ResourceIndex;
  clock: Clock;
  logger: Logger;
  telemetry: ComponentTelemetry;
}

/** Bound on the metrics whose newest block is kept in memory; past it the cache restarts empty (it is re-read). */
const NEWEST_CACHE_LIMIT = 1_000_000;

const chTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

interface PendingMeasure extends BackWindowMeasure {
  sample: Sample;
  policy: ArchivePolicy;
  offset: string;
}

/**
 * Consumes signed samples from the stream into ClickHouse: the metric and resource index,
 * then the measures, whose materialized view fills every rollup of the metric's policy.
 * Exactly-once effect: each batch is cut at stream offsets recorded in `ingest_plans`
 * before the insert (batch-plans.ts), and inserted with a token made of those offsets, so a
 * replay after a crash cuts the same way and ClickHouse drops the repeated insert. Measures
 * older than their metric's back window are refused to the dead letters with the reason,
 * as Gnocchi refuses them, never merged silently.
 */
export function createSampleWriter(config: SampleWriterConfig, deps: SampleWriterDeps): Lifecycle & { consume(batch: StreamBatch): Promise<void> } {
  if (!config.meteringSecret) throw new ConfigError('pipeline.meteringSecret is required to verify sample signatures');
  if (!Number.isInteger(config.maxBatchRecords) || config.maxBatchRecords < 1) throw new ConfigError(`pipeline.maxBatchRecords must be a whole number >= 1, got ${config.maxBatchRecords}`);
  // Per metric, the start (ms) of the block holding its newest stored measure: what the back window is measured from.
  const newestBlock = new Map<string, number>();
  // Metric ids by resource and name: a SHA-1 per sample otherwise, for the same few thousand metrics.
  const metricIds = new Map<string, string>();
  const metricIdOf = (resourceId: string, name: string): string => {
    const key = `${resourceId}\u0000${name}`;
    let id = metricIds.get(key);
    if (id === undefined) {
      id = metricId(resourceId, name);
      if (metricIds.size >= NEWEST_CACHE_LIMIT) metricIds.clear();
      metricIds.set(key, id);
    }
    return id;
  };
  let handle: StreamConsumerHandle | null = null;

  async function newestBefore(metricIds: readonly string[]): Promise<Map<string, number>> {
    const known = new Map<string, number>();
    const misses: string[] = [];
    for (const id of metricIds) {
      const block = newestBlock.get(id);
      if (block === undefined) misses.push(id);
      else known.set(id, block);
    }
    if (misses.length > 0) {
      for (const row of await deps.store.query<NewestMeasureTimeRow>(selectNewestMeasureTimes(misses))) known.set(row.metric_id, Number(row.newest_block) * 1000);
    }
    return known;
  }

  async function write(chunk: PlannedChunk): Promise<void> {
    const { topic, partition, records, dedupToken } = chunk;
    const started = deps.clock.nowMs();
    const samples: Sample[] = [];
    const offsets: string[] = [];
    const dead: DeadLetter[] = [];
    const refuse = (offset: string, value: Buffer, code: string, reason: string) =>
      dead.push({ stage: 'pipeline', code, reason, origin: { topic, partition, offset }, payload_base64: value.toString('base64'), refused_at: deps.clock.now().toISOString() });
    for (const record of records) {
      const result = validateSample(record.value, config.meteringSecret);
      if (isRefusal(result)) refuse(record.offset, record.value, result.code, result.reason);
      else {
        samples.push(result);
        offsets.push(record.offset);
      }
    }
    // 1. index first: a metric is queryable by id before its measures land, never after.
    await deps.resourceIndex.indexSamples(samples, dedupToken);
    // 2. the back window, from what was stored before this chunk.
    const pending: PendingMeasure[] = samples.map((sample, i) => ({ sample, metricId: metricIdOf(sample.resource_id, sample.name), timestampMs: Date.parse(sample.timestamp), policy: deps.policies.forMetric(sample.name), offset: offsets[i] as string }));
    const { accepted, refused, newest } = applyBackWindow(pending, await newestBefore([...new Set(pending.map((m) => m.metricId))]), (m) => m.policy);
    for (const { measure, code, reason } of refused) refuse(measure.offset, Buffer.from(JSON.stringify(measure.sample)), code, reason);
    // 3. measures, deduplicated by the chunk's offsets (the rollups' view inherits the token).
    const rows = accepted.map(({ sample, metricId: id, timestampMs, policy }) => ({
      metric_id: id,
      ts: chTime(timestampMs),
      value: sample.volume,
      sample_id: sample.id,
      granularities: policy.definition.map((l) => l.granularity),
      retentions: policy.definition.map((l) => l.granularity * l.points),
    }));
    if (rows.length > 0) await deps.store.insert('measures', rows, { dedupToken });
    // 4. dead letters, so a refused record is kept with its reason before its offset is committed.
    if (dead.length > 0) await deps.stream.send(TOPICS.dead, dead.map((d) => ({ key: null, value: Buffer.from(JSON.stringify(d)) })));
    // 5. only now does the cache learn the new newest blocks: a failed chunk is retried from what is stored.
    if (newestBlock.size > NEWEST_CACHE_LIMIT) newestBlock.clear();
    for (const [id, ms] of newest) {
      const policy = accepted.find((m) => m.metricId === id)?.policy;
      if (!policy) continue;
      const blockMs = Math.max(...policy.definition.map((l) => l.granularity)) * 1000;
      newestBlock.set(id, Math.floor(ms / blockMs) * blockMs);
    }
    deps.telemetry.accepted(rows.length);
    deps.telemetry.refused(dead.length);
    deps.telemetry.observeBatch(deps.clock.nowMs() - started);
    if (dead.length > 0) deps.logger.warn({ count: dead.length, code: dead[0]?.code }, 'samples refused to dead letters');
  }

  const consume = (batch: StreamBatch): Promise<void> => writePlannedChunks(deps.store, { consumer: config.groupId, maxBatchRecords: config.maxBatchRecords }, batch, write);

  return {
    consume,
    async start() {
      if (handle) return;
      handle = await deps.stream.subscribe({ groupId: config.groupId, topics: [config.topic ?? TOPICS.samples], fromBeginning: true, maxBatchRecords: config.maxBatchRecords }, { consume });
    },
    async stop() {
      const current = handle;
      handle = null;
      await current?.close().catch((err: unknown) => deps.logger.warn({ err: errorMessage(err) }, 'closing the sample consumer failed'));
    },
  };
}
