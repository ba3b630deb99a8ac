/**
 * cloud/audit: CADF audit as OpenStack emits it. keystonemiddleware's audit filter
 * (`audit.http.request` / `audit.http.response` on each service's control exchange) and
 * Keystone's own identity notifications (`identity.authenticate`, `identity.<type>.<op>`).
 */
export * from './cadf.ts';
export * from './audit-map.ts';
export * from './middleware.ts';
export * from './identity.ts';
