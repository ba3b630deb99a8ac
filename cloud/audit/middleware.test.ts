import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InProcessBus,
  ManualClock,
  TelemetryRegistry,
  deriveId,
  migrateState,
  openStateDatabase,
  silentLogger,
  type Bus,
  type BusConsumerHandle,
  type StateDatabase,
} from '../../core/index.ts';
import { KeystoneService } from '../keystone/service.ts';
import { Notifier } from '../notifier.ts';
import { contextFromRequest } from '../request-context.ts';
import { CLOUD_MIGRATIONS } from '../state.ts';
import { registerAuditMiddleware, type AuditObserver } from './middleware.ts';

const NOW = new Date('2026-01-01T10:00:00.123Z');
const PUBLIC_URL = 'http://cloud.test:8000';
const SERVER_ID = '6a1e4c1b-2f7d-4b8e-9c3a-5d6e7f8a9b0c';
const COMPUTE: AuditObserver = { prefix: '/compute', service: 'compute', name: 'nova', exchange: 'nova' };

type Json = Record<string, any>;

interface Published {
  exchange: string;
  routingKey: string;
  raw: string;
  message: Json & { event_type: string; payload: Json };
}

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A fastify app with fake Nova routes behind the audit middleware, a real Keystone and an in-process bus. */
async function harness(options: { observers?: AuditObserver[]; targetIds?: 'resource' | 'service-name'; ignoreMethods?: string[]; bus?: Bus } = {}) {
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
  const published: Published[] = [];
  const handle: BusConsumerHandle = await bus.subscribe(
    { queue: 'audit-test', bindings: [{ exchange: 'nova', routingKey: 'notifications.#' }, { exchange: 'keystone', routingKey: 'notifications.#' }], batchSize: 100, batchWaitMs: 1 },
    {
      consume: async (batch) => {
        for (const delivery of batch) {
          const raw = delivery.body.toString('utf8');
          const envelope = JSON.parse(raw) as { 'oslo.message': string };
          published.push({ exchange: delivery.exchange, routingKey: delivery.routingKey, raw, message: JSON.parse(envelope['oslo.message']) });
        }
      },
    },
  );
  const telemetry = new TelemetryRegistry().component('cloud.audit');
  const notifier = new Notifier(options.bus ?? bus, clock);

  const app: FastifyInstance = Fastify({ genReqId: () => `req-${crypto.randomUUID()}` });
  registerAuditMiddleware(app, {
    notifier,
    keystone,
    clock,
    observers: options.observers ?? [COMPUTE],
    publicUrl: `${PUBLIC_URL}/`,
    targetIds: options.targetIds,
    ignoreMethods: options.ignoreMethods,
    telemetry,
  });
  app.register(
    async (compute) => {
      compute.setErrorHandler((err, _request, reply) => reply.code((err as { statusCode?: number; httpStatus?: number }).httpStatus ?? (err as { statusCode?: number }).statusCode ?? 500).send({ error: (err as Error).message }));
      compute.addHook('preHandler', async (request) => {
        request.cloudContext = contextFromRequest(keystone, request);
      });
      compute.get('/v2.1/servers', async () => ({ servers: [] }));
      compute.post('/v2.1/servers', async (_request, reply) => reply.code(202).send({ server: { id: SERVER_ID, adminPass: 'do-not-leak-this' } }));
      compute.get('/v2.1/servers/:id', async (request, reply) => reply.code(404).send({ itemNotFound: { code: 404, message: `Instance ${(request.params as { id: string }).id} could not be found.` } }));
      compute.post('/v2.1/servers/:id/action', async (_request, reply) => reply.code(202).send());
    },
    { prefix: '/compute' },
  );
  app.get('/identity/v3', async () => ({ version: {} }));
  await app.ready();

  const send = async (method: 'GET' | 'POST', url: string, extra: { payload?: unknown; headers?: Record<string, string>; remoteAddress?: string; authenticated?: boolean } = {}) => {
    const before = published.length;
    const response = await app.inject({
      method,
      url,
      remoteAddress: extra.remoteAddress ?? '203.0.113.7',
      headers: { ...(extra.authenticated === false ? {} : { 'x-auth-token': token }), 'user-agent': 'python-novaclient', ...extra.headers },
      ...(extra.payload !== undefined ? { payload: extra.payload as Json } : {}),
    });
    return { response, before };
  };
  const eventsAfter = async (before: number, count = 2) => {
    await until(() => published.length >= before + count, `${count} notifications`);
    return published.slice(before, before + count);
  };
  const close = async () => {
    await app.close();
    await handle.close();
    await bus.stop();
    db.close();
  };
  return { app, keystone, token, user, project, published, send, eventsAfter, telemetry, close, clock };
}

