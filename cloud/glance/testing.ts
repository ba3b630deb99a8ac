import Fastify, { type FastifyInstance } from 'fastify';
import { InProcessBus, ManualClock, migrateState, openStateDatabase, silentLogger, type BusConsumerHandle, type StateDatabase } from '../../core/index.ts';
import { KeystoneService } from '../keystone/service.ts';
import { Notifier } from '../notifier.ts';
import { CLOUD_MIGRATIONS } from '../state.ts';
import { createGlance, type Glance } from './index.ts';

/*
 * Test support for the glance module (not a test itself): an in-memory control plane
 * with our Keystone, the glance module mounted on a Fastify app, and every
 * notification on the `glance` exchange captured.
 */

export const ADMIN_PASSWORD = 'admin-password-1';
export const PUBLIC_URL = 'http://cloud.test:8000';
export const NOW = new Date('2026-01-02T03:04:05.678Z');

export interface CapturedNotification {
  routingKey: string;
  envelope: Record<string, unknown>;
  message: { event_type: string; publisher_id: string; priority: string; payload: Record<string, unknown> } & Record<string, unknown>;
}

export interface Caller {
  token: string;
  userId: string;
  projectId: string;
}

export interface GlanceHarness {
  app: FastifyInstance;
  glance: Glance;
  keystone: KeystoneService;
  db: StateDatabase;
  clock: ManualClock;
  notifications: CapturedNotification[];
  events(): string[];
  /** Resolves once `count` notifications have arrived (the in-process bus delivers asynchronously). */
  waitForNotifications(count: number): Promise<void>;
  admin: Caller;
  member(name: string, role?: string): Caller;
  /**
   * Back to an empty image table, no captured notifications and the clock at NOW, keeping
   * the identities: password hashing makes users costly, so a test file builds them once.
   */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function glanceHarness(): Promise<GlanceHarness> {
  const db = openStateDatabase(':memory:');
  migrateState(db, 'cloud', CLOUD_MIGRATIONS);
  const clock = new ManualClock(NOW);
  const keystone = new KeystoneService(db, clock, 3600_000);
  keystone.bootstrap(ADMIN_PASSWORD);
  const bus = new InProcessBus(silentLogger());
  await bus.start();
  const notifications: CapturedNotification[] = [];
  const handle: BusConsumerHandle = await bus.subscribe(
    { queue: 'test.glance', bindings: [{ exchange: 'glance', routingKey: 'notifications.*' }], batchSize: 100, batchWaitMs: 1 },
    {
      async consume(batch) {
        for (const delivery of batch) {
          const envelope = JSON.parse(delivery.body.toString()) as Record<string, unknown>;
          notifications.push({ routingKey: delivery.routingKey, envelope, message: JSON.parse(envelope['oslo.message'] as string) as CapturedNotification['message'] });
        }
      },
    },
  );
  const glance = createGlance({ db, notifier: new Notifier(bus, clock), keystone, clock, logger: silentLogger(), publicUrl: PUBLIC_URL, region: 'RegionOne' });
  const app = Fastify();
  glance.register(app);
  await app.ready();

  const admin = keystone.authenticate({
    identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: ADMIN_PASSWORD } } },
    scope: { project: { name: 'admin', domain: { name: 'Default' } } },
  });
  return {
    app,
    glance,
    keystone,
    db,
    clock,
    notifications,
    events: () => notifications.map((n) => n.message.event_type),
    async waitForNotifications(count) {
      const deadline = Date.now() + 2000;
      while (notifications.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} notifications, got ${notifications.length}: ${notifications.map((n) => n.message.event_type).join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    },
    admin: { token: admin.id, userId: admin.userId, projectId: admin.project?.id ?? '' },
    member(name, role = 'member') {
      const project = keystone.createProject({ name: `${name}-project` });
      const user = keystone.createUser({ name, password: `${name}-password`, defaultProjectId: project.id });
      keystone.assignProjectRole(user.id, project.id, role);
      const token = keystone.authenticate({
        identity: { methods: ['password'], password: { user: { id: user.id, password: `${name}-password` } } },
        scope: { project: { id: project.id } },
      });
      return { token: token.id, userId: user.id, projectId: project.id };
    },
    async reset() {
      const deadline = Date.now() + 2000;
      while (bus.depth('test.glance') > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
      await new Promise((resolve) => setTimeout(resolve, 5));
      db.exec('DELETE FROM glance_images');
      notifications.length = 0;
      clock.set(NOW);
    },
    async close() {
      await handle.close();
      await app.close();
      await bus.stop();
      db.close();
    },
  };
}

/** A response with its JSON body parsed (null when empty or not JSON; `text` keeps it raw). */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: Record<string, unknown> | null;
  text: string;
}

/** Sends a request the way openstacksdk does: token header, JSON body unless told otherwise. */
export async function send(
  h: GlanceHarness,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  token: string | null,
  options: { json?: unknown; payload?: Buffer | string; contentType?: string; accept?: string } = {},
): Promise<Answer> {
  // JSON error bodies unless told otherwise (glance negotiates them like webob).
  const headers: Record<string, string> = { accept: options.accept ?? 'application/json' };
  if (token) headers['x-auth-token'] = token;
  let payload: Buffer | string | undefined;
  if (options.json !== undefined) {
    payload = JSON.stringify(options.json);
    headers['content-type'] = options.contentType ?? 'application/json';
  } else if (options.payload !== undefined) {
    payload = options.payload;
    headers['content-type'] = options.contentType ?? 'application/octet-stream';
  }
  const response = await h.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
  const isJson = String(response.headers['content-type'] ?? '').includes('json');
  return { status: response.statusCode, headers: response.headers, body: response.body && isJson ? (JSON.parse(response.body) as Record<string, unknown>) : null, text: response.body };
}

/** The body openstacksdk's create_image POSTs for `openstack image create --disk-format qcow2 NAME`. */
export function sdkCreateBody(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    container_format: 'bare',
    disk_format: 'qcow2',
    name,
    'owner_specified.openstack.md5': '',
    'owner_specified.openstack.sha256': '',
    'owner_specified.openstack.object': `images/${name}`,
    ...extra,
  };
}

/** Bytes that start with a qcow2 header declaring `virtualSize`. */
export function qcow2Bytes(virtualSize: number, totalBytes = 4096): Buffer {
  const data = Buffer.alloc(totalBytes, 7);
  data.writeUInt32BE(0x514649fb, 0);
  data.writeUInt32BE(3, 4);
  data.writeBigUInt64BE(BigInt(virtualSize), 24);
  return data;
}
