import type { Migration } from './types.ts';

/** A rollup state column as (time, value) tuples; `min` keeps the earliest, `max` the latest measure. */
const STATE_OF = (column: 'first' | 'last') =>
  `(fromUnixTimestamp64Micro(reinterpretAsInt64(substring(unhex(hex(${column})), 11, 8)), 'UTC'), reinterpretAsFloat64(substring(unhex(hex(${column})), 2, 8)))`;

/**
 * The rollups are written by the measure insert itself (storage/measure-insert.ts: the
 * writer computes each bucket's states and inserts them as a Native block beside the raw
 * measures), so the materialized view that aggregated every measures insert goes
 * (docs/archive-policies.md, "Ingestion speed").
 *
 * First and last become plain (time, value) tuples merged by min and max: the engine
 * reads them from a Native block as two fixed-width columns, where the argMin/argMax
 * states it replaces were deserialized one by one (about 3x the insert cost of the whole
 * row). The existing states are converted in place: a state's bytes are
 * `[1][value Float64][1][time Int64]` (storage/native-block.ts), read back here with
 * reinterpret. Ties on one time keep the smaller value first and the larger last.
 *
 * Deployments upgrade by stopping the writers, migrating, then starting the new writers:
 * a writer of the previous version after this migration would store measures without
 * rollups. The conversion is a synchronous mutation of the rollups' parts.
 */
export const ROLLUPS_WRITTEN_BY_WRITERS: Migration = {
  id: 9,
  name: 'rollups written by the measure insert, first and last as (time, value)',
  statements: [
    'DROP VIEW IF EXISTS rollups_mv',
    `ALTER TABLE rollups
      ADD COLUMN IF NOT EXISTS first_measure SimpleAggregateFunction(min, Tuple(DateTime64(6, 'UTC'), Float64)),
      ADD COLUMN IF NOT EXISTS last_measure SimpleAggregateFunction(max, Tuple(DateTime64(6, 'UTC'), Float64))`,
    `ALTER TABLE rollups UPDATE first_measure = ${STATE_OF('first')}, last_measure = ${STATE_OF('last')} WHERE 1 SETTINGS mutations_sync = 2`,
    'ALTER TABLE rollups DROP COLUMN IF EXISTS first, DROP COLUMN IF EXISTS last',
  ],
};
