/**
 * One query per service for a span of consecutive periods, cut into each period's share in
 * memory. Every filter below is the WHERE clause of the per-period query in
 * storage/queries/rating-usage.ts, restated on the span's rows, so a period's share is
 * exactly the rows its own queries would return, in the same order: rating a day of hourly
 * periods costs one set of queries instead of 24 (each period has a fixed query cost of
 * about 0.2 s on chDB; see docs/rating.md "Speed").
 */
import type { UsageEventRow, UsageMeasureRow, UsageRevisionRow } from '../../storage/index.ts';
import type { RatingPeriod, ServiceUsageData } from './usage.ts';

const US_PER_S = 1_000_000n;

/** Whole seconds of a period's bounds (the queries bind them as DateTime, truncated). */
const boundsOf = (period: RatingPeriod) => ({ from: Math.floor(period.start.getTime() / 1000), to: Math.floor(period.end.getTime() / 1000) });

/** `revision_start < to AND revision_end > from` (closed revisions), `... AND (ended_at IS NULL OR ended_at > from)` (the current one). */
function revisionOverlaps(row: UsageRevisionRow, from: number, to: number): boolean {
  if (row.revision_start_s >= to) return false;
  const fromUs = BigInt(from) * US_PER_S;
  if (row.revision_end_us !== null) return BigInt(row.revision_end_us) > fromUs;
  return row.ended_us === null || BigInt(row.ended_us) > fromUs;
}

/** Measures in [from, to) plus, per (resource, metric), the last one before `from` by (time, value), as the query's argMax picks it. */
function measuresOf(rows: readonly UsageMeasureRow[], ids: ReadonlySet<string>, from: number, to: number): UsageMeasureRow[] {
  const out: UsageMeasureRow[] = [];
  const fromUs = BigInt(from) * US_PER_S;
  let i = 0;
  while (i < rows.length) {
    const first = rows[i] as UsageMeasureRow;
    let j = i;
    while (j < rows.length && (rows[j] as UsageMeasureRow).resource_id === first.resource_id && (rows[j] as UsageMeasureRow).name === first.name) j++;
    if (ids.has(first.resource_id)) {
      let before: UsageMeasureRow | undefined;
      const inside: UsageMeasureRow[] = [];
      for (let k = i; k < j; k++) {
        const row = rows[k] as UsageMeasureRow;
        const at = BigInt(row.at_us);
        if (at < fromUs) {
          if (!before || at > BigInt(before.at_us) || (at === BigInt(before.at_us) && Number(row.value) > Number(before.value))) before = row;
        } else if (row.at_s < to) inside.push(row);
      }
      // The query's ORDER BY (resource, name, at_s, value) puts the earlier one first.
      if (before) out.push(before);
      out.push(...inside);
    }
    i = j;
  }
  return out;
}

/** Events in [from, to) plus each resource's last one before `from` (the rows are in (resource, time, message id) order). */
function eventsOf(rows: readonly UsageEventRow[], ids: ReadonlySet<string>, from: number, to: number): UsageEventRow[] {
  const out: UsageEventRow[] = [];
  const fromUs = BigInt(from) * US_PER_S;
  const toUs = BigInt(to) * US_PER_S;
  let i = 0;
  while (i < rows.length) {
    const resource = (rows[i] as UsageEventRow).resource_id;
    let j = i;
    while (j < rows.length && (rows[j] as UsageEventRow).resource_id === resource) j++;
    if (ids.has(resource)) {
      let before: UsageEventRow | undefined;
      for (let k = i; k < j; k++) {
        const row = rows[k] as UsageEventRow;
        const at = BigInt(row.at_us);
        if (at < fromUs) before = row;
        else if (at < toUs) {
          if (before) out.push(before);
          before = undefined;
          out.push(row);
        }
      }
      if (before) out.push(before);
    }
    i = j;
  }
  return out;
}

/** The share of `span` (rows read for consecutive periods covering `period`) that the period's own queries would return. */
export function usageOfPeriod(span: ServiceUsageData, period: RatingPeriod): ServiceUsageData {
  const { from, to } = boundsOf(period);
  const out: { -readonly [K in keyof ServiceUsageData]: ServiceUsageData[K] } = {};
  const ids = new Set<string>();
  if (span.revisions) {
    out.revisions = span.revisions.filter((row) => revisionOverlaps(row, from, to));
    for (const row of out.revisions) ids.add(row.id);
  }
  if (span.lifetimes) {
    // The aggregate reads events before `to` only: a first delete at or after it is not seen yet.
    out.lifetimes = span.lifetimes
      .filter((life) => life.started_s < to && (life.ended_s === null || life.ended_s > from))
      .map((life) => (life.ended_s !== null && life.ended_s >= to ? { ...life, ended_s: null } : life));
    for (const life of out.lifetimes) ids.add(life.resource_id);
  }
  if (span.measures) out.measures = measuresOf(span.measures, ids, from, to);
  if (span.events) out.events = eventsOf(span.events, ids, from, to);
  return out;
}
