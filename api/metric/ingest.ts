import { gunzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ResourceType } from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { ApiError, DescribedApiError } from '../errors.ts';
import { callerOf, rejectUnknownQueryFields, TOKEN_SECURITY } from '../http.ts';
import { LineProtocolError, parseLineProtocol, PRECISION_NS, type Precision } from './ingest/line-protocol.ts';
import { DEFAULT_TAG_RESOURCE_ID, MappingError, mapInfluxPoints, mapPrometheusSeries, PROMETHEUS_RESOURCE_TYPE } from './ingest/mapping.ts';
import { decodeRemoteWrite, MAX_UNCOMPRESSED_BYTES, RemoteWriteError } from './ingest/remote-write.ts';
import { writePushedMeasures } from './ingest/writer.ts';

/** The largest request body the receivers read (compressed, as sent). */
export const MAX_INGEST_BODY_BYTES = 32 * 1024 * 1024;
/** The InfluxDB database Gnocchi writes to when the request names none. */
export const DEFAULT_INFLUXDB_DATABASE = 'influxdb';
export const TAG_RESOURCE_ID_HEADER = 'x-gnocchi-influxdb-tag-resource-id';

const tags = ['ingest'];
/** A database name is a resource type name, which appears in URL paths. */
const DATABASE = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*$' } as const;
const IGNORED = (what: string) => ({ type: 'string', maxLength: 1024, description: `accepted for InfluxDB clients, ignored (${what})` });
/** The prometheus resource type, as Gnocchi creates it (string lengths within what our types allow). */
const PROMETHEUS_TYPE_DEFINITION = {
  name: PROMETHEUS_RESOURCE_TYPE,
  attributes: { job: { type: 'string', min_length: 1, max_length: 255, required: true }, instance: { type: 'string', min_length: 1, max_length: 255, required: true } },
};

/** Gnocchi's 400 for a body it cannot read: `{cause: "Value error", detail, reason}`. */
const valueError = (detail: string, reason: string) => new DescribedApiError('CUMULUS_API_INGEST_INVALID', 400, `Invalid input: ${reason}`, { cause: 'Value error', detail, reason });

/**
 * Gnocchi's 501 for any other query. Sent from the route: the shared error handler words
 * every 5xx as a server fault, and this one is the client's answer.
 */
const NOT_IMPLEMENTED_BODY = { code: 501, title: 'Not Implemented', description: { cause: 'Not implemented error', detail: 'q', reason: 'Query not implemented' } };

/** The body as sent, gunzipped when the client says so (Telegraf compresses by default). */
function bodyBytes(request: FastifyRequest): Buffer {
  const body = request.body;
  const raw = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
  const encoding = String(request.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'gzip') return raw;
  try {
    return gunzipSync(raw, { maxOutputLength: MAX_UNCOMPRESSED_BYTES });
  } catch (err) {
    throw valueError('body', `expected a gzip body of at most ${MAX_UNCOMPRESSED_BYTES} bytes once uncompressed (Content-Encoding: gzip): ${(err as Error).message}`);
  }
}

/** `CREATE DATABASE <name>` (the name bare or double-quoted with backslash escapes), else null. */
export function createDatabaseName(q: string): string | null {
  const m = /^\s*create\s+database\s+(?:"((?:[^"\\]|\\.)*)"|([A-Za-z_][A-Za-z0-9_]*))\s*;?\s*$/i.exec(q);
  if (!m) return null;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] as string);
}

/** An active resource type, or a 404 that says how to create it. */
function databaseType(context: ApiContext, db: string): ResourceType {
  const type = context.resourceTypes.find(db);
  if (!type || type.state !== 'active') {
    throw new ApiError('CUMULUS_API_RESOURCE_TYPE_NOT_FOUND', 404, `Resource type ${db} does not exist: InfluxDB database ${db} is written to resources of that type; create it with POST /v1/influxdb/query?q=CREATE DATABASE ${db}`);
  }
  return type;
}

/** Creates a resource type unless it exists (another writer may create it at the same time). */
function ensureResourceType(context: ApiContext, request: FastifyRequest, definition: { name: string; attributes?: object }): ResourceType {
  const found = context.resourceTypes.find(definition.name);
  if (found) return found;
  context.access.enforce('resource_type:write', callerOf(request));
  try {
    return context.resourceTypes.create(definition);
  } catch (err) {
    const again = context.resourceTypes.find(definition.name);
    if (again) return again;
    throw err;
  }
}

function mapped<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof MappingError) throw valueError(err.detail, err.reason);
    throw err;
  }
}

/**
 * /v1/influxdb and /v1/prometheus: other ways in for the controllers' host metrics,
 * Gnocchi's receivers (Telegraf's `influxdb` output, Prometheus `remote_write`). Writing
 * needs `ingest:write` (operators by default). Stable paths and answers (204 and 202, as
 * Gnocchi); errors in Gnocchi's form.
 */
