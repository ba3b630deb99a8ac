/** Test-only: a control plane on an in-memory bus and SQLite, with captured notifications, for the Nova tests. */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, expect } from 'vitest';
import { InProcessBus, ManualClock, openStateDatabase, silentLogger, type BusConsumerHandle, type BusDelivery, type StateDatabase } from '../../core/index.ts';
import { createCloud, type Cloud, type CloudConfig } from '../index.ts';

export const NOW = new Date('2026-01-02T03:04:05.678Z');
export const ADMIN_PASSWORD = 'admin-password-1';
export const IMAGE = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

export async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export interface Captured {
  routingKey: string;
  envelope: Record<string, unknown>;
  message: Record<string, unknown> & { event_type: string; payload: Record<string, unknown> };
}

export interface Harness {
  app: FastifyInstance;
  cloud: Cloud;
  bus: InProcessBus;
  db: StateDatabase;
  captured: Captured[];
  events: () => string[];
  adminToken: string;
  alice: { token: string; userId: string; projectId: string };
  bob: { token: string; userId: string; projectId: string };
}

const config = (overrides: Partial<CloudConfig> = {}): CloudConfig => ({
  publicUrl: 'http://cloud.test:8000',
  region: 'RegionOne',
  adminPassword: ADMIN_PASSWORD,
  tokenTtlMs: 60 * 60 * 1000,
  buildDelayMs: 5,
  computeHosts: [
    { name: 'compute-1', availabilityZone: 'nova', vcpus: 8, memoryMb: 16384, diskGb: 200 },
    { name: 'compute-2', availabilityZone: 'nova', vcpus: 8, memoryMb: 32768, diskGb: 200 },
  ],
  ...overrides,
});

const open: Array<() => Promise<void>> = [];

export async function harness(overrides: Partial<CloudConfig> = {}): Promise<Harness> {
  const db = openStateDatabase(':memory:');
  const bus = new InProcessBus(silentLogger());
  await bus.start();
  const cloud = createCloud(config(overrides), { db, bus, clock: new ManualClock(NOW), logger: silentLogger() });
  await cloud.start();
  const app = Fastify();
  cloud.register(app);
  await app.ready();

  const captured: Captured[] = [];
  const handle: BusConsumerHandle = await bus.subscribe(
    { queue: 'test.capture', bindings: [{ exchange: 'nova', routingKey: 'notifications.*' }], batchSize: 100, batchWaitMs: 1 },
    {
      async consume(batch: readonly BusDelivery[]) {
        for (const delivery of batch) {
          const envelope = JSON.parse(delivery.body.toString()) as Record<string, unknown>;
          const message = JSON.parse(envelope['oslo.message'] as string) as Captured['message'];
          // The CADF audit filter's events go to the same exchange; these tests look at Nova's own.
          if (!message.event_type.startsWith('audit.http.')) captured.push({ routingKey: delivery.routingKey, envelope, message });
        }
      },
    },
  );
  open.push(async () => {
    await cloud.stop();
    await handle.close();
    await app.close();
    await bus.stop();
    db.close();
  });

  const member = (name: string) => {
    const project = cloud.keystone.createProject({ name: `${name}-project` });
    const user = cloud.keystone.createUser({ name, password: `${name}-password`, defaultProjectId: project.id });
    cloud.keystone.assignProjectRole(user.id, project.id, 'member');
    const token = cloud.keystone.authenticate({ identity: { methods: ['password'], password: { user: { id: user.id, password: `${name}-password` } } } });
    return { token: token.id, userId: user.id, projectId: project.id };
  };
  const adminToken = cloud.keystone.authenticate({
    identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: ADMIN_PASSWORD } } },
    scope: { project: { name: 'admin', domain: { id: 'default' } } },
  }).id;
  return { app, cloud, bus, db, captured, events: () => captured.map((c) => c.message.event_type), adminToken, alice: member('alice'), bob: member('bob') };
}

afterEach(async () => {
  for (const close of open.splice(0)) await close();
});

export type Json = Record<string, any>;

export async function call(h: Harness, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, token: string | null, body?: unknown, headers: Record<string, string> = {}) {
  const response = await h.app.inject({
    method,
    url: `/compute/v2.1${url}`,
    headers: { ...(token ? { 'x-auth-token': token } : {}), ...headers },
    ...(body === undefined ? {} : { payload: body as Json }),
  });
  return { status: response.statusCode, headers: response.headers, body: (response.body ? JSON.parse(response.body) : null) as Json };
}

export async function createFlavor(h: Harness, flavor: Json = {}) {
  const response = await call(h, 'POST', '/flavors', h.adminToken, { flavor: { name: 'm1.small', vcpus: 1, ram: 2048, disk: 20, ...flavor } });
  expect(response.status).toBe(200);
  return response.body.flavor as Json;
}

export async function createServer(h: Harness, token: string, flavorRef: string, name = 'web-1') {
  const response = await call(h, 'POST', '/servers', token, { server: { name, flavorRef, imageRef: IMAGE, metadata: { role: 'web' } } });
  expect(response.status).toBe(202);
  return response.body.server as Json;
}

