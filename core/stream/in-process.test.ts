import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.ts';
import { InProcessStream } from './in-process.ts';
import { partitionForKey, type StreamBatch, type StreamConsumerHandle, type StreamRecord, type StreamSubscription } from './types.ts';

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const TOPIC = 'cumulus.samples';
const PARTITIONS = 3;
const record = (key: string | null, value: string): StreamRecord => ({ key, value: Buffer.from(value) });
const sub = (groupId: string, fromBeginning = true, maxBatchRecords = 100): StreamSubscription => ({ groupId, topics: [TOPIC], fromBeginning, maxBatchRecords });

/** A consumer that records every batch (topic, partition, keys, values, offsets). */
function recorder() {
  const batches: Array<{ partition: number; keys: Array<string | null>; values: string[]; offsets: string[] }> = [];
  return {
    batches,
    values: () => batches.flatMap((b) => b.values),
    consumer: {
      async consume(batch: StreamBatch) {
        batches.push({
          partition: batch.partition,
          keys: batch.records.map((r) => r.key),
          values: batch.records.map((r) => r.value.toString()),
          offsets: batch.records.map((r) => r.offset),
        });
      },
    },
  };
}

/** Two keys that land on different partitions. */
function keysOnDifferentPartitions(): [string, string] {
  const first = 'resource-0';
  for (let i = 1; i < 100; i++) {
    const other = `resource-${i}`;
    if (partitionForKey(other, PARTITIONS, 0) !== partitionForKey(first, PARTITIONS, 0)) return [first, other];
  }
  throw new Error('no two keys on different partitions');
}

describe('partitionForKey', () => {
  it('is stable for a key and within range', () => {
    for (const key of ['a', 'instance-1', 'ff3e0a0c-3c4d-4b3d-9a0b-1f2e3d4c5b6a']) {
      const p = partitionForKey(key, PARTITIONS, 0);
      expect(p).toBe(partitionForKey(key, PARTITIONS, 99));
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(PARTITIONS);
    }
  });

  it('spreads null keys by the fallback', () => {
    expect([0, 1, 2, 3].map((n) => partitionForKey(null, PARTITIONS, n))).toEqual([0, 1, 2, 0]);
  });
});

