import { join, resolve } from 'node:path';
import { ConfigError, CumulusError, DEFAULT_KAFKA_PARTITIONS, DEFAULT_KAFKA_REPLICATION_FACTOR, KafkaStream, TelemetryRegistry, openStateDatabase, systemClock, type CumulusConfig, type Lifecycle, type Logger } from '../core/index.ts';
import { DEFAULT_MAX_BATCH_RECORDS } from '../pipeline/index.ts';
import { createDriver, migrate, MIGRATIONS, type ClickHouseDriver } from '../storage/index.ts';
import { clusterOf, startPipelineWriters, type PipelineWriters } from './pipeline-writers.ts';
import { persistentSecret } from './secrets.ts';

export interface PipelineStageOptions {
  /** The Kafka consumer group every worker of this stage shares (default cumulus-pipeline-samples). */
  groupId?: string;
  /** Records per ClickHouse insert at most. */
  maxBatchRecords?: number;
}

export interface PipelineStage extends Lifecycle {
  readonly telemetry: TelemetryRegistry;
  readonly store: ClickHouseDriver;
}

/** Waits before retrying a store that does not answer at start: 1 s, doubling to 30 s. */
const STORE_RETRY_FIRST_MS = 1_000;
const STORE_RETRY_MAX_MS = 30_000;

/**
 * A pipeline started while ClickHouse is down (a restart of both, a server still
 * booting) waits for it, saying so, rather than exiting: nothing is consumed meanwhile,
 * so Kafka holds the records. Errors that are not about reaching the store end the wait.
 */
async function untilStoreAnswers(migrateStore: () => Promise<unknown>, logger: Logger): Promise<void> {
  for (let delay = STORE_RETRY_FIRST_MS; ; delay = Math.min(delay * 2, STORE_RETRY_MAX_MS)) {
    try {
      await migrateStore();
      return;
    } catch (err) {
      if (!(err instanceof CumulusError) || err.code !== 'CUMULUS_STORAGE_QUERY_FAILED' || !/ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|socket hang up|timed? ?out/i.test(err.message)) throw err;
      logger.warn({ retryInMs: delay, err: err.message }, 'ClickHouse does not answer yet; the pipeline waits for it before consuming');
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/**
 * `cumulus pipeline`: the pipeline stage alone, in its own process, from Kafka into
 * ClickHouse. Run N of them with the same group to share the partitions. It reads the
 * metering secret from the data folder (or CUMULUS_METERING_SECRET), as the collectors do.
 * With chDB the process owns its data folder; several workers need a ClickHouse server
 * (CLICKHOUSE_URL).
 */
export async function startPipelineStage(config: CumulusConfig, logger: Logger, options: PipelineStageOptions = {}): Promise<PipelineStage> {
  if (config.stream.kind !== 'kafka') throw new ConfigError('the pipeline stage reads Kafka: set KAFKA_BROKERS');
  const maxBatchRecords = options.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS;
  const dataDir = resolve(config.dataDir);
  const meteringSecret = persistentSecret(dataDir, 'metering-secret', config.meteringSecret, 32).value;
  const telemetry = new TelemetryRegistry();
  const store = createDriver({ ...config.store, dataDir: join(dataDir, 'clickhouse') });
  const stream = new KafkaStream({ brokers: config.stream.brokers, clientId: `${config.stream.clientId}-pipeline`, partitions: DEFAULT_KAFKA_PARTITIONS, replicationFactor: DEFAULT_KAFKA_REPLICATION_FACTOR }, logger.child({ component: 'stream' }));
  // Archive policies, rules and resource types: this worker's state store. Workers on several
  // hosts need them shared (docs/scale-out.md), which SQLite cannot do across hosts.
  const stateDb = openStateDatabase(join(dataDir, 'state.sqlite'));
  let writers: PipelineWriters | null = null;
  // Order: the store first (where records go), then the stream (where they come from).
  try {
    await untilStoreAnswers(() => migrate(store, MIGRATIONS, clusterOf(config)), logger);
    await stream.start();
    writers = await startPipelineWriters({ meteringSecret, maxBatchRecords, ...(options.groupId !== undefined ? { groupId: options.groupId } : {}) }, { stream, store, stateDb, clock: systemClock, logger: logger.child({ component: 'pipeline' }), telemetry });
  } catch (err) {
    await stream.stop().catch(() => undefined);
    await store.close().catch(() => undefined);
    stateDb.close();
    throw err;
  }
  const running = writers;
  return {
    telemetry,
    store,
    async start() {},
    async stop() {
      await running.stop();
      await stream.stop();
      await store.close();
      stateDb.close();
    },
  };
}
