/**
 * TEST-ONLY. Never start this in production: it has no authentication, no limits, and runs
 * whatever SQL it is sent (multi-statement included) on the embedded engine.
 *
 * A small ClickHouse-HTTP-interface look-alike over chDB, so that @clickhouse/client (and
 * with it the `http` driver) can run end to end in tests without a ClickHouse server. It
 * serves the chDB data directory of an open `chdb` driver: same engine, same tables.
 *
 * What it speaks (checked against @clickhouse/client 1.23's sources):
 * - `GET|HEAD /ping` and `GET /` without a query -> `Ok.\n`.
 * - `POST /` (and `GET /?query=`): the SQL is the `query` URL parameter, the request body,
 *   or both joined by a newline, as ClickHouse does. `query()` and `command()` send the SQL
 *   as the body (the client appends ` \nFORMAT <fmt>` for `query()`), `insert()` sends
 *   `INSERT INTO t [(cols)] FORMAT <fmt>` in `query` and the rows as the body.
 * - `param_<name>` URL parameters are bound to `{name:Type}` placeholders verbatim, as the
 *   text the client formatted (not re-escaped).
 * - Every other URL parameter is a setting for this one request (`insert_deduplication_token`,
 *   `async_insert`, `date_time_input_format`, `session_timezone`, ...). HTTP-interface
 *   parameters that are not settings are handled or ignored: `database` (USE), `default_format`
 *   (format when the SQL has no FORMAT clause; TabSeparated otherwise), `query_id` (echoed),
 *   `wait_end_of_query` (always so: the result is buffered), `enable_http_compression`
 *   (honoured with Accept-Encoding gzip/deflate/br), `session_id`, `role`, `user`, ... (ignored:
 *   no server sessions, no access control). An unknown setting fails like on a server.
 * - Request bodies with `Content-Encoding: gzip|deflate|br` are decompressed. Multipart
 *   bodies (`use_multipart_params`) are refused: the drivers never send them.
 * - Errors: HTTP 500, body `Code: N. DB::Exception: ... (TYPE)`, header
 *   `X-ClickHouse-Exception-Code`, which is what the client turns into a ClickHouseError.
 * - `X-ClickHouse-Summary` carries the read counters and elapsed time (written counters are 0).
 *
 * Isolation: each request runs on its own chDB connection to the driver's data directory
 * (libchdb lets connections to the same directory coexist; opening one takes about a
 * millisecond), because the per-request settings and parameters are applied with `SET` and
 * a `SET` lasts as long as the connection: on a shared one, a request's
 * `insert_deduplication_token` would silently apply to the next insert.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import zlib from 'node:zlib';
import { Session } from 'chdb';
import type { ClickHouseDriver } from './driver.ts';
import { chdbDataDirOf } from './chdb-driver.ts';

export interface ChdbHttpEndpointOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  readonly host?: '127.0.0.1';
}

export interface ChdbHttpEndpoint {
  /** e.g. `http://127.0.0.1:40123`, for `createHttpDriver({ url })`. */
  readonly url: string;
  /** Stops accepting requests, drops idle keep-alive sockets, waits for running requests. */
  close(): Promise<void>;
}

/** URL parameters of the HTTP interface that are not settings to `SET`. */
const NOT_SETTINGS = new Set([
  'query',
  'query_id',
  'database',
  'default_format',
  'user',
  'password',
  'quota_key',
  'session_id',
  'session_timeout',
  'session_check',
  'role',
  'compress',
  'decompress',
  'buffer_size',
  'wait_end_of_query',
  'enable_http_compression',
  'http_zlib_compression_level',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'stacktrace',
  'client_protocol_version',
]);

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

