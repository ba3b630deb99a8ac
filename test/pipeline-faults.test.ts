import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaStream, TOPICS, encodeMeasureBatch, metricId, sampleId, signSample, silentLogger, type MeasureSeries } from '../core/index.ts';
import { startChdbHttpEndpoint, type ChdbHttpEndpoint } from '../storage/chdb-http-endpoint.ts';
import { createChdbDriver, migrate, selectMeasures, type ClickHouseDriver } from '../storage/index.ts';
import { KAFKA_BROKERS, serviceGate } from './support/services.ts';

const kafka = await serviceGate('Kafka', KAFKA_BROKERS[0] as string);

const SECRET = 'pipeline-fault-metering-secret-0123456789';
const RESOURCES = 40;
const POINTS = 300;
/** Small batches, so that a kill lands between the plan, the insert and the commit of some batch. */
const MAX_BATCH = 400;
/** ceilometer-low, the policy the default rule gives: 5-minute buckets. */
const GRANULARITY = 300;
/** Measures per batch record for the resources that send batches. */
const BATCH_POINTS = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A value no simple formula of the bucket reproduces by chance, so a lost or doubled measure shows. */
const valueOf = (resource: number, point: number) => ((resource * 7919 + point * 104_729) % 1000) / 10 + resource;

interface Expected {
  count: number;
  sum: number;
  min: number;
  max: number;
  first: number;
  last: number;
}

/**
 * The pipeline as its own process, between real Kafka and ClickHouse (chDB behind the
 * HTTP interface, as a server would be): killed with SIGKILL mid-stream, Kafka restarted
 * once, then ClickHouse unreachable for a while under a running pipeline. Afterwards every
 * rollup equals the one computed here from the measures sent (as samples and as measure
 * batches): nothing lost, nothing twice.
 */
