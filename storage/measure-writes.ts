/**
 * Writing measures straight into ClickHouse, as Gnocchi's API accepts them
 * (POST /v1/metric/<id>/measures, the batch endpoints, the InfluxDB and Prometheus
 * receivers): each accepted measure becomes one `measures` row carrying its policy's
 * granularities and retentions, and its rollups are written with it
 * (./measure-insert.ts), so a write is readable as soon as it returned (nothing is queued).
 *
 * Two rules refuse measures, and each refusal is counted per metric and reason in
 * `measure_refusals` (Gnocchi drops such measures silently; Cumulus reports them):
 * - `retention`: every bucket the measure would land in has already left its retention;
 * - `back_window`: Gnocchi's back window (./back-window.ts), from the metric's newest
 *   measure stored before this write.
 * Within one write, a timestamp given twice keeps its last value (Gnocchi's rule).
 * Experimental API; the signature of writeMeasures is what the API's receivers call.
 */
import { createHash } from 'node:crypto';
import { InvalidInputError } from '../core/index.ts';
import type { ArchivePolicy } from './archive-policies.ts';
import { applyBackWindow, type BackWindowMeasure } from './back-window.ts';
import type { BoundQuery, ClickHouseDriver } from './driver.ts';
import { insertMeasureRows, type MeasureRowInput } from './measure-insert.ts';
import type { RollupWriteObserver } from './rollup-rows.ts';
import { selectNewestMeasureTimes, type NewestMeasureTimeRow } from './queries/measures.ts';

export interface MeasureInput {
  readonly timestamp: Date;
  readonly value: number;
}

/** Why a measure was refused; also the `reason` column of `measure_refusals`. */
export type MeasureRefusalReason = 'back_window' | 'retention';
export const MEASURE_REFUSAL_REASONS: readonly MeasureRefusalReason[] = ['back_window', 'retention'];

export interface RefusedMeasureWrite {
  readonly metricId: string;
  readonly timestamp: Date;
  readonly value: number;
  readonly code: MeasureRefusalReason;
  /** A sentence saying what the rule is and where the measure fell. */
  readonly reason: string;
}

export interface MetricMeasures {
  /** The metric (a MetricRow or anything with its id). */
  readonly metric: { readonly id: string; readonly archive_policy_name?: string };
  /** Its archive policy (the resolver's answer for archive_policy_name). */
  readonly policy: ArchivePolicy;
  readonly measures: readonly MeasureInput[];
}

export interface WriteMeasuresResult {
  readonly accepted: number;
  readonly refused: RefusedMeasureWrite[];
}

export interface WriteOptions {
  /** The time retention is measured against, and the refusals' time. */
  readonly now: Date;
  /**
   * Deduplication token of the insert; by default a digest of the rows written, so an
   * identical write repeated (a client's retry) changes nothing, as it does in Gnocchi.
   */
  readonly dedupToken?: string;
  /** Told about the rollups written (the hot reads' copy). */
  readonly observer?: RollupWriteObserver | null;
}

/** The policy's levels as text, part of the default token (the same measures under another policy are another write). */
const levelsKey = (policy: ArchivePolicy): string => policy.definition.map((l) => `${l.granularity}x${l.points}`).join(',');

/** One metric's measures; see writeMeasureBatch. */
export async function writeMeasures(store: ClickHouseDriver, write: MetricMeasures & WriteOptions): Promise<WriteMeasuresResult> {
  const { now, dedupToken, observer, ...one } = write;
  const { accepted, refused } = await writeMeasureBatch(store, [one], { now, ...(dedupToken === undefined ? {} : { dedupToken }), ...(observer ? { observer } : {}) });
  return { accepted, refused };
}

interface PendingMeasure extends BackWindowMeasure {
  readonly value: number;
  readonly policy: ArchivePolicy;
}

