import { randomUUID } from 'node:crypto';
import type { Clock, ComponentTelemetry, Lifecycle, Logger, StateDatabase } from '../../core/index.ts';
import { deriveId, errorMessage, migrateState } from '../../core/index.ts';
import { PID_MAX, PID_MIN, type ServiceLogWriter } from '../logs/index.ts';
import type { Notifier } from '../notifier.ts';
import { MAX_LATENCY_MS, MAX_TRAIL_LIMIT, resolveDeploymentConfig, type DeploymentConfig, type ResolvedDeploymentConfig } from './config.ts';
import { invalidField, notStarted, stateConflict, unknownHost, unknownProcess } from './errors.ts';
import * as lines from './log-lines.ts';
import { LogOutput } from './log-output.ts';
import { DEPLOYMENT_MIGRATIONS } from './migrations.ts';
import {
  FAULT_ACTIONS,
  HOST_ACTIONS,
  PROCESS_ACTIONS,
  SYSTEM_ACTOR,
  isUp,
  type ApiRoute,
  type DeployedHost,
  type DeployedProcess,
  type DownReason,
  type FaultActor,
  type FaultRecord,
  type FaultRequest,
  type HostState,
  type ProcessChange,
  type ProcessState,
  type ServiceHealth,
} from './model.ts';
import { FAULT_EXCHANGE, FAULT_PUBLISHER_ID, faultCadfEvent, faultContext, faultEventType } from './notifications.ts';
import * as q from './queries.ts';
import { RawLogFiles } from './raw-log.ts';
import {
  BROKER_PROCESS,
  COMPUTE_SERVICE,
  DATABASE_PROCESS,
  LOAD_BALANCER_PROCESS,
  PROCESS_SPECS,
  ROLE_PROCESSES,
  processSpec,
  type HostRole,
  type ProcessSpec,
} from './topology.ts';

export interface DeploymentDeps {
  /** The control plane's SQLite database: the model lives in `deployment_*` tables. */
  db: StateDatabase;
  clock: Clock;
  /** Publishes `cloud.fault.<action>` on the `cumulus` exchange. */
  notifier: Notifier;
  logger: Logger;
  /** The control plane's service logs; without one, faults change state but write no lines. */
  logs?: ServiceLogWriter | null;
  /**
   * Nova's view of a compute host: called when nova-compute there comes up or goes down
   * (a host failure included), and once per compute host at start. Nova must set
   * `compute_hosts.state` so its scheduler skips a host that is down.
   */
  computeHostState?: (host: string, state: 'up' | 'down') => void;
  /** accepted: faults applied; refused: fault requests refused (400, 409); dropped: fault notifications the bus refused. */
  telemetry?: ComponentTelemetry;
}

interface HostModel {
  name: string;
  role: HostRole;
  position: number;
  state: HostState;
  changedAt: string;
}

interface ProcessModel {
  host: string;
  name: string;
  spec: ProcessSpec;
  state: ProcessState;
  downReason: DownReason | null;
  pid: number | null;
  /** How many times it started: picks the next pid, as the kernel would hand out another. */
  generation: number;
  latencyMs: number;
  startedAt: string | null;
  stoppedAt: string | null;
  restartCount: number;
  /** The RabbitMQ node its oslo.messaging connection is on; null while disconnected. */
  amqpBroker: string | null;
}

/** Galera's last primary component, as the survivors' quorum arithmetic needs it. */
interface GaleraModel {
  primary: boolean;
  /** Members of the last primary component (a non-primary survivor needs more than half of it back). */
  size: number;
  viewNumber: number;
  seqno: number;
}

type ChangeKind = 'stop' | 'kill' | 'host-failure' | 'start';

interface Change {
  process: ProcessModel;
  kind: ChangeKind;
}

/** The deployment as one step of changes found it, for the rules that compare. */
interface Observation {
  up: Set<ProcessModel>;
  database: boolean;
  brokers: string[];
  computeServing: Map<string, boolean>;
}

const GALERA = 'galera';
const MYSQLD_LOG = 'mysqld.log';
const HAPROXY_LOG = 'haproxy.log';
const rabbitLog = (host: string) => `rabbit@${host}.log`;
const key = (host: string, process: string) => `${host}\u001f${process}`;
/** A number from a name, stable across runs: pids, ports and Erlang pids stay reproducible. */
const hashOf = (...parts: string[]) => parseInt(deriveId(...parts).slice(0, 8), 16);

/** The haproxy backends the controllers serve, in catalogue order. */
const BACKENDS: readonly string[] = ROLE_PROCESSES.controller.map((name) => processSpec(name).backend).filter((b): b is string => b !== null);

/**
 * The deployment model: which processes run on which host, and fault injection on them.
 * Every operation changes the model (persisted in SQLite), writes the lines the real
 * processes and their dependants would write, and is kept in the fault trail and
 * announced as a CADF event. Experimental.
 */
