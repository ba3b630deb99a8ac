import type { AuditRecord } from '../../core/index.ts';
import { selectAuditRecords, type AuditFilters, type AuditRow } from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { encodeCursor } from './cursor.ts';
import type { PageRequest } from './filters.ts';
import { AUDIT_RECORD_SCHEMA, auditView } from './format.ts';

export interface AuditPage {
  records: AuditRecord[];
  /** The cursor of the next page; null on the last one. */
  next: string | null;
}

export const PAGE_SCHEMA = {
  records: { type: 'array', items: AUDIT_RECORD_SCHEMA },
  next: { type: 'string', nullable: true, description: 'pass as next= (with the same filters) for the following page; null on the last page' },
} as const;

/** One page of records; one row more is read to know whether a next page exists. */
export async function readAuditPage(context: ApiContext, filters: AuditFilters, page: PageRequest): Promise<AuditPage> {
  const rows = await context.store.query<AuditRow>(selectAuditRecords({ ...filters, limit: page.limit + 1, order: page.order, ...(page.after ? { after: page.after } : {}) }));
  const shown = rows.slice(0, page.limit);
  const last = shown[shown.length - 1];
  return {
    records: shown.map(auditView),
    next: rows.length > page.limit && last ? encodeCursor({ eventTime: last.event_time, id: last.id, order: page.order }) : null,
  };
}
