import { RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder as PrometheusQuery } from '@grafana/grafana-foundation-sdk/prometheus';
import { QueryVariableBuilder, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import { clickhouseVariable as clickhouseDatasourceVariable, prometheusRef, prometheusVariable } from './datasources.ts';
import { tableSql, timeSeriesSql } from './clickhouse-query.ts';
import { FULL_WIDTH, finishDashboard, newDashboard, stat, table, thresholds, timeSeries } from './panels.ts';
import { clickhouseVariable, inVariable } from './variables.ts';

export const HEALTH_UID = 'cumulus-health';

/** The counters core/telemetry.ts (TelemetryRegistry.render) exposes at /metrics, one series per component. */
export const TELEMETRY_METRICS = {
  accepted: 'cumulus_items_accepted_total',
  refused: 'cumulus_items_refused_total',
  dropped: 'cumulus_items_dropped_total',
  batches: 'cumulus_batches_total',
  batchSeconds: 'cumulus_batch_duration_seconds',
} as const;

const COMPONENT = 'component=~"$component"';
const promQuery = (expr: string, legend: string, refId = 'A') => new PrometheusQuery().datasource(prometheusRef).expr(expr).legendFormat(legend).range().refId(refId);

const CHECKS_FILTER = `$__timeFilter(at) AND ${inVariable('region', 'region')} AND ${inVariable('service', 'service')}`;

export function healthDashboard(): Dashboard {
  const builder = newDashboard({
    uid: HEALTH_UID,
    title: 'Cumulus / Health',
    description: "Cumulus' own health: items accepted, refused and dropped per component, batch latency (Prometheus), and the cloud's synthetic checks (ClickHouse).",
    tags: ['health', 'self-monitoring'],
    time: { from: 'now-6h', to: 'now' },
    refresh: '30s',
  })
    .withVariable(prometheusVariable())
    .withVariable(clickhouseDatasourceVariable())
    .withVariable(
      new QueryVariableBuilder('component')
        .label('Component')
        .datasource(prometheusRef)
        // The string form: Grafana's Prometheus datasource reads it (and the schema's object form is a map of objects).
        .query(`label_values(${TELEMETRY_METRICS.accepted}, component)`)
        .definition(`label_values(${TELEMETRY_METRICS.accepted}, component)`)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        // PromQL matches a regex; "All" is every component.
        .allValue('.*')
        .current({ text: 'All', value: '$__all', selected: true }),
    )
    .withVariable(clickhouseVariable('region', 'Region', 'SELECT DISTINCT region FROM check_results ORDER BY region'))
    .withVariable(clickhouseVariable('service', 'Checked service', 'SELECT DISTINCT service FROM check_results ORDER BY service'))
    .withRow(new RowBuilder('Flow'))
    .withPanel(stat('Accepted /s', 'Items accepted per second, all selected components.', 'ops', prometheusRef).withTarget(promQuery(`sum(rate(${TELEMETRY_METRICS.accepted}{${COMPONENT}}[$__rate_interval]))`, 'accepted')))
    .withPanel(stat('Refused /s', 'Items sent to dead letters per second: forged, malformed or unmappable input.', 'ops', prometheusRef).thresholds(thresholds(0.01, 1)).withTarget(promQuery(`sum(rate(${TELEMETRY_METRICS.refused}{${COMPONENT}}[$__rate_interval]))`, 'refused')))
    .withPanel(stat('Dropped /s', 'Items dropped on purpose (outside retention, back window).', 'ops', prometheusRef).thresholds(thresholds(0.01, 1)).withTarget(promQuery(`sum(rate(${TELEMETRY_METRICS.dropped}{${COMPONENT}}[$__rate_interval]))`, 'dropped')))
    .withPanel(stat('Refused share', 'Refused over accepted + refused, last 5 minutes.', 'percentunit', prometheusRef).thresholds(thresholds(0.001, 0.01)).decimals(2).withTarget(promQuery(
      `sum(rate(${TELEMETRY_METRICS.refused}{${COMPONENT}}[5m])) / clamp_min(sum(rate(${TELEMETRY_METRICS.accepted}{${COMPONENT}}[5m])) + sum(rate(${TELEMETRY_METRICS.refused}{${COMPONENT}}[5m])), 1e-9)`,
      'refused share',
    )))
    .withPanel(timeSeries('Accepted per component', 'Items per second each component accepted and handed on.', 'ops', prometheusRef).withTarget(promQuery(`sum by (component) (rate(${TELEMETRY_METRICS.accepted}{${COMPONENT}}[$__rate_interval]))`, '{{component}}')))
    .withPanel(
      timeSeries('Refused and dropped per component', 'Items per second refused (dead letters) or dropped, per component.', 'ops', prometheusRef)
        .withTarget(promQuery(`sum by (component) (rate(${TELEMETRY_METRICS.refused}{${COMPONENT}}[$__rate_interval]))`, 'refused {{component}}', 'A'))
        .withTarget(promQuery(`sum by (component) (rate(${TELEMETRY_METRICS.dropped}{${COMPONENT}}[$__rate_interval]))`, 'dropped {{component}}', 'B')),
    )
    .withRow(new RowBuilder('Batches'))
    .withPanel(timeSeries('Batch duration, p95', "The 95th percentile of each component's batch time (alarm evaluation rounds included), from the batch histogram.", 's', prometheusRef).withTarget(promQuery(
      `histogram_quantile(0.95, sum by (component, le) (rate(${TELEMETRY_METRICS.batchSeconds}_bucket{${COMPONENT}}[$__rate_interval])))`,
      '{{component}}',
    )))
    .withPanel(timeSeries('Batches per second', 'Batches each component processed per second.', 'ops', prometheusRef).withTarget(promQuery(`sum by (component) (rate(${TELEMETRY_METRICS.batches}{${COMPONENT}}[$__rate_interval]))`, '{{component}}')))
    .withPanel(timeSeries('Scrape up', 'Whether Prometheus reaches Cumulus\' /metrics (1 up, 0 down).', 'none', prometheusRef).min(0).max(1).span(FULL_WIDTH).height(5).withTarget(promQuery('up{job=~".*cumulus.*"}', '{{instance}}')))
    .withRow(new RowBuilder('Synthetic checks'))
    .withPanel(timeSeries('Availability per check', 'Share of runs that succeeded, per interval.', 'percentunit').min(0).max(1).withTarget(timeSeriesSql(`
      SELECT $__timeInterval(at) AS time, check_name, avg(ok) AS availability
      FROM check_results
      WHERE ${CHECKS_FILTER}
      GROUP BY time, check_name
      ORDER BY time`)))
    .withPanel(timeSeries('Check latency p95', '95th percentile of each check\'s duration.', 'ms').withTarget(timeSeriesSql(`
      SELECT $__timeInterval(at) AS time, check_name, quantile(0.95)(latency_ms) AS p95_ms
      FROM check_results
      WHERE ${CHECKS_FILTER}
      GROUP BY time, check_name
      ORDER BY time`)))
    .withPanel(table('Checks now', 'Each check\'s last run, failing first, with its availability over the range.').span(FULL_WIDTH).withTarget(tableSql(`
      SELECT check_name, service, region, argMax(ok, at) AS last_ok, max(at) AS last_run, avg(ok) AS availability, argMax(error, at) AS last_error
      FROM check_results
      WHERE ${CHECKS_FILTER}
      GROUP BY check_name, service, region
      ORDER BY last_ok ASC, availability ASC`)));
  return finishDashboard(builder);
}
