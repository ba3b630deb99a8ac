/**
 * Gnocchi's processor.get_measures for Cumulus: checks the references' archive policies
 * (granularities in common, aggregation kept), reads their series from ClickHouse and runs
 * the operations. The common shape `(aggregate <method> (metric ...))` over one method is
 * computed by ClickHouse in one query per granularity (selectCrossMetricAggregate); every
 * other tree reads each method's per-metric buckets in one query and is evaluated here.
 * Experimental.
 */
import {
  crossMetricAggregatePoints,
  REAGGREGATION_METHODS,
  selectBucketValues,
  selectCrossMetricAggregate,
  UnaggregableError,
  type ArchivePolicy,
  type CrossMetricRow,
  type MetricRow,
  type ResourceRow,
} from '../../../storage/index.ts';
import type { ApiContext } from '../../context.ts';
import { isoBucket } from '../format.ts';
import { unaggregable, unknownAggregation, type LookupKey } from './errors.ts';
import type { OperationNode } from './grammar.ts';
import { processSeries, type Fill, type Point, type ProcessResult, type SeriesInput } from './processor.ts';

/** One column of the grid: a metric read with one aggregation method. */
export interface AggregateReference {
  /** What metric nodes select it by: (metric id, method), or with resources (name pattern, method). */
  readonly key: LookupKey;
  /** What errors call it: the metric id, or with resources the metric's name. */
  readonly name: string;
  readonly aggregation: string;
  readonly metric: MetricRow;
  readonly policy: ArchivePolicy;
  readonly resource?: ResourceRow;
}

export interface MeasuresOptions {
  readonly start?: Date;
  readonly stop?: Date;
  /** One granularity (seconds); the ones every reference's policy has when omitted. */
  readonly granularity?: number;
  readonly neededOverlap?: number;
  readonly fill?: Fill;
}

interface BucketRow {
  metric_id: string;
  granularity: number | string;
  bucket: number | string;
  value: number | string | null;
}

/** The granularities every reference's policy has; Gnocchi's 400 "No granularity match" when none. */
export function commonGranularities(refs: readonly AggregateReference[]): number[] {
  const counts = new Map<number, number>();
  for (const ref of refs) for (const level of ref.policy.definition) counts.set(level.granularity, (counts.get(level.granularity) ?? 0) + 1);
  const granularities = [...counts].filter(([, n]) => n === refs.length).map(([g]) => g);
  if (granularities.length === 0) throw unaggregable(refs.map((r) => [r.name, r.aggregation]), 'No granularity match');
  return granularities;
}

/** The granularities to read, coarsest first, after Gnocchi's checks (400/404 in its words). */
export function checkGranularities(refs: readonly AggregateReference[], granularity: number | undefined): number[] {
  const granularities = granularity === undefined ? commonGranularities(refs) : [granularity];
  for (const ref of refs) if (!ref.policy.aggregation_methods.includes(ref.aggregation)) throw unknownAggregation(ref.metric.id, ref.aggregation);
  const missing = refs.flatMap((ref) => {
    const g = granularities.find((wanted) => !ref.policy.definition.some((level) => level.granularity === wanted));
    return g === undefined ? [] : [[ref.name, ref.aggregation, g] as const];
  });
  if (missing.length > 0) throw unaggregable(missing, 'Granularities are missing');
  return granularities.sort((a, b) => b - a);
}

