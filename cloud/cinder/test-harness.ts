import Fastify, { type FastifyInstance } from 'fastify';
import { InProcessBus, ManualClock, migrateState, openStateDatabase, silentLogger, type BusConsumerHandle, type BusDelivery, type StateDatabase } from '../../core/index.ts';
import { KeystoneService } from '../keystone/service.ts';
import { Notifier } from '../notifier.ts';
import { CLOUD_MIGRATIONS } from '../state.ts';
import { createCinder, type CinderOptions, type CinderService } from './index.ts';

/** Shared by Cinder's tests: one in-memory cloud with Keystone, Cinder and a capture of what Cinder publishes. */

export const NOW = new Date('2026-01-02T03:04:05.678Z');
export const PUBLIC_URL = 'http://cloud.test:8000';
const ADMIN_PASSWORD = 'admin-password-1';

/** A parsed JSON body seen loosely: any member can be read, assertions decide what it is. */
export interface Json {
  [key: string]: Json;
}

/** A JSON array member, as a list. */
export const items = (value: Json | undefined): Json[] => (Array.isArray(value) ? (value as unknown as Json[]) : []);

export interface Captured {
  exchange: string;
  routingKey: string;
  envelope: Json;
  message: Json;
}

export interface Member {
  token: string;
  userId: string;
  projectId: string;
}

export interface Harness {
  app: FastifyInstance;
  cinder: CinderService;
  keystone: KeystoneService;
  clock: ManualClock;
  db: StateDatabase;
  captured: Captured[];
  events: () => string[];
  admin: Member;
  alice: Member;
  bob: Member;
  /** Lets every transition under way finish. */
  settle: () => Promise<void>;
  /** Waits until `count` notifications arrived (the in-process bus delivers asynchronously). */
  received: (count: number) => Promise<void>;
  call: (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, who: Member | null, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; headers: Record<string, string>; body: Json }>;
  close: () => Promise<void>;
}

export async function until(condition: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export async function cinderHarness(options: CinderOptions = {}): Promise<Harness> {
  const db = openStateDatabase(':memory:');
  migrateState(db, 'cloud', CLOUD_MIGRATIONS);
  const clock = new ManualClock(NOW);
  const keystone = new KeystoneService(db, clock, 3600_000);
  keystone.bootstrap(ADMIN_PASSWORD);
  const bus = new InProcessBus(silentLogger());
  await bus.start();
  const notifier = new Notifier(bus, clock);
  const module = createCinder({ db, notifier, keystone, clock, logger: silentLogger(), publicUrl: PUBLIC_URL, region: 'RegionOne' }, { transitionDelayMs: 5, ...options });
  await module.start?.();
  const app = Fastify();
  module.register(app);
  await app.ready();

  const captured: Captured[] = [];
  const handle: BusConsumerHandle = await bus.subscribe(
    { queue: 'test.cinder', bindings: [{ exchange: 'cinder', routingKey: 'notifications.*' }], batchSize: 100, batchWaitMs: 1 },
    {
      async consume(batch: readonly BusDelivery[]) {
        for (const delivery of batch) {
          const envelope = JSON.parse(delivery.body.toString()) as Json;
          captured.push({ exchange: delivery.exchange, routingKey: delivery.routingKey, envelope, message: JSON.parse(String(envelope['oslo.message'])) as Json });
        }
      },
    },
  );

  const admin = keystone.authenticate({
    identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: ADMIN_PASSWORD } } },
    scope: { project: { name: 'admin', domain: { name: 'Default' } } },
  });
  const member = (name: string): Member => {
    const project = keystone.createProject({ name: `${name}-project` });
    const user = keystone.createUser({ name, password: `${name}-password`, defaultProjectId: project.id });
    keystone.assignProjectRole(user.id, project.id, 'member');
    const token = keystone.authenticate({ identity: { methods: ['password'], password: { user: { id: user.id, password: `${name}-password` } } } });
    return { token: token.id, userId: user.id, projectId: project.id };
  };

  const harness: Harness = {
    app,
    cinder: module.service,
    keystone,
    clock,
    db,
    captured,
    events: () => captured.map((c) => String(c.message.event_type)),
    admin: { token: admin.id, userId: admin.userId, projectId: admin.project?.id ?? '' },
    alice: member('alice'),
    bob: member('bob'),
    settle: () => module.service.stop(),
    received: (count) => until(() => captured.length >= count, `${count} notifications (got ${captured.length}: ${captured.map((c) => String(c.message.event_type)).join(', ')})`),
    async call(method, path, who, body, headers = {}) {
      const url = path.startsWith('/volume/') ? path : `/volume/v3/${who?.projectId ?? 'none'}${path}`;
      const response = await app.inject({
        method,
        url,
        headers: { ...(who ? { 'x-auth-token': who.token } : {}), ...headers },
        ...(body === undefined ? {} : { payload: body as object }),
      });
      return { status: response.statusCode, headers: response.headers as Record<string, string>, body: (response.body ? JSON.parse(response.body) : {}) as Json };
    },
    async close() {
      await module.stop?.();
      await handle.close();
      await app.close();
      await bus.stop();
      db.close();
    },
  };
  return harness;
}
