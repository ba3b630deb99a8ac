import { TransportError } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { partitionForKey, type ConsumedRecord, type Stream, type StreamConsumer, type StreamConsumerHandle, type StreamRecord, type StreamSubscription } from './types.ts';

export const DEFAULT_IN_PROCESS_PARTITIONS = 3;
export const DEFAULT_IN_PROCESS_RETRY_DELAY_MS = 200;
/** Idle poll of a consumer with nothing to read. */
const IDLE_WAIT_MS = 500;

interface Partition {
  /** Offset of records[0]; records below every group's committed offset are trimmed. */
  baseOffset: number;
  records: ConsumedRecord[];
}

interface Group {
  /** Next offset to read, per "topic/partition". */
  committed: Map<string, number>;
  consumers: number;
}

/**
 * An in-memory log with Kafka's semantics where they matter to the stages: partitions by
 * key, consumer groups with committed offsets, batches per partition, redelivery of a
 * rejected batch. It lives as long as the process: durability in embedded mode comes from
 * acking the bus only after the pipeline's store accepted the samples downstream.
 */
export class InProcessStream implements Stream {
  readonly kind = 'memory' as const;
  private readonly topics = new Map<string, Partition[]>();
  private readonly groups = new Map<string, Group>();
  private readonly waiters = new Set<() => void>();
  private readonly loops = new Set<Promise<void>>();
  private roundRobin = 0;
  private stopped = false;

  constructor(
    private readonly partitions: number = DEFAULT_IN_PROCESS_PARTITIONS,
    private readonly logger: Logger = silentLogger(),
    private readonly clockMs: () => number = Date.now,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
  }

  private topic(name: string): Partition[] {
    let partitions = this.topics.get(name);
    if (!partitions) {
      partitions = Array.from({ length: this.partitions }, () => ({ baseOffset: 0, records: [] }));
      this.topics.set(name, partitions);
    }
    return partitions;
  }

  async send(topic: string, records: readonly StreamRecord[]): Promise<void> {
    if (this.stopped) throw new TransportError('CUMULUS_STREAM_CLOSED', 'the in-process stream is stopped; start it before sending');
    const partitions = this.topic(topic);
    for (const record of records) {
      const partition = partitions[partitionForKey(record.key, this.partitions, this.roundRobin++)] as Partition;
      const offset = partition.baseOffset + partition.records.length;
      partition.records.push({ ...record, offset: String(offset), timestampMs: this.clockMs() });
    }
    for (const wake of this.waiters) wake();
  }

  async subscribe(subscription: StreamSubscription, consumer: StreamConsumer): Promise<StreamConsumerHandle> {
    let group = this.groups.get(subscription.groupId);
    if (!group) {
      group = { committed: new Map(), consumers: 0 };
      this.groups.set(subscription.groupId, group);
    }
    group.consumers++;
    for (const topic of subscription.topics) {
      this.topic(topic).forEach((partition, index) => {
        const key = `${topic}/${index}`;
        if (!group.committed.has(key)) group.committed.set(key, subscription.fromBeginning ? partition.baseOffset : partition.baseOffset + partition.records.length);
      });
    }
    let running = true;
    const loop = this.run(subscription, group, consumer, () => running);
    this.loops.add(loop);
    void loop.finally(() => this.loops.delete(loop));
    const owner = group;
    return {
      close: async () => {
        if (!running) return;
        running = false;
        for (const wake of this.waiters) wake();
        await loop;
        owner.consumers--;
      },
    };
  }

  private async wait(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  private async run(subscription: StreamSubscription, group: Group, consumer: StreamConsumer, isRunning: () => boolean): Promise<void> {
    while (isRunning() && !this.stopped) {
      let delivered = false;
      for (const topic of subscription.topics) {
        const partitions = this.topic(topic);
        for (let index = 0; index < partitions.length && isRunning(); index++) {
          const partition = partitions[index] as Partition;
          const key = `${topic}/${index}`;
          const next = group.committed.get(key) ?? partition.baseOffset;
          const start = next - partition.baseOffset;
          if (start >= partition.records.length) continue;
          const records = partition.records.slice(start, start + subscription.maxBatchRecords);
          try {
            await consumer.consume({ topic, partition: index, records });
            // Commit only after the consumer accepted the batch.
            group.committed.set(key, next + records.length);
            this.trim(topic, index, partition);
            delivered = true;
          } catch (err) {
            this.logger.warn({ err, topic, partition: index }, 'stream consumer rejected a batch; retrying');
            await this.wait(DEFAULT_IN_PROCESS_RETRY_DELAY_MS);
            // Retry at once after the backoff rather than after an idle wait too.
            delivered = true;
          }
        }
      }
      if (!delivered) await this.wait(IDLE_WAIT_MS);
    }
  }

  /** Drops records every group has committed past, so memory stays bounded by lag. */
  private trim(topic: string, index: number, partition: Partition): void {
    let lowest = Infinity;
    for (const group of this.groups.values()) {
      const committed = group.committed.get(`${topic}/${index}`);
      if (committed !== undefined) lowest = Math.min(lowest, committed);
    }
    const drop = Math.min(lowest, partition.baseOffset + partition.records.length) - partition.baseOffset;
    if (drop > 0 && Number.isFinite(drop)) {
      partition.records.splice(0, drop);
      partition.baseOffset += drop;
    }
  }

  /** Records not yet committed by a group, summed over its topics' partitions. */
  lag(groupId: string, topic: string): number {
    const group = this.groups.get(groupId);
    return this.topic(topic).reduce((sum, partition, index) => {
      const end = partition.baseOffset + partition.records.length;
      return sum + end - (group?.committed.get(`${topic}/${index}`) ?? partition.baseOffset);
    }, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.waiters) wake();
    await Promise.all(this.loops);
  }
}
