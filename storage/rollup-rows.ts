/**
 * The rollups as the writers compute them (since migration 9 there is no materialized
 * view: every writer of `measures` also writes the rollup rows of what it wrote, through
 * storage's measure insert). A row holds the states one write adds to one bucket of one
 * metric at one granularity; ClickHouse merges the rows of a bucket (AggregatingMergeTree),
 * and readers merge them too (GROUP BY), so two rows of one bucket are simply added up.
 */

/** The states of one bucket that one write contributes. Times: bucket/expires in Unix seconds, first/last in Unix microseconds. */
export interface RollupRow {
  readonly metricId: string;
  /** Seconds. */
  readonly granularity: number;
  /** Start of the bucket, Unix seconds (a multiple of the granularity). */
  readonly bucket: number;
  /** When the bucket leaves retention, Unix seconds (bucket + granularity x points). */
  expires: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Sum of squares (for std). */
  sumsq: number;
  /** The earliest measure of the bucket in this write: its time (Unix microseconds) and value. */
  firstTs: number;
  firstValue: number;
  /** The latest measure of the bucket in this write. */
  lastTs: number;
  lastValue: number;
}

/**
 * Told about every rollup write of this process, so an in-memory copy of some metrics'
 * rollups (the hot reads) stays exactly what ClickHouse holds. The measure insert calls
 * `writing` before it sends anything and `written` once it knows the outcome.
 */
export interface RollupWriteObserver {
  /** These metrics are about to change: a copy read from ClickHouse now must not be kept. */
  writing(metricIds: ReadonlySet<string>): void;
  /**
   * The write of these metrics ended. `rows` are the rollup rows now stored (apply them)
   * or null when the insert failed (what is stored is unknown: forget the metrics).
   * `emptyBefore` lists metrics the writer knows had nothing stored before this write
   * (its back-window read found no rollups): a copy may start from `rows` alone.
   */
  written(metricIds: ReadonlySet<string>, rows: readonly RollupRow[] | null, emptyBefore: ReadonlySet<string>): void;
  /** The metrics' rollups were removed or rewritten outside the measure insert (a delete, a policy change). */
  invalidate(metricIds: Iterable<string>): void;
}
