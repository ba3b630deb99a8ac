/**
 * Swift's tables (SQLite, component `cloud.swift`), in migration order. Never edit a
 * shipped entry: append. Times are epoch milliseconds from the injected clock; an
 * object's `timestamp` is swift's X-Timestamp (its last PUT or POST), `data_file` its
 * bytes' path under the data directory (NULL for an empty object).
 *
 * Containers carry their object count and bytes, kept in the same transaction as every
 * object write, so HEAD and the usage pollster read them without scanning objects.
 */
export const SWIFT_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE swift_accounts (
    project_id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}');
  CREATE TABLE swift_containers (
    id INTEGER PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES swift_accounts(project_id),
    name TEXT NOT NULL,
    storage_policy TEXT NOT NULL,
    read_acl TEXT,
    write_acl TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    object_count INTEGER NOT NULL DEFAULT 0,
    bytes_used INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (project_id, name));
  CREATE TABLE swift_objects (
    container_id INTEGER NOT NULL REFERENCES swift_containers(id),
    name TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    etag TEXT NOT NULL,
    content_type TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    data_file TEXT,
    timestamp INTEGER NOT NULL,
    PRIMARY KEY (container_id, name)) WITHOUT ROWID;
  `,
];
