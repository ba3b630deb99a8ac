import { deriveId, type AuditRecord } from '../../core/index.ts';
import { normaliseTimestamp, type Notification } from '../notifications/envelope.ts';
import { CADF_EVENT_TYPE_URI, CADF_UNKNOWN, isAuditEventType } from './cadf.ts';
import { MalformedCadfError } from './errors.ts';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);
const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
/** A who/where field: pycadf's `unknown` placeholder says "not known", which is null in a record. */
const known = (value: unknown): string | null => {
  const found = text(value);
  return found === CADF_UNKNOWN ? null : found;
};

/** keystonemiddleware tags each event `correlation_id?value=<uuid>` (pycadf's name?value= tag form). */
function correlationTag(tags: unknown): string | null {
  if (!Array.isArray(tags)) return null;
  for (const tag of tags) {
    if (typeof tag === 'string' && tag.startsWith('correlation_id?value=')) return text(tag.slice('correlation_id?value='.length));
  }
  return null;
}

/** The deterministic id of one phase of a CADF event: the request and response notifications share the CADF id. */
export function auditRecordId(cadfId: string, outcome: string): string {
  return deriveId('audit', cadfId, outcome);
}

/**
 * A CADF resource given either inline (`initiator`) or by reference (`initiatorId`), as
 * pycadf allows exactly one of the two: its id, and its attributes (none for a reference).
 */
function resourceOf(event: Json, role: 'initiator' | 'target' | 'observer', where: string): { id: string; resource: Json } {
  const inline = event[role];
  const reference = text(event[`${role}Id`]);
  if (isObject(inline)) {
    const id = text(inline.id);
    if (id === null) throw new MalformedCadfError(`${role}.id`, `${where} has a ${role} without an id; expected a non-empty string, got ${JSON.stringify(inline.id)}`);
    return { id, resource: inline };
  }
  if (reference !== null) return { id: reference, resource: {} };
  throw new MalformedCadfError(role, `${where} has no ${role}; expected a ${role} object with an id (or ${role}Id), got ${JSON.stringify(inline ?? reference)}`);
}

function requiredText(event: Json, field: string, where: string, expected: string): string {
  const value = text(event[field]);
  if (value === null) throw new MalformedCadfError(field, `${where} has no ${field}; expected ${expected}, got ${JSON.stringify(event[field])}`);
  return value;
}

/**
 * Flattens a CADF audit notification to the 7 Ws, keeping the raw event. Reads
 * keystonemiddleware's `audit.http.request` / `audit.http.response`, Keystone's
 * `identity.*` and the control plane's `cloud.fault.*` events, and any other
 * notification whose payload's typeURI is the CADF event's. Returns null for a payload
 * that is not CADF (no typeURI: Keystone's basic notification format) and for other
 * notifications. A CADF payload missing what pycadf requires (id, eventTime, action,
 * outcome, initiator, target, observer) throws MalformedCadfError
 * (CUMULUS_COLLECTOR_MALFORMED_CADF) naming the field. Stable.
 */
export function toAuditRecord(notification: Notification): AuditRecord | null {
  const event = notification.payload;
  // Under any other event type, only a payload that names itself a CADF event is one: a typeURI alone says nothing there.
  if (!isAuditEventType(notification.event_type) && event.typeURI !== CADF_EVENT_TYPE_URI) return null;
  if (!('typeURI' in event)) return null;
  const where = `CADF event in ${notification.event_type} ${notification.message_id}`;
  if (event.typeURI !== CADF_EVENT_TYPE_URI) throw new MalformedCadfError('typeURI', `${where} has typeURI ${JSON.stringify(event.typeURI)}; expected ${CADF_EVENT_TYPE_URI}`);

  const cadfId = requiredText(event, 'id', where, 'a non-empty string (pycadf generates a UUID)');
  const eventTimeRaw = requiredText(event, 'eventTime', where, 'a timestamp like 2026-01-01T10:00:00.123456+0000');
  const eventTime = normaliseTimestamp(eventTimeRaw);
  if (eventTime === null) throw new MalformedCadfError('eventTime', `${where} has eventTime ${JSON.stringify(eventTimeRaw)}; expected a timestamp like 2026-01-01T10:00:00.123456+0000`);
  const action = requiredText(event, 'action', where, 'a CADF action such as read/list or authenticate');
  const outcome = requiredText(event, 'outcome', where, 'success, failure, pending or unknown');
  const { id: initiatorId, resource: initiator } = resourceOf(event, 'initiator', where);
  const { id: targetId, resource: target } = resourceOf(event, 'target', where);
  const { id: observerId, resource: observer } = resourceOf(event, 'observer', where);

  const host = isObject(initiator.host) ? initiator.host : {};
  const addresses = Array.isArray(target.addresses) ? target.addresses : [];
  const firstAddress: unknown = addresses[0];
  const reason = isObject(event.reason) ? event.reason : {};

  return {
    id: auditRecordId(cadfId, outcome),
    // what
    action,
    outcome,
    event_type: notification.event_type,
    type_uri: CADF_EVENT_TYPE_URI,
    // when
    event_time: eventTime,
    // who: Keystone's failed logins name the account asked for in user_name (unknown user) or username.
    initiator_id: initiatorId,
    initiator_type: text(initiator.typeURI) ?? CADF_UNKNOWN,
    initiator_name: known(initiator.name) ?? known(initiator.username) ?? known(initiator.user_name),
    project_id: known(initiator.project_id) ?? known(notification.context.project_id),
    // from where
    initiator_address: known(host.address),
    initiator_agent: known(host.agent),
    // on what
    target_id: targetId,
    target_type: text(target.typeURI) ?? CADF_UNKNOWN,
    // where
    observer_id: observerId,
    observer_type: text(observer.typeURI) ?? CADF_UNKNOWN,
    // to where
    target_address: (isObject(firstAddress) ? text(firstAddress.url) : null) ?? text(event.requestPath),
    reason_code: text(reason.reasonCode),
    // The initiator's is the API's own request id; the context's is the notifier's; the tag is keystonemiddleware's last resort.
    request_id: text(initiator.request_id) ?? text(notification.context.request_id) ?? correlationTag(event.tags),
    raw: event,
  };
}
