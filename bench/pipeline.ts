import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaStream, TelemetryRegistry, type ComponentTelemetry, encodeMeasureBatch, metricId, sampleId, SampleSigner, silentLogger, systemClock, type MeasureSeries, type Sample, type Stream } from '../core/index.ts';
import { createResourceIndex, createSampleWriter } from '../pipeline/index.ts';
import { ArchivePolicyResolver, BUILTIN_ARCHIVE_POLICIES, createChdbDriver, HotRollups, migrate, selectCrossMetricAggregate, selectMeasures, type ArchivePolicy, type ClickHouseDriver } from '../storage/index.ts';
import { benchGnocchi, GNOCCHI_PEER, gnocchiAvailability, startGnocchi, stopGnocchi, type GnocchiFigures } from './gnocchi-peer.ts';
import { progress, type BenchRow } from './report.ts';
import { cpuSnapshot, cpuSpent, type CpuSnapshot } from './thread-cpu.ts';

/** One ingestion shape: so many metrics, each with so many measures 60 s apart. */
export interface PipelineShape {
  metrics: number;
  points: number;
}

export interface PipelineFigures {
  shape: PipelineShape;
  timing: IngestTiming;
  /** Measures per second, timed as `timing` says, until every measure is in ClickHouse with its rollups. */
  measuresPerSecond: number;
  seconds: number;
  /** CPU seconds per kind of thread over the same span (bench/thread-cpu.ts), as text. */
  cpu: string;
}

/**
 * Where the clock starts. `from-first-send`: the writer has joined its group and the clock
 * runs from the first record produced (Gnocchi's from its first POST: producing is part of
 * the work). `waiting-in-kafka`: every record is in Kafka first, and the clock runs from
 * the writer's first batch (Kafka -> ClickHouse alone, without the group join).
 */
export type IngestTiming = 'from-first-send' | 'waiting-in-kafka';

export interface ReadFigures {
  /** One metric's day at 60 s (mean) as a ClickHouse query, milliseconds. */
  singleP50Ms: number;
  singleP95Ms: number;
  /** Mean across the metrics of their per-metric means, a day at 60 s, milliseconds. */
  crossP50Ms: number;
  crossMetrics: number;
}

const SECRET = 'pipeline-benchmark-metering-secret-0123';
const METRIC = 'bench.gauge';
/**
 * The Gnocchi peer's policy (bench/gnocchi-peer.ts BENCH_ARCHIVE_POLICY): one 60 s archive
 * over a day, so neither side computes rollups the comparison does not read. (Our rollup
 * rows keep every state whatever the methods; that is our cost, not a choice here.)
 */
const POLICY: ArchivePolicy = { name: 'cumulus-bench-60s-1d', back_window: 0, aggregation_methods: ['mean', 'min', 'max', 'sum', 'count'], definition: [{ granularity: 60, points: 1440 }] };
const SINGLE_READS = 50;
const CROSS_READS = 5;
const SEND_CHUNK = 5_000;
/** Measures per batch record: the Gnocchi peer's measures per POST (bench/gnocchi-peer.ts batchMeasures). */
const BATCH_MEASURES = 10_000;

/** How the measures travel: signed batch records of whole metrics, or one signed sample per record. */
export type RecordForm = 'batches' | 'samples';

/**
 * Where the data starts: so many minutes before now, so the last point is the newest.
 * Our retention runs from now (Gnocchi's from a metric's newest point), and the policy
 * keeps a day: data of a fixed past day would already have expired here.
 */
