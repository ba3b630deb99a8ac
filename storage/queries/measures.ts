/**
 * Reading one metric's aggregates, for every Gnocchi aggregation method (see
 * docs/archive-policies.md): mean, min, max, sum, count, std, first and last from the
 * rollup states; median and NNpct exactly from the raw `measures`; every `rate:<method>`
 * from the raw measures' consecutive differences, then <method> per bucket.
 */
import { InvalidInputError } from '../../core/index.ts';
import { parseAggregationMethod, type ParsedAggregationMethod } from '../archive-policies.ts';
import type { BoundQuery } from '../driver.ts';

/** Aggregation methods the rollup states answer directly. */
export const ROLLUP_METHODS = ['mean', 'min', 'max', 'sum', 'count', 'std', 'first', 'last'] as const;
export type RollupMethod = (typeof ROLLUP_METHODS)[number];

/** The expression computing each method from the merged rollup states of one bucket. */
const ROLLUP_SQL: Record<RollupMethod, string> = {
  mean: 'sum(sum) / sum(count)',
  min: 'min(min)',
  max: 'max(max)',
  sum: 'sum(sum)',
  count: 'toFloat64(sum(count))',
  // Sample standard deviation (ddof = 1), as Gnocchi; a bucket of one measure has none (HAVING below).
  std: 'sqrt(greatest(sum(sumsq) - pow(sum(sum), 2) / sum(count), 0) / (sum(count) - 1))',
  first: 'tupleElement(min(first_measure), 2)',
  last: 'tupleElement(max(last_measure), 2)',
};

/**
 * The same methods over raw values `x` at times `t` (sample id `sid` breaks ties).
 * Percentiles interpolate linearly between the closest ranks, as numpy and Gnocchi do:
 * quantileExactInclusive is that (Hyndman-Fan type 7), over every value of the bucket.
 */
const RAW_SQL: Record<ParsedAggregationMethod['base'], string> = {
  mean: 'avg(x)',
  min: 'min(x)',
  max: 'max(x)',
  sum: 'sum(x)',
  count: 'toFloat64(count())',
  std: 'stddevSampStable(x)',
  first: 'argMin(x, (t, sid))',
  last: 'argMax(x, (t, sid))',
  median: 'quantileExactInclusive(0.5)(x)',
  percentile: 'quantileExactInclusive({quantile:Float64})(x)',
};

export interface BucketValuesQuery {
  metricIds: readonly string[];
  /** Any Gnocchi method: mean ... last, median, 1pct..99pct, rate:<any of those>. */
  method: string;
  /** Only this granularity (seconds); every one of the metrics' policies when omitted. */
  granularity?: number;
  /** Buckets from the one holding `start` on (Gnocchi rounds start down to the granularity). */
  start?: Date;
  /** Exclusive upper bound on the bucket start. */
  stop?: Date;
  /** Buckets past their retention are left out even before the TTL merge removes them. */
  now: Date;
  /** rate: only. Default false = Gnocchi: a counter reset gives a negative difference. True: the new value itself is the increase. */
  counterResets?: boolean;
}

/** The method is none Gnocchi knows. */
const unknownMethod = (method: string) =>
  new InvalidInputError('CUMULUS_STORAGE_AGGREGATION_METHOD_UNKNOWN', `expected an aggregation method (mean, sum, last, max, min, std, median, first, count, 1pct..99pct, or rate:<any of those>), got ${JSON.stringify(method)}`);

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);
const secondsUp = (date: Date) => Math.ceil(date.getTime() / 1000);

/** Whether a method reads the raw measures (exact percentiles, rates) rather than the rollup states. */
export function readsRawMeasures(method: string): boolean {
  const parsed = parseAggregationMethod(method);
  if (!parsed) throw unknownMethod(method);
  return rollupMethod(parsed) === undefined;
}

/**
 * Per (metric, granularity, bucket) the method's value: columns `metric_id`,
 * `granularity` (UInt32 s), `bucket` (UInt32 unix s), `value` (Float64). A building block
 * for the cross-metric aggregates (and selectMeasures' raw methods); one query whatever the
 * number of metrics. Experimental.
 */
