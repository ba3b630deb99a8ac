import type { AuditRecord, Event, LogRecord, TokenInfo } from '../../core/index.ts';
import { auditRecordFromRow, eventFromRow, selectAuditRecords, selectEvents, selectLogs, type AuditRow, type EventRow, type LogRow } from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { logView } from './format.ts';

/** Records of each kind one trail holds at most, by default and at most. */
export const DEFAULT_TRAIL_LIMIT = 1000;
export const MAX_TRAIL_LIMIT = 10_000;

/**
 * The trait every event carries its request id in: Ceilometer's default trait
 * `request_id` (from the notification context's `request_id`), which
 * collectors/events adds to every event definition unless the definition redefines it.
 */
export const REQUEST_ID_TRAIT = 'request_id';

export type TrailKind = 'log' | 'event' | 'audit';

export type TrailEntry =
  | { kind: 'log'; time: string; record: LogRecord }
  | { kind: 'event'; time: string; record: Event }
  | { kind: 'audit'; time: string; record: AuditRecord };

export interface RequestTrail {
  request_id: string;
  /** Every record of the request the caller may read, oldest first. */
  records: TrailEntry[];
  /** How many of each kind are in `records`. */
  counts: Record<TrailKind, number>;
  /** Kinds that had more than `limit` records: only their oldest `limit` are in `records`. */
  truncated: TrailKind[];
  /** Kinds the caller's policy does not let them read (left out, not an error). */
  not_readable: TrailKind[];
}

export const REQUEST_TRAIL_SCHEMA = {
  type: 'object',
  properties: {
    request_id: { type: 'string' },
    records: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          kind: { type: 'string', enum: ['log', 'event', 'audit'] },
          time: { type: 'string', description: "the record's time, ISO 8601 UTC: the log line's timestamp, the event's generated, the audit record's event_time" },
          record: { type: 'object', additionalProperties: true, description: 'a log record (as /log/v1/logs), a Panko-model event (traits and raw), or a CADF audit record (the 7 Ws and raw)' },
        },
      },
    },
    counts: { type: 'object', properties: { log: { type: 'integer' }, event: { type: 'integer' }, audit: { type: 'integer' } } },
    truncated: { type: 'array', items: { type: 'string' } },
    not_readable: { type: 'array', items: { type: 'string' } },
  },
} as const;

const KIND_ORDER: Record<TrailKind, number> = { audit: 0, event: 1, log: 2 };

/** Whose rows of a family the caller reads, or undefined when the policy lets them read none. */
function readable(context: ApiContext, family: string, identity: TokenInfo): { projectId: string | null } | undefined {
  try {
    return { projectId: context.access.readableProject(family, identity) };
  } catch (err) {
    if (err instanceof ApiError && err.httpStatus === 403) return undefined;
    throw err;
  }
}

/**
 * Everything one request left behind, in time order: the service log lines that carry its
 * request id, the events of its notifications, and its CADF audit records (the
 * keystonemiddleware pair and Keystone's own), each kind filtered by the caller's project
 * as its own route family would. 404 when the caller can read none of them, so a request
 * of another project looks like one that never happened.
 */
export async function readRequestTrail(context: ApiContext, identity: TokenInfo, requestId: string, limit: number): Promise<RequestTrail> {
  const logsScope = readable(context, 'log', identity);
  const eventsScope = readable(context, 'event', identity);
  const auditScope = readable(context, 'audit', identity);
  // One row more than asked tells whether a kind was cut.
  const [logRows, eventRows, auditRows] = await Promise.all([
    logsScope ? context.store.query<LogRow>(selectLogs({ projectId: logsScope.projectId, requestId, order: 'asc', limit: limit + 1 })) : Promise.resolve([]),
    eventsScope
      ? context.store.query<EventRow>(selectEvents({ projectId: eventsScope.projectId, traits: [{ name: REQUEST_ID_TRAIT, type: 'string', value: requestId }], order: 'asc', limit: limit + 1 }))
      : Promise.resolve([]),
    auditScope ? context.store.query<AuditRow>(selectAuditRecords({ projectId: auditScope.projectId, requestId, order: 'asc', limit: limit + 1 })) : Promise.resolve([]),
  ]);
  const truncated: TrailKind[] = [];
  const cut = <T>(kind: TrailKind, rows: T[]): T[] => {
    if (rows.length <= limit) return rows;
    truncated.push(kind);
    return rows.slice(0, limit);
  };
  const records: TrailEntry[] = [
    ...cut('log', logRows).map((row): TrailEntry => {
      const record = logView(row);
      return { kind: 'log', time: record.timestamp, record };
    }),
    ...cut('event', eventRows).map((row): TrailEntry => {
      const record = eventFromRow(row);
      return { kind: 'event', time: record.generated, record };
    }),
    ...cut('audit', auditRows).map((row): TrailEntry => {
      const record = auditRecordFromRow(row);
      return { kind: 'audit', time: record.event_time, record };
    }),
  ];
  if (records.length === 0) throw new ApiError('CUMULUS_API_REQUEST_NOT_FOUND', 404, `Request ${requestId} left no log line, event or audit record that this token may read`);
  // All three times are ISO 8601 UTC with six fractional digits, so text order is time order.
  records.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : KIND_ORDER[a.kind] - KIND_ORDER[b.kind]));
  const counts = { log: 0, event: 0, audit: 0 };
  for (const r of records) counts[r.kind]++;
  const notReadable: TrailKind[] = [];
  if (!logsScope) notReadable.push('log');
  if (!eventsScope) notReadable.push('event');
  if (!auditScope) notReadable.push('audit');
  return { request_id: requestId, records, counts, truncated, not_readable: notReadable };
}
