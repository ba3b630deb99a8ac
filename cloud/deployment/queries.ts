/** A statement with named parameters (`@name`), bound by better-sqlite3: no value is ever spliced in. */
export interface SqlQuery {
  sql: string;
  params: Record<string, string | number | null>;
}

export interface HostRow {
  name: string;
  role: string;
  position: number;
  state: string;
  changed_at: string;
}

export interface ProcessRow {
  host: string;
  name: string;
  state: string;
  down_reason: string | null;
  pid: number | null;
  generation: number;
  latency_ms: number;
  started_at: string | null;
  stopped_at: string | null;
  restart_count: number;
  amqp_broker: string | null;
}

export interface ClusterRow {
  name: string;
  primary_component: number;
  view_size: number;
  view_number: number;
  seqno: number;
}

export interface FaultRow {
  seq: number;
  id: string;
  at: string;
  action: string;
  host: string;
  process: string | null;
  latency_ms: number | null;
  actor_user_id: string | null;
  actor_user_name: string | null;
  actor_project_id: string | null;
  actor_project_name: string | null;
  actor_via: string;
  request_id: string | null;
  remote_address: string | null;
  changes: string;
}

export const selectHosts = (): SqlQuery => ({ sql: 'SELECT * FROM deployment_hosts ORDER BY position', params: {} });
export const selectProcesses = (): SqlQuery => ({ sql: 'SELECT * FROM deployment_processes', params: {} });
export const selectCluster = (name: string): SqlQuery => ({ sql: 'SELECT * FROM deployment_clusters WHERE name = @name', params: { name } });

export const upsertHost = (row: HostRow): SqlQuery => ({
  sql: `INSERT INTO deployment_hosts (name, role, position, state, changed_at) VALUES (@name, @role, @position, @state, @changed_at)
        ON CONFLICT(name) DO UPDATE SET role = excluded.role, position = excluded.position, state = excluded.state, changed_at = excluded.changed_at`,
  params: { ...row },
});

/** Hosts no longer in the config leave the model (their processes with them); the trail keeps what happened to them. */
export const deleteHost = (name: string): SqlQuery => ({ sql: 'DELETE FROM deployment_hosts WHERE name = @name', params: { name } });

export const upsertProcess = (row: ProcessRow): SqlQuery => ({
  sql: `INSERT INTO deployment_processes (host, name, state, down_reason, pid, generation, latency_ms, started_at, stopped_at, restart_count, amqp_broker)
        VALUES (@host, @name, @state, @down_reason, @pid, @generation, @latency_ms, @started_at, @stopped_at, @restart_count, @amqp_broker)
        ON CONFLICT(host, name) DO UPDATE SET state = excluded.state, down_reason = excluded.down_reason, pid = excluded.pid,
          generation = excluded.generation, latency_ms = excluded.latency_ms, started_at = excluded.started_at, stopped_at = excluded.stopped_at,
          restart_count = excluded.restart_count, amqp_broker = excluded.amqp_broker`,
  params: { ...row },
});

export const deleteProcess = (host: string, name: string): SqlQuery => ({ sql: 'DELETE FROM deployment_processes WHERE host = @host AND name = @name', params: { host, name } });

export const upsertCluster = (row: ClusterRow): SqlQuery => ({
  sql: `INSERT INTO deployment_clusters (name, primary_component, view_size, view_number, seqno) VALUES (@name, @primary_component, @view_size, @view_number, @seqno)
        ON CONFLICT(name) DO UPDATE SET primary_component = excluded.primary_component, view_size = excluded.view_size, view_number = excluded.view_number, seqno = excluded.seqno`,
  params: { ...row },
});

export const insertFault = (row: Omit<FaultRow, 'seq'>): SqlQuery => ({
  sql: `INSERT INTO deployment_faults (id, at, action, host, process, latency_ms, actor_user_id, actor_user_name, actor_project_id, actor_project_name, actor_via, request_id, remote_address, changes)
        VALUES (@id, @at, @action, @host, @process, @latency_ms, @actor_user_id, @actor_user_name, @actor_project_id, @actor_project_name, @actor_via, @request_id, @remote_address, @changes)`,
  params: { ...row },
});

/** The trail, newest first; optionally one host's. */
export const selectFaults = (limit: number, host: string | null): SqlQuery => ({
  sql: 'SELECT * FROM deployment_faults WHERE (@host IS NULL OR host = @host) ORDER BY seq DESC LIMIT @limit',
  params: { limit, host },
});
