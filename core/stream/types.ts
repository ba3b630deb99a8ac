import type { Lifecycle } from '../lifecycle.ts';

/**
 * The durable log between the collectors and the pipeline: Kafka topics in services
 * mode, an in-memory log with the same semantics in embedded mode.
 */
export interface StreamRecord {
  /** Partitioning key (a resource id), so one resource's records stay in order. */
  key: string | null;
  value: Buffer;
  headers?: Readonly<Record<string, string>>;
}

export interface ConsumedRecord extends StreamRecord {
  /** Offset within the partition, as a decimal string (Kafka offsets are 64-bit). */
  offset: string;
  /** Milliseconds since the epoch, as the log stamped it. */
  timestampMs: number;
}

/** Records of one partition, in order: the unit a consumer commits. */
export interface StreamBatch {
  topic: string;
  partition: number;
  records: readonly ConsumedRecord[];
}

/**
 * The one data verb. Resolving commits the batch's offsets; rejecting means "not
 * accepted" and the same batch comes again after a backoff: that is backpressure.
 */
export interface StreamConsumer {
  consume(batch: StreamBatch): Promise<void>;
}

export interface StreamSubscription {
  groupId: string;
  topics: readonly string[];
  /** Where a group without committed offsets starts; true reads the whole retained log. */
  fromBeginning: boolean;
  /** Records handed to consume() at most at once. */
  maxBatchRecords: number;
}

export interface StreamConsumerHandle {
  close(): Promise<void>;
}

export interface Stream extends Lifecycle {
  readonly kind: 'memory' | 'kafka';
  /** Resolves once every record is durably in the log (Kafka: acks from all in-sync replicas). */
  send(topic: string, records: readonly StreamRecord[]): Promise<void>;
  subscribe(subscription: StreamSubscription, consumer: StreamConsumer): Promise<StreamConsumerHandle>;
}

/** Partition a key maps to: FNV-1a, stable across processes (the in-process log's only). */
export function partitionForKey(key: string | null, partitions: number, fallback: number): number {
  if (key === null) return fallback % partitions;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}
