import type { Migration } from './types.ts';

/**
 * Raw measures outlive the buckets they feed: percentiles and rates are computed from them
 * at read time, so each row is kept for its policy's longest retention plus one coarsest
 * granularity (a rate's previous measure may lie one bucket earlier), and never less than
 * the 400 days migration 1 gave every row. Idempotent: setting the same TTL again is a no-op.
 */
export const MEASURES_RETENTION: Migration = {
  id: 2,
  name: 'raw measures kept for their policy retention',
  statements: [
    // Only lengthens lifetimes, so rewriting every existing part for it would be wasted I/O.
    `ALTER TABLE measures MODIFY TTL toDateTime(ts) + toIntervalSecond(greatest(arrayMax(retentions) + arrayMax(granularities), 400 * 86400))
    SETTINGS materialize_ttl_after_modify = 0`,
  ],
};
