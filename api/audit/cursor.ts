import { ApiError } from '../errors.ts';

/**
 * The opaque `next` cursor of audit pages: the last row's sort key (event_time, id) and the
 * order it was read in. Keyset pagination on the table's own order: a page starts strictly
 * after that row, so records inserted meanwhile never shift a page (no row skipped or
 * repeated), unlike an offset. A cursor carries no filter and no project: the next request
 * repeats its filters, and the caller's project is applied again.
 */
export interface AuditCursor {
  /** `event_time` as stored (`2026-01-01 10:00:00.123456`). */
  eventTime: string;
  id: string;
  order: 'asc' | 'desc';
}

const STORED_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(cursor: AuditCursor): string {
  return Buffer.from(JSON.stringify([cursor.eventTime, cursor.id, cursor.order]), 'utf8').toString('base64url');
}

/** The cursor a previous page returned, or a 400 naming `next`. */
export function decodeCursor(text: string): AuditCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw badCursor(text);
  const [eventTime, id, order] = parsed as unknown[];
  if (typeof eventTime !== 'string' || !STORED_TIME.test(eventTime) || typeof id !== 'string' || !UUID.test(id) || (order !== 'asc' && order !== 'desc')) throw badCursor(text);
  return { eventTime, id, order };
}

const badCursor = (text: string) =>
  new ApiError('CUMULUS_API_INVALID_CURSOR', 400, `Invalid value for next: expected the "next" cursor of a previous page, got ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text)}`);
