/** The control plane's tables (SQLite), in migration order. Never edit a shipped entry: append. */
export const CLOUD_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE domains (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '', enabled INTEGER NOT NULL DEFAULT 1);
  CREATE TABLE projects (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, domain_id TEXT NOT NULL REFERENCES domains(id),
    description TEXT NOT NULL DEFAULT '', enabled INTEGER NOT NULL DEFAULT 1, UNIQUE (domain_id, name));
  CREATE TABLE users (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, domain_id TEXT NOT NULL REFERENCES domains(id),
    password_hash TEXT NOT NULL, default_project_id TEXT, enabled INTEGER NOT NULL DEFAULT 1, email TEXT,
    UNIQUE (domain_id, name));
  CREATE TABLE roles (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE);
  CREATE TABLE role_assignments (
    user_id TEXT NOT NULL REFERENCES users(id), role_id TEXT NOT NULL REFERENCES roles(id),
    project_id TEXT REFERENCES projects(id), domain_id TEXT REFERENCES domains(id),
    UNIQUE (user_id, role_id, project_id, domain_id));
  CREATE TABLE tokens (
    id_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, project_id TEXT, domain_id TEXT,
    methods TEXT NOT NULL, audit_id TEXT NOT NULL, issued_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0);
  CREATE INDEX tokens_expiry ON tokens (expires_at);

  CREATE TABLE flavors (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, vcpus INTEGER NOT NULL, ram_mb INTEGER NOT NULL,
    disk_gb INTEGER NOT NULL, ephemeral_gb INTEGER NOT NULL DEFAULT 0, swap_mb INTEGER NOT NULL DEFAULT 0,
    rxtx_factor REAL NOT NULL DEFAULT 1.0, is_public INTEGER NOT NULL DEFAULT 1, description TEXT,
    extra_specs TEXT NOT NULL DEFAULT '{}', deleted INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE compute_hosts (
    name TEXT PRIMARY KEY, availability_zone TEXT NOT NULL, vcpus INTEGER NOT NULL, memory_mb INTEGER NOT NULL,
    disk_gb INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'up', status TEXT NOT NULL DEFAULT 'enabled');
  CREATE TABLE servers (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, project_id TEXT NOT NULL, user_id TEXT NOT NULL,
    flavor_id TEXT NOT NULL, image_ref TEXT NOT NULL, host TEXT, availability_zone TEXT,
    vm_state TEXT NOT NULL, task_state TEXT, power_state INTEGER NOT NULL DEFAULT 0,
    metadata TEXT NOT NULL DEFAULT '{}', fault TEXT, reservation_id TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, launched_at TEXT, terminated_at TEXT, deleted_at TEXT,
    deleted INTEGER NOT NULL DEFAULT 0);
  CREATE INDEX servers_project ON servers (project_id, deleted);
  `,
  `
  ALTER TABLE servers ADD COLUMN old_flavor_id TEXT;
  ALTER TABLE servers ADD COLUMN key_name TEXT;
  CREATE TABLE keypairs (
    user_id TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, public_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (user_id, name));
  CREATE TABLE quotas (project_id TEXT NOT NULL, resource TEXT NOT NULL, hard_limit INTEGER NOT NULL, PRIMARY KEY (project_id, resource));
  `,
  `
  -- When the guest last (re)started: build, power on, reboot, resize. The hypervisor layer resets its counters there.
  ALTER TABLE servers ADD COLUMN last_started_at TEXT;
  `,
  `
  -- The image's metadata as Nova copies it at boot (system_metadata image_*): notifications carry it as image_meta.
  ALTER TABLE servers ADD COLUMN image_meta TEXT NOT NULL DEFAULT '{}';
  `,
];
