import type { BoundQuery } from '../driver.ts';

/** Aggregation methods the rollup states answer directly. */
export const ROLLUP_METHODS = ['mean', 'min', 'max', 'sum', 'count', 'std', 'first', 'last'] as const;
export type RollupMethod = (typeof ROLLUP_METHODS)[number];

/** The SQL expression computing each method from the merged states of one bucket. */
const METHOD_SQL: Record<RollupMethod, string> = {
  mean: 'sum(sum) / sum(count)',
  min: 'min(min)',
  max: 'max(max)',
  sum: 'sum(sum)',
  count: 'toFloat64(sum(count))',
  // Sample standard deviation (ddof = 1), as Gnocchi computes it; undefined for one measure.
  std: 'if(sum(count) > 1, sqrt(greatest(sum(sumsq) - pow(sum(sum), 2) / sum(count), 0) / (sum(count) - 1)), nan)',
  first: 'argMinMerge(first)',
  last: 'argMaxMerge(last)',
};

export interface MeasuresQuery {
  metricId: string;
  method: RollupMethod;
  /** Only this granularity (seconds); all of the metric's when omitted. */
  granularity?: number;
  /** Inclusive lower bound on the bucket start. */
  start?: Date;
  /** Exclusive upper bound on the bucket start. */
  stop?: Date;
  /** Buckets whose retention ended are left out even before the TTL merge removes them. */
  now: Date;
}

const toChDateTime = (date: Date) => Math.floor(date.getTime() / 1000);

/** One metric's aggregated points: `{bucket (unix s), granularity, value}`, coarsest granularity first. */
export function selectMeasures(q: MeasuresQuery): BoundQuery {
  const where = ['metric_id = {metric_id:UUID}', 'expires > toDateTime({now:UInt32}, \'UTC\')'];
  const params: Record<string, unknown> = { metric_id: q.metricId, now: toChDateTime(q.now) };
  if (q.granularity !== undefined) {
    where.push('granularity = {granularity:UInt32}');
    params.granularity = q.granularity;
  }
  if (q.start) {
    where.push("bucket >= toDateTime({start:UInt32}, 'UTC')");
    params.start = toChDateTime(q.start);
  }
  if (q.stop) {
    where.push("bucket < toDateTime({stop:UInt32}, 'UTC')");
    params.stop = toChDateTime(q.stop);
  }
  return {
    sql: `SELECT toUnixTimestamp(bucket) AS bucket, granularity, ${METHOD_SQL[q.method]} AS value
      FROM rollups WHERE ${where.join(' AND ')}
      GROUP BY granularity, bucket ORDER BY granularity DESC, bucket ASC`,
    params,
  };
}
