import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsumedRecord, StreamBatch } from '../../core/index.ts';
import { createChdbDriver, migrate, type ClickHouseDriver } from '../../storage/index.ts';
import { dedupToken, plannedLastOffset, writePlannedChunks, type PlannedChunk } from './batch-plans.ts';

const batch = (first: number, count: number, topic = 'cumulus.events', partition = 0): StreamBatch => ({
  topic,
  partition,
  records: Array.from({ length: count }, (_, i): ConsumedRecord => ({ key: null, value: Buffer.from(`r${first + i}`), offset: String(first + i), timestampMs: 0 })),
});

describe('batch plans (chDB)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cumulus-plans-'));
  let store: ClickHouseDriver;
  let consumer = 0;
  const next = () => `plans-${++consumer}`;

  beforeAll(async () => {
    store = createChdbDriver({ dataDir: dir });
    await migrate(store);
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs a batch and returns the chunks `write` saw, each with whether its plan was stored when it ran. */
  const run = async (config: { consumer: string; maxBatchRecords: number }, b: StreamBatch, fail?: (chunk: PlannedChunk) => boolean) => {
    const seen: Array<{ first: string; last: string; token: string; replayed: boolean; plannedBefore: string | null; size: number }> = [];
    await writePlannedChunks(store, config, b, async (chunk) => {
      const planned = await plannedLastOffset(store, config.consumer, chunk.topic, chunk.partition, chunk.firstOffset);
      seen.push({ first: chunk.firstOffset, last: chunk.lastOffset, token: chunk.dedupToken, replayed: chunk.replayed, plannedBefore: planned === null ? null : String(planned), size: chunk.records.length });
      if (fail?.(chunk)) throw new Error('crash while writing');
    });
    return seen;
  };

  it('cuts a batch in chunks of maxBatchRecords, each planned before it is written, with its token', async () => {
    const c = next();
    expect(await run({ consumer: c, maxBatchRecords: 3 }, batch(10, 7))).toEqual([
      { first: '10', last: '12', token: `${c}:cumulus.events:0:10-12`, replayed: false, plannedBefore: '12', size: 3 },
      { first: '13', last: '15', token: `${c}:cumulus.events:0:13-15`, replayed: false, plannedBefore: '15', size: 3 },
      { first: '16', last: '16', token: `${c}:cumulus.events:0:16-16`, replayed: false, plannedBefore: '16', size: 1 },
    ]);
    expect(dedupToken('g', 't', 2, '5', '9')).toBe('g:t:2:5-9');
  });

  it('replays a batch the way it was first cut, whatever arrived since or the batch size now', async () => {
    const c = next();
    // First attempt saw offsets 0-4, cut 0-1, 2-3, 4 and "crashed" writing 2-3.
    await expect(run({ consumer: c, maxBatchRecords: 2 }, batch(0, 5), (chunk) => chunk.firstOffset === '2')).rejects.toThrow('crash while writing');
    // The replay has more records and a larger batch size: the planned chunks come back as they were.
    const replay = await run({ consumer: c, maxBatchRecords: 100 }, batch(0, 9));
    expect(replay.map((s) => [s.first, s.last, s.replayed])).toEqual([
      ['0', '1', true],
      ['2', '3', true],
      ['4', '8', false],
    ]);
  });

  it('waits, without writing, when a replay has fewer records than the plan covers', async () => {
    const c = next();
    await expect(run({ consumer: c, maxBatchRecords: 10 }, batch(0, 6), () => true)).rejects.toThrow('crash while writing');
    const seen: PlannedChunk[] = [];
    await expect(writePlannedChunks(store, { consumer: c, maxBatchRecords: 10 }, batch(0, 4), async (chunk) => void seen.push(chunk))).rejects.toMatchObject({ code: 'CUMULUS_PIPELINE_REPLAY_SHORT' });
    expect(seen).toEqual([]);
  });

  it('keeps plans apart per consumer, topic and partition', async () => {
    const c = next();
    await run({ consumer: c, maxBatchRecords: 2 }, batch(0, 4));
    const others = [await run({ consumer: next(), maxBatchRecords: 3 }, batch(0, 4)), await run({ consumer: c, maxBatchRecords: 3 }, batch(0, 4, 'cumulus.logs')), await run({ consumer: c, maxBatchRecords: 3 }, batch(0, 4, 'cumulus.events', 1))];
    for (const seen of others) expect(seen.map((s) => [s.first, s.last, s.replayed])).toEqual([['0', '2', false], ['3', '3', false]]);
  });
});
