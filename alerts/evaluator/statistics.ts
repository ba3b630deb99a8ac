/**
 * Each rule type's data, read from our store and judged with Aodh's threshold semantics
 * (./threshold.ts): the three gnocchi rules as Aodh's gnocchi evaluator asks Gnocchi
 * (aodh/evaluator/gnocchi.py), and Cumulus's log and outage rules. A read that fails is
 * insufficient data with Aodh's "alarm statistics retrieval failed" reason, as in Aodh.
 * The batch*Statistics functions give the same answers for a whole round of gnocchi alarms
 * in a few queries (the evaluator tries them first; what they leave out is read alone).
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
  selectBucketValues,
  type Alarm,
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

/** Metric ids per batched measures query: a bounded IN list and result. */
export const BATCH_METRICS_PER_QUERY = 1_000;

interface BucketValueRow {
  metric_id: string;
  granularity: number | string;
  bucket: number | string;
  value: number | string | null;
}

/**
 * A round's gnocchi_resources_threshold statistics read in a few queries rather than two per
 * alarm (issue 8's 10,000 alarms): the rules' metrics in one read of their resources' live
 * metrics, then the measures of each group of rules reading the same kind of data (method,
 * granularity, window) in one query per BATCH_METRICS_PER_QUERY metrics. Same answers as
 * gnocchiResourcesStatistics, alarm by alarm; an alarm the batch cannot settle (its resource
 * given by UUID or missing, or a batched read that failed) is left out, and the caller reads
 * it alone. Keyed by alarm id.
 */
export async function batchResourcesStatistics(deps: StatisticsDeps, alarms: readonly Alarm[], ctx: StatisticsContext): Promise<Map<string, RuleEvaluation>> {
  const settled = new Map<string, RuleEvaluation>();
  const rules = alarms.filter((a) => a.type === 'gnocchi_resources_threshold').map((a) => ({ alarmId: a.alarm_id, rule: a.rule as unknown as ThresholdRule & { metric: string; resource_id: string } }));
  if (rules.length === 0) return settled;
  // 1. the metric of each (resource, name) as resourceMetric's direct read finds it: live, the lowest id as text first.
  const metricOf = new Map<string, string>();
  const key = (resourceId: string, name: string) => JSON.stringify([resourceId, name]);
  try {
    const resourceIds = [...new Set(rules.map((r) => r.rule.resource_id))];
    for (let i = 0; i < resourceIds.length; i += BATCH_METRICS_PER_QUERY) {
      for (const m of await deps.store.query<MetricRow>(selectResourcesMetrics(resourceIds.slice(i, i + BATCH_METRICS_PER_QUERY), null))) {
        const k = key(m.resource_id, m.name);
        const known = metricOf.get(k);
        if (known === undefined || String(m.id) < known) metricOf.set(k, String(m.id));
      }
    }
  } catch {
    return settled;
  }
  // 2. per kind of read, every metric's points in one query; rows filtered as the single read does.
  const groups = new Map<string, Array<{ alarmId: string; rule: ThresholdRule; metricId: string }>>();
  for (const r of rules) {
    const metricId = metricOf.get(key(r.rule.resource_id, r.rule.metric));
    if (metricId === undefined) continue;
    const g = JSON.stringify([r.rule.aggregation_method, r.rule.granularity, r.rule.evaluation_periods]);
    const members = groups.get(g) ?? [];
    members.push({ alarmId: r.alarmId, rule: r.rule, metricId });
    groups.set(g, members);
  }
  for (const members of groups.values()) {
    const rule = (members[0] as (typeof members)[number]).rule;
    const metricIds = [...new Set(members.map((m) => m.metricId))];
    const points = new Map<string, Array<{ bucket: number; value: number | null }>>();
    try {
      for (let i = 0; i < metricIds.length; i += BATCH_METRICS_PER_QUERY) {
        const q = selectBucketValues({ metricIds: metricIds.slice(i, i + BATCH_METRICS_PER_QUERY), method: rule.aggregation_method, granularity: rule.granularity, ...boundDuration(rule, ctx) });
        for (const row of await deps.store.query<BucketValueRow>(q)) {
          if (Number(row.granularity) !== rule.granularity) continue;
          const list = points.get(row.metric_id) ?? [];
          list.push({ bucket: Number(row.bucket), value: row.value === null ? null : Number(row.value) });
          points.set(row.metric_id, list);
        }
      }
    } catch {
      continue;
    }
    for (const m of points.values()) m.sort((a, b) => a.bucket - b.bucket);
    for (const member of members) {
      const values = finite((points.get(member.metricId) ?? []).map((p) => p.value));
      settled.set(member.alarmId, thresholdOfPoints(member.rule, values));
    }
  }
  return settled;
}

