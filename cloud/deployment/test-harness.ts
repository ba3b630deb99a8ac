/** Test-only: a deployment on SQLite with service logs in a temp dir, and a control plane with the admin API and the fault gate. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach } from 'vitest';
import { InProcessBus, ManualClock, TelemetryRegistry, openStateDatabase, silentLogger, type BusDelivery, type ComponentTelemetry, type StateDatabase } from '../../core/index.ts';
import { createCloud, type Cloud } from '../index.ts';
import { createServiceLogWriter, type ServiceLogWriter } from '../logs/index.ts';
import { Notifier } from '../notifier.ts';
import { createDeployment, type Deployment } from './deployment.ts';
import { registerFaultGate } from './gate.ts';
import { FAULT_EXCHANGE } from './notifications.ts';
import { registerDeploymentRoutes } from './routes.ts';

export const NOW = new Date('2026-11-24T17:00:00.000Z');
export const ADMIN_PASSWORD = 'admin-password-1';
export const COMPUTE_HOSTS = ['compute-1', 'compute-2'] as const;

export interface CapturedNotification {
  exchange: string;
  routingKey: string;
  message: { event_type: string; publisher_id: string; priority: string; payload: Record<string, unknown> } & Record<string, unknown>;
}

export interface DeploymentHarness {
  db: StateDatabase;
  clock: ManualClock;
  bus: InProcessBus;
  logDir: string;
  writer: ServiceLogWriter;
  deployment: Deployment;
  /** What Nova was told, in order. */
  computeStates: Array<[string, 'up' | 'down']>;
  telemetry: ComponentTelemetry;
  notifications: CapturedNotification[];
  /** A log file's lines, after flushing both writers; [] when the file does not exist. */
  lines(host: string, file: string): Promise<string[]>;
  /** A new writer and deployment on the same database and log directory: a platform restart. */
  restart(): Promise<Deployment>;
}

const cleanups: Array<() => Promise<void>> = [];

/** Every notification on the `cumulus` exchange, as the audit capture would see them. */
async function captureFaults(bus: InProcessBus): Promise<{ notifications: CapturedNotification[]; close(): Promise<void> }> {
  const notifications: CapturedNotification[] = [];
  const handle = await bus.subscribe(
    { queue: `test.faults.${crypto.randomUUID()}`, bindings: [{ exchange: FAULT_EXCHANGE, routingKey: 'notifications.*' }], batchSize: 100, batchWaitMs: 1 },
    {
      async consume(batch: readonly BusDelivery[]) {
        for (const d of batch) {
          const envelope = JSON.parse(d.body.toString()) as { 'oslo.message': string };
          notifications.push({ exchange: d.exchange, routingKey: d.routingKey, message: JSON.parse(envelope['oslo.message']) as CapturedNotification['message'] });
        }
      },
    },
  );
  return { notifications, close: () => handle.close() };
}

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Nova's side of computeHostState, as the composition wires it (see the report: NovaService.setHostState). */
export const novaHostState = (db: StateDatabase) => (host: string, state: 'up' | 'down') => {
  db.prepare('UPDATE compute_hosts SET state = ? WHERE name = ?').run(state, host);
};

export async function deploymentHarness(options: { db?: StateDatabase; bus?: InProcessBus; clock?: ManualClock; computeHostState?: (host: string, state: 'up' | 'down') => void } = {}): Promise<DeploymentHarness> {
  const db = options.db ?? openStateDatabase(':memory:');
  const clock = options.clock ?? new ManualClock(NOW);
  const bus = options.bus ?? new InProcessBus(silentLogger());
  if (!options.bus) await bus.start();
  const root = mkdtempSync(join(tmpdir(), 'cumulus-deployment-'));
  const logDir = join(root, 'logs');
  const capture = await captureFaults(bus);
  const computeStates: Array<[string, 'up' | 'down']> = [];
  const telemetry = new TelemetryRegistry().component('cloud.deployment');
  const notifier = new Notifier(bus, clock);
  let writer = createServiceLogWriter({ directory: logDir, apiHost: 'controller-1' }, { clock });
  const build = async () => {
    await writer.start();
    const deployment = createDeployment(
      { computeHosts: [...COMPUTE_HOSTS] },
      {
        db,
        clock,
        notifier,
        logger: silentLogger(),
        logs: writer,
        telemetry,
        computeHostState: (host, state) => {
          computeStates.push([host, state]);
          options.computeHostState?.(host, state);
        },
      },
    );
    await deployment.start();
    return deployment;
  };
  const h: DeploymentHarness = {
    db,
    clock,
    bus,
    logDir,
    writer,
    deployment: await build(),
    computeStates,
    telemetry,
    notifications: capture.notifications,
    async lines(host, file) {
      await writer.flush();
      await h.deployment.flush();
      const path = join(logDir, host, file);
      return existsSync(path) ? readFileSync(path, 'utf8').trimEnd().split('\n') : [];
    },
    async restart() {
      await h.deployment.stop();
      await writer.stop();
      writer = createServiceLogWriter({ directory: logDir, apiHost: 'controller-1' }, { clock });
      h.writer = writer;
      h.deployment = await build();
      return h.deployment;
    },
  };
  cleanups.push(async () => {
    await h.deployment.stop();
    await writer.stop();
    await capture.close();
    if (!options.bus) await bus.stop();
    if (!options.db) db.close();
    rmSync(root, { recursive: true, force: true });
  });
  return h;
}

