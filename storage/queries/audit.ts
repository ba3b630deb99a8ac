import type { AuditRecord } from '../../core/index.ts';
import type { BoundQuery } from '../driver.ts';

/**
 * Queries on `audit_records` (migration 4): compliance questions by the 7 Ws (who,
 * what, on what, when, the outcome), a page at a time, and one record by id. Stable.
 */

/** One value, or any of several (OR); the fields together are AND-ed. */
export type AuditMatch = string | readonly string[];

/** What a compliance question filters on: the 7 Ws as columns, and time. */
export interface AuditFilters {
  /** Only records whose project is this one; null: every record (admin). */
  projectId: string | null;
  /** Inclusive lower bound on `event_time`. */
  start?: Date;
  /** Exclusive upper bound on `event_time`. */
  end?: Date;
  /** Records of these projects (a filter the caller asked for, on top of `projectId`). */
  project?: AuditMatch;
  initiatorId?: AuditMatch;
  initiatorType?: AuditMatch;
  initiatorName?: AuditMatch;
  initiatorAddress?: AuditMatch;
  initiatorAgent?: AuditMatch;
  /** CADF action, exact (`update/os-stop`, `authenticate`). */
  action?: AuditMatch;
  /** `success`, `failure`, `pending` or `unknown`. */
  outcome?: AuditMatch;
  targetId?: AuditMatch;
  targetType?: AuditMatch;
  targetAddress?: AuditMatch;
  observerId?: AuditMatch;
  observerType?: AuditMatch;
  reasonCode?: AuditMatch;
  eventType?: AuditMatch;
  requestId?: AuditMatch;
  /** Leave out the `pending` phase of keystonemiddleware's request/response pair (the answer follows it). */
  answeredOnly?: boolean;
  /** Only changes: any action but reads (`read`, `read/...`) and authentications. */
  changesOnly?: boolean;
  /** Only failed authentications: Keystone's `authenticate` failures and any request refused with 401. */
  authenticationFailuresOnly?: boolean;
  /**
   * Only actions of privileged initiators: their project is one of `projects`, or the raw
   * CADF initiator lists one of `roles` (`initiator.roles`, names).
   */
  privileged?: { projects: readonly string[]; roles: readonly string[] };
}

export interface AuditQuery extends AuditFilters {
  limit: number;
  /** By (event_time, id); newest first unless told. */
  order?: 'asc' | 'desc';
  /** Keyset pagination: the page starts after this record (the previous page's last row). */
  after?: { eventTime: string; id: string };
}

/** A row of {@link selectAuditRecords}: `event_time` as ClickHouse writes it (`2026-01-01 10:00:00.123456`, UTC). */
export type AuditRow = Omit<AuditRecord, 'raw'> & { raw: string };

/** The columns of a record, in the order of the table (and of a CSV export). */
export const AUDIT_COLUMNS = [
  'id',
  'event_time',
  'action',
  'outcome',
  'event_type',
  'type_uri',
  'initiator_id',
  'initiator_type',
  'initiator_name',
  'project_id',
  'initiator_address',
  'initiator_agent',
  'target_id',
  'target_type',
  'target_address',
  'observer_id',
  'observer_type',
  'reason_code',
  'request_id',
  'raw',
] as const satisfies ReadonlyArray<keyof AuditRecord>;

const COLUMNS = AUDIT_COLUMNS.join(', ');

/** Filters that compare one column to one value (or a list): [query field, column]. */
const EXACT: ReadonlyArray<readonly [keyof AuditFilters, string]> = [
  ['project', 'project_id'],
  ['initiatorId', 'initiator_id'],
  ['initiatorType', 'initiator_type'],
  ['initiatorName', 'initiator_name'],
  ['initiatorAddress', 'initiator_address'],
  ['initiatorAgent', 'initiator_agent'],
  ['action', 'action'],
  ['outcome', 'outcome'],
  ['targetId', 'target_id'],
  ['targetType', 'target_type'],
  ['targetAddress', 'target_address'],
  ['observerId', 'observer_id'],
  ['observerType', 'observer_type'],
  ['reasonCode', 'reason_code'],
  ['eventType', 'event_type'],
  ['requestId', 'request_id'],
];

