import * as common from '@grafana/grafana-foundation-sdk/common';
import { DashboardBuilder, DashboardLinkBuilder, DashboardLinkType, ThresholdsConfigBuilder, ThresholdsMode, type Dashboard, type DataSourceRef } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as BarChartPanel } from '@grafana/grafana-foundation-sdk/barchart';
import { PanelBuilder as LogsPanel } from '@grafana/grafana-foundation-sdk/logs';
import { PanelBuilder as PieChartPanel, PieChartLegendOptionsBuilder, PieChartType } from '@grafana/grafana-foundation-sdk/piechart';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { clickhouseRef } from './datasources.ts';

/** Every Cumulus dashboard carries this tag, so Grafana's dashboard list can filter on it. */
export const CUMULUS_TAG = 'cumulus';
/** A minute: rated usage and rollups move per minute at most; faster refreshes only load ClickHouse. */
export const DEFAULT_REFRESH = '1m';
/** Grid units (Grafana's grid is 24 wide). */
export const FULL_WIDTH = 24;
export const HALF_WIDTH = 12;
export const THIRD_WIDTH = 8;
export const QUARTER_WIDTH = 6;
export const STAT_HEIGHT = 4;
export const CHART_HEIGHT = 8;
export const TABLE_HEIGHT = 10;

export interface DashboardSpec {
  /** Stable: Grafana keys provisioned dashboards, links and stars by it. Prefixed `cumulus-`. */
  uid: string;
  title: string;
  description: string;
  tags: readonly string[];
  time?: { from: string; to: string };
  refresh?: string;
}

export function newDashboard(spec: DashboardSpec): DashboardBuilder {
  return new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags([CUMULUS_TAG, ...spec.tags])
    .editable()
    // Stored times are UTC; operators read them in their browser's zone.
    .timezone('browser')
    .time(spec.time ?? { from: 'now-7d', to: 'now' })
    .refresh(spec.refresh ?? DEFAULT_REFRESH)
    // A menu of the other Cumulus dashboards, keeping the time range when moving between them.
    .link(new DashboardLinkBuilder('Cumulus').type(DashboardLinkType.Dashboards).tags([CUMULUS_TAG]).asDropdown(true).icon('external link').tooltip('').targetBlank(false).includeVars(false).keepTime(true));
}

/**
 * Builds the dashboard as plain JSON: numbers every panel (Grafana needs unique panel
 * ids for links, repeats and the "view panel" URL; the SDK leaves them unset) and drops
 * the SDK's marker functions, so what is returned is exactly what is written to disk.
 */
export function finishDashboard(builder: DashboardBuilder): Dashboard {
  const dashboard = JSON.parse(JSON.stringify(builder.build())) as Dashboard;
  let next = 1;
  for (const panel of dashboard.panels ?? []) {
    panel.id = next++;
    if (panel.type === 'row' && 'panels' in panel) for (const inner of panel.panels) inner.id = next++;
  }
  return dashboard;
}

const legend = () => new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom).calcs([]);
const tooltip = () => new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending);

export function timeSeries(title: string, description: string, unit: string, datasource: DataSourceRef = clickhouseRef): TimeSeriesPanel {
  return new TimeSeriesPanel()
    .title(title)
    .description(description)
    .datasource(datasource)
    .unit(unit)
    .legend(legend())
    .tooltip(tooltip())
    .lineWidth(1)
    .fillOpacity(10)
    .height(CHART_HEIGHT)
    .span(HALF_WIDTH);
}

/** Stacked bars: amounts per interval (cost, counts) that add up. */
export function stackedBars(title: string, description: string, unit: string, datasource: DataSourceRef = clickhouseRef): TimeSeriesPanel {
  return timeSeries(title, description, unit, datasource)
    .drawStyle(common.GraphDrawStyle.Bars)
    .fillOpacity(80)
    .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal).group('A'));
}

export function stat(title: string, description: string, unit: string, datasource: DataSourceRef = clickhouseRef): StatPanel {
  return new StatPanel()
    .title(title)
    .description(description)
    .datasource(datasource)
    .unit(unit)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.Value)
    .height(STAT_HEIGHT)
    .span(QUARTER_WIDTH);
}

/** Green below `warnAt`, amber from it, red from `badAt`. */
export function thresholds(warnAt: number, badAt: number): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
    { value: null, color: 'green' },
    { value: warnAt, color: 'orange' },
    { value: badAt, color: 'red' },
  ]);
}

export function table(title: string, description: string, datasource: DataSourceRef = clickhouseRef): TablePanel {
  return new TablePanel().title(title).description(description).datasource(datasource).height(TABLE_HEIGHT).span(HALF_WIDTH);
}

/** One slice per row of a (label, value) result. */
export function pieChart(title: string, description: string, unit: string): PieChartPanel {
  return new PieChartPanel()
    .title(title)
    .description(description)
    .datasource(clickhouseRef)
    .unit(unit)
    .pieType(PieChartType.Donut)
    .reduceOptions(new common.ReduceDataOptionsBuilder().values(true).calcs(['lastNotNull']))
    .legend(new PieChartLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.Table).placement(common.LegendPlacement.Right).calcs([]))
    .tooltip(tooltip())
    .height(CHART_HEIGHT)
    .span(THIRD_WIDTH);
}

/** Horizontal bars of a (label, value) result, e.g. a top 10. */
export function barChart(title: string, description: string, unit: string, xField: string): BarChartPanel {
  return new BarChartPanel()
    .title(title)
    .description(description)
    .datasource(clickhouseRef)
    .unit(unit)
    .xField(xField)
    .orientation(common.VizOrientation.Horizontal)
    .legend(legend().showLegend(false))
    .tooltip(tooltip())
    .height(CHART_HEIGHT)
    .span(HALF_WIDTH);
}

export function logs(title: string, description: string): LogsPanel {
  return new LogsPanel()
    .title(title)
    .description(description)
    .datasource(clickhouseRef)
    .showTime(true)
    .showLabels(true)
    .wrapLogMessage(true)
    .enableLogDetails(true)
    .sortOrder(common.LogsSortOrder.Descending)
    .dedupStrategy(common.LogsDedupStrategy.None)
    .height(16)
    .span(FULL_WIDTH);
}
