import { ConfigError, TOPICS, decodeMeasureBatch, errorMessage, isMeasureBatchRefusal, metricId, refusedByReason, type Clock, type ComponentTelemetry, type DeadLetter, type Lifecycle, type Logger, type DecodedMeasureBatch, type DecodedMeasureSeries, type Sample, type Stream, type StreamBatch, type StreamConsumerHandle } from '../../core/index.ts';
import { insertMeasureRuns, maxBlockSize, recordMeasureRefusals, selectNewestMeasureTimes, type ArchivePolicy, type ClickHouseDriver, type MeasureRun, type NewestMeasureTimeRow, type RollupWriteObserver } from '../../storage/index.ts';
import { MEASURE_BEFORE_BACK_WINDOW, applyBackWindow, oldestAcceptedMs, type BackWindowMeasure } from './back-window.ts';
import { writePlannedChunks, type PlannedChunk } from './batch-plans.ts';
import { DEFAULT_MAX_BATCH_BYTES, type SampleWriterConfig } from './config.ts';
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
  /** Told about every rollup write (the API's hot reads, when they share this process). */
  rollupObserver?: RollupWriteObserver | null;
}

/** Bound on the metrics whose newest block is kept in memory; past it the cache restarts empty (it is re-read). */
const NEWEST_CACHE_LIMIT = 1_000_000;

interface PendingMeasure extends BackWindowMeasure {
  sample: Sample;
  policy: ArchivePolicy;
  offset: string;
}

/** The metrics of `ids` that `known` lacks: nothing was stored for them before this chunk. */
function missingFrom(ids: Iterable<string>, known: ReadonlyMap<string, number>): Set<string> {
  const missing = new Set<string>();
  for (const id of ids) if (!known.has(id)) missing.add(id);
  return missing;
}