describe('registerAuditMiddleware: keystonemiddleware audit events', () => {
  let h: Awaited<ReturnType<typeof harness>>;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('emits audit.http.request then audit.http.response for a list: read/list, pending then success, reason 200', async () => {
    const { response, before } = await h.send('GET', '/compute/v2.1/servers?limit=5');
    expect(response.statusCode).toBe(200);
    const [request, answer] = await h.eventsAfter(before);
    for (const p of [request, answer]) {
      expect(p?.exchange).toBe('nova');
      expect(p?.routingKey).toBe('notifications.info');
      expect(p?.message).toMatchObject({ publisher_id: 'nova', priority: 'INFO', _context_is_admin: true, _context_user_id: null });
    }
    expect(request?.message.event_type).toBe('audit.http.request');
    expect(answer?.message.event_type).toBe('audit.http.response');

    const sent = request?.message.payload as Json;
    const computeId = deriveId('service', 'compute');
    expect(sent).toEqual({
      typeURI: 'http://schemas.dmtf.org/cloud/audit/1.0/event',
      eventType: 'activity',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      eventTime: '2026-01-01T10:00:00.123000+0000',
      action: 'read/list',
      outcome: 'pending',
      observer: { id: 'target' },
      initiator: {
        id: h.user.id,
        typeURI: 'service/security/account/user',
        name: 'alice',
        credential: { token: expect.stringContaining(' xxxxxxxx '), identity_status: 'Confirmed' },
        host: { address: '203.0.113.7', agent: 'python-novaclient' },
        project_id: h.project.id,
        request_id: expect.stringMatching(/^req-/),
      },
      target: {
        id: computeId,
        typeURI: 'service/compute/servers',
        name: 'nova',
        addresses: [
          { url: `${PUBLIC_URL}/compute/v2.1`, name: 'admin' },
          { url: `${PUBLIC_URL}/compute/v2.1`, name: 'private' },
          { url: `${PUBLIC_URL}/compute/v2.1`, name: 'public' },
        ],
      },
      requestPath: '/compute/v2.1/servers?limit=5',
      tags: [expect.stringMatching(/^correlation_id\?value=[0-9a-f-]{36}$/)],
    });
    // pycadf's attribute order, so the JSON reads like keystonemiddleware's.
    expect(Object.keys(sent)).toEqual(['typeURI', 'eventType', 'id', 'eventTime', 'action', 'outcome', 'observer', 'initiator', 'target', 'requestPath', 'tags']);

    const done = answer?.message.payload as Json;
    expect(done).toEqual({
      ...sent,
      outcome: 'success',
      reason: { reasonType: 'HTTP', reasonCode: '200' },
      reporterchain: [{ role: 'modifier', reporterTime: '2026-01-01T10:00:00.123000+0000', reporter: { id: 'target' } }],
    });
    expect(Object.keys(done)).toEqual([...Object.keys(sent), 'reason', 'reporterchain']);
    // One context for both, as the filter keeps one admin context per request.
    expect(answer?.message._context_request_id).toBe(request?.message._context_request_id);
  });

  it('audits a create (POST 202) with reason 202', async () => {
    const { response, before } = await h.send('POST', '/compute/v2.1/servers', { payload: { server: { name: 'vm-1', flavorRef: '1', adminPass: 'secret-in-body' } } });
    expect(response.statusCode).toBe(202);
    const [request, answer] = await h.eventsAfter(before);
    expect(request?.message.payload).toMatchObject({ action: 'create', outcome: 'pending', target: { typeURI: 'service/compute/servers', id: deriveId('service', 'compute') } });
    expect(answer?.message.payload).toMatchObject({ action: 'create', outcome: 'success', reason: { reasonType: 'HTTP', reasonCode: '202' } });
    for (const p of [request, answer]) {
      expect(p?.raw).not.toContain('secret-in-body');
      expect(p?.raw).not.toContain('do-not-leak-this');
      expect(p?.raw).not.toContain('vm-1');
    }
  });

  it('audits a read of a missing server as a failure with the server as target', async () => {
    h.clock.advance(1500);
    const { response, before } = await h.send('GET', `/compute/v2.1/servers/${SERVER_ID}`);
    expect(response.statusCode).toBe(404);
    const [request, answer] = await h.eventsAfter(before);
    expect(request?.message.payload).toMatchObject({ action: 'read', outcome: 'pending', eventTime: '2026-01-01T10:00:01.623000+0000', target: { id: SERVER_ID, typeURI: 'service/compute/servers/server' } });
    expect(answer?.message.payload).toMatchObject({ action: 'read', outcome: 'failure', reason: { reasonType: 'HTTP', reasonCode: '404' } });
  });

  it('names a server action by the first key of its body', async () => {
    const { response, before } = await h.send('POST', `/compute/v2.1/servers/${SERVER_ID}/action`, { payload: { 'os-stop': null } });
    expect(response.statusCode).toBe(202);
    const [request, answer] = await h.eventsAfter(before);
    for (const p of [request, answer]) {
      expect(p?.message.payload).toMatchObject({ action: 'update/os-stop', target: { id: SERVER_ID, typeURI: 'service/compute/servers/server/action' } });
    }
    expect(answer?.message.payload).toMatchObject({ outcome: 'success', reason: { reasonCode: '202' } });
  });

  it('audits a request without a token with an unknown initiator, and its 401 as a failure', async () => {
    const { response, before } = await h.send('GET', '/compute/v2.1/servers', { authenticated: false, remoteAddress: '198.51.100.23' });
    expect(response.statusCode).toBe(401);
    const [request, answer] = await h.eventsAfter(before);
    expect(request?.message.payload.initiator).toEqual({
      id: 'unknown',
      typeURI: 'service/security/account/user',
      name: 'unknown',
      credential: { token: ' xxxxxxxx ', identity_status: 'Invalid' },
      host: { address: '198.51.100.23', agent: 'python-novaclient' },
      project_id: 'unknown',
      request_id: expect.stringMatching(/^req-/),
    });
    expect(answer?.message.payload).toMatchObject({ outcome: 'failure', reason: { reasonType: 'HTTP', reasonCode: '401' } });
  });

  it('treats a revoked or made-up token as Invalid, and masks it too', async () => {
    const fake = 'A'.repeat(20) + 'made-up-token-value' + 'Z'.repeat(4);
    const { response, before } = await h.send('GET', '/compute/v2.1/servers', { headers: { 'x-auth-token': fake } });
    expect(response.statusCode).toBe(401);
    const [request, answer] = await h.eventsAfter(before);
    expect(request?.message.payload.initiator).toMatchObject({ id: 'unknown', credential: { identity_status: 'Invalid' } });
    for (const p of [request, answer]) expect(p?.raw).not.toContain('made-up-token-value');
  });

  it('keeps a valid X-OpenStack-Request-ID as global_request_id and ignores a malformed one', async () => {
    const global = 'req-0f0e0d0c-0b0a-4909-8807-060504030201';
    let { before } = await h.send('GET', '/compute/v2.1/servers', { headers: { 'x-openstack-request-id': global } });
    let [request] = await h.eventsAfter(before);
    expect(request?.message.payload.initiator.global_request_id).toBe(global);
    ({ before } = await h.send('GET', '/compute/v2.1/servers', { headers: { 'x-openstack-request-id': 'not a request id' } }));
    [request] = await h.eventsAfter(before);
    expect(request?.message.payload.initiator).not.toHaveProperty('global_request_id');
  });

  it('still sends the request event first when the body does not parse', async () => {
    const before = h.published.length;
    const response = await h.app.inject({ method: 'POST', url: `/compute/v2.1/servers/${SERVER_ID}/action`, headers: { 'x-auth-token': h.token, 'content-type': 'application/json' }, payload: '{"os-start": ' });
    expect(response.statusCode).toBe(400);
    const [request, answer] = await h.eventsAfter(before);
    expect(request?.message.event_type).toBe('audit.http.request');
    expect(request?.message.payload).toMatchObject({ action: 'create', outcome: 'pending' });
    expect(answer?.message.payload).toMatchObject({ id: request?.message.payload.id, outcome: 'failure', reason: { reasonCode: '400' } });
  });

  it('does not audit paths outside the observed prefixes', async () => {
    const before = h.published.length;
    expect((await h.app.inject({ method: 'GET', url: '/identity/v3' })).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'GET', url: '/computex/v2.1/servers' })).statusCode).toBe(404);
    const { before: marker } = await h.send('GET', '/compute/v2.1/servers');
    await h.eventsAfter(marker);
    expect(h.published.slice(before).every((p) => p.message.payload.requestPath.startsWith('/compute/'))).toBe(true);
    expect(h.published.length - before).toBe(2);
  });

  it('counts what it published', () => {
    expect(h.telemetry.snapshot().accepted).toBe(h.published.length);
    expect(h.telemetry.snapshot().dropped).toBe(0);
  });

  it('never publishes the raw token', () => {
    expect(h.published.length).toBeGreaterThan(10);
    for (const p of h.published) expect(p.raw).not.toContain(h.token);
  });
});

