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
import { FixedColumn, TimeValueColumn, uint32ArrayColumnOfRuns, type NativeBlock } from './native-block.ts';
import type { RollupRow, RollupWriteObserver } from './rollup-rows.ts';

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
  readonly rows: RollupRow[];
  newest: number;
  index: Map<number, RollupRow> | null;
}

function newRow(metricId: string, granularity: number, bucket: number, retention: number): RollupRow {
  return { metricId, granularity, bucket, expires: bucket + retention, count: 0, sum: 0, min: Infinity, max: -Infinity, sumsq: 0, firstTs: Infinity, firstValue: 0, lastTs: -Infinity, lastValue: 0 };
}

/**
 * The rollup rows of `runs`: per metric, granularity and bucket, the states these measures
 * add. A run usually goes forward in time, so a bucket is either the current one or a new
 * one past every bucket seen; only a run that goes back looks its bucket up.
 */
export function computeRollupRows(runs: readonly MeasureRun[]): RollupRow[] {
  const out: RollupRow[] = [];
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
      let row: RollupRow | undefined;
      for (let i = 0; i < n; i++) {
        const t = timestamps[i] as number;
        const v = values[i] as number;
        const bucket = Math.floor(Math.floor(t / 1_000_000) / g) * g;
        if (row === undefined || row.bucket !== bucket) {
          if (bucket > level.newest) {
            row = newRow(run.metricId, g, bucket, retention);
            level.rows.push(row);
            level.index?.set(bucket, row);
            level.newest = bucket;
            out.push(row);
          } else {
            if (level.index === null) level.index = new Map(level.rows.map((r) => [r.bucket, r]));
            row = level.index.get(bucket);
            if (row === undefined) {
              row = newRow(run.metricId, g, bucket, retention);
              level.rows.push(row);
              level.index.set(bucket, row);
              out.push(row);
            }
          }
        }
        row.count++;
        row.sum += v;
        row.sumsq += v * v;
        if (v < row.min) row.min = v;
        if (v > row.max) row.max = v;
        // Ties on time: the smaller value first, the larger last.
        if (t < row.firstTs || (t === row.firstTs && v < row.firstValue)) {
          row.firstTs = t;
          row.firstValue = v;
        }
        if (t > row.lastTs || (t === row.lastTs && v > row.lastValue)) {
          row.lastTs = t;
          row.lastValue = v;
        }
      }
    }
  }
  return out;
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
    for (let j = 0; j < count; j++, i++) {
      metric.uuid(i, run.metricId);
      ts.int64(i, timestamps[j] as number);
      value.float64(i, values[j] as number);
      sample.uuid(i, run.sampleId);
    }
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

/** The `rollups` block of the rows (first and last as (time, value) tuples, migration 9). */
export function rollupsBlock(rows: readonly RollupRow[]): NativeBlock {
  const n = rows.length;
  const metric = new FixedColumn(n, 16);
  const granularity = new FixedColumn(n, 4);
  const bucket = new FixedColumn(n, 4);
  const expires = new FixedColumn(n, 4);
  const count = new FixedColumn(n, 8);
  const sum = new FixedColumn(n, 8);
  const min = new FixedColumn(n, 8);
  const max = new FixedColumn(n, 8);
  const sumsq = new FixedColumn(n, 8);
  const first = new TimeValueColumn(n);
  const last = new TimeValueColumn(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i] as RollupRow;
    metric.uuid(i, r.metricId);
    granularity.uint32(i, r.granularity);
    bucket.uint32(i, r.bucket);
    // DateTime ends in 2106; retention is capped below that (archive-policies.ts).
    expires.uint32(i, Math.min(r.expires, 0xffff_ffff));
    count.int64(i, r.count);
    sum.float64(i, r.sum);
    min.float64(i, r.min);
    max.float64(i, r.max);
    sumsq.float64(i, r.sumsq);
    first.set(i, r.firstTs, r.firstValue);
    last.set(i, r.lastTs, r.lastValue);
  }
  return {
    rows: n,
    columns: [
      { name: 'metric_id', type: 'UUID', data: metric.data },
      { name: 'granularity', type: 'UInt32', data: granularity.data },
      { name: 'bucket', type: "DateTime('UTC')", data: bucket.data },
      { name: 'expires', type: "DateTime('UTC')", data: expires.data },
      { name: 'count', type: 'UInt64', data: count.data },
      { name: 'sum', type: 'Float64', data: sum.data },
      { name: 'min', type: 'Float64', data: min.data },
      { name: 'max', type: 'Float64', data: max.data },
      { name: 'sumsq', type: 'Float64', data: sumsq.data },
      { name: 'first_measure', type: "Tuple(DateTime64(6, 'UTC'), Float64)", data: first.data },
      { name: 'last_measure', type: "Tuple(DateTime64(6, 'UTC'), Float64)", data: last.data },
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
export async function insertMeasureRuns(store: ClickHouseDriver, runs: readonly MeasureRun[], options: MeasureInsertOptions): Promise<RollupRow[]> {
  if (runs.every((r) => r.timestamps.length === 0)) return [];
  const rollups = computeRollupRows(runs);
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
export function insertMeasureRows(store: ClickHouseDriver, rows: readonly MeasureRowInput[], options: MeasureInsertOptions): Promise<RollupRow[]> {
  return insertMeasureRuns(store, runsOfRows(rows), options);
}
