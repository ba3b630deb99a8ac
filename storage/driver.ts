/**
 * The one contract every ClickHouse engine behind Cumulus meets: chDB in-process
 * (embedded default) or a ClickHouse server over HTTP (`CLICKHOUSE_URL`). The SQL is the
 * same for both; values only ever travel as bound `{name:Type}` parameters.
 */
import type { NativeBlock } from './native-block.ts';

export interface BoundQuery {
  /** SQL text with `{name:Type}` placeholders; never a spliced value. */
  readonly sql: string;
  /** Values for the placeholders, by name. */
  readonly params?: Readonly<Record<string, unknown>>;
}

export interface InsertOptions {
  /**
   * ClickHouse `insert_deduplication_token`: an insert retried with the same token
   * (and the same rows) is dropped by the table, which is how replays stay exact.
   */
  readonly dedupToken?: string;
}

export interface ClickHouseDriver {
  /** `chdb` (in-process) or `http` (@clickhouse/client). */
  readonly kind: 'chdb' | 'http';
  /** Runs a SELECT and returns its rows as objects (JSONEachRow). */
  query<T = Record<string, unknown>>(q: BoundQuery): Promise<T[]>;
  /** Runs a statement that returns nothing (DDL, ALTER, SET-less commands). */
  command(q: BoundQuery): Promise<void>;
  /** Inserts rows as JSONEachRow into `table` (a trusted identifier, never user input). */
  insert(table: string, rows: readonly object[], options?: InsertOptions): Promise<void>;
  /**
   * Inserts rows the caller already wrote as JSONEachRow text: one JSON object per line,
   * each line ending with `\n` (`''` inserts nothing). The same insert as {@link insert}
   * (settings, token, errors), for hot paths that know their row shape and can write the
   * text faster than a generic serializer; the text is sent as it is.
   */
  insertJsonEachRow(table: string, text: string, options?: InsertOptions): Promise<void>;
  /**
   * Inserts a block of ClickHouse's Native format (./native-block.ts) into the block's
   * columns of `table`: no text to parse, so the fastest way in (the measure path). Same
   * settings, token and errors as {@link insert}, plus `optimize_on_insert = 0`: rows of an
   * AggregatingMergeTree are merged by the background merges and the readers' GROUP BY,
   * not sorted and merged once more inside every insert.
   */
  insertNative(table: string, block: NativeBlock, options?: InsertOptions): Promise<void>;
  /** Flushes and releases the engine; idempotent. */
  close(): Promise<void>;
}
