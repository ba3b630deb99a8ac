import Database from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';
import { InProcessBus, ManualClock, migrateState, openStateDatabase, silentLogger, type BusConsumerHandle, type BusDelivery, type StateDatabase } from '../../core/index.ts';
import { KeystoneService } from '../keystone/service.ts';
import { Notifier } from '../notifier.ts';
import { CLOUD_MIGRATIONS } from '../state.ts';
import type { NeutronConfig } from './config.ts';
import { createNeutron } from './index.ts';
import type { NeutronService } from './service.ts';

/** Shared by the Neutron tests: one in-memory cloud with Keystone, Neutron and a capture of `neutron` notifications. */

export const NOW = new Date('2026-01-02T03:04:05.678Z');
export const ADMIN_PASSWORD = 'admin-password-1';
export const PUBLIC_URL = 'http://cloud.test:8000';

export type Json = Record<string, unknown>;

/** A Neutron object as the tests read it: an id, and whatever else they assert on. */
export interface Resource {
  id: string;
  [key: string]: unknown;
}

export interface Notification {
  routingKey: string;
  eventType: string;
  publisherId: string;
  priority: string;
  payload: Json;
  message: Json;
}

export interface Member {
  token: string;
  userId: string;
  projectId: string;
}

export interface Harness {
  app: FastifyInstance;
  neutron: NeutronService;
  keystone: KeystoneService;
  clock: ManualClock;
  db: StateDatabase;
  notifications: Notification[];
  adminToken: string;
  adminProjectId: string;
  alice: Member;
  bob: Member;
  /** An HTTP call; `T` is the body shape the test expects (asserted, not checked). */
  call<T = Json>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, token: string | null, body?: unknown): Promise<{ status: number; headers: Json; body: T }>;
  /** Waits until a notification of the type arrived (the in-process bus delivers asynchronously). */
  notification(eventType: string, match?: (n: Notification) => boolean): Promise<Notification>;
  close(): Promise<void>;
}

export async function until(condition: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Keystone state the tests start from: scrypt makes users slow to create, so it is built once and copied. */
interface Identity {
  image: ReturnType<StateDatabase['serialize']>;
  adminToken: string;
  adminProjectId: string;
  alice: Member;
  bob: Member;
}

let identity: Identity | undefined;

function buildIdentity(): Identity {
  const db = openStateDatabase(':memory:');
  migrateState(db, 'cloud', CLOUD_MIGRATIONS);
  const keystone = new KeystoneService(db, new ManualClock(NOW), 3_600_000);
  keystone.bootstrap(ADMIN_PASSWORD);
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
  const built: Omit<Identity, 'image'> = { adminToken: admin.id, adminProjectId: admin.project?.id ?? '', alice: member('alice'), bob: member('bob') };
  const image = db.serialize();
  db.close();
  return { ...built, image };
}

export async function neutronHarness(config: Partial<NeutronConfig> = {}): Promise<Harness> {
  identity ??= buildIdentity();
  const { adminToken, adminProjectId, alice, bob } = identity;
  const db = new Database(identity.image);
  db.pragma('foreign_keys = ON');
  const clock = new ManualClock(NOW);
  const keystone = new KeystoneService(db, clock, 3_600_000);
  const bus = new InProcessBus(silentLogger());
  await bus.start();
  const notifications: Notification[] = [];
  const handle: BusConsumerHandle = await bus.subscribe(
    { queue: 'test.neutron', bindings: [{ exchange: 'neutron', routingKey: 'notifications.*' }], batchSize: 100, batchWaitMs: 1 },
    {
      async consume(batch: readonly BusDelivery[]) {
        for (const delivery of batch) {
          const envelope = JSON.parse(delivery.body.toString()) as Json;
          const message = JSON.parse(envelope['oslo.message'] as string) as Json;
          notifications.push({ routingKey: delivery.routingKey, eventType: String(message.event_type), publisherId: String(message.publisher_id), priority: String(message.priority), payload: message.payload as Json, message });
        }
      },
    },
  );
  const module = createNeutron(
    { db, notifier: new Notifier(bus, clock), keystone, clock, logger: silentLogger(), publicUrl: PUBLIC_URL, region: 'RegionOne' },
    { host: 'net-1', ...config },
  );
  await module.start?.();
  const app = Fastify();
  module.register(app);
  await app.ready();

  return {
    app,
    neutron: module.service,
    keystone,
    clock,
    db,
    notifications,
    adminToken,
    adminProjectId,
    alice,
    bob,
    async call<T = Json>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, token: string | null, body?: unknown) {
      const response = await app.inject({
        method,
        url,
        headers: token ? { 'x-auth-token': token } : {},
        ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
      });
      return { status: response.statusCode, headers: { ...response.headers }, body: (response.body ? JSON.parse(response.body) : null) as T };
    },
    async notification(eventType, match = () => true) {
      const find = () => notifications.find((n) => n.eventType === eventType && match(n));
      await until(() => find() !== undefined, `notification ${eventType}`);
      return find() as Notification;
    },
    async close() {
      await module.stop?.();
      await handle.close();
      await app.close();
      await bus.stop();
      db.close();
    },
  };
}
