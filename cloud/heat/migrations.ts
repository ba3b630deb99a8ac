/**
 * Heat's tables in the control plane's SQLite (component `cloud.heat`), in migration
 * order. Never edit a shipped entry: append. Names carry a `heat_` prefix because every
 * service shares the one database.
 *
 * A stack is soft-deleted (deleted_at) because Heat still shows a deleted stack by id
 * (DELETE_COMPLETE); its name becomes free again, hence the partial unique index.
 * Resources are removed with their physical resource, as Heat removes them.
 */
export const HEAT_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE heat_stacks (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, project_id TEXT NOT NULL,
    user_id TEXT NOT NULL, username TEXT,
    action TEXT NOT NULL, status TEXT NOT NULL, status_reason TEXT NOT NULL DEFAULT '',
    template TEXT NOT NULL, parameters TEXT NOT NULL DEFAULT '{}', parameter_defaults TEXT NOT NULL DEFAULT '{}',
    tags TEXT, timeout_mins INTEGER,
    created_at TEXT NOT NULL, updated_at TEXT, deleted_at TEXT);
  CREATE UNIQUE INDEX heat_stacks_live_name ON heat_stacks (project_id, name) WHERE deleted_at IS NULL;
  CREATE INDEX heat_stacks_project ON heat_stacks (project_id, deleted_at);

  CREATE TABLE heat_resources (
    id TEXT PRIMARY KEY, stack_id TEXT NOT NULL REFERENCES heat_stacks(id), name TEXT NOT NULL, type TEXT NOT NULL,
    physical_resource_id TEXT, action TEXT NOT NULL, status TEXT NOT NULL, status_reason TEXT NOT NULL DEFAULT '',
    properties TEXT NOT NULL DEFAULT '{}', attributes TEXT NOT NULL DEFAULT '{}', requires TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL, updated_at TEXT,
    UNIQUE (stack_id, name));
  CREATE INDEX heat_resources_physical ON heat_resources (physical_resource_id);
  `,
];
