import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/dashboard';
import { DatasourceVariableBuilder, VariableHide } from '@grafana/grafana-foundation-sdk/dashboard';

/** Plugin ids, as Grafana names them. */
export const CLICKHOUSE_PLUGIN_ID = 'grafana-clickhouse-datasource';
export const PROMETHEUS_PLUGIN_ID = 'prometheus';

/** Uids the provisioning file gives the datasources; the datasource variables default to them. */
export const CLICKHOUSE_DATASOURCE_UID = 'cumulus-clickhouse';
export const PROMETHEUS_DATASOURCE_UID = 'cumulus-prometheus';

/**
 * Panels name their datasource through a dashboard variable, not a fixed uid: a
 * Grafana whose ClickHouse datasource has another uid (imported by hand, several
 * regions) picks it in the variable instead of editing every panel.
 */
export const CLICKHOUSE_VARIABLE = 'DS_CLICKHOUSE';
export const PROMETHEUS_VARIABLE = 'DS_PROMETHEUS';

export const clickhouseRef: DataSourceRef = { type: CLICKHOUSE_PLUGIN_ID, uid: `\${${CLICKHOUSE_VARIABLE}}` };
export const prometheusRef: DataSourceRef = { type: PROMETHEUS_PLUGIN_ID, uid: `\${${PROMETHEUS_VARIABLE}}` };

function datasourceVariable(name: string, label: string, pluginId: string, defaultUid: string): DatasourceVariableBuilder {
  return new DatasourceVariableBuilder(name)
    .label(label)
    .type(pluginId)
    .current({ text: defaultUid, value: defaultUid, selected: true })
    .hide(VariableHide.DontHide);
}

export const clickhouseVariable = () => datasourceVariable(CLICKHOUSE_VARIABLE, 'ClickHouse', CLICKHOUSE_PLUGIN_ID, CLICKHOUSE_DATASOURCE_UID);
export const prometheusVariable = () => datasourceVariable(PROMETHEUS_VARIABLE, 'Prometheus', PROMETHEUS_PLUGIN_ID, PROMETHEUS_DATASOURCE_UID);
