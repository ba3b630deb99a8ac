import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { InProcessStream, ManualClock, TelemetryRegistry, TOPICS, encodeMeasureBatch, metricId, sampleId, signSample, silentLogger, type ConsumedRecord, type MeasureBatch, type MeasureBatchFormat, type MeasureSeries, type Sample } from '../../core/index.ts';
import { ArchivePolicyResolver, BUILTIN_ARCHIVE_POLICIES, createChdbDriver, migrate, selectMeasureRefusals, selectMeasures, type ClickHouseDriver, type MeasureRefusalRow } from '../../storage/index.ts';
import { createResourceIndex } from './resource-index.ts';
import { createSampleWriter } from './sample-writer.ts';

const SECRET = 'test-metering-secret-0123456789';
// Recent data: rollups expire by the server's own clock (TTL), so even the 1 s level (kept
// an hour) must still hold it. Minute-aligned, ten minutes ago.
const T0 = Math.floor((Date.now() - 600_000) / 60_000) * 60_000;

function sample(resource: string, name: string, volume: number, atMs: number, n: number): Sample {
  return signSample(
    {
      id: sampleId(`msg-${resource}-${name}-${n}`, name, resource),
      name,
      type: 'gauge',
      unit: 'vcpu',
      volume,
      user_id: 'u1',
      project_id: 'p1',
      resource_id: resource,
      timestamp: new Date(atMs).toISOString(),
      resource_metadata: { display_name: 'vm' },
      source: 'openstack',
      message_id: `msg-${resource}-${name}-${n}`,
    },
    SECRET,
  );
}

const records = (samples: readonly (Sample | Buffer)[], firstOffset = 0): ConsumedRecord[] =>
  samples.map((s, i) => ({ key: null, value: Buffer.isBuffer(s) ? s : Buffer.from(JSON.stringify(s)), offset: String(firstOffset + i), timestampMs: T0 }));

