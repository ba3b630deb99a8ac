import { connect } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Kafka, logLevel as kafkaLogLevel, type Admin } from 'kafkajs';
import {
  CumulusError,
  InProcessStream,
  createProcessMetrics,
  errorMessage,
  type CumulusConfig,
  type Logger,
  type MetricFamily,
  type ProcessMetrics,
  type StateDatabase,
  type Stream,
  type TelemetryRegistry,
} from '../core/index.ts';
import { MIGRATIONS, type ClickHouseDriver } from '../storage/index.ts';

/**
 * Self-observability (experimental routes, stable metric names): GET /metrics for Prometheus,
 * GET /healthz (liveness) and GET /readyz (readiness). None of them carries project data, tenant
 * ids or secrets, so, like /healthz, they need no Keystone token: Prometheus and kubelet probes
 * do not speak Keystone. An operator who exposes the port beyond the monitoring network can
 * require a bearer token on /metrics (`metricsBearerToken`); see docs/operations.md.
 */

/** How long one readiness check may take before it counts as failed. */
export const DEFAULT_READINESS_TIMEOUT_MS = 2000;
/** How long a scrape waits for a slow collector (consumer lag over Kafka) before leaving it out. */
export const DEFAULT_SCRAPE_COLLECTOR_TIMEOUT_MS = 3000;
/** Prometheus' text exposition format. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** Probes and scrapes come every few seconds: their access lines are kept below info. */
const PROBE_LOG_LEVEL = 'warn';

export interface ObservabilityConfig {
  /** When set, /metrics requires `Authorization: Bearer <token>` (Prometheus: `authorization.credentials`). */
  metricsBearerToken?: string;
  readinessTimeoutMs?: number;
  scrapeCollectorTimeoutMs?: number;
}

/** A consumer group reading a topic, whose lag /metrics reports. */
export interface ConsumerGroupTopic {
  groupId: string;
  topic: string;
}

export interface ObservabilityDeps {
  config: CumulusConfig;
  telemetry: TelemetryRegistry;
  store: ClickHouseDriver;
  stateDb: StateDatabase;
  stream: Stream;
  /** The pipeline's consumer groups (pipeline.groups in cli/platform.ts). */
  groups: readonly ConsumerGroupTopic[];
  logger: Logger;
}

export interface ReadinessCheckResult {
  name: string;
  ok: boolean;
  ms: number;
  /** Present when the check failed: what went wrong and what to do about it. */
  error?: string;
  fix?: string;
}

export interface ReadinessReport {
  status: 'ready' | 'not ready';
  checks: ReadinessCheckResult[];
}

export interface Observability {
  /** Adds GET /metrics, /healthz and /readyz to the app (outside every token-checking plugin). */
  register(app: FastifyInstance): void;
  /** Runs the readiness checks (what /readyz answers). */
  readiness(): Promise<ReadinessReport>;
  /** Starts the process metrics and the consumer lag collector (connects a Kafka admin client in Kafka mode). */
  start(): Promise<void>;
  /** Idempotent; safe before start(). */
  stop(): Promise<void>;
}

/** The check names and how to fix each when it fails. */
interface ReadinessCheck {
  name: string;
  fix: string;
  run(): Promise<void>;
}