export function selectBucketValues(q: BucketValuesQuery): BoundQuery {
  const parsed = parseAggregationMethod(q.method);
  if (!parsed) throw unknownMethod(q.method);
  const params: Record<string, unknown> = { now: seconds(q.now) };
  if (q.start) params.start = seconds(q.start);
  if (q.stop) params.stop = secondsUp(q.stop);
  const rollup = rollupMethod(parsed);
  if (rollup !== undefined) return { sql: rollupSql(q, rollup, params, true), params };
  params.metric_ids = [...q.metricIds];
  if (q.granularity !== undefined) params.granularity = q.granularity;
  if (parsed.base === 'percentile') params.quantile = (parsed.percentile as number) / 100;
  return { sql: rawSql(q, parsed, params), params };
}

/** The rollup method a parsed method is read with, or undefined when it needs the raw measures. */
function rollupMethod(parsed: ParsedAggregationMethod): RollupMethod | undefined {
  return !parsed.rate && (ROLLUP_METHODS as readonly string[]).includes(parsed.base) ? (parsed.base as RollupMethod) : undefined;
}

/**
 * Per (metric when `perMetric`, granularity, bucket) the method's value from the merged
 * states of every part holding the bucket. The WHERE is the sort key's prefix (metric,
 * granularity, bucket range): the primary index narrows the read to the metric's granules.
 *
 * One metric (`perMetric` false, selectMeasures): one flat SELECT, since each query level
 * costs chDB planning time, which is most of such a read (docs/archive-policies.md, "Read
 * performance"). Its output alias `bucket` would capture the column in WHERE and GROUP BY,
 * so those name it `rollups.bucket`. Per metric (the cross-metric aggregates): the shape
 * they always had, states merged in a subquery (the flat form measured no faster there).
 */
function rollupSql(q: BucketValuesQuery, method: RollupMethod, params: Record<string, unknown>, perMetric: boolean): string {
  const where: string[] = [];
  if (q.metricIds.length === 1) {
    params.metric_id = q.metricIds[0];
    where.push('metric_id = {metric_id:UUID}');
  } else {
    params.metric_ids = [...q.metricIds];
    where.push('metric_id IN {metric_ids:Array(UUID)}');
  }
  if (q.granularity !== undefined) {
    params.granularity = q.granularity;
    where.push('granularity = {granularity:UInt32}');
  }
  if (q.start) {
    if (q.granularity !== undefined) {
      params.start_bucket = Math.floor((params.start as number) / q.granularity) * q.granularity;
      where.push("rollups.bucket >= toDateTime({start_bucket:UInt32}, 'UTC')");
    } else where.push('toUnixTimestamp(rollups.bucket) >= intDiv({start:UInt32}, granularity) * granularity');
  }
  if (q.stop) where.push("rollups.bucket < toDateTime({stop:UInt32}, 'UTC')");
  const having = ["max(expires) > toDateTime({now:UInt32}, 'UTC')"];
  if (method === 'std') having.push('sum(count) > 1');
  if (perMetric) {
    return `SELECT metric_id, granularity, toUnixTimestamp(b) AS bucket, v AS value FROM (
      SELECT metric_id, granularity, rollups.bucket AS b, ${ROLLUP_SQL[method]} AS v
      FROM rollups WHERE ${where.join(' AND ')}
      GROUP BY metric_id, granularity, rollups.bucket
      HAVING ${having.join(' AND ')})`;
  }
  return `SELECT toUnixTimestamp(rollups.bucket) AS bucket, granularity, ${ROLLUP_SQL[method]} AS value
      FROM rollups WHERE ${where.join(' AND ')}
      GROUP BY granularity, rollups.bucket
      HAVING ${having.join(' AND ')}`;
}

/**
 * Raw measures, expanded into the metric's granularities the way the rollups' view does
 * (each row carries its policy's granularities and retentions). For rate: each value is
 * the difference with the previous measure, kept when that one lies in the same bucket or
 * the one just before: Gnocchi derives from one granularity before the bucket it
 * recomputes, so a measure after an empty bucket starts afresh.
 */
