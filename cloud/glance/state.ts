/** Glance's tables (component `cloud.glance`), in migration order. Never edit a shipped entry: append.
 * One image table; custom properties and tags are JSON columns, filtered with json_extract / json_each. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE glance_images (
    id TEXT PRIMARY KEY, name TEXT, status TEXT NOT NULL, visibility TEXT NOT NULL, owner TEXT,
    size INTEGER, virtual_size INTEGER, checksum TEXT, os_hash_algo TEXT, os_hash_value TEXT,
    disk_format TEXT, container_format TEXT, min_disk INTEGER NOT NULL DEFAULT 0, min_ram INTEGER NOT NULL DEFAULT 0,
    protected INTEGER NOT NULL DEFAULT 0, os_hidden INTEGER NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '[]', properties TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT, deleted INTEGER NOT NULL DEFAULT 0);
  CREATE INDEX glance_images_owner ON glance_images (owner, deleted);
  CREATE INDEX glance_images_visibility ON glance_images (visibility, deleted);
  `,
];
