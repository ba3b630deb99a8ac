import { RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { clickhouseVariable as clickhouseDatasourceVariable } from './datasources.ts';
import { tableSql, timeSeriesSql } from './clickhouse-query.ts';
import { FULL_WIDTH, barChart, finishDashboard, newDashboard, pieChart, stackedBars, stat, table } from './panels.ts';
import { clickhouseVariable, inVariable } from './variables.ts';

export const SHOWBACK_UID = 'cumulus-showback';

/**
 * Rated usage (CloudKitty's job): `rated_usage` is a ReplacingMergeTree whose newest
 * rating of a (project, period, service, resource) wins, so every read uses FINAL.
 * Costs are summed in one currency at a time: adding euros to dollars means nothing.
 */
const RATED = 'rated_usage FINAL';
const FILTER = `$__timeFilter(period_start)
    AND ${inVariable('project_id', 'project')}
    AND ${inVariable('service', 'service')}
    AND currency = \${currency:singlequote}`;

export function showbackDashboard(): Dashboard {
  const builder = newDashboard({
    uid: SHOWBACK_UID,
    title: 'Cumulus / Showback',
    description: 'What each project and service cost, from rated usage (CloudKitty-style rating).',
    tags: ['showback', 'rating'],
    time: { from: 'now-30d', to: 'now' },
    refresh: '5m',
  })
    .withVariable(clickhouseDatasourceVariable())
    .withVariable(clickhouseVariable('currency', 'Currency', 'SELECT DISTINCT currency FROM rated_usage ORDER BY currency').multi(false).includeAll(false).current({ text: 'EUR', value: 'EUR', selected: true }))
    .withVariable(clickhouseVariable('project', 'Project', 'SELECT DISTINCT project_id FROM rated_usage ORDER BY project_id'))
    .withVariable(clickhouseVariable('service', 'Service', 'SELECT DISTINCT service FROM rated_usage ORDER BY service'))
    .withRow(new RowBuilder('Totals'))
    .withPanel(stat('Total cost', 'Sum of rated cost over the time range.', 'none').decimals(2).withTarget(tableSql(`
      SELECT toFloat64(sum(cost)) AS total_cost
      FROM ${RATED}
      WHERE ${FILTER}`)))
    .withPanel(stat('Projects charged', 'Projects with rated usage in the range.', 'none').withTarget(tableSql(`
      SELECT uniqExact(project_id) AS projects
      FROM ${RATED}
      WHERE ${FILTER}`)))
    .withPanel(stat('Resources charged', 'Distinct resources rated in the range.', 'none').withTarget(tableSql(`
      SELECT uniqExact(resource_id) AS resources
      FROM ${RATED}
      WHERE ${FILTER}`)))
    .withPanel(stat('Daily run rate', 'Cost of the last full day of rated usage in the range.', 'none').decimals(2).withTarget(tableSql(`
      SELECT toFloat64(sumIf(cost, toDate(period_start) = last_day)) AS day_cost
      FROM ${RATED}
      CROSS JOIN (SELECT max(toDate(period_start)) - 1 AS last_day FROM ${RATED} WHERE ${FILTER}) AS latest
      WHERE ${FILTER}`)))
    .withRow(new RowBuilder('Cost over time'))
    .withPanel(stackedBars('Cost by project', 'Rated cost per interval, stacked by project.', 'none').withTarget(timeSeriesSql(`
      SELECT $__timeInterval(period_start) AS time, project_id, toFloat64(sum(cost)) AS total_cost
      FROM ${RATED}
      WHERE ${FILTER}
      GROUP BY time, project_id
      ORDER BY time`)))
    .withPanel(stackedBars('Cost by service', 'Rated cost per interval, stacked by service (compute, volume, image, network...).', 'none').withTarget(timeSeriesSql(`
      SELECT $__timeInterval(period_start) AS time, service, toFloat64(sum(cost)) AS total_cost
      FROM ${RATED}
      WHERE ${FILTER}
      GROUP BY time, service
      ORDER BY time`)))
    .withRow(new RowBuilder('Breakdown'))
    .withPanel(pieChart('Share by service', 'Each service\'s part of the cost.', 'none').withTarget(tableSql(`
      SELECT service, toFloat64(sum(cost)) AS total_cost
      FROM ${RATED}
      WHERE ${FILTER}
      GROUP BY service
      ORDER BY total_cost DESC`)))
    .withPanel(pieChart('Share by resource type', 'Each resource type\'s part of the cost.', 'none').withTarget(tableSql(`
      SELECT resource_type, toFloat64(sum(cost)) AS total_cost
      FROM ${RATED}
      WHERE ${FILTER}
      GROUP BY resource_type
      ORDER BY total_cost DESC`)))
    .withPanel(barChart('Top 10 projects', 'The ten projects that cost most in the range.', 'none', 'project_id').span(8).withTarget(tableSql(`
      SELECT project_id, toFloat64(sum(cost)) AS total_cost
      FROM ${RATED}
      WHERE ${FILTER}
      GROUP BY project_id
      ORDER BY total_cost DESC
      LIMIT 10`)))
    .withPanel(table('Cost by project and service', 'Quantity rated and its cost, per project and service.').span(FULL_WIDTH).withTarget(tableSql(`
      SELECT project_id, service, unit, toFloat64(sum(quantity)) AS total_quantity, toFloat64(sum(cost)) AS total_cost
      FROM ${RATED}
      WHERE ${FILTER}
      GROUP BY project_id, service, unit
      ORDER BY total_cost DESC`)))
    .withPanel(table('Top 50 resources', 'The resources that cost most, with the rating rule that priced them.').span(FULL_WIDTH).withTarget(tableSql(`
      SELECT resource_id, resource_type, project_id, service, toFloat64(sum(cost)) AS total_cost, groupUniqArray(rule_id) AS rules
      FROM ${RATED}
      WHERE ${FILTER}
      GROUP BY resource_id, resource_type, project_id, service
      ORDER BY total_cost DESC
      LIMIT 50`)));
  return finishDashboard(builder);
}