export class Deployment implements Lifecycle {
  readonly config: ResolvedDeploymentConfig;
  private readonly hostModels = new Map<string, HostModel>();
  private readonly processModels = new Map<string, ProcessModel>();
  private galera: GaleraModel = { primary: false, size: 0, viewNumber: 0, seqno: 0 };
  private readonly roundRobin = new Map<string, number>();
  private readonly files: RawLogFiles | null;
  private readonly out: LogOutput;
  private readonly clusterUuid: string;
  /** Nova updates owed once the step's state is committed. */
  private pendingComputeStates: Array<[string, 'up' | 'down']> = [];
  private started = false;
  private stopped = false;

  constructor(
    config: DeploymentConfig,
    private readonly deps: DeploymentDeps,
  ) {
    this.config = resolveDeploymentConfig(config);
    migrateState(deps.db, 'cloud.deployment', DEPLOYMENT_MIGRATIONS);
    this.files = deps.logs ? new RawLogFiles(deps.logs.config.directory, deps.logger) : null;
    this.out = new LogOutput(deps.logs ?? null, this.files, deps.logger);
    this.clusterUuid = deriveId('galera-cluster', ...this.config.controllers);
  }

  /**
   * Loads the model; a host or process the database does not know yet (the first start,
   * or a host added to the config) boots, with its start lines. A platform restart is
   * not an event of the simulated cloud: what ran keeps running, what was down stays down.
   */
  async start(): Promise<void> {
    if (this.started || this.stopped) return;
    const now = this.deps.clock.now().toISOString();
    // 1. What the database remembers.
    const hostRows = new Map(this.all<q.HostRow>(q.selectHosts()).map((r) => [r.name, r]));
    const processRows = new Map(this.all<q.ProcessRow>(q.selectProcesses()).map((r) => [key(r.host, r.name), r]));
    const [cluster] = this.all<q.ClusterRow>(q.selectCluster(GALERA));
    if (cluster) this.galera = { primary: cluster.primary_component === 1, size: cluster.view_size, viewNumber: cluster.view_number, seqno: cluster.seqno };

    // 2. Reconciled with the config: new hosts and processes join, retired hosts leave.
    const desired: Array<[string, HostRole]> = [
      ...this.config.controllers.map((h): [string, HostRole] => [h, 'controller']),
      ...this.config.computeHosts.map((h): [string, HostRole] => [h, 'compute']),
      ...this.config.storageHosts.map((h): [string, HostRole] => [h, 'storage']),
    ];
    const fresh: ProcessModel[] = [];
    desired.forEach(([name, role], position) => {
      const row = hostRows.get(name);
      this.hostModels.set(name, { name, role, position, state: row?.state === 'down' ? 'down' : 'up', changedAt: row?.changed_at ?? now });
      for (const processName of ROLE_PROCESSES[role]) {
        const stored = processRows.get(key(name, processName));
        const model = stored ? this.fromRow(stored) : this.newProcess(name, processName);
        this.processModels.set(key(name, processName), model);
        if (!stored) fresh.push(model);
      }
    });
    const retired = [...hostRows.keys()].filter((name) => !this.hostModels.has(name));
    const retiredProcesses = [...processRows.values()].filter((r) => this.hostModels.has(r.host) && !this.processModels.has(key(r.host, r.name)));

    // 3. The writer keeps pids in memory only: a process still running takes the pid its next line will carry.
    for (const p of this.processModels.values()) {
      if (p.spec.log === 'oslo' && isUp(p.state)) p.pid = this.out.pidOf(p.host, p.name) ?? p.pid;
    }

    // 4. Boot what is new: its start lines, and the clusters it forms.
    this.started = true;
    const bootable = fresh.filter((p) => this.hostModels.get(p.host)?.state === 'up');
    if (bootable.length > 0) this.runStep(bootable.map((process) => ({ process, kind: 'start' })));

    // 5. Commit, retirements included.
    this.deps.db.transaction(() => {
      for (const name of retired) this.run(q.deleteHost(name));
      for (const r of retiredProcesses) this.run(q.deleteProcess(r.host, r.name));
      this.persist(null);
    })();

    // 6. Nova's table may predate the deployment (or a crash between the two): tell it every compute host's state.
    this.pendingComputeStates = this.config.computeHosts.map((h) => [h, this.computeServing(h) ? 'up' : 'down']);
    this.flushComputeStates();
  }

  /** Flushes the daemons' log files; idempotent, safe before start(). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.files?.stop();
  }

  /** Resolves once every daemon line written so far is on disk (the oslo lines: the writer's flush()). */
  async flush(): Promise<void> {
    await this.files?.flush();
  }

