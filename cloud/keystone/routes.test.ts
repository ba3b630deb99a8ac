import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessBus, ManualClock, openStateDatabase, silentLogger, type StateDatabase } from '../../core/index.ts';
import { createCloud, type Cloud } from '../index.ts';

const ADMIN_PASSWORD = 'admin-password-1';
const PUBLIC_URL = 'http://cloud.test:8000';

type Json = Record<string, any>;

const passwordBody = (password: string, scope: Json | undefined = { project: { name: 'admin', domain: { id: 'default' } } }) => ({
  auth: {
    identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password } } },
    ...(scope ? { scope } : {}),
  },
});

describe('Keystone v3 over HTTP', () => {
  let db: StateDatabase;
  let bus: InProcessBus;
  let cloud: Cloud;
  let app: FastifyInstance;

  beforeAll(async () => {
    db = openStateDatabase(':memory:');
    bus = new InProcessBus(silentLogger());
    await bus.start();
    cloud = createCloud(
      { publicUrl: `${PUBLIC_URL}/`, region: 'RegionTest', adminPassword: ADMIN_PASSWORD, tokenTtlMs: 3_600_000, buildDelayMs: 5, computeHosts: [] },
      { db, bus, clock: new ManualClock(new Date('2026-01-02T03:04:05.000Z')), logger: silentLogger() },
    );
    await cloud.start();
    app = Fastify();
    cloud.register(app);
    await app.ready();
  });

  afterAll(async () => {
    await cloud.stop();
    await app.close();
    await bus.stop();
    db.close();
  });

  const issue = async (body: unknown = passwordBody(ADMIN_PASSWORD), query = '') => {
    const response = await app.inject({ method: 'POST', url: `/identity/v3/auth/tokens${query}`, payload: body as Json });
    return { status: response.statusCode, token: response.headers['x-subject-token'] as string | undefined, body: JSON.parse(response.body) as Json };
  };

  it('issues a token: 201, X-Subject-Token, and a catalog with identity, compute and metric', async () => {
    const { status, token, body } = await issue();
    expect(status).toBe(201);
    expect(token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(body.token).toMatchObject({
      methods: ['password'],
      user: { name: 'admin', domain: { id: 'default', name: 'Default' } },
      project: { name: 'admin', domain: { id: 'default' } },
      roles: [{ name: 'admin' }],
      issued_at: '2026-01-02T03:04:05.000000Z',
      expires_at: '2026-01-02T04:04:05.000000Z',
    });
    // The body never carries the token itself.
    expect(JSON.stringify(body)).not.toContain(token);
    const catalog = body.token.catalog as Json[];
    expect(catalog.map((entry) => entry.type).sort()).toEqual(expect.arrayContaining(['compute', 'identity', 'image', 'metric', 'placement']));
    const url = (type: string, iface: string) => catalog.find((entry) => entry.type === type)?.endpoints.find((e: Json) => e.interface === iface)?.url;
    expect(url('identity', 'public')).toBe(`${PUBLIC_URL}/identity`);
    expect(url('compute', 'public')).toBe(`${PUBLIC_URL}/compute/v2.1`);
    expect(url('metric', 'internal')).toBe(`${PUBLIC_URL}/metric`);
    for (const entry of catalog) {
      expect(entry.endpoints.map((e: Json) => e.interface).sort()).toEqual(['admin', 'internal', 'public']);
      for (const endpoint of entry.endpoints) expect(endpoint.region).toBe('RegionTest');
    }
  });

  it('leaves the catalog out with ?nocatalog', async () => {
    const { status, body } = await issue(passwordBody(ADMIN_PASSWORD), '?nocatalog');
    expect(status).toBe(201);
    expect(body.token).not.toHaveProperty('catalog');
  });

  it('answers a bad password with 401 in Keystone\'s error shape', async () => {
    const { status, token, body } = await issue(passwordBody('wrong-password'));
    expect(status).toBe(401);
    expect(token).toBeUndefined();
    expect(body).toEqual({ error: { code: 401, message: expect.any(String), title: 'Unauthorized' } });
    expect(body.error.message).not.toMatch(/password/i);
  });

  it('answers a request without auth with 400 in Keystone\'s error shape', async () => {
    const response = await app.inject({ method: 'POST', url: '/identity/v3/auth/tokens', payload: { nothing: true } });
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ error: { code: 400, message: expect.stringContaining('auth'), title: 'Bad Request' } });
  });

  it('answers a body that is not JSON with 400, not 500', async () => {
    const response = await app.inject({ method: 'POST', url: '/identity/v3/auth/tokens', headers: { 'content-type': 'application/json' }, payload: '{"auth": ' });
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 400, title: 'Bad Request' } });
  });

  it('validates a token with GET and revokes it with DELETE', async () => {
    const admin = (await issue()).token as string;
    const subject = (await issue()).token as string;

    const validated = await app.inject({ method: 'GET', url: '/identity/v3/auth/tokens', headers: { 'x-auth-token': admin, 'x-subject-token': subject } });
    expect(validated.statusCode).toBe(200);
    expect(validated.headers['x-subject-token']).toBe(subject);
    const body = JSON.parse(validated.body) as Json;
    expect(body.token).toMatchObject({ user: { name: 'admin' }, project: { name: 'admin' }, roles: [{ name: 'admin' }] });
    expect(body.token.catalog.map((entry: Json) => entry.type).sort()).toEqual(expect.arrayContaining(['compute', 'identity', 'image', 'metric', 'placement']));

    const revoked = await app.inject({ method: 'DELETE', url: '/identity/v3/auth/tokens', headers: { 'x-auth-token': admin, 'x-subject-token': subject } });
    expect(revoked.statusCode).toBe(204);

    const again = await app.inject({ method: 'GET', url: '/identity/v3/auth/tokens', headers: { 'x-auth-token': admin, 'x-subject-token': subject } });
    expect(again.statusCode).toBe(404);
    expect(JSON.parse(again.body)).toEqual({ error: { code: 404, message: 'Could not find token.', title: 'Not Found' } });
    const revokeAgain = await app.inject({ method: 'DELETE', url: '/identity/v3/auth/tokens', headers: { 'x-auth-token': admin, 'x-subject-token': subject } });
    expect(revokeAgain.statusCode).toBe(404);

    // The revoked token no longer authenticates anything.
    const withRevoked = await app.inject({ method: 'GET', url: '/identity/v3/auth/tokens', headers: { 'x-auth-token': subject, 'x-subject-token': admin } });
    expect(withRevoked.statusCode).toBe(401);
    expect(JSON.parse(withRevoked.body)).toMatchObject({ error: { code: 401, title: 'Unauthorized' } });
  });

  it('needs a valid X-Auth-Token to validate a token', async () => {
    const subject = (await issue()).token as string;
    const response = await app.inject({ method: 'GET', url: '/identity/v3/auth/tokens', headers: { 'x-subject-token': subject } });
    expect(response.statusCode).toBe(401);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 401, title: 'Unauthorized' } });
  });

  it('discovers the v3 API', async () => {
    const root = await app.inject({ method: 'GET', url: '/identity/' });
    expect(root.statusCode).toBe(300);
    const v3 = await app.inject({ method: 'GET', url: '/identity/v3' });
    expect(JSON.parse(v3.body).version).toMatchObject({ status: 'stable', links: [{ rel: 'self', href: `${PUBLIC_URL}/identity/v3/` }] });
  });
});