describe('sample writer (chDB)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cumulus-writer-'));
  let store: ClickHouseDriver;
  const clock = new ManualClock(T0 + 60_000);
  const policies = new ArchivePolicyResolver(BUILTIN_ARCHIVE_POLICIES, [
    { name: 'high', metric_pattern: 'cpu.*', archive_policy_name: 'high' },
    { name: 'default', metric_pattern: '*', archive_policy_name: 'ceilometer-low' },
  ]);
  let stream: InProcessStream;
  let group = 0;

  const writer = (maxBatchRecords = 1000) =>
    createSampleWriter(
      { groupId: `g${group}`, maxBatchRecords, meteringSecret: SECRET },
      { stream, store, policies, resourceIndex: createResourceIndex({ store, policyForMetric: (name) => policies.forMetric(name).name }), clock, logger: silentLogger(), telemetry: new TelemetryRegistry().component('w') },
    );

  const points = async (resource: string, name: string, method: 'mean' | 'sum' | 'count' | 'max' | 'std' | 'first' | 'last', granularity?: number) =>
    (await store.query<{ bucket: string; granularity: number; value: number }>(selectMeasures({ metricId: metricId(resource, name), method, granularity, now: clock.now() }))).map((r) => [Number(r.bucket), Number(r.granularity), Number(r.value)]);

  beforeAll(async () => {
    store = createChdbDriver({ dataDir: dir });
    await migrate(store);
  });
  beforeEach(async () => {
    group += 1;
    stream = new InProcessStream(1);
    await stream.start();
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('aggregates measures into every granularity of the metric\'s policy, exactly', async () => {
    const r = 'res-exact';
    // high: 1 s, 60 s and 3600 s levels. Values at 10:00:00, :00.5, :30, 10:01:10.
    const batch = [sample(r, 'cpu.util', 10, T0, 1), sample(r, 'cpu.util', 20, T0 + 500, 2), sample(r, 'cpu.util', 60, T0 + 30_000, 3), sample(r, 'cpu.util', 5, T0 + 70_000, 4)];
    await writer().consume({ topic: TOPICS.samples, partition: 0, records: records(batch) });
    const t0 = T0 / 1000;
    // Expected values computed here, independently of the SQL: group (time, value) by bucket.
    const data: Array<[number, number]> = [[T0, 10], [T0 + 500, 20], [T0 + 30_000, 60], [T0 + 70_000, 5]];
    const expected = (granularity: number, reduce: (values: number[]) => number) => {
      const groups = new Map<number, number[]>();
      for (const [at, value] of data) {
        const bucket = Math.floor(at / 1000 / granularity) * granularity;
        groups.set(bucket, [...(groups.get(bucket) ?? []), value]);
      }
      return [...groups.entries()].sort(([a], [b]) => a - b).map(([bucket, values]) => [bucket, granularity, reduce(values)]);
    };
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    expect(await points(r, 'cpu.util', 'mean', 60)).toEqual([[t0, 60, 30], [t0 + 60, 60, 5]]);
    expect(await points(r, 'cpu.util', 'mean', 1)).toEqual([[t0, 1, 15], [t0 + 30, 1, 60], [t0 + 70, 1, 5]]);
    expect(await points(r, 'cpu.util', 'mean', 3600)).toEqual(expected(3600, mean));
    expect(await points(r, 'cpu.util', 'sum', 3600)).toEqual(expected(3600, (v) => v.reduce((a, b) => a + b, 0)));
    expect(await points(r, 'cpu.util', 'count', 3600)).toEqual(expected(3600, (v) => v.length));
    expect(await points(r, 'cpu.util', 'max', 3600)).toEqual(expected(3600, (v) => Math.max(...v)));
    expect(await points(r, 'cpu.util', 'first', 60)).toEqual([[t0, 60, 10], [t0 + 60, 60, 5]]);
    expect(await points(r, 'cpu.util', 'last', 60)).toEqual([[t0, 60, 60], [t0 + 60, 60, 5]]);
    // Sample standard deviation of 10, 20, 60: mean 30, squares 400+100+900=1400, /2 = 700.
    const [std] = await points(r, 'cpu.util', 'std', 60);
    expect(std?.[2]).toBeCloseTo(Math.sqrt(700), 9);
    // All levels, coarsest first.
    expect((await points(r, 'cpu.util', 'mean')).map((p) => p[1])).toEqual([...expected(3600, mean), [0, 60], [0, 60], [0, 1], [0, 1], [0, 1]].map((p) => p[1]));
  });

  it('counts a replayed batch once: same offsets, same cut, the insert is deduplicated', async () => {
    const r = 'res-replay';
    const batch = records([1, 2, 3].map((n) => sample(r, 'vcpus', n, T0 + n * 1000, n)));
    const w = writer();
    await w.consume({ topic: TOPICS.samples, partition: 0, records: batch });
    await w.consume({ topic: TOPICS.samples, partition: 0, records: batch });
    expect(await points(r, 'vcpus', 'mean')).toEqual([[Math.floor(T0 / 300_000) * 300, 300, 2]]);
    const raw = await store.query<{ n: string }>({ sql: 'SELECT count() AS n FROM measures WHERE metric_id = {m:UUID}', params: { m: metricId(r, 'vcpus') } });
    expect(Number(raw[0]?.n)).toBe(3);
  });

  it('cuts a longer replay where the first attempt cut, so a crash between insert and commit never double-counts', async () => {
    const r = 'res-crash';
    const all = records([1, 2, 3, 4, 5, 6].map((n) => sample(r, 'vcpus', 10, T0 + n * 1000, n)));
    // First attempt saw offsets 0-2, wrote them, and "crashed" before committing.
    await writer().consume({ topic: TOPICS.samples, partition: 0, records: all.slice(0, 3) });
    // A new process (fresh caches) replays from offset 0 with more records available.
    await writer().consume({ topic: TOPICS.samples, partition: 0, records: all });
    const raw = await store.query<{ n: string }>({ sql: 'SELECT count() AS n FROM measures WHERE metric_id = {m:UUID}', params: { m: metricId(r, 'vcpus') } });
    expect(Number(raw[0]?.n)).toBe(6);
    const sums = await store.query<{ c: string }>({ sql: 'SELECT sum(count) AS c FROM rollups WHERE metric_id = {m:UUID}', params: { m: metricId(r, 'vcpus') } });
    expect(Number(sums[0]?.c)).toBe(6);
  });

  it('sends forged, unsigned and malformed samples to dead letters with their reason, and keeps the rest', async () => {
    const r = 'res-dead';
    const good = sample(r, 'vcpus', 2, T0, 1);
    const forged = { ...sample(r, 'vcpus', 2, T0, 2), volume: 999 };
    const unsigned = { ...sample(r, 'vcpus', 2, T0, 3), message_signature: '' };
    const dead: Array<{ code: string; reason: string; payload_base64: string }> = [];
    const handle = await stream.subscribe({ groupId: 'dead-reader', topics: [TOPICS.dead], fromBeginning: true, maxBatchRecords: 100 }, {
      consume: async (b) => void dead.push(...b.records.map((x) => JSON.parse(x.value.toString()) as (typeof dead)[number])),
    });
    await writer().consume({ topic: TOPICS.samples, partition: 0, records: records([good, forged, unsigned, Buffer.from('{not json')]) });
    const deadline = Date.now() + 5000;
    while (dead.length < 3 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    await handle.close();
    expect(dead.map((d) => d.code).sort()).toEqual(['CUMULUS_PIPELINE_BAD_SIGNATURE', 'CUMULUS_PIPELINE_BAD_SIGNATURE', 'CUMULUS_PIPELINE_MALFORMED_JSON']);
    expect(Buffer.from(dead.find((d) => d.code === 'CUMULUS_PIPELINE_MALFORMED_JSON')?.payload_base64 ?? '', 'base64').toString()).toBe('{not json');
    expect(await points(r, 'vcpus', 'mean')).toEqual([[Math.floor(T0 / 300_000) * 300, 300, 2]]);
  });

  it('consumes from the stream and commits only what reached the store', async () => {
    const r = 'res-stream';
    const w = writer(2);
    await w.start();
    await stream.send(TOPICS.samples, [1, 2, 3, 4, 5].map((n) => ({ key: r, value: Buffer.from(JSON.stringify(sample(r, 'vcpus', n, T0 + n, n))) })));
    const deadline = Date.now() + 10_000;
    while (stream.lag(`g${group}`, TOPICS.samples) > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    await w.stop();
    expect(stream.lag(`g${group}`, TOPICS.samples)).toBe(0);
    expect(await points(r, 'vcpus', 'mean')).toEqual([[Math.floor(T0 / 300_000) * 300, 300, 3]]);
  });

  it('refuses measures older than the back window to the dead letters, with the reason, and merges late ones inside it', async () => {
    const r = 'res-late';
    // ceilometer-low: 300 s blocks, back_window 0. The newest stored measure is in block B;
    // a later batch may reach back to B's start, not before.
    const block = Math.floor(T0 / 300_000) * 300_000;
    const dead: Array<{ code: string; reason: string; payload_base64: string }> = [];
    const handle = await stream.subscribe({ groupId: 'late-reader', topics: [TOPICS.dead], fromBeginning: true, maxBatchRecords: 100 }, {
      consume: async (b) => void dead.push(...b.records.map((x) => JSON.parse(x.value.toString()) as (typeof dead)[number])),
    });
    const w = writer();
    await w.consume({ topic: TOPICS.samples, partition: 0, records: records([sample(r, 'vcpus', 4, block + 120_000, 1)]) });
    const inside = sample(r, 'vcpus', 8, block + 1_000, 2);
    const outside = sample(r, 'vcpus', 100, block - 1_000, 3);
    await w.consume({ topic: TOPICS.samples, partition: 0, records: records([inside, outside], 1) });
    const deadline = Date.now() + 5000;
    while (dead.length < 1 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    await handle.close();
    expect(dead.map((d) => d.code)).toEqual(['CUMULUS_PIPELINE_MEASURE_BEFORE_BACK_WINDOW']);
    expect(dead[0]?.reason).toContain('back window');
    expect((JSON.parse(Buffer.from(dead[0]?.payload_base64 ?? '', 'base64').toString()) as Sample).id).toBe(outside.id);
    // The late measure inside the window is merged into its bucket; the refused one is nowhere.
    expect(await points(r, 'vcpus', 'mean')).toEqual([[block / 1000, 300, 6]]);
    expect(await points(r, 'vcpus', 'count')).toEqual([[block / 1000, 300, 2]]);
    // Counted per metric, once even when the chunk is replayed (same offsets, same token).
    await w.consume({ topic: TOPICS.samples, partition: 0, records: records([inside, outside], 1) });
    const refusals = await store.query<MeasureRefusalRow>(selectMeasureRefusals([metricId(r, 'vcpus')]));
    expect(refusals.map((x) => [x.reason, Number(x.refused)])).toEqual([['back_window', 1]]);
  });

  describe('measure batch records', () => {
    const batchOf = (resource: string, name: string, points: ReadonlyArray<readonly [number, number]>, metadata: Record<string, unknown> = { display_name: 'vm' }): MeasureBatch => ({
      id: randomUUID(),
      series: [{ name, type: 'gauge', unit: 'vcpu', resource_id: resource, project_id: 'p1', user_id: 'u1', source: 'openstack', resource_metadata: metadata, timestamps: points.map(([ms]) => ms * 1000), volumes: points.map(([, v]) => v) }],
    });
    const batchRecords = (batches: readonly (MeasureBatch | Buffer)[], firstOffset = 0, format: MeasureBatchFormat = 'binary'): ConsumedRecord[] =>
      batches.map((b, i) => ({ key: null, value: Buffer.isBuffer(b) ? b : encodeMeasureBatch(b, SECRET, format), offset: String(firstOffset + i), timestampMs: T0 }));
    const deadReader = async (groupId: string) => {
      const dead: Array<{ code: string; reason: string; payload_base64: string }> = [];
      const handle = await stream.subscribe({ groupId, topics: [TOPICS.dead], fromBeginning: true, maxBatchRecords: 100 }, {
        consume: async (b) => void dead.push(...b.records.map((x) => JSON.parse(x.value.toString()) as (typeof dead)[number])),
      });
      return { dead, handle };
    };

    it.each(['binary', 'json'] as const)('stores a batch (%s format) as its measures and exact rollups, and indexes its resource and metric', async (format) => {
      const r = `res-batch-${format}`;
      // high: 1 s, 60 s, 3600 s. Two series of one metric in two records, one out of order.
      const data: Array<[number, number]> = [[T0, 10], [T0 + 500, 20], [T0 + 30_000, 60], [T0 + 70_000, 5], [T0 + 71_000, 7]];
      const first = batchOf(r, 'cpu.util', data.slice(0, 3));
      const second = batchOf(r, 'cpu.util', [data[4] as [number, number], data[3] as [number, number]]);
      await writer().consume({ topic: TOPICS.measureBatches, partition: 0, records: batchRecords([first, second], 0, format) });
      const t0 = T0 / 1000;
      expect(await points(r, 'cpu.util', 'mean', 60)).toEqual([[t0, 60, 30], [t0 + 60, 60, 6]]);
      expect(await points(r, 'cpu.util', 'first', 60)).toEqual([[t0, 60, 10], [t0 + 60, 60, 5]]);
      expect(await points(r, 'cpu.util', 'last', 60)).toEqual([[t0, 60, 60], [t0 + 60, 60, 7]]);
      expect(await points(r, 'cpu.util', 'count', 1)).toEqual([[t0, 1, 2], [t0 + 30, 1, 1], [t0 + 70, 1, 1], [t0 + 71, 1, 1]]);
      const [std] = await points(r, 'cpu.util', 'std', 60);
      expect(std?.[2]).toBeCloseTo(Math.sqrt(700), 9);
      const metrics = await store.query<{ name: string; archive_policy_name: string }>({ sql: 'SELECT name, archive_policy_name FROM metrics FINAL WHERE id = {m:UUID}', params: { m: metricId(r, 'cpu.util') } });
      expect(metrics).toEqual([{ name: 'cpu.util', archive_policy_name: 'high' }]);
      const resources = await store.query<{ project_id: string }>({ sql: 'SELECT project_id FROM resources FINAL WHERE id = {r:String}', params: { r } });
      expect(resources).toEqual([{ project_id: 'p1' }]);
    });

    it('keeps the last value of a time given twice in one series (Gnocchi\'s rule)', async () => {
      const r = 'res-batch-twice';
      await writer().consume({ topic: TOPICS.measureBatches, partition: 0, records: batchRecords([batchOf(r, 'vcpus', [[T0, 1], [T0 + 1000, 2], [T0, 3]])]) });
      expect(await points(r, 'vcpus', 'count')).toEqual([[Math.floor(T0 / 300_000) * 300, 300, 2]]);
      expect(await points(r, 'vcpus', 'sum')).toEqual([[Math.floor(T0 / 300_000) * 300, 300, 5]]);
    });

    it('counts a replayed chunk of batches once', async () => {
      const r = 'res-batch-replay';
      const recs = batchRecords([batchOf(r, 'vcpus', [[T0, 1], [T0 + 1000, 2]]), batchOf(r, 'vcpus', [[T0 + 2000, 3]])]);
      await writer().consume({ topic: TOPICS.measureBatches, partition: 0, records: recs.slice(0, 1) });
      await writer().consume({ topic: TOPICS.measureBatches, partition: 0, records: recs });
      await writer().consume({ topic: TOPICS.measureBatches, partition: 0, records: recs });
      const raw = await store.query<{ n: string }>({ sql: 'SELECT count() AS n FROM measures WHERE metric_id = {m:UUID}', params: { m: metricId(r, 'vcpus') } });
      expect(Number(raw[0]?.n)).toBe(3);
      const sums = await store.query<{ c: string }>({ sql: 'SELECT sum(count) AS c FROM rollups WHERE metric_id = {m:UUID}', params: { m: metricId(r, 'vcpus') } });
      expect(Number(sums[0]?.c)).toBe(3);
    });

    it('sends forged and malformed batches to the dead letters with their reason, and keeps the good ones', async () => {
      const r = 'res-batch-dead';
      const good = batchOf(r, 'vcpus', [[T0, 2]]);
      const forged = encodeMeasureBatch(batchOf(r, 'vcpus', [[T0 + 1000, 999]]), 'another-secret-0123456789');
      const badVolume = encodeMeasureBatch({ ...batchOf(r, 'vcpus', [[T0 + 2000, 1]]), series: [{ ...(batchOf(r, 'vcpus', [[T0, 1]]).series[0] as MeasureSeries), volumes: [Number.NaN] }] }, SECRET, 'json');
      const shortVolumes = encodeMeasureBatch({ ...good, id: randomUUID(), series: [{ ...(good.series[0] as MeasureSeries), volumes: [] }] }, SECRET, 'json');
      const { dead, handle } = await deadReader('batch-dead-reader');
      await writer().consume({ topic: TOPICS.measureBatches, partition: 0, records: batchRecords([good, forged, badVolume, shortVolumes, Buffer.from('{"samples":[]}')]) });
      const deadline = Date.now() + 5000;
      while (dead.length < 4 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      await handle.close();
      expect(dead.map((d) => d.code).sort()).toEqual(['CUMULUS_PIPELINE_BAD_SIGNATURE', 'CUMULUS_PIPELINE_MALFORMED_BATCH', 'CUMULUS_PIPELINE_MALFORMED_BATCH', 'CUMULUS_PIPELINE_MALFORMED_BATCH']);
      const reasons = dead.map((d) => d.reason).join('\n');
      // Format 1 (JSON), where NaN cannot be written: the serializer wrote null, which the check names.
      // (The binary format's checks: core/records/measure-batch.test.ts.)
      expect(reasons).toContain('volumes[0] must be a finite number, got null');
      expect(reasons).toContain('must be an array as long as timestamps (1)');
      expect(reasons).toContain('record is not a measure batch');
      expect(await points(r, 'vcpus', 'mean')).toEqual([[Math.floor(T0 / 300_000) * 300, 300, 2]]);
    });

    it('refuses the measures of a series before the back window, with the reason, and counts them', async () => {
      const r = 'res-batch-late';
      const block = Math.floor(T0 / 300_000) * 300_000;
      const { dead, handle } = await deadReader('batch-late-reader');
      const w = writer();
      await w.consume({ topic: TOPICS.measureBatches, partition: 0, records: batchRecords([batchOf(r, 'vcpus', [[block + 120_000, 4]])]) });
      await w.consume({ topic: TOPICS.measureBatches, partition: 0, records: batchRecords([batchOf(r, 'vcpus', [[block + 1_000, 8], [block - 1_000, 100], [block - 2_000, 101]])], 1) });
      const deadline = Date.now() + 5000;
      while (dead.length < 1 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      await handle.close();
      expect(dead.map((d) => d.code)).toEqual(['CUMULUS_PIPELINE_MEASURE_BEFORE_BACK_WINDOW']);
      expect(dead[0]?.reason).toContain('2 measures of metric');
      const payload = JSON.parse(Buffer.from(dead[0]?.payload_base64 ?? '', 'base64').toString()) as { series: MeasureSeries };
      expect(payload.series.volumes).toEqual([101, 100]); // in time order
      expect(await points(r, 'vcpus', 'mean')).toEqual([[block / 1000, 300, 6]]);
      const refusals = await store.query<MeasureRefusalRow>(selectMeasureRefusals([metricId(r, 'vcpus')]));
      expect(refusals.map((x) => [x.reason, Number(x.refused)])).toEqual([['back_window', 2]]);
    });

    it('consumes both topics from the stream, cutting batch chunks by bytes', async () => {
      const r = 'res-batch-stream';
      const w = createSampleWriter(
        { groupId: `g${group}`, maxBatchRecords: 1000, maxBatchBytes: 1, meteringSecret: SECRET },
        { stream, store, policies, resourceIndex: createResourceIndex({ store, policyForMetric: (name) => policies.forMetric(name).name }), clock, logger: silentLogger(), telemetry: new TelemetryRegistry().component('w') },
      );
      await w.start();
      await stream.send(TOPICS.measureBatches, [1, 2, 3].map((n) => ({ key: r, value: encodeMeasureBatch(batchOf(r, 'vcpus', [[T0 + n * 1000, n]]), SECRET) })));
      await stream.send(TOPICS.samples, [{ key: r, value: Buffer.from(JSON.stringify(sample(r, 'vcpus', 4, T0 + 4000, 4))) }]);
      const deadline = Date.now() + 10_000;
      while ((stream.lag(`g${group}`, TOPICS.measureBatches) > 0 || stream.lag(`g${group}`, TOPICS.samples) > 0) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      await w.stop();
      expect(await points(r, 'vcpus', 'sum')).toEqual([[Math.floor(T0 / 300_000) * 300, 300, 10]]);
      // One planned chunk per record: the byte bound cut after each.
      const plans = await store.query<{ n: string }>({ sql: 'SELECT count() AS n FROM ingest_plans WHERE consumer = {c:String} AND topic = {t:String}', params: { c: `g${group}`, t: TOPICS.measureBatches } });
      expect(Number(plans[0]?.n)).toBe(3);
    });
  });
});
