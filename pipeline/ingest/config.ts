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
}

export const DEFAULT_SAMPLE_WRITER_GROUP = 'cumulus-pipeline-samples';
export const DEFAULT_MAX_BATCH_RECORDS = 20_000;