/** Cross-metric reaggregations the by-metrics batch computes itself; the others are read alone. */
const BATCH_REAGGREGATIONS: Record<string, (values: number[]) => number> = {
  mean: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  sum: (v) => v.reduce((a, b) => a + b, 0),
  min: (v) => Math.min(...v),
  max: (v) => Math.max(...v),
  count: (v) => v.length,
};
const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A round's gnocchi_aggregation_by_metrics_threshold statistics in a few queries rather than
 * two per alarm: one existence read of every rule's metrics, then per group of rules reading
 * the same kind of data (method, granularity, window) one per-metric bucket read of all their
 * metrics (selectBucketValues, the inner read of selectCrossMetricAggregate), reaggregated
 * per alarm and bucket here as that query does (mean, sum, min, max, count), then
 * crossMetricAggregatePoints as gnocchiMetricsStatistics. Rules it does not cover (rate:,
 * median, std, var; ids that are not UUIDs; a value JSON cannot carry) and failed reads are
 * left out for the single read. Means and sums may differ from ClickHouse's in the last bit
 * (summation order, which ClickHouse's groupArray does not fix either). Keyed by alarm id.
 */
export async function batchMetricsStatistics(deps: StatisticsDeps, alarms: readonly Alarm[], ctx: StatisticsContext): Promise<Map<string, RuleEvaluation>> {
  const settled = new Map<string, RuleEvaluation>();
  const rules = alarms
    .filter((a) => a.type === 'gnocchi_aggregation_by_metrics_threshold')
    .map((a) => {
      const rule = a.rule as unknown as ThresholdRule & { metrics: string[] };
      return { alarmId: a.alarm_id, rule, ids: [...new Set(rule.metrics.map((m) => m.toLowerCase()))] };
    })
    .filter((r) => r.ids.length > 0 && r.ids.every((id) => UUID_TEXT.test(id)) && BATCH_REAGGREGATIONS[r.rule.aggregation_method] !== undefined);
  if (rules.length === 0) return settled;
  // 1. which metrics exist (live), for all the rules at once.
  const found = new Set<string>();
  try {
    const all = [...new Set(rules.flatMap((r) => r.ids))];
    for (let i = 0; i < all.length; i += BATCH_METRICS_PER_QUERY) {
      for (const m of await deps.store.query<MetricRow>(selectMetricsByIds(all.slice(i, i + BATCH_METRICS_PER_QUERY), null))) found.add(String(m.id).toLowerCase());
    }
  } catch {
    return settled;
  }
  const ready: CrossMetricMember[] = [];
  for (const r of rules) {
    if (r.ids.every((id) => found.has(id))) ready.push(r);
    else settled.set(r.alarmId, insufficient(`At least of metrics in ${JSON.stringify(r.rule.metrics)} does not exist`));
  }
  // 2. the cross-metric aggregates.
  await batchCrossMetric(deps, ready, ctx, settled);
  return settled;
}

interface CrossMetricMember {
  alarmId: string;
  rule: ThresholdRule;
  /** The metrics to aggregate across, each once, lower case. */
  ids: string[];
}

/**
 * The cross-metric part of the by-metrics and by-resources batches: per group of rules
 * reading the same kind of data (method, granularity, window) one per-metric bucket read of
 * all their metrics (selectBucketValues, the inner read of selectCrossMetricAggregate),
 * reaggregated per alarm and bucket here as that query does, then crossMetricAggregatePoints
 * as crossMetric(). Sets what it settles into `settled`; a failed read or an alarm with a
 * value JSON cannot carry is left out.
 */
async function batchCrossMetric(deps: StatisticsDeps, members: readonly CrossMetricMember[], ctx: StatisticsContext, settled: Map<string, RuleEvaluation>): Promise<void> {
  const groups = new Map<string, CrossMetricMember[]>();
  for (const r of members) {
    const g = JSON.stringify([r.rule.aggregation_method, r.rule.granularity, r.rule.evaluation_periods]);
    groups.set(g, [...(groups.get(g) ?? []), r]);
  }
  // Per kind of read, every metric's buckets in one query; then each alarm's buckets across its metrics.
  for (const members of groups.values()) {
    const rule = (members[0] as (typeof members)[number]).rule;
    const window = boundDuration(rule, ctx);
    const metricIds = [...new Set(members.flatMap((m) => m.ids))];
    const buckets = new Map<string, Map<number, number | null>>();
    try {
      for (let i = 0; i < metricIds.length; i += BATCH_METRICS_PER_QUERY) {
        const q = selectBucketValues({ metricIds: metricIds.slice(i, i + BATCH_METRICS_PER_QUERY), method: perMetricMethod(rule.aggregation_method), granularity: rule.granularity, ...window });
        for (const row of await deps.store.query<BucketValueRow>(q)) {
          const perMetric = buckets.get(row.metric_id) ?? new Map<number, number | null>();
          perMetric.set(Number(row.bucket), row.value === null ? null : Number(row.value));
          buckets.set(row.metric_id, perMetric);
        }
      }
    } catch {
      continue;
    }
    for (const member of members) {
      const byBucket = new Map<number, number[]>();
      let unreadable = false;
      for (const id of member.ids) {
        for (const [bucket, value] of buckets.get(id) ?? []) {
          // null stands for NaN or an infinity, which the query tells apart: the single read decides.
          if (value === null) unreadable = true;
          else byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), value]);
        }
      }
      if (unreadable) continue;
      const reaggregate = BATCH_REAGGREGATIONS[member.rule.aggregation_method] as (values: number[]) => number;
      const rows: CrossMetricRow[] = [...byBucket.entries()].sort(([a], [b]) => a - b).map(([bucket, values]) => ({ bucket, present: values.length, value: reaggregate(values) }));
      const q = { metricIds: member.ids, method: perMetricMethod(member.rule.aggregation_method), reaggregation: member.rule.aggregation_method, granularity: member.rule.granularity, ...window, neededOverlap: 0 };
      try {
        settled.set(member.alarmId, thresholdOfPoints(member.rule, finite(crossMetricAggregatePoints(rows, q).map(([, , value]) => value))));
      } catch {
        // The single read reports it as it always did.
      }
    }
  }
}

