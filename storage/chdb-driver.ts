/**
 * The embedded engine: chDB (ClickHouse in-process) behind the {@link ClickHouseDriver}
 * contract. One `Session` per driver, at `dataDir`.
 *
 * chDB facts this file is built around (chdb 3.4, libchdb 26.7):
 * - libchdb binds ONE data directory per process. A second driver at the same directory
 *   coexists (each gets its own connection); a driver at a different directory can only
 *   open once every earlier one is closed and drained. Opening one that cannot be opened
 *   throws `CUMULUS_STORAGE_OPEN_FAILED`.
 * - Closing a connection while an operation still runs on it aborts the engine for the
 *   whole process, so `close()` waits for our own in-flight calls, closes the session and
 *   then awaits chdb's `drainPending()` before it resolves.
 * - Only the async entry points are used (`queryAsync`, `queryBindAsync`, `insert`); the
 *   blocking `query()` would freeze the event loop.
 *
 * Parameter binding (`{name:Type}` placeholders, bound by the engine, never spliced):
 * chdb formats each JS value into ClickHouse's text form and the engine parses it as the
 * placeholder's type. What was checked against the engine:
 * - String: any text, including quotes, backslashes, tabs and newlines, stays a literal.
 * - UInt32 / Float64 / Int*: JS numbers. Integers beyond ±2^53 are refused by chdb (pass a
 *   `bigint` for 64-bit values). NaN / Infinity are refused.
 * - Array(String), Array(T): JS arrays (also empty ones); Map(K, V): a JS `Map` or a plain
 *   object; Tuple: `TupleParam` from @clickhouse/client; `null`/`undefined` -> NULL
 *   (for a `Nullable(T)` placeholder only).
 * - DateTime64(n) / DateTime: chdb's own Date formatting drops the milliseconds and writes
 *   the UTC wall clock that the engine then reads in the *session* timezone, so a JS `Date`
 *   is converted here, at any depth (arrays, maps), to Unix seconds with a millisecond
 *   fraction (`1704164645.678`), exactly what @clickhouse/client sends over HTTP. That form
 *   is timezone-agnostic and exact for `DateTime64(3)`. Limits: a `DateTime` (seconds)
 *   placeholder accepts a `Date` only when its milliseconds are 0; a `Date` placeholder
 *   needs a `'YYYY-MM-DD'` string; ISO strings with `T`/`Z` are NOT accepted as parameter
 *   text (parameters are parsed strictly, not best-effort), pass a `Date` instead, or a
 *   `'YYYY-MM-DD hh:mm:ss[.fff]'` string, which is read as UTC (see PINNED_SETTINGS).
 * - Booleans bind as `true`/`false`: fine for `Bool`, rejected by a `UInt8` placeholder.
 */
import fs from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Session } from 'chdb';
import type { BoundQuery, ClickHouseDriver, InsertOptions } from './driver.ts';
import { nativeBlockPieces, nativeColumnList, nativeStructure, type NativeBlock } from './native-block.ts';
import { TransportError, errorMessage } from '../core/errors.ts';

export interface ChdbDriverConfig {
  /** Directory holding the embedded database; created if missing. */
  readonly dataDir: string;
}

/**
 * Settings pinned on every connection so that both drivers answer alike whatever the
 * engine version or the host's timezone (http-driver.ts sends these same objects):
 * - 64-bit integers come back as JSON strings (ClickHouse >= 25.8 writes bare numbers by
 *   default, which JSON.parse rounds beyond 2^53; older servers quote them). So `count()`
 *   and any (U)Int64 read back as a string: convert with Number()/BigInt() where needed.
 * - `session_timezone = UTC`: DateTime text in and out is UTC, not the host's zone.
 * - `date_time_input_format = best_effort`: inserted rows may carry ISO-8601 timestamps
 *   (what JSON.stringify makes of a Date).
 */
