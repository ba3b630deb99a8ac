import { createHash, randomUUID } from 'node:crypto';

/**
 * The CADF data model as pycadf serialises it (`event.as_dict()`): plain objects whose
 * keys appear in pycadf's attribute order, so our events read like OpenStack's own.
 * Stable wire contract.
 */

export const CADF_EVENT_TYPE_URI = 'http://schemas.dmtf.org/cloud/audit/1.0/event';
export const EVENT_TYPE_ACTIVITY = 'activity';
/** pycadf's taxonomy.UNKNOWN: used for every field the middleware cannot fill. */
export const UNKNOWN = 'unknown';
export const ACCOUNT_USER = 'service/security/account/user';
export const SERVICE_SECURITY = 'service/security';

export type CadfOutcome = 'success' | 'failure' | 'pending' | 'unknown';

export interface CadfHost {
  address?: string;
  agent?: string;
}

export interface CadfEndpoint {
  url: string;
  name?: string;
}

export interface CadfCredential {
  /** Always masked (maskToken): a bearer token must never reach the bus. */
  token: string;
  identity_status?: string;
}

export interface CadfResource {
  id: string;
  typeURI?: string;
  name?: string;
  credential?: CadfCredential;
  host?: CadfHost;
  addresses?: CadfEndpoint[];
  /** keystonemiddleware and Keystone add their own keys (project_id, request_id, user_id...). */
  [extra: string]: unknown;
}

export interface CadfReason {
  reasonType: string;
  reasonCode: string;
}

export interface CadfReporterStep {
  role: 'modifier' | 'observer' | 'relay';
  reporterTime: string;
  reporter: CadfResource;
}

export interface CadfEvent {
  typeURI: typeof CADF_EVENT_TYPE_URI;
  eventType: 'activity' | 'monitor' | 'control';
  id: string;
  eventTime: string;
  action: string;
  outcome: CadfOutcome;
  observer: CadfResource;
  initiator: CadfResource;
  target: CadfResource;
  reason?: CadfReason;
  requestPath?: string;
  tags?: string[];
  reporterchain?: CadfReporterStep[];
  /** Keystone sets extra keys on its events (resource_info, role, project...). */
  [extra: string]: unknown;
}

/** RFC 4122 version 5 from raw bytes: the `uuid` package refuses pycadf's namespace, which is not a valid UUID. */
function uuid5(namespaceHex: string, name: string): string {
  const hash = createHash('sha1').update(Buffer.from(namespaceHex, 'hex')).update(name, 'utf8').digest().subarray(0, 16);
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** pycadf's AUDIT_NS: the first 32 hex digits of sha256 of `[audit] namespace` (default `openstack`). */
const AUDIT_NAMESPACE_HEX = createHash('sha256').update('openstack').digest('hex').slice(0, 32);

/** pycadf's identifier.generate_uuid(): uuid5(AUDIT_NS, uuid4), dashed. */
export function cadfId(): string {
  return uuid5(AUDIT_NAMESPACE_HEX, randomUUID());
}

/** Keystone's RESOURCE_ID_NAMESPACE (keystone/common/utils.py). */
const KEYSTONE_RESOURCE_NAMESPACE_HEX = '4332ecab770b4288a680b9aca3b1b153';

/**
 * Keystone's utils.resource_uuid(): an id that already parses as a UUID is kept as is
 * (Keystone's 32-hex ids do), anything else up to 64 characters becomes uuid5 hex.
 */
export function resourceUuid(value: string): string {
  const compact = value.replace(/^urn:uuid:/i, '').replace(/^\{(.*)\}$/, '$1').replace(/-/g, '');
  if (/^[0-9a-f]{32}$/i.test(compact)) return value;
  if (value.length > 64) throw new RangeError(`a resource id is at most 64 characters to be turned into a UUID; got ${value.length}`);
  return uuid5(KEYSTONE_RESOURCE_NAMESPACE_HEX, value).replace(/-/g, '');
}

/** pycadf's timestamp format `%Y-%m-%dT%H:%M:%S.%f%z` in UTC, e.g. 2026-01-01T10:00:00.123000+0000. */
export function cadfTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}.${String(date.getUTCMilliseconds()).padStart(3, '0')}000+0000`;
}

/** Python 3's round(): halves go to the even neighbour (round(2.5) == 2), unlike Math.round. */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * pycadf's utils.mask_value(): keeps 12.5% of the characters at each end (at most 32)
 * around ` xxxxxxxx `, so operators can tell tokens apart without being able to use one.
 * One deliberate difference: pycadf shows a token shorter than 4 characters whole
 * (`value[-0:]` is the whole string in Python); we show nothing of it.
 */
export function maskToken(value: string): string {
  const visible = Math.min(32, roundHalfEven(value.length * 0.125));
  return visible === 0 ? ' xxxxxxxx ' : `${value.slice(0, visible)} xxxxxxxx ${value.slice(-visible)}`;
}

/** The outcome keystonemiddleware derives from an HTTP status: 2xx and 3xx succeed. */
export function outcomeOfStatus(status: number): 'success' | 'failure' {
  return status >= 200 && status < 400 ? 'success' : 'failure';
}