/** ISO 8601 of Unix microseconds, keeping the microseconds (the resource index reads them). */
function isoOfMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 23)}${String(micros - ms * 1000).padStart(3, '0')}+00:00`;
}

/**
 * A series' measures with one value per time (a time given twice keeps its last value, as
 * Gnocchi's batch writes do). Most series arrive in strictly increasing time: kept as they are.
 */
function lastValuePerTime(series: DecodedMeasureSeries): { timestamps: Float64Array; volumes: Float64Array } {
  const { timestamps, volumes } = series;
  let increasing = true;
  for (let j = 1; j < timestamps.length && increasing; j++) increasing = (timestamps[j] as number) > (timestamps[j - 1] as number);
  if (increasing) return series;
  const byTime = new Map<number, number>();
  for (let j = 0; j < timestamps.length; j++) {
    byTime.delete(timestamps[j] as number);
    byTime.set(timestamps[j] as number, volumes[j] as number);
  }
  const times = Float64Array.from(byTime.keys()).sort();
  return { timestamps: times, volumes: times.map((t) => byTime.get(t) as number) };
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

  async function writeSamples(chunk: PlannedChunk): Promise<void> {
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
    const before = await newestBefore([...chunkMetricIds]);
    const { accepted, refused, newest } = applyBackWindow(pending, before, (m) => m.policy);
    const refusedPerMetric = new Map<string, number>();
    for (const { measure, code, reason } of refused) {
      refuse(measure.offset, Buffer.from(JSON.stringify(measure.sample)), code, reason);
      refusedPerMetric.set(measure.metricId, (refusedPerMetric.get(measure.metricId) ?? 0) + 1);
    }
    // 3. measures and their rollups, deduplicated by the chunk's offsets.
    const policyOf = new Map<string, ArchivePolicy>();
    const runs: MeasureRun[] = new Array<MeasureRun>(accepted.length);
    for (let i = 0; i < accepted.length; i++) {
      const { sample, metricId: id, timestampMs, policy } = accepted[i] as PendingMeasure;
      runs[i] = { metricId: id, policy, sampleId: sample.id, timestamps: [timestampMs * 1000], values: [sample.volume] };
      policyOf.set(id, policy);
    }
    await insertMeasureRuns(deps.store, runs, { dedupToken, observer: deps.rollupObserver ?? null, emptyBefore: missingFrom(chunkMetricIds, before) });
    // Reported per metric (GET /v1/metric/<id> refused_measures); the chunk's token makes a replay count once.
    if (refusedPerMetric.size > 0) {
      await recordMeasureRefusals(deps.store, [...refusedPerMetric].map(([metricId, count]) => ({ metricId, reason: 'back_window' as const, count })), { now: deps.clock.now(), dedupToken: `${dedupToken}:refusals` });
    }
    // 4. dead letters, so a refused record is kept with its reason before its offset is committed.
    if (dead.length > 0) await deps.stream.send(TOPICS.dead, dead.map((d) => ({ key: null, value: Buffer.from(JSON.stringify(d)) })));
    // 5. only now does the cache learn the new newest blocks: a failed chunk is retried from what is stored.
    learnNewest(newest, policyOf);
    deps.telemetry.accepted(accepted.length);
    refusedByReason(deps.telemetry, dead.map((d) => d.code));
    deps.telemetry.observeBatch(deps.clock.nowMs() - started);
    if (dead.length > 0) deps.logger.warn({ count: dead.length, code: dead[0]?.code }, 'samples refused to dead letters');
  }

  /** Remembers each metric's newest block once its chunk is stored: a failed chunk is retried from what is stored. */
  function learnNewest(newest: ReadonlyMap<string, number>, policyOf: ReadonlyMap<string, ArchivePolicy>): void {
    if (newestBlock.size > NEWEST_CACHE_LIMIT) newestBlock.clear();
    for (const [id, ms] of newest) {
      const policy = policyOf.get(id);
      if (!policy) continue;
      const blockMs = maxBlockSize(policy) * 1000;
      newestBlock.set(id, Math.floor(ms / blockMs) * blockMs);
    }
  }

  /**
   * A chunk of measure batch records: the same steps as samples (index, back window,
   * measures with rollups, refusals, dead letters), per series instead of per measure.
   */
  async function writeBatches(chunk: PlannedChunk): Promise<void> {
    const { topic, partition, records, dedupToken } = chunk;
    const started = deps.clock.nowMs();
    const dead: DeadLetter[] = [];
    const refuse = (offset: string, payload: Buffer, code: string, reason: string) =>
      dead.push({ stage: 'pipeline', code, reason, origin: { topic, partition, offset }, payload_base64: payload.toString('base64'), refused_at: deps.clock.now().toISOString() });
    interface Work {
      batch: DecodedMeasureBatch;
      series: DecodedMeasureSeries;
      offset: string;
      metricId: string;
      policy: ArchivePolicy;
      timestamps: Float64Array;
      volumes: Float64Array;
    }
    const work: Work[] = [];
    const indexed: Sample[] = [];
    for (const record of records) {
      const batch = decodeMeasureBatch(record.value, config.meteringSecret);
      if (isMeasureBatchRefusal(batch)) {
        refuse(record.offset, record.value, batch.code, batch.reason);
        continue;
      }
      for (const series of batch.series) {
        const { timestamps, volumes } = lastValuePerTime(series);
        let earliest = 0;
        for (let j = 1; j < timestamps.length; j++) if ((timestamps[j] as number) < (timestamps[earliest] as number)) earliest = j;
        work.push({ batch, series, offset: record.offset, metricId: metricIdOf(series.resource_id, series.name), policy: deps.policies.forMetric(series.name), timestamps, volumes });
        // The index sees each series as its earliest measure, with the series' attributes.
        indexed.push({
          id: batch.id,
          name: series.name,
          type: series.type,
          unit: series.unit,
          volume: volumes[earliest] as number,
          user_id: series.user_id,
          project_id: series.project_id,
          resource_id: series.resource_id,
          timestamp: isoOfMicros(timestamps[earliest] as number),
          resource_metadata: series.resource_metadata,
          source: series.source,
          message_id: batch.id,
          message_signature: '',
        });
      }
    }
    // 1. index, and read what was stored before this chunk (for the back window), side by
    //    side: both before any measure lands, so a metric is queryable by id before its measures.
    const ids = new Set(work.map((w) => w.metricId));
    const [, before] = await Promise.all([deps.resourceIndex.indexSamples(indexed, dedupToken), newestBefore([...ids])]);
    // 2. the back window, per series.
    const runs: MeasureRun[] = [];
    let accepted = 0;
    const newest = new Map<string, number>();
    const policyOf = new Map<string, ArchivePolicy>();
    const refusedPerMetric = new Map<string, number>();
    for (const w of work) {
      const stored = before.get(w.metricId);
      const barMicros = stored === undefined ? -Infinity : oldestAcceptedMs(stored, w.policy) * 1000;
      let latest = newest.get(w.metricId) ?? (stored === undefined ? -Infinity : stored * 1000);
      const refusedTimes: number[] = [];
      const refusedVolumes: number[] = [];
      let keptTimes: number[] | null = null;
      let keptVolumes: number[] | null = null;
      for (let j = 0; j < w.timestamps.length; j++) {
        const t = w.timestamps[j] as number;
        if (t < barMicros) {
          // The first refusal: the series is copied from here on without its refused measures.
          if (keptTimes === null) {
            keptTimes = Array.from(w.timestamps.subarray(0, j));
            keptVolumes = Array.from(w.volumes.subarray(0, j));
          }
          refusedTimes.push(t);
          refusedVolumes.push(w.volumes[j] as number);
          continue;
        }
        if (keptTimes !== null) {
          keptTimes.push(t);
          (keptVolumes as number[]).push(w.volumes[j] as number);
        }
        if (t > latest) latest = t;
      }
      const run: MeasureRun = { metricId: w.metricId, policy: w.policy, sampleId: w.batch.id, timestamps: keptTimes ?? w.timestamps, values: keptVolumes ?? w.volumes };
      if (run.timestamps.length > 0) runs.push(run);
      accepted += run.timestamps.length;
      if (latest !== -Infinity) newest.set(w.metricId, Math.floor(latest / 1000));
      policyOf.set(w.metricId, w.policy);
      if (refusedTimes.length > 0) {
        refusedPerMetric.set(w.metricId, (refusedPerMetric.get(w.metricId) ?? 0) + refusedTimes.length);
        const blockMs = maxBlockSize(w.policy) * 1000;
        const reason =
          `${refusedTimes.length} measures of metric ${w.metricId} (batch ${w.batch.id}) are before its back window: the newest stored measure lies in the block from ` +
          `${new Date(Math.floor((stored as number) / blockMs) * blockMs).toISOString()}, so policy ${w.policy.name} takes measures from ${new Date(barMicros / 1000).toISOString()} on`;
        refuse(w.offset, Buffer.from(JSON.stringify({ batch_id: w.batch.id, series: { ...w.series, timestamps: refusedTimes, volumes: refusedVolumes } })), MEASURE_BEFORE_BACK_WINDOW, reason);
      }
    }
    // 3. measures and their rollups, under the chunk's token.
    await insertMeasureRuns(deps.store, runs, { dedupToken, observer: deps.rollupObserver ?? null, emptyBefore: missingFrom(ids, before) });
    if (refusedPerMetric.size > 0) {
      await recordMeasureRefusals(deps.store, [...refusedPerMetric].map(([metricId, count]) => ({ metricId, reason: 'back_window' as const, count })), { now: deps.clock.now(), dedupToken: `${dedupToken}:refusals` });
    }
    // 4. dead letters, before the offsets are committed.
    if (dead.length > 0) await deps.stream.send(TOPICS.dead, dead.map((d) => ({ key: null, value: Buffer.from(JSON.stringify(d)) })));
    learnNewest(newest, policyOf);
    deps.telemetry.accepted(accepted);
    refusedByReason(deps.telemetry, dead.map((d) => d.code));
    deps.telemetry.observeBatch(deps.clock.nowMs() - started);
    if (dead.length > 0) deps.logger.warn({ count: dead.length, code: dead[0]?.code }, 'measure batches refused to dead letters');
  }

  const batchTopic = config.measureBatchTopic === undefined ? TOPICS.measureBatches : config.measureBatchTopic;
  const write = (chunk: PlannedChunk): Promise<void> => (chunk.topic === batchTopic ? writeBatches(chunk) : writeSamples(chunk));
  const consume = (batch: StreamBatch): Promise<void> =>
    writePlannedChunks(
      deps.store,
      batch.topic === batchTopic ? { consumer: config.groupId, maxBatchRecords: config.maxBatchRecords, maxBatchBytes: config.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES } : { consumer: config.groupId, maxBatchRecords: config.maxBatchRecords },
      batch,
      write,
    );

  return {
    consume,
    async start() {
      if (handle) return;
      handle = await deps.stream.subscribe({ groupId: config.groupId, topics: batchTopic === null ? [config.topic ?? TOPICS.samples] : [config.topic ?? TOPICS.samples, batchTopic], fromBeginning: true, maxBatchRecords: config.maxBatchRecords }, { consume });
    },
    async stop() {
      const current = handle;
      handle = null;
      await current?.close().catch((err: unknown) => deps.logger.warn({ err: errorMessage(err) }, 'closing the sample consumer failed'));
    },
  };
}
