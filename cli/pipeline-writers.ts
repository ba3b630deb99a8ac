import { TOPICS, type Clock, type CumulusConfig, type Lifecycle, type Logger, type StateDatabase, type Stream, type TelemetryRegistry } from '../core/index.ts';
import {
  createAuditWriter,
  createEventWriter,
  createLogWriter,
  createResourceIndex,
  createSampleWriter,
  DEFAULT_AUDIT_WRITER_GROUP,
  DEFAULT_EVENT_WRITER_GROUP,
  DEFAULT_LOG_WRITER_GROUP,
  DEFAULT_MAX_BATCH_RECORDS,
  DEFAULT_SAMPLE_WRITER_GROUP,
  type ResourceIndex,
} from '../pipeline/index.ts';
import { createPolicyStore, createResourceTypeStore, resourcesOfTypeExist, selectPolicyUsage, type ClickHouseDriver, type PolicyStore, type ResourceTypeStore, type RollupWriteObserver } from '../storage/index.ts';

export interface PipelineWritersOptions {
  meteringSecret: string;
  /** The sample writer's consumer group; the others take it with -events, -audit, -logs (tests isolate runs this way). */
  groupId?: string;
  maxBatchRecords?: number;
  /** Told about every rollup write (the API's hot reads when they run in this process). */
  rollupObserver?: RollupWriteObserver | null;
}

export interface PipelineWriters {
  readonly policyStore: PolicyStore;
  readonly resourceTypes: ResourceTypeStore;
  readonly resourceIndex: ResourceIndex;
  /** Every writer's consumer group with its topic, for lag checks. */
  readonly groups: ReadonlyArray<{ groupId: string; topic: string }>;
  stop(): Promise<void>;
}

/**
 * The pipeline's writers, as `cumulus up` and `cumulus pipeline` both run them: samples
 * (with the resource index and the archive policies), events (which also end resources on
 * delete events, before their offsets are committed), audit records and logs. The archive
 * policies, rules and resource types live in the transactional state store.
 */
export async function startPipelineWriters(
  options: PipelineWritersOptions,
  deps: { stream: Stream; store: ClickHouseDriver; stateDb: StateDatabase; clock: Clock; logger: Logger; telemetry: TelemetryRegistry },
): Promise<PipelineWriters> {
  const { stream, store, stateDb, clock, logger, telemetry } = deps;
  const maxBatchRecords = options.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS;
  const policyStore = createPolicyStore(
    {},
    {
      db: stateDb,
      clock,
      isPolicyInUse: async (name) => (await store.query(selectPolicyUsage(name))).length > 0,
    },
  );
  const resourceTypes = createResourceTypeStore(stateDb, { resourcesExist: resourcesOfTypeExist(store) });
  const resourceIndex = createResourceIndex({ store, policyForMetric: (name) => policyStore.policyForMetric(name).name, resourceType: (name) => resourceTypes.find(name), logger: logger.child({ component: 'pipeline.resources' }) });
  const base = options.groupId;
  const groups = {
    samples: base ?? DEFAULT_SAMPLE_WRITER_GROUP,
    events: base ? `${base}-events` : DEFAULT_EVENT_WRITER_GROUP,
    audit: base ? `${base}-audit` : DEFAULT_AUDIT_WRITER_GROUP,
    logs: base ? `${base}-logs` : DEFAULT_LOG_WRITER_GROUP,
  };
  const common = (name: string) => ({ stream, store, clock, logger: logger.child({ component: name }), telemetry: telemetry.component(name) });
  const writers: Lifecycle[] = [
    createSampleWriter({ groupId: groups.samples, maxBatchRecords, meteringSecret: options.meteringSecret }, { ...common('pipeline.samples'), policies: policyStore.resolver, resourceIndex, rollupObserver: options.rollupObserver ?? null }),
    createEventWriter({ groupId: groups.events, maxBatchRecords }, { ...common('pipeline.events'), afterInsert: async (events, token) => void (await resourceIndex.indexEvents(events, token)) }),
    createAuditWriter({ groupId: groups.audit, maxBatchRecords }, common('pipeline.audit')),
    createLogWriter({ groupId: groups.logs, maxBatchRecords }, common('pipeline.logs')),
  ];
  const started: Lifecycle[] = [];
  const stop = async () => {
    for (const writer of started.splice(0).reverse()) await writer.stop();
  };
  try {
    for (const writer of writers) {
      await writer.start();
      started.push(writer);
    }
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  return {
    policyStore,
    resourceTypes,
    resourceIndex,
    groups: [
      { groupId: groups.samples, topic: TOPICS.samples },
      { groupId: groups.samples, topic: TOPICS.measureBatches },
      { groupId: groups.events, topic: TOPICS.events },
      { groupId: groups.audit, topic: TOPICS.audit },
      { groupId: groups.logs, topic: TOPICS.logs },
    ],
    stop,
  };
}

/** The ClickHouse cluster the migrations render for (CLICKHOUSE_CLUSTER), if any. */
export function clusterOf(config: CumulusConfig): { name: string; database?: string } | undefined {
  const name = config.store.clickhouseCluster;
  if (!name) return undefined;
  return config.store.clickhouseDatabase ? { name, database: config.store.clickhouseDatabase } : { name };
}