/** The ClickHouse DateTime64 text of a time (UTC, no zone). */
const chTime = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** A UUID-shaped digest (the `sample_id` of an API measure: stable for the same write). */
function digestUuid(text: string): string {
  const h = createHash('sha1').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/** Whether every bucket of the measure is past its retention (nothing would ever read it). */
export function isPastRetention(timestampMs: number, policy: ArchivePolicy, nowMs: number): boolean {
  const seconds = Math.floor(timestampMs / 1000);
  return policy.definition.every((level) => (Math.floor(seconds / level.granularity) * level.granularity + level.granularity * level.points) * 1000 <= nowMs);
}

/**
 * Writes the measures of several metrics in one insert. Steps, in this order:
 * 1. per metric, a repeated timestamp keeps its last value;
 * 2. refuse what is past retention, then what is before the back window (one read of the
 *    newest stored blocks for all the metrics);
 * 3. insert the accepted rows into `measures` and their rollups (./measure-insert.ts);
 * 4. only then count the refusals: a failed insert is retried by the caller as a whole,
 *    and with the same token the measures are not written twice nor the refusals counted twice.
 */
export async function writeMeasureBatch(store: ClickHouseDriver, writes: readonly MetricMeasures[], options: WriteOptions): Promise<WriteMeasuresResult & { perMetric: Map<string, WriteMeasuresResult> }> {
  const nowMs = options.now.getTime();
  const pending: PendingMeasure[] = [];
  const refused: RefusedMeasureWrite[] = [];
  // 1. last value per timestamp, per metric (a metric may appear in several writes).
  const byMetric = new Map<string, { policy: ArchivePolicy; values: Map<number, number> }>();
  for (const { metric, policy, measures } of writes) {
    let entry = byMetric.get(metric.id);
    if (!entry) {
      entry = { policy, values: new Map() };
      byMetric.set(metric.id, entry);
    }
    for (const [i, m] of measures.entries()) {
      const ms = m.timestamp.getTime();
      if (!Number.isFinite(ms)) throw new InvalidInputError('CUMULUS_STORAGE_MEASURE_INVALID', `measures[${i}] of metric ${metric.id}: expected a valid timestamp, got ${String(m.timestamp)}`);
      if (!Number.isFinite(m.value)) throw new InvalidInputError('CUMULUS_STORAGE_MEASURE_INVALID', `measures[${i}] of metric ${metric.id}: expected a finite number, got ${String(m.value)}`);
      entry.values.delete(ms);
      entry.values.set(ms, m.value);
    }
  }
  // 2. retention, then the back window from what was stored before this write.
  for (const [metricId, { policy, values }] of byMetric) {
    for (const [timestampMs, value] of values) {
      if (isPastRetention(timestampMs, policy, nowMs)) {
        const longest = Math.max(...policy.definition.map((l) => l.granularity * l.points));
        refused.push({ metricId, timestamp: new Date(timestampMs), value, code: 'retention', reason: `measure of metric ${metricId} at ${new Date(timestampMs).toISOString()} is past the retention of policy ${policy.name} (its longest level keeps ${longest} s)` });
      } else pending.push({ metricId, timestampMs, value, policy });
    }
  }
  const metricIds = [...new Set(pending.map((m) => m.metricId))];
  const newestBefore = new Map<string, number>();
  if (metricIds.length > 0) {
    for (const row of await store.query<NewestMeasureTimeRow>(selectNewestMeasureTimes(metricIds))) newestBefore.set(row.metric_id, Number(row.newest_block) * 1000);
  }
  const windowed = applyBackWindow(pending, newestBefore, (m) => m.policy);
  for (const { measure, reason } of windowed.refused) refused.push({ metricId: measure.metricId, timestamp: new Date(measure.timestampMs), value: measure.value, code: 'back_window', reason });

  // 3. the accepted rows, in time order per metric.
  const accepted = [...windowed.accepted].sort((a, b) => (a.metricId === b.metricId ? a.timestampMs - b.timestampMs : a.metricId < b.metricId ? -1 : 1));
  const rows: MeasureRowInput[] = accepted.map((m) => ({ metricId: m.metricId, tsMicros: m.timestampMs * 1000, value: m.value, sampleId: digestUuid(`${m.metricId}|${chTime(m.timestampMs)}|${m.value}`), policy: m.policy }));
  const token = options.dedupToken ?? `measures:${createHash('sha256').update(JSON.stringify(rows.map((r) => [r.metricId, r.tsMicros, r.value, levelsKey(r.policy)]))).update(JSON.stringify(refused.map((r) => [r.metricId, r.timestamp.getTime(), r.value]))).digest('hex')}`;
  const emptyBefore = new Set(metricIds.filter((id) => !newestBefore.has(id)));
  await insertMeasureRows(store, rows, { dedupToken: token, observer: options.observer ?? null, emptyBefore });

  // 4. the refusals, per metric and reason.
  const counts = new Map<string, { metricId: string; reason: MeasureRefusalReason; count: number }>();
  for (const r of refused) {
    const key = `${r.metricId}|${r.code}`;
    const entry = counts.get(key) ?? { metricId: r.metricId, reason: r.code, count: 0 };
    entry.count++;
    counts.set(key, entry);
  }
  await recordMeasureRefusals(store, [...counts.values()], { now: options.now, dedupToken: `${token}:refusals` });

  const perMetric = new Map<string, WriteMeasuresResult>();
  for (const metricId of byMetric.keys()) perMetric.set(metricId, { accepted: 0, refused: [] });
  for (const m of accepted) (perMetric.get(m.metricId) as { accepted: number }).accepted++;
  for (const r of refused) perMetric.get(r.metricId)?.refused.push(r);
  return { accepted: accepted.length, refused, perMetric };
}

export interface MeasureRefusalCount {
  readonly metricId: string;
  readonly reason: MeasureRefusalReason;
  readonly count: number;
}

/**
 * Counts refused measures per metric and reason (`measure_refusals`, summed by
 * ClickHouse). The pipeline's sample writer calls it with the refusals of a chunk and the
 * chunk's deduplication token, so a replayed chunk is not counted twice.
 */
export async function recordMeasureRefusals(store: ClickHouseDriver, counts: readonly MeasureRefusalCount[], options: WriteOptions): Promise<void> {
  const rows = counts.filter((c) => c.count > 0).map((c) => ({ metric_id: c.metricId, reason: c.reason, refused: c.count, last_refused_at: chTime(options.now.getTime()) }));
  if (rows.length === 0) return;
  await store.insert('measure_refusals', rows, options.dedupToken === undefined ? {} : { dedupToken: options.dedupToken });
}

export interface MeasureRefusalRow {
  metric_id: string;
  reason: MeasureRefusalReason;
  /** A count (64-bit integers read back as strings). */
  refused: number | string;
  /** ClickHouse DateTime64(3) text, UTC. */
  last_refused_at: string;
}

/** Per metric and reason, the refused measures so far and when the last one was refused. */
export function selectMeasureRefusals(metricIds: readonly string[]): BoundQuery {
  return {
    sql: `SELECT metric_id, reason, sum(refused) AS refused, max(last_refused_at) AS last_refused_at
      FROM measure_refusals WHERE metric_id IN {metric_ids:Array(UUID)}
      GROUP BY metric_id, reason ORDER BY metric_id, reason`,
    params: { metric_ids: [...metricIds] },
  };
}
