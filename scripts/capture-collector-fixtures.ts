/**
 * Captures what the real cloud/audit and cloud/logs code emits, as fixtures for the
 * collectors' unit tests (collectors/ may not import cloud/). Run: npx tsx scripts/capture-collector-fixtures.ts
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { InProcessBus, ManualClock, migrateState, openStateDatabase, silentLogger } from '../core/index.ts';
import { KeystoneService } from '../cloud/keystone/service.ts';
import { Notifier } from '../cloud/notifier.ts';
import { contextFromRequest } from '../cloud/request-context.ts';
import { CLOUD_MIGRATIONS } from '../cloud/state.ts';
import { registerAuditMiddleware, emitIdentityAuthenticate, emitIdentityResourceChange, emitProjectCreated, emitUserCreated } from '../cloud/audit/index.ts';
import { createServiceLogWriter } from '../cloud/logs/index.ts';
import * as deployment from '../cloud/deployment/log-lines.ts';
import { FAULT_EXCHANGE, FAULT_PUBLISHER_ID, faultCadfEvent, faultContext, faultEventType } from '../cloud/deployment/notifications.ts';
import type { FaultRecord } from '../cloud/deployment/model.ts';

const NOW = new Date('2026-01-01T10:00:00.123Z');
const SERVER_ID = '6a1e4c1b-2f7d-4b8e-9c3a-5d6e7f8a9b0c';

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function audit() {
  const db = openStateDatabase(':memory:');
  migrateState(db, 'cloud', CLOUD_MIGRATIONS);
  const clock = new ManualClock(NOW);
  const keystone = new KeystoneService(db, clock, 3_600_000);
  keystone.bootstrap('admin-password-1');
  const project = keystone.createProject({ name: 'alice-project' });
  const user = keystone.createUser({ name: 'alice', password: 'alice-password-1', defaultProjectId: project.id });
  keystone.assignProjectRole(user.id, project.id, 'member');
  const token = keystone.authenticate({ identity: { methods: ['password'], password: { user: { name: 'alice', domain: { id: 'default' }, password: 'alice-password-1' } } }, scope: { project: { id: project.id } } }).id;
  const bus = new InProcessBus(silentLogger());
  await bus.start();
  const published: Array<{ case: string; exchange: string; routing_key: string; body: string }> = [];
  let current = '';
  const handle = await bus.subscribe(
    { queue: 'capture', bindings: [{ exchange: 'nova', routingKey: 'notifications.#' }, { exchange: 'keystone', routingKey: 'notifications.#' }, { exchange: FAULT_EXCHANGE, routingKey: 'notifications.#' }], batchSize: 100, batchWaitMs: 1 },
    { consume: async (batch) => void batch.forEach((d) => published.push({ case: current, exchange: d.exchange, routing_key: d.routingKey, body: d.body.toString('utf8') })) },
  );
  const notifier = new Notifier(bus, clock);
  const app = Fastify({ genReqId: () => `req-${crypto.randomUUID()}` });
  registerAuditMiddleware(app, { notifier, keystone, clock, observers: [{ prefix: '/compute', service: 'compute', name: 'nova', exchange: 'nova' }], publicUrl: 'http://cloud.test:8000' });
  app.register(
    async (compute) => {
      compute.addHook('preHandler', async (request) => {
        request.cloudContext = contextFromRequest(keystone, request);
      });
      compute.setErrorHandler((err, _request, reply) => reply.code((err as { httpStatus?: number }).httpStatus ?? 500).send({ error: (err as Error).message }));
      compute.get('/v2.1/servers', async () => ({ servers: [] }));
      compute.get('/v2.1/servers/:id', async (_request, reply) => reply.code(404).send({ itemNotFound: { code: 404 } }));
      compute.post('/v2.1/servers/:id/action', async (_request, reply) => reply.code(202).send());
    },
    { prefix: '/compute' },
  );
  await app.ready();
  const step = async (name: string, count: number, run: () => Promise<unknown>) => {
    current = name;
    const before = published.length;
    await run();
    await until(() => published.length >= before + count);
    clock.advance(1000);
  };
  const headers = { 'x-auth-token': token, 'user-agent': 'python-novaclient' };
  await step('list-servers', 2, () => app.inject({ method: 'GET', url: '/compute/v2.1/servers?limit=5', remoteAddress: '203.0.113.7', headers }));
  await step('missing-server', 2, () => app.inject({ method: 'GET', url: `/compute/v2.1/servers/${SERVER_ID}`, remoteAddress: '203.0.113.7', headers }));
  await step('server-action', 2, () => app.inject({ method: 'POST', url: `/compute/v2.1/servers/${SERVER_ID}/action`, remoteAddress: '203.0.113.7', headers, payload: { 'os-stop': null } }));
  await step('no-token', 2, () => app.inject({ method: 'GET', url: '/compute/v2.1/servers', remoteAddress: '198.51.100.23', headers: { 'user-agent': 'curl/8.5.0' } }));
  const options = { clock, publisherId: 'identity.controller-1' };
  const request = (address: string) => ({ requestId: `req-${crypto.randomUUID()}`, address, agent: 'openstacksdk/4.0.0 keystoneauth1/5.6.0' });
  await step('login-success', 1, () => emitIdentityAuthenticate(notifier, { outcome: 'success', user: { id: user.id, name: 'alice' }, request: request('192.0.2.44') }, options));
  await step('login-wrong-password', 1, () => emitIdentityAuthenticate(notifier, { outcome: 'failure', user: { id: user.id, name: 'alice' }, request: request('198.51.100.99') }, options));
  await step('login-unknown-user', 1, () => emitIdentityAuthenticate(notifier, { outcome: 'failure', user: null, named: { userName: 'mallory', domainId: 'default' }, request: request('203.0.113.66') }, options));
  await step('project-created-cadf', 1, () =>
    emitIdentityResourceChange(notifier, { operation: 'created', resourceType: 'project', resourceId: project.id, request: { ...request('10.0.0.5'), caller: { userId: user.id, userName: 'alice', projectId: project.id, domainId: 'default' } } }, { ...options, format: 'cadf' }),
  );
  await step('project-created-basic', 1, () => emitProjectCreated(notifier, project.id, options));
  await step('user-created-basic', 1, () => emitUserCreated(notifier, user.id, options));
  // cloud/deployment's fault trail, as Deployment.announce publishes it.
  const fault = (record: FaultRecord) => notifier.notify({ exchange: FAULT_EXCHANGE, publisherId: FAULT_PUBLISHER_ID, eventType: faultEventType(record.action), priority: 'INFO', payload: faultCadfEvent(record), context: faultContext(record) });
  await step('fault-stop-api', 1, () =>
    fault({
      id: 'f-1',
      at: clock.now().toISOString(),
      action: 'stop',
      host: 'controller-2',
      process: 'mysqld',
      latencyMs: null,
      actor: { userId: user.id, userName: 'alice', projectId: project.id, projectName: 'alice-project', via: 'api', requestId: 'req-0f0e0d0c-0b0a-4909-8807-060504030201', remoteAddress: '192.0.2.10' },
      changes: [{ host: 'controller-2', process: 'mysqld', from: 'running', to: 'stopped', pid: null }],
    }),
  );
  await step('fault-fail-host-system', 1, () =>
    fault({ id: 'f-2', at: clock.now().toISOString(), action: 'fail-host', host: 'compute-2', process: null, latencyMs: null, actor: { userId: null, userName: null, projectId: null, projectName: null, via: 'system', requestId: null, remoteAddress: null }, changes: [] }),
  );
  await app.close();
  await handle.close();
  await bus.stop();
  db.close();
  return { source: 'cloud/audit (registerAuditMiddleware on fastify + InProcessBus, emitIdentity*) and cloud/deployment (faultCadfEvent through the Notifier), captured by scripts/capture-collector-fixtures.ts', user: { id: user.id, name: 'alice' }, project: { id: project.id }, server_id: SERVER_ID, notifications: published };
}

async function logs() {
  const directory = join(mkdtempSync(join(tmpdir(), 'capture-')), 'logs');
  const clock = new ManualClock(new Date('2026-11-24T17:00:01.098Z'));
  const lines: Array<Record<string, unknown>> = [];
  const context = { requestId: 'req-2b6c3f9e-8a41-4d7b-9e0c-5f1a2b3c4d5e', userId: '0a1b2c3d4e5f40718293a4b5c6d7e8f9', projectId: '9f8e7d6c5b4a49382716f5e4d3c2b1a0', domainId: 'default' };
  for (const globalRequestId of [true, false]) {
    const writer = createServiceLogWriter({ directory: `${directory}-${globalRequestId}`, apiHost: 'controller-1', globalRequestId }, { clock });
    await writer.start();
    const keep = (name: string, host: string, service: string, input: Record<string, unknown>, line: string) => lines.push({ case: name, globalRequestId, host, service, pid: writer.pidOf(host, service), input, line });
    const entries: Array<[string, Parameters<typeof writer.write>[0]]> = [
      ['context', { host: 'compute-1', service: 'nova-compute', level: 'INFO', logger: 'nova.compute.manager', message: 'Took 3.21 seconds to spawn the instance on the hypervisor.', context, instance: 'a5b6c7d8-0000-4000-8000-000000000001' }],
      ['no-context', { host: 'compute-1', service: 'nova-compute', level: 'WARNING', logger: 'nova.compute.resource_tracker', message: 'Instance a5b6c7d8 has been moved to another host.' }],
      ['debug', { host: 'controller-1', service: 'nova-scheduler', level: 'DEBUG', logger: 'nova.scheduler.manager', message: 'Starting to schedule for instances', context, source: { funcName: 'select_destinations', pathname: '/usr/lib/python3/dist-packages/nova/scheduler/manager.py', lineno: 141 } }],
      ['error', { host: 'controller-1', service: 'cinder-volume', level: 'ERROR', logger: 'oslo_db.sqlalchemy.engines', message: deployment.databaseLostLine('gone').message }],
      ['critical', { host: 'controller-1', service: 'heat-engine', level: 'CRITICAL', logger: 'heat.engine.service', message: 'Unhandled error', context: { ...context, globalRequestId: 'req-0f0e0d0c-0b0a-4909-8807-060504030201', userId: null, projectId: null, domainId: null } }],
    ];
    for (const [name, entry] of entries) keep(name, entry.host, entry.service, entry as unknown as Record<string, unknown>, writer.write(entry));
    const started = writer.serviceStarted('controller-1', 'nova-api', '27.1.0');
    keep('started', 'controller-1', 'nova-api', { level: 'INFO', logger: 'nova.wsgi', message: 'osapi_compute listening on 0.0.0.0:8774' }, started[0] as string);
    const access = writer.access('controller-1', 'nova-api', 'nova', { clientIp: '203.0.113.7', method: 'GET', uri: '/v2.1/servers?limit=5', httpVersion: '1.1', status: 200, length: 15, seconds: 0.0123456, time: clock.now() }, context);
    keep('access', 'controller-1', 'nova-api', { level: 'INFO', logger: 'nova.osapi_compute.wsgi.server', message: access.slice(access.indexOf('] ') + 2), context }, access);
    await writer.flush();
    // What the file holds is what the writer returned.
    for (const entry of lines.filter((l) => l.globalRequestId === globalRequestId)) {
      const file = readFileSync(join(`${directory}-${globalRequestId}`, entry.host as string, `${entry.service as string}.log`), 'utf8');
      if (!file.includes(`${entry.line as string}\n`)) throw new Error(`line not in file: ${entry.line as string}`);
    }
    await writer.stop();
  }
  const t = new Date('2026-11-24T17:00:01.000Z');
  const daemons = {
    mysqld: [...deployment.mariadbStartingMessages(4242, { clusterUuid: '8f2d5a7e-1b3c-11ef-9a0b-0242ac120002', seqno: 17 }, true).map(([level, m]) => deployment.mariadbLine(t, level, m)), deployment.mariadbLine(t, 'Warning', 'Aborted connection 12 to db: \'nova\' user: \'nova\' host: \'10.0.0.11\' (Got an error reading communication packets)'), deployment.mariadbLine(t, 'ERROR', 'WSREP: failed to open gcomm backend connection: 110: failed to reach primary view'), ...deployment.mariadbReadyLines(t)],
    rabbitmq: [
      ...deployment.rabbitStartLines(t, true),
      ...deployment.rabbitConnectionClosedLines(t, { erlangPid: '0.1234.0', clientHost: '10.0.0.21', clientPort: 53422, brokerHost: '10.0.0.11', name: 'nova-compute:2211:0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5', uuid: '0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5' }, 'kill'),
      ...deployment.rabbitConnectionClosedLines(t, { erlangPid: '0.1240.0', clientHost: '10.0.0.22', clientPort: 53423, brokerHost: '10.0.0.11', name: 'nova-compute:2212:1c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5', uuid: '1c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5' }, 'host-failure'),
    ],
    haproxy: [deployment.haproxyLine(t, 'controller-1', 812, deployment.haproxyServerDown('nova_api', 'controller-2', false, 2)), deployment.haproxyLine(new Date('2026-11-04T07:08:09.000Z'), 'controller-1', 812, deployment.haproxyNoServer('nova_api'))],
  };
  return { source: 'cloud/logs (ServiceLogWriter, both globalRequestId forms) and cloud/deployment/log-lines.ts, captured by scripts/capture-collector-fixtures.ts', oslo: lines, daemons };
}

const auditOut = process.argv[2] as string;
const logsOut = process.argv[3] as string;
writeFileSync(auditOut, `${JSON.stringify(await audit(), null, 2)}\n`);
writeFileSync(logsOut, `${JSON.stringify(await logs(), null, 2)}\n`);
