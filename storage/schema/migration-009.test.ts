import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchivePolicy } from '../archive-policies.ts';
import { createChdbDriver } from '../chdb-driver.ts';
import type { ClickHouseDriver } from '../driver.ts';
import { insertMeasureRows } from '../measure-insert.ts';
import { selectMeasures } from '../queries/measures.ts';
import { migrate } from './migrate.ts';
import { MIGRATIONS } from './migrations.ts';

/**
 * Upgrading a store whose rollups the view wrote (argMin/argMax states) to migration 9:
 * the states become (time, value) tuples with the same first and last, and later writes
 * merge with them exactly.
 */
describe('migration 9 on rollups the view wrote (chDB)', () => {
  let dir: string;
  let store: ClickHouseDriver;
  const metric = randomUUID();
  // Recent, minute-aligned: the rollups' TTL runs on the engine's clock.
  const t0 = Math.floor((Date.now() - 3_600_000) / 60_000) * 60;
  const policy: ArchivePolicy = { name: 'm9', back_window: 0, aggregation_methods: ['first', 'last'], definition: [{ granularity: 60, points: 1440 }, { granularity: 3600, points: 48 }] };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cumulus-migration-9-'));
    store = createChdbDriver({ dataDir: dir });
  });
  afterAll(async () => {
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const read = async (method: 'first' | 'last' | 'count' | 'sum', granularity: number) =>
    (await store.query<{ bucket: string; value: number }>(selectMeasures({ metricId: metric, method, granularity, now: new Date() }))).map((r) => [Number(r.bucket), Number(r.value)]);

  it('converts the states in place, and later writes merge with them', async () => {
    await migrate(store, MIGRATIONS.filter((m) => m.id < 9));
    // Through the view, in two inserts (two parts): micro-second times, one tie-free bucket each.
    const row = (seconds: number, micros: number, value: number) => ({ metric_id: metric, ts: `${new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ')}.${String(micros).padStart(6, '0')}`, value, sample_id: randomUUID(), granularities: [60, 3600], retentions: [86_400, 172_800] });
    await store.insert('measures', [row(t0 + 5, 123_456, 1.5), row(t0 + 50, 1, -2), row(t0 + 65, 0, 7)], { dedupToken: 'view-1' });
    await store.insert('measures', [row(t0 + 2, 999_999, 3.25), row(t0 + 119, 500_000, 11)], { dedupToken: 'view-2' });
    const before = await store.query<{ bucket: string; f: number; l: number }>({
      sql: 'SELECT toUnixTimestamp(bucket) AS bucket, argMinMerge(first) AS f, argMaxMerge(last) AS l FROM rollups WHERE metric_id = {m:UUID} AND granularity = 60 GROUP BY bucket ORDER BY bucket',
      params: { m: metric },
    });
    expect(before.map((r) => [Number(r.bucket), r.f, r.l])).toEqual([[t0, 3.25, -2], [t0 + 60, 7, 11]]);

    await migrate(store);
    expect(await read('first', 60)).toEqual([[t0, 3.25], [t0 + 60, 7]]);
    expect(await read('last', 60)).toEqual([[t0, -2], [t0 + 60, 11]]);
    const hour = Math.floor(t0 / 3600) * 3600;
    expect(await read('count', 3600)).toEqual(t0 + 119 < hour + 3600 ? [[hour, 5]] : expect.any(Array));
    const views = await store.query({ sql: "SELECT name FROM system.tables WHERE database = currentDatabase() AND name = 'rollups_mv'" });
    expect(views).toEqual([]);

    // The writer's rows now: one before the converted first, one after the converted last, one between.
    await insertMeasureRows(
      store,
      [
        { metricId: metric, tsMicros: (t0 + 1) * 1_000_000, value: 100, sampleId: randomUUID(), policy },
        { metricId: metric, tsMicros: (t0 + 30) * 1_000_000, value: 200, sampleId: randomUUID(), policy },
        { metricId: metric, tsMicros: (t0 + 119) * 1_000_000 + 600_000, value: 300, sampleId: randomUUID(), policy },
      ],
      { dedupToken: 'writer-1' },
    );
    expect(await read('first', 60)).toEqual([[t0, 100], [t0 + 60, 7]]);
    expect(await read('last', 60)).toEqual([[t0, -2], [t0 + 60, 300]]);
    expect(await read('sum', 60)).toEqual([[t0, 1.5 - 2 + 3.25 + 100 + 200], [t0 + 60, 7 + 11 + 300]]);
  });
});
