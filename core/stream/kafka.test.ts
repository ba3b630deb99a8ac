import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KAFKA_BROKERS, serviceGate } from '../../test/support/services.ts';
import { TransportError } from '../errors.ts';
import { KafkaStream, type KafkaStreamConfig } from './kafka.ts';
import type { StreamBatch, StreamConsumer, StreamConsumerHandle, StreamRecord } from './types.ts';

const broker = KAFKA_BROKERS[0] as string;
const gate = await serviceGate('Kafka', broker);
const run = randomUUID().slice(0, 8);
const topic = (name: string) => `cumulus-test-${run}-${name}`;
const group = (name: string) => `cumulus-test-${run}-${name}`;

const streams = new Set<KafkaStream>();
function newStream(config: Partial<KafkaStreamConfig> = {}): KafkaStream {
  const stream = new KafkaStream({ brokers: KAFKA_BROKERS, clientId: `cumulus-test-${run}`, partitions: 3, replicationFactor: 1, ...config });
  streams.add(stream);
  return stream;
}

interface Attempt {
  batch: StreamBatch;
  values: string[];
  accepted: boolean;
}

/** A consumer that records every attempt; `decide` rejects (throws) or accepts (returns). */
function recorder(decide: (values: string[], attempt: number) => Promise<void> | void = () => undefined) {
  const attempts: Attempt[] = [];
  const consumer: StreamConsumer = {
    async consume(batch) {
      const attempt: Attempt = { batch, values: batch.records.map((r) => r.value.toString()), accepted: false };
      attempts.push(attempt);
      await decide(attempt.values, attempts.length);
      attempt.accepted = true;
    },
  };
  const accepted = () => attempts.filter((a) => a.accepted);
  return { attempts, consumer, accepted, values: () => accepted().flatMap((a) => a.values) };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Rejects when `promise` has not settled within `ms`, so a hang fails the test with a reason. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe.runIf(gate.run)('KafkaStream against Kafka', () => {
  let stream: KafkaStream;
  let admin: Admin;
  const handles: StreamConsumerHandle[] = [];

  beforeAll(async () => {
    if (!gate.available) return;
    stream = newStream();
    await stream.start();
    admin = new Kafka({ clientId: `cumulus-test-admin-${run}`, brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  });

  afterAll(async () => {
    for (const handle of handles) await handle.close().catch(() => undefined);
    for (const s of streams) await s.stop().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
  });

  it('has Kafka to run against', () => {
    expect(gate.available, `Kafka must be reachable at ${broker} (bash scripts/kafka.sh start)`).toBe(true);
  });

  it('delivers key, value and headers in offset order per partition; one key stays on one partition', async () => {
    const t = topic('records');
    const keys = ['res-a', 'res-b', 'res-c', 'res-d', 'res-e', 'res-f'];
    const sent: StreamRecord[] = [];
    for (let i = 0; i < 5; i++) for (const key of keys) sent.push({ key, value: Buffer.from(`${key}:${i}`), headers: { 'x-seq': String(i), 'x-resource': key } });
    sent.push({ key: null, value: Buffer.from('keyless'), headers: { 'x-seq': 'none' } });
    // Without headers: delivered with an empty (shared, frozen) headers object.
    sent.push({ key: 'headerless', value: Buffer.from('headerless') });
    const before = Date.now();
    await stream.send(t, sent.slice(0, 15));
    await stream.send(t, sent.slice(15));

    const rec = recorder();
    handles.push(await stream.subscribe({ groupId: group('records'), topics: [t], fromBeginning: true, maxBatchRecords: 100 }, rec.consumer));
    await vi.waitFor(() => expect(rec.values()).toHaveLength(sent.length), { timeout: 20_000, interval: 50 });

    const received = rec.accepted().flatMap((a) => a.batch.records.map((r) => ({ ...r, partition: a.batch.partition, topic: a.batch.topic })));
    expect(received.map((r) => r.value.toString()).sort()).toEqual(sent.map((r) => r.value.toString()).sort());
    for (const r of received) {
      const original = sent.find((s) => s.value.toString() === r.value.toString()) as StreamRecord;
      expect(r.topic).toBe(t);
      expect(r.key).toBe(original.key);
      expect(r.headers).toEqual(original.headers ?? {});
      expect(Buffer.isBuffer(r.value)).toBe(true);
      expect(r.timestampMs).toBeGreaterThanOrEqual(before - 1_000);
      expect(r.timestampMs).toBeLessThanOrEqual(Date.now() + 1_000);
    }
    // Per partition: offsets 0, 1, 2, ... as delivered (a fresh topic, one consumer).
    const partitions = new Set(received.map((r) => r.partition));
    for (const p of partitions) {
      const offsets = received.filter((r) => r.partition === p).map((r) => Number(r.offset));
      expect(offsets, `partition ${p}`).toEqual(offsets.map((_, i) => i));
    }
    expect([...partitions].every((p) => p >= 0 && p < 3)).toBe(true);
    // One key, one partition, and its records in the order they were sent.
    for (const key of keys) {
      const mine = received.filter((r) => r.key === key);
      expect(new Set(mine.map((r) => r.partition)).size, key).toBe(1);
      expect(mine.map((r) => r.value.toString())).toEqual([0, 1, 2, 3, 4].map((i) => `${key}:${i}`));
    }
    expect(partitions.size).toBeGreaterThan(1); // 6 keys over 3 partitions: the test sees several
  });

  it('commits only what consume() accepted: a rejected batch comes again, a new member resumes after the last acceptance', async () => {
    const t = topic('commits');
    const values = Array.from({ length: 10 }, (_, i) => `c-${i}`);
    await stream.send(t, values.map((v) => ({ key: 'one-partition', value: Buffer.from(v) })));
    const tail = new Set(['c-8', 'c-9']);

    // First member: rejects the first attempt of the first batch, then accepts, but never
    // accepts a batch holding the tail (c-8, c-9).
    const first = recorder((batch, attempt) => {
      if (attempt === 1) throw new Error('store busy, try again');
      if (batch.some((v) => tail.has(v))) throw new Error('store refuses the tail');
    });
    const handle = await stream.subscribe({ groupId: group('commits'), topics: [t], fromBeginning: true, maxBatchRecords: 4 }, first.consumer);
    await vi.waitFor(() => expect(first.attempts.filter((a) => a.values.some((v) => tail.has(v))).length).toBeGreaterThanOrEqual(2), {
      timeout: 20_000,
      interval: 50,
    });
    const [rejected, retried] = first.attempts;
    expect(rejected?.accepted).toBe(false);
    expect(retried?.batch.records.map((r) => r.offset)).toEqual(rejected?.batch.records.map((r) => r.offset)); // the same records again
    expect(retried?.accepted).toBe(true);
    const acceptedFirst = first.values();
    expect(acceptedFirst).toEqual(values.slice(0, acceptedFirst.length)); // in order, once each
    expect(acceptedFirst.length).toBeGreaterThanOrEqual(4);
    expect(acceptedFirst.some((v) => tail.has(v))).toBe(false);
    expect(first.accepted().every((a) => a.batch.records.length <= 4)).toBe(true);
    // close() cuts the rejected batch's backoff short instead of waiting it out.
    await within(handle.close(), 10_000, 'close() of a member retrying a rejected batch');

    // Second member of the same group: starts right after the last accepted record.
    const second = recorder();
    handles.push(await stream.subscribe({ groupId: group('commits'), topics: [t], fromBeginning: true, maxBatchRecords: 4 }, second.consumer));
    await vi.waitFor(() => expect(second.values()).toContain('c-9'), { timeout: 20_000, interval: 50 });
    await sleep(1_000); // anything already accepted would have come by now
    expect(second.values()).toEqual(values.slice(acceptedFirst.length));
  });

  it('splits a big fetch into batches of at most maxBatchRecords', async () => {
    const t = topic('big');
    const values = Array.from({ length: 500 }, (_, i) => `big-${i}`);
    // One key: all 500 on one partition, so one fetch brings far more than 100.
    await stream.send(t, values.map((v) => ({ key: 'hot', value: Buffer.from(v) })));
    const rec = recorder();
    handles.push(await stream.subscribe({ groupId: group('big'), topics: [t], fromBeginning: true, maxBatchRecords: 100 }, rec.consumer));
    await vi.waitFor(() => expect(rec.values()).toHaveLength(500), { timeout: 20_000, interval: 50 });
    const sizes = rec.accepted().map((a) => a.batch.records.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
    expect(sizes).toContain(100);
    expect(rec.values()).toEqual(values);
  });

  it('takes one send far over the broker\'s 1 MiB batch limit, in order (dead letters of a big refused batch)', async () => {
    const t = topic('huge');
    // 4,000 records of 1 KiB on one partition: 4 MiB in one call, four times message.max.bytes.
    const values = Array.from({ length: 4000 }, (_, i) => `${String(i).padStart(6, '0')}-${'x'.repeat(1017)}`);
    await stream.send(t, values.map((v) => ({ key: 'hot', value: Buffer.from(v) })));
    const rec = recorder();
    handles.push(await stream.subscribe({ groupId: group('huge'), topics: [t], fromBeginning: true, maxBatchRecords: 5000 }, rec.consumer));
    await vi.waitFor(() => expect(rec.values()).toHaveLength(4000), { timeout: 30_000, interval: 50 });
    expect(rec.values()).toEqual(values);
  });

  it('does not commit for a consumer that crashed mid-batch: the group gets those records again', async () => {
    const t = topic('crash');
    const values = ['x-0', 'x-1', 'x-2', 'x-3', 'x-4'];
    await stream.send(t, values.map((v) => ({ key: 'one-partition', value: Buffer.from(v) })));

    const crashing = newStream({ stopGraceMs: 1_000 });
    await crashing.start();
    let release: () => void = () => undefined;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const wedged = recorder(() => stuck); // consume() never settles while the stream runs
    await crashing.subscribe({ groupId: group('crash'), topics: [t], fromBeginning: true, maxBatchRecords: 100 }, wedged.consumer);
    await vi.waitFor(() => expect(wedged.attempts.length).toBe(1), { timeout: 20_000, interval: 50 });

    const stopping = Date.now();
    await within(crashing.stop(), 10_000, 'stop() with a consume() in flight');
    expect(Date.now() - stopping).toBeGreaterThanOrEqual(900); // it did give the batch its grace
    release(); // resolves after stop(): too late, nothing may be committed for it
    await sleep(200);

    const rec = recorder();
    handles.push(await stream.subscribe({ groupId: group('crash'), topics: [t], fromBeginning: true, maxBatchRecords: 100 }, rec.consumer));
    await vi.waitFor(() => expect(rec.values()).toEqual(values), { timeout: 20_000, interval: 50 });
    expect(rec.accepted()[0]?.batch.records[0]?.offset).toBe('0');
  });

  it('stop() lets a batch in flight finish within the grace, and commits it', async () => {
    const t = topic('graceful');
    await stream.send(t, ['g-0', 'g-1', 'g-2'].map((v) => ({ key: 'one-partition', value: Buffer.from(v) })));
    const stopping = newStream({ stopGraceMs: 10_000 });
    await stopping.start();
    const slow = recorder(() => sleep(700));
    await stopping.subscribe({ groupId: group('graceful'), topics: [t], fromBeginning: true, maxBatchRecords: 100 }, slow.consumer);
    await vi.waitFor(() => expect(slow.attempts.length).toBe(1), { timeout: 20_000, interval: 20 });
    const started = Date.now();
    await within(stopping.stop(), 10_000, 'stop() with a slow consume() in flight');
    expect(slow.values()).toEqual(['g-0', 'g-1', 'g-2']); // it waited for the batch...
    expect(Date.now() - started).toBeLessThan(5_000); // ...not for the whole grace

    await stream.send(t, [{ key: 'one-partition', value: Buffer.from('g-3') }]);
    const rec = recorder();
    handles.push(await stream.subscribe({ groupId: group('graceful'), topics: [t], fromBeginning: true, maxBatchRecords: 100 }, rec.consumer));
    await vi.waitFor(() => expect(rec.values()).toContain('g-3'), { timeout: 20_000, interval: 50 });
    expect(rec.values()).toEqual(['g-3']); // g-0..g-2 were committed before the member left
  });

  it('ensureTopics creates topics with the configured partition count', async () => {
    const two = newStream({ partitions: 2 });
    await two.start();
    const topics = [topic('ensure-a'), topic('ensure-b')];
    await two.ensureTopics(topics);
    await two.ensureTopics(topics); // known: a no-op
    const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
    expect(metadata.map((m) => [m.name, m.partitions.length]).sort()).toEqual(topics.map((name) => [name, 2]).sort());
    await two.stop();
  });

  it('start() against a closed port rejects with CUMULUS_STREAM_UNREACHABLE', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 1));
      });
    });
    const unreachable = newStream({ brokers: [`127.0.0.1:${port}`], retries: 1 });
    const started = Date.now();
    const err = await unreachable.start().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe('CUMULUS_STREAM_UNREACHABLE');
    expect((err as TransportError).message).toContain(`127.0.0.1:${port}`);
    expect(Date.now() - started).toBeLessThan(5_000);
    await unreachable.stop(); // safe after a failed start
  });
});