function rawSql(q: BucketValuesQuery, parsed: ParsedAggregationMethod, params: Record<string, unknown>): string {
  const rate = parsed.rate;
  // Which raw rows can matter: the buckets asked for, plus one granularity before for rates.
  const rowWhere = ['metric_id IN {metric_ids:Array(UUID)}'];
  const lookback = rate ? 2 : 1;
  if (q.granularity !== undefined) {
    const g = q.granularity;
    if (q.start) {
      params.raw_from = Math.max(0, Math.floor((params.start as number) / g) * g - (rate ? g : 0));
      rowWhere.push("ts >= toDateTime({raw_from:UInt32}, 'UTC')");
    }
    if (q.stop) {
      params.raw_to = Math.ceil((params.stop as number) / g) * g;
      rowWhere.push("ts < toDateTime({raw_to:UInt32}, 'UTC')");
    }
  } else {
    // Per row, from its own largest granularity: a superset of what the buckets need.
    if (q.start) rowWhere.push(`toInt64(toUnixTimestamp(ts)) + ${lookback} * arrayMax(granularities) >= {start:UInt32}`);
    if (q.stop) rowWhere.push('toUnixTimestamp(ts) < {stop:UInt32} + arrayMax(granularities)');
  }
  const source = rate
    ? `SELECT metric_id, ts, sample_id, granularities, retentions,
          ${q.counterResets ? 'if(value < prev_value, value, value - prev_value)' : 'value - prev_value'} AS x, prev_ts, seq
        FROM (
          SELECT metric_id, ts, sample_id, value, granularities, retentions,
            lagInFrame(value) OVER w AS prev_value,
            lagInFrame(ts) OVER w AS prev_ts,
            row_number() OVER w AS seq
          FROM measures WHERE ${rowWhere.join(' AND ')}
          WINDOW w AS (PARTITION BY metric_id ORDER BY ts, sample_id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW))`
    : `SELECT metric_id, ts, sample_id, granularities, retentions, value AS x FROM measures WHERE ${rowWhere.join(' AND ')}`;
  const bucketWhere: string[] = [];
  if (rate) bucketWhere.push('seq > 1', 'toInt64(toUnixTimestamp(prev_ts)) >= toInt64(bucket) - g');
  if (q.granularity !== undefined) bucketWhere.push('g = {granularity:UInt32}');
  if (q.start) bucketWhere.push('bucket >= intDiv({start:UInt32}, g) * g');
  if (q.stop) bucketWhere.push('bucket < {stop:UInt32}');
  const having = ['max(expires_at) > {now:UInt32}'];
  if (parsed.base === 'std') having.push('count() > 1');
  return `SELECT metric_id, granularity, bucket, ${RAW_SQL[parsed.base]} AS value FROM (
      SELECT metric_id, g AS granularity, toUInt32(intDiv(toUnixTimestamp(ts), g) * g) AS bucket, toUInt64(bucket) + r AS expires_at, ts AS t, sample_id AS sid, x
      FROM (${source})
      ARRAY JOIN granularities AS g, retentions AS r
      ${bucketWhere.length > 0 ? `WHERE ${bucketWhere.join(' AND ')}` : ''})
    GROUP BY metric_id, granularity, bucket
    HAVING ${having.join(' AND ')}`;
}

export interface MeasuresQuery {
  metricId: string;
  /** Any Gnocchi method (see BucketValuesQuery.method); the caller checks the metric's policy keeps it. */
  method: RollupMethod | string;
  /** Only this granularity (seconds); all of the metric's when omitted. */
  granularity?: number;
  /** Buckets from the one holding `start` on (rounded down to the granularity, as Gnocchi). */
  start?: Date;
  /** Exclusive upper bound on the bucket start. */
  stop?: Date;
  /** Buckets whose retention ended are left out even before the TTL merge removes them. */
  now: Date;
  /** rate: only; see BucketValuesQuery.counterResets. */
  counterResets?: boolean;
}

