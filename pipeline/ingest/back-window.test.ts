import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_ARCHIVE_POLICIES, MIGRATIONS, createChdbDriver, insertMeasureRows, migrate, parseArchivePolicy, selectMeasures, selectNewestMeasureTimes, type ArchivePolicy, type ClickHouseDriver, type MeasureRow, type NewestMeasureTimeRow } from '../../storage/index.ts';
import { GNOCCHI_REQUIRED, gnocchiStorage, gnocchiUnavailable } from '../../test/support/gnocchi-carbonara.ts';
import { applyBackWindow, effectiveBackWindow, oldestAcceptedMs, type BackWindowMeasure } from './back-window.ts';

const unavailable = gnocchiUnavailable();
if (unavailable && !GNOCCHI_REQUIRED) process.stdout.write(`pipeline/ingest/back-window.test.ts: real Gnocchi cross-check skipped: ${unavailable}\n`);

const builtin = (name: string) => BUILTIN_ARCHIVE_POLICIES.find((p) => p.name === name) as ArchivePolicy;
const T = Date.UTC(2026, 0, 1, 10, 0, 0);
const m = (metricId: string, offsetS: number): BackWindowMeasure & { value: number } => ({ metricId, timestampMs: T + offsetS * 1000, value: offsetS });

describe('back window (pure)', () => {
  it('takes everything for a metric with nothing stored', () => {
    const batch = [m('a', 0), m('a', -86_400), m('a', 5)];
    const result = applyBackWindow(batch, new Map(), () => builtin('low'));
    expect(result.accepted).toEqual(batch);
    expect(result.refused).toEqual([]);
    expect(result.newest.get('a')).toBe(T + 5000);
  });

  it("refuses what is before the newest stored measure's block (back_window 0, block = the 5-minute granularity)", () => {
    const newest = new Map([['a', T + 370_000]]); // in the block from T + 300 s
    const result = applyBackWindow([m('a', 299), m('a', 300), m('a', 1000), m('a', 10)], newest, () => builtin('low'));
    expect(result.accepted.map((x) => x.value)).toEqual([300, 1000]);
    expect(result.refused.map((r) => r.measure.value)).toEqual([299, 10]);
    expect(result.refused[0]).toMatchObject({ code: 'CUMULUS_PIPELINE_MEASURE_BEFORE_BACK_WINDOW', reason: expect.stringContaining('policy low') });
    expect(result.refused[0]?.reason).toContain(new Date(T + 300_000).toISOString());
    expect(result.newest.get('a')).toBe(T + 1_000_000);
  });

  it("uses the newest measure stored before the batch: the batch's own measures do not move the bar", () => {
    const newest = new Map([['a', T + 370_000]]);
    // T + 2000 s alone would put the bar at T + 1800 s; within the same batch, T + 310 s still lands.
    const result = applyBackWindow([m('a', 2000), m('a', 310)], newest, () => builtin('low'));
    expect(result.accepted.map((x) => x.value)).toEqual([2000, 310]);
    // The next batch is judged from the new newest.
    expect(applyBackWindow([m('a', 1799), m('a', 1800)], result.newest, () => builtin('low')).accepted.map((x) => x.value)).toEqual([1800]);
  });

  it('counts back_window blocks of the largest granularity, plus one when the policy keeps a rate:', () => {
    const medium = parseArchivePolicy({ name: 'm', back_window: 2, definition: [{ granularity: 60, points: 10 }, { granularity: 3600, points: 10 }] });
    const rated = { ...medium, aggregation_methods: [...medium.aggregation_methods, 'rate:mean'] };
    const newestMs = T + 5400_000; // block from T + 3600 s
    expect(effectiveBackWindow(medium)).toBe(2);
    expect(effectiveBackWindow(rated)).toBe(3);
    expect(oldestAcceptedMs(newestMs, medium)).toBe(T + 3600_000 - 2 * 3600_000);
    expect(oldestAcceptedMs(newestMs, rated)).toBe(T + 3600_000 - 3 * 3600_000);
    const batch = [m('a', -3600), m('a', -3601), m('a', -7200), m('a', -7201)];
    expect(applyBackWindow(batch, new Map([['a', newestMs]]), () => medium).accepted.map((x) => x.value)).toEqual([-3600]);
    expect(applyBackWindow(batch, new Map([['a', newestMs]]), () => rated).accepted.map((x) => x.value)).toEqual([-3600, -3601, -7200]);
    // ceilometer-low-rate keeps rate:mean: one 5-minute block back even with back_window 0.
    expect(oldestAcceptedMs(T + 370_000, builtin('ceilometer-low-rate'))).toBe(T);
    // bool: blocks of one second, 3600 of them.
    expect(oldestAcceptedMs(T + 370_500, builtin('bool'))).toBe(T + 370_000 - 3600_000);
  });

  it('judges each metric by its own newest time and policy', () => {
    const result = applyBackWindow([m('a', 100), m('b', 100), m('c', 100)], new Map([['a', T + 600_000], ['b', T + 100_000]]), (x) => (x.metricId === 'a' ? builtin('low') : builtin('bool')));
    expect(result.accepted.map((x) => x.metricId)).toEqual(['b', 'c']);
    expect(result.refused.map((r) => r.measure.metricId)).toEqual(['a']);
    expect(Object.fromEntries(result.newest)).toEqual({ a: T + 600_000, b: T + 100_000, c: T + 100_000 });
  });
});