  /**
   * Applies one fault operation for an actor: validates it against the model (typed
   * errors naming the field, or 409 when the state does not allow it), changes the
   * model, writes the lines, commits, tells Nova, records and announces it.
   */
  async apply(request: FaultRequest, actor: FaultActor = SYSTEM_ACTOR): Promise<FaultRecord> {
    let record: FaultRecord;
    try {
      record = this.change(request, actor);
    } catch (err) {
      this.deps.telemetry?.refused();
      throw err;
    }
    this.deps.telemetry?.accepted();
    // Last the announcement: a lost notification never undoes a fault; the trail has it.
    await this.announce(record);
    return record;
  }

  /** Validates, changes the model, writes the lines, commits and tells Nova: everything but the announcement. */
  private change(request: FaultRequest, actor: FaultActor): FaultRecord {
    if (!this.started || this.stopped) throw notStarted();
    const { action } = request;
    if (!FAULT_ACTIONS.includes(action)) throw invalidField('action', `one of ${FAULT_ACTIONS.join(', ')}`, action);
    const host = this.hostModels.get(request.host);
    if (!host) throw unknownHost(String(request.host), [...this.hostModels.keys()]);
    let target: ProcessModel | null = null;
    if (PROCESS_ACTIONS.includes(action)) {
      if (typeof request.process !== 'string' || request.process === '') throw invalidField('process', `the name of a process on ${host.name} for ${action}`, request.process ?? undefined);
      target = this.processModels.get(key(host.name, request.process)) ?? null;
      if (!target) throw unknownProcess(host.name, request.process, ROLE_PROCESSES[host.role]);
    } else if (request.process !== undefined && request.process !== null) {
      throw invalidField('process', `absent for ${action} (it acts on the whole host)`, request.process);
    }
    let latencyMs: number | null = null;
    if (action === 'slow') {
      const value = request.latencyMs;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_LATENCY_MS) throw invalidField('latency_ms', `an integer from 0 (back to normal) to ${MAX_LATENCY_MS}`, value ?? undefined);
      latencyMs = value;
    } else if (request.latencyMs !== undefined && request.latencyMs !== null) {
      throw invalidField('latency_ms', 'absent unless action is slow', request.latencyMs);
    }

    const now = this.deps.clock.now().toISOString();
    const before = new Map([...this.processModels.values()].map((p) => [p, p.state]));
    if (target) this.applyToProcess(action, target, host, latencyMs);
    else this.applyToHost(action, host, now);

    const changes: ProcessChange[] = [...this.processModels.values()]
      .filter((p) => before.get(p) !== p.state || p === target)
      .map((p) => ({ host: p.host, process: p.name, from: before.get(p) as ProcessState, to: p.state, pid: p.pid }));
    const record: FaultRecord = { id: randomUUID(), at: now, action, host: host.name, process: target?.name ?? null, latencyMs, actor, changes };

