import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessBus, ManualClock, openStateDatabase, silentLogger, type BusConsumerHandle, type StateDatabase } from '../../core/index.ts';
import { createCloud, type Cloud } from '../index.ts';
import { createServiceLogWriter, registerAccessLog, type ServiceLogWriter } from '../logs/index.ts';
import { Notifier } from '../notifier.ts';
import { registerAuditMiddleware } from './index.ts';

const NOW = new Date('2026-01-02T03:04:05.678Z');
const PUBLIC_URL = 'http://cloud.test:8000';

type Json = Record<string, any>;

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/**
 * The wiring proposed for cloud/index.ts, tried on the real control plane: the audit
 * filter and the access log in front of the real Keystone and Nova routes.
 */
describe('audit and access log in front of the real Keystone and Nova', () => {
  let db: StateDatabase;
  let bus: InProcessBus;
  let cloud: Cloud;
  let app: FastifyInstance;
  let writer: ServiceLogWriter;
  let root: string;
  let handle: BusConsumerHandle;
  const published: Array<{ raw: string; message: Json }> = [];

  beforeAll(async () => {
    db = openStateDatabase(':memory:');
    bus = new InProcessBus(silentLogger());
    await bus.start();
    handle = await bus.subscribe(
      { queue: 'wiring-test', bindings: [{ exchange: 'nova', routingKey: 'notifications.#' }], batchSize: 100, batchWaitMs: 1 },
      {
        consume: async (batch) => {
          for (const d of batch) {
            const raw = d.body.toString('utf8');
            published.push({ raw, message: JSON.parse((JSON.parse(raw) as { 'oslo.message': string })['oslo.message']) });
          }
        },
      },
    );
    const clock = new ManualClock(NOW);
    cloud = createCloud(
      { publicUrl: PUBLIC_URL, region: 'RegionOne', adminPassword: 'admin-password-1', tokenTtlMs: 3_600_000, buildDelayMs: 5, computeHosts: [{ name: 'compute-1', availabilityZone: 'nova', vcpus: 8, memoryMb: 16384, diskGb: 200 }] },
      { db, bus, clock, logger: silentLogger() },
    );
    await cloud.start();
    root = mkdtempSync(join(tmpdir(), 'cumulus-wiring-'));
    writer = createServiceLogWriter({ directory: join(root, 'logs'), apiHost: 'controller' }, { clock });
    await writer.start();

    app = Fastify({ genReqId: () => `req-${crypto.randomUUID()}` });
    registerAuditMiddleware(app, { notifier: new Notifier(bus, clock), keystone: cloud.keystone, clock, publicUrl: PUBLIC_URL, observers: [{ prefix: '/compute', service: 'compute', name: 'nova', exchange: 'nova' }] });
    registerAccessLog(app, writer, [{ prefix: '/compute', name: 'nova' }]);
    cloud.register(app);
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    await cloud.stop();
    await writer.stop();
    await handle.close();
    await bus.stop();
    db.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('audits a real server create next to Nova’s own notifications, and logs its access line', async () => {
    const auth = await app.inject({
      method: 'POST',
      url: '/identity/v3/auth/tokens',
      payload: { auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: 'admin-password-1' } } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } },
    });
    const token = auth.headers['x-subject-token'] as string;
    await app.inject({ method: 'POST', url: '/compute/v2.1/flavors', headers: { 'x-auth-token': token }, payload: { flavor: { name: 'small', id: 'small', vcpus: 1, ram: 512, disk: 1 } } });
    const created = await app.inject({ method: 'POST', url: '/compute/v2.1/servers', remoteAddress: '203.0.113.7', headers: { 'x-auth-token': token, 'user-agent': 'openstacksdk' }, payload: { server: { name: 'web-1', flavorRef: 'small', imageRef: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' } } });
    expect(created.statusCode).toBe(202);
    const serverId = (JSON.parse(created.body) as Json).server.id as string;
    await app.inject({ method: 'POST', url: `/compute/v2.1/servers/${serverId}/action`, headers: { 'x-auth-token': token }, payload: { 'os-stop': null } });

    await until(() => published.some((p) => p.message.event_type === 'compute.instance.create.start'), 'nova notification');
    await until(() => published.filter((p) => p.message.event_type.startsWith('audit.http.')).length >= 6, 'audit events');
    const audits = published.filter((p) => p.message.event_type.startsWith('audit.http.')).map((p) => p.message);
    const create = audits.filter((m) => m.payload.requestPath === '/compute/v2.1/servers');
    expect(create.map((m) => [m.event_type, m.payload.action, m.payload.outcome, m.payload.reason?.reasonCode])).toEqual([
      ['audit.http.request', 'create', 'pending', undefined],
      ['audit.http.response', 'create', 'success', '202'],
    ]);
    expect(create[1]?.payload).toMatchObject({ initiator: { name: 'admin', host: { address: '203.0.113.7', agent: 'openstacksdk' }, credential: { identity_status: 'Confirmed' } }, target: { typeURI: 'service/compute/servers' } });
    // Audited whatever Nova answers (a 404 while it has no action route): the action comes from the body.
    const action = audits.filter((m) => m.payload.requestPath.endsWith('/action'));
    expect(action.map((m) => [m.payload.action, m.payload.target.id, m.payload.target.typeURI])).toEqual([
      ['update/os-stop', serverId, 'service/compute/servers/server/action'],
      ['update/os-stop', serverId, 'service/compute/servers/server/action'],
    ]);
    for (const p of published) expect(p.raw).not.toContain(token);

    await writer.flush();
    const log = readFileSync(join(root, 'logs', 'controller', 'nova-api.log'), 'utf8');
    expect(log).toMatch(/INFO nova\.osapi_compute\.wsgi\.server \[None req-[0-9a-f-]{36} [0-9a-f]{32} [0-9a-f]{32} - - default default\] 203\.0\.113\.7 "POST \/v2\.1\/servers HTTP\/1\.1" status: 202 len: \d+ time: \d+\.\d{7}\n/);
  });
});
