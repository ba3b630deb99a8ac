import type { AuditRecord } from '../../core/index.ts';
import type { BoundQuery } from '../driver.ts';

/**
 * Queries on `audit_records` (migration 4): compliance questions by the 7 Ws (who,
 * what, on what, when, the outcome), a page at a time, and one record by id. Stable.
 */

export interface AuditQuery {
  /** Only records whose project is this one; null: every record (admin). */
  projectId: string | null;
  /** Inclusive lower bound on `event_time`. */
  start?: Date;
  /** Exclusive upper bound on `event_time`. */
  end?: Date;
  initiatorId?: string;
  /** CADF action, exact (`update/os-stop`, `authenticate`). */
  action?: string;
  /** `success`, `failure`, `pending` or `unknown`. */
  outcome?: string;
  targetId?: string;
  targetType?: string;
  observerId?: string;
  eventType?: string;
  requestId?: string;
  limit: number;
  /** By (event_time, id); newest first unless told. */
  order?: 'asc' | 'desc';
  /** Keyset pagination: the page starts after this record (the previous page's last row). */
  after?: { eventTime: string; id: string };
}

/** A row of {@link selectAuditRecords}: `event_time` as ClickHouse writes it (`2026-01-01 10:00:00.123456`, UTC). */
export type AuditRow = Omit<AuditRecord, 'raw'> & { raw: string };

const COLUMNS = `id, event_time, action, outcome, event_type, type_uri, initiator_id, initiator_type, initiator_name, project_id,
  initiator_address, initiator_agent, target_id, target_type, target_address, observer_id, observer_type, reason_code, request_id, raw`;

/** Filters that compare one column to one value: [query field, column]. */
const EXACT: ReadonlyArray<readonly [keyof AuditQuery, string]> = [
  ['initiatorId', 'initiator_id'],
  ['action', 'action'],
  ['outcome', 'outcome'],
  ['targetId', 'target_id'],
  ['targetType', 'target_type'],
  ['observerId', 'observer_id'],
  ['eventType', 'event_type'],
  ['requestId', 'request_id'],
];

/** Audit records matching the filters, a page at a time. */
export function selectAuditRecords(q: AuditQuery): BoundQuery {
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: q.limit };
  if (q.projectId !== null) {
    where.push('project_id = {project_id:String}');
    params.project_id = q.projectId;
  }
  for (const [field, column] of EXACT) {
    const value = q[field];
    if (typeof value !== 'string') continue;
    where.push(`${column} = {${column}:String}`);
    params[column] = value;
  }
  if (q.start !== undefined) {
    where.push("event_time >= {start:DateTime64(6, 'UTC')}");
    params.start = q.start;
  }
  if (q.end !== undefined) {
    where.push("event_time < {end:DateTime64(6, 'UTC')}");
    params.end = q.end;
  }
  const ascending = q.order === 'asc';
  if (q.after !== undefined) {
    where.push(`(event_time, id) ${ascending ? '>' : '<'} (parseDateTime64BestEffort({after_event_time:String}, 6, 'UTC'), {after_id:UUID})`);
    params.after_event_time = q.after.eventTime;
    params.after_id = q.after.id;
  }
  const direction = ascending ? 'ASC' : 'DESC';
  return {
    sql: `SELECT ${COLUMNS} FROM audit_records FINAL${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}
      ORDER BY event_time ${direction}, id ${direction} LIMIT {limit:UInt32}`,
    params,
  };
}

/** One audit record by id; when `projectId` is given, only if it belongs to that project. */
export function selectAuditRecord(id: string, projectId: string | null): BoundQuery {
  return {
    sql: `SELECT ${COLUMNS} FROM audit_records FINAL WHERE id = {id:UUID}${projectId === null ? '' : ' AND project_id = {project_id:String}'} LIMIT 1`,
    params: projectId === null ? { id } : { id, project_id: projectId },
  };
}

/** The record as the collector published it, from its row (`event_time` with six fractional digits). */
export function auditRecordFromRow(row: AuditRow): AuditRecord {
  return { ...row, event_time: `${row.event_time.replace(' ', 'T')}+00:00`, raw: JSON.parse(row.raw) as Record<string, unknown> };
}
