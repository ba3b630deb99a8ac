import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import { openTempStore, type TempStore } from '../test/support/temp-store.ts';
import { parseArchivePolicy, type ArchivePolicy } from './archive-policies.ts';
import type { ClickHouseDriver } from './driver.ts';
import { HotRollups, readMeasureRows, type HotReadQuery } from './hot-rollups.ts';
import { writeMeasureBatch, type MeasureInput } from './measure-writes.ts';
import { ROLLUP_METHODS, selectMeasures, type MeasureRow } from './queries/measures.ts';
import { RollupColumns } from './rollup-rows.ts';
import { selectRollupStates, type RollupStateRow } from './queries/rollup-states.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
// Recent data: the rollups' TTL runs on the engine's clock, so data must be in retention now.
const REAL_NOW = Date.now();
const T0 = Math.floor(REAL_NOW / HOUR_MS) * HOUR_MS - 5 * HOUR_MS;

const policy: ArchivePolicy = parseArchivePolicy({
  name: 'hot',
  back_window: 10,
  aggregation_methods: [...ROLLUP_METHODS],
  definition: [
    { granularity: 60, points: 1440 },
    { granularity: 300, points: 288 },
    { granularity: 3600, points: 48 },
  ],
});

/** A seeded generator, so a failure replays. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` measures at distinct milliseconds over [from, from + spanMs). Dyadic values
 * (multiples of 1/8, small) add up exactly in any order, so every method compares exactly.
 */
function measures(rand: () => number, count: number, from: number, spanMs: number, used: Set<number>, dyadic = true): MeasureInput[] {
  const out: MeasureInput[] = [];
  while (out.length < count) {
    const ms = from + Math.floor(rand() * spanMs);
    if (used.has(ms)) continue;
    used.add(ms);
    out.push({ timestamp: new Date(ms), value: dyadic ? Math.round((rand() - 0.5) * 800) / 8 : (rand() - 0.3) * 1e3 * rand() });
  }
  return out;
}

