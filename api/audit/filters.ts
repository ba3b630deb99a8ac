import type { AuditFilters, AuditMatch } from '../../storage/index.ts';
import { invalidParameter } from '../errors.ts';
import { parseTimestamp } from '../params.ts';
import { decodeCursor, type AuditCursor } from './cursor.ts';

/** Page sizes of /records and the reports. */
export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 1000;

/** CADF's outcomes (pycadf cadftaxonomy). */
export const CADF_OUTCOMES = ['success', 'failure', 'pending', 'unknown'] as const;

const VALUE = { type: 'string', minLength: 1, maxLength: 255 } as const;
const values = (description: string, items: object = VALUE) => ({ type: 'array', items, minItems: 1, maxItems: 50, description: `${description}; repeat for any of several` });
const TIME = (description: string) => ({ type: 'string', minLength: 1, maxLength: 64, description: `${description}: ISO 8601 (naive is UTC) or seconds since the epoch` });

/** The query field of each 7-W filter, and the storage filter it sets. */
const MATCH_FIELDS: ReadonlyArray<readonly [string, keyof AuditFilters, string]> = [
  ['initiator_id', 'initiatorId', 'who: the initiator id (the user id, or "unknown" without a valid token)'],
  ['initiator_name', 'initiatorName', 'who: the user name'],
  ['initiator_type', 'initiatorType', 'who: the initiator typeURI (service/security/account/user)'],
  ['project_id', 'project', "who: the initiator's project (members: only their own)"],
  ['initiator_address', 'initiatorAddress', "from where: the client's address"],
  ['initiator_agent', 'initiatorAgent', "from where: the client's User-Agent"],
  ['action', 'action', 'what: the CADF action (read/list, update/os-stop, authenticate, created.project)'],
  ['outcome', 'outcome', 'what: the outcome'],
  ['event_type', 'eventType', 'what: the notification event type (audit.http.response, identity.authenticate)'],
  ['target_id', 'targetId', 'on what: the target id'],
  ['target_type', 'targetType', 'on what: the target typeURI (service/compute/servers/server)'],
  ['target_address', 'targetAddress', 'to where: the service endpoint'],
  ['observer_id', 'observerId', 'where: the observer id'],
  ['observer_type', 'observerType', 'where: the observer typeURI'],
  ['reason_code', 'reasonCode', 'why: the reason code (the HTTP status)'],
  ['request_id', 'requestId', 'correlation: the request id'],
];

/** The querystring properties of the 7-W filters and the time range. */
export const FILTER_PROPERTIES: Record<string, object> = {
  ...Object.fromEntries(MATCH_FIELDS.map(([name, , description]) => [name, name === 'outcome' ? values(description, { type: 'string', enum: [...CADF_OUTCOMES] }) : values(description)])),
  start: TIME('when: from this time (inclusive)'),
  end: TIME('when: until this time (exclusive)'),
};

export const PAGE_PROPERTIES = {
  limit: { type: 'integer', minimum: 1, maximum: MAX_AUDIT_LIMIT, description: `records per page (default ${DEFAULT_AUDIT_LIMIT})` },
  order: { type: 'string', enum: ['asc', 'desc'], description: 'by (event_time, id)' },
  next: { type: 'string', minLength: 1, maxLength: 512, description: 'the "next" cursor of the previous page' },
} as const;

export const TIME_PROPERTIES = { start: FILTER_PROPERTIES.start as object, end: FILTER_PROPERTIES.end as object };

/** The time range of a query, checked: both parse, and start comes before end. */
export function parseRange(query: { start?: string; end?: string }): { start?: Date; end?: Date } {
  const start = parseTimestamp('start', query.start);
  const end = parseTimestamp('end', query.end);
  if (start && end && start >= end) throw invalidParameter('end', 'a time after start', query.end);
  return { ...(start ? { start } : {}), ...(end ? { end } : {}) };
}

/** The storage filters of a query string shaped by FILTER_PROPERTIES, for the caller's readable project. */
export function parseFilters(query: Record<string, unknown>, projectId: string | null): AuditFilters {
  const filters: AuditFilters = { projectId, ...parseRange(query as { start?: string; end?: string }) };
  for (const [name, field] of MATCH_FIELDS) {
    const value = query[name] as string[] | undefined;
    if (value === undefined) continue;
    (filters as unknown as Record<string, AuditMatch>)[field] = value.length === 1 ? (value[0] as string) : value;
  }
  return filters;
}

export interface PageRequest {
  limit: number;
  order: 'asc' | 'desc';
  after?: { eventTime: string; id: string };
}

/** Limit, order and cursor; a cursor must come back with the order it was issued for. */
export function parsePage(query: { limit?: number; order?: 'asc' | 'desc'; next?: string }, defaultOrder: 'asc' | 'desc', defaultLimit = DEFAULT_AUDIT_LIMIT): PageRequest {
  const cursor: AuditCursor | undefined = query.next === undefined ? undefined : decodeCursor(query.next);
  const order = query.order ?? cursor?.order ?? defaultOrder;
  if (cursor && cursor.order !== order) throw invalidParameter('next', `a cursor read in order ${order} (this one pages ${cursor.order}; drop order or the cursor)`, query.next);
  return { limit: query.limit ?? defaultLimit, order, ...(cursor ? { after: { eventTime: cursor.eventTime, id: cursor.id } } : {}) };
}
