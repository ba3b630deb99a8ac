/**
 * A ClickHouse server over HTTP (`CLICKHOUSE_URL`) behind the {@link ClickHouseDriver}
 * contract, on @clickhouse/client. Same SQL, same bound `{name:Type}` parameters, same
 * results as the embedded chDB driver: both pin the same session settings and insert
 * settings (PINNED_SETTINGS / INSERT_SETTINGS in chdb-driver.ts, documented there) and
 * prepare parameters the same way; the shared contract test checks that both answer alike.
 *
 * Parameters are formatted by the client (`param_<name>` URL parameters): a JS `Date`
 * (at any depth, converted by toBoundParams) travels as Unix seconds with a millisecond
 * fraction (exact for DateTime64(3)), arrays, maps and `TupleParam` as ClickHouse literals,
 * `null` as NULL. Differences from chDB's own formatting: booleans travel as 1/0, and
 * NaN/±Infinity and integers beyond 2^53 are sent rather than refused (pass bigint for
 * 64-bit values anyway). Parameters longer than the server's URL limit
 * (`http_max_uri_size`, 1 MiB by default) do not fit.
 *
 * The password is never logged nor put into an error message: credentials embedded in the
 * URL are moved out of it, the client's own logging is off (failures surface as our
 * errors), and any message that would still contain the password is redacted.
 */
