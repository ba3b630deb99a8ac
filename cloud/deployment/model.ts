import type { HostRole } from './topology.ts';

/**
 * The deployment's vocabulary. A process is `running`, `slowed` (running, with latency
 * added to what it serves), `stopped` (a clean SIGTERM) or `killed` (crashed: SIGKILL or
 * its host failed). Experimental API.
 */
export type ProcessState = 'running' | 'slowed' | 'stopped' | 'killed';
/** Why a process is down: an operator stop or kill, or its host failing under it. */
export type DownReason = 'stop' | 'kill' | 'host-failure';
export type HostState = 'up' | 'down';

export type FaultAction = 'stop' | 'kill' | 'start' | 'restart' | 'slow' | 'fail-host' | 'recover-host';
export const PROCESS_ACTIONS: readonly FaultAction[] = ['stop', 'kill', 'start', 'restart', 'slow'];
export const HOST_ACTIONS: readonly FaultAction[] = ['fail-host', 'recover-host'];
export const FAULT_ACTIONS: readonly FaultAction[] = [...PROCESS_ACTIONS, ...HOST_ACTIONS];

export const isUp = (state: ProcessState) => state === 'running' || state === 'slowed';

export interface DeployedProcess {
  host: string;
  name: string;
  state: ProcessState;
  downReason: DownReason | null;
  /** The running process's pid, the last one while it is down; null before it ever ran. */
  pid: number | null;
  /** Added to each request this process serves, while slowed. */
  latencyMs: number;
  startedAt: string | null;
  stoppedAt: string | null;
  /** Restarts by an operator (restart); a start after a stop or a crash is not counted. */
  restartCount: number;
}

export interface DeployedHost {
  name: string;
  role: HostRole;
  state: HostState;
  changedAt: string;
  processes: DeployedProcess[];
}

/** Who asked: the token's user and project through the admin API, or the CLI in-process. */
export interface FaultActor {
  userId: string | null;
  userName: string | null;
  projectId: string | null;
  projectName: string | null;
  /** `api`: an HTTP client; `cli`: `cumulus cloud fault` (over the API, with a token); `system`: in-process, no token. */
  via: 'api' | 'cli' | 'system';
  requestId: string | null;
  remoteAddress: string | null;
}

export const SYSTEM_ACTOR: FaultActor = { userId: null, userName: null, projectId: null, projectName: null, via: 'system', requestId: null, remoteAddress: null };

export interface FaultRequest {
  action: FaultAction;
  host: string;
  /** Required by the process actions, refused by the host actions. */
  process?: string | null;
  /** Required by slow (0 clears it). */
  latencyMs?: number | null;
}

export interface ProcessChange {
  host: string;
  process: string;
  from: ProcessState;
  to: ProcessState;
  /** The pid after the change (the new one after a start). */
  pid: number | null;
}

/** One entry of the fault trail. */
export interface FaultRecord {
  id: string;
  at: string;
  action: FaultAction;
  host: string;
  process: string | null;
  latencyMs: number | null;
  actor: FaultActor;
  changes: ProcessChange[];
}

export interface ServiceHealth {
  process: string;
  role: HostRole;
  /** Replicas deployed. */
  expected: number;
  /** Replicas up (running or slowed). */
  running: number;
  slowed: number;
  /** ok: all up and none slowed; degraded: some down or slowed (HA holds); down: none serves. */
  status: 'ok' | 'degraded' | 'down';
  /** Set when the status is not what the counts alone say (Galera without quorum). */
  reason?: string;
}

/** How the load balancer routes one API request. */
export type ApiRoute =
  | { kind: 'served'; host: string; latencyMs: number }
  | { kind: 'unavailable'; reason: 'load-balancer' | 'backends' }
  | { kind: 'database'; host: string; cause: 'gone' | 'non-primary'; latencyMs: number };
