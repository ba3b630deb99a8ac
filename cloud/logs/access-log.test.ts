import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/index.ts';
import { registerAccessLog } from './access-log.ts';
import { createServiceLogWriter, type ServiceLogWriter } from './writer.ts';

const NOW = new Date('2026-11-24T06:10:42.098Z');
const USER = '8f4e2d1c0b9a48f7a6e5d4c3b2a19080';
const PROJECT = '1a2b3c4d5e6f40718293a4b5c6d7e8f9';

describe('registerAccessLog', () => {
  let root: string;
  let writer: ServiceLogWriter;
  let app: FastifyInstance;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'cumulus-access-'));
    writer = createServiceLogWriter({ directory: join(root, 'logs'), apiHost: 'controller' }, { clock: new ManualClock(NOW) });
    app = Fastify({ genReqId: () => `req-${crypto.randomUUID()}` });
    // As the services do: the request id goes back to the client.
    app.addHook('onRequest', async (request, reply) => {
      reply.header('x-openstack-request-id', String(request.id));
    });
    registerAccessLog(app, writer, [
      { prefix: '/compute', name: 'nova' },
      { prefix: '/placement', name: 'placement', host: 'api-2' },
      { prefix: '/image', name: 'glance' },
    ]);
    // Fake services: a valid token gives the request context, as the real preHandlers do.
    const authenticate = async (request: { headers: Record<string, unknown>; id: string; ip: string; cloudContext?: unknown }, reply: { code(n: number): { send(b: unknown): unknown } }) => {
      if (request.headers['x-auth-token'] !== 'valid') return reply.code(401).send({ error: 'unauthorized' });
      request.cloudContext = { requestId: String(request.id), userId: USER, userName: 'alice', projectId: PROJECT, projectName: 'p', domainId: 'default', roles: ['member'], isAdmin: false, remoteAddress: request.ip };
      return undefined;
    };
    app.register(
      async (compute) => {
        compute.addHook('preHandler', authenticate);
        compute.get('/v2.1/servers', async (_request, reply) => reply.header('openstack-api-version', 'compute 2.79').send({ servers: [] }));
      },
      { prefix: '/compute' },
    );
    app.register(
      async (placement) => {
        placement.addHook('preHandler', authenticate);
        placement.get('/resource_providers', async (_request, reply) => reply.header('openstack-api-version', 'placement 1.39').send({ resource_providers: [] }));
      },
      { prefix: '/placement' },
    );
    app.get('/identity/v3', async () => ({ version: {} }));
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    await writer.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const lines = async (host: string, service: string) => {
    await writer.flush();
    return readFileSync(join(root, 'logs', host, `${service}.log`), 'utf8').trimEnd().split('\n');
  };

  it("writes nova-api's eventlet access line with the request context", async () => {
    const response = await app.inject({ method: 'GET', url: '/compute/v2.1/servers?limit=1', remoteAddress: '203.0.113.7', headers: { 'x-auth-token': 'valid' } });
    expect(response.statusCode).toBe(200);
    const [line] = await lines('controller', 'nova-api');
    const pid = writer.pidOf('controller', 'nova-api');
    const prefix = `2026-11-24 06:10:42.098 ${pid} INFO nova.osapi_compute.wsgi.server [None ${response.headers['x-openstack-request-id']} ${USER} ${PROJECT} - - default default] `;
    expect(line?.startsWith(prefix)).toBe(true);
    const message = line?.slice(prefix.length) ?? '';
    expect(message).toMatch(/^203\.0\.113\.7 "GET \/v2\.1\/servers\?limit=1 HTTP\/1\.1" status: 200 len: \d+ time: \d+\.\d{7}$/);
    expect(message).toContain(`len: ${response.body.length} `);
  });

  it('writes the no-context form [-] for a request the service refused without a token', async () => {
    const response = await app.inject({ method: 'GET', url: '/compute/v2.1/servers', remoteAddress: '198.51.100.2' });
    expect(response.statusCode).toBe(401);
    const all = await lines('controller', 'nova-api');
    expect(all.at(-1)).toMatch(/^2026-11-24 06:10:42\.098 \d+ INFO nova\.osapi_compute\.wsgi\.server \[-\] 198\.51\.100\.2 "GET \/v2\.1\/servers HTTP\/1\.1" status: 401 len: \d+ time: \d+\.\d{7}$/);
  });

  it('logs a path no route serves, with its 404', async () => {
    await app.inject({ method: 'DELETE', url: '/compute/v2.1/os-nothing/1', remoteAddress: '198.51.100.3' });
    expect((await lines('controller', 'nova-api')).at(-1)).toMatch(/ \[-\] 198\.51\.100\.3 "DELETE \/v2\.1\/os-nothing\/1 HTTP\/1\.1" status: 404 len: \d+ time: /);
  });

  it("writes placement's requestlog line, prefix and microversion included, on the observer's host", async () => {
    const response = await app.inject({ method: 'GET', url: '/placement/resource_providers?name=cn1', remoteAddress: '10.0.0.9', headers: { 'x-auth-token': 'valid' } });
    const [line] = await lines('api-2', 'placement-api');
    expect(line).toBe(
      `2026-11-24 06:10:42.098 ${writer.pidOf('api-2', 'placement-api')} INFO placement.requestlog [None ${response.headers['x-openstack-request-id']} ${USER} ${PROJECT} - - default default] 10.0.0.9 "GET /placement/resource_providers?name=cn1" status: 200 len: ${response.body.length} microversion: 1.39`,
    );
  });

  it("writes glance's eventlet default format", async () => {
    await app.inject({ method: 'GET', url: '/image/v2/images', remoteAddress: '10.0.0.10' });
    const [line] = await lines('controller', 'glance-api');
    expect(line).toMatch(/^2026-11-24 06:10:42\.098 \d+ INFO eventlet\.wsgi\.server \[-\] 10\.0\.0\.10 - - \[24\/Nov\/2026 06:10:42\] "GET \/v2\/images HTTP\/1\.1" 404 \d+ \d+\.\d{6}$/);
  });

  it('leaves requests outside the prefixes alone', async () => {
    await app.inject({ method: 'GET', url: '/identity/v3' });
    await app.inject({ method: 'GET', url: '/computer/v2.1' });
    const all = [...(await lines('controller', 'nova-api')), ...(await lines('controller', 'glance-api'))];
    expect(all.some((l) => l.includes('/identity') || l.includes('computer'))).toBe(false);
  });

  it('refuses a malformed observer with a config error', () => {
    const fresh = Fastify();
    expect(() => registerAccessLog(fresh, writer, [{ prefix: '/compute/', name: 'nova' }])).toThrow(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID' }));
    expect(() => registerAccessLog(fresh, writer, [{ prefix: '/compute', name: 'nova', process: '../nova' }])).toThrow(/process/);
    expect(() => registerAccessLog(fresh, writer, [{ prefix: '/compute', name: 'nova', style: 'apache' as never }])).toThrow(/style/);
  });
});