export interface PlatformHarness extends DeploymentHarness {
  app: FastifyInstance;
  cloud: Cloud;
  adminToken: string;
  member: { token: string; userId: string; projectId: string };
}

/**
 * The control plane with the admin API and the fault gate on one fastify server. Once
 * cloud/index.ts composes the deployment (see the report), the cloud brings its own and
 * registers both; until then the harness wires one here as the composition would.
 */
export async function platformHarness(options: { listen?: boolean } = {}): Promise<PlatformHarness> {
  const db = openStateDatabase(':memory:');
  const bus = new InProcessBus(silentLogger());
  await bus.start();
  const clock = new ManualClock(NOW);
  const root = mkdtempSync(join(tmpdir(), 'cumulus-platform-'));
  const cloud = createCloud(
    {
      publicUrl: 'http://cloud.test:8000',
      region: 'RegionOne',
      adminPassword: ADMIN_PASSWORD,
      tokenTtlMs: 60 * 60 * 1000,
      buildDelayMs: 5,
      computeHosts: COMPUTE_HOSTS.map((name) => ({ name, availabilityZone: 'nova', vcpus: 8, memoryMb: 16384, diskGb: 200 })),
      logDirectory: join(root, 'logs'),
    },
    { db, bus, clock, logger: silentLogger() },
  );
  await cloud.start();
  const composed = 'deployment' in cloud ? (cloud as unknown as { deployment: Deployment }).deployment : null;
  const base = composed ? await adopt(composed, { db, bus, clock, logDir: join(root, 'logs') }) : await deploymentHarness({ db, bus, clock, computeHostState: novaHostState(db) });
  const app = Fastify();
  cloud.register(app);
  if (!composed) {
    // After the audit middleware (cloud.register adds it first); the admin API outside the gate.
    registerFaultGate(app, base.deployment);
    registerDeploymentRoutes(app, base.deployment, cloud.keystone);
  }
  if (options.listen) await app.listen({ port: 0, host: '127.0.0.1' });
  else await app.ready();
  cleanups.unshift(async () => {
    await app.close();
    await cloud.stop();
    await bus.stop();
    db.close();
    rmSync(root, { recursive: true, force: true });
  });
  const adminToken = cloud.keystone.authenticate({
    identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: ADMIN_PASSWORD } } },
    scope: { project: { name: 'admin', domain: { id: 'default' } } },
  }).id;
  const project = cloud.keystone.createProject({ name: 'alice-project' });
  const user = cloud.keystone.createUser({ name: 'alice', password: 'alice-password', defaultProjectId: project.id });
  cloud.keystone.assignProjectRole(user.id, project.id, 'member');
  const memberToken = cloud.keystone.authenticate({ identity: { methods: ['password'], password: { user: { id: user.id, password: 'alice-password' } } } }).id;
  return Object.assign(base, { app, cloud, adminToken, member: { token: memberToken, userId: user.id, projectId: project.id } });
}

/** The cloud's own deployment: its daemon files flush here; its oslo lines are the cloud writer's and may lag. */
async function adopt(deployment: Deployment, deps: { db: StateDatabase; bus: InProcessBus; clock: ManualClock; logDir: string }): Promise<DeploymentHarness> {
  const capture = await captureFaults(deps.bus);
  cleanups.push(() => capture.close());
  const writer = createServiceLogWriter({ directory: deps.logDir }, { clock: deps.clock });
  return {
    ...deps,
    writer,
    deployment,
    computeStates: [],
    telemetry: new TelemetryRegistry().component('cloud.deployment'),
    notifications: capture.notifications,
    async lines(host, file) {
      await deployment.flush();
      const path = join(deps.logDir, host, file);
      return existsSync(path) ? readFileSync(path, 'utf8').trimEnd().split('\n') : [];
    },
    async restart() {
      throw new Error('the composed cloud owns its deployment: restart the cloud instead');
    },
  };
}
