import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChdbDriver } from '../chdb-driver.ts';
import type { ClickHouseDriver } from '../driver.ts';
import { migrate } from './migrate.ts';
import { MIGRATIONS } from './migrations.ts';

describe('migrate (chDB)', () => {
  let dir: string;
  let store: ClickHouseDriver;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cumulus-migrate-'));
    store = createChdbDriver({ dataDir: dir });
  });
  afterAll(async () => {
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const tables = () => store.query<{ name: string; engine: string }>({ sql: "SELECT name, engine FROM system.tables WHERE database = currentDatabase() ORDER BY name" });

  it('with a cluster, sends ON CLUSTER DDL (which a lone chDB refuses) and creates nothing on this node alone', async () => {
    await expect(migrate(store, MIGRATIONS, { name: 'cumulus' })).rejects.toMatchObject({ code: 'CUMULUS_STORAGE_QUERY_FAILED', message: expect.stringContaining('ON CLUSTER cumulus') });
    expect(await tables()).toEqual([]);
  });

  it('without one (or with an empty name) runs every migration as written, once', async () => {
    expect(await migrate(store, MIGRATIONS, '')).toEqual(MIGRATIONS.map((m) => m.id));
    expect(await migrate(store)).toEqual([]);
    const found = await tables();
    // Single-server schema: no local/Distributed split, no replicated engine.
    expect(found.filter((t) => t.name.endsWith('_local') || /Replicated|Distributed/.test(t.engine))).toEqual([]);
    expect(found).toEqual(
      expect.arrayContaining([
        { name: 'events', engine: 'ReplacingMergeTree' },
        { name: 'audit_records', engine: 'ReplacingMergeTree' },
        { name: 'logs', engine: 'ReplacingMergeTree' },
        { name: 'rated_usage', engine: 'ReplacingMergeTree' },
        { name: 'ingest_plans', engine: 'ReplacingMergeTree' },
        { name: 'schema_migrations', engine: 'MergeTree' },
      ]),
    );
    const ledger = await store.query<{ id: number; name: string }>({ sql: 'SELECT id, name FROM schema_migrations ORDER BY id' });
    expect(ledger).toEqual(MIGRATIONS.map((m) => ({ id: m.id, name: m.name })));
  });

  it('keeps what migration 4 declares: sort keys, partitions, TTLs on per-row retention, dedup windows', async () => {
    const rows = await store.query<{ name: string; sorting_key: string; partition_key: string; create_table_query: string }>({
      sql: "SELECT name, sorting_key, partition_key, create_table_query FROM system.tables WHERE database = currentDatabase() AND name IN ('events', 'audit_records', 'logs', 'rated_usage') ORDER BY name",
    });
    expect(rows.map((r) => [r.name, r.sorting_key, r.partition_key])).toEqual([
      ['audit_records', 'toStartOfDay(event_time), initiator_id, event_time, id', 'toYYYYMM(event_time)'],
      ['events', 'event_type, project_id, generated, message_id', 'toMonday(generated)'],
      ['logs', 'service, level, timestamp, id', 'toMonday(timestamp)'],
      ['rated_usage', 'project_id, period_start, service, resource_id', 'toYYYYMM(period_start)'],
    ]);
    for (const row of rows) {
      expect(row.create_table_query).toMatch(/TTL .*toIntervalDay\(retention_days\)/);
      expect(row.create_table_query).toContain('non_replicated_deduplication_window = 10000');
    }
    expect(rows.find((r) => r.name === 'logs')?.create_table_query).toContain("INDEX message_idx lower(message) TYPE text(tokenizer = 'splitByNonAlpha')");
  });
});
