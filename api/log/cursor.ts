import { createHash } from 'node:crypto';
import { ApiError } from '../errors.ts';

/**
 * The `next` cursor of /log/v1/logs pages. It holds the last record's sort key
 * (timestamp, id), the order, and a fingerprint of the filters it was read with: a page
 * starts strictly after that record (keyset pagination: records arriving meanwhile shift
 * nothing), and a cursor brought back with other filters or another order is refused,
 * since it would point into a different list. The caller's project is applied again on
 * each request; the cursor grants nothing.
 */
export interface LogCursor {
  /** As stored: `2026-01-01 10:00:00.123456`. */
  timestamp: string;
  id: string;
  order: 'asc' | 'desc';
  /** {@link filterFingerprint} of the query that read the page. */
  filters: string;
}

const STORED_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A short digest of a filter object (keys sorted, so the order of query fields does not matter). */
export function filterFingerprint(filters: Readonly<Record<string, unknown>>): string {
  const canonical = JSON.stringify(
    Object.keys(filters)
      .sort()
      .filter((k) => filters[k] !== undefined)
      .map((k) => {
        const value = filters[k];
        return [k, value instanceof Date ? value.toISOString() : value];
      }),
  );
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

export function encodeLogCursor(cursor: LogCursor): string {
  return Buffer.from(JSON.stringify({ t: cursor.timestamp, i: cursor.id, o: cursor.order, f: cursor.filters }), 'utf8').toString('base64url');
}

const refused = (text: string, why: string) =>
  new ApiError('CUMULUS_API_INVALID_CURSOR', 400, `Invalid value for next: ${why}, got ${JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}...` : text)}`);

/** The cursor, checked against the filters and order of the request that brought it back; 400 naming `next` otherwise. */
export function decodeLogCursor(text: string, expected: { order: 'asc' | 'desc'; filters: string }): LogCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  const c = parsed as { t?: unknown; i?: unknown; o?: unknown; f?: unknown } | null;
  if (c === null || typeof c !== 'object' || typeof c.t !== 'string' || !STORED_TIME.test(c.t) || typeof c.i !== 'string' || !UUID.test(c.i) || (c.o !== 'asc' && c.o !== 'desc') || typeof c.f !== 'string') {
    throw refused(text, 'expected the "next" value of a previous page');
  }
  if (c.o !== expected.order) throw refused(text, `this cursor pages in order ${c.o}; repeat the order it was read with`);
  if (c.f !== expected.filters) throw refused(text, 'this cursor was read with other filters; repeat the same filters with it');
  return { timestamp: c.t, id: c.i, order: c.o, filters: c.f };
}
