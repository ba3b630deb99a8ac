import * as echarts from 'echarts';
import type { Statement } from '../../../storage/index.ts';

/**
 * A statement's two charts as inline SVG, rendered on the server with echarts' SSR (no
 * DOM, no script in the page): cost by service (horizontal bars) and the daily cost trend
 * (a line over every day of the month). The printed page needs no network and no script.
 */

export const SERVICE_CHART_SIZE = { width: 640, height: 260 } as const;
export const TREND_CHART_SIZE = { width: 640, height: 260 } as const;

const PALETTE = ['#2f6fb3', '#e07b39', '#3a9a5b', '#b5405f', '#7a5bb5', '#c9a227', '#3aa3a8', '#7d7d7d'];

function render(size: { width: number; height: number }, option: echarts.EChartsCoreOption): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: size.width, height: size.height });
  try {
    chart.setOption({ animation: false, color: PALETTE, textStyle: { fontFamily: 'DejaVu Sans, Arial, sans-serif' }, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/**
 * Chart coordinates are numbers: the amounts are converted from their rounded decimal text
 * for drawing only; every figure printed (labels, tables) is the decimal text itself.
 */
const plot = (amount: string): number => Number(amount);

/** Cost by service: one bar per service, its total as the label. */
export function serviceChart(statement: Statement): string {
  const services = [...statement.services].reverse();
  return render(SERVICE_CHART_SIZE, {
    title: { text: `Cost by service (${statement.currency})`, left: 8, top: 4, textStyle: { fontSize: 13 } },
    grid: { left: 150, right: 90, top: 36, bottom: 24 },
    xAxis: { type: 'value', axisLabel: { fontSize: 10 } },
    yAxis: { type: 'category', data: services.map((s) => s.service), axisLabel: { fontSize: 11 } },
    series: [
      {
        type: 'bar',
        barMaxWidth: 28,
        colorBy: 'data',
        data: services.map((s) => ({ value: plot(s.total), label: { show: true, position: 'right', formatter: s.total, fontSize: 11 } })),
      },
    ],
  });
}

/** Every day of the statement's month (UTC), `YYYY-MM-DD`. */
export function monthDays(start: string, end: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(start); t < Date.parse(end); t += 86_400_000) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/** Daily cost trend: one point per day of the month, 0 on days without rated usage. */
export function trendChart(statement: Statement): string {
  const byDay = new Map(statement.daily.map((d) => [d.date, d.amount]));
  const days = monthDays(statement.period.start, statement.period.end);
  return render(TREND_CHART_SIZE, {
    title: { text: `Daily cost (${statement.currency})`, left: 8, top: 4, textStyle: { fontSize: 13 } },
    grid: { left: 60, right: 24, top: 36, bottom: 32 },
    xAxis: { type: 'category', boundaryGap: false, data: days.map((d) => d.slice(8)), axisLabel: { fontSize: 10, interval: 1 } },
    yAxis: { type: 'value', axisLabel: { fontSize: 10 } },
    series: [{ type: 'line', symbolSize: 4, areaStyle: { opacity: 0.15 }, data: days.map((d) => plot(byDay.get(d) ?? '0')) }],
  });
}
