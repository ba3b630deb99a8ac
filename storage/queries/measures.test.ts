import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GNOCCHI_REQUIRED, gnocchiStorage, gnocchiUnavailable } from '../../test/support/gnocchi-carbonara.ts';
import { createChdbDriver } from '../chdb-driver.ts';
import type { ArchivePolicy } from '../archive-policies.ts';
import type { ClickHouseDriver } from '../driver.ts';
import { insertMeasureRows } from '../measure-insert.ts';
import { migrate } from '../schema/migrate.ts';
import { MIGRATIONS } from '../schema/migrations.ts';
import { MEASURES_RETENTION } from '../schema/migrations/002-measures-retention.ts';
import { selectMeasures, selectNewestMeasureTimes, type MeasureRow, type NewestMeasureTimeRow } from './measures.ts';

const unavailable = gnocchiUnavailable();
if (unavailable && !GNOCCHI_REQUIRED) process.stdout.write(`storage/queries/measures.test.ts: real Gnocchi cross-checks skipped: ${unavailable}\n`);

type Point = [number, number];

// Recent data: the rollups' TTL runs on the server's clock, so data must still be in retention.
const NOW_S = Math.floor(Date.now() / 1000);
const T0 = Math.floor((NOW_S - 3 * 3600) / 3600) * 3600;

/** Irregular times (fractions of a second, empty minutes and an empty 5-minute bucket) and values. */
const GAPS = [0.25, 13, 16.5, 11, 34, 200, 17, 9, 320, 61, 3, 700, 44, 30, 30, 30, 1210, 15, 2.75, 400, 59, 61, 240, 1800, 5, 5, 600, 120, 7];
const VALUES = [5, 3, 8, 8, -2, 4.5, 10, 1, 7, 7, 12, 0, 3, 6, 9, 2, 11, 4, 4, 20, 1, 6, 5, 3, 8, 13, 2, 9, 14];
const POINTS: Point[] = (() => {
  let t = T0;
  return GAPS.map((gap, i) => {
    t += gap;
    return [t, VALUES[i] as number];
  });
})();

const DEFINITION: Array<[number, number]> = [
  [60, 1440],
  [300, 288],
  [3600, 48],
];
const METHODS = ['mean', 'min', 'max', 'sum', 'count', 'std', 'first', 'last', 'median', '1pct', '50pct', '95pct', '99pct', 'rate:mean', 'rate:sum', 'rate:min', 'rate:max', 'rate:count', 'rate:std', 'rate:first', 'rate:last', 'rate:median', 'rate:95pct'];

// ---- an independent computation of what Gnocchi answers, straight from its definitions ----

/** numpy's default percentile: linear interpolation between the closest ranks. */
function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

function aggregate(method: string, values: readonly number[]): number | undefined {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  switch (method) {
    case 'mean':
      return mean;
    case 'sum':
      return values.reduce((a, b) => a + b, 0);
    case 'min':
      return Math.min(...values);
    case 'max':
      return Math.max(...values);
    case 'count':
      return n;
    case 'std':
      return n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : undefined;
    case 'first':
      return values[0];
    case 'last':
      return values[n - 1];
    case 'median':
      return percentile(values, 0.5);
    default:
      return percentile(values, Number(/^(\d+)pct$/.exec(method)?.[1]) / 100);
  }
}

/**
 * Gnocchi's series for (method, granularity): raw values per bucket, or for rate: the
 * differences with the previous measure when it lies in the same bucket or the one before.
 */
function expected(points: readonly Point[], method: string, g: number, counterResets = false): Map<number, number> {
  const sorted = [...points].sort((a, b) => a[0] - b[0]);
  const rate = method.startsWith('rate:');
  const values = new Map<number, number[]>();
  sorted.forEach(([t, v], i) => {
    const bucket = Math.floor(t / g) * g;
    let x = v;
    if (rate) {
      const prev = sorted[i - 1];
      if (!prev || prev[0] < bucket - g) return;
      x = counterResets && v < prev[1] ? v : v - prev[1];
    }
    values.set(bucket, [...(values.get(bucket) ?? []), x]);
  });
  const out = new Map<number, number>();
  for (const [bucket, xs] of values) {
    const value = aggregate(rate ? method.slice(5) : method, xs);
    if (value !== undefined) out.set(bucket, value);
  }
  return out;
}

