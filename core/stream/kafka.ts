import { Kafka, Partitioners, logLevel as kafkaLogLevel, type Admin, type Consumer, type Producer, type LogEntry } from 'kafkajs';
import { TransportError, errorMessage } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import type { ConsumedRecord, Stream, StreamConsumer, StreamConsumerHandle, StreamRecord, StreamSubscription } from './types.ts';

export interface KafkaStreamConfig {
  brokers: readonly string[];
  clientId: string;
  /** Partitions of a topic Cumulus creates; the unit of parallelism of a consumer group. */
  partitions: number;
  replicationFactor: number;
}

export const DEFAULT_KAFKA_PARTITIONS = 3;
export const DEFAULT_KAFKA_REPLICATION_FACTOR = 1;
export const DEFAULT_KAFKA_RETRY_DELAY_MS = 250;
export const MAX_KAFKA_RETRY_DELAY_MS = 5000;

function toLogger(logger: Logger) {
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      if (level <= kafkaLogLevel.ERROR) logger.error(extra, `kafka: ${message}`);
      else if (level === kafkaLogLevel.WARN) logger.warn(extra, `kafka: ${message}`);
      else logger.debug(extra, `kafka: ${message}`);
    };
}

/**
 * Apache Kafka through kafkajs. The producer is idempotent with acks from all in-sync
 * replicas; a consumer commits a batch's offsets only after consume() resolved, and
 * retries a rejected batch in place (heartbeating) until it is accepted or the group
 * rebalances it away: a slow or failing store slows the consumer, it never skips.
 */
export class KafkaStream implements Stream {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private producer: Producer | null = null;
  private admin: Admin | null = null;
  private readonly consumers = new Set<Consumer>();
  private readonly knownTopics = new Set<string>();

  constructor(
    private readonly config: KafkaStreamConfig,
    private readonly logger: Logger = silentLogger(),
  ) {
    this.kafka = new Kafka({
      clientId: config.clientId,
      brokers: [...config.brokers],
      logLevel: kafkaLogLevel.WARN,
      logCreator: toLogger(logger),
      retry: { initialRetryTime: 200, retries: 10, maxRetryTime: 5000 },
    });
  }

  async start(): Promise<void> {
    if (this.producer) return;
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      await producer.connect();
    } catch (err) {
      await admin.disconnect().catch(() => undefined);
      throw new TransportError(
        'CUMULUS_STREAM_UNREACHABLE',
        `cannot connect to Kafka at ${this.config.brokers.join(',')}: ${errorMessage(err)}; is it running (scripts/kafka.sh start) and is KAFKA_BROKERS right?`,
        err,
      );
    }
    this.producer = producer;
    this.admin = admin;
  }

  /** Creates the topics Cumulus uses with its partition count, once per process. */
  async ensureTopics(topics: readonly string[]): Promise<void> {
    const admin = this.admin;
    if (!admin) throw new TransportError('CUMULUS_STREAM_CLOSED', 'the Kafka stream is not started; call start() first');
    const missing = topics.filter((t) => !this.knownTopics.has(t));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({ topic, numPartitions: this.config.partitions, replicationFactor: this.config.replicationFactor })),
    });
    for (const topic of missing) this.knownTopics.add(topic);
  }

  async send(topic: string, records: readonly StreamRecord[]): Promise<void> {
    const producer = this.producer;
    if (!producer) throw new TransportError('CUMULUS_STREAM_CLOSED', 'the Kafka stream is not started; call start() before send()');
    if (records.length === 0) return;
    await this.ensureTopics([topic]);
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: records.map((r) => ({ key: r.key, value: r.value, headers: r.headers ? { ...r.headers } : undefined })),
      });
    } catch (err) {
      throw new TransportError('CUMULUS_STREAM_SEND_FAILED', `Kafka did not take ${records.length} record(s) for ${topic}: ${errorMessage(err)}`, err);
    }
  }

  async subscribe(subscription: StreamSubscription, consumer: StreamConsumer): Promise<StreamConsumerHandle> {
    await this.ensureTopics(subscription.topics);
    const kafkaConsumer = this.kafka.consumer({ groupId: subscription.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 250, sessionTimeout: 30_000, heartbeatInterval: 3000 });
    await kafkaConsumer.connect();
    for (const topic of subscription.topics) await kafkaConsumer.subscribe({ topic, fromBeginning: subscription.fromBeginning });
    this.consumers.add(kafkaConsumer);
    await kafkaConsumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        const all: ConsumedRecord[] = batch.messages.map((m) => ({
          key: m.key ? m.key.toString('utf8') : null,
          value: m.value ?? Buffer.alloc(0),
          headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? String(v[0]) : String(v ?? '')])),
          offset: m.offset,
          timestampMs: Number(m.timestamp),
        }));
        for (let start = 0; start < all.length; start += subscription.maxBatchRecords) {
          const records = all.slice(start, start + subscription.maxBatchRecords);
          let delayMs = DEFAULT_KAFKA_RETRY_DELAY_MS;
          for (;;) {
            if (!isRunning() || isStale()) return;
            try {
              await consumer.consume({ topic: batch.topic, partition: batch.partition, records });
              break;
            } catch (err) {
              this.logger.warn({ err: errorMessage(err), topic: batch.topic, partition: batch.partition }, 'stream consumer rejected a batch; retrying');
              await new Promise((resolve) => setTimeout(resolve, delayMs));
              delayMs = Math.min(delayMs * 2, MAX_KAFKA_RETRY_DELAY_MS);
              await heartbeat();
            }
          }
          const last = records[records.length - 1] as ConsumedRecord;
          // 1. the consumer accepted the records; 2. only then commit the offset after them.
          resolveOffset(last.offset);
          await kafkaConsumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }]);
          await heartbeat();
        }
      },
    });
    return {
      close: async () => {
        if (!this.consumers.delete(kafkaConsumer)) return;
        await kafkaConsumer.disconnect();
      },
    };
  }

  async stop(): Promise<void> {
    for (const consumer of [...this.consumers]) {
      this.consumers.delete(consumer);
      await consumer.disconnect().catch(() => undefined);
    }
    const producer = this.producer;
    const admin = this.admin;
    this.producer = null;
    this.admin = null;
    await producer?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
  }
}
