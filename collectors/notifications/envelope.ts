import { CumulusError } from '../../core/index.ts';

/** A notification as oslo.messaging delivers it, after the v2 envelope (if any) is opened. */
export interface Notification {
  message_id: string;
  publisher_id: string;
  event_type: string;
  priority: string;
  payload: Record<string, unknown>;
  /** As the publisher wrote it (oslo: naive UTC `YYYY-MM-DD HH:MM:SS.ffffff`). */
  timestamp: string;
  /** The `_context_*` keys, without the prefix. */
  context: Record<string, unknown>;
}

/** Why a message could not be read; the code goes with the dead letter. */
export class MalformedNotificationError extends CumulusError {
  constructor(code: string, message: string) {
    super(code, message, { httpStatus: 400 });
    this.name = 'MalformedNotificationError';
  }
}

export const MAX_NOTIFICATION_BYTES = 4 * 1024 * 1024;

/**
 * Opens a message body: the oslo.messaging v2 envelope `{"oslo.version": "2.0",
 * "oslo.message": "<json>"}`, or the legacy v1 form where the body is the message itself.
 */
export function openEnvelope(body: Buffer): Notification {
  if (body.length > MAX_NOTIFICATION_BYTES) {
    throw new MalformedNotificationError('CUMULUS_COLLECTOR_MESSAGE_TOO_LARGE', `message is ${body.length} bytes; the limit is ${MAX_NOTIFICATION_BYTES}`);
  }
  let outer: unknown;
  try {
    outer = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new MalformedNotificationError('CUMULUS_COLLECTOR_MALFORMED_JSON', `body is not JSON: ${(err as Error).message}`);
  }
  if (outer === null || typeof outer !== 'object' || Array.isArray(outer)) throw new MalformedNotificationError('CUMULUS_COLLECTOR_MALFORMED_ENVELOPE', 'body must be a JSON object');
  let message = outer as Record<string, unknown>;
  if ('oslo.version' in message || 'oslo.message' in message) {
    const version = message['oslo.version'];
    if (version !== '2.0') throw new MalformedNotificationError('CUMULUS_COLLECTOR_UNKNOWN_ENVELOPE_VERSION', `oslo.version must be "2.0", got ${JSON.stringify(version)}`);
    const inner = message['oslo.message'];
    if (typeof inner !== 'string') throw new MalformedNotificationError('CUMULUS_COLLECTOR_MALFORMED_ENVELOPE', 'oslo.message must be a JSON string');
    try {
      message = JSON.parse(inner) as Record<string, unknown>;
    } catch (err) {
      throw new MalformedNotificationError('CUMULUS_COLLECTOR_MALFORMED_JSON', `oslo.message is not JSON: ${(err as Error).message}`);
    }
    if (message === null || typeof message !== 'object' || Array.isArray(message)) throw new MalformedNotificationError('CUMULUS_COLLECTOR_MALFORMED_ENVELOPE', 'oslo.message must hold a JSON object');
  }
  for (const field of ['message_id', 'event_type', 'publisher_id'] as const) {
    if (typeof message[field] !== 'string' || message[field] === '') throw new MalformedNotificationError('CUMULUS_COLLECTOR_MISSING_FIELD', `notification has no ${field} (a non-empty string is required)`);
  }
  const payload = message.payload;
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new MalformedNotificationError('CUMULUS_COLLECTOR_MISSING_FIELD', 'notification payload must be a JSON object');
  const context: Record<string, unknown> = {};
  for (const key in message) if (key.startsWith('_context_')) context[key.slice(9)] = message[key];
  return {
    message_id: message.message_id as string,
    publisher_id: message.publisher_id as string,
    event_type: message.event_type as string,
    priority: typeof message.priority === 'string' ? message.priority : 'INFO',
    payload: payload as Record<string, unknown>,
    timestamp: typeof message.timestamp === 'string' ? message.timestamp : '',
    context,
  };
}

/** oslo's naive UTC timestamp to ISO 8601 with an explicit zone; ISO input passes through. */
export function normaliseTimestamp(value: string): string | null {
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d{1,6})?(Z|[+-]\d{2}:?\d{2})?$/.exec(value.trim());
  if (!match) return null;
  // The shape alone lets 2026-13-02 or 25:61 through: the fields must name a real instant.
  const check = new Date(`${match[1]}T${match[2]}Z`);
  if (Number.isNaN(check.getTime()) || check.toISOString().slice(0, 19) !== `${match[1]}T${match[2]}`) return null;
  const zone = !match[4] || match[4] === 'Z' || match[4] === '+00:00' || match[4] === '+0000' ? '+00:00' : match[4];
  if (zone !== '+00:00') {
    const parsed = new Date(value);
    return Number.isNaN(parsed.getTime()) ? null : parsed.toISOString().replace('Z', '+00:00');
  }
  return `${match[1]}T${match[2]}${match[3] ?? ''}+00:00`;
}