class EndpointError extends Error {
  constructor(
    readonly code: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startChdbHttpEndpoint(
  driver: ClickHouseDriver,
  options: ChdbHttpEndpointOptions = {},
): Promise<ChdbHttpEndpoint> {
  if (driver.kind !== 'chdb' || chdbDataDirOf(driver) === undefined) {
    throw new Error('startChdbHttpEndpoint needs an open driver made by createChdbDriver');
  }
  const running = new Set<Promise<void>>();
  const server = http.createServer((req, res) => {
    const p = handle(driver, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
    running.add(p);
    void p.finally(() => running.delete(p));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await Promise.allSettled([...running]);
        server.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
}

async function handle(driver: ClickHouseDriver, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://endpoint');
  const queryId = url.searchParams.get('query_id') ?? randomUUID();
  res.setHeader('X-ClickHouse-Query-Id', queryId);
  const method = req.method ?? 'GET';

  if (url.pathname === '/ping' && (method === 'GET' || method === 'HEAD')) {
    req.resume();
    return send(res, 200, 'text/plain; charset=UTF-8', Buffer.from('Ok.\n'));
  }
  try {
    if (url.pathname !== '/') throw new EndpointError(1000, 'UNKNOWN_EXCEPTION', `No handler for ${url.pathname} (test endpoint)`);
    if (method !== 'GET' && method !== 'POST') throw new EndpointError(1000, 'UNKNOWN_EXCEPTION', `Method ${method} not allowed`);
    if (/^multipart\//i.test(req.headers['content-type'] ?? '')) {
      throw new EndpointError(1000, 'NOT_IMPLEMENTED', 'multipart/form-data parameters are not supported by the chDB test endpoint');
    }
    const raw = await readBody(req);
    const queryParam = url.searchParams.get('query') ?? '';
    // A Native insert's body is binary: the engine reads it from a file (as the chdb driver does).
    const native = NATIVE_INSERT.exec(queryParam);
    let spooled: string | undefined;
    if (native && raw.length > 0) {
      spooled = path.join(os.tmpdir(), `cumulus-endpoint-${process.pid}-${++spooledFiles}.native`);
      await fs.promises.writeFile(spooled, raw);
    }
    const body = native ? '' : raw.toString('utf8');
    const sql = native && spooled !== undefined ? `INSERT INTO ${native[1]} ${native[2] ?? ''} SELECT ${native[2] ? (native[2] as string).slice(1, -1) : '*'} FROM file(${sqlString(spooled)}, Native)` : queryParam !== '' && body !== '' ? `${queryParam}\n${body}` : queryParam || body;
    if (sql.trim() === '') {
      return send(res, 200, 'text/plain; charset=UTF-8', Buffer.from('Ok.\n'));
    }

    const assignments: string[] = [];
    for (const [key, value] of url.searchParams) {
      if (NOT_SETTINGS.has(key)) continue;
      const name = key.startsWith('param_') ? key.slice('param_'.length) : key;
      if (!IDENTIFIER.test(name)) throw new EndpointError(115, 'UNKNOWN_SETTING', `Invalid setting or parameter name '${key}'`);
      assignments.push(`${key} = ${sqlString(value)}`);
    }
    const statements: string[] = [];
    const database = url.searchParams.get('database');
    if (database !== null && database !== '') statements.push(`USE ${quoteIdentifier(database)}`);
    if (assignments.length > 0) statements.push(`SET ${assignments.join(', ')}`);
    statements.push(sql);

    const dataDir = chdbDataDirOf(driver);
    if (dataDir === undefined) throw new EndpointError(1000, 'UNKNOWN_EXCEPTION', 'The chdb driver behind the test endpoint is closed');
    const format = url.searchParams.get('default_format') || 'TabSeparated';
    const session = new Session(dataDir);
    let result;
    try {
      result = await session.queryAsync(statements.join(';\n'), { format });
    } finally {
      session.close();
      if (spooled !== undefined) await fs.promises.rm(spooled, { force: true });
    }

    const out = Buffer.from(result.bytes());
    res.setHeader(
      'X-ClickHouse-Summary',
      JSON.stringify({
        read_rows: String(result.rowsRead),
        read_bytes: String(result.bytesRead),
        written_rows: '0',
        written_bytes: '0',
        total_rows_to_read: '0',
        result_rows: '0',
        result_bytes: String(out.length),
        elapsed_ns: String(Math.round(result.elapsed * 1e9)),
      }),
    );
    const outputFormat = formatOf(queryParam || body) ?? format;
    res.setHeader('X-ClickHouse-Format', outputFormat);
    const wantsCompression = url.searchParams.get('enable_http_compression') === '1';
    return send(res, 200, contentTypeOf(outputFormat), out, wantsCompression ? req.headers['accept-encoding'] : undefined);
  } catch (err) {
    const { code, text } = clickhouseError(err);
    res.setHeader('X-ClickHouse-Exception-Code', String(code));
    return send(res, 500, 'text/plain; charset=UTF-8', Buffer.from(`${text}\n`));
  }
}

function send(res: http.ServerResponse, status: number, contentType: string, body: Buffer, acceptEncoding?: string): void {
  let payload = body;
  const accepted = (acceptEncoding ?? '').toLowerCase();
  const encoding = ['gzip', 'br', 'deflate'].find((e) => accepted.includes(e));
  if (encoding !== undefined) {
    payload =
      encoding === 'gzip' ? zlib.gzipSync(body) : encoding === 'br' ? zlib.brotliCompressSync(body) : zlib.deflateSync(body);
    res.setHeader('Content-Encoding', encoding);
  }
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': payload.length });
  res.end(payload);
}

/** `INSERT INTO t [(a, b)] FORMAT Native`, as the http driver's insertNative sends it. */
const NATIVE_INSERT = /^\s*INSERT\s+INTO\s+([A-Za-z_][A-Za-z0-9_.]*)\s*(\([A-Za-z0-9_,\s]*\))?\s*FORMAT\s+Native\s*$/i;
let spooledFiles = 0;

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let raw = Buffer.concat(chunks);
  const encoding = (req.headers['content-encoding'] ?? '').toLowerCase();
  if (encoding === 'gzip') raw = zlib.gunzipSync(raw);
  else if (encoding === 'deflate') raw = zlib.inflateSync(raw);
  else if (encoding === 'br') raw = zlib.brotliDecompressSync(raw);
  else if (encoding !== '' && encoding !== 'identity') {
    throw new EndpointError(1000, 'NOT_IMPLEMENTED', `Content-Encoding ${encoding} is not supported by the chDB test endpoint`);
  }
  return raw;
}

/** The FORMAT clause at the end of a statement (a SELECT's), if any. */
function formatOf(sql: string): string | undefined {
  return /\bFORMAT\s+([A-Za-z0-9_]+)\s*;*\s*$/i.exec(sql)?.[1];
}

function contentTypeOf(format: string): string {
  if (/^JSON/i.test(format)) return /EachRow/i.test(format) ? 'application/x-ndjson; charset=UTF-8' : 'application/json; charset=UTF-8';
  if (/^(TabSeparated|TSV)/i.test(format)) return 'text/tab-separated-values; charset=UTF-8';
  if (/^CSV/i.test(format)) return 'text/csv; charset=UTF-8; header=absent';
  return 'text/plain; charset=UTF-8';
}

function sqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function quoteIdentifier(name: string): string {
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

/** The exception text as ClickHouse's HTTP interface writes it. */
function clickhouseError(err: unknown): { code: number; text: string } {
  if (err instanceof EndpointError) {
    return { code: err.code, text: `Code: ${err.code}. DB::Exception: ${err.message}. (${err.type})` };
  }
  const message = err instanceof Error ? err.message : String(err);
  const reported = (err as { clickhouseCode?: unknown } | null)?.clickhouseCode;
  const parsed = /Code: (\d+)\./.exec(message)?.[1];
  const code = typeof reported === 'number' ? reported : parsed !== undefined ? Number(parsed) : 1000;
  let text = /^Code: \d+\. /.test(message) ? message : `Code: ${code}. DB::Exception: ${message}`;
  // The client recognises an exception by its `(TYPE)` marker.
  if (!/\((?=[A-Z0-9_]*[A-Z]{3})[A-Z0-9_]+\)/.test(text)) text += ' (UNKNOWN_EXCEPTION)';
  return { code, text };
}