describe('back window through the store, against real Gnocchi 4.4 (chDB)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cumulus-back-window-'));
  let store: ClickHouseDriver;
  const NOW_S = Math.floor(Date.now() / 1000);
  const T0 = Math.floor((NOW_S - 2 * 3600) / 3600) * 3600;
  const range = (from: number, to: number, step: number) => Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);

  /**
   * Batches of offsets (s) from T0, with late measures inside and outside the window.
   * `compare`: the methods read back and compared. Gnocchi re-derives rates from the raw
   * series it still holds, so a late measure in a bucket whose previous measure it has
   * already dropped changes its rate; the rated case's late measures avoid that spot, and
   * the case that refuses a rated metric's measures compares what does not derive.
   */
  const CASES: Array<{ policy: ArchivePolicy; batches: number[][]; refused: number[]; compare?: string[] }> = [
    {
      // Block 300 s, back_window 1, plus one for rate: = 600 s before the newest block.
      policy: parseArchivePolicy({ name: 'rated', back_window: 1, aggregation_methods: ['mean', 'count', 'sum', 'max', 'last', '95pct', 'rate:mean', 'rate:sum'], definition: [{ granularity: 60, points: 1440 }, { granularity: 300, points: 288 }] }),
      batches: [range(0, 600, 45), range(630, 1200, 45), [610.5, 1230], [...range(1260, 1800, 40), 905.5], [1810, 1799.5]],
      refused: [],
    },
    {
      // back_window 0 but a rate: method: one block (300 s) back; 620 lands only thanks to it.
      policy: parseArchivePolicy({ name: 'rate-extra-block', back_window: 0, aggregation_methods: ['mean', 'count', 'rate:mean'], definition: [{ granularity: 60, points: 1440 }, { granularity: 300, points: 288 }] }),
      batches: [range(0, 900, 50), [620, 599, 910], [30]],
      refused: [599, 30],
      compare: ['mean', 'count'],
    },
    {
      policy: parseArchivePolicy({ name: 'minute', back_window: 0, aggregation_methods: ['mean', 'count', 'max', 'first'], definition: [{ granularity: 60, points: 1440 }] }),
      batches: [[5, 65, 125.5], [130, 119, 200], [180, 179.9], [1000], [961, 959]],
      refused: [119, 179.9, 959],
    },
    {
      // Blocks of one second, 3600 of them.
      policy: builtin('bool'),
      batches: [[0, 10], [5000], [1500, 1399, 1400]],
      refused: [1399],
    },
  ];
  const valueOf = (offset: number) => Math.round(Math.sin(offset) * 100) / 4;

  beforeAll(async () => {
    store = createChdbDriver({ dataDir: dir });
    await migrate(store, MIGRATIONS);
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses the measures the rule says, and what it lets through is stored and read back', async () => {
    for (const { policy, batches, refused } of CASES) {
      const id = randomUUID();
      const seen: number[] = [];
      for (const batch of batches) {
        // 1. the newest stored block per metric, 2. the rule, 3. store what it accepted.
        const newest = await store.query<NewestMeasureTimeRow>(selectNewestMeasureTimes([id]));
        const before = new Map(newest.map((r) => [r.metric_id, Number(r.newest_block) * 1000]));
        const result = applyBackWindow(batch.map((offset) => ({ metricId: id, timestampMs: (T0 + offset) * 1000, value: valueOf(offset), offset })), before, () => policy);
        seen.push(...result.refused.map((r) => r.measure.offset));
        await insertMeasureRows(store, result.accepted.map((x) => ({ metricId: id, tsMicros: Math.round(x.timestampMs * 1000), value: x.value, sampleId: randomUUID(), policy })), { dedupToken: randomUUID() });
      }
      expect(seen, policy.name).toEqual(refused);
      const finest = Math.min(...policy.definition.map((l) => l.granularity));
      const counts = await store.query<MeasureRow>(selectMeasures({ metricId: id, method: 'count', granularity: finest, now: new Date(NOW_S * 1000) }));
      expect(counts.reduce((a, r) => a + Number(r.value), 0), policy.name).toBe(batches.flat().length - refused.length);
    }
  });

  it.skipIf(unavailable !== null && !GNOCCHI_REQUIRED)('accepts the same measures as real Gnocchi 4.4 and reads the same aggregates after each batch', async () => {
    expect(unavailable, 'CI needs real Gnocchi (python3-gnocchi) as the reference').toBeNull();
    for (const { policy, batches, compare } of CASES) {
      const id = randomUUID();
      const methods = compare ?? [...policy.aggregation_methods];
      const definition = policy.definition.map((l) => [l.granularity, l.points] as [number, number]);
      // Gnocchi after every batch, so each step is compared, not only the end state.
      const references = gnocchiStorage(batches.map((_, n) => ({ definition, back_window: policy.back_window, methods: [...policy.aggregation_methods], batches: batches.slice(0, n + 1).map((b) => b.map((offset) => [T0 + offset, valueOf(offset)] as [number, number])) })));
      for (const [n, batch] of batches.entries()) {
        const newest = await store.query<NewestMeasureTimeRow>(selectNewestMeasureTimes([id]));
        const before = new Map(newest.map((r) => [r.metric_id, Number(r.newest_block) * 1000]));
        const { accepted } = applyBackWindow(batch.map((offset) => ({ metricId: id, timestampMs: (T0 + offset) * 1000, value: valueOf(offset) })), before, () => policy);
        await insertMeasureRows(store, accepted.map((x) => ({ metricId: id, tsMicros: Math.round(x.timestampMs * 1000), value: x.value, sampleId: randomUUID(), policy })), { dedupToken: randomUUID() });
        for (const method of methods) {
          for (const [g] of definition) {
            const ours = (await store.query<MeasureRow>(selectMeasures({ metricId: id, method, granularity: g, now: new Date(NOW_S * 1000) }))).map((r) => [Number(r.bucket), Number(r.value)]);
            const theirs = references[n]?.[`${method}@${g}`] ?? [];
            const label = `${policy.name} after batch ${n + 1}: ${method}@${g}`;
            expect(ours.map(([t]) => t), label).toEqual(theirs.map(([t]) => t));
            theirs.forEach(([, v], i) => expect(Math.abs((ours[i]?.[1] as number) - (v as number)), `${label} #${i}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(v as number))));
          }
        }
      }
    }
  }, 120_000);
});
