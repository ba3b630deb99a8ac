/**
 * Cross-metric aggregates, as Gnocchi's /v1/aggregates computes
 * `(aggregate <reaggregation> (metric (A <method>) (B <method>) ...))` for one granularity
 * (gnocchi/rest/aggregates/processor.py aggregated() and operations.py): per bucket, the
 * reaggregation of the metrics' <method> values. The SQL does the heavy part in one query
 * whatever the number of metrics (per-metric values, then one row per bucket);
 * `crossMetricAggregatePoints` applies Gnocchi's overlap rule, the rate: difference and
 * `dropna` to those rows. Experimental.
 */
import { CumulusError, InvalidInputError } from '../../core/index.ts';
import { parseAggregationMethod, type ArchivePolicy } from '../archive-policies.ts';
import type { BoundQuery } from '../driver.ts';
import { selectBucketValues } from './measures.ts';
import { NOT_DELETED } from './metrics.ts';

/** Gnocchi's reaggregations (operations.AGG_MAP): nan-aware numpy functions, std and var over the population. */
export const REAGGREGATION_METHODS = ['mean', 'median', 'std', 'min', 'max', 'sum', 'var', 'count'] as const;
export type ReaggregationMethod = (typeof REAGGREGATION_METHODS)[number];

/** Over `vals`, the bucket's values (the present ones, plus the fill for the absent ones). */
const REAGGREGATION_SQL: Record<ReaggregationMethod, string> = {
  mean: 'arrayAvg(vals)',
  median: "arrayReduce('quantileExactInclusive(0.5)', vals)",
  std: "arrayReduce('stddevPopStable', vals)",
  min: 'arrayMin(vals)',
  max: 'arrayMax(vals)',
  sum: 'arraySum(vals)',
  var: "arrayReduce('varPopStable', vals)",
  count: 'toFloat64(length(vals))',
};

/** `null` and `dropna` leave absent values out (dropna also drops non-finite results); a number stands in for them. */
export type AggregateFill = number | 'null' | 'dropna';

export interface CrossMetricAggregateQuery {
  metricIds: readonly string[];
  /** Each metric's method (any Gnocchi method: mean, 95pct, rate:sum...). */
  method: string;
  /** Across metrics: mean, median, std, min, max, sum, var, count, or rate:<one of those>. */
  reaggregation: string;
  granularity: number;
  start?: Date;
  stop?: Date;
  now: Date;
  /** As Gnocchi's /aggregates: when neither fill nor neededOverlap is given, fill is `dropna`. */
  fill?: AggregateFill;
  /** Percent of buckets every metric must have (only without fill, as Gnocchi); 100 when fill is absent and this is not. */
  neededOverlap?: number;
  /** rate: methods only; see BucketValuesQuery.counterResets. */
  counterResets?: boolean;
}

export interface CrossMetricRow {
  /** Bucket start, unix seconds. */
  bucket: number | string;
  /** How many of the metrics have a value in this bucket. */
  present: number | string;
  value: number | null;
}

export class UnaggregableError extends CumulusError {
  constructor(reason: string) {
    super('CUMULUS_STORAGE_METRICS_UNAGGREGABLE', `Metrics can't being aggregated: ${reason}`, { httpStatus: 400 });
    this.name = 'UnaggregableError';
  }
}

function parseReaggregation(name: string): { rate: boolean; base: ReaggregationMethod } {
  const rate = name.startsWith('rate:');
  const base = rate ? name.slice(5) : name;
  if (!(REAGGREGATION_METHODS as readonly string[]).includes(base)) {
    throw new InvalidInputError('CUMULUS_STORAGE_REAGGREGATION_UNKNOWN', `expected a reaggregation (${REAGGREGATION_METHODS.join(', ')}, or rate:<one of those>), got ${JSON.stringify(name)}`);
  }
  return { rate, base: base as ReaggregationMethod };
}

const effectiveFill = (q: Pick<CrossMetricAggregateQuery, 'fill' | 'neededOverlap'>): AggregateFill | undefined => (q.fill === undefined && q.neededOverlap === undefined ? 'dropna' : q.fill);