describe('registerAuditMiddleware: options', () => {
  it("uses the service name as target id with targetIds 'service-name' (keystonemiddleware with a v3 catalog)", async () => {
    const h = await harness({ targetIds: 'service-name' });
    try {
      const { before } = await h.send('GET', `/compute/v2.1/servers/${SERVER_ID}`);
      const [request] = await h.eventsAfter(before);
      expect(request?.message.payload.target).toMatchObject({ id: 'nova', name: 'nova', typeURI: 'service/compute/servers/server' });
    } finally {
      await h.close();
    }
  });

  it('skips ignored methods, like ignore_req_list', async () => {
    const h = await harness({ ignoreMethods: ['get'] });
    try {
      await h.send('GET', '/compute/v2.1/servers');
      const { before } = await h.send('POST', `/compute/v2.1/servers/${SERVER_ID}/action`, { payload: { reboot: { type: 'SOFT' } } });
      const [request] = await h.eventsAfter(before);
      expect(request?.message.payload.action).toBe('update/reboot');
      expect(h.published.every((p) => p.message.payload.action !== 'read/list')).toBe(true);
    } finally {
      await h.close();
    }
  });

  it('lets the API call succeed when the bus refuses the events, and counts them dropped', async () => {
    const failing: Bus = {
      kind: 'memory',
      start: async () => {},
      stop: async () => {},
      subscribe: async () => ({ close: async () => {} }),
      publish: async () => {
        throw new Error('broker unreachable');
      },
    };
    const h = await harness({ bus: failing });
    try {
      const { response } = await h.send('GET', '/compute/v2.1/servers');
      expect(response.statusCode).toBe(200);
      expect(h.telemetry.snapshot()).toMatchObject({ accepted: 0, dropped: 2 });
    } finally {
      await h.close();
    }
  });

  it('refuses a malformed observer with a config error naming the field', () => {
    const app = Fastify();
    const deps = { notifier: {} as Notifier, keystone: {} as KeystoneService, clock: new ManualClock(NOW) };
    expect(() => registerAuditMiddleware(app, { ...deps, observers: [{ ...COMPUTE, prefix: 'compute/' }] })).toThrow(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID', message: expect.stringContaining('observers[0].prefix') }));
    expect(() => registerAuditMiddleware(app, { ...deps, observers: [COMPUTE, { ...COMPUTE }] })).toThrow(/observed twice/);
    expect(() => registerAuditMiddleware(app, { ...deps, observers: [{ ...COMPUTE, exchange: '' }] })).toThrow(/observers\[0\]\.exchange/);
  });
});

describe('registerAuditMiddleware: several services', () => {
  it('gives each prefix its own observer, also for paths no route serves', async () => {
    const h = await harness({ observers: [COMPUTE, { prefix: '/image', service: 'image', name: 'glance', exchange: 'nova', url: 'http://glance.test:9292' }] });
    try {
      let { before } = await h.send('GET', '/compute/v2.1/servers');
      const [compute] = await h.eventsAfter(before);
      expect(compute?.message.payload.target.name).toBe('nova');
      ({ before } = await h.send('GET', `/image/v2/images/${SERVER_ID}`));
      const [image, answer] = await h.eventsAfter(before);
      expect(image?.message.payload.target).toEqual({
        id: SERVER_ID,
        typeURI: 'service/storage/image/images/image',
        name: 'glance',
        addresses: [
          { url: 'http://glance.test:9292', name: 'admin' },
          { url: 'http://glance.test:9292', name: 'private' },
          { url: 'http://glance.test:9292', name: 'public' },
        ],
      });
      expect(answer?.message.payload).toMatchObject({ outcome: 'failure', reason: { reasonCode: '404' } });
    } finally {
      await h.close();
    }
  });
});
