import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessBus, ManualClock, deriveId, migrateState, openStateDatabase, silentLogger, type BusDelivery, type LogRecord } from '../core/index.ts';
import { emitIdentityAuthenticate, emitIdentityResourceChange, registerAuditMiddleware } from '../cloud/audit/index.ts';
import { KeystoneService } from '../cloud/keystone/service.ts';
import { createServiceLogWriter } from '../cloud/logs/index.ts';
import { Notifier } from '../cloud/notifier.ts';
import { contextFromRequest } from '../cloud/request-context.ts';
import { CLOUD_MIGRATIONS } from '../cloud/state.ts';
import { toAuditRecord } from '../collectors/audit/index.ts';
import { createLogTailer, logRecordId } from '../collectors/logs/index.ts';
import { openEnvelope } from '../collectors/notifications/envelope.ts';

/**
 * Cross-stage: what cloud/audit and cloud/logs emit, live, read by collectors/audit and
 * collectors/logs (the unit tests beside those use captured copies; this keeps the two honest).
 */
const NOW = new Date('2026-01-01T10:00:00.123Z');

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('CADF from cloud/audit into AuditRecords', () => {
  const clock = new ManualClock(NOW);
  const db = openStateDatabase(':memory:');
  const bus = new InProcessBus(silentLogger());
  const deliveries: BusDelivery[] = [];
  const app = Fastify({ genReqId: () => `req-${crypto.randomUUID()}` });
  let keystone: KeystoneService;
  let token: string;
  let user: { id: string };
  let project: { id: string };
  let notifier: Notifier;

  beforeAll(async () => {
    migrateState(db, 'cloud', CLOUD_MIGRATIONS);
    keystone = new KeystoneService(db, clock, 3_600_000);
    keystone.bootstrap('admin-password-1');
    project = keystone.createProject({ name: 'alice-project' });
    user = keystone.createUser({ name: 'alice', password: 'alice-password-1', defaultProjectId: project.id });
    keystone.assignProjectRole(user.id, project.id, 'member');
    token = keystone.authenticate({ identity: { methods: ['password'], password: { user: { name: 'alice', domain: { id: 'default' }, password: 'alice-password-1' } } }, scope: { project: { id: project.id } } }).id;
    await bus.start();
    await bus.subscribe(
      { queue: 'audit-capture', bindings: [{ exchange: 'nova', routingKey: 'notifications.*' }, { exchange: 'keystone', routingKey: 'notifications.*' }], batchSize: 100, batchWaitMs: 1 },
      { consume: async (batch) => void deliveries.push(...batch) },
    );
    notifier = new Notifier(bus, clock);
    registerAuditMiddleware(app, { notifier, keystone, clock, observers: [{ prefix: '/compute', service: 'compute', name: 'nova', exchange: 'nova' }], publicUrl: 'http://cloud.test:8000' });
    app.register(
      async (compute) => {
        compute.addHook('preHandler', async (request) => {
          request.cloudContext = contextFromRequest(keystone, request);
        });
        compute.setErrorHandler((err, _request, reply) => reply.code((err as { httpStatus?: number }).httpStatus ?? 500).send({ error: (err as Error).message }));
        compute.get('/v2.1/servers/:id', async (_request, reply) => reply.code(404).send({ itemNotFound: { code: 404 } }));
      },
      { prefix: '/compute' },
    );
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    await bus.stop();
    db.close();
  });

  it("maps the audit filter's request and response events field by field", async () => {
    const before = deliveries.length;
    const serverId = '6a1e4c1b-2f7d-4b8e-9c3a-5d6e7f8a9b0c';
    await app.inject({ method: 'GET', url: `/compute/v2.1/servers/${serverId}`, remoteAddress: '203.0.113.7', headers: { 'x-auth-token': token, 'user-agent': 'python-novaclient' } });
    await until(() => deliveries.length >= before + 2, 'two audit notifications');
    const [request, response] = deliveries.slice(before).map((d) => openEnvelope(d.body));
    if (!request || !response) throw new Error('the audit filter sends two notifications');
    const cadfId = (request.payload as { id: string }).id;
    const requestId = (request.payload as { initiator: { request_id: string } }).initiator.request_id;
    const common = {
      action: 'read',
      type_uri: 'http://schemas.dmtf.org/cloud/audit/1.0/event',
      event_time: '2026-01-01T10:00:00.123000+00:00',
      initiator_id: user.id,
      initiator_type: 'service/security/account/user',
      initiator_name: 'alice',
      project_id: project.id,
      initiator_address: '203.0.113.7',
      initiator_agent: 'python-novaclient',
      target_id: serverId,
      target_type: 'service/compute/servers/server',
      observer_id: 'target',
      observer_type: 'unknown',
      target_address: 'http://cloud.test:8000/compute/v2.1',
      request_id: requestId,
    };
    expect(toAuditRecord(request)).toEqual({ ...common, id: deriveId('audit', cadfId, 'pending'), outcome: 'pending', event_type: 'audit.http.request', reason_code: null, raw: request.payload });
    expect(toAuditRecord(response)).toEqual({ ...common, id: deriveId('audit', cadfId, 'failure'), outcome: 'failure', event_type: 'audit.http.response', reason_code: '404', raw: response.payload });
  });

  it("maps Keystone's identity.authenticate failure and a CADF identity.project.created; ignores the basic format", async () => {
    const before = deliveries.length;
    const options = { clock, publisherId: 'identity.controller-1' };
    await emitIdentityAuthenticate(notifier, { outcome: 'failure', user: null, named: { userName: 'mallory', domainId: 'default' }, request: { requestId: 'req-1', address: '203.0.113.66', agent: 'curl/8' } }, options);
    await emitIdentityResourceChange(notifier, { operation: 'created', resourceType: 'project', resourceId: project.id, request: { requestId: 'req-2', address: '10.0.0.5', agent: 'curl/8', caller: { userId: user.id, userName: 'alice', projectId: project.id, domainId: 'default' } } }, { ...options, format: 'cadf' });
    await emitIdentityResourceChange(notifier, { operation: 'created', resourceType: 'project', resourceId: project.id }, options);
    await until(() => deliveries.length >= before + 3, 'three identity notifications');
    const [login, created, basic] = deliveries.slice(before).map((d) => toAuditRecord(openEnvelope(d.body)));
    expect(login).toMatchObject({ event_type: 'identity.authenticate', action: 'authenticate', outcome: 'failure', initiator_name: 'mallory', initiator_address: '203.0.113.66', reason_code: '404', request_id: 'req-1' });
    expect(created).toMatchObject({ event_type: 'identity.project.created', action: 'created.project', target_id: project.id, target_type: 'data/security/project', initiator_id: user.id, request_id: 'req-2' });
    expect(basic).toBeNull();
  });
});