describe.runIf(kafka.run)('pipeline crash, Kafka restart and ClickHouse outage', { timeout: 300_000 }, () => {
  const runId = `pf${randomUUID().slice(0, 8)}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'cumulus-pipeline-faults-'));
  let store: ClickHouseDriver | null = null;
  let endpoint: ChdbHttpEndpoint | null = null;
  let child: ChildProcess | null = null;
  const producer = new KafkaStream({ brokers: KAFKA_BROKERS, clientId: `pipeline-faults-${runId}`, partitions: 3, replicationFactor: 1 }, silentLogger());

  const logPath = join(dataDir, 'pipeline.log');
  /** The stage's log, for the failure message: what it was doing when the test gave up. */
  const logTail = () => {
    try {
      return readFileSync(logPath, 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '(no log)';
    }
  };
  const startPipeline = (url: string) => {
    const log = openSync(logPath, 'a');
    const started = spawn(process.execPath, ['bin/cumulus.mjs', 'pipeline', '--group', `cumulus-pipeline-${runId}`, '--max-batch', String(MAX_BATCH), '--data-dir', join(dataDir, 'stage')], {
      env: { ...process.env, KAFKA_BROKERS: KAFKA_BROKERS.join(','), CLICKHOUSE_URL: url, CUMULUS_METERING_SECRET: SECRET, CUMULUS_LOG_LEVEL: 'warn' },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    child = started;
    return started;
  };
  const stopPipeline = async (signal: NodeJS.Signals) => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill(signal);
    await exited;
  };

  afterAll(async () => {
    await stopPipeline('SIGKILL');
    await producer.stop().catch(() => undefined);
    await endpoint?.close();
    await store?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('has Kafka to run against', () => {
    expect(kafka.available, `Kafka must be reachable at ${KAFKA_BROKERS.join(',')}`).toBe(true);
  });

  it('ends with every aggregate exact after a SIGKILL, a Kafka restart and a ClickHouse outage', async () => {
    store = createChdbDriver({ dataDir: join(dataDir, 'clickhouse') });
    await migrate(store);
    endpoint = await startChdbHttpEndpoint(store);
    const url = endpoint.url;
    const port = Number(new URL(url).port);

    // The measures, and what every 5-minute bucket of every metric must hold at the end:
    // even resources as one signed sample per measure, odd ones as measure batches of
    // BATCH_POINTS consecutive measures (cumulus.measure-batches; both wire formats).
    const start = Math.floor((Date.now() - 2 * 86_400_000) / 86_400_000) * 86_400_000;
    const records: Array<{ at: number; resource: string; topic: string; value: Buffer }> = [];
    const expected = new Map<string, Map<number, Expected>>();
    let total = 0;
    for (let r = 0; r < RESOURCES; r++) {
      const resourceId = `${runId}-vm-${r}`;
      const buckets = new Map<number, Expected>();
      expected.set(metricId(resourceId, 'fault.gauge'), buckets);
      let series: (MeasureSeries & { timestamps: number[]; volumes: number[] }) | null = null;
      for (let p = 0; p < POINTS; p++) {
        const ts = start + p * 60_000;
        const value = valueOf(r, p);
        total++;
        if (r % 2 === 0) {
          const messageId = `${runId}-${r}-${p}`;
          const sample = signSample(
            { id: sampleId(messageId, 'fault.gauge', resourceId), name: 'fault.gauge', type: 'gauge', unit: '%', volume: value, user_id: 'fault-user', project_id: 'fault-project', resource_id: resourceId, timestamp: new Date(ts).toISOString().replace('Z', '+00:00'), resource_metadata: { host: 'compute-1' }, source: 'openstack', message_id: messageId },
            SECRET,
          );
          records.push({ at: ts, resource: resourceId, topic: TOPICS.samples, value: Buffer.from(JSON.stringify(sample)) });
        } else {
          if (series === null) {
            series = { name: 'fault.gauge', type: 'gauge', unit: '%', resource_id: resourceId, project_id: 'fault-project', user_id: 'fault-user', source: 'openstack', resource_metadata: { host: 'compute-1' }, timestamps: [], volumes: [] };
            records.push({ at: ts, resource: resourceId, topic: TOPICS.measureBatches, value: Buffer.alloc(0) });
          }
          series.timestamps.push(ts * 1000);
          series.volumes.push(value);
          if (series.timestamps.length === BATCH_POINTS || p === POINTS - 1) {
            (records[records.length - 1] as { value: Buffer }).value = encodeMeasureBatch({ id: randomUUID(), series: [series] }, SECRET, r % 4 === 1 ? 'json' : 'binary');
            series = null;
          }
        }
        const bucket = Math.floor(ts / 1000 / GRANULARITY) * GRANULARITY;
        const b = buckets.get(bucket);
        if (!b) buckets.set(bucket, { count: 1, sum: value, min: value, max: value, first: value, last: value });
        else {
          b.count++;
          b.sum += value;
          b.min = Math.min(b.min, value);
          b.max = Math.max(b.max, value);
          b.last = value;
        }
      }
    }
    const metricIds = [...expected.keys()];
    const send = async (part: typeof records) => {
      for (let i = 0; i < part.length; i += 2000) {
        const slice = part.slice(i, i + 2000);
        for (const topic of [TOPICS.samples, TOPICS.measureBatches]) {
          const of = slice.filter((x) => x.topic === topic).map((x) => ({ key: x.resource, value: x.value }));
          if (of.length > 0) await producer.send(topic, of);
        }
      }
    };
    // Every measure of this test has its own (metric, time): distinct pairs count measures once.
    const stored = async () => {
      const [row] = await (store as ClickHouseDriver).query<{ rows: string; distinct: string }>({ sql: 'SELECT count() AS rows, uniqExact(metric_id, ts) AS distinct FROM measures WHERE metric_id IN {ids:Array(UUID)}', params: { ids: metricIds } });
      return { rows: Number(row?.rows ?? 0), distinct: Number(row?.distinct ?? 0) };
    };
    // Interleaved by time, so every metric is touched before and after each fault.
    const byTime = [...records].sort((a, b) => a.at - b.at || a.resource.localeCompare(b.resource));
    const half = Math.floor(byTime.length / 2);

    // 1. the first half goes in; the pipeline starts and is killed once part of it landed.
    await producer.start();
    await send(byTime.slice(0, half));
    startPipeline(url);
    const firstDeadline = Date.now() + 90_000;
    while ((await stored()).distinct < MAX_BATCH) {
      if (Date.now() > firstDeadline) throw new Error(`the pipeline stored only ${(await stored()).distinct} measures in 90 s`);
      await sleep(25);
    }
    await stopPipeline('SIGKILL');
    const atKill = await stored();
    expect(atKill.distinct).toBeLessThan(total);

    // 2. Kafka restarts (its log is kept); the second half arrives afterwards.
    await producer.stop();
    execFileSync('bash', ['scripts/kafka.sh', 'restart'], { stdio: 'ignore' });
    await producer.start();
    await send(byTime.slice(half));

    // 3. ClickHouse goes away under a running pipeline, and comes back on the same address.
    await endpoint.close();
    endpoint = null;
    startPipeline(url);
    await sleep(6_000);
    endpoint = await startChdbHttpEndpoint(store, { port });

    // 4. the pipeline catches up.
    const deadline = Date.now() + 150_000;
    let now = await stored();
    while (now.distinct < total && Date.now() < deadline && child?.exitCode === null) {
      await sleep(250);
      now = await stored();
    }
    await stopPipeline('SIGTERM');
    process.stderr.write(`pipeline fault test: ${total} measures, ${atKill.distinct} stored at the kill, ${now.rows} rows at the end\n`);
    expect(now.distinct, `every measure stored; the pipeline's last log lines:\n${logTail()}`).toBe(total);
    expect(now.rows, 'no measure stored twice').toBe(total);

    // 5. every bucket of every metric, every method the rollups keep.
    const at = new Date();
    const read = async (id: string, method: 'count' | 'sum' | 'min' | 'max' | 'first' | 'last') =>
      new Map((await (store as ClickHouseDriver).query<{ bucket: number; value: number }>(selectMeasures({ metricId: id, method, granularity: GRANULARITY, now: at }))).map((row) => [Number(row.bucket), Number(row.value)]));
    for (const [id, buckets] of expected) {
      const [count, sum, min, max, first, last] = await Promise.all((['count', 'sum', 'min', 'max', 'first', 'last'] as const).map((m) => read(id, m)));
      expect(count?.size, `buckets of ${id}`).toBe(buckets.size);
      for (const [bucket, want] of buckets) {
        expect(count?.get(bucket), `count ${id} ${bucket}`).toBe(want.count);
        expect(sum?.get(bucket), `sum ${id} ${bucket}`).toBeCloseTo(want.sum, 9);
        expect(min?.get(bucket), `min ${id} ${bucket}`).toBe(want.min);
        expect(max?.get(bucket), `max ${id} ${bucket}`).toBe(want.max);
        expect(first?.get(bucket), `first ${id} ${bucket}`).toBe(want.first);
        expect(last?.get(bucket), `last ${id} ${bucket}`).toBe(want.last);
      }
    }
  });
});
