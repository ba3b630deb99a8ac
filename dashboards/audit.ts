import { RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { clickhouseVariable as clickhouseDatasourceVariable } from './datasources.ts';
import { tableSql, timeSeriesSql } from './clickhouse-query.ts';
import { FULL_WIDTH, finishDashboard, newDashboard, pieChart, stackedBars, stat, table, thresholds } from './panels.ts';
import { clickhouseVariable, inVariable } from './variables.ts';

export const AUDIT_UID = 'cumulus-audit';

/** A failed login: Keystone's CADF `authenticate` with outcome failure. */
export const FAILED_LOGIN = "action = 'authenticate' AND outcome = 'failure'";

/**
 * A privileged action: a change to identity (users, projects, roles, groups, domains,
 * credentials...). Keystone's CADF notifications name it `<operation>.<resource>`
 * (created.user, deleted.role_assignment...); the API audit middleware records the same
 * calls as create/update/delete on a `data/security/...` target.
 */
export const PRIVILEGED_ACTION =
  "(match(action, '^(created|updated|deleted|disabled|enabled)\\\\.') OR (target_type LIKE 'data/security/%' AND action IN ('create', 'update', 'delete')))";

/** audit_records is a ReplacingMergeTree (a replayed record has the same id): read with FINAL. */
const AUDIT = 'audit_records FINAL';
const FILTER = `$__timeFilter(event_time) AND ${inVariable("ifNull(project_id, '')", 'project')}`;

export function auditDashboard(): Dashboard {
  const builder = newDashboard({
    uid: AUDIT_UID,
    title: 'Cumulus / Audit',
    description: 'CADF audit trail: failed logins and privileged (identity-changing) actions.',
    tags: ['audit', 'security'],
    time: { from: 'now-7d', to: 'now' },
  })
    .withVariable(clickhouseDatasourceVariable())
    .withVariable(clickhouseVariable('project', 'Project', "SELECT DISTINCT ifNull(project_id, '') FROM audit_records ORDER BY 1"))
    .withRow(new RowBuilder('Summary'))
    .withPanel(stat('Failed logins', 'Failed authentications in the range.', 'none').thresholds(thresholds(10, 100)).withTarget(tableSql(`
      SELECT countIf(${FAILED_LOGIN}) AS failed_logins FROM ${AUDIT} WHERE ${FILTER}`)))
    .withPanel(stat('Login failure rate', 'Failed over all authentications in the range.', 'percentunit').thresholds(thresholds(0.05, 0.2)).decimals(1).withTarget(tableSql(`
      SELECT countIf(${FAILED_LOGIN}) / nullIf(countIf(action = 'authenticate'), 0) AS failure_rate FROM ${AUDIT} WHERE ${FILTER}`)))
    .withPanel(stat('Privileged actions', 'Identity changes in the range.', 'none').withTarget(tableSql(`
      SELECT countIf(${PRIVILEGED_ACTION}) AS privileged FROM ${AUDIT} WHERE ${FILTER}`)))
    .withPanel(stat('Denied requests', 'API requests refused (outcome failure, not logins) in the range.', 'none').thresholds(thresholds(10, 100)).withTarget(tableSql(`
      SELECT countIf(outcome = 'failure' AND action != 'authenticate') AS denied FROM ${AUDIT} WHERE ${FILTER}`)))
    .withRow(new RowBuilder('Failed logins'))
    .withPanel(stackedBars('Failed logins by source address', 'Failed authentications per interval, by the caller\'s address.', 'none').withTarget(timeSeriesSql(`
      SELECT $__timeInterval(event_time) AS time, ifNull(initiator_address, 'unknown') AS address, count() AS failed
      FROM ${AUDIT}
      WHERE ${FILTER} AND ${FAILED_LOGIN}
      GROUP BY time, address
      ORDER BY time`)))
    .withPanel(table('Top failing identities', 'Who failed to log in most, from where, and when last: brute force shows as many failures from few addresses.').withTarget(tableSql(`
      SELECT coalesce(initiator_name, initiator_id) AS user, groupUniqArray(10)(ifNull(initiator_address, '')) AS addresses, count() AS failures, max(event_time) AS last_failure
      FROM ${AUDIT}
      WHERE ${FILTER} AND ${FAILED_LOGIN}
      GROUP BY user
      ORDER BY failures DESC
      LIMIT 20`)))
    .withRow(new RowBuilder('Privileged actions'))
    .withPanel(stackedBars('Privileged actions by action', 'Identity changes per interval.', 'none').withTarget(timeSeriesSql(`
      SELECT $__timeInterval(event_time) AS time, action, count() AS actions
      FROM ${AUDIT}
      WHERE ${FILTER} AND ${PRIVILEGED_ACTION}
      GROUP BY time, action
      ORDER BY time`)))
    .withPanel(pieChart('Outcomes', 'Outcome of every audited action in the range.', 'none').span(12).withTarget(tableSql(`
      SELECT outcome, count() AS records FROM ${AUDIT} WHERE ${FILTER} GROUP BY outcome ORDER BY records DESC`)))
    .withPanel(table('Recent privileged actions', 'Who changed identity, what, from where, and whether it succeeded.').span(FULL_WIDTH).withTarget(tableSql(`
      SELECT event_time, coalesce(initiator_name, initiator_id) AS initiator, ifNull(initiator_address, '') AS address, action, target_type, target_id, outcome, ifNull(project_id, '') AS project_id, ifNull(request_id, '') AS request_id
      FROM ${AUDIT}
      WHERE ${FILTER} AND ${PRIVILEGED_ACTION}
      ORDER BY event_time DESC
      LIMIT 500`)));
  return finishDashboard(builder);
}
