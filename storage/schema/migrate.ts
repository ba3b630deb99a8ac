import type { ClickHouseDriver } from '../driver.ts';
import { createClusterRenderer, renderMigrationsForCluster, type ClusterOptions } from './cluster.ts';
import { MIGRATIONS, type Migration } from './migrations.ts';

const CREATE_LEDGER = `CREATE TABLE IF NOT EXISTS schema_migrations (
  id UInt32, name String, applied_at DateTime64(3, 'UTC')
) ENGINE = MergeTree ORDER BY id`;

/**
 * Brings the store's schema up to date: each migration not yet in `schema_migrations`
 * runs its statements (all idempotent: IF NOT EXISTS) and is then recorded.
 * Returns the ids it applied.
 *
 * With `cluster` (a name, or options; experimental), every statement runs as cluster DDL
 * (storage/schema/cluster.ts, docs/scale-out.md): run it against any one node. Without
 * it, or with an empty name, the statements run exactly as written.
 */
export async function migrate(driver: ClickHouseDriver, migrations: readonly Migration[] = MIGRATIONS, cluster?: string | ClusterOptions): Promise<number[]> {
  const clustered = cluster !== undefined && (typeof cluster === 'string' ? cluster : cluster.name).trim() !== '';
  const renderer = clustered ? createClusterRenderer(cluster) : null;
  for (const statement of renderer ? renderer.render(CREATE_LEDGER) : [CREATE_LEDGER]) await driver.command({ sql: statement });
  // Rendered in full, applied or not: the renderer learns from earlier migrations which tables are sharded.
  const plan = renderer ? renderMigrationsForCluster(migrations, cluster as string | ClusterOptions, renderer) : migrations;
  const applied = new Set((await driver.query<{ id: number }>({ sql: 'SELECT id FROM schema_migrations' })).map((row) => Number(row.id)));
  const done: number[] = [];
  for (const migration of plan) {
    if (applied.has(migration.id)) continue;
    for (const statement of migration.statements) await driver.command({ sql: statement });
    await driver.insert('schema_migrations', [{ id: migration.id, name: migration.name, applied_at: new Date().toISOString().replace('T', ' ').replace('Z', '') }]);
    done.push(migration.id);
  }
  return done;
}