class ReadinessError extends CumulusError {
  constructor(message: string) {
    super('CUMULUS_NOT_READY', message, { httpStatus: 503 });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ReadinessError(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Whether a broker accepts TCP connections (for the AMQP bus, whose client state is private to it). */
function tcpReachable(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const done = (err?: Error) => {
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    socket.setTimeout(timeoutMs, () => done(new ReadinessError(`${host}:${port} did not accept a connection within ${timeoutMs} ms`)));
    socket.once('connect', () => done());
    socket.once('error', (err) => done(new ReadinessError(`${host}:${port}: ${err.message}`)));
  });
}

export function createObservability(config: ObservabilityConfig, deps: ObservabilityDeps): Observability {
  const readinessTimeoutMs = config.readinessTimeoutMs ?? DEFAULT_READINESS_TIMEOUT_MS;
  const collectorTimeoutMs = config.scrapeCollectorTimeoutMs ?? DEFAULT_SCRAPE_COLLECTOR_TIMEOUT_MS;
  if (config.metricsBearerToken !== undefined && config.metricsBearerToken.trim() === '') {
    throw new CumulusError('CUMULUS_CONFIG_INVALID', 'metricsBearerToken must be a non-empty string when set (omit it to serve /metrics without a token)');
  }
  const { stream, store, stateDb, telemetry, logger } = deps;
  const streamConfig = deps.config.stream;
  const busConfig = deps.config.bus;

  // Kafka mode: our own admin client, for offsets (lag) and the cluster check. The stream's
  // own clients stay private to it; this one only reads metadata.
  const kafka =
    stream.kind === 'kafka'
      ? new Kafka({ clientId: `${streamConfig.clientId}-observability`, brokers: [...streamConfig.brokers], logLevel: kafkaLogLevel.NOTHING, retry: { retries: 1, initialRetryTime: 200, maxRetryTime: 1000 } })
      : null;
  let admin: Admin | null = null;
  let connecting: Promise<Admin> | null = null;
  const kafkaAdmin = (): Promise<Admin> => {
    if (!kafka) return Promise.reject(new ReadinessError('not in Kafka mode'));
    if (admin) return Promise.resolve(admin);
    connecting ??= (async () => {
      const client = kafka.admin();
      try {
        await client.connect();
      } catch (err) {
        await client.disconnect().catch(() => undefined);
        throw err;
      } finally {
        connecting = null;
      }
      admin = client;
      return client;
    })();
    return connecting;
  };

  const consumerLag = async (): Promise<MetricFamily[]> => {
    const lag: Array<{ labels: Record<string, string>; value: number }> = [];
    const ends: Array<{ labels: Record<string, string>; value: number }> = [];
    if (stream instanceof InProcessStream) {
      // The in-process log exposes lag per group and topic only: partition "all".
      for (const g of deps.groups) lag.push({ labels: { group: g.groupId, topic: g.topic, partition: 'all' }, value: stream.lag(g.groupId, g.topic) });
    } else if (kafka) {
      const client = await kafkaAdmin();
      const topics = [...new Set(deps.groups.map((g) => g.topic))];
      const high = new Map<string, Map<number, { high: bigint; low: bigint }>>();
      for (const topic of topics) {
        const offsets = await client.fetchTopicOffsets(topic);
        high.set(topic, new Map(offsets.map((o) => [o.partition, { high: BigInt(o.high), low: BigInt(o.low) }])));
        for (const o of offsets) ends.push({ labels: { topic, partition: String(o.partition) }, value: Number(o.high) });
      }
      for (const g of deps.groups) {
        const [committed] = await client.fetchOffsets({ groupId: g.groupId, topics: [g.topic] });
        for (const p of committed?.partitions ?? []) {
          const range = high.get(g.topic)?.get(p.partition);
          if (!range) continue;
          // -1: nothing committed yet; the group would read the whole retained log.
          const from = p.offset === '-1' ? range.low : BigInt(p.offset);
          const behind = range.high - from;
          lag.push({ labels: { group: g.groupId, topic: g.topic, partition: String(p.partition) }, value: Number(behind < 0n ? 0n : behind) });
        }
      }
    }
    const families: MetricFamily[] = [{ name: 'cumulus_stream_consumer_lag_records', help: 'Records a consumer group has not committed yet, per topic and partition (collected at scrape time).', type: 'gauge', samples: lag }];
    if (ends.length > 0) families.push({ name: 'cumulus_stream_end_offset', help: 'Next offset of each topic partition (Kafka mode); its rate is the topic ingest rate.', type: 'gauge', samples: ends });
    return families;
  };

  const checks: ReadinessCheck[] = [
    {
      name: 'clickhouse',
      fix: store.kind === 'http' ? 'check that the ClickHouse server at CLICKHOUSE_URL runs and accepts this user' : 'check that the chDB data directory is writable and the disk is not full',
      run: async () => {
        await store.query({ sql: 'SELECT 1 AS ok' });
      },
    },
    {
      name: 'schema',
      fix: 'restart Cumulus: it applies the ClickHouse migrations at start (storage/schema); its log says which one failed',
      run: async () => {
        const ids = MIGRATIONS.map((m) => m.id);
        const rows = await store.query<{ applied: number | string }>({ sql: 'SELECT uniqExact(id) AS applied FROM schema_migrations WHERE id IN {ids:Array(UInt32)}', params: { ids } });
        const applied = Number(rows[0]?.applied ?? 0);
        if (applied < ids.length) throw new ReadinessError(`${applied} of ${ids.length} ClickHouse migrations applied`);
      },
    },
    {
      name: 'state-database',
      fix: 'check that the SQLite state database (<dataDir>/state.sqlite) is readable and its disk is not full',
      run: async () => {
        stateDb.prepare('SELECT 1').get();
      },
    },
  ];
  if (busConfig.kind === 'amqp') {
    const url = new URL(busConfig.amqpUrl as string);
    checks.push({
      name: 'bus',
      fix: `check that RabbitMQ runs at ${url.hostname}:${url.port || '5672'} (AMQP_URL); the bus reconnects by itself once it answers`,
      run: () => tcpReachable(url.hostname, Number(url.port || (url.protocol === 'amqps:' ? 5671 : 5672)), readinessTimeoutMs),
    });
  }
  if (kafka) {
    checks.push({
      name: 'stream',
      fix: `check that Kafka runs at ${streamConfig.brokers.join(',')} (KAFKA_BROKERS; scripts/kafka.sh start)`,
      run: async () => {
        const client = await kafkaAdmin();
        try {
          await client.describeCluster();
        } catch (err) {
          // A broken connection is dropped so the next probe reconnects.
          if (admin === client) admin = null;
          await client.disconnect().catch(() => undefined);
          throw err;
        }
      },
    });
  }

  const readiness = async (): Promise<ReadinessReport> => {
    const results = await Promise.all(
      checks.map(async (check): Promise<ReadinessCheckResult> => {
        const started = performance.now();
        try {
          await withTimeout(check.run(), readinessTimeoutMs, check.name);
          return { name: check.name, ok: true, ms: Math.round(performance.now() - started) };
        } catch (err) {
          return { name: check.name, ok: false, ms: Math.round(performance.now() - started), error: errorMessage(err), fix: check.fix };
        }
      }),
    );
    return { status: results.every((r) => r.ok) ? 'ready' : 'not ready', checks: results };
  };

  let processMetrics: ProcessMetrics | null = null;
  const removals: Array<() => void> = [];

  const authorized = (request: FastifyRequest): boolean => {
    if (config.metricsBearerToken === undefined) return true;
    return request.headers.authorization === `Bearer ${config.metricsBearerToken}`;
  };

  const checkSchema = {
    type: 'object',
    properties: { name: { type: 'string' }, ok: { type: 'boolean' }, ms: { type: 'number' }, error: { type: 'string' }, fix: { type: 'string' } },
    required: ['name', 'ok', 'ms'],
  } as const;
  const readinessSchema = { type: 'object', properties: { status: { type: 'string', enum: ['ready', 'not ready'] }, checks: { type: 'array', items: checkSchema } }, required: ['status', 'checks'] } as const;

  return {
    register(app) {
      app.get('/healthz', { logLevel: PROBE_LOG_LEVEL, schema: { response: { 200: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } }, required: ['status'] } } } }, async () => ({ status: 'ok' as const }));
      app.get('/readyz', { logLevel: PROBE_LOG_LEVEL, schema: { response: { 200: readinessSchema, 503: readinessSchema } } }, async (_request, reply: FastifyReply) => {
        const report = await readiness();
        if (report.status !== 'ready') logger.warn({ failed: report.checks.filter((c) => !c.ok) }, 'not ready');
        return reply.code(report.status === 'ready' ? 200 : 503).send(report);
      });
      app.get('/metrics', { logLevel: PROBE_LOG_LEVEL }, async (request, reply) => {
        if (!authorized(request)) {
          return reply.code(401).header('www-authenticate', 'Bearer realm="cumulus-metrics"').type('text/plain; charset=utf-8').send('401 Unauthorized: /metrics requires the bearer token configured as metricsBearerToken\n');
        }
        const text = await telemetry.scrape(collectorTimeoutMs);
        return reply.type(METRICS_CONTENT_TYPE).send(text);
      });
    },
    readiness,
    async start() {
      if (processMetrics) return;
      processMetrics = createProcessMetrics();
      removals.push(telemetry.addCollector('process', processMetrics.collect));
      removals.push(telemetry.addCollector('consumer-lag', consumerLag));
      // Kafka: connect now so the first scrape is quick; a broker down now is retried at scrape time.
      if (kafka) await kafkaAdmin().catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'observability: Kafka admin not connected yet; consumer lag is retried at each scrape'));
    },
    async stop() {
      for (const remove of removals.splice(0)) remove();
      processMetrics?.stop();
      processMetrics = null;
      const client = admin ?? (connecting ? await connecting.catch(() => null) : null);
      admin = null;
      await client?.disconnect().catch(() => undefined);
    },
  };
}
