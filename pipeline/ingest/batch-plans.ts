import { TransportError, type ConsumedRecord, type StreamBatch } from '../../core/index.ts';
import type { ClickHouseDriver } from '../../storage/index.ts';

/**
 * Exactly-once effect for every writer that consumes a stream into ClickHouse, with no
 * dedup store: a stream batch is cut into chunks at offsets recorded in `ingest_plans`
 * before anything a chunk covers is written, and every insert of a chunk carries the
 * token `consumer:topic:partition:first-last`. A replay after a crash (same records, its
 * offsets never committed) finds the plan, cuts exactly where the first attempt did, and
 * its inserts are dropped by the tables' deduplication windows. Stable.
 */

export interface BatchPlanConfig {
  /** The consumer group: names the plans and begins the tokens, so groups never collide. */
  consumer: string;
  /** Records one chunk holds at most, when no plan exists yet. */
  maxBatchRecords: number;
  /**
   * Bytes of record values one chunk holds at most, when no plan exists yet (a chunk
   * always takes at least one record). For records carrying many measures each.
   */
  maxBatchBytes?: number;
}

/** How many of `records` the next new chunk takes: up to maxBatchRecords, and maxBatchBytes of values. */
function nextCut(records: readonly ConsumedRecord[], config: BatchPlanConfig): number {
  const limit = Math.min(records.length, config.maxBatchRecords);
  if (config.maxBatchBytes === undefined) return limit;
  let bytes = 0;
  for (let i = 0; i < limit; i++) {
    bytes += (records[i] as ConsumedRecord).value.length;
    if (bytes > config.maxBatchBytes) return Math.max(1, i);
  }
  return limit;
}

/** A chunk of one stream batch, as planned. */
export interface PlannedChunk {
  topic: string;
  partition: number;
  /** In offset order; never empty. */
  records: readonly ConsumedRecord[];
  firstOffset: string;
  lastOffset: string;
  /** `insert_deduplication_token` for every insert the chunk makes. */
  dedupToken: string;
  /** True when the cut comes from an earlier attempt's plan (the chunk is a replay). */
  replayed: boolean;
}

/** The token a chunk's inserts carry. */
export function dedupToken(consumer: string, topic: string, partition: number, firstOffset: string, lastOffset: string): string {
  return `${consumer}:${topic}:${partition}:${firstOffset}-${lastOffset}`;
}

/**
 * The last offset an earlier attempt planned for the chunk starting at `firstOffset`, or
 * null. On a cluster (replicated plans), a node that has not yet received every plan
 * written with quorum refuses the read rather than answer "none": the batch is then
 * retried, never cut differently.
 */
export async function plannedLastOffset(store: ClickHouseDriver, consumer: string, topic: string, partition: number, firstOffset: string): Promise<bigint | null> {
  const rows = await store.query<{ last_offset: string }>({
    sql: `SELECT last_offset FROM ingest_plans FINAL
          WHERE consumer = {consumer:String} AND topic = {topic:String} AND partition = {partition:UInt32} AND first_offset = {first:UInt64}
          LIMIT 1 SETTINGS select_sequential_consistency = 1`,
    params: { consumer, topic, partition, first: BigInt(firstOffset) },
  });
  return rows[0] ? BigInt(rows[0].last_offset) : null;
}

/**
 * Records a cut. With quorum on a cluster, so whichever node a replay reads from has it
 * (ignored by a single server). Wall-clock time on purpose: the plans' TTL runs on the
 * server's clock, whatever time the simulator warps data to.
 */
export async function recordPlan(store: ClickHouseDriver, consumer: string, topic: string, partition: number, firstOffset: string, lastOffset: string): Promise<void> {
  await store.command({
    sql: `INSERT INTO ingest_plans (consumer, topic, partition, first_offset, last_offset, planned_at)
          SETTINGS insert_quorum = 'auto', insert_quorum_parallel = 0
          SELECT {consumer:String}, {topic:String}, {partition:UInt32}, {first:UInt64}, {last:UInt64}, {planned_at:DateTime64(3, 'UTC')}`,
    params: { consumer, topic, partition, first: BigInt(firstOffset), last: BigInt(lastOffset), planned_at: new Date() },
  });
}

/**
 * Cuts `batch` into planned chunks and hands each to `write`, in order. `write` must make
 * every insert of the chunk with `chunk.dedupToken` and resolve only once they are stored;
 * when this resolves, the batch may be committed. A rejection (from the store or from
 * `write`) leaves the offsets uncommitted: the stream redelivers and the plans make the
 * replay cut the same way.
 */
export async function writePlannedChunks(store: ClickHouseDriver, config: BatchPlanConfig, batch: StreamBatch, write: (chunk: PlannedChunk) => Promise<void>): Promise<void> {
  let remaining = batch.records;
  while (remaining.length > 0) {
    const firstOffset = (remaining[0] as ConsumedRecord).offset;
    const planned = await plannedLastOffset(store, config.consumer, batch.topic, batch.partition, firstOffset);
    let records: readonly ConsumedRecord[];
    if (planned !== null) {
      // 1a. a replay: cut exactly where the first attempt did, so its inserts deduplicate.
      records = remaining.filter((r) => BigInt(r.offset) <= planned);
      const reached = (records[records.length - 1] as ConsumedRecord).offset;
      if (BigInt(reached) !== planned) {
        throw new TransportError('CUMULUS_PIPELINE_REPLAY_SHORT', `replay of ${batch.topic}/${batch.partition} from ${firstOffset} has records only to ${reached}, the first attempt went to ${planned}; waiting for the rest`);
      }
    } else {
      // 1b. a new cut, recorded before anything it covers is written: a crash after the
      //     write must find it, or the replay could cut elsewhere and write twice.
      records = remaining.slice(0, nextCut(remaining, config));
      await recordPlan(store, config.consumer, batch.topic, batch.partition, firstOffset, (records[records.length - 1] as ConsumedRecord).offset);
    }
    const lastOffset = (records[records.length - 1] as ConsumedRecord).offset;
    // 2. write the chunk under its token; only then the next chunk (and, at the end, the commit).
    await write({ topic: batch.topic, partition: batch.partition, records, firstOffset, lastOffset, dedupToken: dedupToken(config.consumer, batch.topic, batch.partition, firstOffset, lastOffset), replayed: planned !== null });
    remaining = remaining.slice(records.length);
  }
}
