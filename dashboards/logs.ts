import { RowBuilder, TextBoxVariableBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { clickhouseVariable as clickhouseDatasourceVariable } from './datasources.ts';
import { logsSql, tableSql, timeSeriesSql } from './clickhouse-query.ts';
import { finishDashboard, logs, newDashboard, stackedBars, table } from './panels.ts';
import { clickhouseVariable, inVariable } from './variables.ts';

export const LOGS_UID = 'cumulus-logs';

/** Most log lines a panel fetches: the logs panel pages no further, and more only slows the browser. */
export const LOG_LINES_LIMIT = 1000;

/** logs is a ReplacingMergeTree (a replayed line has the same id): read with FINAL. */
const LOGS = 'logs FINAL';
/**
 * `search` is a free-text box: an empty box matches every line. The text index on
 * lower(message) serves the `hasToken`-free substring test well enough at these volumes;
 * the value is quoted by Grafana's singlequote format (quotes escaped).
 */
const FILTER = `$__timeFilter(timestamp)
    AND ${inVariable('service', 'service')}
    AND ${inVariable('toString(level)', 'level')}
    AND ${inVariable('host', 'host')}
    AND ${inVariable("ifNull(project_id, '')", 'project')}
    AND (\${search:singlequote} = '' OR positionCaseInsensitive(message, \${search:singlequote}) > 0)`;

export function logsDashboard(): Dashboard {
  const builder = newDashboard({
    uid: LOGS_UID,
    title: 'Cumulus / Logs',
    description: 'Service logs of the cloud (oslo.log lines), searchable by service, level, host, project and text.',
    tags: ['logs'],
    time: { from: 'now-1h', to: 'now' },
    refresh: '30s',
  })
    .withVariable(clickhouseDatasourceVariable())
    .withVariable(clickhouseVariable('service', 'Service', 'SELECT DISTINCT service FROM logs ORDER BY service'))
    .withVariable(clickhouseVariable('level', 'Level', "SELECT arrayJoin(['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'])").sort(0))
    .withVariable(clickhouseVariable('host', 'Host', 'SELECT DISTINCT host FROM logs ORDER BY host'))
    .withVariable(clickhouseVariable('project', 'Project', "SELECT DISTINCT ifNull(project_id, '') FROM logs ORDER BY 1"))
    .withVariable(new TextBoxVariableBuilder('search').label('Search text').defaultValue('').current({ text: '', value: '', selected: true }))
    .withRow(new RowBuilder('Volume'))
    .withPanel(stackedBars('Lines by level', 'Log lines per interval, by level.', 'none').withTarget(timeSeriesSql(`
      SELECT $__timeInterval(timestamp) AS time, level, count() AS lines
      FROM ${LOGS}
      WHERE ${FILTER}
      GROUP BY time, level
      ORDER BY time`)))
    .withPanel(table('Errors by service and logger', 'ERROR and CRITICAL lines per service and logger: where to look first.').withTarget(tableSql(`
      SELECT service, logger, count() AS errors, max(timestamp) AS last_error, any(message) AS example
      FROM ${LOGS}
      WHERE ${FILTER} AND level >= 'ERROR'
      GROUP BY service, logger
      ORDER BY errors DESC
      LIMIT 50`)))
    .withRow(new RowBuilder('Lines'))
    .withPanel(logs('Log lines', `Newest first, at most ${LOG_LINES_LIMIT}. Expand a line for its request id, user and project.`).withTarget(logsSql(`
      SELECT timestamp, level, message AS body, service, host, logger, pid, ifNull(request_id, '') AS request_id, ifNull(user_id, '') AS user_id, ifNull(project_id, '') AS project_id
      FROM ${LOGS}
      WHERE ${FILTER}
      ORDER BY timestamp DESC
      LIMIT ${LOG_LINES_LIMIT}`)));
  return finishDashboard(builder);
}
