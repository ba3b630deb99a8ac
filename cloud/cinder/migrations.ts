/**
 * Cinder's tables in the control plane's SQLite (component `cloud.cinder`), in migration
 * order. Never edit a shipped entry: append. Names carry a `cinder_` prefix because every
 * service shares the one database. Rows are soft-deleted (deleted = 1, deleted_at) as
 * Cinder does, so the usage audit can still report what existed during a period.
 */
export const CINDER_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE cinder_volume_types (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT, is_public INTEGER NOT NULL DEFAULT 1,
    extra_specs TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL, updated_at TEXT,
    deleted INTEGER NOT NULL DEFAULT 0, deleted_at TEXT);
  CREATE UNIQUE INDEX cinder_volume_types_live_name ON cinder_volume_types (name) WHERE deleted = 0;
  CREATE TABLE cinder_volume_type_projects (
    volume_type_id TEXT NOT NULL REFERENCES cinder_volume_types(id), project_id TEXT NOT NULL,
    PRIMARY KEY (volume_type_id, project_id));

  CREATE TABLE cinder_volumes (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, user_id TEXT NOT NULL,
    name TEXT, description TEXT, size INTEGER NOT NULL, status TEXT NOT NULL,
    attach_status TEXT NOT NULL DEFAULT 'detached', previous_status TEXT,
    volume_type_id TEXT NOT NULL, availability_zone TEXT NOT NULL, host TEXT,
    bootable INTEGER NOT NULL DEFAULT 0, multiattach INTEGER NOT NULL DEFAULT 0, readonly INTEGER NOT NULL DEFAULT 0,
    snapshot_id TEXT, source_volid TEXT, image_id TEXT, metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL, updated_at TEXT, launched_at TEXT, terminated_at TEXT,
    deleted INTEGER NOT NULL DEFAULT 0, deleted_at TEXT);
  CREATE INDEX cinder_volumes_project ON cinder_volumes (project_id, deleted);

  CREATE TABLE cinder_volume_attachments (
    id TEXT PRIMARY KEY, volume_id TEXT NOT NULL REFERENCES cinder_volumes(id),
    instance_uuid TEXT, attached_host TEXT, mountpoint TEXT, attach_mode TEXT NOT NULL DEFAULT 'rw',
    attach_status TEXT NOT NULL, attach_time TEXT, detach_time TEXT,
    created_at TEXT NOT NULL, updated_at TEXT, deleted INTEGER NOT NULL DEFAULT 0, deleted_at TEXT);
  CREATE INDEX cinder_volume_attachments_volume ON cinder_volume_attachments (volume_id, deleted);
  CREATE INDEX cinder_volume_attachments_instance ON cinder_volume_attachments (instance_uuid, deleted);

  CREATE TABLE cinder_snapshots (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, user_id TEXT NOT NULL,
    volume_id TEXT NOT NULL REFERENCES cinder_volumes(id), name TEXT, description TEXT,
    status TEXT NOT NULL, progress TEXT NOT NULL DEFAULT '0%', volume_size INTEGER NOT NULL,
    volume_type_id TEXT, metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL, updated_at TEXT, deleted INTEGER NOT NULL DEFAULT 0, deleted_at TEXT);
  CREATE INDEX cinder_snapshots_volume ON cinder_snapshots (volume_id, deleted);

  CREATE TABLE cinder_backups (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, user_id TEXT NOT NULL,
    volume_id TEXT NOT NULL, snapshot_id TEXT, name TEXT, description TEXT,
    status TEXT NOT NULL, size INTEGER NOT NULL, object_count INTEGER NOT NULL DEFAULT 0,
    container TEXT, availability_zone TEXT, host TEXT, service TEXT, service_metadata TEXT,
    fail_reason TEXT, parent_id TEXT, metadata TEXT NOT NULL DEFAULT '{}', data_timestamp TEXT,
    created_at TEXT NOT NULL, updated_at TEXT, deleted INTEGER NOT NULL DEFAULT 0, deleted_at TEXT);
  CREATE INDEX cinder_backups_volume ON cinder_backups (volume_id, deleted);
  `,
];