/** The WHERE conditions of a compliance question; parameters land in `params`. */
function auditConditions(q: AuditFilters, params: Record<string, unknown>): string[] {
  const where: string[] = [];
  if (q.projectId !== null) {
    where.push('project_id = {project_id:String}');
    params.project_id = q.projectId;
  }
  for (const [field, column] of EXACT) {
    const value = q[field] as AuditMatch | undefined;
    if (value === undefined) continue;
    const name = `f_${column}`;
    if (typeof value === 'string') {
      where.push(`${column} = {${name}:String}`);
      params[name] = value;
    } else {
      where.push(`${column} IN {${name}:Array(String)}`);
      params[name] = [...value];
    }
  }
  if (q.start !== undefined) {
    where.push("event_time >= {start:DateTime64(6, 'UTC')}");
    params.start = q.start;
  }
  if (q.end !== undefined) {
    where.push("event_time < {end:DateTime64(6, 'UTC')}");
    params.end = q.end;
  }
  if (q.answeredOnly) where.push("outcome != 'pending'");
  if (q.changesOnly) where.push("action != 'read' AND NOT startsWith(action, 'read/') AND action != 'authenticate'");
  if (q.authenticationFailuresOnly) where.push("outcome = 'failure' AND (action = 'authenticate' OR reason_code = '401')");
  if (q.privileged !== undefined) {
    where.push("(project_id IN {privileged_projects:Array(String)} OR hasAny(JSONExtract(raw, 'initiator', 'roles', 'Array(String)'), {privileged_roles:Array(String)}))");
    params.privileged_projects = [...q.privileged.projects];
    params.privileged_roles = [...q.privileged.roles];
  }
  return where;
}

const whereClause = (where: readonly string[]) => (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '');

/** Audit records matching the filters, a page at a time. */
export function selectAuditRecords(q: AuditQuery): BoundQuery {
  const params: Record<string, unknown> = { limit: q.limit };
  const where = auditConditions(q, params);
  const ascending = q.order === 'asc';
  if (q.after !== undefined) {
    where.push(`(event_time, id) ${ascending ? '>' : '<'} (parseDateTime64BestEffort({after_event_time:String}, 6, 'UTC'), {after_id:UUID})`);
    params.after_event_time = q.after.eventTime;
    params.after_id = q.after.id;
  }
  const direction = ascending ? 'ASC' : 'DESC';
  return {
    sql: `SELECT ${COLUMNS} FROM audit_records FINAL${whereClause(where)}
      ORDER BY event_time ${direction}, id ${direction} LIMIT {limit:UInt32}`,
    params,
  };
}

/** A row of {@link selectAuditActionCounts}. Counts arrive as decimal strings (64-bit). */
export interface AuditActionCountRow {
  action: string;
  outcome: string;
  count: string | number;
  first: string;
  last: string;
}

/** How often each (action, outcome) occurs among the matching records, most frequent first. */
export function selectAuditActionCounts(q: AuditFilters, limit: number): BoundQuery {
  const params: Record<string, unknown> = { limit };
  return {
    sql: `SELECT action, outcome, count() AS count, min(event_time) AS first, max(event_time) AS last
      FROM audit_records FINAL${whereClause(auditConditions(q, params))}
      GROUP BY action, outcome ORDER BY count DESC, action, outcome LIMIT {limit:UInt32}`,
    params,
  };
}

/** A row of {@link selectAuditBySource}. */
export interface AuditSourceRow {
  address: string | null;
  count: string | number;
  first: string;
  last: string;
  initiator_ids: string[];
  initiator_names: string[];
  targets: string[];
}

/**
 * The matching records grouped by where they came from (`initiator_address`, null when
 * unknown), most first; with each source's time span and up to `maxNames` distinct
 * initiators and targets.
 */
export function selectAuditBySource(q: AuditFilters, limit: number, maxNames = 100): BoundQuery {
  const params: Record<string, unknown> = { limit, max_names: maxNames };
  return {
    sql: `SELECT initiator_address AS address, count() AS count, min(event_time) AS first, max(event_time) AS last,
        arraySort(groupUniqArray({max_names:UInt32})(initiator_id)) AS initiator_ids,
        arraySort(groupUniqArray({max_names:UInt32})(initiator_name)) AS initiator_names,
        arraySort(groupUniqArray({max_names:UInt32})(target_id)) AS targets
      FROM audit_records FINAL${whereClause(auditConditions(q, params))}
      GROUP BY address ORDER BY count DESC, address LIMIT {limit:UInt32}`,
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