/**
 * A round's gnocchi_aggregation_by_resources_threshold statistics: each rule's resource
 * search as gnocchiResourcesAggregationStatistics does it (one query per rule: the filters
 * differ), then the searched resources' metrics in one read for all rules, then the
 * cross-metric part batched (batchCrossMetric). Rules with a reaggregation the batch does not
 * compute, and reads that fail, are left out for the single read. Keyed by alarm id.
 */
export async function batchResourcesAggregationStatistics(deps: StatisticsDeps, alarms: readonly Alarm[], ctx: StatisticsContext): Promise<Map<string, RuleEvaluation>> {
  const settled = new Map<string, RuleEvaluation>();
  const rules = alarms
    .filter((a) => a.type === 'gnocchi_aggregation_by_resources_threshold')
    .map((a) => ({ alarmId: a.alarm_id, rule: a.rule as unknown as ThresholdRule & { metric: string; resource_type: string; query: string } }))
    .filter((r) => BATCH_REAGGREGATIONS[r.rule.aggregation_method] !== undefined);
  // 1. each rule's resources (searches with the same type and filter are one read).
  const searched = new Map<string, string[]>();
  const resourcesOf = new Map<string, string[]>();
  for (const r of rules) {
    const type = deps.resourceType(r.rule.resource_type);
    if (type === undefined) {
      settled.set(r.alarmId, insufficient(`resource type ${r.rule.resource_type} does not exist`));
      continue;
    }
    const key = JSON.stringify([r.rule.resource_type, r.rule.query]);
    let ids = searched.get(key);
    if (ids === undefined) {
      try {
        ids = (await deps.store.query<ResourceRow>(searchResources({ type, projectId: null, limit: MAX_SEARCHED_RESOURCES, filter: JSON.parse(r.rule.query) as unknown }))).map((res) => res.id);
      } catch {
        continue;
      }
      searched.set(key, ids);
    }
    resourcesOf.set(r.alarmId, ids);
  }
  // 2. the live metrics of every searched resource, in one read per BATCH_METRICS_PER_QUERY resources.
  const metricsOf = new Map<string, MetricRow[]>();
  try {
    const all = [...new Set([...resourcesOf.values()].flat())];
    for (let i = 0; i < all.length; i += BATCH_METRICS_PER_QUERY) {
      for (const m of await deps.store.query<MetricRow>(selectResourcesMetrics(all.slice(i, i + BATCH_METRICS_PER_QUERY), null))) metricsOf.set(m.resource_id, [...(metricsOf.get(m.resource_id) ?? []), m]);
    }
  } catch {
    // Only the rules whose resource type is missing are settled so far.
    return settled;
  }
  const ready: CrossMetricMember[] = [];
  for (const r of rules) {
    const resources = resourcesOf.get(r.alarmId);
    if (resources === undefined) continue;
    const ids = [...new Set(resources.flatMap((id) => (metricsOf.get(id) ?? []).filter((m) => m.name === r.rule.metric).map((m) => String(m.id).toLowerCase())))];
    if (ids.length === 0) settled.set(r.alarmId, insufficient(`metric ${r.rule.metric} does not exists`));
    else ready.push({ alarmId: r.alarmId, rule: r.rule, ids });
  }
  // 3. the cross-metric aggregates.
  await batchCrossMetric(deps, ready, ctx, settled);
  return settled;
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
