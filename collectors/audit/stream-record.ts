import type { AuditRecord, StreamRecord } from '../../core/index.ts';

/**
 * An audit record as it goes to `cumulus.audit`: keyed by the CADF event id, so the
 * request and response of one API call land in one partition, in the order sent. Stable.
 */
export function auditStreamRecord(record: AuditRecord): StreamRecord {
  const cadfId = typeof record.raw.id === 'string' ? record.raw.id : record.id;
  return { key: cadfId, value: Buffer.from(JSON.stringify(record)) };
}