export const PINNED_SETTINGS = {
  output_format_json_quote_64bit_integers: 1,
  session_timezone: 'UTC',
  date_time_input_format: 'best_effort',
} as const;

/**
 * Settings every insert carries (both drivers):
 * - `async_insert = 0`: the insert is written (and deduplicated) before the promise
 *   resolves, on every server version. ClickHouse >= 26.2 (and chDB 26.7) enables async
 *   inserts by default; before 26.2 async inserts are deduplicated only with
 *   `async_insert_deduplicate = 1`, and from 24.3 to 26.0 an async insert with the MV
 *   setting below throws (`throw_if_deduplication_in_dependent_materialized_views_enabled_with_async_insert`).
 * - `deduplicate_blocks_in_dependent_materialized_views = 1`: a replayed insert is also
 *   dropped by the materialized views' target tables (default 0 before 26.2). The target
 *   table must have deduplication itself (Replicated*, or MergeTree with
 *   `non_replicated_deduplication_window`), otherwise its rows are written again.
 */
/** Added to Native inserts (see ClickHouseDriver.insertNative). */
export const NATIVE_INSERT_SETTINGS = { optimize_on_insert: 0 } as const;

export const INSERT_SETTINGS = {
  async_insert: 0,
  deduplicate_blocks_in_dependent_materialized_views: 1,
} as const;

const SQL_IN_MESSAGE_CHARS = 200;

type ChdbModule = typeof import('chdb');
let chdbModule: ChdbModule | undefined;

/**
 * chdb (and its native libchdb) loads on the first createChdbDriver, not on import: the
 * http driver and index.ts import this module for its shared helpers, and a deployment
 * that talks to a ClickHouse server must not need (or pay for) the embedded engine.
 */
function loadChdb(): ChdbModule {
  chdbModule ??= createRequire(import.meta.url)('chdb') as ChdbModule;
  return chdbModule;
}

interface ChdbInternals {
  readonly dataDir: string;
  isClosed(): boolean;
}

const internals = new WeakMap<ClickHouseDriver, ChdbInternals>();

/**
 * Lower-level hook for test tooling (the chDB HTTP endpoint): the absolute data directory
 * of an open chdb driver, or `undefined` for another kind of driver or a closed one.
 * Another `Session` at that same directory shares the engine and its data.
 */
export function chdbDataDirOf(driver: ClickHouseDriver): string | undefined {
  const found = internals.get(driver);
  return found === undefined || found.isClosed() ? undefined : found.dataDir;
}

