/**
 * Gnocchi's back window, as carbonara's BoundTimeSerie applies it (set_values and
 * first_block_timestamp): a metric's incoming batch may not reach further back than
 *
 *   floor(newest, block) - block x back_window
 *
 * where `newest` is the metric's newest measure stored *before* this batch (the batch's own
 * measures never move the bar for each other), `block` is the policy's largest
 * granularity, and back_window gains one block when the policy keeps a `rate:` method
 * (Gnocchi keeps one more block to derive rates). A metric with nothing stored takes
 * everything. Pure: no I/O, no clock.
 */
import { hasRateMethod, maxBlockSize, type ArchivePolicy } from './archive-policies.ts';

export interface BackWindowMeasure {
  readonly metricId: string;
  /** The measure's time, milliseconds since the epoch. */
  readonly timestampMs: number;
}

export const MEASURE_BEFORE_BACK_WINDOW = 'CUMULUS_PIPELINE_MEASURE_BEFORE_BACK_WINDOW';

export interface RefusedMeasure<M extends BackWindowMeasure> {
  readonly measure: M;
  readonly code: typeof MEASURE_BEFORE_BACK_WINDOW;
  readonly reason: string;
}

export interface BackWindowResult<M extends BackWindowMeasure> {
  /** In input order. */
  readonly accepted: M[];
  readonly refused: RefusedMeasure<M>[];
  /** Per metric of the batch, its newest time once the accepted measures are stored (ms). */
  readonly newest: Map<string, number>;
}

/** Blocks before the newest one that stay open: back_window, plus one when rates are kept. */
export const effectiveBackWindow = (policy: ArchivePolicy): number => policy.back_window + (hasRateMethod(policy) ? 1 : 0);

/** The oldest time (ms) a measure may have, given the newest stored one (ms). */
export function oldestAcceptedMs(newestMs: number, policy: ArchivePolicy): number {
  const blockMs = maxBlockSize(policy) * 1000;
  return Math.floor(newestMs / blockMs) * blockMs - blockMs * effectiveBackWindow(policy);
}

/**
 * Splits one batch into accepted and refused measures.
 * @param newestBefore per metric, its newest stored measure time (ms), exact or already
 *   rounded down to its block (the rule uses it only rounded); absent = nothing stored.
 * @param policyOf the metric's archive policy (the resolver's answer for its name).
 */
export function applyBackWindow<M extends BackWindowMeasure>(measures: readonly M[], newestBefore: ReadonlyMap<string, number>, policyOf: (measure: M) => ArchivePolicy): BackWindowResult<M> {
  const accepted: M[] = [];
  const refused: RefusedMeasure<M>[] = [];
  const newest = new Map<string, number>();
  // The bar per metric is fixed by what was stored before the batch, so compute it once.
  const bars = new Map<string, number | undefined>();
  for (const measure of measures) {
    const before = newestBefore.get(measure.metricId);
    const policy = policyOf(measure);
    let bar = bars.get(measure.metricId);
    if (!bars.has(measure.metricId)) {
      bar = before === undefined ? undefined : oldestAcceptedMs(before, policy);
      bars.set(measure.metricId, bar);
    }
    const known = newest.get(measure.metricId) ?? before;
    if (bar === undefined || measure.timestampMs >= bar) {
      accepted.push(measure);
      newest.set(measure.metricId, known === undefined ? measure.timestampMs : Math.max(known, measure.timestampMs));
      continue;
    }
    if (known !== undefined) newest.set(measure.metricId, known);
    const blockMs = maxBlockSize(policy) * 1000;
    refused.push({
      measure,
      code: MEASURE_BEFORE_BACK_WINDOW,
      reason:
        `measure of metric ${measure.metricId} at ${new Date(measure.timestampMs).toISOString()} is before its back window: ` +
        `the newest stored measure lies in the block from ${new Date(Math.floor((before as number) / blockMs) * blockMs).toISOString()}, ` +
        `so policy ${policy.name} (back_window ${policy.back_window}${hasRateMethod(policy) ? ' + 1 for rates' : ''}, blocks of ${blockMs / 1000} s) ` +
        `accepts measures from ${new Date(bar).toISOString()} on`,
    });
  }
  return { accepted, refused, newest };
}