export function benchDataStartMs(points: number, now = Date.now()): number {
  return Math.floor(now / 60_000) * 60_000 - points * 60_000;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * Our pipeline on one shape: signed samples into a topic of their own on the real Kafka,
 * consumed by the sample writer into chDB (metric index, measures, rollups), timed from the
 * first send until the store holds every measure. Then the reads, on the same data.
 */
export async function benchPipeline(brokers: readonly string[], shape: PipelineShape, withReads: boolean, form: RecordForm = 'batches', timing: IngestTiming = 'from-first-send'): Promise<{ ingest: PipelineFigures; reads: ReadFigures | null }> {
  const runId = randomUUID().slice(0, 8);
  const dataDir = mkdtempSync(join(tmpdir(), 'cumulus-bench-pipeline-'));
  const store: ClickHouseDriver = createChdbDriver({ dataDir });
  const stream = new KafkaStream({ brokers, clientId: `bench-pipeline-${runId}`, partitions: 3, replicationFactor: 1 }, silentLogger());
  const topic = `cumulus.bench-samples-${runId}`;
  const batchTopic = `cumulus.bench-batches-${runId}`;
  const total = shape.metrics * shape.points;
  const dayStart = benchDataStartMs(shape.points);
  const resources = Array.from({ length: shape.metrics }, (_, i) => `bench-${runId}-${i}`);
  try {
    await migrate(store);
    await stream.start();
    await stream.ensureTopics([topic, batchTopic]);
    const policies = new ArchivePolicyResolver([...BUILTIN_ARCHIVE_POLICIES, POLICY], [{ name: 'bench', metric_pattern: '*', archive_policy_name: POLICY.name }]);
    const resourceIndex = createResourceIndex({ store, policyForMetric: (name) => policies.forMetric(name).name });
    // Stored measures, as the writer counts them once a chunk is in ClickHouse with its rollups.
    let stored = 0;
    const counted = new TelemetryRegistry().component('bench.pipeline');
    const telemetry: ComponentTelemetry = Object.assign(Object.create(counted) as ComponentTelemetry, {
      accepted(count = 1) {
        stored += count;
        counted.accepted(count);
      },
    });
    // What `cumulus up` gives its API: the rollups of recently written metrics in memory.
    const hot = new HotRollups();
    // The writer's stream, noting when its first batch arrives.
    let firstBatchAt = 0;
    let cpuAtStart: CpuSnapshot = new Map();
    const watched: Stream = {
      kind: stream.kind,
      start: () => stream.start(),
      stop: () => stream.stop(),
      send: (to, batch) => stream.send(to, batch),
      subscribe: (subscription, consumer) =>
        stream.subscribe(subscription, {
          consume: (batch) => {
            if (firstBatchAt === 0) {
              firstBatchAt = performance.now();
              if (timing === 'waiting-in-kafka') cpuAtStart = cpuSnapshot();
            }
            return consumer.consume(batch);
          },
        }),
    };
    const writer = createSampleWriter(
      { groupId: `bench-pipeline-${runId}`, maxBatchRecords: 20_000, meteringSecret: SECRET, topic, measureBatchTopic: batchTopic },
      { stream: watched, store, policies, resourceIndex, clock: systemClock, logger: silentLogger(), telemetry, rollupObserver: hot },
    );
    const signer = new SampleSigner(SECRET);
    const sampleAt = (point: number, resource: number): Sample => {
      const resourceId = resources[resource] as string;
      const messageId = `${runId}-${resource}-${point}`;
      return signer.sign({
        id: sampleId(messageId, METRIC, resourceId),
        name: METRIC,
        type: 'gauge',
        unit: '%',
        volume: ((resource * 31 + point * 17) % 1000) / 10,
        user_id: 'bench-user',
        project_id: 'bench-project',
        resource_id: resourceId,
        timestamp: new Date(dayStart + point * 60_000).toISOString().replace('Z', '+00:00'),
        resource_metadata: {},
        source: 'openstack',
        message_id: messageId,
      });
    };

    // 1. the records, signed and serialized before the clock starts (the collectors' work, as
    //    the Gnocchi peer builds its request bodies first).
    const records: Array<{ key: string; value: Buffer }> = [];
    if (form === 'samples') {
      // One sample per record (Ceilometer's shape), point by point across the metrics.
      for (let point = 0; point < shape.points; point++) {
        for (let resource = 0; resource < shape.metrics; resource++) {
          const s = sampleAt(point, resource);
          records.push({ key: s.resource_id, value: Buffer.from(JSON.stringify(s)) });
        }
        if (point % 50 === 0) progress(`  ours ${shape.metrics}x${shape.points} built`, records.length, total);
      }
    } else {
      // Whole metrics per record, about BATCH_MEASURES measures each: what the Gnocchi peer
      // POSTs per request to /v1/batch/metrics/measures.
      const perRecord = Math.max(1, Math.floor(BATCH_MEASURES / shape.points));
      for (let first = 0; first < shape.metrics; first += perRecord) {
        const series: MeasureSeries[] = [];
        for (let resource = first; resource < Math.min(shape.metrics, first + perRecord); resource++) {
          const timestamps: number[] = new Array(shape.points);
          const volumes: number[] = new Array(shape.points);
          for (let point = 0; point < shape.points; point++) {
            timestamps[point] = (dayStart + point * 60_000) * 1000;
            volumes[point] = ((resource * 31 + point * 17) % 1000) / 10;
          }
          series.push({ name: METRIC, type: 'gauge', unit: '%', resource_id: resources[resource] as string, project_id: 'bench-project', user_id: 'bench-user', source: 'openstack', resource_metadata: {}, timestamps, volumes });
        }
        records.push({ key: series[0]?.resource_id as string, value: encodeMeasureBatch({ id: randomUUID(), series }, SECRET) });
        progress(`  ours ${shape.metrics}x${shape.points} built`, Math.min(first + perRecord, shape.metrics) * shape.points, total);
      }
    }
    progress(`  ours ${shape.metrics}x${shape.points} built`, total, total);
    // 2. the metrics and their resources exist before the clock starts, as the Gnocchi peer
    //    creates its metrics (POST /v1/metric) before its timing.
    await resourceIndex.indexSamples(resources.map((_, i) => sampleAt(0, i)));
    const target = form === 'samples' ? topic : batchTopic;
    const chunk = form === 'samples' ? SEND_CHUNK : 100;
    const sendAll = async () => {
      for (let i = 0; i < records.length; i += chunk) await stream.send(target, records.slice(i, i + chunk));
    };
    let started: number;
    let extra = 0;
    if (timing === 'waiting-in-kafka') {
      // Every record in Kafka, then the writer; the clock starts at its first batch.
      await sendAll();
      await writer.start();
      while (firstBatchAt === 0) await new Promise((r) => setTimeout(r, 1));
      started = firstBatchAt;
    } else {
      // The writer joins its group and waits at the end of the empty topic, as Gnocchi's
      // metricd runs before the POSTs; one warm-up measure (its own metric) shows the
      // partitions are assigned. The clock runs from the first record sent.
      await writer.start();
      const warmup: MeasureSeries = { name: 'bench.warmup', type: 'gauge', unit: '%', resource_id: `bench-${runId}-warmup`, project_id: 'bench-project', user_id: 'bench-user', source: 'openstack', resource_metadata: {}, timestamps: [dayStart * 1000], volumes: [1] };
      await stream.send(batchTopic, [{ key: warmup.resource_id, value: encodeMeasureBatch({ id: randomUUID(), series: [warmup] }, SECRET) }]);
      for (let waited = 0; stored < 1; waited += 100) {
        if (waited > 120_000) throw new Error('the warm-up measure was not stored within 2 minutes');
        await new Promise((r) => setTimeout(r, 100));
      }
      extra = 1;
      cpuAtStart = cpuSnapshot();
      started = performance.now();
      await sendAll();
    }
    records.length = 0;
    // 3. until every measure is stored with its rollups (the writer's count after each chunk).
    const deadline = Date.now() + 1_800_000;
    while (stored < total + extra) {
      if (Date.now() > deadline) throw new Error(`ours ${shape.metrics}x${shape.points}: only ${stored - extra}/${total} measures after 30 minutes`);
      await new Promise((r) => setTimeout(r, 5));
      progress(`  ours ${shape.metrics}x${shape.points} stored (${timing})`, Math.max(0, Math.min(stored - extra, total)), total);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuSpent(cpuAtStart, cpuSnapshot());
    await writer.stop();
    const ingest = { shape, timing, measuresPerSecond: total / seconds, seconds, cpu };
    process.stderr.write(`  ours ${shape.metrics}x${shape.points} (${timing}): ${Math.round(ingest.measuresPerSecond).toLocaleString('en-US')} measures/s, ${seconds.toFixed(2)} s; CPU over that span: ${cpu}\n`);
    if (!withReads) return { ingest, reads: null };

    // 4. reads: one metric's day at 60 s, then the mean across all the metrics.
    const now = new Date();
    const start = new Date(dayStart);
    const stop = new Date(dayStart + 86_400_000);
    const ids = resources.map((r) => metricId(r, METRIC));
    const single: number[] = [];
    for (let i = 0; i < SINGLE_READS; i++) {
      const t = performance.now();
      const rows = await store.query(selectMeasures({ metricId: ids[i % ids.length] as string, method: 'mean', granularity: 60, start, stop, now }));
      single.push(performance.now() - t);
      if (rows.length !== Math.min(shape.points, 1440)) throw new Error(`a single-metric read returned ${rows.length} points, expected ${Math.min(shape.points, 1440)}`);
    }
    const cross: number[] = [];
    for (let i = 0; i < CROSS_READS; i++) {
      const t = performance.now();
      const rows = await store.query(selectCrossMetricAggregate({ metricIds: ids, method: 'mean', reaggregation: 'mean', granularity: 60, start, stop, now }));
      cross.push(performance.now() - t);
      if (rows.length !== Math.min(shape.points, 1440)) throw new Error(`the cross-metric mean returned ${rows.length} points, expected ${Math.min(shape.points, 1440)}`);
    }
    single.sort((a, b) => a - b);
    cross.sort((a, b) => a - b);
    return { ingest, reads: { singleP50Ms: percentile(single, 50), singleP95Ms: percentile(single, 95), crossP50Ms: percentile(cross, 50), crossMetrics: ids.length } };
  } finally {
    await stream.stop().catch(() => undefined);
    await store.close().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Both shapes of the issue, or small ones for a quick look (BENCH_PIPELINE_QUICK=1). */
function shapes(): [PipelineShape, PipelineShape] {
  return process.env.BENCH_PIPELINE_QUICK === '1'
    ? [
        { metrics: 100, points: 100 },
        { metrics: 100, points: 1000 },
      ]
    : [
        { metrics: 1000, points: 100 },
        { metrics: 1000, points: 1000 },
      ];
}

const row = (name: string, value: number, unit: string, peerValue: number | null, better: 'higher' | 'lower' = 'higher'): BenchRow => ({ suite: 'pipeline', name, value, unit, peer: peerValue === null ? null : GNOCCHI_PEER, peer_value: peerValue, better });

/**
 * The pipeline beside real Gnocchi 4.4 (scripts/gnocchi.sh: gnocchi-api + metricd, file
 * storage, PostgreSQL index) in the same run: measures/s end to end on both shapes, one
 * metric's day read at 60 s, and the mean across all the metrics of the larger shape.
 */
export async function benchPipelineBesideGnocchi(brokers: readonly string[]): Promise<BenchRow[]> {
  const [small, large] = shapes();
  process.stderr.write(`pipeline benchmark: ours, ${small.metrics}x${small.points} then ${large.metrics}x${large.points} measures (Kafka -> ClickHouse rollups)\n`);
  const ours = [await benchPipeline(brokers, small, true), await benchPipeline(brokers, large, true)];
  const waiting = [await benchPipeline(brokers, small, false, 'batches', 'waiting-in-kafka'), await benchPipeline(brokers, large, false, 'batches', 'waiting-in-kafka')];
  process.stderr.write('pipeline benchmark: Gnocchi 4.4, the same shapes (bash scripts/gnocchi.sh start)\n');
  let peer: GnocchiFigures | null = null;
  try {
    startGnocchi();
    const available = await gnocchiAvailability();
    if (!available.available) throw new Error(available.reason);
    peer = await benchGnocchi({ shapes: [small, large], aggregateSizes: [large.metrics] });
  } catch (err) {
    process.stderr.write(`Gnocchi could not be measured (${err instanceof Error ? err.message : String(err)}): no peer figures\n`);
  } finally {
    stopGnocchi();
  }
  const rows: BenchRow[] = [];
  ours.forEach(({ ingest, reads }, i) => {
    const theirs = peer?.ingestion[i]?.measuresPerSecond ?? null;
    rows.push(row(`measures/s end to end from the first record produced, ${ingest.shape.metrics} metrics x ${ingest.shape.points} points (producer -> Kafka -> ClickHouse rollups; Gnocchi: first POST -> metricd done)`, ingest.measuresPerSecond, 'measures/s', theirs));
    const kafkaOnly = waiting[i]?.ingest;
    if (kafkaOnly) rows.push(row(`measures/s Kafka -> ClickHouse rollups, records waiting in Kafka, from the writer's first batch, ${kafkaOnly.shape.metrics} x ${kafkaOnly.shape.points} (Gnocchi: first POST -> metricd done)`, kafkaOnly.measuresPerSecond, 'measures/s', theirs));
    // Over HTTP, from the hot rollups as `cumulus up` serves them: the api suite (bench/api.ts).
    if (reads) rows.push(row(`one metric's day at 60 s (${Math.min(ingest.shape.points, 1440)} points), p50: the ClickHouse query alone (Gnocchi: over HTTP; ours over HTTP in the api suite)`, reads.singleP50Ms, 'ms', peer?.reads[i]?.p50Ms ?? null, 'lower'));
  });
  const crossOurs = ours[1]?.reads;
  const crossTheirs = peer?.aggregates.find((a) => a.metrics === large.metrics);
  if (crossOurs) rows.push(row(`mean across ${crossOurs.crossMetrics} metrics, a day at 60 s, p50`, crossOurs.crossP50Ms, 'ms', crossTheirs && 'p50Ms' in crossTheirs ? crossTheirs.p50Ms : null, 'lower'));
  return rows;
}
