/** Grafana dashboards as code (issue 9): builders, provisioning files, and the export. */
export { exportDashboards, DASHBOARDS_PROVISIONING_FILE, DATASOURCES_PROVISIONING_FILE, type ExportResult, type ExportedDashboard } from './export.ts';
export { buildDashboards, DASHBOARD_BUILDERS } from './catalog.ts';
export {
  resolveDashboardsConfig,
  DEFAULT_DASHBOARDS_CONFIG,
  DEFAULT_CLICKHOUSE_URL,
  DEFAULT_CLICKHOUSE_DATABASE,
  DEFAULT_CLICKHOUSE_USER,
  DEFAULT_PROMETHEUS_URL,
  DEFAULT_FOLDER,
  DEFAULT_DASHBOARDS_PATH,
  CLICKHOUSE_PASSWORD_ENV,
  type DashboardsConfig,
} from './config.ts';
export { DashboardsConfigError, DashboardsExportError } from './errors.ts';
export { dashboardsProvisioning, datasourcesProvisioning } from './provisioning.ts';
export { showbackDashboard, SHOWBACK_UID } from './showback.ts';
export { capacityDashboard, CAPACITY_UID } from './capacity.ts';
export { alarmsDashboard, ALARMS_UID } from './alarms.ts';
export { auditDashboard, AUDIT_UID } from './audit.ts';
export { logsDashboard, LOGS_UID } from './logs.ts';
export { healthDashboard, HEALTH_UID, TELEMETRY_METRICS } from './health.ts';
export { CLICKHOUSE_PLUGIN_ID, PROMETHEUS_PLUGIN_ID, CLICKHOUSE_DATASOURCE_UID, PROMETHEUS_DATASOURCE_UID } from './datasources.ts';
export { CLICKHOUSE_RESULT, type ClickHouseQuery } from './clickhouse-query.ts';
export { ALL_VALUE } from './variables.ts';