export interface MeasureRow {
  /** Bucket start, unix seconds. */
  bucket: number;
  granularity: number;
  /** null for a value JSON cannot carry (NaN, infinity). */
  value: number | null;
}

/**
 * A one-metric rollup read of at most this many buckets (a bounded range at one
 * granularity) runs on one thread: splitting a few thousand rows across threads costs
 * more than it saves. Larger or unbounded reads keep the engine's default.
 */
export const SINGLE_THREAD_MAX_BUCKETS = 20_000;

/**
 * Settings of a one-metric rollup read (docs/archive-policies.md, "Read performance"). They
 * change the plan, never the result, and every ClickHouse server from 23.5 on knows them:
 * - `optimize_move_to_prewhere = 0`: the primary key already narrows the read to a few
 *   granules per part; PREWHERE would add a read step per condition and part;
 * - `optimize_use_projections = 0`: rollups has no projection, so looking for one is
 *   planning time spent for nothing;
 * - `allow_experimental_analyzer = 0` (the older name of `enable_analyzer`, accepted by
 *   every version): the previous query analyzer plans this one-table GROUP BY about 0.4 ms
 *   faster on chDB 26.7. ClickHouse deprecates that analyzer (a removed setting is usually
 *   kept as a no-op): drop this line first if an engine upgrade refuses it or answers
 *   differently (the storage tests run every method through this query).
 */
const ROLLUP_READ_SETTINGS = ['optimize_move_to_prewhere = 0', 'optimize_use_projections = 0', 'allow_experimental_analyzer = 0'];

/** One metric's aggregated points `{bucket, granularity, value}`, coarsest granularity first, then by time (Gnocchi's order). */
export function selectMeasures(q: MeasuresQuery): BoundQuery {
  const parsed = parseAggregationMethod(q.method);
  if (!parsed) throw unknownMethod(q.method);
  const rollup = rollupMethod(parsed);
  if (rollup === undefined) {
    const inner = selectBucketValues({ ...q, metricIds: [q.metricId] });
    return {
      sql: `SELECT bucket, granularity, value FROM (${inner.sql}) ORDER BY granularity DESC, bucket ASC`,
      params: inner.params ?? {},
    };
  }
  // The rollup methods: one flat query, ordered and tuned for a single metric's read.
  const params: Record<string, unknown> = { now: seconds(q.now) };
  if (q.start) params.start = seconds(q.start);
  if (q.stop) params.stop = secondsUp(q.stop);
  const select = rollupSql({ ...q, metricIds: [q.metricId] }, rollup, params, false);
  const settings = [...ROLLUP_READ_SETTINGS];
  if (q.granularity !== undefined && params.start_bucket !== undefined && params.stop !== undefined) {
    const buckets = Math.ceil(((params.stop as number) - (params.start_bucket as number)) / q.granularity);
    if (buckets <= SINGLE_THREAD_MAX_BUCKETS) settings.push('max_threads = 1');
  }
  // One granularity: time order is the whole order (and the cheaper sort).
  const order = q.granularity !== undefined ? 'bucket' : 'granularity DESC, bucket';
  return { sql: `${select}\n    ORDER BY ${order}\n    SETTINGS ${settings.join(', ')}`, params };
}

/**
 * For the back window: per metric, the start of the block (bucket of its coarsest
 * granularity) holding its newest measure, read from the rollups (small) rather than the
 * raw measures. Gnocchi's rule only uses the newest time rounded down to that block, so
 * this is all it needs. Columns `metric_id`, `block` (s), `newest_block` (unix s).
 */
export function selectNewestMeasureTimes(metricIds: readonly string[]): BoundQuery {
  return {
    sql: `SELECT metric_id, max(granularity) AS block, toUnixTimestamp(argMax(bucket, (granularity, bucket))) AS newest_block
      FROM rollups WHERE metric_id IN {metric_ids:Array(UUID)}
      GROUP BY metric_id`,
    params: { metric_ids: [...metricIds] },
  };
}

export interface NewestMeasureTimeRow {
  metric_id: string;
  block: number;
  newest_block: number;
}
