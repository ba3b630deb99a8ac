import type { FastifyInstance } from 'fastify';
import { countLogs, selectLogs, type LogCountRow, type LogRow } from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { callerOf, rejectUnknownQueryFields, requireToken, TOKEN_SECURITY, useErrorStyle } from '../http.ts';
import { decodeLogCursor, encodeLogCursor, filterFingerprint } from './cursor.ts';
import { LOG_RECORD_SCHEMA, logView } from './format.ts';
import {
  countWindow,
  DEFAULT_LOG_LIMIT,
  LOG_COUNT_PROPERTIES,
  LOG_FILTER_PROPERTIES,
  LOG_PAGE_PROPERTIES,
  parseInterval,
  parseLogFilter,
  type LogCountGroup,
  type LogFilterQuery,
} from './query.ts';
import { DEFAULT_TRAIL_LIMIT, MAX_TRAIL_LIMIT, readRequestTrail, REQUEST_TRAIL_SCHEMA } from './request-trail.ts';

const tags = ['log'];

/**
 * The control plane's service logs under /log/v1, and request correlation. Stable.
 *
 * - Whose lines: a line belongs to the project of the request that wrote it (oslo.log's
 *   context). Admins (`log:list_all`) read every line; a member reads their project's
 *   only. Lines without a project (daemons, service start-up, periodic tasks) are the admins'.
 * - /logs pages newest first by (timestamp, id) with an opaque `next` cursor, stable while
 *   lines arrive; the cursor must come back with the filters it was read with.
 * - /counts counts per interval for charts, every interval of the window listed (zeros included).
 * - /requests/<request_id> pulls a request's log lines, events and audit records together.
 * - Errors: `{"error": {"code", "status", "message"}}`.
 */
export function registerLogRoutes(app: FastifyInstance, context: ApiContext): void {
  app.register(
    async (logs) => {
      // Every route: a token, the plain error body, and no query field dropped unread.
      requireToken(logs, context.auth);
      useErrorStyle(logs, 'plain');
      rejectUnknownQueryFields(logs);
      registerSearchRoute(logs, context);
      registerCountRoute(logs, context);
      registerRequestRoute(logs, context);
    },
    { prefix: '/log/v1' },
  );
}

/** GET /logs: the lines matching the filters, a page at a time. */
function registerSearchRoute(logs: FastifyInstance, context: ApiContext): void {
  logs.get(
    '/logs',
    {
      schema: {
        tags,
        summary: 'Service log lines matching time, service, host, level, request, user, project and text, a page at a time',
        description: 'Each filter narrows the answer; repeatable filters match any of their values. Newest first unless order=asc.',
        security: TOKEN_SECURITY,
        querystring: { type: 'object', additionalProperties: false, properties: { ...LOG_FILTER_PROPERTIES, ...LOG_PAGE_PROPERTIES } },
        response: {
          200: {
            type: 'object',
            properties: {
              logs: { type: 'array', items: LOG_RECORD_SCHEMA },
              next: { type: 'string', nullable: true, description: 'pass as next= with the same filters for the following page; null on the last page' },
            },
          },
        },
      },
    },
    async (request) => {
      const query = request.query as LogFilterQuery & { limit?: number; order?: 'asc' | 'desc'; next?: string };
      const filter = parseLogFilter(query, context.access.readableProject('log', callerOf(request)));
      const order = query.order ?? 'desc';
      const limit = query.limit ?? DEFAULT_LOG_LIMIT;
      const fingerprint = filterFingerprint({ ...filter });
      const cursor = query.next === undefined ? undefined : decodeLogCursor(query.next, { order, filters: fingerprint });
      const rows = await context.store.query<LogRow>(selectLogs({ ...filter, order, limit: limit + 1, ...(cursor ? { after: { timestamp: cursor.timestamp, id: cursor.id } } : {}) }));
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        logs: page.map(logView),
        next: rows.length > limit && last ? encodeLogCursor({ timestamp: last.timestamp, id: last.id, order, filters: fingerprint }) : null,
      };
    },
  );
}