describe('InProcessStream', () => {
  let stream: InProcessStream;
  const handles: StreamConsumerHandle[] = [];

  const start = async () => {
    stream = new InProcessStream(PARTITIONS, silentLogger(), () => 1_700_000_000_000);
    await stream.start();
    return stream;
  };

  afterEach(async () => {
    for (const handle of handles.splice(0)) await handle.close();
    await stream?.stop();
  });

  it('puts one key on one partition and keeps its records in order, with consecutive offsets', async () => {
    await start();
    const [a, b] = keysOnDifferentPartitions();
    const records: StreamRecord[] = [];
    for (let i = 0; i < 5; i++) records.push(record(a, `a${i}`), record(b, `b${i}`));
    await stream.send(TOPIC, records);

    const rec = recorder();
    handles.push(await stream.subscribe(sub('g'), rec.consumer));
    await until(() => rec.values().length === 10, 'all records');

    const aBatches = rec.batches.filter((batch) => batch.keys.includes(a));
    const bBatches = rec.batches.filter((batch) => batch.keys.includes(b));
    expect(new Set(aBatches.map((batch) => batch.partition)).size).toBe(1);
    expect(aBatches[0]?.partition).toBe(partitionForKey(a, PARTITIONS, 0));
    expect(bBatches[0]?.partition).toBe(partitionForKey(b, PARTITIONS, 0));
    expect(aBatches.flatMap((batch) => batch.values)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(bBatches.flatMap((batch) => batch.values)).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
    expect(aBatches.flatMap((batch) => batch.offsets)).toEqual(['0', '1', '2', '3', '4']);
    // A batch is one partition's records only.
    for (const batch of rec.batches) expect(new Set(batch.keys).size).toBe(1);
  });

  it('stamps records with the injected clock', async () => {
    await start();
    await stream.send(TOPIC, [record('k', 'v')]);
    let timestamp = 0;
    handles.push(
      await stream.subscribe(sub('g'), {
        async consume(batch) {
          timestamp = batch.records[0]?.timestampMs ?? -1;
        },
      }),
    );
    await until(() => timestamp !== 0, 'the record');
    expect(timestamp).toBe(1_700_000_000_000);
  });

  it('hands batches of at most maxBatchRecords', async () => {
    await start();
    await stream.send(TOPIC, Array.from({ length: 7 }, (_, i) => record('same-key', String(i))));
    const rec = recorder();
    handles.push(await stream.subscribe(sub('g', true, 3), rec.consumer));
    await until(() => rec.values().length === 7, 'all records');
    expect(rec.batches.map((b) => b.values.length)).toEqual([3, 3, 1]);
    expect(rec.values()).toEqual(['0', '1', '2', '3', '4', '5', '6']);
  });

  it('gives a rejected batch again, unchanged, and moves on only after it is accepted', async () => {
    await start();
    await stream.send(TOPIC, [record('k', '1'), record('k', '2'), record('k', '3')]);
    const seen: string[][] = [];
    let rejections = 2;
    handles.push(
      await stream.subscribe(sub('g', true, 2), {
        async consume(batch) {
          seen.push(batch.records.map((r) => r.value.toString()));
          if (rejections > 0) {
            rejections--;
            throw new Error('store unavailable');
          }
        },
      }),
    );
    await until(() => seen.length === 4, 'redeliveries and the next batch');
    expect(seen).toEqual([['1', '2'], ['1', '2'], ['1', '2'], ['3']]);
    expect(stream.lag('g', TOPIC)).toBe(0);
  });

  it('resumes a group from its committed offset after its subscription is closed', async () => {
    await start();
    await stream.send(TOPIC, [record('k', '1'), record('k', '2')]);
    const first = recorder();
    const handle = await stream.subscribe(sub('g'), first.consumer);
    await until(() => first.values().length === 2, 'first records');
    await handle.close();

    await stream.send(TOPIC, [record('k', '3'), record('k', '4')]);
    expect(stream.lag('g', TOPIC)).toBe(2);
    const second = recorder();
    handles.push(await stream.subscribe(sub('g'), second.consumer));
    await until(() => second.values().length === 2, 'the rest');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(first.values()).toEqual(['1', '2']);
    expect(second.values()).toEqual(['3', '4']);
  });

  it('reads the retained log from the beginning for a new group with fromBeginning, and only new records without', async () => {
    await start();
    await stream.send(TOPIC, [record('k', 'old-1'), record('k', 'old-2')]);
    const fromStart = recorder();
    const fromEnd = recorder();
    handles.push(await stream.subscribe(sub('from-start', true), fromStart.consumer));
    handles.push(await stream.subscribe(sub('from-end', false), fromEnd.consumer));
    await stream.send(TOPIC, [record('k', 'new-1')]);
    await until(() => fromStart.values().length === 3 && fromEnd.values().length === 1, 'records');
    expect(fromStart.values()).toEqual(['old-1', 'old-2', 'new-1']);
    expect(fromEnd.values()).toEqual(['new-1']);
  });

  it('lag() counts what a group has not committed, per topic', async () => {
    await start();
    expect(stream.lag('g', TOPIC)).toBe(0);
    await stream.send(TOPIC, [record('a', '1'), record('b', '2'), record('c', '3'), record(null, '4')]);
    // A group that never subscribed lags by the whole retained log.
    expect(stream.lag('g', TOPIC)).toBe(4);
    expect(stream.lag('g', 'cumulus.events')).toBe(0);

    let accept = false;
    handles.push(
      await stream.subscribe(sub('g'), {
        async consume() {
          if (!accept) throw new Error('not yet');
        },
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stream.lag('g', TOPIC)).toBe(4);
    accept = true;
    await until(() => stream.lag('g', TOPIC) === 0, 'the group to catch up');
  });

  it('keeps records until every group has committed them, then drops them (memory bounded by lag)', async () => {
    await start();
    const fast = recorder();
    handles.push(await stream.subscribe(sub('fast'), fast.consumer));
    let slowAccepts = false;
    const slowSeen: string[] = [];
    handles.push(
      await stream.subscribe(sub('slow'), {
        async consume(batch) {
          if (!slowAccepts) throw new Error('slow');
          slowSeen.push(...batch.records.map((r) => r.value.toString()));
        },
      }),
    );
    await stream.send(TOPIC, [record('k', '1'), record('k', '2'), record('k', '3')]);
    await until(() => fast.values().length === 3, 'the fast group');
    expect(stream.lag('fast', TOPIC)).toBe(0);
    // The slow group still needs them: they are retained (a new group can still read them).
    expect(stream.lag('slow', TOPIC)).toBe(3);
    expect(stream.lag('observer', TOPIC)).toBe(3);

    slowAccepts = true;
    await until(() => stream.lag('slow', TOPIC) === 0, 'the slow group');
    expect(slowSeen).toEqual(['1', '2', '3']);
    // Everyone committed: nothing is retained, so a group that never read has nothing to read.
    expect(stream.lag('observer', TOPIC)).toBe(0);
    const late = recorder();
    handles.push(await stream.subscribe(sub('late', true), late.consumer));
    await stream.send(TOPIC, [record('k', '4')]);
    await until(() => late.values().length === 1, 'the new record');
    expect(late.values()).toEqual(['4']);
    // Offsets keep counting after a trim.
    expect(late.batches[0]?.offsets).toEqual(['3']);
  });

  it('refuses send after stop with CUMULUS_STREAM_CLOSED', async () => {
    await start();
    await stream.stop();
    await expect(stream.send(TOPIC, [record('k', 'v')])).rejects.toMatchObject({ code: 'CUMULUS_STREAM_CLOSED' });
  });

  it('stop() ends running subscriptions and is idempotent', async () => {
    await start();
    handles.push(await stream.subscribe(sub('g'), recorder().consumer));
    await stream.stop();
    await stream.stop();
  });
});
