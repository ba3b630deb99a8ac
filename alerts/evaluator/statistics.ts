/**
 * Each rule type's data, read from our store and judged with Aodh's threshold semantics
 * (./threshold.ts): the three gnocchi rules as Aodh's gnocchi evaluator asks Gnocchi
 * (aodh/evaluator/gnocchi.py), and Cumulus's log and outage rules. A read that fails is
 * insufficient data with Aodh's "alarm statistics retrieval failed" reason, as in Aodh.
 */
import { errorMessage, type LogLevel } from '../../core/index.ts';
import {
  countLogs,
  crossMetricAggregatePoints,
  searchResources,
  selectCrossMetricAggregate,
  selectMeasures,
  selectMetrics,
  selectMetricsByIds,
  selectResource,
  selectResourceByUuid,
  selectResourcesMetrics,
  type AlarmRule,
  type ClickHouseDriver,
  type ComparisonOperator,
  type CrossMetricRow,
  type LogCountRow,
  type MeasureRow,
  type MetricRow,
  type ResourceRow,
  type ResourceType,
} from '../../storage/index.ts';
import { MAX_SEARCHED_RESOURCES } from './config.ts';
import { selectCheckFailures, type CheckFailuresRow } from './queries.ts';
import { insufficient, processStatistics, thresholdOfPoints, type RuleEvaluation } from './threshold.ts';

export interface StatisticsDeps {
  store: ClickHouseDriver;
  /** Resolves a by-resources rule's resource_type (storage's ResourceTypeStore.find). */
  resourceType(name: string): ResourceType | undefined;
}

export interface StatisticsContext {
  nowMs: number;
  /** Aodh's additional_ingestion_lag, seconds. */
  ingestionLagSeconds: number;
}

interface ThresholdRule {
  comparison_operator: ComparisonOperator;
  threshold: number;
  aggregation_method: string;
  granularity: number;
  evaluation_periods: number;
}

/** Aodh's look_back: one granularity more than the periods, for a partial newest bucket. */
const LOOK_BACK_PERIODS = 1;

/** Aodh's _bound_duration: granularity x (periods + look back) + lag, ending now. */
function boundDuration(rule: ThresholdRule, ctx: StatisticsContext): { start: Date; stop: Date; now: Date } {
  const windowS = rule.granularity * (rule.evaluation_periods + LOOK_BACK_PERIODS) + ctx.ingestionLagSeconds;
  return { start: new Date(ctx.nowMs - windowS * 1000), stop: new Date(ctx.nowMs), now: new Date(ctx.nowMs) };
}

const finite = (values: ReadonlyArray<number | null>): number[] => values.filter((v): v is number => v !== null && Number.isFinite(v));
/** Gnocchi's cross-metric aggregates take `(metric <id> <method>)` without the rate: (Aodh strips it). */
const perMetricMethod = (method: string) => (method.startsWith('rate:') ? method.slice('rate:'.length) : method);
const retrievalFailed = (err: unknown) => insufficient(`alarm statistics retrieval failed: ${errorMessage(err)}`);

/** The metric `name` of resource `resourceId`, as given (the stored id) or as Gnocchi shows it (its UUID). */
async function resourceMetric(store: ClickHouseDriver, resourceId: string, name: string): Promise<MetricRow | 'no resource' | 'no metric'> {
  const direct = await store.query<MetricRow>(selectMetrics({ projectId: null, resourceId, name, limit: 1 }));
  if (direct[0]) return direct[0];
  const [resource] = await store.query<ResourceRow>(selectResourceByUuid(resourceId.toLowerCase(), null));
  const stored = resource?.id ?? (await store.query<ResourceRow>(selectResource(resourceId, null)))[0]?.id;
  if (stored === undefined) return 'no resource';
  if (stored === resourceId) return 'no metric';
  const [metric] = await store.query<MetricRow>(selectMetrics({ projectId: null, resourceId: stored, name, limit: 1 }));
  return metric ?? 'no metric';
}

async function crossMetric(store: ClickHouseDriver, rule: ThresholdRule, metricIds: readonly string[], ctx: StatisticsContext): Promise<number[]> {
  // needed_overlap = 0, as Aodh asks: a metric that stopped (a deleted instance) does not void the others.
  const q = { metricIds, method: perMetricMethod(rule.aggregation_method), reaggregation: rule.aggregation_method, granularity: rule.granularity, ...boundDuration(rule, ctx), neededOverlap: 0 };
  const rows = await store.query<CrossMetricRow>(selectCrossMetricAggregate(q));
  return finite(crossMetricAggregatePoints(rows, q).map(([, , value]) => value));
}

export async function gnocchiResourcesStatistics(deps: StatisticsDeps, rule: AlarmRule, ctx: StatisticsContext): Promise<RuleEvaluation> {
  const r = rule as unknown as ThresholdRule & { metric: string; resource_id: string };
  try {
    const metric = await resourceMetric(deps.store, r.resource_id, r.metric);
    if (metric === 'no resource') return insufficient(`resource ${r.resource_id} does not exists`);
    if (metric === 'no metric') return insufficient(`metric ${r.metric} for resource ${r.resource_id} does not exists`);
    const rows = await deps.store.query<MeasureRow>(selectMeasures({ metricId: metric.id, method: r.aggregation_method, granularity: r.granularity, ...boundDuration(r, ctx) }));
    const points = finite(rows.filter((row) => Number(row.granularity) === r.granularity).map((row) => (row.value === null ? null : Number(row.value))));
    return thresholdOfPoints(r, points);
  } catch (err) {
    return retrievalFailed(err);
  }
}

