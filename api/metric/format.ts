import { resourceUuid, type ArchivePolicy, type MetricRow, type ResourceRow } from '../../storage/index.ts';

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

/** The fields every metric answer has; Gnocchi's null for a metric without name, unit or resource ('' in the index). */
function metricBase(row: MetricRow) {
  return {
    id: row.id,
    creator: `${row.user_id}:${row.project_id}`,
    name: row.name === '' ? null : row.name,
    unit: row.unit === '' ? null : row.unit,
    created_by_user_id: row.user_id,
    created_by_project_id: row.project_id,
  };
}

/** A metric as Gnocchi lists it: its archive policy in full, its resource by id. */
export function metricView(row: MetricRow, policy: ArchivePolicy) {
  return { ...metricBase(row), resource_id: row.resource_id === '' ? null : resourceUuid(row.resource_id), archive_policy: archivePolicyView(policy) };
}

/** A metric as Gnocchi answers its creation: the policy by name (Gnocchi has not loaded it yet). */
export function metricCreatedView(row: MetricRow) {
  return { ...metricBase(row), resource_id: row.resource_id === '' ? null : resourceUuid(row.resource_id), archive_policy_name: row.archive_policy_name };
}

/** Per reason, the measures a metric refused (Cumulus's addition to Gnocchi's metric; Gnocchi drops them silently). */
export interface RefusedMeasuresView {
  back_window: number;
  retention: number;
  last_refused_at: string | null;
}

/**
 * A metric as Gnocchi shows one: the policy and the resource in full (null without one),
 * plus `refused_measures`, Cumulus's count of the measures it refused.
 */
export function metricDetailView(row: MetricRow, policy: ArchivePolicy, resource: Readonly<Record<string, unknown>> | null, refused: RefusedMeasuresView) {
  let embedded: Record<string, unknown> | null = null;
  if (resource) {
    const { metrics: _metrics, ...rest } = resource;
    embedded = rest;
  }
  return { ...metricBase(row), resource: embedded, archive_policy: archivePolicyView(policy), refused_measures: refused };
}

/** A number as Python's float() prints it in Gnocchi's messages: `42.0`, `0.5`. */
export const pythonFloat = (n: number): string => (Number.isInteger(n) ? `${n}.0` : String(n));

/** A bucket start as Gnocchi prints it: ISO 8601 with `+00:00`, fractions only when there are some. */
const formattedBuckets = new Map<number, string>();
const FORMATTED_BUCKETS_LIMIT = 200_000;

/**
 * A bucket's time as Gnocchi writes it (`2026-01-01T00:00:00+00:00`, milliseconds only when
 * there are some). Runs for every point of every answer, and the same buckets come back
 * read after read: kept, up to a bound.
 */
export function isoBucket(ms: number): string {
  let text = formattedBuckets.get(ms);
  if (text !== undefined) return text;
  const iso = new Date(ms).toISOString();
  // `YYYY-MM-DDTHH:MM:SS.mmmZ`; years past 9999 take the extended form, which the replaces handle.
  text = iso.length === 24 ? `${iso.slice(0, ms % 1000 === 0 ? 19 : 23)}+00:00` : iso.replace(/\.000Z$/, '+00:00').replace(/Z$/, '+00:00');
  if (formattedBuckets.size >= FORMATTED_BUCKETS_LIMIT) formattedBuckets.clear();
  formattedBuckets.set(ms, text);
  return text;
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