describe('service logs from cloud/logs into LogRecords', () => {
  const root = mkdtempSync(join(tmpdir(), 'cumulus-capture-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it.each([true, false])('tails what the ServiceLogWriter writes (globalRequestId %s), field by field', async (globalRequestId) => {
    const directory = join(root, `logs-${globalRequestId}`);
    const clock = new ManualClock(new Date('2026-11-24T17:00:01.098Z'));
    const writer = createServiceLogWriter({ directory, apiHost: 'controller-1', globalRequestId }, { clock });
    await writer.start();
    const taken: LogRecord[] = [];
    const tailer = createLogTailer({ directory, statePath: join(root, `offsets-${globalRequestId}.json`), pollIntervalMs: 3_600_000, flushIntervalMs: 0 }, { consumer: { consume: async (batch) => void taken.push(...batch) }, logger: silentLogger() });
    await tailer.start();
    const context = { requestId: 'req-2b6c3f9e-8a41-4d7b-9e0c-5f1a2b3c4d5e', userId: 'u1', projectId: 'p1', domainId: 'default' };
    const lines = [
      writer.serviceStarted('compute-1', 'nova-compute', '27.1.0')[0] as string,
      writer.write({ host: 'compute-1', service: 'nova-compute', level: 'WARNING', logger: 'nova.compute.manager', message: 'Instance spawned slowly', context, instance: 'a5b6' }),
    ];
    await writer.flush();
    await tailer.poll();
    clock.advance(1);
    lines.push(writer.write({ host: 'compute-1', service: 'nova-compute', level: 'ERROR', logger: 'nova.compute.manager', message: 'Failed' }));
    await writer.flush();
    await tailer.stop();
    await writer.stop();
    const pid = writer.pidOf('compute-1', 'nova-compute');
    let offset = 0;
    const ids = lines.map((l) => {
      const id = logRecordId('compute-1', 'nova-compute.log', offset, l);
      offset += Buffer.byteLength(l) + 1;
      return id;
    });
    const base = { service: 'nova-compute', host: 'compute-1', pid, logger: 'nova.compute.manager' };
    expect(taken).toEqual([
      { ...base, id: ids[0], timestamp: '2026-11-24T17:00:01.098+00:00', level: 'INFO', logger: 'nova.service', request_id: null, user_id: null, project_id: null, message: 'Starting compute node (version 27.1.0)' },
      { ...base, id: ids[1], timestamp: '2026-11-24T17:00:01.098+00:00', level: 'WARNING', request_id: context.requestId, user_id: 'u1', project_id: 'p1', message: '[instance: a5b6] Instance spawned slowly' },
      { ...base, id: ids[2], timestamp: '2026-11-24T17:00:01.099+00:00', level: 'ERROR', request_id: null, user_id: null, project_id: null, message: 'Failed' },
    ]);
  });
});
