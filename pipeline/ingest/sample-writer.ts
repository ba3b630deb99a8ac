import { ConfigError, TOPICS, errorMessage, metricId, refusedByReason, type Clock, type ComponentTelemetry, type DeadLetter, type Lifecycle, type Logger, type Sample, type Stream, type StreamBatch, type StreamConsumerHandle } from '../../core/index.ts';
import { maxBlockSize, recordMeasureRefusals, selectNewestMeasureTimes, type ArchivePolicy, type ClickHouseDriver, type NewestMeasureTimeRow } from '../../storage/index.ts';
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

/** Strings JSON writes as they are between quotes: no quote, backslash, control character or surrogate. */
const PLAIN_STRING = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/** JSON.stringify of a string, without the call for the common plain ones (ids, times). */
const jsonString = (value: string): string => (PLAIN_STRING.test(value) ? `"${value}"` : JSON.stringify(value));

/** JSON.stringify of a number: its shortest round-trip form, null when not finite. */
const jsonNumber = (value: number): string => (Number.isFinite(value) ? String(value) : 'null');

interface PendingMeasure extends BackWindowMeasure {
  sample: Sample;
  policy: ArchivePolicy;
  offset: string;
}

/** The part of a measure row its archive policy decides: levels and their retentions. */
export function measureLevelsJson(policy: ArchivePolicy): string {
  return `"granularities":${JSON.stringify(policy.definition.map((l) => l.granularity))},"retentions":${JSON.stringify(policy.definition.map((l) => l.granularity * l.points))}`;
}

/**
 * One `measures` row as a JSONEachRow line: the bytes JSON.stringify writes for
 * `{ metric_id, ts, value, sample_id, granularities, retentions }` (tested against it),
 * written directly, as this runs for every measure. `levels` is measureLevelsJson(policy).
 */
export function measureRowJson(metricId: string, ts: string, value: number, sampleId: string, levels: string): string {
  return `{"metric_id":${jsonString(metricId)},"ts":${jsonString(ts)},"value":${jsonNumber(value)},"sample_id":${jsonString(sampleId)},${levels}}\n`;
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
    //    Times and policies repeat across a chunk's samples (one poll, one meter): each is worked out once.
    const times = new Map<string, number>();
    const pending: PendingMeasure[] = new Array<PendingMeasure>(samples.length);
    const chunkMetricIds = new Set<string>();
    for (let i = 0; i < samples.length; i++) {
      const sample = samples[i] as Sample;
      let timestampMs = times.get(sample.timestamp);
      if (timestampMs === undefined) {
        timestampMs = Date.parse(sample.timestamp);
        times.set(sample.timestamp, timestampMs);
      }
      const id = metricIdOf(sample.resource_id, sample.name);
      chunkMetricIds.add(id);
      pending[i] = { sample, metricId: id, timestampMs, policy: deps.policies.forMetric(sample.name), offset: offsets[i] as string };
    }
    const { accepted, refused, newest } = applyBackWindow(pending, await newestBefore([...chunkMetricIds]), (m) => m.policy);
    const refusedPerMetric = new Map<string, number>();
    for (const { measure, code, reason } of refused) {
      refuse(measure.offset, Buffer.from(JSON.stringify(measure.sample)), code, reason);
      refusedPerMetric.set(measure.metricId, (refusedPerMetric.get(measure.metricId) ?? 0) + 1);
    }
    // 3. measures, deduplicated by the chunk's offsets (the rollups' view inherits the token).
    //    Written as JSONEachRow text directly: a generic serializer costs more than the engine's insert.
    const levels = new Map<ArchivePolicy, string>();
    const tsText = new Map<number, string>();
    const policyOf = new Map<string, ArchivePolicy>();
    let text = '';
    for (const { sample, metricId: id, timestampMs, policy } of accepted) {
      let level = levels.get(policy);
      if (level === undefined) {
        level = measureLevelsJson(policy);
        levels.set(policy, level);
      }
      let ts = tsText.get(timestampMs);
      if (ts === undefined) {
        ts = chTime(timestampMs);
        tsText.set(timestampMs, ts);
      }
      text += measureRowJson(id, ts, sample.volume, sample.id, level);
      policyOf.set(id, policy);
    }
    if (accepted.length > 0) await deps.store.insertJsonEachRow('measures', text, { dedupToken });
    // Reported per metric (GET /v1/metric/<id> refused_measures); the chunk's token makes a replay count once.
    if (refusedPerMetric.size > 0) {
      await recordMeasureRefusals(deps.store, [...refusedPerMetric].map(([metricId, count]) => ({ metricId, reason: 'back_window' as const, count })), { now: deps.clock.now(), dedupToken: `${dedupToken}:refusals` });
    }
    // 4. dead letters, so a refused record is kept with its reason before its offset is committed.
    if (dead.length > 0) await deps.stream.send(TOPICS.dead, dead.map((d) => ({ key: null, value: Buffer.from(JSON.stringify(d)) })));
    // 5. only now does the cache learn the new newest blocks: a failed chunk is retried from what is stored.
    if (newestBlock.size > NEWEST_CACHE_LIMIT) newestBlock.clear();
    for (const [id, ms] of newest) {
      const policy = policyOf.get(id);
      if (!policy) continue;
      const blockMs = maxBlockSize(policy) * 1000;
      newestBlock.set(id, Math.floor(ms / blockMs) * blockMs);
    }
    deps.telemetry.accepted(accepted.length);
    refusedByReason(deps.telemetry, dead.map((d) => d.code));
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
