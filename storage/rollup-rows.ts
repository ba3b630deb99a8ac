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

const GROWTH = 2;

/** The numeric columns of RollupColumns: every RollupRow field but the metric id. */
const FIELDS = ['granularity', 'bucket', 'expires', 'count', 'sum', 'min', 'max', 'sumsq', 'firstTs', 'firstValue', 'lastTs', 'lastValue'] as const;
type Field = (typeof FIELDS)[number];

/**
 * The rollup rows of one write, column by column: a write of a million measures at 60 s
 * has a million rows, and objects for them cost more than computing them. Grows as rows
 * are added; `row(i)` gives one row as an object (tests, logs).
 */
export class RollupColumns {
  length = 0;
  readonly metricIds: string[] = [];
  granularity: Float64Array;
  bucket: Float64Array;
  expires: Float64Array;
  count: Float64Array;
  sum: Float64Array;
  min: Float64Array;
  max: Float64Array;
  sumsq: Float64Array;
  firstTs: Float64Array;
  firstValue: Float64Array;
  lastTs: Float64Array;
  lastValue: Float64Array;

  constructor(capacity = 1024) {
    const n = Math.max(1, capacity);
    this.granularity = new Float64Array(n);
    this.bucket = new Float64Array(n);
    this.expires = new Float64Array(n);
    this.count = new Float64Array(n);
    this.sum = new Float64Array(n);
    this.min = new Float64Array(n);
    this.max = new Float64Array(n);
    this.sumsq = new Float64Array(n);
    this.firstTs = new Float64Array(n);
    this.firstValue = new Float64Array(n);
    this.lastTs = new Float64Array(n);
    this.lastValue = new Float64Array(n);
  }

  /** Rows as columns (tests, and writers that hold rows). */
  static of(rows: readonly RollupRow[]): RollupColumns {
    const columns = new RollupColumns(rows.length);
    for (const r of rows) {
      const i = columns.add(r.metricId, r.granularity, r.bucket, r.expires);
      for (const f of FIELDS) columns[f][i] = r[f];
    }
    return columns;
  }

  /** A new, empty bucket row (no measure yet); its index. */
  add(metricId: string, granularity: number, bucket: number, expires: number): number {
    if (this.length === this.bucket.length) this.grow();
    const i = this.length++;
    this.metricIds.push(metricId);
    this.granularity[i] = granularity;
    this.bucket[i] = bucket;
    this.expires[i] = expires;
    this.count[i] = 0;
    this.sum[i] = 0;
    this.min[i] = Infinity;
    this.max[i] = -Infinity;
    this.sumsq[i] = 0;
    this.firstTs[i] = Infinity;
    this.firstValue[i] = 0;
    this.lastTs[i] = -Infinity;
    this.lastValue[i] = 0;
    return i;
  }

  row(i: number): RollupRow {
    const row = { metricId: this.metricIds[i] as string } as { metricId: string } & Record<Field, number>;
    for (const f of FIELDS) row[f] = this[f][i] as number;
    return row;
  }

  private grow(): void {
    for (const f of FIELDS) {
      const grown = new Float64Array(this[f].length * GROWTH);
      grown.set(this[f]);
      this[f] = grown;
    }
  }
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
   * The write of these metrics ended. `rows` are the rollup rows now stored (apply them;
   * a write's rows come grouped by metric) or null when the insert failed (what is stored
   * is unknown: forget the metrics).
   * `emptyBefore` lists metrics the writer knows had nothing stored before this write
   * (its back-window read found no rollups): a copy may start from `rows` alone.
   */
  written(metricIds: ReadonlySet<string>, rows: RollupColumns | null, emptyBefore: ReadonlySet<string>): void;
  /** The metrics' rollups were removed or rewritten outside the measure insert (a delete, a policy change). */
  invalidate(metricIds: Iterable<string>): void;
}
