import type { ClickHouseDriver } from '../driver.ts';
import { MIGRATIONS, type Migration } from './migrations.ts';

const CREATE_LEDGER = `CREATE TABLE IF NOT EXISTS schema_migrations (
  id UInt32, name String, applied_at DateTime64(3, 'UTC')
) ENGINE = MergeTree ORDER BY id`;

/**
 * Brings the store's schema up to date: each migration not yet in `schema_migrations`
 * runs its statements (all idempotent: IF NOT EXISTS) and is then recorded.
 * Returns the ids it applied.
 */
export async function migrate(driver: ClickHouseDriver, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await driver.command({ sql: CREATE_LEDGER });
  const applied = new Set((await driver.query<{ id: number }>({ sql: 'SELECT id FROM schema_migrations' })).map((row) => Number(row.id)));
  const done: number[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.id)) continue;
    for (const statement of migration.statements) await driver.command({ sql: statement });
    await driver.insert('schema_migrations', [{ id: migration.id, name: migration.name, applied_at: new Date().toISOString().replace('T', ' ').replace('Z', '') }]);
    done.push(migration.id);
  }
  return done;
}
