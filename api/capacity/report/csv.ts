import { csvField } from '../../audit/csv.ts';
import type { CapacityPlanningReport } from './report.ts';

/**
 * The capacity planning report as CSV (RFC 4180), one table with a `record` column saying
 * what each row is: `summary` (per resource: capacity, used, free, the exhaustion date and
 * its interval, the model and its backtest MASE), `history` and `forecast` points (with the
 * 80% and 95% bounds), `flavor_fit` (now, then one row per month), `zone` and `growth`.
 * Numbers are written as computed (no thousands separators, full precision).
 */
export const CAPACITY_CSV_COLUMNS = [
  'record',
  'scope',
  'resource',
  'unit',
  'at',
  'value',
  'capacity',
  'used',
  'free',
  'lower80',
  'upper80',
  'lower95',
  'upper95',
  'exhaustion',
  'exhaustion_earliest',
  'exhaustion_latest',
  'model',
  'mase',
  'name',
  'count',
] as const;

type Row = Partial<Record<(typeof CAPACITY_CSV_COLUMNS)[number], string | number | null>>;

export function capacityReportCsv(report: CapacityPlanningReport): string {
  const rows: Row[] = [];
  for (const s of report.resources) {
    const common = { scope: report.scope, resource: s.resource, unit: s.unit };
    rows.push({ record: 'summary', ...common, at: report.generatedAt, capacity: s.capacity, used: s.used, free: s.free, exhaustion: s.exhaustion.at, exhaustion_earliest: s.exhaustion.earliest, exhaustion_latest: s.exhaustion.latest, model: s.model, mase: s.mase });
    for (const p of s.history) rows.push({ record: 'history', ...common, at: p.at, value: p.used });
    for (const p of s.forecast) rows.push({ record: 'forecast', ...common, at: p.at, value: p.value, lower80: p.lower80, upper80: p.upper80, lower95: p.lower95, upper95: p.upper95 });
  }
  for (const f of report.flavorFit.flavors) {
    rows.push({ record: 'flavor_fit', scope: report.scope, name: f.name, at: report.generatedAt, count: f.now });
    f.byMonth.forEach((count, i) => rows.push({ record: 'flavor_fit', scope: report.scope, name: f.name, at: report.flavorFit.months[i] ?? '', count }));
  }
  for (const z of report.zones) {
    for (const resource of ['vcpus', 'memoryMb', 'diskGb'] as const) rows.push({ record: 'zone', scope: report.scope, name: z.zone, resource, capacity: z.capacity[resource], used: z.used[resource], free: z.capacity[resource] - z.used[resource], count: z.hosts });
  }
  for (const g of report.growth) rows.push({ record: 'growth', scope: report.scope, name: g.project, resource: 'vcpus', value: g.perMonth, count: g.percent });
  const line = (cells: ReadonlyArray<string | number | null | undefined>) => cells.map((c) => csvField(c === null || c === undefined ? '' : String(c))).join(',');
  return [line(CAPACITY_CSV_COLUMNS), ...rows.map((r) => line(CAPACITY_CSV_COLUMNS.map((c) => r[c])))].join('\r\n') + '\r\n';
}
