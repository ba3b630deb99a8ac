import { RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { clickhouseVariable as clickhouseDatasourceVariable } from './datasources.ts';
import { tableSql, timeSeriesSql } from './clickhouse-query.ts';
import { FULL_WIDTH, finishDashboard, newDashboard, stat, table, thresholds, timeSeries } from './panels.ts';
import { clickhouseVariable, customVariable, inVariable } from './variables.ts';

export const CAPACITY_UID = 'cumulus-capacity';

/** Hypervisor meters (Ceilometer's hardware.* SNMP and compute.node.* pollsters); memory is in kB. */
export const MEMORY_USED = 'hardware.memory.used';
export const MEMORY_TOTAL = 'hardware.memory.total';
export const CPU_PERCENT = 'compute.node.cpu.percent';

/** Days ahead the forecast may reach; the dashboard's time range also reaches into the future. */
export const FORECAST_HORIZONS_DAYS = ['7', '30', '90'] as const;

/**
 * The hypervisors' metric ids, live ones only (a deleted metric is a newer row with
 * deleted = 1, answered by FINAL), filtered by the host variable.
 */
const hostMetrics = (names: readonly string[]) =>
  `SELECT id FROM metrics FINAL WHERE deleted = 0 AND name IN (${names.map((n) => `'${n}'`).join(', ')}) AND ${inVariable('resource_id', 'host')}`;

/**
 * Mean of each metric per bucket of the chosen granularity, from the rollups (count and
 * sum are SimpleAggregateFunction(sum): summing the parts of a bucket is exact before
 * the merge runs). One row per (bucket, metric_id, name, host).
 */
const bucketMeans = (names: readonly string[]) => `
  SELECT r.bucket AS bucket, r.metric_id AS metric_id, m.name AS name, m.resource_id AS host, sum(r.sum) / sum(r.count) AS mean
  FROM rollups AS r
  INNER JOIN (SELECT id, name, resource_id FROM metrics FINAL WHERE deleted = 0) AS m ON m.id = r.metric_id
  WHERE r.granularity = \${granularity} AND $__timeFilter(r.bucket) AND r.metric_id IN (${hostMetrics(names)})
  GROUP BY bucket, metric_id, name, host`;

/**
 * Per day: the cloud's memory in use, as the sum over hosts of each host's daily mean
 * (hosts reporting at different rates weigh the same).
 */
const dailyMemoryUsed = `
  SELECT day, sum(host_mean) AS used
  FROM (
    SELECT toStartOfDay(bucket) AS day, host, avg(mean) AS host_mean
    FROM (${bucketMeans([MEMORY_USED])})
    GROUP BY day, host)
  GROUP BY day`;

/** The cloud's memory capacity now: each host's latest total, summed. */
const memoryCapacity = `
  SELECT sum(latest) FROM (
    SELECT host, argMax(mean, bucket) AS latest
    FROM (${bucketMeans([MEMORY_TOTAL])})
    GROUP BY host)`;

/**
 * Least-squares line through the daily points (ClickHouse's simpleLinearRegression,
 * x in seconds): (slope per second, intercept). Linear is the honest default for a
 * dashboard; api/capacity's forecast models (seasonality, growth) serve the reports.
 */
const memoryTrend = `SELECT simpleLinearRegression(toFloat64(toUnixTimestamp(day)), used) FROM (${dailyMemoryUsed})`;

const cpuDaily = `
  SELECT day, avg(host_mean) AS cpu
  FROM (
    SELECT toStartOfDay(bucket) AS day, host, avg(mean) AS host_mean
    FROM (${bucketMeans([CPU_PERCENT])})
    GROUP BY day, host)
  GROUP BY day`;

/** One point per day from today to the end of the dashboard's range (which reaches into the future). */
const forecastDays = `numbers(toUInt64(greatest(0, dateDiff('day', toStartOfDay(now('UTC')), $__toTime))) + 1)`;

export function capacityDashboard(): Dashboard {
  const builder = newDashboard({
    uid: CAPACITY_UID,
    title: 'Cumulus / Capacity',
    description: 'Hypervisor usage against capacity, with a linear forecast of when memory runs out.',
    tags: ['capacity', 'forecast'],
    // The range reaches 30 days ahead so the forecast has room to be drawn.
    time: { from: 'now-30d', to: 'now+30d' },
    refresh: '5m',
  })
    .withVariable(clickhouseDatasourceVariable())
    .withVariable(clickhouseVariable('host', 'Hypervisor', `SELECT DISTINCT resource_id FROM metrics FINAL WHERE deleted = 0 AND (name LIKE 'hardware.%' OR name LIKE 'compute.node.%') ORDER BY resource_id`))
    .withVariable(
      clickhouseVariable('granularity', 'Granularity (s)', `SELECT DISTINCT granularity FROM rollups WHERE metric_id IN (SELECT id FROM metrics FINAL WHERE name IN ('${MEMORY_USED}', '${MEMORY_TOTAL}', '${CPU_PERCENT}')) ORDER BY granularity`)
        .multi(false)
        .includeAll(false)
        .current({ text: '3600', value: '3600', selected: true }),
    )
    .withVariable(customVariable('horizon', 'Forecast horizon (days)', FORECAST_HORIZONS_DAYS, '30'))
    .withRow(new RowBuilder('Now'))
    .withPanel(stat('Memory in use', 'Memory in use over memory installed, all selected hypervisors, at the last bucket.', 'percentunit').thresholds(thresholds(0.75, 0.9)).decimals(1).withTarget(tableSql(`
      SELECT sumIf(latest, name = '${MEMORY_USED}') / nullIf(sumIf(latest, name = '${MEMORY_TOTAL}'), 0) AS used_ratio
      FROM (
        SELECT name, host, argMax(mean, bucket) AS latest
        FROM (${bucketMeans([MEMORY_USED, MEMORY_TOTAL])})
        GROUP BY name, host)`)))
    .withPanel(stat('CPU in use', 'Mean CPU utilisation of the selected hypervisors, at the last bucket.', 'percent').thresholds(thresholds(75, 90)).decimals(1).withTarget(tableSql(`
      SELECT avg(latest) AS cpu
      FROM (
        SELECT host, argMax(mean, bucket) AS latest
        FROM (${bucketMeans([CPU_PERCENT])})
        GROUP BY host)`)))
    .withPanel(stat('Days until memory is full', 'Where the linear trend of memory in use meets memory installed; empty when usage is not growing.', 'd').thresholds(thresholds(30, 90)).decimals(0).withTarget(tableSql(`
      WITH (${memoryTrend}) AS fit, (${memoryCapacity}) AS capacity
      SELECT if(fit.1 > 0, (capacity - (fit.1 * toFloat64(toUnixTimestamp(now())) + fit.2)) / (fit.1 * 86400), NULL) AS days_left`)))
    .withPanel(stat('Hypervisors reporting', 'Hosts with a memory measure in the range.', 'none').withTarget(tableSql(`
      SELECT uniqExact(host) AS hosts FROM (${bucketMeans([MEMORY_USED])})`)))
    .withRow(new RowBuilder('Usage against capacity'))
    .withPanel(timeSeries('Memory: used and installed', 'Sum over the selected hypervisors of each one\'s mean per bucket.', 'deckbytes').withTarget(timeSeriesSql(`
      SELECT bucket AS time, name, sum(mean) AS memory
      FROM (${bucketMeans([MEMORY_USED, MEMORY_TOTAL])})
      GROUP BY time, name
      ORDER BY time`)))
    .withPanel(timeSeries('CPU utilisation per hypervisor', 'Mean of compute.node.cpu.percent per bucket.', 'percent').max(100).min(0).withTarget(timeSeriesSql(`
      SELECT bucket AS time, host, avg(mean) AS cpu
      FROM (${bucketMeans([CPU_PERCENT])})
      GROUP BY time, host
      ORDER BY time`)))
    .withRow(new RowBuilder('Forecast'))
    .withPanel(
      timeSeries('Memory forecast', 'Daily memory in use, its linear trend to the end of the range, and the memory installed today.', 'deckbytes')
        .withTarget(timeSeriesSql(`
          SELECT day AS time, used AS "memory used"
          FROM (${dailyMemoryUsed})
          ORDER BY time`).refId('A'))
        .withTarget(timeSeriesSql(`
          WITH (${memoryTrend}) AS fit
          SELECT toStartOfDay(now('UTC')) + toIntervalDay(number) AS time, fit.1 * toFloat64(toUnixTimestamp(time)) + fit.2 AS "memory used (forecast)"
          FROM ${forecastDays}
          WHERE number <= \${horizon}
          ORDER BY time`).refId('B'))
        .withTarget(timeSeriesSql(`
          WITH (${memoryCapacity}) AS capacity
          SELECT toDateTime($__fromTime) + toIntervalSecond(intDiv(dateDiff('second', $__fromTime, $__toTime), 50) * number) AS time, capacity AS "memory installed"
          FROM numbers(51)
          ORDER BY time`).refId('C')),
    )
    .withPanel(
      timeSeries('CPU forecast', 'Daily mean CPU utilisation and its linear trend.', 'percent')
        .max(100)
        .min(0)
        .withTarget(timeSeriesSql(`
          SELECT day AS time, cpu AS "cpu used"
          FROM (${cpuDaily})
          ORDER BY time`).refId('A'))
        .withTarget(timeSeriesSql(`
          WITH (SELECT simpleLinearRegression(toFloat64(toUnixTimestamp(day)), cpu) FROM (${cpuDaily})) AS fit
          SELECT toStartOfDay(now('UTC')) + toIntervalDay(number) AS time, least(100, fit.1 * toFloat64(toUnixTimestamp(time)) + fit.2) AS "cpu used (forecast)"
          FROM ${forecastDays}
          WHERE number <= \${horizon}
          ORDER BY time`).refId('B')),
    )
    .withRow(new RowBuilder('Hypervisors'))
    .withPanel(table('Hypervisors', 'Each host\'s latest memory and CPU use.').span(FULL_WIDTH).withTarget(tableSql(`
      SELECT host,
             argMaxIf(mean, bucket, name = '${MEMORY_USED}') AS memory_used_kb,
             argMaxIf(mean, bucket, name = '${MEMORY_TOTAL}') AS memory_total_kb,
             memory_used_kb / nullIf(memory_total_kb, 0) AS memory_ratio,
             argMaxIf(mean, bucket, name = '${CPU_PERCENT}') AS cpu_percent,
             max(bucket) AS last_seen
      FROM (${bucketMeans([MEMORY_USED, MEMORY_TOTAL, CPU_PERCENT])})
      GROUP BY host
      ORDER BY memory_ratio DESC`)));
  return finishDashboard(builder);
}