describe('HotRollups (chDB)', () => {
  let temp: TempStore;
  let store: ClickHouseDriver;

  const clickhouse = async (q: HotReadQuery): Promise<MeasureRow[]> => {
    const rows = await store.query<MeasureRow>(selectMeasures(q));
    return rows.map((r) => ({ bucket: r.bucket, granularity: r.granularity, value: r.value }));
  };
  const write = (id: string, batch: readonly MeasureInput[], hot: HotRollups | null, p: ArchivePolicy = policy) =>
    writeMeasureBatch(store, [{ metric: { id }, policy: p, measures: batch }], { now: new Date(REAL_NOW), ...(hot ? { observer: hot } : {}) });
  /** Loads the metric the way the API's read does (read-through). */
  const loadThrough = (hot: HotRollups, id: string) => readMeasureRows(store, hot, { metricId: id, method: 'mean', now: new Date(REAL_NOW) }, policy);

  /** Queries covering every method, granularity, some ranges and two `now`s (one where the 60 s and 300 s levels partly expired). */
  function queries(id: string, rand: () => number): HotReadQuery[] {
    const out: HotReadQuery[] = [];
    const nows = [new Date(REAL_NOW), new Date(T0 + DAY_MS + 2.5 * HOUR_MS)];
    const ranges: Array<{ start?: Date; stop?: Date }> = [{}, { start: new Date(T0 + 1.5 * HOUR_MS + 17_500) }, { stop: new Date(T0 + 3 * HOUR_MS + 500) }];
    for (let i = 0; i < 2; i++) {
      const a = T0 + rand() * 5 * HOUR_MS;
      const b = a + rand() * 3 * HOUR_MS;
      ranges.push({ start: new Date(a), stop: new Date(b) });
    }
    for (const method of ROLLUP_METHODS) {
      for (const granularity of [undefined, 60, 300, 3600]) {
        for (const range of ranges) {
          for (const now of nows) out.push({ metricId: id, method, now, ...(granularity === undefined ? {} : { granularity }), ...range });
        }
      }
    }
    return out;
  }

  /** Every query answered from memory equals selectMeasures' answer; `tolerance` (relative) only for sums of arbitrary doubles. */
  async function expectSameAsClickHouse(hot: HotRollups, id: string, rand: () => number, tolerance = 0): Promise<number> {
    let compared = 0;
    for (const q of queries(id, rand)) {
      const wanted = await clickhouse(q);
      const got = hot.read(q);
      expect(got, `${q.method}@${q.granularity} held`).not.toBeNull();
      const label = `${q.method}@${q.granularity ?? 'all'} ${q.start?.toISOString()}..${q.stop?.toISOString()} now ${q.now.toISOString()}`;
      if (tolerance === 0 || !['mean', 'sum', 'std'].includes(q.method)) expect(got, label).toEqual(wanted);
      else {
        expect(got?.map((r) => [r.bucket, r.granularity]), label).toEqual(wanted.map((r) => [r.bucket, r.granularity]));
        got?.forEach((r, i) => {
          const w = wanted[i]?.value as number;
          expect(Math.abs((r.value as number) - w), `${label} @ ${r.bucket}: ${r.value} vs ${w}`).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(w)));
        });
      }
      compared += wanted.length;
    }
    return compared;
  }

  beforeAll(async () => {
    temp = await openTempStore('cumulus-hot-rollups-');
    store = temp.store;
  });
  afterAll(async () => temp?.close());

  it('holds a new metric from its first write and stays equal to ClickHouse across writes that reach back into held buckets', async () => {
    const hot = new HotRollups();
    const rand = random(1);
    const id = randomUUID();
    const used = new Set<number>();
    await write(id, measures(rand, 150, T0, 2 * HOUR_MS, used), hot);
    expect(hot.has(id)).toBe(true);
    expect(hot.stats().created).toBe(1);
    // Later writes: new buckets and earlier times inside held buckets (first/last/min/max move).
    for (let i = 0; i < 4; i++) await write(id, measures(rand, 80, T0, 5 * HOUR_MS, used), hot);
    expect(hot.has(id)).toBe(true);
    expect(await expectSameAsClickHouse(hot, id, rand)).toBeGreaterThan(1000);
    expect(hot.stats().misses).toBe(0);
  });

  it('loads a metric written before it was held (first and last times read from the states) and keeps it equal through later writes', async () => {
    const rand = random(2);
    const id = randomUUID();
    const used = new Set<number>();
    for (let i = 0; i < 3; i++) await write(id, measures(rand, 100, T0, 4 * HOUR_MS, used), null);
    const hot = new HotRollups();
    expect(hot.read({ metricId: id, method: 'mean', now: new Date(REAL_NOW) })).toBeNull();
    // The read-through answers as ClickHouse does and keeps the states.
    expect(await loadThrough(hot, id)).toEqual(await clickhouse({ metricId: id, method: 'mean', now: new Date(REAL_NOW) }));
    expect(hot.stats()).toMatchObject({ loads: 1, misses: 2, entries: 1 });
    await expectSameAsClickHouse(hot, id, rand);
    // Writes at times before the held first and after the held last of existing buckets.
    for (let i = 0; i < 3; i++) await write(id, measures(rand, 60, T0, 5 * HOUR_MS, used), hot);
    await expectSameAsClickHouse(hot, id, rand);
  });

  it('agrees with ClickHouse to the last bits on arbitrary doubles (sums added in another order)', async () => {
    const rand = random(3);
    const id = randomUUID();
    const used = new Set<number>();
    const hot = new HotRollups();
    await write(id, measures(rand, 120, T0, 3 * HOUR_MS, used, false), hot);
    for (let i = 0; i < 3; i++) await write(id, measures(rand, 60, T0, 5 * HOUR_MS, used, false), hot);
    await expectSameAsClickHouse(hot, id, rand, 1e-12);
    const loaded = new HotRollups();
    await loadThrough(loaded, id);
    await expectSameAsClickHouse(loaded, id, rand, 1e-12);
  });

  it('holds a metric with nothing stored as an empty entry (every granularity answers no points)', async () => {
    const hot = new HotRollups();
    const id = randomUUID();
    expect(await loadThrough(hot, id)).toEqual([]);
    expect(hot.read({ metricId: id, method: 'max', granularity: 300, now: new Date(REAL_NOW) })).toEqual([]);
    await write(id, measures(random(4), 30, T0, HOUR_MS, new Set()), hot);
    await expectSameAsClickHouse(hot, id, random(5));
  });

  it('drops expired buckets from memory and leaves reads at an earlier `now` to ClickHouse', async () => {
    // In the future, so the engine's TTL leaves every row in place.
    const short = parseArchivePolicy({ name: 'short', back_window: 100, aggregation_methods: [...ROLLUP_METHODS], definition: [{ granularity: 60, points: 5 }] });
    const start = Math.floor(REAL_NOW / HOUR_MS) * HOUR_MS + DAY_MS;
    const hot = new HotRollups();
    const id = randomUUID();
    const rand = random(6);
    const used = new Set<number>();
    // Minute by minute, so the level grows past the point where its front expires.
    for (let m = 0; m < 300; m += 10) await write(id, measures(rand, 12, start + m * 60_000, 10 * 60_000, used), hot, short);
    expect(hot.has(id)).toBe(true);
    const late = { metricId: id, method: 'count', now: new Date(start + 300 * 60_000) };
    expect(hot.read(late)).toEqual(await clickhouse(late));
    expect((await clickhouse(late)).length).toBeGreaterThan(0);
    expect(hot.read({ ...late, now: new Date(start + 60 * 60_000) })).toBeNull();
  });

  it('does not install a load that a write raced, nor one while a write is in flight', async () => {
    const rand = random(7);
    const id = randomUUID();
    const used = new Set<number>();
    await write(id, measures(rand, 40, T0, 2 * HOUR_MS, used), null);
    const hot = new HotRollups();
    // A write starts and ends between the generation and the load: the states are stale.
    const generation = hot.generation(id);
    const states = await store.query<RollupStateRow>(selectRollupStates(id));
    await write(id, measures(rand, 10, T0, 3 * HOUR_MS, used), hot);
    expect(hot.load(id, states, generation)).toBe(false);
    expect(hot.has(id)).toBe(false);
    expect(hot.stats().refusedLoads).toBe(1);
    // A write in flight: its rows may or may not be in what was read.
    const ids = new Set([id]);
    hot.writing(ids);
    const during = hot.generation(id);
    expect(hot.load(id, await store.query<RollupStateRow>(selectRollupStates(id)), during)).toBe(false);
    hot.written(ids, null, new Set());
    // Quiet again: the load is kept and exact.
    const quiet = hot.generation(id);
    expect(hot.load(id, await store.query<RollupStateRow>(selectRollupStates(id)), quiet)).toBe(true);
    await expectSameAsClickHouse(hot, id, rand);
  });

  it('creates no entry from writes that overlapped, and none after a write left rollups it did not hold', async () => {
    const rand = random(8);
    const hot = new HotRollups();
    const id = randomUUID();
    const used = new Set<number>();
    const a = measures(rand, 20, T0, HOUR_MS, used);
    const b = measures(rand, 20, T0 + HOUR_MS, HOUR_MS, used);
    await Promise.all([write(id, a, hot), write(id, b, hot)]);
    expect(hot.has(id)).toBe(false);
    // A later write claiming "nothing before" (a stale back-window read) must not create one.
    const later = new Set([id]);
    hot.writing(later);
    hot.written(later, RollupColumns.of([{ metricId: id, granularity: 60, bucket: T0 / 1000, expires: T0 / 1000 + 86_400, count: 1, sum: 1, min: 1, max: 1, sumsq: 1, firstTs: T0 * 1000, firstValue: 1, lastTs: T0 * 1000, lastValue: 1 }]), later);
    expect(hot.has(id)).toBe(false);
    // Reads still answer exactly (through ClickHouse, then from the loaded states).
    await loadThrough(hot, id);
    expect(hot.has(id)).toBe(true);
    await expectSameAsClickHouse(hot, id, rand);
  });

  it('forgets a metric whose write failed or that was invalidated, and refuses a load that an invalidation raced', async () => {
    const rand = random(9);
    const hot = new HotRollups();
    const id = randomUUID();
    await write(id, measures(rand, 20, T0, HOUR_MS, new Set()), hot);
    expect(hot.has(id)).toBe(true);
    const ids = new Set([id]);
    hot.writing(ids);
    hot.written(ids, null, new Set());
    expect(hot.has(id)).toBe(false);

    await loadThrough(hot, id);
    expect(hot.has(id)).toBe(true);
    hot.invalidate([id]);
    expect(hot.has(id)).toBe(false);
    expect(hot.read({ metricId: id, method: 'mean', now: new Date(REAL_NOW) })).toBeNull();

    const generation = hot.generation(id);
    const states = await store.query<RollupStateRow>(selectRollupStates(id));
    hot.invalidate([id]);
    expect(hot.load(id, states, generation)).toBe(false);
    hot.clear();
    expect(hot.load(id, states, generation)).toBe(false);
    expect(hot.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });

  it('keeps to its byte budget, evicting the least recently read metric', async () => {
    const rand = random(10);
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of ids) await write(id, measures(rand, 30, T0, 2 * HOUR_MS, new Set()), null);
    const probe = new HotRollups();
    await loadThrough(probe, ids[0] as string);
    const one = probe.stats().bytes;
    expect(one).toBeGreaterThan(0);

    // Room for two (loaded directly: the read-through would not even try, see below).
    const hot = new HotRollups({ budgetBytes: Math.floor(2.5 * one), maxEntryBytes: Math.floor(1.2 * one) });
    const load = async (id: string) => {
      const generation = hot.generation(id);
      return hot.load(id, await store.query<RollupStateRow>(selectRollupStates(id)), generation);
    };
    expect(await load(ids[0] as string)).toBe(true);
    expect(await load(ids[1] as string)).toBe(true);
    expect(hot.stats()).toMatchObject({ entries: 2, evictions: 0 });
    // Reading the first makes the second the least recent: loading a third evicts it.
    expect(hot.read({ metricId: ids[0] as string, method: 'mean', now: new Date(REAL_NOW) })).not.toBeNull();
    expect(await load(ids[2] as string)).toBe(true);
    expect(hot.stats()).toMatchObject({ entries: 2, evictions: 1 });
    expect(hot.has(ids[1] as string)).toBe(false);
    expect(hot.has(ids[0] as string) && hot.has(ids[2] as string)).toBe(true);
    expect(hot.stats().bytes).toBeLessThanOrEqual(hot.budgetBytes);
    await expectSameAsClickHouse(hot, ids[2] as string, rand);

    // A write creates an entry only in free room: it never evicts what reads use.
    const full = new HotRollups({ budgetBytes: Math.floor(1.5 * one), maxEntryBytes: Math.floor(1.2 * one) });
    expect(full.load(ids[0] as string, await store.query<RollupStateRow>(selectRollupStates(ids[0] as string)), full.generation(ids[0] as string))).toBe(true);
    const fresh = randomUUID();
    await write(fresh, measures(rand, 30, T0, 2 * HOUR_MS, new Set()), full);
    expect(full.has(fresh)).toBe(false);
    expect(full.has(ids[0] as string)).toBe(true);
    expect(full.stats()).toMatchObject({ entries: 1, evictions: 0, created: 0 });

    // A policy whose metrics could outgrow one entry: answered from ClickHouse, not held.
    const small = new HotRollups({ budgetBytes: 64 * 1024 });
    expect(small.mayHold(policy)).toBe(false);
    const q = { metricId: ids[1] as string, method: 'sum', now: new Date(REAL_NOW) };
    expect(await readMeasureRows(store, small, q, policy)).toEqual(await clickhouse(q));
    expect(small.stats().entries).toBe(0);
  });

  // Fails until the measure insert tells the observer about a write ClickHouse dropped as a
  // repeat (same deduplication token): today the copy adds the repeated rows a second time.
  // Flip to `it` once storage/measure-insert.ts reports such a write with rows = null.
  it('stays equal to ClickHouse when an identical write is repeated (ClickHouse drops it as a repeat)', async () => {
    const hot = new HotRollups();
    const id = randomUUID();
    const batch = measures(random(12), 30, T0, HOUR_MS, new Set());
    await write(id, batch, hot);
    await write(id, batch, hot);
    const q = { metricId: id, method: 'count', now: new Date(REAL_NOW) };
    expect(hot.read(q) ?? (await readMeasureRows(store, hot, q, policy))).toEqual(await clickhouse(q));
  });

  it('reads raw methods (median, percentiles, rates) from ClickHouse, untouched', async () => {
    const hot = new HotRollups();
    const id = randomUUID();
    await write(id, measures(random(11), 30, T0, HOUR_MS, new Set()), hot);
    for (const method of ['median', '95pct', 'rate:mean']) {
      const q = { metricId: id, method, now: new Date(REAL_NOW) };
      expect(hot.read(q)).toBeNull();
      expect(await readMeasureRows(store, hot, q, policy)).toEqual(await clickhouse(q));
    }
  });

  it('refuses a budget that is not a positive number of bytes', () => {
    expect(() => new HotRollups({ budgetBytes: 0 })).toThrow(ConfigError);
    expect(() => new HotRollups({ budgetBytes: 100, maxEntryBytes: 200 })).toThrow(ConfigError);
    expect(() => new HotRollups({ generationSlots: 1000 })).toThrow(ConfigError);
  });
});
