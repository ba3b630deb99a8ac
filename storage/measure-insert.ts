/**
 * The one way measures enter ClickHouse: the raw `measures` rows and the `rollups` rows of
 * the same measures, both as Native blocks. The rollups were a materialized view over
 * `measures` until migration 9; the view's GROUP BY and aggregate states cost more than the
 * insert itself (docs/archive-policies.md, "Ingestion speed"), so the writer now computes
 * each bucket's states in JavaScript, where the measures already sit grouped by metric.
 *
 * Exactly-once: both inserts carry the caller's deduplication token (each table has its
 * own deduplication window) and run side by side. A failure of either is retried by the
 * caller as a whole (the pipeline replays its planned chunk, an API client repeats its
 * write, whose default token is a digest of the rows), and the insert that had landed is
 * dropped as a repeat.
 */
import type { ArchivePolicy } from './archive-policies.ts';
import type { ClickHouseDriver } from './driver.ts';
import { DEDUP_WINDOW } from './schema/migrations/types.ts';
import { FixedColumn, uint32ArrayColumnOfRuns, type NativeBlock } from './native-block.ts';
import { RollupColumns, type RollupRow, type RollupWriteObserver } from './rollup-rows.ts';

/** One accepted measure (the convenient form; the hot paths hand runs). */
export interface MeasureRowInput {
  readonly metricId: string;
  /** Unix microseconds (a safe integer). */
  readonly tsMicros: number;
  readonly value: number;
  /** The sample (or write) it came from: breaks ties between equal times in rate reads. */
  readonly sampleId: string;
  /** The metric's archive policy: its levels are the rollups written and the row's retention. */
  readonly policy: ArchivePolicy;
}

/** Measures of one metric from one sample or batch, as parallel arrays (no object per measure). */
export interface MeasureRun {
  readonly metricId: string;
  readonly policy: ArchivePolicy;
  readonly sampleId: string;
  /** Unix microseconds (safe integers). */
  readonly timestamps: ArrayLike<number>;
  readonly values: ArrayLike<number>;
}

export interface MeasureInsertOptions {
  /** `insert_deduplication_token` of both inserts. */
  readonly dedupToken: string;
  /** Told before and after, so an in-memory copy of the rollups stays exact. */
  readonly observer?: RollupWriteObserver | null;
  /** Metrics the caller knows had nothing stored before (see RollupWriteObserver.written). */
  readonly emptyBefore?: ReadonlySet<string>;
}

interface PolicyLevels {
  readonly granularities: readonly number[];
  /** granularity x points, seconds. */
  readonly retentions: readonly number[];
}

const levelsOf = new WeakMap<ArchivePolicy, PolicyLevels>();
function levels(policy: ArchivePolicy): PolicyLevels {
  let found = levelsOf.get(policy);
  if (found === undefined) {
    found = { granularities: policy.definition.map((l) => l.granularity), retentions: policy.definition.map((l) => l.granularity * l.points) };
    levelsOf.set(policy, found);
  }
  return found;
}

/** One metric's rows at one level while a write is computed: the newest bucket, and a lookup built only when a run goes back in time. */
interface LevelRows {
  /** Indexes into the write's RollupColumns. */
  readonly rows: number[];
  newest: number;
  index: Map<number, number> | null;
}

/**
 * The rollup rows of `runs`: per metric, granularity and bucket, the states these measures
 * add. A run usually goes forward in time, so a bucket is either the current one or a new
 * one past every bucket seen; only a run that goes back looks its bucket up.
 */
