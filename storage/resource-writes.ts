/**
 * The rows the resource index writes, shared by its two writers (the pipeline's indexer
 * and the API), so both write `resources` and `resource_history` in the same form. Stable API.
 */
import type { ClickHouseDriver } from './driver.ts';
import { markMetricDeleted } from './metric-writes.ts';
import type { MetricRow } from './queries/metrics.ts';
import { deleteResourceRows, selectMetricsOfResources, type ResourceRow } from './queries/resources.ts';
import { clickHouseTime, effectiveAttributes, parseTimestampMicros, type AttributeValue, type ResourceType } from './resource-types.ts';

/** A resource's revision; times in microseconds since the epoch. */
export interface ResourceRevision {
  readonly id: string;
  readonly type: string;
  readonly project_id: string;
  readonly user_id: string;
  readonly started_at: number;
  readonly ended_at: number | null;
  readonly revision_start: number;
  /** The generation of `type` the attributes are written under. */
  readonly generation: number;
  /** Attribute values, nulls left out. */
  readonly attributes: Readonly<Record<string, AttributeValue>>;
}

/** A revision that another replaced: it ran until `revision_end`. */
export type ClosedResourceRevision = ResourceRevision & { readonly revision_end: number };

/** Attribute values as the `attributes` column holds them: JSON with sorted keys, so equal values are equal text. */
export function attributesJson(attributes: Readonly<Record<string, AttributeValue>>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

/**
 * The revision a stored row holds. Without `type`: its attributes and generation as
 * written. With the row's type: its attributes as the type defines them now (fills
 * applied, nulls left out) under the type's generation; what a new revision builds on.
 */
export function revisionFromRow(row: ResourceRow, type?: ResourceType): ResourceRevision {
  const stored = JSON.parse(row.attributes || '{}') as Record<string, AttributeValue>;
  const generation = Number(row.type_generation);
  return {
    id: row.id,
    type: row.type,
    project_id: row.project_id,
    user_id: row.user_id,
    started_at: parseTimestampMicros(row.started_at) as number,
    ended_at: row.ended_at === null ? null : (parseTimestampMicros(row.ended_at) as number),
    revision_start: parseTimestampMicros(row.revision_start) as number,
    generation: type ? type.generation : generation,
    attributes: type ? Object.fromEntries(Object.entries(effectiveAttributes(type, stored, generation)).filter(([, v]) => v !== null)) : stored,
  };
}

/** A `resources` row (the current revision). */
export function resourceRow(revision: ResourceRevision): Record<string, unknown> {
  return {
    id: revision.id,
    type: revision.type,
    project_id: revision.project_id,
    user_id: revision.user_id,
    started_at: clickHouseTime(revision.started_at),
    ended_at: revision.ended_at === null ? null : clickHouseTime(revision.ended_at),
    revision_start: clickHouseTime(revision.revision_start),
    attributes: attributesJson(revision.attributes),
    type_generation: revision.generation,
  };
}

/** A `resource_history` row (a closed revision). */
export function historyRow(revision: ClosedResourceRevision): Record<string, unknown> {
  return { ...resourceRow(revision), revision_end: clickHouseTime(revision.revision_end) };
}

/**
 * Writes a change of one resource: the revision it closes (if any), then its new current
 * revision. `dedupToken` must be unique to this change (a retry of the same change may reuse it).
 */
export async function writeResourceRevision(store: ClickHouseDriver, change: { closed?: ClosedResourceRevision; current: ResourceRevision }, dedupToken: string): Promise<void> {
  // 1. the closed revision first: a reader (or a retry) decides what to close from the
  //    current row, so a crash between the two must leave the old current row in place.
  if (change.closed) await store.insert('resource_history', [historyRow(change.closed)], { dedupToken: `${dedupToken}:resource_history` });
  // 2. the new current revision.
  await store.insert('resources', [resourceRow(change.current)], { dedupToken: `${dedupToken}:resources` });
}

/**
 * Deletes resources for good, with their history; their metrics are marked deleted, as
 * Gnocchi does (measures age out with their retention).
 */
export async function deleteResources(store: ClickHouseDriver, ids: readonly string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  // 1. history and 2. metrics before 3. the current rows: the current row is what a retry
  //    finds the resource by, so a crash part way leaves it there to be deleted again.
  await store.command(deleteResourceRows('resource_history', ids));
  for (const metric of await store.query<MetricRow>(selectMetricsOfResources(ids))) await markMetricDeleted(store, metric, now);
  await store.command(deleteResourceRows('resources', ids));
}
