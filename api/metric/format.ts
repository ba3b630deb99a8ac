import type { ArchivePolicy, MetricRow, ResourceRow } from '../../storage/index.ts';

/** Python's str(timedelta), which Gnocchi uses for granularity and timespan: `0:05:00`, `30 days, 0:00:00`. */
export function timedelta(seconds: number): string {
  const days = Math.floor(seconds / 86_400);
  const rest = seconds - days * 86_400;
  const h = Math.floor(rest / 3600);
  const m = Math.floor((rest % 3600) / 60);
  const s = rest % 60;
  const clock = `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  return days > 0 ? `${days} day${days === 1 ? '' : 's'}, ${clock}` : clock;
}

export function archivePolicyView(policy: ArchivePolicy) {
  return {
    name: policy.name,
    back_window: policy.back_window,
    aggregation_methods: [...policy.aggregation_methods],
    definition: policy.definition.map((l) => ({ granularity: timedelta(l.granularity), points: l.points, timespan: timedelta(l.granularity * l.points) })),
  };
}

/** ClickHouse DateTime64 text (`2026-01-01 00:00:00.000000`) to Gnocchi's ISO form with offset. */
export function isoFromClickHouse(text: string | null): string | null {
  if (!text) return null;
  return `${text.replace(' ', 'T')}+00:00`;
}

export function metricView(row: MetricRow, policy: ArchivePolicy) {
  const creator = `${row.user_id}:${row.project_id}`;
  return {
    id: row.id,
    name: row.name,
    unit: row.unit,
    resource_id: row.resource_id,
    archive_policy: archivePolicyView(policy),
    creator,
    created_by_user_id: row.user_id,
    created_by_project_id: row.project_id,
  };
}

export function resourceView(row: ResourceRow, metrics: ReadonlyArray<Pick<MetricRow, 'id' | 'name'>>) {
  const attributes = JSON.parse(row.attributes || '{}') as Record<string, unknown>;
  return {
    id: row.id,
    type: row.type,
    original_resource_id: row.id,
    project_id: row.project_id,
    user_id: row.user_id,
    creator: `${row.user_id}:${row.project_id}`,
    created_by_user_id: row.user_id,
    created_by_project_id: row.project_id,
    started_at: isoFromClickHouse(row.started_at),
    ended_at: isoFromClickHouse(row.ended_at),
    revision_start: isoFromClickHouse(row.revision_start),
    revision_end: null,
    metrics: Object.fromEntries(metrics.map((m) => [m.name, m.id])),
    ...attributes,
  };
}
