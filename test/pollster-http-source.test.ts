/**
 * The HTTP source against a real control plane served by fastify on a real port: Keystone
 * password login, the admin API's JSON, token reuse and refresh, and the error codes.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, InProcessBus, ManualClock, TelemetryRegistry, openStateDatabase, silentLogger, type StateDatabase } from '../core/index.ts';
import { createCloud, type Cloud } from '../cloud/index.ts';
import { createComputePollster, createHttpComputeSource, createInProcessComputeSource, type ComputeSource, type HttpComputeSourceDeps } from '../collectors/pollsters/index.ts';
import { RecordingStream } from '../collectors/pollsters/test-stream.ts';

const NOW = Date.parse('2026-01-07T13:00:00Z');
const MINUTE = 60_000;
const ADMIN_PASSWORD = 'admin-password-1';
const SECRET = 'pollster-test-metering-secret';
const TOKEN_TTL_MS = 60 * MINUTE;

interface Plane {
  url: string;
  cloud: Cloud;
  clock: ManualClock;
  /** Password logins seen by Keystone. */
  logins: () => number;
  /** The last token the admin API was called with. */
  lastAdminToken: () => string | null;
  member: { name: string; password: string; project: string };
}

const open: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

async function json(response: Response): Promise<Record<string, any>> {
  return (await response.json()) as Record<string, any>;
}

