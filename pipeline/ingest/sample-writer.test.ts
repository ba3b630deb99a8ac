import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InProcessStream, ManualClock, TelemetryRegistry, TOPICS, metricId, sampleId, signSample, silentLogger, type ConsumedRecord, type Sample } from '../../core/index.ts';
import { ArchivePolicyResolver, BUILTIN_ARCHIVE_POLICIES, createChdbDriver, migrate, selectMeasureRefusals, selectMeasures, type ClickHouseDriver, type MeasureRefusalRow } from '../../storage/index.ts';
import { stringifyRow } from '../../storage/chdb-driver.ts';
import { createResourceIndex } from './resource-index.ts';
import { createSampleWriter, measureLevelsJson, measureRowJson } from './sample-writer.ts';

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

describe('measure rows as JSONEachRow text', () => {
  // What the writer inserted before: each row object through the drivers' serializer.
  const asBefore = (metricIdText: string, ts: string, value: number, sampleIdText: string, policy: (typeof BUILTIN_ARCHIVE_POLICIES)[number]) =>
    `${stringifyRow({ metric_id: metricIdText, ts, value, sample_id: sampleIdText, granularities: policy.definition.map((l) => l.granularity), retentions: policy.definition.map((l) => l.granularity * l.points) })}\n`;

  it.each<[string, number]>([
    ['an integer', 42],
    ['a fraction', 0.1 + 0.2],
    ['1e21', 1e21],
    ['a tiny number', 5e-324],
    ['-0', -0],
    ['a negative exponent', -1.5e-7],
    ['the largest double', Number.MAX_VALUE],
    ['NaN (refused by validation; written as JSON.stringify would)', Number.NaN],
    ['Infinity (idem)', Number.POSITIVE_INFINITY],
  ])('writes the bytes JSON.stringify wrote for %s', (_what, value) => {
    for (const policy of BUILTIN_ARCHIVE_POLICIES) {
      const id = metricId('r-1', 'cpu');
      const sid = sampleId('m', 'cpu', 'r-1');
      expect(measureRowJson(id, '2026-01-02 03:04:05.123', value, sid, measureLevelsJson(policy))).toBe(asBefore(id, '2026-01-02 03:04:05.123', value, sid, policy));
    }
  });

  it.each<[string, string]>([
    ['quotes', 'a"b'],
    ['backslashes', 'a\\b\\'],
    ['control characters', 'a\n\t\u0001b'],
    ['unicode', 'café ☁️ 🚀 \u2028'],
    ['a lone surrogate', 'x\ud800y'],
    ['an upper-case UUID', '5B0F4C3E-8D1A-5B1E-9B7E-0A1B2C3D4E5F'],
  ])('escapes strings as JSON.stringify does: %s', (_what, text) => {
    const policy = BUILTIN_ARCHIVE_POLICIES[0] as (typeof BUILTIN_ARCHIVE_POLICIES)[number];
    expect(measureRowJson(text, text, 1, text, measureLevelsJson(policy))).toBe(asBefore(text, text, 1, text, policy));
    expect(JSON.parse(measureRowJson(text, text, 1, text, measureLevelsJson(policy)))).toMatchObject({ metric_id: text, ts: text, sample_id: text });
  });
});

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
});