export function createChdbDriver(config: ChdbDriverConfig): ClickHouseDriver {
  const dataDir = path.resolve(config.dataDir);
  let session: Session;
  let drainPending: () => Promise<void>;
  try {
    fs.mkdirSync(dataDir, { recursive: true });
    const chdb = loadChdb();
    drainPending = chdb.drainPending;
    session = new chdb.Session(dataDir, {
      connectionArgs: Object.entries(PINNED_SETTINGS).map(([k, v]) => `--${k}=${v}`),
    });
  } catch (err) {
    throw new TransportError(
      'CUMULUS_STORAGE_OPEN_FAILED',
      `Could not open the embedded ClickHouse (chDB) at ${dataDir}: ${errorMessage(err)}. ` +
        'chDB holds one data directory per process: close every driver at another directory first.',
      err,
    );
  }

  let closed = false;
  let closing: Promise<void> | undefined;
  const inFlight = new Set<Promise<unknown>>();

  function run<T>(sql: string, op: () => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(closedError());
    const p = (async () => {
      try {
        return await op();
      } catch (err) {
        throw queryFailed(err, sql);
      }
    })();
    const tracked = p.then(
      () => undefined,
      () => undefined,
    );
    inFlight.add(tracked);
    void tracked.then(() => inFlight.delete(tracked));
    return p;
  }

  const driver: ClickHouseDriver = {
    kind: 'chdb',

    query<T = Record<string, unknown>>(q: BoundQuery): Promise<T[]> {
      return run(q.sql, async () => {
        const result = await session.queryBindAsync(q.sql, toBoundParams(q.params), { format: 'JSONEachRow' });
        return parseJsonEachRow<T>(result.text());
      });
    },

    command(q: BoundQuery): Promise<void> {
      return run(q.sql, async () => {
        if (q.params === undefined || Object.keys(q.params).length === 0) {
          await session.queryAsync(q.sql, { format: 'TabSeparated' });
        } else {
          await session.queryBindAsync(q.sql, toBoundParams(q.params), { format: 'TabSeparated' });
        }
      });
    },

    insert(table: string, rows: readonly object[], options: InsertOptions = {}): Promise<void> {
      const sql = `INSERT INTO ${table} FORMAT JSONEachRow`;
      return run(sql, async () => {
        if (rows.length === 0) return;
        await session.insert({ table, values: toJsonEachRow(rows), format: 'JSONEachRow', settings: insertSettings(options) });
      });
    },

    insertJsonEachRow(table: string, text: string, options: InsertOptions = {}): Promise<void> {
      const sql = `INSERT INTO ${table} FORMAT JSONEachRow`;
      return run(sql, async () => {
        if (text === '') return;
        await session.insert({ table, values: Buffer.from(text, 'utf8'), format: 'JSONEachRow', settings: insertSettings(options) });
      });
    },

    insertNative(table: string, block: NativeBlock, options: InsertOptions = {}): Promise<void> {
      const columns = nativeColumnList(block);
      const sql = `INSERT INTO ${table} ${columns} SELECT ${columns.slice(1, -1)} FROM file({file:String}, Native, {structure:String})`;
      return run(sql, async () => {
        if (block.rows === 0) return;
        // chdb's insert() takes text formats only; the engine reads a Native block from a
        // file (in memory-backed /dev/shm where there is one), removed once inserted.
        const file = path.join(nativeSpoolDir(), `cumulus-native-${process.pid}-${++nativeFiles}.bin`);
        try {
          const handle = await fs.promises.open(file, 'w');
          try {
            await handle.writev(nativeBlockPieces(block));
          } finally {
            await handle.close();
          }
          // Numbers are ours (constants); text settings (the token) travel as bound parameters.
          const params: Record<string, unknown> = { file, structure: nativeStructure(block) };
          const settings = Object.entries({ ...insertSettings(options), ...NATIVE_INSERT_SETTINGS }).map(([k, v]) => {
            if (typeof v === 'number') return `${k} = ${v}`;
            params[`setting_${k}`] = v;
            return `${k} = {setting_${k}:String}`;
          });
          await session.queryBindAsync(`${sql} SETTINGS ${settings.join(', ')}`, params, { format: 'TabSeparated' });
        } finally {
          await fs.promises.rm(file, { force: true });
        }
      });
    },

    close(): Promise<void> {
      if (closing !== undefined) return closing;
      closed = true;
      closing = (async () => {
        // Let our own calls finish, then release the connection and wait until chdb has
        // really destroyed it: a connection torn down under a running operation aborts
        // the engine for the rest of the process.
        await Promise.allSettled([...inFlight]);
        session.close();
        await drainPending();
      })();
      return closing;
    },
  };

  internals.set(driver, { dataDir, isClosed: () => closed });
  return driver;
}

let nativeFiles = 0;
let spoolDir: string | undefined;
/** Where Native blocks wait for the engine: /dev/shm when writable (no disk write), else the temp directory. */
function nativeSpoolDir(): string {
  if (spoolDir === undefined) {
    try {
      fs.accessSync('/dev/shm', fs.constants.W_OK);
      spoolDir = '/dev/shm';
    } catch {
      spoolDir = os.tmpdir();
    }
  }
  return spoolDir;
}

function insertSettings(options: InsertOptions): Record<string, string | number> {
  const settings: Record<string, string | number> = { ...INSERT_SETTINGS };
  if (options.dedupToken !== undefined) settings.insert_deduplication_token = options.dedupToken;
  return settings;
}

