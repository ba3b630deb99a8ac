import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/index.ts';
import { until } from '../nova/test-harness.ts';
import { Notifier } from '../notifier.ts';
import { resolveDeploymentConfig } from './config.ts';
import { createDeployment } from './deployment.ts';
import type { DeployedProcess, FaultActor } from './model.ts';
import { deploymentHarness, type DeploymentHarness } from './test-harness.ts';

const ALICE: FaultActor = { userId: 'u-alice', userName: 'alice', projectId: 'p-admin', projectName: 'admin', via: 'api', requestId: 'req-1', remoteAddress: '10.0.0.5' };
const STAMP = '2026-11-24 17:00:00';
const OSLO = (pid: number | null, level: string, logger: string) => `2026-11-24 17:00:00.000 ${pid} ${level} ${logger} [-] `;

const proc = (h: DeploymentHarness, host: string, name: string) => h.deployment.process(host, name) as DeployedProcess;
const health = (h: DeploymentHarness, name: string) => h.deployment.serviceHealth().find((s) => s.process === name);
const codeOf = async (promise: Promise<unknown>) => promise.then(() => 'resolved', (err: { code?: string }) => err.code);

describe('boot', () => {
  it('starts every process of every host, with pids and the lines each writes', async () => {
    const h = await deploymentHarness();
    const hosts = h.deployment.hosts();
    expect(hosts.map((x) => `${x.name}:${x.role}`)).toEqual(['controller-1:controller', 'controller-2:controller', 'controller-3:controller', 'compute-1:compute', 'compute-2:compute', 'storage-1:storage']);
    expect(hosts[0]?.processes.map((p) => p.name)).toEqual([
      'mysqld', 'rabbitmq-server', 'memcached', 'keystone', 'nova-api', 'nova-scheduler', 'nova-conductor', 'glance-api', 'cinder-api', 'cinder-scheduler', 'neutron-server', 'placement-api', 'heat-api', 'heat-engine', 'haproxy',
    ]);
    expect(hosts[3]?.processes.map((p) => p.name)).toEqual(['libvirtd', 'nova-compute', 'neutron-openvswitch-agent']);
    expect(hosts[5]?.processes.map((p) => p.name)).toEqual(['cinder-volume']);
    for (const p of hosts.flatMap((x) => x.processes)) {
      expect(p.state).toBe('running');
      expect(p.pid).toBeGreaterThanOrEqual(1000);
      expect(p.startedAt).toBe(NOW_ISO);
      expect(p.restartCount).toBe(0);
    }
    expect(h.deployment.serviceHealth().every((s) => s.status === 'ok')).toBe(true);
    expect(h.deployment.databaseStatus()).toEqual({ available: true, primary: true, running: 3, members: 3, viewSize: 3 });
    expect(h.computeStates).toEqual([['compute-1', 'up'], ['compute-2', 'up']]);

    const novaApi = proc(h, 'controller-2', 'nova-api');
    // The pid in the model is the one the writer stamps on the process's lines.
    expect(await h.lines('controller-2', 'nova-api.log')).toEqual([`${OSLO(novaApi.pid, 'INFO', 'nova.wsgi')}osapi_compute listening on 0.0.0.0:8774`]);
    expect(await h.lines('compute-1', 'nova-compute.log')).toEqual([`${OSLO(proc(h, 'compute-1', 'nova-compute').pid, 'INFO', 'nova.service')}Starting compute node (version 27.1.0)`]);

    // controller-1 bootstraps the Galera cluster; the others join it.
    const mysql1 = await h.lines('controller-1', 'mysqld.log');
    expect(mysql1[0]).toBe(`${STAMP} 0 [Note] Starting MariaDB 10.11.6-MariaDB-0+deb12u1 source revision 8e2b9cdf8a8a5ec0e6a7ad9e5b3aab7b9a8a6b3d as process ${proc(h, 'controller-1', 'mysqld').pid}`);
    expect(mysql1).toContain(`${STAMP} 0 [Note] WSREP: 'wsrep-new-cluster' option used, bootstrapping the cluster`);
    expect(mysql1.find((l) => l.includes('New cluster view'))).toMatch(/WSREP: New cluster view: global state: [0-9a-f-]{36}:1, view# 1: Primary, number of nodes: 3, my index: 0, protocol version 4$/);
    expect(mysql1.slice(-3)).toEqual([`${STAMP} 0 [Note] WSREP: Synchronized with group, ready for connections`, `${STAMP} 0 [Note] /usr/sbin/mariadbd: ready for connections.`, "Version: '10.11.6-MariaDB-0+deb12u1'  socket: '/run/mysqld/mysqld.sock'  port: 3306  Debian 12"]);
    expect((await h.lines('controller-2', 'mysqld.log')).some((l) => l.includes('wsrep-new-cluster'))).toBe(false);
    expect(await h.lines('controller-1', 'rabbit@controller-1.log')).toContain('2026-11-24 17:00:00.000000+00:00 [info] <0.230.0> Starting RabbitMQ 3.12.13 on Erlang 26.2.3 [jit]');
    expect(await h.lines('controller-3', 'haproxy.log')).toContain(`Nov 24 17:00:00 controller-3 haproxy[${proc(h, 'controller-3', 'haproxy').pid}]: Proxy nova_api_back started.`);
    // memcached and libvirtd log nothing at their default level.
    expect(await h.lines('controller-1', 'memcached.log')).toEqual([]);
  });
});

const NOW_ISO = '2026-11-24T17:00:00.000Z';

describe('process operations', () => {
  it('stop: SIGTERM lines, the survivors see a clean leave, haproxy takes the server out', async () => {
    const h = await deploymentHarness();
    const api = proc(h, 'controller-1', 'nova-api');
    h.clock.advance(60_000);
    const record = await h.deployment.apply({ action: 'stop', host: 'controller-1', process: 'nova-api' }, ALICE);
    expect(record.changes).toEqual([{ host: 'controller-1', process: 'nova-api', from: 'running', to: 'stopped', pid: api.pid }]);
    expect(proc(h, 'controller-1', 'nova-api')).toMatchObject({ state: 'stopped', downReason: 'stop', stoppedAt: '2026-11-24T17:01:00.000Z' });
    expect((await h.lines('controller-1', 'nova-api.log')).slice(1)).toEqual([
      `2026-11-24 17:01:00.000 ${api.pid} INFO oslo_service.service [-] Caught SIGTERM, exiting`,
      `2026-11-24 17:01:00.000 ${api.pid} INFO nova.wsgi [-] Stopping WSGI server.`,
      `2026-11-24 17:01:00.000 ${api.pid} INFO nova.wsgi [-] WSGI server has stopped.`,
    ]);
    for (const lb of ['controller-1', 'controller-2', 'controller-3']) {
      expect((await h.lines(lb, 'haproxy.log')).at(-1)).toBe(
        `Nov 24 17:01:00 ${lb} haproxy[${proc(h, lb, 'haproxy').pid}]: Server nova_api_back/controller-1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 2 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`,
      );
    }
    expect(health(h, 'nova-api')).toMatchObject({ expected: 3, running: 2, status: 'degraded' });

    const mysqld = proc(h, 'controller-2', 'mysqld');
    await h.deployment.apply({ action: 'stop', host: 'controller-2', process: 'mysqld' });
    expect((await h.lines('controller-2', 'mysqld.log')).slice(-5)).toEqual([
      '2026-11-24 17:01:00 0 [Note] /usr/sbin/mariadbd (initiated by: unknown): Normal shutdown',
      '2026-11-24 17:01:00 0 [Note] WSREP: Shutdown replication',
      '2026-11-24 17:01:00 0 [Note] InnoDB: Starting shutdown...',
      expect.stringMatching(/^2026-11-24 17:01:00 0 \[Note\] InnoDB: Shutdown completed; log sequence number \d+; transaction id \d+$/),
      '2026-11-24 17:01:00 0 [Note] /usr/sbin/mariadbd: Shutdown complete',
    ]);
    const survivor = await h.lines('controller-3', 'mysqld.log');
    expect(survivor.at(-2)).toMatch(/^2026-11-24 17:01:00 0 \[Note\] WSREP: forgetting [0-9a-f]{8}-[0-9a-f]{4} \(tcp:\/\/controller-2:4567\)$/);
    expect(survivor.at(-1)).toMatch(/view# 2: Primary, number of nodes: 2, my index: 1, protocol version 4$/);
    expect(h.deployment.databaseStatus()).toMatchObject({ available: true, running: 2, viewSize: 2 });
    expect(mysqld.pid).toBe(proc(h, 'controller-2', 'mysqld').pid);
  });

  it('kill: a crash writes no line of its own; Galera survivors relay around it', async () => {
    const h = await deploymentHarness();
    const before = await h.lines('controller-1', 'mysqld.log');
    const apiBefore = await h.lines('controller-2', 'keystone.log');
    await h.deployment.apply({ action: 'kill', host: 'controller-1', process: 'mysqld' });
    await h.deployment.apply({ action: 'kill', host: 'controller-2', process: 'keystone' });
    expect(await h.lines('controller-1', 'mysqld.log')).toEqual(before);
    expect(await h.lines('controller-2', 'keystone.log')).toEqual(apiBefore);
    expect(proc(h, 'controller-1', 'mysqld')).toMatchObject({ state: 'killed', downReason: 'kill' });
    const survivor = await h.lines('controller-2', 'mysqld.log');
    expect(survivor.at(-2)).toMatch(/WSREP: \([0-9a-f]{8}-[0-9a-f]{4}, 'tcp:\/\/0\.0\.0\.0:4567'\) turning message relay requesting on, nonlive peers: tcp:\/\/controller-1:4567$/);
    expect(survivor.at(-1)).toMatch(/Primary, number of nodes: 2, my index: 0/);
    expect((await h.lines('controller-3', 'haproxy.log')).at(-1)).toContain('Server keystone_internal_back/controller-2 is DOWN');
  });

  it('start and restart: new pids and start lines; only restart counts', async () => {
    const h = await deploymentHarness();
    const first = proc(h, 'controller-3', 'nova-conductor');
    await h.deployment.apply({ action: 'stop', host: 'controller-3', process: 'nova-conductor' });
    await h.deployment.apply({ action: 'start', host: 'controller-3', process: 'nova-conductor' });
    const second = proc(h, 'controller-3', 'nova-conductor');
    expect(second).toMatchObject({ state: 'running', downReason: null, restartCount: 0 });
    expect(second.pid).not.toBe(first.pid);

    h.clock.advance(5000);
    const record = await h.deployment.apply({ action: 'restart', host: 'controller-3', process: 'nova-conductor' });
    const third = proc(h, 'controller-3', 'nova-conductor');
    expect(third).toMatchObject({ state: 'running', restartCount: 1, startedAt: '2026-11-24T17:00:05.000Z' });
    expect(record.changes).toEqual([{ host: 'controller-3', process: 'nova-conductor', from: 'running', to: 'running', pid: third.pid }]);
    expect((await h.lines('controller-3', 'nova-conductor.log')).slice(-2)).toEqual([
      `2026-11-24 17:00:05.000 ${second.pid} INFO oslo_service.service [-] Caught SIGTERM, exiting`,
      `2026-11-24 17:00:05.000 ${third.pid} INFO nova.service [-] Starting conductor node (version 27.1.0)`,
    ]);
    // A restart of a daemon with its own format: shutdown, then a start that joins the cluster again.
    await h.deployment.apply({ action: 'restart', host: 'controller-2', process: 'rabbitmq-server' });
    expect((await h.lines('controller-2', 'rabbit@controller-2.log')).slice(-7).map((l) => l.slice(33))).toEqual([
      '[info] <0.230.0> RabbitMQ is asked to stop...',
      '[info] <0.664.0> stopped TCP listener on [::]:5672',
      '[info] <0.230.0> Successfully stopped RabbitMQ and its dependencies',
      '[info] <0.230.0> Starting RabbitMQ 3.12.13 on Erlang 26.2.3 [jit]',
      '[info] <0.230.0> Successfully synced tables from a peer',
      '[info] <0.664.0> started TCP listener on [::]:5672',
      '[info] <0.230.0> Server startup complete; 0 plugins started.',
    ]);
    expect((await h.lines('controller-1', 'rabbit@controller-1.log')).slice(-2).map((l) => l.slice(33))).toEqual(['[info] <0.512.0> rabbit on node rabbit@controller-2 down', '[info] <0.512.0> rabbit on node rabbit@controller-2 up']);
  });

  it('slow: the process keeps running with latency; 0 clears it', async () => {
    const h = await deploymentHarness();
    await h.deployment.apply({ action: 'slow', host: 'controller-1', process: 'glance-api', latencyMs: 1500 });
    expect(proc(h, 'controller-1', 'glance-api')).toMatchObject({ state: 'slowed', latencyMs: 1500 });
    expect(health(h, 'glance-api')).toMatchObject({ running: 3, slowed: 1, status: 'degraded' });
    await h.deployment.apply({ action: 'slow', host: 'controller-1', process: 'glance-api', latencyMs: 0 });
    expect(proc(h, 'controller-1', 'glance-api')).toMatchObject({ state: 'running', latencyMs: 0 });
    // A stop clears the latency: a start brings a fresh process.
    await h.deployment.apply({ action: 'slow', host: 'controller-1', process: 'glance-api', latencyMs: 10 });
    await h.deployment.apply({ action: 'restart', host: 'controller-1', process: 'glance-api' });
    expect(proc(h, 'controller-1', 'glance-api')).toMatchObject({ state: 'running', latencyMs: 0 });
  });

  it('refuses what the state does not allow (409) and what the request gets wrong (400, naming the field)', async () => {
    const h = await deploymentHarness();
    const apply = h.deployment.apply.bind(h.deployment);
    await apply({ action: 'stop', host: 'controller-1', process: 'memcached' });
    expect(await codeOf(apply({ action: 'stop', host: 'controller-1', process: 'memcached' }))).toBe('CUMULUS_DEPLOYMENT_STATE_CONFLICT');
    expect(await codeOf(apply({ action: 'kill', host: 'controller-1', process: 'memcached' }))).toBe('CUMULUS_DEPLOYMENT_STATE_CONFLICT');
    expect(await codeOf(apply({ action: 'slow', host: 'controller-1', process: 'memcached', latencyMs: 5 }))).toBe('CUMULUS_DEPLOYMENT_STATE_CONFLICT');
    expect(await codeOf(apply({ action: 'start', host: 'controller-1', process: 'keystone' }))).toBe('CUMULUS_DEPLOYMENT_STATE_CONFLICT');
    expect(await codeOf(apply({ action: 'recover-host', host: 'compute-1' }))).toBe('CUMULUS_DEPLOYMENT_STATE_CONFLICT');
    await apply({ action: 'fail-host', host: 'compute-1' });
    expect(await codeOf(apply({ action: 'fail-host', host: 'compute-1' }))).toBe('CUMULUS_DEPLOYMENT_STATE_CONFLICT');
    await expect(apply({ action: 'start', host: 'compute-1', process: 'nova-compute' })).rejects.toThrow('cannot start nova-compute on compute-1: it is on a host that is down; start needs it on a host that is up (recover-host first)');

    await expect(apply({ action: 'stop', host: 'controller-9', process: 'mysqld' })).rejects.toMatchObject({ code: 'CUMULUS_DEPLOYMENT_HOST_UNKNOWN', httpStatus: 400, message: expect.stringContaining('host must be one of') });
    await expect(apply({ action: 'stop', host: 'compute-2', process: 'mysqld' })).rejects.toMatchObject({ code: 'CUMULUS_DEPLOYMENT_PROCESS_UNKNOWN', message: expect.stringContaining('process must be one that runs on compute-2 (libvirtd, nova-compute, neutron-openvswitch-agent)') });
    await expect(apply({ action: 'stop', host: 'compute-2' })).rejects.toMatchObject({ code: 'CUMULUS_DEPLOYMENT_FIELD_INVALID', message: 'process must be the name of a process on compute-2 for stop; got nothing' });
    await expect(apply({ action: 'fail-host', host: 'compute-2', process: 'libvirtd' })).rejects.toMatchObject({ code: 'CUMULUS_DEPLOYMENT_FIELD_INVALID', message: expect.stringMatching(/^process must be absent for fail-host/) });
    await expect(apply({ action: 'slow', host: 'compute-2', process: 'libvirtd' })).rejects.toMatchObject({ code: 'CUMULUS_DEPLOYMENT_FIELD_INVALID', message: expect.stringMatching(/^latency_ms must be an integer from 0/) });
    await expect(apply({ action: 'slow', host: 'compute-2', process: 'libvirtd', latencyMs: 1.5 })).rejects.toMatchObject({ code: 'CUMULUS_DEPLOYMENT_FIELD_INVALID' });
    await expect(apply({ action: 'stop', host: 'compute-2', process: 'libvirtd', latencyMs: 5 })).rejects.toMatchObject({ code: 'CUMULUS_DEPLOYMENT_FIELD_INVALID', message: 'latency_ms must be absent unless action is slow; got 5' });
    await expect(apply({ action: 'explode' as 'stop', host: 'compute-2' })).rejects.toMatchObject({ code: 'CUMULUS_DEPLOYMENT_FIELD_INVALID', message: expect.stringMatching(/^action must be one of stop, kill/) });
    // Nothing refused reached the trail; the telemetry counted both kinds.
    expect(h.deployment.faults().map((f) => f.action)).toEqual(['fail-host', 'stop']);
    expect(h.telemetry.snapshot()).toMatchObject({ accepted: 2, refused: 15, dropped: 0 });
  });
});

describe('dependants', () => {
  it('Galera: two crashes of three lose quorum (1047 in the services), a node back restores it', async () => {
    const h = await deploymentHarness();
    await h.deployment.apply({ action: 'kill', host: 'controller-1', process: 'mysqld' });
    expect(h.deployment.databaseStatus()).toMatchObject({ available: true, primary: true, running: 2 });
    await h.deployment.apply({ action: 'kill', host: 'controller-2', process: 'mysqld' });
    // One of two left: no majority of the last primary component.
    expect(h.deployment.databaseStatus()).toMatchObject({ available: false, primary: false, running: 1 });
    expect(health(h, 'mysqld')).toMatchObject({ running: 1, status: 'down', reason: expect.stringContaining('no primary component') });
    expect((await h.lines('controller-3', 'mysqld.log')).at(-1)).toMatch(/view# -1: non-Primary, number of nodes: 1, my index: 0, protocol version 4$/);
    const pid = proc(h, 'controller-3', 'nova-api').pid;
    expect((await h.lines('controller-3', 'nova-api.log')).at(-1)).toBe(
      `2026-11-24 17:00:00.000 ${pid} ERROR oslo_db.sqlalchemy.engines [-] Database connection was found disconnected; reconnecting: oslo_db.exception.DBConnectionError: (pymysql.err.OperationalError) (1047, 'WSREP has not yet prepared node for application use')`,
    );
    // nova-compute reaches the database only through the conductor.
    expect((await h.lines('compute-1', 'nova-compute.log')).some((l) => l.includes('oslo_db'))).toBe(false);

    await h.deployment.apply({ action: 'start', host: 'controller-1', process: 'mysqld' });
    expect(h.deployment.databaseStatus()).toMatchObject({ available: true, primary: true, running: 2, viewSize: 2 });
    const back = await h.lines('controller-3', 'mysqld.log');
    expect(back.slice(-2)).toEqual([expect.stringMatching(/view# \d+: Primary, number of nodes: 2, my index: 1/), `${STAMP} 0 [Note] WSREP: Synchronized with group, ready for connections`]);
  });

  it('all mysqld stopped: every database user logs DBConnectionError; a start bootstraps a new cluster', async () => {
    const h = await deploymentHarness();
    for (const host of ['controller-1', 'controller-2', 'controller-3']) await h.deployment.apply({ action: 'stop', host, process: 'mysqld' });
    expect(h.deployment.databaseStatus().available).toBe(false);
    expect(health(h, 'mysqld')).toMatchObject({ running: 0, status: 'down' });
    const lost = "ERROR oslo_db.sqlalchemy.engines [-] Database connection was found disconnected; reconnecting: oslo_db.exception.DBConnectionError: (pymysql.err.OperationalError) (2013, 'Lost connection to MySQL server during query')";
    for (const host of ['controller-1', 'controller-2', 'controller-3']) {
      for (const service of ['nova-api', 'keystone', 'nova-conductor', 'neutron-server', 'heat-engine']) {
        expect((await h.lines(host, `${service}.log`)).filter((l) => l.includes('oslo_db'))).toEqual([`2026-11-24 17:00:00.000 ${proc(h, host, service).pid} ${lost}`]);
      }
    }
    expect((await h.lines('storage-1', 'cinder-volume.log')).at(-1)).toContain('DBConnectionError');

    // A service starting without a database retries, as oslo.db does.
    await h.deployment.apply({ action: 'restart', host: 'controller-2', process: 'placement-api' });
    expect((await h.lines('controller-2', 'placement-api.log')).at(-1)).toBe(
      `2026-11-24 17:00:00.000 ${proc(h, 'controller-2', 'placement-api').pid} WARNING oslo_db.sqlalchemy.engines [-] SQL connection failed. 10 attempts left.: oslo_db.exception.DBConnectionError: (pymysql.err.OperationalError) (2003, "Can't connect to MySQL server on 'controller' ([Errno 111] ECONNREFUSED)")`,
    );
    await h.deployment.apply({ action: 'start', host: 'controller-3', process: 'mysqld' });
    expect(h.deployment.databaseStatus()).toMatchObject({ available: true, running: 1 });
    expect(await h.lines('controller-3', 'mysqld.log')).toContain(`${STAMP} 0 [Note] WSREP: 'wsrep-new-cluster' option used, bootstrapping the cluster`);
  });

  it('RabbitMQ: clients of a stopped node log it unreachable and reconnect elsewhere; with none left they wait', async () => {
    const h = await deploymentHarness();
    await h.deployment.apply({ action: 'stop', host: 'controller-1', process: 'rabbitmq-server' });
    expect((await h.lines('controller-2', 'rabbit@controller-2.log')).at(-1)).toBe('2026-11-24 17:00:00.000000+00:00 [info] <0.512.0> rabbit on node rabbit@controller-1 down');
    const clients = h.deployment.hosts().flatMap((host) => host.processes.filter((p) => ['nova-compute', 'nova-api', 'nova-scheduler', 'nova-conductor', 'cinder-api', 'cinder-scheduler', 'cinder-volume', 'neutron-server', 'neutron-openvswitch-agent', 'heat-api', 'heat-engine'].includes(p.name)));
    let moved = 0;
    for (const c of clients) {
      const log = await h.lines(c.host, `${c.name}.log`);
      const unreachable = log.findIndex((l) => l.includes('AMQP server on controller-1:5672 is unreachable'));
      if (unreachable < 0) continue;
      moved += 1;
      expect(log[unreachable]).toMatch(
        new RegExp(`^2026-11-24 17:00:00\\.000 ${c.pid} ERROR oslo\\.messaging\\._drivers\\.impl_rabbit \\[-\\] \\[([0-9a-f-]{36})\\] AMQP server on controller-1:5672 is unreachable: \\(0, 0\\): \\(320\\) CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'\\. Trying again in 1 seconds\\.$`),
      );
      expect(log[unreachable + 1]).toMatch(/INFO oslo\.messaging\._drivers\.impl_rabbit \[-\] \[[0-9a-f-]{36}\] Reconnected to AMQP server on controller-[23]:5672 via \[amqp\] client with port \d+\.$/);
    }
    // About a third of the clients were on controller-1; none of the others noticed.
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(clients.length);
    expect(h.deployment.messagingStatus()).toEqual({ brokers: ['controller-2', 'controller-3'], disconnectedClients: 0 });

    await h.deployment.apply({ action: 'kill', host: 'controller-2', process: 'rabbitmq-server' });
    await h.deployment.apply({ action: 'kill', host: 'controller-3', process: 'rabbitmq-server' });
    expect(h.deployment.messagingStatus()).toEqual({ brokers: [], disconnectedClients: clients.length });
    expect(health(h, 'rabbitmq-server')).toMatchObject({ running: 0, status: 'down' });
    const compute = await h.lines('compute-2', 'nova-compute.log');
    expect(compute.at(-1)).toMatch(/AMQP server on controller-[23]:5672 is unreachable: \[Errno 104\] Connection reset by peer\. Trying again in 1 seconds\.$/);

    await h.deployment.apply({ action: 'start', host: 'controller-1', process: 'rabbitmq-server' });
    expect(h.deployment.messagingStatus()).toEqual({ brokers: ['controller-1'], disconnectedClients: 0 });
    expect((await h.lines('compute-2', 'nova-compute.log')).at(-1)).toMatch(/Reconnected to AMQP server on controller-1:5672/);
  });

  it('a client crashing shows on its broker as a connection closed abruptly', async () => {
    const h = await deploymentHarness();
    const brokersBefore = await Promise.all(['controller-1', 'controller-2', 'controller-3'].map((c) => h.lines(c, `rabbit@${c}.log`)));
    const pid = proc(h, 'compute-1', 'nova-compute').pid;
    await h.deployment.apply({ action: 'kill', host: 'compute-1', process: 'nova-compute' });
    const added = (await Promise.all(['controller-1', 'controller-2', 'controller-3'].map((c) => h.lines(c, `rabbit@${c}.log`)))).flatMap((l, i) => l.slice((brokersBefore[i] as string[]).length));
    expect(added).toHaveLength(2);
    expect(added[0]).toMatch(
      new RegExp(`^2026-11-24 17:00:00\\.000000\\+00:00 \\[warning\\] <0\\.\\d+\\.0> closing AMQP connection <0\\.\\d+\\.0> \\(compute-1:\\d+ -> controller-\\d:5672 - nova-compute:${pid}:[0-9a-f-]{36}, vhost: '/', user: 'openstack'\\):$`),
    );
    expect(added[1]).toMatch(/\[warning\] <0\.\d+\.0> client unexpectedly closed TCP connection$/);
    // nova-compute down: Nova hears of it.
    expect(h.computeStates.at(-1)).toEqual(['compute-1', 'down']);
    await h.deployment.apply({ action: 'start', host: 'compute-1', process: 'nova-compute' });
    expect(h.computeStates.at(-1)).toEqual(['compute-1', 'up']);
  });

  it('fail-host and recover-host: everything on the host dies silently and boots back', async () => {
    const h = await deploymentHarness();
    await h.deployment.apply({ action: 'stop', host: 'compute-2', process: 'neutron-openvswitch-agent' });
    const before = await h.lines('compute-2', 'nova-compute.log');
    h.clock.advance(1000);
    const failed = await h.deployment.apply({ action: 'fail-host', host: 'compute-2' }, ALICE);
    expect(failed.changes.map((c) => `${c.process}:${c.from}->${c.to}`)).toEqual(['libvirtd:running->killed', 'nova-compute:running->killed']);
    const host = h.deployment.hosts().find((x) => x.name === 'compute-2');
    expect(host).toMatchObject({ state: 'down', changedAt: '2026-11-24T17:00:01.000Z' });
    expect(host?.processes.map((p) => `${p.name}:${p.state}:${p.downReason}`)).toEqual(['libvirtd:killed:host-failure', 'nova-compute:killed:host-failure', 'neutron-openvswitch-agent:stopped:stop']);
    expect(await h.lines('compute-2', 'nova-compute.log')).toEqual(before);
    expect(h.computeStates.at(-1)).toEqual(['compute-2', 'down']);
    expect(health(h, 'nova-compute')).toMatchObject({ expected: 2, running: 1, status: 'degraded' });

    h.clock.advance(1000);
    const recovered = await h.deployment.apply({ action: 'recover-host', host: 'compute-2' });
    expect(recovered.changes.map((c) => `${c.process}:${c.from}->${c.to}`)).toEqual(['libvirtd:killed->running', 'nova-compute:killed->running', 'neutron-openvswitch-agent:stopped->running']);
    expect(h.computeStates.at(-1)).toEqual(['compute-2', 'up']);
    expect((await h.lines('compute-2', 'nova-compute.log')).at(-1)).toBe(`2026-11-24 17:00:02.000 ${proc(h, 'compute-2', 'nova-compute').pid} INFO nova.service [-] Starting compute node (version 27.1.0)`);
  });

  it('fail-host of a controller: HA holds, haproxy reports timeouts, clients and Galera move on', async () => {
    const h = await deploymentHarness();
    await h.deployment.apply({ action: 'fail-host', host: 'controller-1' });
    expect(h.deployment.serviceHealth().filter((s) => s.role === 'controller').every((s) => s.running === 2 && s.status === 'degraded')).toBe(true);
    expect(h.deployment.databaseStatus()).toMatchObject({ available: true, running: 2 });
    const lb = await h.lines('controller-2', 'haproxy.log');
    expect(lb).toContain(`Nov 24 17:00:00 controller-2 haproxy[${proc(h, 'controller-2', 'haproxy').pid}]: Server nova_api_back/controller-1 is DOWN, reason: Layer4 timeout, check duration: 2001ms. 2 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`);
    expect(lb.some((l) => l.includes('Server mariadb/controller-1 is DOWN'))).toBe(true);
    const broker = (await h.lines('controller-2', 'rabbit@controller-2.log')).map((l) => l.slice(33));
    const down = broker.indexOf('[info] <0.512.0> rabbit on node rabbit@controller-1 down');
    expect(broker[down + 1]).toBe('[info] <0.512.0> node rabbit@controller-1 down: connection_closed');
    // The dead host's clients never closed their connections: the broker times them out.
    expect(broker.slice(down + 2).filter((l) => l.startsWith('[error]'))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^\[error\] <0\.\d+\.0> closing AMQP connection <0\.\d+\.0> \(controller-1:\d+ -> controller-2:5672 - [a-z-]+:\d+:[0-9a-f-]{36}, vhost: '\/', user: 'openstack'\):$/), expect.stringMatching(/missed heartbeats from client, timeout: 60s$/)]),
    );
    expect(h.deployment.messagingStatus().disconnectedClients).toBe(0);
  });
});

describe('trail, notification and persistence', () => {
  it('who restarted MySQL at 5pm: the trail, the CADF notification and the log agree', async () => {
    const h = await deploymentHarness();
    const record = await h.deployment.apply({ action: 'restart', host: 'controller-2', process: 'mysqld' }, ALICE);
    expect(h.deployment.faults({ host: 'controller-2' })).toEqual([record]);
    expect(record).toMatchObject({ at: NOW_ISO, action: 'restart', host: 'controller-2', process: 'mysqld', latencyMs: null, actor: ALICE });

    await until(() => h.notifications.length === 1, 'the fault notification');
    const [n] = h.notifications;
    expect(n).toMatchObject({ exchange: 'cumulus', routingKey: 'notifications.info', message: { event_type: 'cloud.fault.restart', publisher_id: 'cloud-admin', priority: 'INFO', _context_user_id: 'u-alice', _context_project_id: 'p-admin' } });
    expect(n?.message.payload).toMatchObject({
      typeURI: 'http://schemas.dmtf.org/cloud/audit/1.0/event',
      eventType: 'activity',
      eventTime: '2026-11-24T17:00:00.000000+0000',
      action: 'start/restart',
      outcome: 'success',
      initiator: { id: 'u-alice', typeURI: 'service/security/account/user', name: 'alice', project_id: 'p-admin', host: { address: '10.0.0.5' } },
      target: { typeURI: 'service/database', name: 'mysqld@controller-2' },
      observer: { typeURI: 'service/oss', name: 'cloud-admin' },
      fault: { id: record.id, action: 'restart', host: 'controller-2', process: 'mysqld' },
    });
    const log = await h.lines('controller-2', 'mysqld.log');
    const shutdown = log.indexOf(`${STAMP} 0 [Note] /usr/sbin/mariadbd (initiated by: unknown): Normal shutdown`);
    expect(shutdown).toBeGreaterThan(0);
    expect(log[shutdown + 5]).toBe(`${STAMP} 0 [Note] Starting MariaDB 10.11.6-MariaDB-0+deb12u1 source revision 8e2b9cdf8a8a5ec0e6a7ad9e5b3aab7b9a8a6b3d as process ${proc(h, 'controller-2', 'mysqld').pid}`);
  });

  it('survives a platform restart: states, pids of daemons, restart counts, Galera and the trail; no boot lines again', async () => {
    const h = await deploymentHarness();
    await h.deployment.apply({ action: 'restart', host: 'controller-1', process: 'mysqld' });
    await h.deployment.apply({ action: 'kill', host: 'controller-2', process: 'mysqld' });
    await h.deployment.apply({ action: 'kill', host: 'controller-3', process: 'mysqld' });
    await h.deployment.apply({ action: 'slow', host: 'controller-2', process: 'nova-api', latencyMs: 200 });
    await h.deployment.apply({ action: 'fail-host', host: 'compute-1' });
    const before = h.deployment.hosts();
    const healthBefore = h.deployment.serviceHealth();
    const mysqlLog = await h.lines('controller-1', 'mysqld.log');
    const statesBefore = h.computeStates.length;

    const again = await h.restart();
    const after = again.hosts();
    const strip = (hosts: typeof before, oslo: boolean) => hosts.map((x) => ({ ...x, processes: x.processes.map((p) => (oslo ? { ...p, pid: null } : p)) }));
    expect(strip(after, true)).toEqual(strip(before, true));
    // Daemons keep their pids exactly; oslo processes take the pid the new writer stamps.
    expect(after[0]?.processes.find((p) => p.name === 'mysqld')?.pid).toBe(before[0]?.processes.find((p) => p.name === 'mysqld')?.pid);
    expect(again.process('controller-1', 'mysqld')?.restartCount).toBe(1);
    expect(again.serviceHealth()).toEqual(healthBefore);
    expect(again.databaseStatus()).toMatchObject({ available: false, primary: false, running: 1 });
    expect(again.faults().map((f) => f.action)).toEqual(['fail-host', 'slow', 'kill', 'kill', 'restart']);
    expect(await h.lines('controller-1', 'mysqld.log')).toEqual(mysqlLog);
    // Nova is told the persisted state again.
    expect(h.computeStates.slice(statesBefore)).toEqual([['compute-1', 'down'], ['compute-2', 'up']]);
    const api = again.process('controller-1', 'nova-api') as DeployedProcess;
    expect(api.pid).toBe(h.writer.pidOf('controller-1', 'nova-api'));
    // And operations go on from there.
    await again.apply({ action: 'start', host: 'controller-2', process: 'mysqld' });
    expect(again.databaseStatus()).toMatchObject({ available: true, running: 2 });
  });
});

describe('config', () => {
  it('refuses bad host lists naming the key, and fills the defaults', () => {
    expect(resolveDeploymentConfig({ computeHosts: ['compute-1'] })).toEqual({ controllers: ['controller-1', 'controller-2', 'controller-3'], computeHosts: ['compute-1'], storageHosts: ['storage-1'], internalVip: 'controller' });
    expect(() => resolveDeploymentConfig({ computeHosts: ['../etc'] })).toThrow(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID', message: expect.stringContaining('deployment.computeHosts entries must be host names') }));
    expect(() => resolveDeploymentConfig({ controllers: [], computeHosts: [] })).toThrow(/deployment.controllers must be a list of at least 1/);
    expect(() => resolveDeploymentConfig({ computeHosts: ['controller-1'] })).toThrow(/deployment host "controller-1" appears twice/);
    expect(() => resolveDeploymentConfig({ computeHosts: [], internalVip: 'a b' })).toThrow(/deployment.internalVip/);
  });

  it('is safe to stop before start, refuses faults before start, and leaves the gate open', async () => {
    const h = await deploymentHarness();
    const fresh = createDeployment({ computeHosts: [] }, { db: h.db, clock: h.clock, notifier: new Notifier(h.bus, h.clock), logger: silentLogger() });
    expect(fresh.route('nova-api')).toEqual({ kind: 'served', host: '', latencyMs: 0 });
    await expect(fresh.apply({ action: 'stop', host: 'controller-1', process: 'mysqld' })).rejects.toMatchObject({ code: 'CUMULUS_DEPLOYMENT_NOT_STARTED' });
    await fresh.stop();
    await fresh.stop();
  });
});