function validate(q: CrossMetricAggregateQuery): void {
  if (q.metricIds.length === 0) throw new InvalidInputError('CUMULUS_STORAGE_AGGREGATE_INVALID', 'metricIds: expected at least one metric id, got none');
  const dup = q.metricIds.find((id, i) => q.metricIds.indexOf(id) !== i);
  if (dup !== undefined) throw new InvalidInputError('CUMULUS_STORAGE_AGGREGATE_INVALID', `metricIds: expected each metric once, got ${dup} more than once`);
  if (!Number.isInteger(q.granularity) || q.granularity < 1) throw new InvalidInputError('CUMULUS_STORAGE_AGGREGATE_INVALID', `granularity: expected a whole number of seconds >= 1, got ${q.granularity}`);
  if (typeof q.fill === 'number' && !Number.isFinite(q.fill)) throw new InvalidInputError('CUMULUS_STORAGE_AGGREGATE_INVALID', `fill: expected a finite number, 'null' or 'dropna', got ${q.fill}`);
  if (q.fill !== undefined && typeof q.fill !== 'number' && q.fill !== 'null' && q.fill !== 'dropna') throw new InvalidInputError('CUMULUS_STORAGE_AGGREGATE_INVALID', `fill: expected a number, 'null' or 'dropna', got ${JSON.stringify(q.fill)}`);
  if (q.neededOverlap !== undefined && !Number.isFinite(q.neededOverlap)) throw new InvalidInputError('CUMULUS_STORAGE_AGGREGATE_INVALID', `neededOverlap: expected a number (percent), got ${q.neededOverlap}`);
  parseReaggregation(q.reaggregation);
}

/**
 * One row per bucket where at least one metric has a value: `bucket`, `present` (how many
 * metrics have one) and `value` (the reaggregation, before any rate: difference). Feed the
 * rows to {@link crossMetricAggregatePoints} with the same query.
 */
export function selectCrossMetricAggregate(q: CrossMetricAggregateQuery): BoundQuery {
  validate(q);
  const reaggregation = parseReaggregation(q.reaggregation);
  const perMetric = selectBucketValues({ metricIds: q.metricIds, method: q.method, granularity: q.granularity, start: q.start, stop: q.stop, now: q.now, counterResets: q.counterResets });
  const fill = effectiveFill(q);
  const params: Record<string, unknown> = { ...perMetric.params, metric_count: q.metricIds.length };
  // Absent metrics count as the fill value (Gnocchi fills its grid before aggregating).
  let vals = 'groupArray(value)';
  if (typeof fill === 'number') {
    params.fill = fill;
    vals = 'arrayConcat(groupArray(value), arrayWithConstant({metric_count:UInt32} - count(), {fill:Float64}))';
  }
  return {
    // A NaN per-metric value is absent, as in Gnocchi's grid.
    sql: `SELECT bucket, present, ${REAGGREGATION_SQL[reaggregation.base]} AS value FROM (
        SELECT bucket, toUInt32(count()) AS present, ${vals} AS vals
        FROM (${perMetric.sql}) WHERE NOT isNaN(value)
        GROUP BY bucket)
      ORDER BY bucket`,
    params,
  };
}

/**
 * Gnocchi's aggregated() on the rows: without fill, the overlap rule (no boundary given:
 * trim to the first/last bucket every metric has; fewer than neededOverlap percent of
 * buckets complete: refused, as is no complete bucket at all); then rate:<reaggregation>
 * differences between consecutive buckets; then dropna. Returns `[bucket (unix s),
 * granularity, value]` triples, oldest first.
 */
export function crossMetricAggregatePoints(rows: readonly CrossMetricRow[], q: CrossMetricAggregateQuery): Array<[number, number, number | null]> {
  validate(q);
  const fill = effectiveFill(q);
  let points = rows.map((r) => ({ bucket: Number(r.bucket), present: Number(r.present), value: r.value === null ? Number.NaN : Number(r.value) })).sort((a, b) => a.bucket - b.bucket);
  if (fill === undefined) {
    const needed = q.neededOverlap ?? 100;
    const complete = (p: { present: number }) => p.present === q.metricIds.length;
    const first = points.findIndex(complete);
    if (first < 0 && needed > 0) throw new UnaggregableError(`No overlap; expected at least one bucket where all ${q.metricIds.length} metrics have a value`);
    if (first >= 0) {
      let last = points.length - 1;
      while (!complete(points[last] as { present: number })) last--;
      if (q.stop === undefined) points = points.slice(0, last + 1);
      if (q.start === undefined) points = points.slice(first);
    }
    if (points.length > 0) {
      const percent = (points.filter(complete).length * 100) / points.length;
      if (percent < needed) throw new UnaggregableError(`Less than ${needed}% of datapoints overlap in this timespan (${percent.toFixed(2)}%)`);
    }
  }
  let values = points.map((p) => [p.bucket, p.value] as [number, number]);
  if (parseReaggregation(q.reaggregation).rate) values = values.slice(1).map(([bucket, value], i) => [bucket, value - (values[i] as [number, number])[1]]);
  if (fill === 'dropna') values = values.filter(([, v]) => Number.isFinite(v));
  return values.map(([bucket, value]) => [bucket, q.granularity, Number.isFinite(value) ? value : null]);
}