export function registerIngestRoutes(v1: FastifyInstance, context: ApiContext): void {
  v1.register(async (ingest) => {
    // Bodies are read as bytes, whatever their declared type: line protocol comes as
    // text/plain or with no type at all, remote write as application/x-protobuf.
    ingest.removeAllContentTypeParsers();
    ingest.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_INGEST_BODY_BYTES }, (_request, body, done) => done(null, body));
    rejectUnknownQueryFields(ingest);

    ingest.get(
      '/influxdb/ping',
      { schema: { tags, summary: 'InfluxDB liveness check (204, with X-Influxdb-Version)', security: TOKEN_SECURITY } },
      async (_request, reply) => reply.code(204).header('X-Influxdb-Version', 'Cumulus').send(),
    );

    ingest.post(
      '/influxdb/query',
      {
        schema: {
          tags,
          summary: 'InfluxDB queries: only CREATE DATABASE <name>, which creates the resource type <name> (204); anything else 501',
          security: TOKEN_SECURITY,
          querystring: { type: 'object', additionalProperties: false, properties: { q: { type: 'string', maxLength: 4096, description: 'the query (also read from a form body)' }, db: IGNORED('the query names its database'), u: IGNORED('Keystone tokens authenticate'), p: IGNORED('Keystone tokens authenticate') } },
        },
      },
      async (request, reply) => {
        const { q: inQuery } = request.query as { q?: string };
        const form = String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(bodyBytes(request).toString('utf8')).get('q') : null;
        const q = inQuery ?? form ?? undefined;
        if (q === undefined) throw valueError('q', 'expected a query in q (CREATE DATABASE <name>)');
        const name = createDatabaseName(q);
        if (name === null) return reply.code(501).type('application/json').send(NOT_IMPLEMENTED_BODY);
        ensureResourceType(context, request, { name, attributes: {} });
        return reply.code(204).send();
      },
    );

    ingest.post(
      '/influxdb/write',
      {
        bodyLimit: MAX_INGEST_BODY_BYTES,
        schema: {
          tags,
          summary: 'Write points in InfluxDB line protocol: each field becomes a metric <measurement>.<field>@<tags> of the resource named by the host tag, of the resource type named by db',
          description:
            'Resources and metrics are created on first write (metrics under the policy of the first matching archive policy rule). Points without a timestamp are stamped with the time of the request. String fields are skipped; booleans are stored as 1 and 0. A malformed line is a 400 that names its line and column. Content-Encoding: gzip is accepted.',
          security: TOKEN_SECURITY,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              db: { ...DATABASE, description: `the database: the resource type of the resources written (default ${DEFAULT_INFLUXDB_DATABASE})` },
              precision: { type: 'string', enum: Object.keys(PRECISION_NS), description: 'unit of the timestamps (default ns)' },
              rp: IGNORED('archive policies decide retention'),
              consistency: IGNORED('writes are synchronous'),
              u: IGNORED('Keystone tokens authenticate'),
              p: IGNORED('Keystone tokens authenticate'),
            },
          },
          headers: {
            type: 'object',
            properties: { [TAG_RESOURCE_ID_HEADER]: { type: 'string', minLength: 1, maxLength: 255, description: `the tag that names the resource (default ${DEFAULT_TAG_RESOURCE_ID})` } },
          },
        },
      },
      async (request, reply) => {
        context.access.enforce('ingest:write', callerOf(request));
        const { db = DEFAULT_INFLUXDB_DATABASE, precision = 'ns' } = request.query as { db?: string; precision?: Precision };
        const type = databaseType(context, db);
        let text: string;
        try {
          text = new TextDecoder('utf-8', { fatal: true }).decode(bodyBytes(request));
        } catch (err) {
          if (err instanceof ApiError) throw err;
          throw valueError('body', 'expected line protocol in UTF-8');
        }
        let points;
        try {
          points = parseLineProtocol(text, precision);
        } catch (err) {
          if (err instanceof LineProtocolError) throw valueError('line', `Unable to parse line ${err.line}, column ${err.column}: expected ${err.expected}`);
          throw err;
        }
        const tagResourceId = request.headers[TAG_RESOURCE_ID_HEADER] as string | undefined;
        const resources = mapped(() => mapInfluxPoints(points, { tagResourceId: tagResourceId ?? DEFAULT_TAG_RESOURCE_ID, now: context.clock.now() }));
        await writePushedMeasures(context, callerOf(request), type, resources);
        return reply.code(204).send();
      },
    );

    ingest.post(
      '/prometheus/write',
      {
        bodyLimit: MAX_INGEST_BODY_BYTES,
        schema: {
          tags,
          summary: 'Prometheus remote write (snappy-compressed protobuf WriteRequest): one prometheus resource per job and instance, one metric per series (202)',
          description:
            'Resources (type prometheus, attributes job and instance, "<job>@<instance>") and metrics are created on first write. A series is named by __name__ and its other labels (name@label=value,...); NaN samples (staleness markers) are skipped.',
          security: TOKEN_SECURITY,
        },
      },
      async (request, reply) => {
        context.access.enforce('ingest:write', callerOf(request));
        let series;
        try {
          series = decodeRemoteWrite(Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0));
        } catch (err) {
          if (err instanceof RemoteWriteError) throw valueError(err.field, err.message);
          throw err;
        }
        const resources = mapped(() => mapPrometheusSeries(series));
        if (resources.length > 0) {
          const type = ensureResourceType(context, request, PROMETHEUS_TYPE_DEFINITION);
          await writePushedMeasures(context, callerOf(request), type, resources);
        }
        return reply.code(202).send();
      },
    );
  });
}
