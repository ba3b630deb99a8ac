/** Test-only: Swift on an in-memory bus and SQLite, a temp data directory, Keystone tokens and captured notifications. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach } from 'vitest';
import { InProcessBus, ManualClock, migrateState, openStateDatabase, silentLogger, type BusConsumerHandle, type BusDelivery, type StateDatabase } from '../../core/index.ts';
import { registerKeystoneRoutes } from '../keystone/routes.ts';
import { KeystoneService } from '../keystone/service.ts';
import { Notifier } from '../notifier.ts';
import { CLOUD_MIGRATIONS } from '../state.ts';
import { createSwift, SWIFT_EXCHANGE, type SwiftOptions } from './index.ts';
import type { SwiftService } from './service.ts';

export const NOW = new Date('2026-01-02T03:04:05.678Z');
export const ADMIN_PASSWORD = 'admin-password-1';
export const PUBLIC_URL = 'http://cloud.test:8000';

export interface Captured {
  routingKey: string;
  envelope: Record<string, unknown>;
  message: { event_type: string; publisher_id: string; priority: string; payload: CadfPayload } & Record<string, unknown>;
}

/** The fields of ceilometermiddleware's payload the tests read. */
export interface CadfPayload {
  typeURI: string;
  eventType: string;
  id: string;
  eventTime: string;
  action: string;
  outcome: string;
  observer: { id: string };
  initiator: { id: string; typeURI: string; project_id: string | null };
  target: { id: string; typeURI: string; action: string; metadata: { path: string; version: string; container: string | null; object: string | null } };
  measurements: Array<{ result: number; metric: { metricId: string; unit: string; name: string } }>;
}

export interface Member {
  token: string;
  userId: string;
  projectId: string;
}

export interface Harness {
  app: FastifyInstance;
  swift: ReturnType<typeof createSwift>;
  service: SwiftService;
  keystone: KeystoneService;
  db: StateDatabase;
  clock: ManualClock;
  dataDir: string;
  captured: Captured[];
  admin: Member;
  alice: Member;
  bob: Member;
  /** Adds a user with `roleName` on a fresh project (the role is created when missing). */
  member(name: string, roleName?: string): Member;
}

const open: Array<() => Promise<void>> = [];

/** `supportCopy` adds the COPY method to the server; `keystone` mounts Keystone's routes too (for the real CLI). */
export async function harness(options: Partial<SwiftOptions> = {}, server: { supportCopy?: boolean; keystone?: boolean } = {}): Promise<Harness> {
  const db = openStateDatabase(':memory:');
  migrateState(db, 'cloud', CLOUD_MIGRATIONS);
  const clock = new ManualClock(NOW);
  const keystone = new KeystoneService(db, clock, 3600_000);
  keystone.bootstrap(ADMIN_PASSWORD);
  const bus = new InProcessBus(silentLogger());
  await bus.start();
  const dataDir = mkdtempSync(join(tmpdir(), 'cumulus-swift-'));
  const swift = createSwift({ db, notifier: new Notifier(bus, clock), keystone, clock, logger: silentLogger(), publicUrl: PUBLIC_URL, region: 'RegionOne' }, { dataDir, ...options });
  const app = Fastify();
  if (server.supportCopy) app.addHttpMethod('COPY', { hasBody: true });
  if (server.keystone) registerKeystoneRoutes(app, keystone, { publicUrl: PUBLIC_URL, region: 'RegionOne' });
  swift.register(app);
  await app.ready();

  const captured: Captured[] = [];
  const handle: BusConsumerHandle = await bus.subscribe(
    { queue: 'test.swift', bindings: [{ exchange: SWIFT_EXCHANGE, routingKey: 'notifications.*' }], batchSize: 100, batchWaitMs: 1 },
    {
      async consume(batch: readonly BusDelivery[]) {
        for (const delivery of batch) {
          const envelope = JSON.parse(delivery.body.toString()) as Record<string, unknown>;
          captured.push({ routingKey: delivery.routingKey, envelope, message: JSON.parse(envelope['oslo.message'] as string) as Captured['message'] });
        }
      },
    },
  );
  open.push(async () => {
    await swift.stop?.();
    await handle.close();
    await app.close();
    await bus.stop();
    db.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const member = (name: string, roleName = 'member'): Member => {
    if (!keystone.listRoles().some((r) => r.name === roleName)) db.prepare('INSERT INTO roles (id, name) VALUES (?, ?)').run(randomUUID().replace(/-/g, ''), roleName);
    const project = keystone.createProject({ name: `${name}-project` });
    const user = keystone.createUser({ name, password: `${name}-password`, defaultProjectId: project.id });
    keystone.assignProjectRole(user.id, project.id, roleName);
    const token = keystone.authenticate({ identity: { methods: ['password'], password: { user: { id: user.id, password: `${name}-password` } } } });
    return { token: token.id, userId: user.id, projectId: project.id };
  };
  const adminToken = keystone.authenticate({
    identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: ADMIN_PASSWORD } } },
    scope: { project: { name: 'admin', domain: { name: 'Default' } } },
  });
  const admin = { token: adminToken.id, userId: adminToken.userId, projectId: adminToken.project?.id ?? '' };
  return { app, swift, service: swift.service, keystone, db, clock, dataDir, captured, admin, alice: member('alice'), bob: member('bob'), member };
}

afterEach(async () => {
  for (const close of open.splice(0)) await close();
});

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  text: string;
  raw: Buffer;
}

export type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE' | 'COPY';

/** A request under /object-storage/v1/AUTH_<project>; `path` is appended as given (already encoded). */
export async function call(h: Harness, method: Method, account: string, path: string, token: string | null, options: { body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Reply> {
  const response = await h.app.inject({
    method,
    url: `/object-storage/v1/${account}${path}`,
    headers: { ...(token ? { 'x-auth-token': token } : {}), ...options.headers },
    ...(options.body === undefined ? {} : { payload: options.body }),
  });
  return { status: response.statusCode, headers: response.headers, text: response.body, raw: response.rawPayload };
}

export const auth = (m: Member) => `AUTH_${m.projectId}`;

export async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Waits until `count` notifications arrived, and returns them. */
export async function notifications(h: Harness, count: number): Promise<Captured[]> {
  await h.swift.stop?.();
  await until(() => h.captured.length >= count, `${count} notifications (got ${h.captured.length})`);
  return h.captured.slice(0, count);
}
