import type { AuditRecord } from '../../core/index.ts';
import { auditRecordFromRow, type AuditRow } from '../../storage/index.ts';

/** A record as the API shows it: the collector's AuditRecord (event_time ISO 8601 UTC, raw CADF parsed). */
export function auditView(row: AuditRow): AuditRecord {
  return auditRecordFromRow(row);
}

/** A stored DateTime64 (`2026-01-01 10:00:00.123456`) as ISO 8601 UTC (`2026-01-01T10:00:00.123456+00:00`). */
export function isoTime(stored: string): string {
  return `${stored.replace(' ', 'T')}+00:00`;
}

/** The OpenAPI shape of a record. */
export const AUDIT_RECORD_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    event_time: { type: 'string' },
    action: { type: 'string' },
    outcome: { type: 'string' },
    event_type: { type: 'string' },
    type_uri: { type: 'string' },
    initiator_id: { type: 'string' },
    initiator_type: { type: 'string' },
    initiator_name: { type: 'string', nullable: true },
    project_id: { type: 'string', nullable: true },
    initiator_address: { type: 'string', nullable: true },
    initiator_agent: { type: 'string', nullable: true },
    target_id: { type: 'string' },
    target_type: { type: 'string' },
    target_address: { type: 'string', nullable: true },
    observer_id: { type: 'string' },
    observer_type: { type: 'string' },
    reason_code: { type: 'string', nullable: true },
    request_id: { type: 'string', nullable: true },
    raw: { type: 'object', additionalProperties: true, description: 'the CADF event as received' },
  },
} as const;
