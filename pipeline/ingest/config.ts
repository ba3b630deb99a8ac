/** The sample writer's settings. Stable. */
export interface SampleWriterConfig {
  /** The Kafka consumer group (and the name its batch plans are recorded under). */
  groupId: string;
  /** Records handed to one ClickHouse insert at most. */
  maxBatchRecords: number;
  /** HMAC key the collectors signed samples with; unsigned or forged samples are refused. */
  meteringSecret: string;
  /** The topic read (default cumulus.samples); benchmarks use their own to measure only their records. */
  topic?: string;
  /** The measure batches' topic read as well (default cumulus.measure-batches); null reads samples only. */
  measureBatchTopic?: string | null;
  /** Bytes of measure batch records one insert takes at most (default 8 MiB). */
  maxBatchBytes?: number;
}

export const DEFAULT_MAX_BATCH_BYTES = 8 * 1024 * 1024;

export const DEFAULT_SAMPLE_WRITER_GROUP = 'cumulus-pipeline-samples';
export const DEFAULT_MAX_BATCH_RECORDS = 20_000;
