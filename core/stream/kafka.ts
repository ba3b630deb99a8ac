import { Kafka, Partitioners, logLevel as kafkaLogLevel, type Admin, type IHeaders, type KafkaMessage, type Producer, type LogEntry } from 'kafkajs';
import { TransportError, errorMessage } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import type { ConsumedRecord, Stream, StreamConsumer, StreamConsumerHandle, StreamRecord, StreamSubscription } from './types.ts';

export interface KafkaStreamConfig {
  brokers: readonly string[];
  clientId: string;
  /** Partitions of a topic Cumulus creates; the unit of parallelism of a consumer group. */
  partitions: number;
  replicationFactor: number;
  /**
   * How many times kafkajs retries a failed request, connecting included, backing off
   * from 200 ms to 5 s. Default DEFAULT_KAFKA_CLIENT_RETRIES: start() against a broker
   * that is down gives up after about 30 s; a smaller count fails faster.
   */
  retries?: number;
  /**
   * How long stop() and a handle's close() wait for a consume() in flight to settle (and
   * its offsets to be committed) before they give up on it: nothing is committed for it,
   * so the group's next member gets its records again. Default DEFAULT_KAFKA_STOP_GRACE_MS.
   */
  stopGraceMs?: number;
  /**
   * Bytes fetched per partition per request. Bigger fetches make bigger batches, and a
   * consumer's cost is per batch (a ClickHouse insert, a commit), not per record.
   * Default DEFAULT_KAFKA_FETCH_BYTES_PER_PARTITION.
   */
  fetchBytesPerPartition?: number;
  /** Partitions one consumer works on at once (each in order). Default DEFAULT_KAFKA_PARTITIONS_AT_ONCE. */
  partitionsAtOnce?: number;
}

export const DEFAULT_KAFKA_FETCH_BYTES_PER_PARTITION = 16 * 1024 * 1024;
export const DEFAULT_KAFKA_PARTITIONS_AT_ONCE = 3;
export const DEFAULT_KAFKA_PARTITIONS = 3;
/** Bytes of records per producer request: under the broker's default message.max.bytes (1 MiB) with room for batch overhead. */
export const MAX_SEND_BYTES = 768 * 1024;

/** A record's size as the broker counts it, near enough: value, key, headers, and per-record overhead. */
function recordBytes(record: StreamRecord): number {
  let bytes = record.value.length + (record.key?.length ?? 0) + 32;
  if (record.headers) for (const [k, v] of Object.entries(record.headers)) bytes += k.length + v.length + 8;
  return bytes;
}
export const DEFAULT_KAFKA_REPLICATION_FACTOR = 1;
export const DEFAULT_KAFKA_RETRY_DELAY_MS = 250;
export const MAX_KAFKA_RETRY_DELAY_MS = 5000;
export const DEFAULT_KAFKA_CLIENT_RETRIES = 10;
export const DEFAULT_KAFKA_STOP_GRACE_MS = 5_000;

/** One subscription's kafkajs consumer and the signals its close() gives eachBatch. */
interface ActiveConsumer {
  /** Settles when close() starts: a rejected batch stops backing off and retrying. */
  closing: Promise<void>;
  /** Settles when close() gave up waiting: a consume() in flight is abandoned. */
  abandoned: Promise<void>;
  close(): Promise<void>;
}

function signal(): { promise: Promise<void>; fire: () => void } {
  let fire: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (fire = resolve));
  return { promise, fire };
}

/** Shared by every record without headers (most): one object per record was measurable garbage. */
const EMPTY_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
const EMPTY_VALUE = Buffer.alloc(0);

