import { mkdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { resolve, join } from 'node:path';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { createApi, loadAccessPolicy } from '../api/index.ts';
import { createCloud, DEFAULT_BUILD_DELAY_MS, DEFAULT_COMPUTE_HOSTS, DEFAULT_REGION, DEFAULT_TOKEN_TTL_MS, type Cloud } from '../cloud/index.ts';
import { createComputePollster, createHttpComputeSource, createInProcessComputeSource, type ComputePollster, type ComputeSource } from '../collectors/pollsters/index.ts';
import { createHttpPlacementSource } from '../collectors/pollsters/placement-http-source.ts';
import { createPlacementPollster, type PlacementPollster } from '../collectors/pollsters/placement-pollster.ts';
import { createInProcessPlacementSource, type PlacementSource } from '../collectors/pollsters/placement-source.ts';
import { createLogTailer, createDropCollector, createNotificationListener, DEFAULT_EVENT_DEFINITIONS_FILE, EventConverter, loadEventDefinitions, DEFAULT_METERS_FILE, DEFAULT_NOTIFICATION_LISTENER_CONFIG, loadMeterDefinitions, MeterMapper, streamLogConsumer } from '../collectors/index.ts';
import {
  AmqpBus,
  DEFAULT_AMQP_PUBLISH_TIMEOUT_MS,
  DEFAULT_KAFKA_PARTITIONS,
  DEFAULT_KAFKA_REPLICATION_FACTOR,
  InProcessBus,
  InProcessStream,
  KafkaStream,
  TOPICS,
  TelemetryRegistry,
  createLogger,
  openStateDatabase,
  systemClock,
  type Bus,
  type Clock,
  type CumulusConfig,
  type Logger,
  type Stream,
} from '../core/index.ts';
import { createRatingProcessor, createRatingScheduler, createStatementJob, DEFAULT_MAX_BATCH_RECORDS, loadServiceDefinitions, type RatingRun } from '../pipeline/index.ts';
import { createAlarmStore, createDriver, createHashmapStore, createReprocessStore, createStatementStore, HotRollups, migrate, MIGRATIONS, type ClickHouseDriver } from '../storage/index.ts';
import { createAlertsStage, type AlertsOptions, type AlertsStage } from './alerts-wiring.ts';
import { createCapacityReportJob } from './capacity-report-job.ts';
import { createObservability } from './observability.ts';
import { clusterOf, startPipelineWriters } from './pipeline-writers.ts';
import { PeriodicTasks } from './periodic.ts';
import { persistentSecret } from './secrets.ts';

export interface PlatformOptions {
  clock?: Clock;
  logger?: Logger;
  /** Overrides of the control plane's simulated timings (tests shorten them). */
  buildDelayMs?: number;
  /** Where the notification listener's durable queue is (tests use their own, to stay isolated). */
  notificationQueue?: string;
  /** The pipeline's consumer group (tests use their own). */
  pipelineGroupId?: string;
  /** Run the hourly audits and capacity reports on their cron schedule (default true; the simulator drives them itself). */
  periodicTasks?: boolean;
  /** Start the compute pollster's timer (default true); false builds it for the simulator to drive with poll(). */
  computePollster?: boolean;
  /** Start the Placement pollster's timer (default: as computePollster); false builds it for the simulator or a test to drive with poll(). */
  placementPollster?: boolean;
  /** The rating processor's settings (experimental); it runs on its schedule when periodicTasks is on. */
  rating?: {
    /** Cron expression (default hourly at :15). */
    schedule?: string;
    /** Seconds per rated period (default 3600). */
    periodSeconds?: number;
    /** How long after its end a period may still receive data (default 10 min). */
    settleDelayMs?: number;
    /** The services file (default pipeline/rating/services.yaml). */
    servicesFile?: string;
  };
  /** The alerts stage: routing, evaluation schedule, whether its loops run. */
  alerts?: AlertsOptions;
}

export interface Platform {
  readonly url: string;
  readonly adminPassword: string;
  readonly adminPasswordGenerated: boolean;
  readonly cloud: Cloud;
  readonly store: ClickHouseDriver;
  /** Recently written metrics' rollups in memory, which the API reads first (null when api.hotReadsMiB is 0). */
  readonly hotRollups: HotRollups | null;
  readonly bus: Bus;
  readonly stream: Stream;
  readonly telemetry: TelemetryRegistry;
  readonly app: FastifyInstance;
  readonly periodic: PeriodicTasks;
  /** Null when disabled in config. */
  readonly pollster: ComputePollster | null;
  /** Placement inventories and usages for capacity planning; null when the compute pollster is disabled in config. */
  readonly placementPollster: PlacementPollster | null;
  /** Waits until everything published so far has reached the store (embedded transports only). */
  drain(timeoutMs?: number): Promise<void>;
  /** Rates every closed, settled period not rated yet, up to `until` at most, and the open reprocess requests (on demand; the cron job does the same). */
  rateNow(until?: Date): Promise<RatingRun>;
  /** The alarm evaluator and the notifier (their loops run unless options.alerts.loops is false). */
  readonly alerts: Pick<AlertsStage, 'evaluator' | 'notifier' | 'prober' | 'builtinRules'>;
  stop(): Promise<void>;
}

const DRAIN_POLL_MS = 20;


function freePort(host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * The composition root: builds every stage from config and wires them through the core
 * transports. `cumulus up` runs this in one process; each stage can also run alone.
 */
export async function startPlatform(config: CumulusConfig, options: PlatformOptions = {}): Promise<Platform> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const admin = persistentSecret(dataDir, 'admin-password', config.adminPassword, 12);
  const meteringSecret = persistentSecret(dataDir, 'metering-secret', config.meteringSecret, 32).value;
  const telemetry = new TelemetryRegistry();
  const started: Array<{ stop(): Promise<void> | void }> = [];

  try {
    const stateDb = openStateDatabase(join(dataDir, 'state.sqlite'));
    started.push({ stop: () => void stateDb.close() });
    const store = createDriver({ ...config.store, dataDir: join(dataDir, 'clickhouse') });
    started.push({ stop: () => store.close() });
    await migrate(store, MIGRATIONS, clusterOf(config));

    const bus: Bus =
      config.bus.kind === 'amqp'
        ? new AmqpBus({ url: config.bus.amqpUrl as string, durableExchanges: false, publishTimeoutMs: DEFAULT_AMQP_PUBLISH_TIMEOUT_MS }, logger.child({ component: 'bus' }))
        : new InProcessBus(logger.child({ component: 'bus' }));
    await bus.start();
    started.push(bus);
    const stream: Stream =
      config.stream.kind === 'kafka'
        ? new KafkaStream({ brokers: config.stream.brokers, clientId: config.stream.clientId, partitions: DEFAULT_KAFKA_PARTITIONS, replicationFactor: DEFAULT_KAFKA_REPLICATION_FACTOR }, logger.child({ component: 'stream' }))
        : new InProcessStream(undefined, logger.child({ component: 'stream' }), () => clock.nowMs());
    await stream.start();
    started.push(stream);

    // Every writer of measures runs in this process, so the API may serve recently written
    // metrics' rollups from memory: each writer tells the copy what it stored.
    const hotRollups = config.api.hotReadsMiB > 0 ? new HotRollups({ budgetBytes: config.api.hotReadsMiB * 1024 * 1024 }) : null;
    const pipeline = await startPipelineWriters(
      { meteringSecret, maxBatchRecords: DEFAULT_MAX_BATCH_RECORDS, rollupObserver: hotRollups, ...(options.pipelineGroupId !== undefined ? { groupId: options.pipelineGroupId } : {}) },
      { stream, store, stateDb, clock, logger: logger.child({ component: 'pipeline' }), telemetry },
    );
    started.push(pipeline);

    const listenerConfig = { ...DEFAULT_NOTIFICATION_LISTENER_CONFIG, queue: options.notificationQueue ?? DEFAULT_NOTIFICATION_LISTENER_CONFIG.queue };
    const drops = createDropCollector();
  const listener = createNotificationListener(listenerConfig, {
      bus,
      stream,
      mapper: new MeterMapper(loadMeterDefinitions(DEFAULT_METERS_FILE), meteringSecret, { onDrop: drops.onDrop }),
      drops,
      events: new EventConverter(loadEventDefinitions(DEFAULT_EVENT_DEFINITIONS_FILE)),
      clock,
      logger: logger.child({ component: 'collector' }),
      telemetry: telemetry.component('collector.notifications'),
    });
    await listener.start();
    started.push(listener);

    // The services' log files (written by cloud/ below) into cumulus.logs; offsets beside the other collector state.
    const logTailer = createLogTailer(
      { directory: join(dataDir, 'logs'), statePath: join(dataDir, 'collectors', 'log-offsets.json') },
      { consumer: streamLogConsumer(stream), clock, logger: logger.child({ component: 'collector.logs' }), telemetry: telemetry.component('collector.logs') },
    );
    await logTailer.start();
    started.push(logTailer);

    // Port 0 means "any free port": pick it now, since catalog URLs are built from it.
    const port = config.port === 0 ? await freePort(config.host) : config.port;
    const url = `http://${config.host}:${port}`;
    const cloud = createCloud(
      { publicUrl: url, region: DEFAULT_REGION, adminPassword: admin.value, tokenTtlMs: DEFAULT_TOKEN_TTL_MS, buildDelayMs: options.buildDelayMs ?? DEFAULT_BUILD_DELAY_MS, computeHosts: DEFAULT_COMPUTE_HOSTS, logDirectory: join(dataDir, 'logs'), objectStoreDir: dataDir },
      { db: stateDb, bus, clock, logger: logger.child({ component: 'cloud' }) },
    );
    await cloud.start();
    started.push(cloud);
    const periodic = new PeriodicTasks(cloud, clock, logger.child({ component: 'periodic' }));
    if (options.periodicTasks !== false) {
      await periodic.start();
      started.push(periodic);
    }
    // Issued statements and their numbers; the monthly job issues the previous month's on the 1st.
    const statements = createStatementStore({ db: stateDb, clock });
    // The config file's rating keys, overridden by the options a caller (tests, the simulator) passes.
    const ratingSettings = {
      ...(config.rating.periodSeconds !== undefined ? { periodSeconds: config.rating.periodSeconds } : {}),
      ...(config.rating.schedule !== undefined ? { schedule: config.rating.schedule } : {}),
      ...(config.rating.settleDelaySeconds !== undefined ? { settleDelayMs: config.rating.settleDelaySeconds * 1000 } : {}),
      ...(config.rating.servicesFile !== undefined ? { servicesFile: config.rating.servicesFile } : {}),
      ...options.rating,
    };
    if (options.periodicTasks !== false) {
      const statementJob = createStatementJob({ ...(config.rating.statementSchedule !== undefined ? { schedule: config.rating.statementSchedule } : {}), ...(config.rating.statementTimezone !== undefined ? { timezone: config.rating.statementTimezone } : {}) }, { store, statements, clock, logger: logger.child({ component: 'pipeline.statements' }), telemetry: telemetry.component('pipeline.statements') });
      await statementJob.start();
      started.push(statementJob);
      // The monthly capacity planning report, written into the data folder for planners.
      const capacityReports = createCapacityReportJob(
        { directory: join(dataDir, 'reports'), ...(config.capacity.reportSchedule !== undefined ? { schedule: config.capacity.reportSchedule } : {}) },
        { store, clock, logger: logger.child({ component: 'capacity.report' }), telemetry: telemetry.component('capacity.report') },
      );
      await capacityReports.start();
      started.push(capacityReports);
    }

    // Rating: each closed period of metering data rated once, priced by the hashmap rules;
    // reprocess requests come through the API. Scheduled with the other periodic tasks.
    const hashmap = createHashmapStore(stateDb, { clock, ...(config.rating.currency !== undefined ? { currency: config.rating.currency } : {}) });
    const reprocess = createReprocessStore(stateDb, { clock, ...(ratingSettings.periodSeconds !== undefined ? { periodSeconds: ratingSettings.periodSeconds } : {}) });
    const rating = createRatingProcessor(
      {
        services: loadServiceDefinitions(ratingSettings.servicesFile),
        ...(ratingSettings.periodSeconds !== undefined ? { periodSeconds: ratingSettings.periodSeconds } : {}),
        ...(ratingSettings.settleDelayMs !== undefined ? { settleDelayMs: ratingSettings.settleDelayMs } : {}),
      },
      { store, periods: reprocess, rater: () => hashmap.rater(), clock, logger: logger.child({ component: 'pipeline.rating' }), telemetry: telemetry.component('pipeline.rating') },
    );
    if (options.periodicTasks !== false) {
      const ratingScheduler = createRatingScheduler({ ...(ratingSettings.schedule !== undefined ? { schedule: ratingSettings.schedule } : {}) }, { processor: rating, logger: logger.child({ component: 'pipeline.rating' }) });
      await ratingScheduler.start();
      started.push(ratingScheduler);
    }

    const app: FastifyInstance = Fastify({ loggerInstance: logger.child({ component: 'http' }) as FastifyBaseLogger, genReqId: () => `req-${crypto.randomUUID()}`, logController: new LogController({ disableRequestLogging: true }), bodyLimit: 16 * 1024 * 1024, ajv: { customOptions: { allowUnionTypes: true } } });
    // One access line per request, after the reply (fastify's own two lines are off).
    app.addHook('onResponse', async (request, reply) => {
      request.log.info({ method: request.method, url: request.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    });
    // OpenStack clients send `Content-Type: application/json` on bodiless DELETEs too: an empty body is no body.
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      const text = String(body);
      if (text.trim() === '') return done(null, undefined);
      try {
        done(null, JSON.parse(text));
      } catch (err) {
        const error = new Error(`The request body is not valid JSON: ${(err as Error).message}`) as Error & { statusCode: number };
        error.statusCode = 400;
        done(error, undefined);
      }
    });
    // /healthz, /readyz and /metrics: no token (no tenant data in them; docs/operations.md).
    const observability = createObservability({ ...(config.api.metricsBearerToken !== undefined ? { metricsBearerToken: config.api.metricsBearerToken } : {}) }, { config, telemetry, store, stateDb, stream, groups: pipeline.groups, logger: logger.child({ component: 'observability' }) });
    observability.register(app);
    await observability.start();
    started.push(observability);
    cloud.register(app);
    // Alarms: one store for the API and the evaluator; the notifier routes what the evaluator decides.
    const alarms = createAlarmStore(stateDb, { clock });
    const alerts = createAlertsStage(options.alerts ?? {}, {
      config,
      url,
      region: DEFAULT_REGION,
      adminPassword: admin.value,
      monitoringPassword: persistentSecret(dataDir, 'monitoring-password', undefined, 24).value,
      alarms,
      db: stateDb,
      store,
      stream,
      resourceTypes: pipeline.resourceTypes,
      clock,
      logger,
      telemetry,
    });
    createApi({ store, tokens: cloud.tokens, policyStore: pipeline.policyStore, resourceTypes: pipeline.resourceTypes, hashmap, statements, reprocess, alarms, alarming: alerts.hooks, projects: cloud.projects, clock, access: loadAccessPolicy(config.api.policyFile), hotRollups }).register(app);
    await app.listen({ host: config.host, port });
    started.push({ stop: () => app.close() });
    if (options.alerts?.loops ?? options.periodicTasks !== false) {
      for (const part of alerts.lifecycles(options.alerts ?? {})) {
        await part.start();
        started.push(part);
      }
    }

    const pollsterSettings = config.pollsters.compute;
    let pollster: ComputePollster | null = null;
    if (pollsterSettings.enabled) {
      const servicesMode = config.bus.kind === 'amqp' || config.stream.kind === 'kafka';
      const pollsterLogger = logger.child({ component: 'pollster' });
      const source: ComputeSource =
        (pollsterSettings.source ?? (servicesMode ? 'http' : 'in-process')) === 'http'
          ? createHttpComputeSource(
              {
                authUrl: pollsterSettings.authUrl ?? `${url}/identity/v3`,
                adminUrl: pollsterSettings.adminUrl ?? `${url}/cloud-admin/v1`,
                username: pollsterSettings.username,
                password: pollsterSettings.password ?? admin.value,
                projectName: pollsterSettings.projectName,
              },
              { clock, logger: pollsterLogger },
            )
          : createInProcessComputeSource({ hosts: () => cloud.hypervisor.hosts(), inspect: (host) => cloud.hypervisor.inspectHost(host), stats: (host) => cloud.hypervisor.hostStats(host) });
      pollster = createComputePollster(
        { meteringSecret, intervalMs: pollsterSettings.intervalMs, hardwareMeters: pollsterSettings.hardwareMeters, publishAs: pollsterSettings.publishAs },
        { source, stream, clock, logger: pollsterLogger, telemetry: telemetry.component('collector.pollster') },
      );
      if (options.computePollster !== false) {
        await pollster.start();
        // Stopped before the API closes (reverse order): an HTTP source reads that API.
        started.push(pollster);
      }
    }

    // Placement's inventories and usages (capacity planning): on with the compute pollster, over the same
    // source mode and credentials (no config section of its own yet), every 5 minutes.
    let placementPollster: PlacementPollster | null = null;
    if (pollsterSettings.enabled) {
      const servicesMode = config.bus.kind === 'amqp' || config.stream.kind === 'kafka';
      const placementLogger = logger.child({ component: 'pollster.placement' });
      // The control plane the compute pollster reads (its admin API's base), else this process's.
      const controlPlane = pollsterSettings.adminUrl?.replace(/\/cloud-admin\/v1\/*$/, '') ?? url;
      const source: PlacementSource =
        (pollsterSettings.source ?? (servicesMode ? 'http' : 'in-process')) === 'http'
          ? createHttpPlacementSource(
              {
                authUrl: pollsterSettings.authUrl ?? `${url}/identity/v3`,
                placementUrl: `${controlPlane}/placement`,
                computeUrl: `${controlPlane}/compute/v2.1`,
                username: pollsterSettings.username,
                password: pollsterSettings.password ?? admin.value,
                projectName: pollsterSettings.projectName,
              },
              { clock, logger: placementLogger },
            )
          : createInProcessPlacementSource({
              providers: () => cloud.placement.providers().map(({ uuid, name }) => ({ uuid, name })),
              inventories: (uuid) => cloud.placement.getInventories(uuid).inventories,
              usages: (uuid) => cloud.placement.providerUsages(uuid).usages,
              aggregates: (uuid) => cloud.placement.providerAggregates(uuid).aggregates,
              availabilityZones: async () => Object.fromEntries((await cloud.hypervisor.hosts()).map((h) => [h.name, h.availability_zone])),
            });
      placementPollster = createPlacementPollster({ meteringSecret }, { source, stream, clock, logger: placementLogger, telemetry: telemetry.component('collector.pollster.placement') });
      // Follows computePollster unless set: callers that drive the compute pollster by hand expect no timer samples.
      if ((options.placementPollster ?? options.computePollster) !== false) {
        await placementPollster.start();
        started.push(placementPollster);
      }
    }

    const drain = async (timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      await cloud.nova.stop();
      for (;;) {
        const busDepth = bus instanceof InProcessBus ? bus.depth(listenerConfig.queue) : 0;
        const lag = stream instanceof InProcessStream ? pipeline.groups.reduce((sum, g) => sum + stream.lag(g.groupId, g.topic), 0) : 0;
        if (busDepth === 0 && lag === 0) return;
        if (Date.now() > deadline) throw new Error(`drain timed out: ${busDepth} message(s) on the bus, ${lag} record(s) behind on the stream`);
        await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
      }
    };

    let stopping: Promise<void> | null = null;
    return {
      url,
      adminPassword: admin.value,
      adminPasswordGenerated: admin.generated,
      cloud,
      store,
      hotRollups,
      bus,
      stream,
      telemetry,
      app,
      periodic,
      pollster,
      placementPollster,
      drain,
      rateNow: (until) => rating.rateNow(until),
      alerts: { evaluator: alerts.evaluator, notifier: alerts.notifier, prober: alerts.prober, builtinRules: alerts.builtinRules },
      stop() {
        stopping ??= (async () => {
          // 1. stop taking requests; 2. let builds finish and the embedded transports empty,
          // so nothing accepted is left only in memory; 3. stop stages downstream-last.
          await app.close();
          await drain(10_000).catch((err: unknown) => logger.warn({ err }, 'shutting down with records still in flight'));
          for (const component of started.reverse()) {
            try {
              await component.stop();
            } catch (err) {
              logger.warn({ err }, 'a component failed to stop cleanly');
            }
          }
        })();
        return stopping;
      },
    };
  } catch (err) {
    for (const component of started.reverse()) await Promise.resolve(component.stop()).catch(() => undefined);
    throw err;
  }
}