/** The storage layer's overlap refusal in Gnocchi's exact words. */
function gnocchiReason(message: string): string {
  const reason = message.replace(/^Metrics can't being aggregated: /, '');
  if (reason.startsWith('No overlap')) return 'No overlap';
  const less = /^Less than ([\d.eE+-]+)% (.*)$/.exec(reason);
  return less ? `Less than ${Number(less[1]).toFixed(6)}% ${less[2]}` : reason;
}

const seconds = (d: Date | undefined) => (d === undefined ? undefined : d.getTime() / 1000);

/** The canonical cross-metric shape ClickHouse computes whole: one method, each metric once, a fill it knows. */
function crossMetricShape(operations: OperationNode, refs: readonly AggregateReference[], fill: Fill | undefined): string | undefined {
  if (operations.op !== 'aggregate' || operations.operand.op !== 'metric') return undefined;
  const method = refs[0]?.aggregation;
  if (method === undefined || refs.some((r) => r.aggregation !== method)) return undefined;
  if (new Set(refs.map((r) => r.metric.id)).size !== refs.length) return undefined;
  if (fill !== undefined && typeof fill !== 'number' && fill !== 'null' && fill !== 'dropna') return undefined;
  const reaggregation = operations.method.replace(/^rate:/, '');
  return (REAGGREGATION_METHODS as readonly string[]).includes(reaggregation) ? method : undefined;
}

async function crossMetric(context: ApiContext, refs: readonly AggregateReference[], reaggregation: string, method: string, granularities: readonly number[], options: MeasuresOptions): Promise<ProcessResult> {
  const keys = refs.map((r) => r.key);
  const points: Point[] = [];
  for (const granularity of granularities) {
    const q = {
      metricIds: refs.map((r) => r.metric.id),
      method,
      reaggregation,
      granularity,
      start: options.start,
      stop: options.stop,
      now: context.clock.now(),
      ...(options.fill === undefined ? {} : { fill: options.fill as number | 'null' | 'dropna' }),
      ...(options.neededOverlap === undefined ? {} : { neededOverlap: options.neededOverlap }),
    };
    const rows = await context.store.query<CrossMetricRow>(selectCrossMetricAggregate(q));
    try {
      points.push(...crossMetricAggregatePoints(rows, q));
    } catch (err) {
      if (err instanceof UnaggregableError) throw unaggregable(keys, gnocchiReason(err.message));
      throw err;
    }
  }
  return { kind: 'aggregated', points };
}

/** Each method's per-metric buckets in one query; the series per (reference, granularity). */
async function readSeries(context: ApiContext, refs: readonly AggregateReference[], granularities: readonly number[], options: MeasuresOptions): Promise<SeriesInput[]> {
  const wanted = new Set(granularities);
  const byMethod = new Map<string, Set<string>>();
  for (const ref of refs) byMethod.set(ref.aggregation, (byMethod.get(ref.aggregation) ?? new Set()).add(ref.metric.id));
  const points = new Map<string, Array<[number, number]>>();
  const keyOf = (metricId: string, method: string, granularity: number) => `${metricId}\u0000${method}\u0000${granularity}`;
  await Promise.all(
    [...byMethod].map(async ([method, ids]) => {
      const rows = await context.store.query<BucketRow>(
        selectBucketValues({ metricIds: [...ids], method, granularity: granularities.length === 1 ? granularities[0] : undefined, start: options.start, stop: options.stop, now: context.clock.now() }),
      );
      for (const row of rows) {
        const granularity = Number(row.granularity);
        const value = row.value === null ? Number.NaN : Number(row.value);
        // A bucket without a value (NaN) is no bucket, as in Gnocchi's archive.
        if (!wanted.has(granularity) || Number.isNaN(value)) continue;
        const key = keyOf(String(row.metric_id), method, granularity);
        let list = points.get(key);
        if (!list) points.set(key, (list = []));
        list.push([Number(row.bucket), value]);
      }
    }),
  );
  return refs.flatMap((ref, reference) => granularities.map((granularity) => ({ reference, granularity, points: points.get(keyOf(ref.metric.id, ref.aggregation, granularity)) ?? [] })));
}

/** The operations over the references' measures: checks, reads, evaluation. */
export async function getMeasures(context: ApiContext, refs: readonly AggregateReference[], operations: OperationNode, options: MeasuresOptions): Promise<ProcessResult> {
  const granularities = checkGranularities(refs, options.granularity);
  const method = crossMetricShape(operations, refs, options.fill);
  if (method !== undefined && operations.op === 'aggregate') return crossMetric(context, refs, operations.method, method, granularities, options);
  const series = await readSeries(context, refs, granularities, options);
  return processSeries(
    operations,
    refs.map((r) => r.key),
    series,
    { start: seconds(options.start), stop: seconds(options.stop), fill: options.fill, ...(options.neededOverlap === undefined ? {} : { neededOverlap: options.neededOverlap }) },
  );
}

/** A metric's own buckets at the granularities, coarsest first (the one-metric /v1/aggregation answer). */
export async function readMetricPoints(context: ApiContext, ref: AggregateReference, granularities: readonly number[], options: MeasuresOptions): Promise<Point[]> {
  const series = await readSeries(context, [ref], granularities, options);
  return series.flatMap((s) => [...s.points].sort((a, b) => a[0] - b[0]).map(([t, v]) => [t, s.granularity, v] as Point));
}

/** Points as Gnocchi answers them: `[ISO 8601 time, granularity, value]`. */
export const formatPoints = (points: readonly Point[]): Array<[string, number, number | null]> => points.map(([t, g, v]) => [isoBucket(t * 1000), g, v]);
