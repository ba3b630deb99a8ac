import { RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { clickhouseVariable as clickhouseDatasourceVariable } from './datasources.ts';
import { tableSql, timeSeriesSql } from './clickhouse-query.ts';
import { FULL_WIDTH, finishDashboard, newDashboard, pieChart, stackedBars, stat, table, thresholds, timeSeries } from './panels.ts';
import { clickhouseVariable, inVariable } from './variables.ts';

export const ALARMS_UID = 'cumulus-alarms';

const HISTORY_FILTER = `${inVariable('project_id', 'project')} AND ${inVariable('severity', 'severity')}`;

/**
 * Each alarm's state now, from its history (Aodh's model: a `creation` row and every
 * `state transition` carry the state in `detail`): the state of its newest such row,
 * unless the alarm was deleted. Read over all history, not the time range: an alarm that
 * has not moved for a month is still in its state.
 */
const CURRENT_STATES = `
  SELECT alarm_id,
         argMaxIf(JSONExtractString(detail, 'state'), timestamp, type IN ('creation', 'state transition')) AS state,
         maxIf(timestamp, type IN ('creation', 'state transition')) AS since,
         argMaxIf(reason, timestamp, type = 'state transition') AS state_reason,
         argMax(severity, timestamp) AS alarm_severity,
         argMax(project_id, timestamp) AS alarm_project,
         max(type = 'deletion') AS deleted
  FROM alarm_history
  WHERE ${HISTORY_FILTER}
  GROUP BY alarm_id`;

const DELIVERY_FILTER = `$__timeFilter(at) AND ${inVariable('receiver', 'receiver')}`;

export function alarmsDashboard(): Dashboard {
  const builder = newDashboard({
    uid: ALARMS_UID,
    title: 'Cumulus / Alarms',
    description: 'Alarm states and transitions (Aodh-compatible history) and the notifications sent for them.',
    tags: ['alarms', 'alerting'],
    time: { from: 'now-24h', to: 'now' },
  })
    .withVariable(clickhouseDatasourceVariable())
    .withVariable(clickhouseVariable('project', 'Project', 'SELECT DISTINCT project_id FROM alarm_history ORDER BY project_id'))
    .withVariable(clickhouseVariable('severity', 'Severity', 'SELECT DISTINCT severity FROM alarm_history ORDER BY severity'))
    .withVariable(clickhouseVariable('receiver', 'Receiver', 'SELECT DISTINCT receiver FROM alert_deliveries ORDER BY receiver'))
    .withRow(new RowBuilder('States'))
    .withPanel(stat('Alarms firing', 'Alarms whose current state is "alarm".', 'none').thresholds(thresholds(1, 5)).withTarget(tableSql(`
      SELECT countIf(state = 'alarm') AS firing FROM (${CURRENT_STATES}) WHERE deleted = 0`)))
    .withPanel(stat('Insufficient data', 'Alarms that cannot be evaluated: their meters stopped reporting.', 'none').thresholds(thresholds(1, 10)).withTarget(tableSql(`
      SELECT countIf(state = 'insufficient data') AS insufficient FROM (${CURRENT_STATES}) WHERE deleted = 0`)))
    .withPanel(stat('Transitions in range', 'State transitions in the time range.', 'none').withTarget(tableSql(`
      SELECT count() AS transitions FROM alarm_history
      WHERE $__timeFilter(timestamp) AND type = 'state transition' AND ${HISTORY_FILTER}`)))
    .withPanel(pieChart('Alarms by state', 'Current state of every alarm that exists.', 'none').height(4).span(6).withTarget(tableSql(`
      SELECT state, count() AS alarms FROM (${CURRENT_STATES}) WHERE deleted = 0 GROUP BY state ORDER BY state`)))
    .withPanel(table('Firing now', 'Alarms in state "alarm", longest firing first.').span(FULL_WIDTH).withTarget(tableSql(`
      SELECT alarm_id, since, alarm_severity AS severity, alarm_project AS project_id, state_reason AS reason
      FROM (${CURRENT_STATES})
      WHERE deleted = 0 AND state = 'alarm'
      ORDER BY since ASC
      LIMIT 200`)))
    .withRow(new RowBuilder('Transitions'))
    .withPanel(stackedBars('Transitions by new state', 'How many alarms moved into each state, per interval.', 'none').withTarget(timeSeriesSql(`
      SELECT $__timeInterval(timestamp) AS time, JSONExtractString(detail, 'state') AS state, count() AS transitions
      FROM alarm_history
      WHERE $__timeFilter(timestamp) AND type = 'state transition' AND ${HISTORY_FILTER}
      GROUP BY time, state
      ORDER BY time`)))
    .withPanel(table('Noisiest alarms', 'Alarms with the most transitions in the range: candidates for a longer evaluation period.').withTarget(tableSql(`
      SELECT alarm_id, count() AS transitions, countIf(JSONExtractString(detail, 'state') = 'alarm') AS to_alarm, max(timestamp) AS last_transition
      FROM alarm_history
      WHERE $__timeFilter(timestamp) AND type = 'state transition' AND ${HISTORY_FILTER}
      GROUP BY alarm_id
      ORDER BY transitions DESC
      LIMIT 20`)))
    .withPanel(table('Recent changes', 'Alarm history in the range: creations, rule changes, transitions, deletions.').span(FULL_WIDTH).withTarget(tableSql(`
      SELECT timestamp, alarm_id, type, JSONExtractString(detail, 'state') AS state, reason, severity, project_id, user_id
      FROM alarm_history
      WHERE $__timeFilter(timestamp) AND ${HISTORY_FILTER}
      ORDER BY timestamp DESC
      LIMIT 500`)))
    .withRow(new RowBuilder('Notifications'))
    .withPanel(stackedBars('Delivery attempts by status', 'Attempts to hand notifications to receivers (Slack, PagerDuty, webhook, email).', 'none').withTarget(timeSeriesSql(`
      SELECT $__timeInterval(at) AS time, status, count() AS attempts
      FROM alert_deliveries
      WHERE ${DELIVERY_FILTER}
      GROUP BY time, status
      ORDER BY time`)))
    .withPanel(timeSeries('Delivery latency p95 by receiver', '95th percentile of the time a receiver took to answer.', 'ms').withTarget(timeSeriesSql(`
      SELECT $__timeInterval(at) AS time, receiver, quantile(0.95)(duration_ms) AS p95_ms
      FROM alert_deliveries
      WHERE ${DELIVERY_FILTER}
      GROUP BY time, receiver
      ORDER BY time`)))
    .withPanel(table('Deliveries per receiver', 'Attempts per receiver in the range: delivered, failed (retrying or given up), silenced.').withTarget(tableSql(`
      SELECT receiver, kind, count() AS attempts, countIf(status = 'delivered') AS delivered, countIf(status IN ('retrying', 'failed')) AS failed_attempts, countIf(status = 'silenced') AS silenced, uniqExact(notification_id) AS notifications
      FROM alert_deliveries
      WHERE ${DELIVERY_FILTER}
      GROUP BY receiver, kind
      ORDER BY failed_attempts DESC`)))
    .withPanel(table('Failed deliveries', 'Attempts that failed (retried later, or given up), newest first, with the receiver\'s answer.').withTarget(tableSql(`
      SELECT at, receiver, kind, target, attempt, status, http_status, error, alarm_ids
      FROM alert_deliveries
      WHERE ${DELIVERY_FILTER} AND status IN ('retrying', 'failed')
      ORDER BY at DESC
      LIMIT 200`)));
  return finishDashboard(builder);
}