/** GET /counts: lines per interval, for charts. */
function registerCountRoute(logs: FastifyInstance, context: ApiContext): void {
  logs.get(
    '/counts',
    {
      schema: {
        tags,
        summary: 'How many log lines match, per time interval (and per level, service or host), for charts',
        description: 'The same filters as /logs. Without start and end, the last day. Every interval of the window is listed, empty ones with 0.',
        security: TOKEN_SECURITY,
        querystring: { type: 'object', additionalProperties: false, required: ['interval'], properties: { ...LOG_FILTER_PROPERTIES, ...LOG_COUNT_PROPERTIES } },
        response: {
          200: {
            type: 'object',
            properties: {
              interval: { type: 'integer', description: 'seconds' },
              by: { type: 'string', nullable: true },
              start: { type: 'string' },
              end: { type: 'string' },
              buckets: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    timestamp: { type: 'string', description: "the interval's start, ISO 8601 UTC" },
                    total: { type: 'integer' },
                    groups: { type: 'object', additionalProperties: { type: 'integer' }, description: 'with by: the count of each level, service or host seen in the interval' },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (request) => {
      const query = request.query as LogFilterQuery & { interval: string; by?: LogCountGroup };
      const interval = parseInterval(query.interval);
      const filter = parseLogFilter(query, context.access.readableProject('log', callerOf(request)));
      const window = countWindow(filter, interval, context.clock.now());
      const rows = await context.store.query<LogCountRow>(countLogs({ ...filter, ...window, intervalSeconds: interval, ...(query.by ? { by: query.by } : {}) }));
      return { interval, by: query.by ?? null, start: window.start.toISOString(), end: window.end.toISOString(), buckets: fillBuckets(rows, window, interval, query.by !== undefined) };
    },
  );
}

/** GET /requests/<request_id>: everything one request left behind. */
function registerRequestRoute(logs: FastifyInstance, context: ApiContext): void {
  logs.get(
    '/requests/:request_id',
    {
      schema: {
        tags,
        summary: "Everything one request left: its log lines, its notifications' events and its CADF audit records, in time order",
        description: "Each kind is read as its own API would let the caller read it (a member: their project's). 404 when nothing of the request is readable.",
        security: TOKEN_SECURITY,
        params: { type: 'object', required: ['request_id'], properties: { request_id: { type: 'string', minLength: 1, maxLength: 255, description: 'the request id (req-...), as the x-openstack-request-id header gave it' } } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: MAX_TRAIL_LIMIT, description: `records of each kind at most (default ${DEFAULT_TRAIL_LIMIT}); the oldest are kept` } },
        },
        response: { 200: REQUEST_TRAIL_SCHEMA },
      },
    },
    async (request) => {
      const { request_id: requestId } = request.params as { request_id: string };
      const { limit } = request.query as { limit?: number };
      return readRequestTrail(context, callerOf(request), requestId, limit ?? DEFAULT_TRAIL_LIMIT);
    },
  );
}

interface Bucket {
  timestamp: string;
  total: number;
  groups?: Record<string, number>;
}

/** Every interval from the one holding `start` to the one holding the last instant before `end`, with the counts found. */
export function fillBuckets(rows: readonly LogCountRow[], window: { start: Date; end: Date }, interval: number, grouped: boolean): Bucket[] {
  const byBucket = new Map<number, Bucket>();
  const first = Math.floor(window.start.getTime() / 1000 / interval) * interval;
  const last = Math.floor((window.end.getTime() - 1) / 1000 / interval) * interval;
  for (let at = first; at <= last; at += interval) byBucket.set(at, { timestamp: new Date(at * 1000).toISOString(), total: 0, ...(grouped ? { groups: {} } : {}) });
  for (const row of rows) {
    const at = Number(row.bucket);
    let bucket = byBucket.get(at);
    if (!bucket) {
      bucket = { timestamp: new Date(at * 1000).toISOString(), total: 0, ...(grouped ? { groups: {} } : {}) };
      byBucket.set(at, bucket);
    }
    const count = Number(row.count);
    bucket.total += count;
    if (bucket.groups) bucket.groups[row.key] = (bucket.groups[row.key] ?? 0) + count;
  }
  return [...byBucket.entries()].sort(([a], [b]) => a - b).map(([, bucket]) => bucket);
}
