/** Test-only: Keystone, Nova and Heat on an in-memory bus and SQLite, with captured notifications. */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach } from 'vitest';
import { InProcessBus, ManualClock, openStateDatabase, silentLogger, type BusConsumerHandle, type BusDelivery, type StateDatabase } from '../../core/index.ts';
import { createCloud, type Cloud } from '../index.ts';
import type { Heat, HeatOptions } from './index.ts';

export const NOW = new Date('2026-01-02T03:04:05.678Z');
export const PUBLIC_URL = 'http://cloud.test:8000';
export const IMAGE = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

export type Json = Record<string, unknown>;

/** A value inside a parsed body by dotted path (`stack.links.0.href`); undefined when absent. */
export function get(value: unknown, path: string): unknown {
  let current = value;
  for (const step of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

export const text = (value: unknown, path: string): string => String(get(value, path));
export const list = (value: unknown, path: string): Json[] => (get(value, path) ?? []) as Json[];

export interface Captured {
  exchange: string;
  routingKey: string;
  message: Json & { event_type: string; publisher_id: string; priority: string; payload: Json };
}

export interface Member {
  token: string;
  userId: string;
  projectId: string;
}

export interface Harness {
  app: FastifyInstance;
  cloud: Cloud;
  heat: Pick<Heat, 'service'>;
  clock: ManualClock;
  db: StateDatabase;
  captured: Captured[];
  /** Event types seen on the `heat` exchange, in order. */
  heatEvents: () => string[];
  admin: Member;
  alice: Member;
  bob: Member;
}

export async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const open: Array<() => Promise<void>> = [];
const openForFile: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const close of open.splice(0)) await close();
});
afterAll(async () => {
  for (const close of openForFile.splice(0)) await close();
});

/** A control plane closed after the test; `lifetime: 'file'` keeps it for a beforeAll shared by read-only cases. */
export async function harness(options: Partial<HeatOptions> = {}, lifetime: 'test' | 'file' = 'test'): Promise<Harness> {
  const db = openStateDatabase(':memory:');
  const bus = new InProcessBus(silentLogger());
  await bus.start();
  const clock = new ManualClock(NOW);
  let cloud: Cloud;
  try {
    cloud = createCloud(
      {
        publicUrl: PUBLIC_URL,
        region: 'RegionOne',
        adminPassword: 'admin-password-1',
        tokenTtlMs: 60 * 60 * 1000,
        buildDelayMs: 5,
        computeHosts: [{ name: 'compute-1', availabilityZone: 'nova', vcpus: 8, memoryMb: 16384, diskGb: 200 }],
      },
      { db, bus, clock, logger: silentLogger() },
      { heat: { host: 'heat-engine-1', pollIntervalMs: 2, ...options } },
    );
  } catch (err) {
    // The options tests expect this refusal: close what was opened for it.
    await bus.stop();
    db.close();
    throw err;
  }
  await cloud.start();
  const heat: Pick<Heat, 'service'> = { service: cloud.heat };
  const app = Fastify();
  cloud.register(app);
  await app.ready();

  const captured: Captured[] = [];
  const handle: BusConsumerHandle = await bus.subscribe(
    { queue: 'test.capture', bindings: ['heat', 'nova'].map((exchange) => ({ exchange, routingKey: 'notifications.*' })), batchSize: 100, batchWaitMs: 1 },
    {
      async consume(batch: readonly BusDelivery[]) {
        for (const delivery of batch) {
          const envelope = JSON.parse(delivery.body.toString()) as Json;
          const message = JSON.parse(envelope['oslo.message'] as string) as Captured['message'];
          // The CADF audit filter publishes on the same exchanges; these tests look at the services' own events.
          if (!message.event_type.startsWith('audit.http.')) captured.push({ exchange: delivery.exchange, routingKey: delivery.routingKey, message });
        }
      },
    },
  );
  (lifetime === 'file' ? openForFile : open).push(async () => {
    await cloud.stop();
    await handle.close();
    await app.close();
    await bus.stop();
    db.close();
  });

  cloud.nova.createFlavor({ id: 'small', name: 'm1.small', vcpus: 1, ram: 2048, disk: 20 });
  // Within the default quota (51200 MB) but larger than any host: the scheduler finds no valid host.
  cloud.nova.createFlavor({ id: 'huge', name: 'm1.huge', vcpus: 4, ram: 40_960, disk: 20 });

  const member = (name: string): Member => {
    const project = cloud.keystone.createProject({ name: `${name}-project` });
    const user = cloud.keystone.createUser({ name, password: `${name}-password`, defaultProjectId: project.id });
    cloud.keystone.assignProjectRole(user.id, project.id, 'member');
    const token = cloud.keystone.authenticate({ identity: { methods: ['password'], password: { user: { id: user.id, password: `${name}-password` } } } });
    return { token: token.id, userId: user.id, projectId: project.id };
  };
  const adminToken = cloud.keystone.authenticate({
    identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: 'admin-password-1' } } },
    scope: { project: { name: 'admin', domain: { id: 'default' } } },
  });
  const admin: Member = { token: adminToken.id, userId: adminToken.userId, projectId: adminToken.project?.id ?? '' };
  return {
    app,
    cloud,
    heat,
    clock,
    db,
    captured,
    heatEvents: () => captured.filter((c) => c.exchange === 'heat').map((c) => c.message.event_type),
    admin,
    alice: member('alice'),
    bob: member('bob'),
  };
}

/** A request to the Stacks API as `who`, under their own project unless `project` says otherwise. */
export async function call(h: Harness, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, who: Member | null, body?: unknown, project?: string) {
  const response = await h.app.inject({
    method,
    url: `/heat-api/v1/${project ?? who?.projectId ?? 'none'}${path}`,
    headers: who ? { 'x-auth-token': who.token } : {},
    ...(body === undefined ? {} : { payload: body as Json }),
  });
  return { status: response.statusCode, headers: response.headers, body: (response.body ? JSON.parse(response.body) : null) as Json };
}

/** Waits until the stack leaves *_IN_PROGRESS and returns it as GET shows it. */
export async function settled(h: Harness, who: Member, stack: { id: string; name: string }): Promise<Json> {
  let shown: Json = {};
  await until(() => {
    const row = h.db.prepare('SELECT status FROM heat_stacks WHERE id = ?').get(stack.id) as { status: string } | undefined;
    return row !== undefined && row.status !== 'IN_PROGRESS';
  }, `stack ${stack.name} to settle`);
  shown = get((await call(h, 'GET', `/stacks/${stack.name}/${stack.id}`, who)).body, 'stack') as Json;
  return shown;
}

export async function createStack(h: Harness, who: Member, name: string, template: unknown, extra: Json = {}): Promise<{ id: string; name: string }> {
  const response = await call(h, 'POST', '/stacks', who, { stack_name: name, template, ...extra });
  if (response.status !== 201) throw new Error(`stack create answered ${response.status}: ${JSON.stringify(response.body)}`);
  return { id: text(response.body, 'stack.id'), name };
}
