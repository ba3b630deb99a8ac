/** The CADF vocabulary the audit capture reads. Stable. */

/** pycadf's cadftype.CADF_EVENT: the typeURI every CADF event carries. */
export const CADF_EVENT_TYPE_URI = 'http://schemas.dmtf.org/cloud/audit/1.0/event';

/** pycadf's cadftaxonomy.UNKNOWN: what the emitters write for a field they could not fill. */
export const CADF_UNKNOWN = 'unknown';

/** keystonemiddleware's audit filter: one event per request, sent twice. */
export const AUDIT_HTTP_EVENT_TYPES: readonly string[] = ['audit.http.request', 'audit.http.response'];

/**
 * Event types whose payload, when it has a typeURI, must be CADF: Keystone's
 * (identity.authenticate, identity.<resource>.<operation>) and the control plane's fault
 * trail (cloud.fault.<action>, cloud/deployment).
 */
export const AUDIT_EVENT_TYPE_PREFIXES: readonly string[] = ['identity.', 'cloud.fault.'];

/** Whether a notification's event type is one the audit capture reads (its payload may still be basic-format). */
export function isAuditEventType(eventType: string): boolean {
  return AUDIT_HTTP_EVENT_TYPES.includes(eventType) || AUDIT_EVENT_TYPE_PREFIXES.some((prefix) => eventType.startsWith(prefix));
}
