import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessBus, ManualClock, migrateState, openStateDatabase, silentLogger, type BusConsumerHandle, type StateDatabase } from '../../core/index.ts';
import type { AuthRequest } from '../keystone/service.ts';
import { KeystoneService } from '../keystone/service.ts';
import { Notifier } from '../notifier.ts';
import { CLOUD_MIGRATIONS } from '../state.ts';
import { IDENTITY_SERVICE_ID, auditRequestInfo, emitIdentityAuthenticate, emitIdentityResourceChange, emitProjectCreated, emitUserCreated, namedUser } from './identity.ts';

const NOW = new Date('2026-01-01T10:00:00.123Z');
const OPTIONS = { publisherId: 'identity.controller-1' };
const PASSWORD = 'alice-password-1';

type Json = Record<string, any>;

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('Keystone identity notifications', () => {
  let db: StateDatabase;
  let bus: InProcessBus;
  let handle: BusConsumerHandle;
  let keystone: KeystoneService;
  let app: FastifyInstance;
  let alice: { id: string; name: string };
  const clock = new ManualClock(NOW);
  const published: Array<{ exchange: string; routingKey: string; raw: string; message: Json }> = [];

  const next = async (count = 1) => {
    const before = published.length;
    return async () => {
      await until(() => published.length >= before + count, `${count} notification(s)`);
      return published.slice(before, before + count).map((p) => p);
    };
  };

  beforeAll(async () => {
    db = openStateDatabase(':memory:');
    migrateState(db, 'cloud', CLOUD_MIGRATIONS);
    keystone = new KeystoneService(db, clock, 3_600_000);
    keystone.bootstrap('admin-password-1');
    const project = keystone.createProject({ name: 'alice-project' });
    alice = keystone.createUser({ name: 'alice', password: PASSWORD, defaultProjectId: project.id });
    keystone.assignProjectRole(alice.id, project.id, 'member');

    bus = new InProcessBus(silentLogger());
    await bus.start();
    handle = await bus.subscribe(
      { queue: 'identity-test', bindings: [{ exchange: 'keystone', routingKey: 'notifications.#' }], batchSize: 100, batchWaitMs: 1 },
      {
        consume: async (batch) => {
          for (const d of batch) {
            const raw = d.body.toString('utf8');
            published.push({ exchange: d.exchange, routingKey: d.routingKey, raw, message: JSON.parse((JSON.parse(raw) as { 'oslo.message': string })['oslo.message']) });
          }
        },
      },
    );
    const notifier = new Notifier(bus, clock);

    // The wiring the report proposes for cloud/keystone/routes.ts, with the user lookup
    // it asks KeystoneService to expose done here on the database.
    const findUser = (auth: AuthRequest) => {
      const named = namedUser(auth);
      if (!named) return undefined;
      const row = named.userId
        ? db.prepare('SELECT id, name FROM users WHERE id = ?').get(named.userId)
        : db.prepare('SELECT u.id, u.name FROM users u JOIN domains d ON d.id = u.domain_id WHERE u.name = ? AND (d.id = ? OR d.name = ?)').get(named.userName ?? '', named.domainId, named.domainName);
      return (row as { id: string; name: string } | undefined) ?? null;
    };
    app = Fastify({ genReqId: () => `req-${crypto.randomUUID()}` });
    app.post('/identity/v3/auth/tokens', async (request, reply) => {
      const auth = (request.body as { auth: AuthRequest }).auth;
      const isPassword = namedUser(auth) !== undefined;
      try {
        const token = keystone.authenticate(auth);
        if (isPassword) await emitIdentityAuthenticate(notifier, { outcome: 'success', user: { id: token.userId, name: token.userName }, request: auditRequestInfo(request) }, { clock, ...OPTIONS });
        return reply.code(201).header('X-Subject-Token', token.id).send({ token: { user: { id: token.userId } } });
      } catch (err) {
        const user = isPassword ? findUser(auth) : undefined;
        if (user !== undefined && (err as { httpStatus?: number }).httpStatus === 401) {
          const base = { outcome: 'failure' as const, request: auditRequestInfo(request) };
          await emitIdentityAuthenticate(notifier, user ? { ...base, user } : { ...base, user: null, named: namedUser(auth) ?? {} }, { clock, ...OPTIONS });
        }
        return reply.code((err as { httpStatus?: number }).httpStatus ?? 500).send({ error: { message: (err as Error).message } });
      }
    });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    await handle.close();
    await bus.stop();
    db.close();
  });

  const login = (user: Json, password: string, remoteAddress = '192.0.2.44') =>
    app.inject({
      method: 'POST',
      url: '/identity/v3/auth/tokens',
      remoteAddress,
      headers: { 'user-agent': 'openstacksdk/4.0.0 keystoneauth1/5.6.0' },
      payload: { auth: { identity: { methods: ['password'], password: { user: { ...user, password } } } } },
    });

  it('emits identity.authenticate success on the keystone exchange for a password login', async () => {
    const wait = await next();
    const response = await login({ name: 'alice', domain: { name: 'Default' } }, PASSWORD);
    expect(response.statusCode).toBe(201);
    const [event] = await wait();
    expect(event?.exchange).toBe('keystone');
    expect(event?.routingKey).toBe('notifications.info');
    expect(event?.message).toMatchObject({ event_type: 'identity.authenticate', priority: 'INFO', publisher_id: 'identity.controller-1', _context_remote_address: '192.0.2.44' });
    const payload = event?.message.payload as Json;
    expect(payload).toEqual({
      typeURI: 'http://schemas.dmtf.org/cloud/audit/1.0/event',
      eventType: 'activity',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      eventTime: '2026-01-01T10:00:00.123000+0000',
      action: 'authenticate',
      outcome: 'success',
      observer: { id: IDENTITY_SERVICE_ID, typeURI: 'service/security' },
      initiator: {
        id: alice.id,
        typeURI: 'service/security/account/user',
        host: { address: '192.0.2.44', agent: 'openstacksdk/4.0.0 keystoneauth1/5.6.0' },
        request_id: expect.stringMatching(/^req-/),
        user_id: alice.id,
        name: 'alice',
        username: 'alice',
      },
      target: { id: expect.stringMatching(/^[0-9a-f-]{36}$/), typeURI: 'service/security/account/user' },
    });
    expect(Object.keys(payload.initiator)).toEqual(['id', 'typeURI', 'host', 'request_id', 'user_id', 'name', 'username']);
  });

  it('emits identity.authenticate failure with the user and the client address for a wrong password', async () => {
    const wait = await next();
    const response = await login({ id: alice.id }, 'wrong-password', '198.51.100.99');
    expect(response.statusCode).toBe(401);
    const [event] = await wait();
    expect(event?.message.payload).toMatchObject({
      action: 'authenticate',
      outcome: 'failure',
      initiator: { id: alice.id, user_id: alice.id, name: 'alice', host: { address: '198.51.100.99' } },
      target: { typeURI: 'service/security/account/user' },
    });
    expect(event?.message.payload).not.toHaveProperty('reason');
  });

  it("emits Keystone's user-not-found form for an unknown user: fresh initiator id, the name asked for, reason 404", async () => {
    const wait = await next();
    const response = await login({ name: 'mallory', domain: { id: 'default' } }, 'guess', '203.0.113.250');
    expect(response.statusCode).toBe(401);
    const [event] = await wait();
    const payload = event?.message.payload as Json;
    expect(payload).toMatchObject({
      outcome: 'failure',
      initiator: { typeURI: 'service/security/account/user', host: { address: '203.0.113.250' }, user_name: 'mallory', domain_id: 'default', domain_name: null },
      reason: { reasonType: 'Could not find user: mallory.', reasonCode: '404' },
    });
    expect(payload.initiator.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Object.keys(payload)).toEqual(['typeURI', 'eventType', 'id', 'eventTime', 'action', 'outcome', 'observer', 'initiator', 'target', 'reason']);
  });

  it('never carries a password', () => {
    expect(published.length).toBe(3);
    for (const p of published) {
      expect(p.raw).not.toContain(PASSWORD);
      expect(p.raw).not.toContain('wrong-password');
      expect(p.raw).not.toContain('guess');
    }
  });

  it("sends identity.project.created and identity.user.created in Keystone's basic format", async () => {
    const notifier = new Notifier(bus, clock);
    const wait = await next(2);
    await emitProjectCreated(notifier, 'p-123', { clock, ...OPTIONS });
    await emitUserCreated(notifier, 'u-456', { clock, ...OPTIONS });
    const [project, user] = await wait();
    expect(project?.message).toMatchObject({ event_type: 'identity.project.created', priority: 'INFO', publisher_id: 'identity.controller-1', payload: { resource_info: 'p-123' } });
    expect(user?.message).toMatchObject({ event_type: 'identity.user.created', payload: { resource_info: 'u-456' } });
    expect(Object.keys(project?.message.payload as Json)).toEqual(['resource_info']);
  });

  it("sends the CADF form (Keystone's default notification_format) with the caller as initiator", async () => {
    const notifier = new Notifier(bus, clock);
    const wait = await next();
    const payload = await emitIdentityResourceChange(
      notifier,
      {
        operation: 'created',
        resourceType: 'project',
        resourceId: 'p-789',
        request: { requestId: 'req-1', address: '10.0.0.5', agent: 'curl/8', caller: { userId: alice.id, userName: 'alice', projectId: 'admin-project', domainId: null } },
      },
      { clock, ...OPTIONS, format: 'cadf' },
    );
    const [event] = await wait();
    expect(event?.message.payload).toEqual(payload);
    expect(payload).toEqual({
      typeURI: 'http://schemas.dmtf.org/cloud/audit/1.0/event',
      eventType: 'activity',
      id: expect.any(String),
      eventTime: '2026-01-01T10:00:00.123000+0000',
      action: 'created.project',
      outcome: 'success',
      observer: { id: IDENTITY_SERVICE_ID, typeURI: 'service/security' },
      initiator: { id: alice.id, typeURI: 'service/security/account/user', host: { address: '10.0.0.5', agent: 'curl/8' }, user_id: alice.id, project_id: 'admin-project', request_id: 'req-1', name: 'alice', username: 'alice' },
      target: { id: 'p-789', typeURI: 'data/security/project' },
      resource_info: 'p-789',
    });
  });

  it('never rejects when the bus refuses, like Keystone: it logs instead', async () => {
    const warnings: string[] = [];
    const refusing = new Notifier({ kind: 'memory', start: async () => {}, stop: async () => {}, subscribe: async () => ({ close: async () => {} }), publish: async () => { throw new Error('broker down'); } }, clock);
    const logger = { warn: (_obj: unknown, msg: string) => void warnings.push(msg) } as unknown as Parameters<typeof emitProjectCreated>[2]['logger'];
    await expect(emitIdentityAuthenticate(refusing, { outcome: 'success', user: alice, request: { requestId: 'req-x', address: null, agent: null } }, { clock, logger })).resolves.toMatchObject({ outcome: 'success' });
    await expect(emitProjectCreated(refusing, 'p-1', { clock, logger })).resolves.toEqual({ resource_info: 'p-1' });
    expect(warnings).toEqual(['identity notification not published', 'identity notification not published']);
  });

  it('reads the user a password request names, without the password, and nothing for other methods', () => {
    expect(namedUser({ identity: { methods: ['password'], password: { user: { name: 'bob', domain: { name: 'Default' }, password: 'x' } } } })).toEqual({ userName: 'bob', domainId: null, domainName: 'Default' });
    expect(namedUser({ identity: { methods: ['token'], token: { id: 'abc' } } })).toBeUndefined();
    expect(namedUser(undefined)).toBeUndefined();
  });
});
