import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchivePolicy } from '../archive-policies.ts';
import { createChdbDriver } from '../chdb-driver.ts';
import type { ClickHouseDriver } from '../driver.ts';
import { insertMeasureRows } from '../measure-insert.ts';
import { ClusterDdlError, clusterOptions, createClusterRenderer, renderMigrationsForCluster } from './cluster.ts';
import { MIGRATIONS } from './migrations.ts';
import { METRICS_MEASURES_ROLLUPS } from './migrations/001-metrics-measures-rollups.ts';
import { EVENTS_AUDIT_LOGS_RATED_USAGE } from './migrations/004-events-audit-logs-rated-usage.ts';
import { ROLLUPS_WRITTEN_BY_WRITERS } from './migrations/009-rollups-written-by-writers.ts';

const norm = (sql: string) => sql.replace(/\s+/g, ' ').trim();
const render = (statements: readonly string[], options: Parameters<typeof createClusterRenderer>[0] = 'cumulus') => {
  const renderer = createClusterRenderer(options);
  return statements.flatMap((s) => renderer.render(s)).map(norm);
};

describe('cluster options', () => {
  it('reads no cluster as none, and refuses names and keys that cannot be cluster DDL', () => {
    expect(clusterOptions(undefined)).toBeNull();
    expect(clusterOptions('  ')).toBeNull();
    expect(clusterOptions('cumulus')).toMatchObject({ name: 'cumulus', keeperPath: '/clickhouse/tables' });
    expect(() => clusterOptions('my-cluster')).toThrow(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID', message: expect.stringContaining('"my-cluster"') }));
    expect(() => clusterOptions({ name: 'c', database: 'x;DROP' })).toThrow(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID' }));
    expect(() => clusterOptions({ name: 'c', keeperPath: "/a'b" })).toThrow(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID' }));
    // A replay must route each row where the first attempt did.
    expect(() => clusterOptions({ name: 'c', shardingKeys: { measures: 'rand()' } })).toThrow(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID', message: expect.stringContaining('sharding key of measures') }));
    expect(() => createClusterRenderer('')).toThrow(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID' }));
  });
});

describe('migration 001 on a cluster', () => {
  it('renders every statement: local replicated tables, Distributed tables of the original names, the view on the local tables, plans on every node', () => {
    expect(renderMigrationsForCluster([METRICS_MEASURES_ROLLUPS], 'cumulus')[0]?.statements.map(norm)).toEqual([
      "CREATE TABLE IF NOT EXISTS metrics_local ON CLUSTER cumulus ( id UUID, name String, resource_id String, project_id String, user_id String, unit String, archive_policy_name String, created_at DateTime64(3, 'UTC') ) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/metrics_local', '{replica}', created_at) ORDER BY id",
      "CREATE TABLE IF NOT EXISTS metrics ON CLUSTER cumulus AS metrics_local ENGINE = Distributed('cumulus', currentDatabase(), metrics_local, cityHash64(id))",
      "CREATE TABLE IF NOT EXISTS resources_local ON CLUSTER cumulus ( id String, type String, project_id String, user_id String, started_at DateTime64(6, 'UTC'), ended_at Nullable(DateTime64(6, 'UTC')), revision_start DateTime64(6, 'UTC'), attributes String ) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/resources_local', '{replica}', revision_start) ORDER BY id",
      "CREATE TABLE IF NOT EXISTS resources ON CLUSTER cumulus AS resources_local ENGINE = Distributed('cumulus', currentDatabase(), resources_local, cityHash64(id))",
      "CREATE TABLE IF NOT EXISTS measures_local ON CLUSTER cumulus ( metric_id UUID, ts DateTime64(6, 'UTC'), value Float64, sample_id UUID, granularities Array(UInt32), retentions Array(UInt32) ) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/measures_local', '{replica}') ORDER BY (metric_id, ts) TTL toDateTime(ts) + INTERVAL 400 DAY SETTINGS replicated_deduplication_window = 10000",
      "CREATE TABLE IF NOT EXISTS measures ON CLUSTER cumulus AS measures_local ENGINE = Distributed('cumulus', currentDatabase(), measures_local, cityHash64(metric_id))",
      "CREATE TABLE IF NOT EXISTS rollups_local ON CLUSTER cumulus ( metric_id UUID, granularity UInt32, bucket DateTime('UTC'), -- When the bucket leaves retention; max, so a policy change that lengthens it wins. expires SimpleAggregateFunction(max, DateTime('UTC')), count SimpleAggregateFunction(sum, UInt64), sum SimpleAggregateFunction(sum, Float64), min SimpleAggregateFunction(min, Float64), max SimpleAggregateFunction(max, Float64), sumsq SimpleAggregateFunction(sum, Float64), first AggregateFunction(argMin, Float64, DateTime64(6, 'UTC')), last AggregateFunction(argMax, Float64, DateTime64(6, 'UTC')) ) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/rollups_local', '{replica}') ORDER BY (metric_id, granularity, bucket) TTL expires SETTINGS replicated_deduplication_window = 10000",
      "CREATE TABLE IF NOT EXISTS rollups ON CLUSTER cumulus AS rollups_local ENGINE = Distributed('cumulus', currentDatabase(), rollups_local, cityHash64(metric_id))",
      "CREATE MATERIALIZED VIEW IF NOT EXISTS rollups_mv ON CLUSTER cumulus TO rollups_local AS SELECT metric_id, g AS granularity, toDateTime(intDiv(toUnixTimestamp(ts), g) * g, 'UTC') AS bucket, toDateTime(intDiv(toUnixTimestamp(ts), g) * g + r, 'UTC') AS expires, count() AS count, sum(value) AS sum, min(value) AS min, max(value) AS max, sum(value * value) AS sumsq, argMinState(value, ts) AS first, argMaxState(value, ts) AS last FROM measures_local ARRAY JOIN granularities AS g, retentions AS r GROUP BY metric_id, granularity, bucket, expires",
      "CREATE TABLE IF NOT EXISTS ingest_plans ON CLUSTER cumulus ( consumer String, topic String, partition UInt32, first_offset UInt64, last_offset UInt64, planned_at DateTime64(3, 'UTC') ) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/ingest_plans', '{shard}-{replica}', planned_at) ORDER BY (consumer, topic, partition, first_offset) TTL toDateTime(planned_at) + INTERVAL 7 DAY",
    ]);
  });

  it('keeps the statement text byte for byte around what it changes (comments and layout included)', () => {
    const [, , , , , , rollups] = renderMigrationsForCluster([METRICS_MEASURES_ROLLUPS], 'cumulus')[0]?.statements ?? [];
    const original = METRICS_MEASURES_ROLLUPS.statements[3] as string;
    expect(rollups).toBe(
      original
        .replace('CREATE TABLE IF NOT EXISTS rollups (', 'CREATE TABLE IF NOT EXISTS rollups_local ON CLUSTER cumulus (')
        .replace('ENGINE = AggregatingMergeTree ORDER BY', "ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/rollups_local', '{replica}') ORDER BY")
        .replace('non_replicated_deduplication_window', 'replicated_deduplication_window'),
    );
  });

  it('names the database and the Keeper root when told', () => {
    const [local, distributed] = render([METRICS_MEASURES_ROLLUPS.statements[0] as string], { name: 'prod', database: 'cumulus', keeperPath: '/ch/t/' });
    expect(local).toContain("ON CLUSTER prod ( id UUID,");
    expect(local).toContain("ENGINE = ReplicatedReplacingMergeTree('/ch/t/{shard}/{database}/metrics_local', '{replica}', created_at)");
    expect(distributed).toBe("CREATE TABLE IF NOT EXISTS metrics ON CLUSTER prod AS metrics_local ENGINE = Distributed('prod', cumulus, metrics_local, cityHash64(id))");
  });
});

describe('migration 004 on a cluster', () => {
  const rendered = renderMigrationsForCluster([EVENTS_AUDIT_LOGS_RATED_USAGE], 'cumulus')[0]?.statements ?? [];
  const tables = ['events', 'audit_records', 'logs', 'rated_usage'];
  const engines = ["ReplacingMergeTree\n", "ReplacingMergeTree\n", "ReplacingMergeTree\n", 'ReplacingMergeTree(rated_at)\n'];
  const keys = ['cityHash64(message_id)', 'cityHash64(id)', 'cityHash64(id)', 'cityHash64(project_id)'];

  it('splits each table into a replicated local table and a Distributed one, sharded by the key that keeps duplicates together', () => {
    expect(rendered).toHaveLength(8);
    tables.forEach((table, i) => {
      const original = EVENTS_AUDIT_LOGS_RATED_USAGE.statements[i] as string;
      const args = engines[i] === 'ReplacingMergeTree(rated_at)\n' ? ', rated_at' : '';
      expect(rendered[2 * i]).toBe(
        original
          .replace(`CREATE TABLE IF NOT EXISTS ${table} (`, `CREATE TABLE IF NOT EXISTS ${table}_local ON CLUSTER cumulus (`)
          .replace(`ENGINE = ${engines[i]}`, `ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/${table}_local', '{replica}'${args})\n`)
          .replace('non_replicated_deduplication_window', 'replicated_deduplication_window'),
      );
      expect(rendered[2 * i + 1]).toBe(`CREATE TABLE IF NOT EXISTS ${table} ON CLUSTER cumulus AS ${table}_local ENGINE = Distributed('cumulus', currentDatabase(), ${table}_local, ${keys[i]})`);
    });
  });
});

describe('migration 009 on a cluster', () => {
  it('drops the view on every node by its own name, and changes the rollups on every node and in the Distributed table', () => {
    // Rendered in sequence, as migrate does: 001 split rollups into rollups_local and a Distributed table.
    const rendered = renderMigrationsForCluster(MIGRATIONS, 'cumulus').find((m) => m.id === ROLLUPS_WRITTEN_BY_WRITERS.id)?.statements ?? [];
    expect(rendered[0]).toBe('DROP VIEW IF EXISTS rollups_mv ON CLUSTER cumulus');
    expect(rendered[1]).toMatch(/^ALTER TABLE rollups_local ON CLUSTER cumulus\s+ADD COLUMN IF NOT EXISTS first_measure SimpleAggregateFunction\(min, Tuple/);
    expect(rendered[2]).toMatch(/^ALTER TABLE rollups ON CLUSTER cumulus ADD COLUMN IF NOT EXISTS first_measure .* ADD COLUMN IF NOT EXISTS last_measure SimpleAggregateFunction\(max, Tuple/);
    // The conversion is data: only the nodes' tables hold it.
    expect(rendered[3]).toMatch(/^ALTER TABLE rollups_local ON CLUSTER cumulus UPDATE first_measure = .* WHERE 1 SETTINGS mutations_sync = 2$/);
    expect(rendered.slice(4)).toEqual(['ALTER TABLE rollups_local ON CLUSTER cumulus DROP COLUMN IF EXISTS first, DROP COLUMN IF EXISTS last', 'ALTER TABLE rollups ON CLUSTER cumulus DROP COLUMN IF EXISTS first, DROP COLUMN IF EXISTS last']);
    expect(renderMigrationsForCluster([ROLLUPS_WRITTEN_BY_WRITERS], { name: 'prod', database: 'cumulus' })[0]?.statements[0]).toBe('DROP VIEW IF EXISTS rollups_mv ON CLUSTER prod');
  });
});

describe('statements of every kind', () => {
  const table = (engine: string, extra = '') => `CREATE TABLE IF NOT EXISTS t (k String, v UInt64, ver UInt32) ENGINE = ${engine} ORDER BY (k, v)${extra}`;

  it('MergeTree, with or without parentheses, and its settings', () => {
    expect(render([table('MergeTree', ' SETTINGS index_granularity = 1024, non_replicated_deduplication_window = 5')])).toEqual([
      "CREATE TABLE IF NOT EXISTS t_local ON CLUSTER cumulus (k String, v UInt64, ver UInt32) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/t_local', '{replica}') ORDER BY (k, v) SETTINGS index_granularity = 1024, replicated_deduplication_window = 5",
      // Not a configured table: sharded by its whole sort key, so rows that merge share a shard.
      "CREATE TABLE IF NOT EXISTS t ON CLUSTER cumulus AS t_local ENGINE = Distributed('cumulus', currentDatabase(), t_local, cityHash64(k, v))",
    ]);
    expect(render([table('MergeTree()')])[0]).toContain("ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/t_local', '{replica}') ORDER BY (k, v)");
  });

  it('ReplacingMergeTree(ver) keeps its version argument after the Keeper path and replica', () => {
    expect(render([table('ReplacingMergeTree(ver)')])[0]).toBe(
      "CREATE TABLE IF NOT EXISTS t_local ON CLUSTER cumulus (k String, v UInt64, ver UInt32) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/t_local', '{replica}', ver) ORDER BY (k, v)",
    );
  });

  it('AggregatingMergeTree and SummingMergeTree((columns)), with a configured sharding key', () => {
    expect(render([table('AggregatingMergeTree', ' PARTITION BY toYYYYMM(now()) TTL toDateTime(v) + INTERVAL 1 DAY')], { name: 'cumulus', shardingKeys: { t: 'cityHash64(k)' } })).toEqual([
      "CREATE TABLE IF NOT EXISTS t_local ON CLUSTER cumulus (k String, v UInt64, ver UInt32) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/t_local', '{replica}') ORDER BY (k, v) PARTITION BY toYYYYMM(now()) TTL toDateTime(v) + INTERVAL 1 DAY",
      "CREATE TABLE IF NOT EXISTS t ON CLUSTER cumulus AS t_local ENGINE = Distributed('cumulus', currentDatabase(), t_local, cityHash64(k))",
    ]);
    expect(render([table('SummingMergeTree((v))')])[0]).toContain("ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/{database}/t_local', '{replica}', (v)) ORDER BY");
  });

  it('a materialized view TO a table triggers on the local source and writes the local target; joined tables stay Distributed', () => {
    expect(
      render([
        table('MergeTree'),
        'CREATE TABLE totals (k String, n UInt64) ENGINE = SummingMergeTree ORDER BY k',
        "CREATE MATERIALIZED VIEW IF NOT EXISTS totals_mv TO totals AS SELECT t.k AS k, count() AS n FROM t JOIN totals USING (k) ARRAY JOIN [1] AS one WHERE t.k != 'FROM t' GROUP BY k",
      ]).slice(4),
    ).toEqual([
      "CREATE MATERIALIZED VIEW IF NOT EXISTS totals_mv ON CLUSTER cumulus TO totals_local AS SELECT t.k AS k, count() AS n FROM t_local JOIN totals USING (k) ARRAY JOIN [1] AS one WHERE t.k != 'FROM t' GROUP BY k",
    ]);
  });

  it('a materialized view with its own engine is stored per shard behind a Distributed table of its name', () => {
    expect(render([table('MergeTree'), 'CREATE MATERIALIZED VIEW v ENGINE = AggregatingMergeTree ORDER BY k AS SELECT k, sumState(v) AS s FROM t GROUP BY k']).slice(2)).toEqual([
      "CREATE MATERIALIZED VIEW v_local ON CLUSTER cumulus ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/v_local', '{replica}') ORDER BY k AS SELECT k, sumState(v) AS s FROM t_local GROUP BY k",
      "CREATE TABLE v ON CLUSTER cumulus AS v_local ENGINE = Distributed('cumulus', currentDatabase(), v_local, cityHash64(k))",
    ]);
  });

  it('ALTER TABLE: column changes on both tables, storage changes (TTL, settings, indexes) on the local one only', () => {
    const out = render([
      table('MergeTree'),
      'ALTER TABLE t ADD COLUMN IF NOT EXISTS w String DEFAULT \'a, MODIFY TTL\'',
      'ALTER TABLE t MODIFY TTL toDateTime(v) + INTERVAL 2 DAY',
      'ALTER TABLE t ADD COLUMN x UInt8, MODIFY SETTING non_replicated_deduplication_window = 10, index_granularity_bytes = 0, DROP COLUMN w, ADD INDEX xi x TYPE minmax GRANULARITY 1',
      'ALTER TABLE other MODIFY TTL d + INTERVAL 1 DAY',
    ]).slice(2);
    expect(out).toEqual([
      "ALTER TABLE t_local ON CLUSTER cumulus ADD COLUMN IF NOT EXISTS w String DEFAULT 'a, MODIFY TTL'",
      "ALTER TABLE t ON CLUSTER cumulus ADD COLUMN IF NOT EXISTS w String DEFAULT 'a, MODIFY TTL'",
      'ALTER TABLE t_local ON CLUSTER cumulus MODIFY TTL toDateTime(v) + INTERVAL 2 DAY',
      'ALTER TABLE t_local ON CLUSTER cumulus ADD COLUMN x UInt8, MODIFY SETTING replicated_deduplication_window = 10, index_granularity_bytes = 0, DROP COLUMN w, ADD INDEX xi x TYPE minmax GRANULARITY 1',
      'ALTER TABLE t ON CLUSTER cumulus ADD COLUMN x UInt8, DROP COLUMN w',
      // A table the renderer did not split (not created by a migration): ON CLUSTER only.
      'ALTER TABLE other ON CLUSTER cumulus MODIFY TTL d + INTERVAL 1 DAY',
    ]);
  });

  it('DROP, TRUNCATE, OPTIMIZE, views, functions, inserts, other engines and quoted or qualified names', () => {
    expect(render([table('MergeTree'), 'DROP TABLE IF EXISTS t SYNC', 'DROP TABLE t']).slice(2)).toEqual([
      'DROP TABLE IF EXISTS t ON CLUSTER cumulus SYNC',
      'DROP TABLE IF EXISTS t_local ON CLUSTER cumulus SYNC',
      // Once dropped, t is no longer split.
      'DROP TABLE t ON CLUSTER cumulus',
    ]);
    expect(render([table('MergeTree'), 'TRUNCATE TABLE IF EXISTS t', 'OPTIMIZE TABLE t FINAL']).slice(2)).toEqual(['TRUNCATE TABLE IF EXISTS t_local ON CLUSTER cumulus', 'OPTIMIZE TABLE t_local ON CLUSTER cumulus FINAL']);
    expect(render(['CREATE VIEW IF NOT EXISTS recent AS SELECT * FROM t', 'CREATE FUNCTION twice AS (x) -> 2 * x', 'CREATE TABLE buf (a UInt8) ENGINE = Memory', "INSERT INTO t (k) VALUES ('ON CLUSTER')"])).toEqual([
      'CREATE VIEW IF NOT EXISTS recent ON CLUSTER cumulus AS SELECT * FROM t',
      'CREATE FUNCTION twice ON CLUSTER cumulus AS (x) -> 2 * x',
      'CREATE TABLE buf ON CLUSTER cumulus (a UInt8) ENGINE = Memory',
      "INSERT INTO t (k) VALUES ('ON CLUSTER')",
    ]);
    expect(render(["-- it's ORDER BY nothing\nCREATE TABLE `odd name` (k String DEFAULT 'ENGINE = Memory') ENGINE = MergeTree ORDER BY k"])).toEqual([
      "-- it's ORDER BY nothing CREATE TABLE `odd name_local` ON CLUSTER cumulus (k String DEFAULT 'ENGINE = Memory') ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/odd name_local', '{replica}') ORDER BY k",
      "CREATE TABLE `odd name` ON CLUSTER cumulus AS `odd name_local` ENGINE = Distributed('cumulus', currentDatabase(), `odd name_local`, cityHash64(k))",
    ]);
    // The migration ledger (migrate's own table) lives on every node, like the batch plans.
    expect(render(['CREATE TABLE IF NOT EXISTS schema_migrations (id UInt32, name String) ENGINE = MergeTree ORDER BY id'])).toEqual([
      "CREATE TABLE IF NOT EXISTS schema_migrations ON CLUSTER cumulus (id UInt32, name String) ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/{database}/schema_migrations', '{shard}-{replica}') ORDER BY id",
    ]);
    expect(render(['CREATE TABLE db.t (k String) ENGINE = MergeTree ORDER BY k'])[1]).toBe("CREATE TABLE db.t ON CLUSTER cumulus AS db.t_local ENGINE = Distributed('cumulus', currentDatabase(), db.t_local, cityHash64(k))");
  });

  it('refuses, with a code, what would be wrong on a cluster instead of running it on one node', () => {
    const refused = (statements: string[]) => {
      try {
        render(statements);
      } catch (err) {
        expect(err).toBeInstanceOf(ClusterDdlError);
        return (err as ClusterDdlError).code;
      }
      return 'rendered';
    };
    expect(refused(['CREATE TABLE t ON CLUSTER x (a UInt8) ENGINE = MergeTree ORDER BY a'])).toBe('CUMULUS_STORAGE_CLUSTER_DDL_UNSUPPORTED');
    expect(refused(['CREATE TABLE t ENGINE = MergeTree ORDER BY a AS SELECT 1 AS a'])).toBe('CUMULUS_STORAGE_CLUSTER_DDL_UNSUPPORTED');
    expect(refused(['CREATE TABLE t (a UInt8) ENGINE = MergeTree ORDER BY tuple()'])).toBe('CUMULUS_STORAGE_CLUSTER_DDL_UNSUPPORTED');
    expect(refused([table('MergeTree'), 'RENAME TABLE t TO u'])).toBe('CUMULUS_STORAGE_CLUSTER_DDL_UNSUPPORTED');
    expect(refused([table('MergeTree'), 'CREATE TABLE u AS t'])).toBe('CUMULUS_STORAGE_CLUSTER_DDL_UNSUPPORTED');
    expect(refused(['SYSTEM STOP MERGES'])).toBe('CUMULUS_STORAGE_CLUSTER_DDL_UNSUPPORTED');
    expect(refused(['RENAME TABLE a TO b'])).toBe('rendered');
  });
});

// chDB cannot run ON CLUSTER (no Keeper), but its parser checks every rendered statement,
// and with a one-shard cluster on itself it runs the layout: Distributed tables over the
// local ones, the measure insert through them, deduplication through the Distributed tables.
describe('on chDB', () => {
  let dir: string;
  let session: { close(): void };
  let drainPending: () => Promise<void>;
  let store: ClickHouseDriver;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cumulus-cluster-'));
    const config = path.join(dir, 'config.xml');
    // tcp_port equal to the replica's port makes the replica local: no network involved.
    fs.writeFileSync(
      config,
      '<clickhouse><tcp_port>9000</tcp_port><remote_servers><cumulus><shard><internal_replication>true</internal_replication>' +
        '<replica><host>localhost</host><port>9000</port></replica></shard></cumulus></remote_servers></clickhouse>',
    );
    const chdb = createRequire(import.meta.url)('chdb') as typeof import('chdb');
    drainPending = chdb.drainPending;
    // The first connection loads the engine's configuration; the driver's shares it.
    session = new chdb.Session(path.join(dir, 'data'), { connectionArgs: [`--config-file=${config}`] });
    store = createChdbDriver({ dataDir: path.join(dir, 'data') });
  });
  afterAll(async () => {
    await store?.close();
    session?.close();
    await drainPending?.();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const parses = async (sql: string) => (await store.query<{ q: string }>({ sql: 'SELECT formatQuery({sql:String}) AS q', params: { sql } }))[0]?.q;

  it('parses every statement of every migration as rendered', async () => {
    const statements = renderMigrationsForCluster(MIGRATIONS, 'cumulus').flatMap((m) => m.statements);
    expect(statements.length).toBeGreaterThan(MIGRATIONS.flatMap((m) => m.statements).length);
    for (const sql of statements) expect(await parses(sql), sql).toMatch(/ON CLUSTER cumulus/);
    await expect(parses('CREATE TABLE t ON CLUSTER c (a UInt8) ENGINE = MergeTree ORDER BY a ORDER BY a')).rejects.toMatchObject({ code: 'CUMULUS_STORAGE_QUERY_FAILED' });
  });

  it('runs the layout of 001, 004 and 009: a replayed measure insert through the Distributed tables is dropped, rollups included', async () => {
    // What chDB can run: the same statements without ON CLUSTER and Keeper (plain MergeTree locals).
    const onOneNode = (sql: string) =>
      sql
        .replace(/ ON CLUSTER cumulus/g, '')
        .replace(/Replicated(\w*MergeTree)\('[^']*', '[^']*'(?:, )?/g, '$1(')
        .replace(/\breplicated_deduplication_window\b/g, 'non_replicated_deduplication_window');
    for (const migration of renderMigrationsForCluster([METRICS_MEASURES_ROLLUPS, EVENTS_AUDIT_LOGS_RATED_USAGE, ROLLUPS_WRITTEN_BY_WRITERS], 'cumulus')) {
      for (const sql of migration.statements) await store.command({ sql: onOneNode(sql) });
    }
    const engines = await store.query<{ name: string; engine: string }>({ sql: "SELECT name, engine FROM system.tables WHERE database = currentDatabase() AND name IN ('measures', 'measures_local', 'rollups', 'rollups_local', 'rollups_mv', 'logs', 'logs_local') ORDER BY name" });
    expect(engines).toEqual([
      { name: 'logs', engine: 'Distributed' },
      { name: 'logs_local', engine: 'ReplacingMergeTree' },
      { name: 'measures', engine: 'Distributed' },
      { name: 'measures_local', engine: 'MergeTree' },
      { name: 'rollups', engine: 'Distributed' },
      { name: 'rollups_local', engine: 'AggregatingMergeTree' },
    ]);
    // Migration 9 dropped the view: nothing hangs on the measures any more (the writer fills the rollups).
    const dependents = await store.query<{ name: string; deps: string[] }>({ sql: "SELECT name, dependencies_table AS deps FROM system.tables WHERE database = currentDatabase() AND name IN ('measures', 'measures_local') ORDER BY name" });
    expect(dependents).toEqual([{ name: 'measures', deps: [] }, { name: 'measures_local', deps: [] }]);
    const metric = '00000000-0000-5000-8000-000000000001';
    const policy: ArchivePolicy = { name: 'minutes-for-a-day', back_window: 0, aggregation_methods: ['mean'], definition: [{ granularity: 60, points: 1440 }] };
    const rows = [1, 2, 3].map((n) => ({ metricId: metric, tsMicros: Date.parse(`2026-11-24T08:0${n}:00Z`) * 1000, value: n, sampleId: `00000000-0000-4000-8000-00000000000${n}`, policy }));
    await insertMeasureRows(store, rows, { dedupToken: 'g:cumulus.samples:0:0-2' });
    await insertMeasureRows(store, rows, { dedupToken: 'g:cumulus.samples:0:0-2' });
    const counts = async () => ({
      measures: (await store.query<{ c: string }>({ sql: 'SELECT count() AS c FROM measures' }))[0]?.c,
      local: (await store.query<{ c: string }>({ sql: 'SELECT count() AS c FROM measures_local' }))[0]?.c,
      rollups: (await store.query<{ c: string }>({ sql: 'SELECT sum(count) AS c FROM rollups WHERE metric_id = {m:UUID}', params: { m: metric } }))[0]?.c,
      rollupsLocal: (await store.query<{ c: string }>({ sql: 'SELECT sum(count) AS c FROM rollups_local WHERE metric_id = {m:UUID}', params: { m: metric } }))[0]?.c,
    });
    expect(await counts()).toEqual({ measures: '3', local: '3', rollups: '3', rollupsLocal: '3' });
    // Another token is another batch: stored again, which shows the check above can fail.
    await insertMeasureRows(store, rows, { dedupToken: 'g:cumulus.samples:0:3-5' });
    expect(await counts()).toEqual({ measures: '6', local: '6', rollups: '6', rollupsLocal: '6' });
  });
});