    // 1. State and trail in one transaction: the trail never tells of a change the model lacks.
    this.deps.db.transaction(() => this.persist(record))();
    // 2. Then Nova, so its scheduler never skips a host the model still has up (or the reverse) for long.
    this.flushComputeStates();
    return record;
  }

  /** Every host with its processes, in config order. */
  hosts(): DeployedHost[] {
    return [...this.hostModels.values()].map((h) => ({
      name: h.name,
      role: h.role,
      state: h.state,
      changedAt: h.changedAt,
      processes: ROLE_PROCESSES[h.role].map((name) => this.view(this.processModels.get(key(h.name, name)) as ProcessModel)),
    }));
  }

  process(host: string, name: string): DeployedProcess | undefined {
    const p = this.processModels.get(key(host, name));
    return p ? this.view(p) : undefined;
  }

  /** The fault trail, newest first. */
  faults(options: { limit?: number; host?: string | null } = {}): FaultRecord[] {
    const limit = Math.min(Math.max(1, Math.trunc(options.limit ?? MAX_TRAIL_LIMIT)), MAX_TRAIL_LIMIT);
    return this.all<q.FaultRow>(q.selectFaults(limit, options.host ?? null)).map((r) => ({
      id: r.id,
      at: r.at,
      action: r.action as FaultRecord['action'],
      host: r.host,
      process: r.process,
      latencyMs: r.latency_ms,
      actor: { userId: r.actor_user_id, userName: r.actor_user_name, projectId: r.actor_project_id, projectName: r.actor_project_name, via: r.actor_via as FaultActor['via'], requestId: r.request_id, remoteAddress: r.remote_address },
      changes: JSON.parse(r.changes) as ProcessChange[],
    }));
  }

  /** Per process name, how many replicas run: what outage detection reads. */
  serviceHealth(): ServiceHealth[] {
    const seen = new Map<string, ServiceHealth>();
    for (const role of ['controller', 'compute', 'storage'] as const) {
      for (const name of ROLE_PROCESSES[role]) {
        const replicas = [...this.processModels.values()].filter((p) => p.name === name);
        if (replicas.length === 0 || seen.has(name)) continue;
        const running = replicas.filter((p) => isUp(p.state)).length;
        const slowed = replicas.filter((p) => p.state === 'slowed').length;
        const health: ServiceHealth = { process: name, role, expected: replicas.length, running, slowed, status: running === 0 ? 'down' : running < replicas.length || slowed > 0 ? 'degraded' : 'ok' };
        if (name === DATABASE_PROCESS && running > 0 && !this.galera.primary) {
          health.status = 'down';
          health.reason = 'Galera has no primary component (quorum lost): the nodes refuse queries';
        }
        seen.set(name, health);
      }
    }
    return [...seen.values()];
  }

  /** The Galera cluster: serves queries only in a primary component. */
  databaseStatus(): { available: boolean; primary: boolean; running: number; members: number; viewSize: number } {
    const members = this.replicas(DATABASE_PROCESS);
    const running = members.filter((p) => isUp(p.state)).length;
    return { available: this.databaseAvailable(), primary: this.galera.primary, running, members: members.length, viewSize: this.galera.size };
  }

  /** The RabbitMQ nodes up, and the clients connected to none. */
  messagingStatus(): { brokers: string[]; disconnectedClients: number } {
    const disconnected = [...this.processModels.values()].filter((p) => p.spec.messaging && isUp(p.state) && p.amqpBroker === null).length;
    return { brokers: this.upHosts(BROKER_PROCESS), disconnectedClients: disconnected };
  }

  /**
   * How the load balancer routes a request to the API `process`: to the next live
   * replica in turn (haproxy's roundrobin), with the latency of that replica, of the
   * haproxy holding the VIP and, for a database-backed API, of the Galera node taking
   * writes. Before start() everything is served (no latency): the gate stays open.
   */
  route(process: string): ApiRoute {
    if (!this.started) return { kind: 'served', host: '', latencyMs: 0 };
    // keepalived gives the VIP to the first controller whose haproxy is up.
    const balancer = this.replicas(LOAD_BALANCER_PROCESS).find((p) => isUp(p.state));
    if (!balancer) return { kind: 'unavailable', reason: 'load-balancer' };
    const live = this.replicas(process).filter((p) => isUp(p.state));
    if (live.length === 0) return { kind: 'unavailable', reason: 'backends' };
    const turn = this.roundRobin.get(process) ?? 0;
    this.roundRobin.set(process, turn + 1);
    const backend = live[turn % live.length] as ProcessModel;
    let latencyMs = backend.latencyMs + balancer.latencyMs;
    if (backend.spec.database) {
      if (!this.databaseAvailable()) return { kind: 'database', host: backend.host, cause: this.replicas(DATABASE_PROCESS).some((p) => isUp(p.state)) ? 'non-primary' : 'gone', latencyMs };
      // haproxy's mariadb backend is active/backup: the first live node takes every query.
      latencyMs += this.replicas(DATABASE_PROCESS).find((p) => isUp(p.state))?.latencyMs ?? 0;
    }
    return { kind: 'served', host: backend.host, latencyMs };
  }

  // --- operations --------------------------------------------------------------------------

  private applyToProcess(action: FaultRequest['action'], p: ProcessModel, host: HostModel, latencyMs: number | null): void {
    const what = `${p.name} on ${p.host}`;
    if (host.state === 'down') throw stateConflict(what, 'on a host that is down', action, 'on a host that is up (recover-host first)');
    switch (action) {
      case 'stop':
      case 'kill':
        if (!isUp(p.state)) throw stateConflict(what, p.state, action, 'running or slowed');
        this.runStep([{ process: p, kind: action }]);
        return;
      case 'start':
        if (isUp(p.state)) throw stateConflict(what, p.state, action, 'stopped or killed');
        this.runStep([{ process: p, kind: 'start' }]);
        return;
      case 'restart':
        // systemctl restart: a clean stop first when it runs, then a start with a new pid.
        if (isUp(p.state)) this.runStep([{ process: p, kind: 'stop' }]);
        this.runStep([{ process: p, kind: 'start' }]);
        p.restartCount += 1;
        return;
      case 'slow':
        if (!isUp(p.state)) throw stateConflict(what, p.state, action, 'running or slowed');
        // Latency injected under the process (tc netem): nothing it would log.
        p.latencyMs = latencyMs ?? 0;
        p.state = p.latencyMs > 0 ? 'slowed' : 'running';
        return;
      default:
        throw invalidField('action', `one of ${PROCESS_ACTIONS.join(', ')} with a process`, action);
    }
  }

  private applyToHost(action: FaultRequest['action'], host: HostModel, now: string): void {
    const on = [...this.processModels.values()].filter((p) => p.host === host.name);
    if (action === 'fail-host') {
      if (host.state === 'down') throw stateConflict(`host ${host.name}`, 'down', action, 'up');
      const before = this.observe();
      host.state = 'down';
      host.changedAt = now;
      // Power gone: everything dies at once, and nothing on the host writes a line.
      this.runStep(on.filter((p) => isUp(p.state)).map((process) => ({ process, kind: 'host-failure' })), before);
      return;
    }
    if (action === 'recover-host') {
      if (host.state === 'up') throw stateConflict(`host ${host.name}`, 'up', action, 'down');
      const before = this.observe();
      host.state = 'up';
      host.changedAt = now;
      // The host boots: systemd starts every enabled unit, whatever stopped it before.
      this.runStep(on.filter((p) => !isUp(p.state)).map((process) => ({ process, kind: 'start' })), before);
      return;
    }
    throw invalidField('action', `one of ${HOST_ACTIONS.join(', ')} without a process`, action);
  }

  /**
   * One step: changes that happen together (a restart is two steps, a host failure one),
   * compared with `before` (taken ahead of a host's own state change). The order is what
   * the logs show: 1. the leavers' own lines, 2. the starters' own
   * lines (with their new pids), 3. what the rest of the deployment logs about it.
   */
  private runStep(changes: readonly Change[], before: Observation = this.observe()): void {
    const now = this.deps.clock.now();
    for (const { process: p, kind } of changes) {
      if (kind === 'start') continue;
      // A clean stop writes its shutdown lines with the pid it still has; a crash writes nothing.
      if (kind === 'stop') this.writeStopLines(p, now);
      p.state = kind === 'stop' ? 'stopped' : 'killed';
      p.downReason = kind;
      p.latencyMs = 0;
      p.stoppedAt = now.toISOString();
    }
    for (const { process: p, kind } of changes) if (kind === 'start') this.startProcess(p, now);
    this.galeraRule(changes, now);
    this.databaseRule(before, changes);
    this.brokerRule(before, changes, now);
    this.haproxyRule(before, changes, now);
    for (const host of this.config.computeHosts) {
      const serving = this.computeServing(host);
      if (before.computeServing.get(host) !== serving) this.pendingComputeStates.push([host, serving ? 'up' : 'down']);
    }
  }

  private startProcess(p: ProcessModel, now: Date): void {
    p.generation += 1;
    p.state = 'running';
    p.downReason = null;
    p.latencyMs = 0;
    p.startedAt = now.toISOString();
    // The writer gives an oslo process its pid as it writes the start lines; the daemons get ours.
    p.pid = (p.spec.log === 'oslo' ? this.out.started(p.host, p.name, p.spec.version) : null) ?? this.nextPid(p);
    if (p.spec.log === 'rabbitmq') this.out.raw(p.host, rabbitLog(p.host), lines.rabbitStartLines(now, this.upHosts(BROKER_PROCESS).length > 1));
    if (p.spec.log === 'haproxy') this.out.raw(p.host, HAPROXY_LOG, BACKENDS.map((b) => lines.haproxyLine(now, p.host, p.pid as number, lines.haproxyProxyStarted(b))));
    // mysqld's lines depend on the cluster it finds: galeraRule writes them.
  }

  private writeStopLines(p: ProcessModel, now: Date): void {
    switch (p.spec.log) {
      case 'oslo':
        this.out.stopped(p.host, p.name);
        return;
      case 'mariadb':
        this.out.raw(p.host, MYSQLD_LOG, lines.mariadbShutdownLines(now, this.galera.seqno));
        return;
      case 'rabbitmq':
        this.out.raw(p.host, rabbitLog(p.host), lines.rabbitStopLines(now));
        return;
      case 'haproxy':
        this.out.raw(p.host, HAPROXY_LOG, BACKENDS.map((b) => lines.haproxyLine(now, p.host, p.pid ?? 0, lines.haproxyProxyStopped(b))));
        return;
      case 'none':
        return;
    }
  }

  // --- the rules: what the rest of the deployment writes -----------------------------------

  /**
   * Galera's quorum: a clean leave shrinks the primary component; after a crash the
   * survivors stay primary only with more than half of the last primary component (two
   * of three yes, one of two no); a node starting with no cluster up bootstraps a new one;
   * non-primary survivors regain primary once enough members are back. Every running
   * member logs the new view.
   */
  private galeraRule(changes: readonly Change[], now: Date): void {
    const mine = changes.filter((c) => c.process.name === DATABASE_PROCESS);
    if (mine.length === 0) return;
    const leavers = mine.filter((c) => c.kind !== 'start');
    const joiners = mine.filter((c) => c.kind === 'start').map((c) => c.process);
    const running = this.replicas(DATABASE_PROCESS).filter((p) => isUp(p.state));
    const survivors = running.filter((p) => !joiners.includes(p));
    const wasPrimary = this.galera.primary;
    let { primary, size } = this.galera;
    if (primary) size -= leavers.filter((c) => c.kind === 'stop').length;
    if (primary && leavers.some((c) => c.kind !== 'stop')) {
      if (survivors.length * 2 > size) size = survivors.length;
      else primary = false;
    }
    if (survivors.length === 0) primary = false;
    let bootstrapper: ProcessModel | null = null;
    if (joiners.length > 0) {
      if (survivors.length === 0) {
        bootstrapper = joiners[0] as ProcessModel;
        primary = true;
      } else if (!primary && running.length * 2 > size) primary = true;
    }
    if (primary) size = running.length;
    this.galera = { primary, size, viewNumber: this.galera.viewNumber + (primary ? 1 : 0), seqno: this.galera.seqno + 1 };

    const position = { clusterUuid: this.clusterUuid, seqno: this.galera.seqno };
    for (const joiner of joiners) {
      this.out.raw(joiner.host, MYSQLD_LOG, lines.mariadbStartingMessages(joiner.pid ?? 0, position, joiner === bootstrapper).map(([level, message]) => lines.mariadbLine(now, level, message)));
    }
    running.forEach((member, index) => {
      const joined = joiners.includes(member);
      const text: string[] = [];
      if (!joined) for (const { process: leaver, kind } of leavers) text.push(lines.mariadbLine(now, 'Note', lines.galeraLeaveMessage(this.galeraNode(member), this.galeraNode(leaver), leaver.host, kind === 'stop')));
      const view = { ...position, viewNumber: this.galera.viewNumber, primary, members: running.length, myIndex: index };
      text.push(lines.mariadbLine(now, 'Note', lines.galeraViewMessage(view)));
      if (primary && (joined || !wasPrimary)) text.push(lines.mariadbLine(now, 'Note', lines.GALERA_SYNCED));
      if (joined) text.push(...lines.mariadbReadyLines(now));
      this.out.raw(member.host, MYSQLD_LOG, text);
    });
  }

  /** oslo.db in every service that uses it: an ERROR when the database goes under it, a WARNING when it starts without one. */
  private databaseRule(before: Observation, changes: readonly Change[]): void {
    const available = this.databaseAvailable();
    const starters = new Set(changes.filter((c) => c.kind === 'start').map((c) => c.process));
    if (before.database && !available) {
      const cause = this.replicas(DATABASE_PROCESS).some((p) => isUp(p.state)) ? 'non-primary' : 'gone';
      for (const p of this.processModels.values()) {
        if (p.spec.database && isUp(p.state) && !starters.has(p)) this.out.oslo(p.host, p.name, lines.databaseLostLine(cause));
      }
    }
    if (!available) for (const p of starters) if (p.spec.database) this.out.oslo(p.host, p.name, lines.databaseConnectFailedLine(this.config.internalVip));
  }

  /**
   * RabbitMQ: the peers see a node go or come; a broker sees its clients' connections
   * close (cleanly or not); oslo.messaging clients whose broker went log it unreachable
   * and fail over to the next live node in their transport_url order, or wait for one.
   */
  private brokerRule(before: Observation, changes: readonly Change[], now: Date): void {
    const brokers = this.upHosts(BROKER_PROCESS);
    const brokerChange = (host: string) => changes.find((c) => c.process.name === BROKER_PROCESS && c.process.host === host);
    const gone = before.brokers.filter((h) => !brokers.includes(h));
    const came = brokers.filter((h) => !before.brokers.includes(h));
    for (const h of gone) for (const peer of brokers) this.out.raw(peer, rabbitLog(peer), lines.rabbitPeerLines(now, h, false, brokerChange(h)?.kind === 'stop'));
    for (const h of came) for (const peer of brokers) if (peer !== h) this.out.raw(peer, rabbitLog(peer), lines.rabbitPeerLines(now, h, true, true));

    const starters = new Set<ProcessModel>();
    for (const { process: p, kind } of changes) {
      if (!p.spec.messaging) continue;
      if (kind === 'start') {
        starters.add(p);
        continue;
      }
      if (p.amqpBroker && brokers.includes(p.amqpBroker)) this.out.raw(p.amqpBroker, rabbitLog(p.amqpBroker), lines.rabbitConnectionClosedLines(now, this.amqpConnection(p, p.amqpBroker), kind));
      p.amqpBroker = null;
    }
    const lossOf = (broker: string): lines.AmqpLoss => {
      const kind = brokerChange(broker)?.kind;
      return kind === 'stop' ? 'shutdown' : kind === 'kill' ? 'crash' : 'host-failure';
    };
    for (const p of this.processModels.values()) {
      if (!p.spec.messaging || !isUp(p.state)) continue;
      const order = this.brokerOrder(p);
      const uuid = this.amqpConnection(p, '').uuid;
      if (starters.has(p)) {
        p.amqpBroker = order.find((h) => brokers.includes(h)) ?? null;
        if (!p.amqpBroker) this.out.oslo(p.host, p.name, lines.amqpUnreachableLine(uuid, order[0] as string, 'refused'));
      } else if (p.amqpBroker && !brokers.includes(p.amqpBroker)) {
        const lost = p.amqpBroker;
        this.out.oslo(p.host, p.name, lines.amqpUnreachableLine(uuid, lost, lossOf(lost)));
        const from = order.indexOf(lost);
        p.amqpBroker = [...order.slice(from + 1), ...order.slice(0, from)].find((h) => brokers.includes(h)) ?? null;
        if (p.amqpBroker) this.out.oslo(p.host, p.name, lines.amqpReconnectedLine(uuid, p.amqpBroker, this.amqpConnection(p, p.amqpBroker).clientPort));
      } else if (!p.amqpBroker && came.length > 0) {
        p.amqpBroker = order.find((h) => brokers.includes(h)) ?? null;
        if (p.amqpBroker) this.out.oslo(p.host, p.name, lines.amqpReconnectedLine(uuid, p.amqpBroker, this.amqpConnection(p, p.amqpBroker).clientPort));
      }
    }
  }

  /** Every live haproxy health-checks every backend server: a server going or coming is one line each, and an empty backend an alert. */
  private haproxyRule(before: Observation, changes: readonly Change[], now: Date): void {
    const starters = new Set(changes.filter((c) => c.kind === 'start').map((c) => c.process));
    // A haproxy that just started wrote its own lines; it never saw the servers before.
    const balancers = this.replicas(LOAD_BALANCER_PROCESS).filter((p) => isUp(p.state) && !starters.has(p));
    if (balancers.length === 0) return;
    const byBackend = new Map<string, Change[]>();
    for (const c of changes) {
      const backend = c.process.spec.backend;
      if (!backend || before.up.has(c.process) === isUp(c.process.state)) continue;
      byBackend.set(backend, [...(byBackend.get(backend) ?? []), c]);
    }
    for (const [backend, list] of byBackend) {
      let active = this.replicas((list[0] as Change).process.name).filter((p) => before.up.has(p)).length;
      const messages: string[] = [];
      for (const { process: p, kind } of list) {
        if (kind === 'start') {
          active += 1;
          messages.push(lines.haproxyServerUp(backend, p.host, active));
        } else {
          active -= 1;
          messages.push(lines.haproxyServerDown(backend, p.host, kind === 'host-failure', active));
          if (active === 0) messages.push(lines.haproxyNoServer(backend));
        }
      }
      for (const lb of balancers) this.out.raw(lb.host, HAPROXY_LOG, messages.map((m) => lines.haproxyLine(now, lb.host, lb.pid ?? 0, m)));
    }
  }

  // --- helpers -----------------------------------------------------------------------------

  private observe(): Observation {
    return {
      up: new Set([...this.processModels.values()].filter((p) => isUp(p.state))),
      database: this.databaseAvailable(),
      brokers: this.upHosts(BROKER_PROCESS),
      computeServing: new Map(this.config.computeHosts.map((h) => [h, this.computeServing(h)])),
    };
  }

  private databaseAvailable(): boolean {
    return this.galera.primary && this.replicas(DATABASE_PROCESS).some((p) => isUp(p.state));
  }

  private computeServing(host: string): boolean {
    const p = this.processModels.get(key(host, COMPUTE_SERVICE));
    return this.hostModels.get(host)?.state === 'up' && p !== undefined && isUp(p.state);
  }

  /** A process's replicas, in host order. */
  private replicas(name: string): ProcessModel[] {
    return [...this.processModels.values()].filter((p) => p.name === name);
  }

  private upHosts(name: string): string[] {
    return this.replicas(name)
      .filter((p) => isUp(p.state))
      .map((p) => p.host);
  }

  /** transport_url lists every controller; each client starts from its own (a stable shuffle) and fails over in order. */
  private brokerOrder(p: ProcessModel): string[] {
    const controllers = this.config.controllers;
    const offset = hashOf('amqp-order', p.host, p.name) % controllers.length;
    return [...controllers.slice(offset), ...controllers.slice(0, offset)];
  }

  private amqpConnection(p: ProcessModel, broker: string): lines.AmqpConnection {
    const uuid = deriveId('amqp-connection', p.host, p.name, String(p.pid));
    return {
      uuid,
      name: `${p.name}:${p.pid}:${uuid}`,
      clientHost: p.host,
      clientPort: 32768 + (hashOf('amqp-port', uuid, broker) % 28232),
      brokerHost: broker,
      erlangPid: `0.${1000 + (hashOf('amqp-erlang-pid', uuid, broker) % 30000)}.0`,
    };
  }

  /** Galera's short node id: the first two groups of the node's UUID, new with each start. */
  private galeraNode(p: ProcessModel): string {
    return deriveId('galera-node', p.host, String(p.pid)).slice(0, 13);
  }

  /** The next pid for a daemon: stable for its name and start count, never one a live process on the host holds. */
  private nextPid(p: ProcessModel): number {
    const taken = new Set([...this.processModels.values()].filter((o) => o !== p && o.host === p.host && isUp(o.state)).map((o) => o.pid));
    let pid = PID_MIN + (hashOf('pid', p.host, p.name, String(p.generation)) % (PID_MAX - PID_MIN + 1));
    while (taken.has(pid)) pid = pid === PID_MAX ? PID_MIN : pid + 1;
    return pid;
  }

  private newProcess(host: string, name: string): ProcessModel {
    const spec = PROCESS_SPECS.get(name) as ProcessSpec;
    return { host, name, spec, state: 'stopped', downReason: null, pid: null, generation: 0, latencyMs: 0, startedAt: null, stoppedAt: null, restartCount: 0, amqpBroker: null };
  }

  private fromRow(r: q.ProcessRow): ProcessModel {
    return {
      host: r.host,
      name: r.name,
      spec: processSpec(r.name),
      state: r.state as ProcessState,
      downReason: r.down_reason as DownReason | null,
      pid: r.pid,
      generation: r.generation,
      latencyMs: r.latency_ms,
      startedAt: r.started_at,
      stoppedAt: r.stopped_at,
      restartCount: r.restart_count,
      amqpBroker: r.amqp_broker,
    };
  }

  private view(p: ProcessModel): DeployedProcess {
    return { host: p.host, name: p.name, state: p.state, downReason: p.downReason, pid: p.pid, latencyMs: p.latencyMs, startedAt: p.startedAt, stoppedAt: p.stoppedAt, restartCount: p.restartCount };
  }

  /** Writes the whole model (a few dozen rows) and the trail entry; the caller holds the transaction. */
  private persist(record: FaultRecord | null): void {
    for (const h of this.hostModels.values()) this.run(q.upsertHost({ name: h.name, role: h.role, position: h.position, state: h.state, changed_at: h.changedAt }));
    for (const p of this.processModels.values()) {
      this.run(
        q.upsertProcess({
          host: p.host,
          name: p.name,
          state: p.state,
          down_reason: p.downReason,
          pid: p.pid,
          generation: p.generation,
          latency_ms: p.latencyMs,
          started_at: p.startedAt,
          stopped_at: p.stoppedAt,
          restart_count: p.restartCount,
          amqp_broker: p.amqpBroker,
        }),
      );
    }
    this.run(q.upsertCluster({ name: GALERA, primary_component: this.galera.primary ? 1 : 0, view_size: this.galera.size, view_number: this.galera.viewNumber, seqno: this.galera.seqno }));
    if (record) {
      const { actor } = record;
      this.run(
        q.insertFault({
          id: record.id,
          at: record.at,
          action: record.action,
          host: record.host,
          process: record.process,
          latency_ms: record.latencyMs,
          actor_user_id: actor.userId,
          actor_user_name: actor.userName,
          actor_project_id: actor.projectId,
          actor_project_name: actor.projectName,
          actor_via: actor.via,
          request_id: actor.requestId,
          remote_address: actor.remoteAddress,
          changes: JSON.stringify(record.changes),
        }),
      );
    }
  }

  private flushComputeStates(): void {
    const owed = this.pendingComputeStates;
    this.pendingComputeStates = [];
    for (const [host, state] of owed) {
      try {
        this.deps.computeHostState?.(host, state);
      } catch (err) {
        this.deps.logger.error({ err: errorMessage(err), host, state }, 'nova did not take the compute host state; its scheduler may still use the host');
      }
    }
  }

  private async announce(record: FaultRecord): Promise<void> {
    try {
      await this.deps.notifier.notify({
        exchange: FAULT_EXCHANGE,
        publisherId: FAULT_PUBLISHER_ID,
        eventType: faultEventType(record.action),
        priority: 'INFO',
        payload: faultCadfEvent(record),
        context: faultContext(record),
      });
    } catch (err) {
      this.deps.telemetry?.dropped();
      this.deps.logger.warn({ err: errorMessage(err), fault: record.id }, 'fault notification not published; the fault trail has it');
    }
  }

  private all<T>(query: q.SqlQuery): T[] {
    return this.deps.db.prepare(query.sql).all(query.params) as T[];
  }

  private run(query: q.SqlQuery): void {
    this.deps.db.prepare(query.sql).run(query.params);
  }
}

/** Validates the config (CUMULUS_CONFIG_INVALID naming the key), migrates the tables and builds the model; start() loads it. */
export function createDeployment(config: DeploymentConfig, deps: DeploymentDeps): Deployment {
  return new Deployment(config, deps);
}
