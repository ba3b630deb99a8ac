/**
 * The deployment model's tables (component `cloud.deployment`), in migration order. Never
 * edit a shipped entry: append. Names carry a `deployment_` prefix because every cloud
 * service shares the one SQLite database.
 */
export const DEPLOYMENT_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE deployment_hosts (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, position INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'up', changed_at TEXT NOT NULL);
  CREATE TABLE deployment_processes (
    host TEXT NOT NULL REFERENCES deployment_hosts(name) ON DELETE CASCADE, name TEXT NOT NULL,
    state TEXT NOT NULL, down_reason TEXT, pid INTEGER, generation INTEGER NOT NULL DEFAULT 0,
    latency_ms INTEGER NOT NULL DEFAULT 0, started_at TEXT, stopped_at TEXT,
    restart_count INTEGER NOT NULL DEFAULT 0, amqp_broker TEXT,
    PRIMARY KEY (host, name));
  CREATE TABLE deployment_clusters (
    name TEXT PRIMARY KEY, primary_component INTEGER NOT NULL, view_size INTEGER NOT NULL,
    view_number INTEGER NOT NULL, seqno INTEGER NOT NULL);
  CREATE TABLE deployment_faults (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, at TEXT NOT NULL,
    action TEXT NOT NULL, host TEXT NOT NULL, process TEXT, latency_ms INTEGER,
    actor_user_id TEXT, actor_user_name TEXT, actor_project_id TEXT, actor_project_name TEXT,
    actor_via TEXT NOT NULL, request_id TEXT, remote_address TEXT, changes TEXT NOT NULL);
  CREATE INDEX deployment_faults_host ON deployment_faults (host, seq);
  `,
];