function closedError(): TransportError {
  return new TransportError('CUMULUS_STORAGE_CLOSED', 'The ClickHouse driver (chdb) is closed; open a new one.');
}

function queryFailed(err: unknown, sql: string): TransportError {
  if (err instanceof TransportError) return err;
  const code = (err as { clickhouseCode?: unknown } | null)?.clickhouseCode;
  const codePart = typeof code === 'number' ? ` (ClickHouse code ${code})` : '';
  return new TransportError(
    'CUMULUS_STORAGE_QUERY_FAILED',
    `chDB rejected the statement${codePart}: ${errorMessage(err)} -- SQL: ${sqlExcerpt(sql)}`,
    err,
  );
}

// Helpers below are shared with http-driver.ts, so that both drivers format alike.

/** The first 200 characters of a statement, on one line, for error messages. */
export function sqlExcerpt(sql: string): string {
  const oneLine = sql.replace(/\s+/g, ' ').trim();
  return oneLine.length > SQL_IN_MESSAGE_CHARS ? `${oneLine.slice(0, SQL_IN_MESSAGE_CHARS)}...` : oneLine;
}

export function parseJsonEachRow<T>(text: string): T[] {
  const rows: T[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() !== '') rows.push(JSON.parse(line) as T);
  }
  return rows;
}

const bigintAsString = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);

/** JSON.stringify, with bigint written as a decimal string (ClickHouse reads quoted integers). */
export function stringifyRow(row: unknown): string {
  // Without a replacer JSON.stringify takes its fast path (about twice as fast); it throws
  // on a bigint, and only then is the row written again with the replacer.
  try {
    return JSON.stringify(row);
  } catch (err) {
    if (err instanceof TypeError) return JSON.stringify(row, bigintAsString);
    throw err;
  }
}

function toJsonEachRow(rows: readonly object[]): Buffer {
  let text = '';
  for (const row of rows) text += `${stringifyRow(row)}\n`;
  return Buffer.from(text, 'utf8');
}

/**
 * A `Date` as a query parameter: Unix seconds with a millisecond fraction, the form
 * @clickhouse/client sends too. Timezone-agnostic; exact for DateTime64(3). A whole second
 * is written without a fraction, so it also binds to `DateTime`.
 */
export function dateParamText(d: Date): string {
  const ms = d.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('Invalid Date given as a query parameter');
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  const seconds = Math.floor(abs / 1000);
  const frac = abs % 1000;
  return frac === 0 ? `${sign}${seconds}` : `${sign}${seconds}.${String(frac).padStart(3, '0')}`;
}

/**
 * Query parameters as both drivers send them: every `Date`, at any depth, replaced by
 * {@link dateParamText}, everything else as is. (Needed by the http driver too: the client
 * writes a Date nested in an array unquoted, which the server refuses to parse.)
 */
export function toBoundParams(params: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (params === undefined) return out;
  for (const [name, value] of Object.entries(params)) out[name] = convertDates(value);
  return out;
}

function convertDates(value: unknown): unknown {
  if (value instanceof Date) return dateParamText(value);
  if (Array.isArray(value)) return value.map(convertDates);
  if (value instanceof Map) {
    const m = new Map<unknown, unknown>();
    for (const [k, v] of value) m.set(convertDates(k), convertDates(v));
    return m;
  }
  if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    const ctor = (value as { constructor?: { name?: string } }).constructor;
    const values = (value as { values?: unknown }).values;
    // @clickhouse/client's TupleParam: chdb recognises it by its class name and `.values`.
    if (ctor?.name === 'TupleParam' && Array.isArray(values)) {
      return new (ctor as unknown as new (v: unknown[]) => unknown)(values.map(convertDates));
    }
    if (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null) {
      const o: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) o[k] = convertDates(v);
      return o;
    }
  }
  return value;
}