export function computeRollups(runs: readonly MeasureRun[]): RollupColumns {
  let measures = 0;
  for (const run of runs) measures += run.timestamps.length;
  const out = new RollupColumns(Math.max(16, measures));
  const byMetric = new Map<string, LevelRows[]>();
  for (const run of runs) {
    const { granularities, retentions } = levels(run.policy);
    let perLevel = byMetric.get(run.metricId);
    if (perLevel === undefined) {
      perLevel = granularities.map(() => ({ rows: [], newest: -Infinity, index: null }));
      byMetric.set(run.metricId, perLevel);
    }
    const { timestamps, values } = run;
    const n = timestamps.length;
    for (let l = 0; l < granularities.length; l++) {
      const g = granularities[l] as number;
      const retention = retentions[l] as number;
      const level = perLevel[l] as LevelRows;
      const gMicros = g * 1_000_000;
      let row = -1;
      // The current row's bucket as [from, to) in microseconds: a measure inside it needs no division.
      let rowFrom = Infinity;
      let rowTo = -Infinity;
      for (let i = 0; i < n; i++) {
        const t = timestamps[i] as number;
        const v = values[i] as number;
        if (t < rowFrom || t >= rowTo) {
          const bucket = Math.floor(Math.floor(t / 1_000_000) / g) * g;
          if (bucket > level.newest) {
            row = out.add(run.metricId, g, bucket, bucket + retention);
            level.rows.push(row);
            level.index?.set(bucket, row);
            level.newest = bucket;
          } else {
            if (level.index === null) level.index = new Map(level.rows.map((r) => [out.bucket[r] as number, r]));
            const found = level.index.get(bucket);
            if (found === undefined) {
              row = out.add(run.metricId, g, bucket, bucket + retention);
              level.rows.push(row);
              level.index.set(bucket, row);
            } else row = found;
          }
          rowFrom = bucket * 1_000_000;
          rowTo = rowFrom + gMicros;
        }
        out.count[row] = (out.count[row] as number) + 1;
        out.sum[row] = (out.sum[row] as number) + v;
        out.sumsq[row] = (out.sumsq[row] as number) + v * v;
        if (v < (out.min[row] as number)) out.min[row] = v;
        if (v > (out.max[row] as number)) out.max[row] = v;
        // Ties on time: the smaller value first, the larger last.
        const firstTs = out.firstTs[row] as number;
        if (t < firstTs || (t === firstTs && v < (out.firstValue[row] as number))) {
          out.firstTs[row] = t;
          out.firstValue[row] = v;
        }
        const lastTs = out.lastTs[row] as number;
        if (t > lastTs || (t === lastTs && v > (out.lastValue[row] as number))) {
          out.lastTs[row] = t;
          out.lastValue[row] = v;
        }
      }
    }
  }
  return out;
}

/** The rows of `runs` as objects (tests; the writers use computeRollups). */
export function computeRollupRows(runs: readonly MeasureRun[]): RollupRow[] {
  const columns = computeRollups(runs);
  return Array.from({ length: columns.length }, (_, i) => columns.row(i));
}

/** The `measures` block of the runs. */
export function measuresBlock(runs: readonly MeasureRun[]): NativeBlock {
  let n = 0;
  for (const run of runs) n += run.timestamps.length;
  const metric = new FixedColumn(n, 16);
  const ts = new FixedColumn(n, 8);
  const value = new FixedColumn(n, 8);
  const sample = new FixedColumn(n, 16);
  const granularities: Array<readonly [number, readonly number[]]> = [];
  const retentions: Array<readonly [number, readonly number[]]> = [];
  let i = 0;
  for (const run of runs) {
    const l = levels(run.policy);
    const { timestamps, values } = run;
    const count = timestamps.length;
    granularities.push([count, l.granularities]);
    retentions.push([count, l.retentions]);
    metric.uuidRun(i, count, run.metricId);
    sample.uuidRun(i, count, run.sampleId);
    value.float64s(i, values);
    for (let j = 0; j < count; j++) ts.int64(i + j, timestamps[j] as number);
    i += count;
  }
  return {
    rows: n,
    columns: [
      { name: 'metric_id', type: 'UUID', data: metric.data },
      { name: 'ts', type: "DateTime64(6, 'UTC')", data: ts.data },
      { name: 'value', type: 'Float64', data: value.data },
      { name: 'sample_id', type: 'UUID', data: sample.data },
      { name: 'granularities', type: 'Array(UInt32)', data: uint32ArrayColumnOfRuns(granularities) },
      { name: 'retentions', type: 'Array(UInt32)', data: uint32ArrayColumnOfRuns(retentions) },
    ],
  };
}

/** A Float64 column as its bytes, without a copy (the first `n` values). */
const float64Bytes = (values: Float64Array, n: number): Buffer => Buffer.from(values.buffer, values.byteOffset, n * 8);