import { Readable } from 'node:stream';
import { ClickHouseError, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import type { ClickHouseClient } from '@clickhouse/client';
import type { BoundQuery, ClickHouseDriver, InsertOptions } from './driver.ts';
import { ConfigError, TransportError, errorMessage } from '../core/errors.ts';
// Shared formatting helpers only: importing chdb-driver.ts does not load the chDB engine.
import { INSERT_SETTINGS, NATIVE_INSERT_SETTINGS, PINNED_SETTINGS, sqlExcerpt, stringifyRow, toBoundParams } from './chdb-driver.ts';
import { nativeBlockPieces, nativeColumnList, type NativeBlock } from './native-block.ts';

export interface HttpDriverConfig {
  /** e.g. `http://clickhouse:8123`; credentials in it are accepted and moved out of it. */
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  readonly database?: string;
  /** Per-request timeout in milliseconds (client default 30 000). */
  readonly requestTimeoutMs?: number;
}

export function createHttpDriver(config: HttpDriverConfig): ClickHouseDriver {
  let url: URL;
  try {
    url = new URL(config.url);
  } catch (err) {
    throw new ConfigError(`clickhouseUrl must be an absolute http(s) URL such as http://clickhouse:8123; got an unparsable value`, err);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`clickhouseUrl must use http: or https:, got ${url.protocol}`);
  }
  const username = config.username ?? (url.username !== '' ? decodeURIComponent(url.username) : undefined);
  const password = config.password ?? (url.password !== '' ? decodeURIComponent(url.password) : undefined);
  url.username = '';
  url.password = '';
  const where = url.origin;

  const client: ClickHouseClient = createClient({
    url: url.toString(),
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(config.database !== undefined ? { database: config.database } : {}),
    ...(config.requestTimeoutMs !== undefined ? { request_timeout: config.requestTimeoutMs } : {}),
    application: 'cumulus',
    // Plain bodies both ways: nothing to negotiate, and the chDB test endpoint needs none.
    compression: { request: false, response: false },
    clickhouse_settings: { ...PINNED_SETTINGS },
    json: { parse: JSON.parse, stringify: stringifyRow },
    log: { level: ClickHouseLogLevel.OFF },
  });

  let closed = false;
  let closing: Promise<void> | undefined;
  const inFlight = new Set<Promise<unknown>>();

  const redact = (text: string): string =>
    password !== undefined && password.length > 0 ? text.split(password).join('[redacted]') : text;

  function run<T>(sql: string, op: () => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(closedError());
    const p = (async () => {
      try {
        return await op();
      } catch (err) {
        throw queryFailed(err, sql, where, redact);
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

  return {
    kind: 'http',

    query<T = Record<string, unknown>>(q: BoundQuery): Promise<T[]> {
      return run(q.sql, async () => {
        const rs = await client.query({
          query: q.sql,
          ...(q.params !== undefined ? { query_params: toBoundParams(q.params) } : {}),
          format: 'JSONEachRow',
        });
        return rs.json<T>();
      });
    },

    command(q: BoundQuery): Promise<void> {
      return run(q.sql, async () => {
        await client.command({
          query: q.sql,
          ...(q.params !== undefined ? { query_params: toBoundParams(q.params) } : {}),
          // The server answers only once the statement is done, so a failure is an HTTP
          // error rather than a truncated 200.
          clickhouse_settings: { wait_end_of_query: 1 },
        });
      });
    },

    insert(table: string, rows: readonly object[], options: InsertOptions = {}): Promise<void> {
      const sql = `INSERT INTO ${table} FORMAT JSONEachRow`;
      return run(sql, async () => {
        if (rows.length === 0) return;
        await client.insert({
          table,
          values: rows as object[],
          format: 'JSONEachRow',
          clickhouse_settings: {
            ...INSERT_SETTINGS,
            wait_end_of_query: 1,
            ...(options.dedupToken !== undefined ? { insert_deduplication_token: options.dedupToken } : {}),
          },
        });
      });
    },

    insertJsonEachRow(table: string, text: string, options: InsertOptions = {}): Promise<void> {
      const sql = `INSERT INTO ${table} FORMAT JSONEachRow`;
      return run(sql, async () => {
        if (text === '') return;
        // client.insert() takes objects (or an object stream) for JSON formats; exec() sends
        // the text as the request body, under the same settings as insert().
        const result = await client.exec({
          query: sql,
          values: Readable.from([Buffer.from(text, 'utf8')], { objectMode: false }),
          clickhouse_settings: {
            ...INSERT_SETTINGS,
            wait_end_of_query: 1,
            ...(options.dedupToken !== undefined ? { insert_deduplication_token: options.dedupToken } : {}),
          },
        });
        for await (const _chunk of result.stream) {
          // The answer of an insert is empty; read to its end so the socket is reused.
        }
      });
    },

    insertNative(table: string, block: NativeBlock, options: InsertOptions = {}): Promise<void> {
      const sql = `INSERT INTO ${table} ${nativeColumnList(block)} FORMAT Native`;
      return run(sql, async () => {
        if (block.rows === 0) return;
        const result = await client.exec({
          query: sql,
          values: Readable.from(nativeBlockPieces(block), { objectMode: false }),
          clickhouse_settings: {
            ...INSERT_SETTINGS,
            ...NATIVE_INSERT_SETTINGS,
            wait_end_of_query: 1,
            ...(options.dedupToken !== undefined ? { insert_deduplication_token: options.dedupToken } : {}),
          },
        });
        for await (const _chunk of result.stream) {
          // Empty answer; read to its end so the socket is reused.
        }
      });
    },

    close(): Promise<void> {
      if (closing !== undefined) return closing;
      closed = true;
      closing = (async () => {
        await Promise.allSettled([...inFlight]);
        await client.close();
      })();
      return closing;
    },
  };
}

function closedError(): TransportError {
  return new TransportError('CUMULUS_STORAGE_CLOSED', 'The ClickHouse driver (http) is closed; open a new one.');
}

function queryFailed(err: unknown, sql: string, where: string, redact: (s: string) => string): TransportError {
  if (err instanceof TransportError) return err;
  const excerpt = sqlExcerpt(sql);
  if (err instanceof ClickHouseError) {
    return new TransportError(
      'CUMULUS_STORAGE_QUERY_FAILED',
      redact(`ClickHouse at ${where} rejected the statement (code ${err.code} ${err.type ?? ''}): ${err.message} -- SQL: ${excerpt}`),
      err,
    );
  }
  return new TransportError(
    'CUMULUS_STORAGE_QUERY_FAILED',
    redact(`ClickHouse at ${where} failed: ${errorMessage(err)} -- SQL: ${excerpt}`),
    err,
  );
}
