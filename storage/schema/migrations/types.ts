/**
 * The ClickHouse schema is a list of migrations, in order, one file each under
 * storage/schema/migrations/. A migration is a list of statements; never edit one that
 * has shipped: append a new one. Tables keep a deduplication window so an insert retried
 * with the same `insert_deduplication_token` is dropped, rollups included.
 */
export interface Migration {
  id: number;
  name: string;
  statements: readonly string[];
}

/** Inserts remembered per table for deduplication (ClickHouse's default for non-replicated tables is 0: off). */
export const DEDUP_WINDOW = 10_000;