/** The `rollups` block of the rows (first and last as (time, value) tuples, migration 9). */
export function rollupsBlock(rows: RollupColumns): NativeBlock {
  const n = rows.length;
  const metric = new FixedColumn(n, 16);
  const granularity = new FixedColumn(n, 4);
  const bucket = new FixedColumn(n, 4);
  const expires = new FixedColumn(n, 4);
  const count = new FixedColumn(n, 8);
  const firstTs = new FixedColumn(n, 8);
  const lastTs = new FixedColumn(n, 8);
  for (let i = 0; i < n; ) {
    // The rows come in runs of one metric: each run's id is written in one go.
    const id = rows.metricIds[i] as string;
    let end = i + 1;
    while (end < n && rows.metricIds[end] === id) end++;
    metric.uuidRun(i, end - i, id);
    i = end;
  }
  for (let i = 0; i < n; i++) {
    granularity.uint32(i, rows.granularity[i] as number);
    bucket.uint32(i, rows.bucket[i] as number);
    // DateTime ends in 2106; retention is capped below that (archive-policies.ts).
    expires.uint32(i, Math.min(rows.expires[i] as number, 0xffff_ffff));
    count.int64(i, rows.count[i] as number);
    firstTs.int64(i, rows.firstTs[i] as number);
    lastTs.int64(i, rows.lastTs[i] as number);
  }
  return {
    rows: n,
    columns: [
      { name: 'metric_id', type: 'UUID', data: metric.data },
      { name: 'granularity', type: 'UInt32', data: granularity.data },
      { name: 'bucket', type: "DateTime('UTC')", data: bucket.data },
      { name: 'expires', type: "DateTime('UTC')", data: expires.data },
      { name: 'count', type: 'UInt64', data: count.data },
      { name: 'sum', type: 'Float64', data: float64Bytes(rows.sum, n) },
      { name: 'min', type: 'Float64', data: float64Bytes(rows.min, n) },
      { name: 'max', type: 'Float64', data: float64Bytes(rows.max, n) },
      { name: 'sumsq', type: 'Float64', data: float64Bytes(rows.sumsq, n) },
      // A Tuple(DateTime64(6), Float64) column: every time, then every value.
      { name: 'first_measure', type: "Tuple(DateTime64(6, 'UTC'), Float64)", data: [firstTs.data, float64Bytes(rows.firstValue, n)] },
      { name: 'last_measure', type: "Tuple(DateTime64(6, 'UTC'), Float64)", data: [lastTs.data, float64Bytes(rows.lastValue, n)] },
    ],
  };
}

/**
 * Tokens of the inserts this process stored, per observer, as many as a table's
 * deduplication window: an insert repeating one is dropped by ClickHouse, so its rows must
 * not reach an in-memory copy a second time.
 */
const storedTokens = new WeakMap<RollupWriteObserver, Set<string>>();
function seenBefore(observer: RollupWriteObserver, token: string): boolean {
  let tokens = storedTokens.get(observer);
  if (tokens === undefined) {
    tokens = new Set();
    storedTokens.set(observer, tokens);
  }
  if (tokens.has(token)) return true;
  tokens.add(token);
  // A Set iterates in insertion order: the oldest goes first.
  if (tokens.size > DEDUP_WINDOW) tokens.delete(tokens.values().next().value as string);
  return false;
}

/** Rows as runs of one measure each (the convenient form's way in). */
export const runsOfRows = (rows: readonly MeasureRowInput[]): MeasureRun[] => rows.map((r) => ({ metricId: r.metricId, policy: r.policy, sampleId: r.sampleId, timestamps: [r.tsMicros], values: [r.value] }));

/**
 * Inserts the measures and their rollups (both under `dedupToken`), telling the observer.
 * Resolves once both are stored; on a rejection the caller retries with the same token.
 */
export async function insertMeasureRuns(store: ClickHouseDriver, runs: readonly MeasureRun[], options: MeasureInsertOptions): Promise<RollupColumns> {
  if (runs.every((r) => r.timestamps.length === 0)) return new RollupColumns(1);
  const rollups = computeRollups(runs);
  const observer = options.observer ?? null;
  const metricIds = observer ? new Set(runs.map((r) => r.metricId)) : new Set<string>();
  observer?.writing(metricIds);
  try {
    // Side by side: either may land without the other, and the retry's repeat of the one
    // that landed is dropped by its table.
    await Promise.all([store.insertNative('measures', measuresBlock(runs), { dedupToken: options.dedupToken }), store.insertNative('rollups', rollupsBlock(rollups), { dedupToken: options.dedupToken })]);
  } catch (err) {
    observer?.written(metricIds, null, new Set());
    throw err;
  }
  // A repeated token: ClickHouse kept the first insert and dropped this one (or kept only
  // what the first attempt had not stored); the copy cannot tell which, so it forgets them.
  if (observer && seenBefore(observer, options.dedupToken)) observer.written(metricIds, null, new Set());
  else observer?.written(metricIds, rollups, options.emptyBefore ?? new Set());
  return rollups;
}

/** {@link insertMeasureRuns} for measures given one by one. */
export function insertMeasureRows(store: ClickHouseDriver, rows: readonly MeasureRowInput[], options: MeasureInsertOptions): Promise<RollupColumns> {
  return insertMeasureRuns(store, runsOfRows(rows), options);
}