export async function gnocchiMetricsStatistics(deps: StatisticsDeps, rule: AlarmRule, ctx: StatisticsContext): Promise<RuleEvaluation> {
  const r = rule as unknown as ThresholdRule & { metrics: string[] };
  try {
    const ids = [...new Set(r.metrics.map((m) => m.toLowerCase()))];
    const found = await deps.store.query<MetricRow>(selectMetricsByIds(ids, null));
    if (found.length < ids.length) return insufficient(`At least of metrics in ${JSON.stringify(r.metrics)} does not exist`);
    return thresholdOfPoints(r, await crossMetric(deps.store, r, ids, ctx));
  } catch (err) {
    return retrievalFailed(err);
  }
}

export async function gnocchiResourcesAggregationStatistics(deps: StatisticsDeps, rule: AlarmRule, ctx: StatisticsContext): Promise<RuleEvaluation> {
  const r = rule as unknown as ThresholdRule & { metric: string; resource_type: string; query: string };
  try {
    const type = deps.resourceType(r.resource_type);
    if (type === undefined) return insufficient(`resource type ${r.resource_type} does not exist`);
    const resources = await deps.store.query<ResourceRow>(searchResources({ type, projectId: null, limit: MAX_SEARCHED_RESOURCES, filter: JSON.parse(r.query) as unknown }));
    const metrics = resources.length === 0 ? [] : (await deps.store.query<MetricRow>(selectResourcesMetrics(resources.map((res) => res.id), null))).filter((m) => m.name === r.metric);
    if (metrics.length === 0) return insufficient(`metric ${r.metric} does not exists`);
    return thresholdOfPoints(r, await crossMetric(deps.store, r, [...new Set(metrics.map((m) => m.id))], ctx));
  } catch (err) {
    return retrievalFailed(err);
  }
}

/** Log lines matching as /log/v1 does (service, exactly this level, text contained) over the last `window` seconds, against the threshold. */
export async function logStatistics(deps: StatisticsDeps, rule: AlarmRule, ctx: StatisticsContext): Promise<RuleEvaluation> {
  const r = rule as unknown as { service?: string; level?: LogLevel; text?: string; comparison_operator: ComparisonOperator; threshold: number; window: number };
  try {
    const start = new Date(ctx.nowMs - r.window * 1000);
    const rows = await deps.store.query<LogCountRow>(
      countLogs({ projectId: null, start, end: new Date(ctx.nowMs + 1), intervalSeconds: r.window, ...(r.service === undefined ? {} : { services: [r.service] }), ...(r.level === undefined ? {} : { levels: [r.level] }), ...(r.text === undefined ? {} : { contains: r.text }) }),
    );
    const lines = rows.reduce((sum, row) => sum + Number(row.count), 0);
    return processStatistics(r, [lines], { counts: true, details: { window: r.window } });
  } catch (err) {
    return retrievalFailed(err);
  }
}

/** Failures of a synthetic check over the last `window` seconds; no run at all is insufficient data. */
export async function outageStatistics(deps: StatisticsDeps, rule: AlarmRule, ctx: StatisticsContext): Promise<RuleEvaluation> {
  const r = rule as unknown as { check: string; comparison_operator: ComparisonOperator; threshold: number; window: number };
  try {
    const [row] = await deps.store.query<CheckFailuresRow>(selectCheckFailures(r.check, ctx.nowMs - r.window * 1000, ctx.nowMs));
    const runs = Number(row?.runs ?? 0);
    if (!row || runs === 0) return insufficient(`No result of check ${r.check} in the last ${r.window} seconds`, [], { counts: true, details: { window: r.window, runs: 0 }, labels: { check: r.check } });
    const failures = Number(row.failures);
    const labels: Record<string, string> = { check: r.check };
    for (const key of ['service', 'region', 'host'] as const) if (row[key] !== '') labels[key] = row[key];
    return processStatistics(r, [failures], { counts: true, details: { window: r.window, runs, ...(row.last_error === '' ? {} : { last_error: row.last_error }) }, labels });
  } catch (err) {
    return retrievalFailed(err);
  }
}

/** The statistics function of a threshold-like rule type (composite leaves included). */
export const STATISTICS: Record<string, (deps: StatisticsDeps, rule: AlarmRule, ctx: StatisticsContext) => Promise<RuleEvaluation>> = {
  gnocchi_resources_threshold: gnocchiResourcesStatistics,
  gnocchi_aggregation_by_metrics_threshold: gnocchiMetricsStatistics,
  gnocchi_aggregation_by_resources_threshold: gnocchiResourcesAggregationStatistics,
  log: logStatistics,
  outage: outageStatistics,
};