function expectSameSeries(actual: Map<number, number | null>, wanted: Map<number, number | null>, label: string): void {
  expect([...actual.keys()].sort((a, b) => a - b), `${label}: buckets`).toEqual([...wanted.keys()].sort((a, b) => a - b));
  for (const [bucket, value] of wanted) {
    const got = actual.get(bucket) as number;
    expect(Math.abs(got - (value as number)), `${label} @ ${bucket}: got ${got}, want ${value}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(value as number)));
  }
}

describe('selectMeasures (chDB)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cumulus-measures-'));
  let store: ClickHouseDriver;

  const insert = async (metricId: string, points: readonly Point[], definition: ReadonlyArray<[number, number]>) => {
    const policy: ArchivePolicy = { name: 'test', back_window: 0, aggregation_methods: [], definition: definition.map(([granularity, count]) => ({ granularity, points: count })) };
    await insertMeasureRows(
      store,
      points.map(([t, v]) => ({
        metricId,
        // Microseconds, as the column keeps them.
        tsMicros: Math.floor(t) * 1_000_000 + Math.round((t - Math.floor(t)) * 1e6),
        value: v,
        sampleId: randomUUID(),
        policy,
      })),
      { dedupToken: randomUUID() },
    );
  };
  const read = async (q: Parameters<typeof selectMeasures>[0]) => {
    const rows = await store.query<MeasureRow>(selectMeasures(q));
    return rows.map((r) => [Number(r.bucket), Number(r.granularity), r.value === null ? null : Number(r.value)] as const);
  };
  const series = (rows: ReadonlyArray<readonly [number, number, number | null]>, g: number) => new Map(rows.filter((r) => r[1] === g).map((r) => [r[0], r[2]]));

  beforeAll(async () => {
    store = createChdbDriver({ dataDir: dir });
    await migrate(store, MIGRATIONS);
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers every method at every granularity as computed from the definitions, coarsest first', async () => {
    const metric = randomUUID();
    await insert(metric, POINTS, DEFINITION);
    for (const method of METHODS) {
      const rows = await read({ metricId: metric, method, now: new Date(NOW_S * 1000) });
      // Gnocchi's order: granularity descending, then time.
      const order = rows.map((r) => [-r[1], r[0]]);
      expect(order, method).toEqual([...order].sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number)));
      for (const [g] of DEFINITION) expectSameSeries(series(rows, g), expected(POINTS, method, g), `${method}@${g}`);
      // One granularity asked: the same points, only those.
      const one = await read({ metricId: metric, method, granularity: 300, now: new Date(NOW_S * 1000) });
      expect(one.every((r) => r[1] === 300)).toBe(true);
      expectSameSeries(series(one, 300), expected(POINTS, method, 300), `${method}@300 alone`);
    }
  });

  it.skipIf(unavailable !== null && !GNOCCHI_REQUIRED)('matches real Gnocchi 4.4 (measures processed one by one, as they stream in) for every method and granularity', async () => {
    expect(unavailable, 'CI needs real Gnocchi (python3-gnocchi) as the reference').toBeNull();
    const metric = randomUUID();
    await insert(metric, POINTS, DEFINITION);
    const [reference] = gnocchiStorage([{ definition: DEFINITION, back_window: 0, methods: METHODS, batches: POINTS.map((p) => [p]) }]);
    for (const method of METHODS) {
      const rows = await read({ metricId: metric, method, now: new Date(NOW_S * 1000) });
      for (const [g] of DEFINITION) {
        const theirs = new Map((reference?.[`${method}@${g}`] ?? []).map(([t, v]) => [t, v]));
        expectSameSeries(series(rows, g), theirs, `gnocchi ${method}@${g}`);
      }
    }
  });

  it('starts at the bucket holding `start` (Gnocchi rounds it down) and stops before `stop`, for rollup and raw methods', async () => {
    const metric = randomUUID();
    await insert(metric, POINTS, DEFINITION);
    const start = T0 + 1000.5; // inside a 5-minute bucket
    const stop = T0 + 3600 + 0.5; // a fraction past a bucket start: that bucket starts before stop
    for (const method of ['mean', 'count', '95pct', 'rate:sum']) {
      for (const granularity of [undefined, 300]) {
        const rows = await read({ metricId: metric, method, granularity, start: new Date(start * 1000), stop: new Date(stop * 1000), now: new Date(NOW_S * 1000) });
        for (const [g] of granularity === undefined ? DEFINITION : [[300, 0] as const]) {
          const inRange = new Map([...expected(POINTS, method, g)].filter(([bucket]) => bucket >= Math.floor(start / g) * g && bucket < stop));
          expectSameSeries(series(rows, g), inRange, `${method}@${g} in range (granularity ${granularity})`);
        }
      }
    }
    // The rate's first bucket in range still uses the measure before it.
    const rates = series(await read({ metricId: metric, method: 'rate:sum', granularity: 300, start: new Date(start * 1000), now: new Date(NOW_S * 1000) }), 300);
    expect(rates.get(Math.floor(start / 300) * 300)).toBe(expected(POINTS, 'rate:sum', 300).get(Math.floor(start / 300) * 300));
  });

  it('takes a counter reset as a negative difference (Gnocchi) or, with counterResets, the new value as the increase', async () => {
    const metric = randomUUID();
    const counter: Point[] = [10, 20, 35, 5, 15, 40, 2].map((v, i) => [T0 + 20 + i * 50, v]);
    await insert(metric, counter, [[60, 1440], [300, 288]]);
    for (const counterResets of [false, true]) {
      for (const method of ['rate:sum', 'rate:mean', 'rate:max', 'rate:last']) {
        const rows = await read({ metricId: metric, method, counterResets, now: new Date(NOW_S * 1000) });
        for (const g of [60, 300]) expectSameSeries(series(rows, g), expected(counter, method, g, counterResets), `${method}@${g} counterResets=${counterResets}`);
      }
    }
    // Spelled out at 5 minutes (the reset is 35 -> 5, then 40 -> 2 in the next bucket).
    const sums = async (counterResets: boolean) => [...series(await read({ metricId: metric, method: 'rate:sum', granularity: 300, counterResets, now: new Date(NOW_S * 1000) }), 300).values()];
    expect(await sums(false)).toEqual([10 + 15 - 30 + 10 + 25, 2 - 40]);
    expect(await sums(true)).toEqual([10 + 15 + 5 + 10 + 25, 2]);
  });

  it('leaves out buckets past granularity x points, level by level, for rollup and raw methods', async () => {
    const metric = randomUUID();
    const definition: Array<[number, number]> = [
      [60, 5],
      [300, 12],
    ];
    // Ahead of the server's clock, so its TTL merges cannot remove what the queries' `now` keeps.
    const start = Math.ceil(NOW_S / 300) * 300 + 600;
    const points: Point[] = [0, 30, 70, 130, 190, 250, 310, 370].map((dt, i) => [start + dt, i + 1]);
    await insert(metric, points, definition);
    for (const method of ['mean', 'max', 'median', '95pct', 'rate:mean']) {
      for (const nowS of [start + 200, start + 500, start + 3700, start + 4000]) {
        const rows = await read({ metricId: metric, method, now: new Date(nowS * 1000) });
        for (const [g, p] of definition) {
          const alive = new Map([...expected(points, method, g)].filter(([bucket]) => bucket + g * p > nowS));
          expectSameSeries(series(rows, g), alive, `${method}@${g} at now+${nowS - start}`);
        }
      }
    }
    // At +500 s the first minute buckets are gone but every 5-minute bucket stays; at +4000 s all are gone.
    expect(series(await read({ metricId: metric, method: 'count', now: new Date((start + 500) * 1000) }), 60).has(start)).toBe(false);
    expect(series(await read({ metricId: metric, method: 'count', now: new Date((start + 500) * 1000) }), 300).has(start)).toBe(true);
    expect(await read({ metricId: metric, method: '95pct', now: new Date((start + 4000) * 1000) })).toEqual([]);
  });

  it('merges the states of every part holding a bucket (rollup methods), bounded and single-threaded or not', async () => {
    const metric = randomUUID();
    // Four inserts, each a part of its own, every bucket spread over several of them; merges
    // held back so the read itself has to merge the partial states.
    await store.command({ sql: 'SYSTEM STOP MERGES rollups' });
    try {
      for (let k = 0; k < 4; k++) await insert(metric, POINTS.filter((_, i) => i % 4 === k), DEFINITION);
      const [parts] = await store.query<{ n: string }>({ sql: 'SELECT count() AS n FROM system.parts WHERE active AND database = currentDatabase() AND table = {t:String}', params: { t: 'rollups' } });
      expect(Number(parts?.n)).toBeGreaterThanOrEqual(4);
      const now = new Date(NOW_S * 1000);
      const start = new Date((T0 - 3600) * 1000);
      const stop = new Date((NOW_S + 3600) * 1000);
      for (const method of ['mean', 'min', 'max', 'sum', 'count', 'std', 'first', 'last']) {
        for (const [g] of DEFINITION) {
          const bounded = selectMeasures({ metricId: metric, method, granularity: g, start, stop, now });
          expect(bounded.sql, `${method}@${g}: a bounded day is read on one thread`).toContain('max_threads = 1');
          expectSameSeries(series(await read({ metricId: metric, method, granularity: g, start, stop, now }), g), expected(POINTS, method, g), `${method}@${g} bounded`);
        }
        const all = await read({ metricId: metric, method, now });
        for (const [g] of DEFINITION) expectSameSeries(series(all, g), expected(POINTS, method, g), `${method}@${g} unbounded`);
      }
      expect(selectMeasures({ metricId: metric, method: 'mean', now }).sql).not.toContain('max_threads');
      expect(selectMeasures({ metricId: metric, method: 'mean', granularity: 1, start: new Date(0), stop: now, now }).sql).not.toContain('max_threads');
    } finally {
      await store.command({ sql: 'SYSTEM START MERGES rollups' });
    }
  });

  it('keeps a bucket, with every measure that fed it, while its longest retention holds', async () => {
    const metric = randomUUID();
    // Ahead of the server's clock (see above). The same 5-minute bucket written under a
    // 1-hour and then a 1-day retention (a policy change): all four measures count until
    // the day is over, not only the ones written with the longer retention.
    const bucket = Math.ceil(NOW_S / 300) * 300 + 600;
    await insert(metric, [[bucket + 10, 1], [bucket + 20, 2]], [[300, 12]]);
    await insert(metric, [[bucket + 30, 3], [bucket + 40, 10]], [[300, 288]]);
    for (const method of ['count', 'mean', 'sum', 'first', 'median']) {
      const at = async (nowS: number) => series(await read({ metricId: metric, method, granularity: 300, start: new Date(bucket * 1000), stop: new Date((bucket + 300) * 1000), now: new Date(nowS * 1000) }), 300);
      const values = [1, 2, 3, 10];
      expect(await at(bucket + 100), `${method} in both retentions`).toEqual(new Map([[bucket, aggregate(method, values) as number]]));
      expect(await at(bucket + 7200), `${method} past the short retention only`).toEqual(new Map([[bucket, aggregate(method, values) as number]]));
      expect(await at(bucket + 86_400), `${method} past both`).toEqual(new Map());
    }
  });

  it('refuses a method Gnocchi does not know, with a code', () => {
    for (const method of ['p95', '99.9pct', '100pct', '0pct', '05pct', 'rate:rate:mean', 'avg']) {
      expect(() => selectMeasures({ metricId: randomUUID(), method, now: new Date() }), method).toThrow(expect.objectContaining({ code: 'CUMULUS_STORAGE_AGGREGATION_METHOD_UNKNOWN', httpStatus: 400 }));
    }
  });

  it("finds each metric's newest block (bucket of its coarsest granularity), for the back window", async () => {
    const a = randomUUID();
    const b = randomUUID();
    await insert(a, POINTS, DEFINITION);
    await insert(b, POINTS.slice(0, 5), [[60, 1440], [300, 288]]);
    const rows = await store.query<NewestMeasureTimeRow>(selectNewestMeasureTimes([a, b, randomUUID()]));
    const byId = new Map(rows.map((r) => [r.metric_id, [Number(r.block), Number(r.newest_block)]]));
    const newest = (points: readonly Point[]) => Math.max(...points.map((p) => p[0]));
    expect(byId.get(a)).toEqual([3600, Math.floor(newest(POINTS) / 3600) * 3600]);
    expect(byId.get(b)).toEqual([300, Math.floor(newest(POINTS.slice(0, 5)) / 300) * 300]);
    expect(byId.size).toBe(2);
  });

  it('keeps raw measures (migration 2) as long as their longest retention, and never less than 400 days', async () => {
    const metric = randomUUID();
    const day = 86_400;
    const old = NOW_S - 500 * day;
    await insert(metric, [[old, 1]], [[3600, 24 * 1000]]); // a 1000-day policy: still needed
    await insert(metric, [[old + 1, 2]], [[300, 288 * 30]]); // a 30-day policy: 500 days old is past 400 days
    await insert(metric, [[NOW_S - 100 * day, 3]], [[300, 288]]); // 1 day retention, but the 400-day floor holds
    await store.command({ sql: 'OPTIMIZE TABLE measures FINAL' });
    const kept = await store.query<{ value: number }>({ sql: 'SELECT value FROM measures WHERE metric_id = {m:UUID} ORDER BY value', params: { m: metric } });
    expect(kept.map((r) => Number(r.value))).toEqual([1, 3]);
    // Applying the migration's statement again is harmless.
    for (const statement of MEASURES_RETENTION.statements) await store.command({ sql: statement });
    const [table] = await store.query<{ engine_full: string }>({ sql: "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'measures'" });
    expect(table?.engine_full).toContain('arrayMax(retentions)');
  });
});
