import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type StateDatabase = Database.Database;

/**
 * The transactional store for state updated in place (the control plane's objects,
 * rules, alarms...): SQLite in embedded mode. ClickHouse is not a transactional store.
 */
export function openStateDatabase(path: string): StateDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.exec('CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  return db;
}

/**
 * Applies a component's migrations in order, each in its own transaction, and records
 * how far it got: a migration runs once per database, never twice.
 */
export function migrateState(db: StateDatabase, component: string, migrations: readonly string[]): void {
  const row = db.prepare('SELECT version FROM schema_versions WHERE component = ?').get(component) as { version: number } | undefined;
  const current = row?.version ?? 0;
  migrations.slice(current).forEach((sql, index) => {
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_versions (component, version) VALUES (?, ?) ON CONFLICT(component) DO UPDATE SET version = excluded.version').run(component, current + index + 1);
    })();
  });
}