/** A record's headers as strings (the first value of a repeated header). */
function headersOf(headers: IHeaders | undefined): Readonly<Record<string, string>> {
  if (headers === undefined) return EMPTY_HEADERS;
  const entries = Object.entries(headers);
  if (entries.length === 0) return EMPTY_HEADERS;
  return Object.fromEntries(entries.map(([k, v]) => [k, Array.isArray(v) ? String(v[0]) : String(v ?? '')]));
}

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
  private readonly consumers = new Set<ActiveConsumer>();
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
      retry: { initialRetryTime: 200, retries: config.retries ?? DEFAULT_KAFKA_CLIENT_RETRIES, maxRetryTime: 5000 },
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
      // The broker refuses a record batch over message.max.bytes (1 MiB by default), and
      // kafkajs puts one partition's share of a send in one batch: sends are cut by size
      // (in order, each acknowledged before the next), whatever the partitioner does.
      for (let start = 0; start < records.length; ) {
        let end = start;
        let bytes = 0;
        while (end < records.length && (end === start || bytes + recordBytes(records[end] as StreamRecord) <= MAX_SEND_BYTES)) {
          bytes += recordBytes(records[end] as StreamRecord);
          end += 1;
        }
        await producer.send({
          topic,
          acks: -1,
          messages: records.slice(start, end).map((r) => ({ key: r.key, value: r.value, headers: r.headers ? { ...r.headers } : undefined })),
        });
        start = end;
      }
    } catch (err) {
      throw new TransportError('CUMULUS_STREAM_SEND_FAILED', `Kafka did not take ${records.length} record(s) for ${topic}: ${errorMessage(err)}`, err);
    }
  }

  async subscribe(subscription: StreamSubscription, consumer: StreamConsumer): Promise<StreamConsumerHandle> {
    await this.ensureTopics(subscription.topics);
    const perPartition = this.config.fetchBytesPerPartition ?? DEFAULT_KAFKA_FETCH_BYTES_PER_PARTITION;
    const kafkaConsumer = this.kafka.consumer({
      groupId: subscription.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 250,
      sessionTimeout: 30_000,
      heartbeatInterval: 3000,
      maxBytesPerPartition: perPartition,
      maxBytes: perPartition * 4,
    });
    const closing = signal();
    const abandoned = signal();
    let closed: Promise<void> | null = null;
    const active: ActiveConsumer = {
      closing: closing.promise,
      abandoned: abandoned.promise,
      // FIX (close()/stop() hanging on a stuck consumer): kafkajs' disconnect() waits for
      // eachBatch to return, so a consume() that never settles (a wedged store) made it
      // wait forever. It gets stopGraceMs; then the batch is abandoned uncommitted, the
      // member leaves the group cleanly, and the next member re-reads from the last commit.
      close: () =>
        (closed ??= (async () => {
          closing.fire();
          const disconnecting = kafkaConsumer.disconnect();
          disconnecting.catch(() => undefined);
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([disconnecting.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, this.config.stopGraceMs ?? DEFAULT_KAFKA_STOP_GRACE_MS)))]);
          clearTimeout(timer);
          abandoned.fire();
          await disconnecting;
        })()),
    };
    try {
      await kafkaConsumer.connect();
      for (const topic of subscription.topics) await kafkaConsumer.subscribe({ topic, fromBeginning: subscription.fromBeginning });
    } catch (err) {
      // FIX: a subscribe() that failed must not leave its consumer connected.
      await kafkaConsumer.disconnect().catch(() => undefined);
      throw err;
    }
    this.consumers.add(active);
    await kafkaConsumer.run({
      autoCommit: false,
      // Partitions are independent (each keeps its order and its own commits), so a slow insert of one does not hold the others.
      partitionsConsumedConcurrently: this.config.partitionsAtOnce ?? DEFAULT_KAFKA_PARTITIONS_AT_ONCE,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset, commitOffsetsIfNecessary }) => {
        const all: ConsumedRecord[] = new Array<ConsumedRecord>(batch.messages.length);
        for (let i = 0; i < all.length; i++) {
          const m = batch.messages[i] as KafkaMessage;
          all[i] = { key: m.key ? m.key.toString('utf8') : null, value: m.value ?? EMPTY_VALUE, headers: headersOf(m.headers), offset: m.offset, timestampMs: Number(m.timestamp) };
        }
        for (let start = 0; start < all.length; start += subscription.maxBatchRecords) {
          const records = all.slice(start, start + subscription.maxBatchRecords);
          let delayMs = DEFAULT_KAFKA_RETRY_DELAY_MS;
          for (;;) {
            if (!isRunning() || isStale()) return;
            try {
              const consumed = consumer.consume({ topic: batch.topic, partition: batch.partition, records });
              // Abandoned by close()/stop(): return uncommitted; a late settlement is ignored.
              const outcome = await Promise.race([consumed.then(() => 'accepted' as const), active.abandoned.then(() => 'abandoned' as const)]);
              if (outcome === 'abandoned') {
                consumed.catch(() => undefined);
                return;
              }
              break;
            } catch (err) {
              this.logger.warn({ err: errorMessage(err), topic: batch.topic, partition: batch.partition }, 'stream consumer rejected a batch; retrying');
              // A close() cuts the backoff short: nothing of this batch is committed anyway.
              let timer: NodeJS.Timeout | undefined;
              await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, delayMs))), active.closing]);
              clearTimeout(timer);
              delayMs = Math.min(delayMs * 2, MAX_KAFKA_RETRY_DELAY_MS);
              if (!isRunning()) return;
              await heartbeat();
            }
          }
          const last = records[records.length - 1] as ConsumedRecord;
          // 1. the consumer accepted the records; 2. only then commit the offset after them.
          resolveOffset(last.offset);
          const next = (BigInt(last.offset) + 1n).toString();
          if (isRunning()) {
            await kafkaConsumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
          } else {
            // FIX (a batch finished during close()/stop() was never committed): kafkajs'
            // consumer.commitOffsets() silently does nothing once the consumer is stopping,
            // so every graceful stop redelivered its last batch. eachBatch's own commit goes
            // to the group directly; the member has not left yet (kafkajs leaves only after
            // eachBatch returned).
            await commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] });
            return;
          }
          await heartbeat();
        }
      },
    });
    return {
      close: async () => {
        if (!this.consumers.delete(active)) return;
        await active.close();
      },
    };
  }

  async stop(): Promise<void> {
    const consumers = [...this.consumers];
    this.consumers.clear();
    // In parallel: each may wait up to stopGraceMs for a consume() in flight.
    await Promise.all(consumers.map((active) => active.close().catch(() => undefined)));
    const producer = this.producer;
    const admin = this.admin;
    this.producer = null;
    this.admin = null;
    await producer?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
  }
}