export interface AggregatedMetric {
  id: string;
  policy: ArchivePolicy;
}

/**
 * What Gnocchi checks before aggregating (processor.get_measures): every metric keeps
 * `method` (404 otherwise), and has `granularity`; without one, the granularities all
 * metrics share (400 when there is none). Returns the granularities to query, coarsest first.
 */
export function aggregableGranularities(metrics: readonly AggregatedMetric[], method: string, granularity?: number): number[] {
  if (!parseAggregationMethod(method)) throw new InvalidInputError('CUMULUS_STORAGE_AGGREGATION_METHOD_UNKNOWN', `expected an aggregation method, got ${JSON.stringify(method)}`);
  let granularities: number[];
  if (granularity === undefined) {
    const counts = new Map<number, number>();
    for (const m of metrics) for (const l of m.policy.definition) counts.set(l.granularity, (counts.get(l.granularity) ?? 0) + 1);
    granularities = [...counts].filter(([, n]) => n === metrics.length).map(([g]) => g);
    if (granularities.length === 0) throw new UnaggregableError(`No granularity match; expected the metrics' policies to share one (${metrics.map((m) => `${m.id}: ${m.policy.name}`).join(', ')})`);
  } else granularities = [granularity];
  const lacking = metrics.filter((m) => !m.policy.aggregation_methods.includes(method));
  if (lacking.length > 0) {
    throw new CumulusError('CUMULUS_STORAGE_AGGREGATION_NOT_FOUND', `Metrics with unknown aggregation: ${lacking.map((m) => `${m.id} (policy ${m.policy.name} keeps ${m.policy.aggregation_methods.join(', ')}; not ${method})`).join('; ')}`, { httpStatus: 404 });
  }
  const missing = metrics.filter((m) => granularities.some((g) => !m.policy.definition.some((l) => l.granularity === g)));
  if (missing.length > 0) throw new UnaggregableError(`Granularities are missing; expected ${granularities.join(', ')} s in every policy, not in ${missing.map((m) => `${m.id} (${m.policy.name})`).join(', ')}`);
  return granularities.sort((a, b) => b - a);
}

// ---------------------------------------------------------------------------------------
// The metric index reads of /v1/aggregates: which metrics an operation names.

// No `AS id` alias on id: in ClickHouse an alias shadows the column in WHERE. UUIDs read back as text.
const AGGREGATED_METRIC_COLUMNS = 'id, name, resource_id, project_id, user_id, unit, archive_policy_name, created_at';

/** Live metrics matching `condition` (bound in `params`), only `projectId`'s when it is given. */
function selectLiveMetrics(condition: string, params: Record<string, unknown>, projectId: string | null, order: string): BoundQuery {
  const where = [condition, NOT_DELETED];
  if (projectId !== null) where.push('project_id = {project_id:String}');
  return { sql: `SELECT ${AGGREGATED_METRIC_COLUMNS} FROM metrics FINAL WHERE ${where.join(' AND ')} ORDER BY ${order}`, params: projectId === null ? params : { ...params, project_id: projectId } };
}

/**
 * The metrics with these ids (deleted ones left out), each once; only `projectId`'s when it
 * is given, so another project's metric reads as missing. Columns as MetricRow.
 */
export function selectMetricsByIds(ids: readonly string[], projectId: string | null): BoundQuery {
  return selectLiveMetrics('id IN {ids:Array(UUID)}', { ids: [...ids] }, projectId, 'id');
}

/** The metrics of these resources (deleted ones left out), by resource then name; only `projectId`'s when given. */
export function selectResourcesMetrics(resourceIds: readonly string[], projectId: string | null): BoundQuery {
  return selectLiveMetrics('resource_id IN {resource_ids:Array(String)}', { resource_ids: [...resourceIds] }, projectId, 'resource_id, name, id');
}
