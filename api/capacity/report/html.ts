import * as echarts from 'echarts';
import { RESOURCE_TITLES, type CapacityPlanningReport, type ResourceSection } from './report.ts';

/**
 * The capacity planning report as one printable HTML page: per resource, a chart of the
 * used amount's history, its forecast with the 95% interval and the capacity line, then the
 * exhaustion date; flavor fit now and in the coming months as a chart and a table; zones
 * and growth by project as tables. Charts are inline SVG rendered on the server with
 * echarts' SSR (no script, no network), as statements are.
 */

export const FORECAST_CHART_SIZE = { width: 760, height: 280 } as const;
export const FIT_CHART_SIZE = { width: 760, height: 300 } as const;
/** Points drawn per history line at most: hourly months are averaged into buckets. */
const MAX_CHART_POINTS = 600;
const COLORS = { history: '#2f6fb3', forecast: '#e07b39', band: 'rgba(224, 123, 57, 0.22)', capacity: '#b5405f' };
const FIT_PALETTE = ['#2f6fb3', '#e07b39', '#3a9a5b', '#7a5bb5', '#c9a227', '#3aa3a8', '#7d7d7d'];

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');
const day = (at: string | null) => (at === null ? '-' : at.slice(0, 10));

function render(size: { width: number; height: number }, option: echarts.EChartsCoreOption): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: size.width, height: size.height });
  try {
    chart.setOption({ animation: false, textStyle: { fontFamily: 'DejaVu Sans, Arial, sans-serif' }, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** Averages consecutive points so a line has at most `max` of them. */
export function downsample<T extends { at: string }>(points: readonly T[], max: number, value: (p: T) => number): Array<[number, number]> {
  const per = Math.max(1, Math.ceil(points.length / max));
  const out: Array<[number, number]> = [];
  for (let i = 0; i < points.length; i += per) {
    const chunk = points.slice(i, i + per);
    out.push([Date.parse((chunk[0] as T).at), chunk.reduce((a, p) => a + value(p), 0) / chunk.length]);
  }
  return out;
}

/** History, forecast, its 95% band and the capacity, on one time axis. */
export function forecastChart(section: ResourceSection): string {
  const history = downsample(section.history, MAX_CHART_POINTS, (p) => p.used);
  const forecast = downsample(section.forecast, MAX_CHART_POINTS, (p) => p.value);
  const lower = downsample(section.forecast, MAX_CHART_POINTS, (p) => p.lower95);
  const upper = downsample(section.forecast, MAX_CHART_POINTS, (p) => p.upper95);
  const first = history[0]?.[0] ?? forecast[0]?.[0] ?? 0;
  const last = forecast[forecast.length - 1]?.[0] ?? history[history.length - 1]?.[0] ?? first;
  return render(FORECAST_CHART_SIZE, {
    title: { text: `${RESOURCE_TITLES[section.resource]} used (${section.unit}): history, forecast, 95% interval, capacity`, left: 8, top: 4, textStyle: { fontSize: 13 } },
    legend: { top: 26, right: 8, textStyle: { fontSize: 10 }, data: ['used', 'forecast', 'capacity'] },
    grid: { left: 70, right: 24, top: 52, bottom: 30 },
    xAxis: { type: 'time', axisLabel: { fontSize: 10 } },
    yAxis: { type: 'value', axisLabel: { fontSize: 10 }, max: (extent: { max: number }) => Math.ceil(Math.max(extent.max, section.capacity) * 1.05) },
    series: [
      // The band: the lower bound carries nothing visible, the difference to the upper one is filled.
      { name: 'lower95', type: 'line', stack: 'band', symbol: 'none', lineStyle: { opacity: 0 }, data: lower },
      { name: 'band95', type: 'line', stack: 'band', symbol: 'none', lineStyle: { opacity: 0 }, areaStyle: { color: COLORS.band }, data: upper.map(([t, u], i) => [t, u - (lower[i]?.[1] ?? u)]) },
      { name: 'used', type: 'line', symbol: 'none', lineStyle: { width: 1.5, color: COLORS.history }, itemStyle: { color: COLORS.history }, data: history },
      { name: 'forecast', type: 'line', symbol: 'none', lineStyle: { width: 1.5, type: 'dashed', color: COLORS.forecast }, itemStyle: { color: COLORS.forecast }, data: forecast },
      { name: 'capacity', type: 'line', symbol: 'none', lineStyle: { width: 1.5, color: COLORS.capacity }, itemStyle: { color: COLORS.capacity }, data: [[first, section.capacity], [last, section.capacity]] },
    ],
  });
}

/** Instances of each flavor that still fit: now, then at the start of each coming month. */
export function flavorFitChart(report: CapacityPlanningReport): string {
  const fit = report.flavorFit;
  const columns = ['now', ...fit.months];
  return render(FIT_CHART_SIZE, {
    title: { text: 'Flavor fit: instances of each flavor that still fit', left: 8, top: 4, textStyle: { fontSize: 13 } },
    legend: { top: 26, right: 8, textStyle: { fontSize: 10 } },
    color: FIT_PALETTE,
    grid: { left: 60, right: 24, top: 56, bottom: 30 },
    xAxis: { type: 'category', data: fit.flavors.map((f) => f.name), axisLabel: { fontSize: 10 } },
    yAxis: { type: 'value', axisLabel: { fontSize: 10 } },
    series: columns.map((label, c) => ({ name: label, type: 'bar', barMaxWidth: 18, data: fit.flavors.map((f) => (c === 0 ? f.now : (f.byMonth[c - 1] ?? 0))) })),
  });
}

function exhaustionText(s: ResourceSection): string {
  const e = s.exhaustion;
  if (e.status === 'now') return 'at or over capacity now';
  if (e.status === 'not-within-horizon') return 'not within the forecast horizon';
  return `${day(e.at)} (${e.level}% interval ${day(e.earliest)} to ${e.latest === null ? 'after the horizon' : day(e.latest)})`;
}

const table = (head: readonly string[], rows: ReadonlyArray<readonly string[]>, cls = '') =>
  `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;

export function capacityReportHtml(report: CapacityPlanningReport): string {
  const summary = table(
    ['resource', 'capacity', 'used', 'free', 'used %', 'runs out', 'model (backtest MASE)'],
    report.resources.map((s) => [
      `${RESOURCE_TITLES[s.resource]} (${s.unit})`,
      fmt(s.capacity),
      fmt(s.used),
      fmt(s.free),
      s.capacity > 0 ? `${fmt((100 * s.used) / s.capacity, 1)}%` : '-',
      exhaustionText(s),
      `${s.model} (${fmt(s.mase, 2)})`,
    ]),
    'numbers',
  );
  const sections = report.resources
    .map(
      (s) => `<section class="resource">
  <h2>${esc(RESOURCE_TITLES[s.resource])}</h2>
  <figure id="chart-${s.resource}">${forecastChart(s)}</figure>
  <p>Runs out: <strong>${esc(exhaustionText(s))}</strong>. Forecast by ${esc(s.model)}: backtest MASE ${fmt(s.mase, 2)} (below 1 beats the seasonal naive forecast)${s.mape === null ? '' : `, MAPE ${fmt(s.mape, 1)}%`}. ${esc(s.intervalMethod)}</p>
  ${s.notes.length > 0 ? `<ul class="notes">${s.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
</section>`,
    )
    .join('\n');
  const zones = table(
    ['zone', 'hosts', 'vCPU used / capacity', 'memory MiB used / capacity', 'disk GiB used / capacity'],
    report.zones.map((z) => [z.zone, String(z.hosts), `${fmt(z.used.vcpus)} / ${fmt(z.capacity.vcpus)}`, `${fmt(z.used.memoryMb)} / ${fmt(z.capacity.memoryMb)}`, `${fmt(z.used.diskGb)} / ${fmt(z.capacity.diskGb)}`]),
    'numbers',
  );
  const fit = table(['flavor', 'now', ...report.flavorFit.months], report.flavorFit.flavors.map((f) => [f.name, String(f.now), ...f.byMonth.map(String)]), 'numbers');
  const growth = table(['project', 'vCPU per month', 'growth %'], report.growth.map((g) => [g.project, fmt(g.perMonth, 2), g.percent === null ? '-' : `${fmt(g.percent, 1)}%`]), 'numbers');
  const factors = table(['factor', 'value'], Object.entries(report.factors).map(([k, v]) => [k, String(v)]));
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(report.title)}</title>
<style>
  @page { size: A4; margin: 14mm; }
  body { font-family: 'DejaVu Sans', Arial, sans-serif; color: #222; font-size: 12px; margin: 24px; }
  h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 22px 0 6px; }
  .meta { color: #555; margin-bottom: 14px; }
  table { border-collapse: collapse; margin: 6px 0 12px; } th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: left; }
  table.numbers td:not(:first-child) { text-align: right; } th { background: #f2f2f2; }
  figure { margin: 6px 0; } section.resource { page-break-inside: avoid; } .notes { color: #555; }
</style></head>
<body>
<h1>${esc(report.title)}</h1>
<div class="meta">Generated ${esc(report.generatedAt)} &middot; scope ${esc(report.scope)}</div>
<h2>Summary</h2>
${summary}
${sections}
<h2>Flavor fit</h2>
<figure id="chart-flavor-fit">${flavorFitChart(report)}</figure>
${fit}
<h2>Availability zones</h2>
${zones}
<h2>Growth by project</h2>
${growth}
<h2>Model factors</h2>
${factors}
</body></html>
`;
}
