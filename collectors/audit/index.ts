/**
 * collectors/audit: CADF audit capture. keystonemiddleware's `audit.http.*`, Keystone's
 * `identity.*` and the control plane's `cloud.fault.*` CADF notifications become
 * AuditRecords (the 7 Ws plus the raw event) for `cumulus.audit`. Stable.
 */
export { toAuditRecord, auditRecordId } from './mapper.ts';
export { auditStreamRecord } from './stream-record.ts';
export { MalformedCadfError } from './errors.ts';
export { CADF_EVENT_TYPE_URI, CADF_UNKNOWN, AUDIT_HTTP_EVENT_TYPES, AUDIT_EVENT_TYPE_PREFIXES, isAuditEventType } from './cadf.ts';