/** createCloud on an in-memory database, mounted on fastify listening on a free port, with two running servers. */
async function controlPlane(): Promise<Plane> {
  const clock = new ManualClock(NOW);
  const db: StateDatabase = openStateDatabase(':memory:');
  const bus = new InProcessBus(silentLogger());
  await bus.start();
  const cloud = createCloud(
    {
      publicUrl: 'http://127.0.0.1',
      region: 'RegionOne',
      adminPassword: ADMIN_PASSWORD,
      tokenTtlMs: TOKEN_TTL_MS,
      buildDelayMs: 5,
      computeHosts: [
        { name: 'compute-1', availabilityZone: 'nova', vcpus: 16, memoryMb: 65536, diskGb: 500 },
        { name: 'compute-2', availabilityZone: 'nova', vcpus: 16, memoryMb: 65536, diskGb: 500 },
      ],
    },
    { db, bus, clock, logger: silentLogger() },
  );
  await cloud.start();
  const app: FastifyInstance = Fastify();
  let logins = 0;
  let lastAdminToken: string | null = null;
  app.addHook('onRequest', async (request) => {
    if (request.method === 'POST' && request.url.startsWith('/identity/v3/auth/tokens')) logins += 1;
    if (request.url.startsWith('/cloud-admin/')) lastAdminToken = (request.headers['x-auth-token'] as string | undefined) ?? null;
  });
  cloud.register(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const url = `http://127.0.0.1:${address.port}`;
  open.push(async () => {
    await app.close();
    await cloud.stop();
    await bus.stop();
    db.close();
  });

  const project = cloud.keystone.createProject({ name: 'shop' });
  const user = cloud.keystone.createUser({ name: 'alice', password: 'alice-password', defaultProjectId: project.id });
  cloud.keystone.assignProjectRole(user.id, project.id, 'member');
  const token = (name: string, password: string, projectName: string) =>
    cloud.keystone.authenticate({ identity: { methods: ['password'], password: { user: { name, domain: { id: 'default' }, password } } }, scope: { project: { name: projectName, domain: { id: 'default' } } } }).id;
  const adminToken = token('admin', ADMIN_PASSWORD, 'admin');
  const aliceToken = token('alice', 'alice-password', 'shop');
  const post = (path: string, authToken: string, body: unknown) => fetch(`${url}/compute/v2.1${path}`, { method: 'POST', headers: { 'x-auth-token': authToken, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const flavor = await json(await post('/flavors', adminToken, { flavor: { name: 'm1.medium', vcpus: 2, ram: 4096, disk: 40 } }));
  for (const name of ['web-0', 'web-1']) {
    const created = await post('/servers', aliceToken, { server: { name, flavorRef: flavor.flavor.id, imageRef: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' } });
    expect(created.status).toBe(202);
  }
  // Builds finish, then the guests run for ten minutes.
  await cloud.nova.stop();
  clock.advance(10 * MINUTE);
  // Only Keystone logins from here on count.
  logins = 0;
  return { url, cloud, clock, logins: () => logins, lastAdminToken: () => lastAdminToken, member: { name: 'alice', password: 'alice-password', project: 'shop' } };
}

function httpSource(plane: Plane, overrides: { username?: string; password?: string; projectName?: string; adminUrl?: string } = {}, deps: Partial<HttpComputeSourceDeps> = {}): ComputeSource {
  return createHttpComputeSource(
    { authUrl: `${plane.url}/identity/v3`, adminUrl: overrides.adminUrl ?? `${plane.url}/cloud-admin/v1`, username: overrides.username ?? 'admin', password: overrides.password ?? ADMIN_PASSWORD, ...(overrides.projectName ? { projectName: overrides.projectName } : {}) },
    { clock: plane.clock, logger: silentLogger(), ...deps },
  );
}

function inProcess(plane: Plane): ComputeSource {
  const sim = plane.cloud.hypervisor;
  return createInProcessComputeSource({ hosts: () => sim.hosts(), inspect: (host) => sim.inspectHost(host), stats: (host) => sim.hostStats(host) });
}

async function pollWith(plane: Plane, source: ComputeSource) {
  const stream = new RecordingStream();
  const pollster = createComputePollster({ meteringSecret: SECRET }, { source, stream, clock: plane.clock, logger: silentLogger(), telemetry: new TelemetryRegistry().component('collector.pollster') });
  const report = await pollster.poll();
  return { report, samples: stream.samples() };
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; status: number | null; message: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { code: string; status: number | null; message: string };
  }
  throw new Error('expected a rejection');
}

describe('HTTP compute source', () => {
  it('reads over HTTP exactly what the simulator gives in-process, so a poll through either source yields the same samples', async () => {
    const plane = await controlPlane();
    const http = httpSource(plane);
    const local = inProcess(plane);
    const roundTrip = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

    const hosts = await http.hosts();
    expect(hosts.map((h) => h.name)).toEqual(['compute-1', 'compute-2']);
    expect(hosts).toEqual(roundTrip(await local.hosts()));
    expect(hosts.reduce((sum, h) => sum + h.running_instances, 0)).toBe(2);
    for (const host of ['compute-1', 'compute-2']) {
      expect(await http.instances(host)).toEqual(roundTrip(await local.instances(host)));
      expect(await http.hostStats(host)).toEqual(roundTrip(await local.hostStats(host)));
    }

    const overHttp = await pollWith(plane, http);
    const overCall = await pollWith(plane, local);
    expect(overHttp.report).toEqual(overCall.report);
    expect(overHttp.report.failedHosts).toEqual([]);
    expect(overHttp.samples.length).toBeGreaterThan(2 * 7);
    expect(overHttp.samples).toEqual(overCall.samples);
  });

  it('logs in once for concurrent calls, reuses the token, and logs in again shortly before it expires', async () => {
    const plane = await controlPlane();
    const http = httpSource(plane);
    await pollWith(plane, http);
    // Five admin calls at once (hosts, then two per host), one login.
    expect(plane.logins()).toBe(1);
    await pollWith(plane, http);
    expect(plane.logins()).toBe(1);
    // 54 minutes into a 60-minute token: still used (the margin is 5 minutes).
    plane.clock.advance(54 * MINUTE);
    await http.hosts();
    expect(plane.logins()).toBe(1);
    const old = plane.lastAdminToken();
    // 56 minutes: refreshed before Keystone would refuse it.
    plane.clock.advance(2 * MINUTE);
    await http.hosts();
    expect(plane.logins()).toBe(2);
    expect(plane.lastAdminToken()).not.toBe(old);
  });

  it('replaces a revoked token once and carries on', async () => {
    const plane = await controlPlane();
    const http = httpSource(plane);
    await http.hosts();
    const used = plane.lastAdminToken() as string;
    expect(plane.cloud.keystone.revoke(used)).toBe(true);
    expect((await http.instances('compute-1')).host).toBe('compute-1');
    expect(plane.logins()).toBe(2);
    expect(plane.lastAdminToken()).not.toBe(used);
  });

  it('fails with stable codes: bad password, no admin role, unknown host, nobody listening, a malformed answer', async () => {
    const plane = await controlPlane();
    expect(await failure(httpSource(plane, { password: 'wrong-password' }).hosts())).toMatchObject({ code: 'CUMULUS_POLLSTER_AUTH_FAILED', status: 401 });
    expect(await failure(httpSource(plane, { username: plane.member.name, password: plane.member.password, projectName: plane.member.project }).hosts())).toMatchObject({
      code: 'CUMULUS_POLLSTER_SOURCE_REFUSED',
      status: 403,
      message: expect.stringContaining('CUMULUS_CLOUD_FORBIDDEN'),
    });
    expect(await failure(httpSource(plane).hostStats('compute-9'))).toMatchObject({ code: 'CUMULUS_POLLSTER_SOURCE_REFUSED', status: 404, message: expect.stringContaining('compute-9') });

    // A port nothing listens on (taken and released).
    const spare = Fastify();
    await spare.listen({ host: '127.0.0.1', port: 0 });
    const address = spare.server.address();
    await spare.close();
    const deadUrl = typeof address === 'object' && address ? `http://127.0.0.1:${address.port}` : 'http://127.0.0.1:9';
    const unreachable = createHttpComputeSource({ authUrl: `${deadUrl}/identity/v3`, adminUrl: `${deadUrl}/cloud-admin/v1`, username: 'admin', password: ADMIN_PASSWORD }, { clock: plane.clock, logger: silentLogger() });
    expect(await failure(unreachable.hosts())).toMatchObject({ code: 'CUMULUS_POLLSTER_SOURCE_UNAVAILABLE', status: null });

    // An answer that lost a counter is refused with its path, not turned into NaN samples.
    const tampering: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input).endsWith('/instances')) return response;
      const body = (await response.json()) as { instances: Array<{ cpu: Record<string, unknown> }> };
      delete body.instances[0]?.cpu.time;
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const host = (await httpSource(plane).hosts()).find((h) => h.running_instances > 0)?.name as string;
    expect(await failure(httpSource(plane, {}, { fetch: tampering }).instances(host))).toMatchObject({ code: 'CUMULUS_POLLSTER_BAD_RESPONSE', message: expect.stringContaining('instances.0.cpu.time') });
  });

  it('refuses settings that cannot work, naming the field', async () => {
    const plane = await controlPlane();
    const deps = { clock: plane.clock, logger: silentLogger() };
    const base = { authUrl: `${plane.url}/identity/v3`, adminUrl: `${plane.url}/cloud-admin/v1`, username: 'admin', password: ADMIN_PASSWORD };
    expect(() => createHttpComputeSource({ ...base, authUrl: 'ftp://keystone' }, deps)).toThrow(ConfigError);
    expect(() => createHttpComputeSource({ ...base, adminUrl: 'not a url' }, deps)).toThrow(/pollsters\.compute\.adminUrl/);
    expect(() => createHttpComputeSource({ ...base, password: '' }, deps)).toThrow(/pollsters\.compute\.password/);
    expect(() => createHttpComputeSource({ ...base, requestTimeoutMs: 0 }, deps)).toThrow(/pollsters\.compute\.requestTimeoutMs/);
    // A trailing slash on the URLs means the same.
    const slashed = createHttpComputeSource({ ...base, authUrl: `${base.authUrl}/`, adminUrl: `${base.adminUrl}/` }, deps);
    expect((await slashed.hosts()).length).toBe(2);
  });
});
