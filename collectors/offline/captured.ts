import { MalformedNotificationError } from '../notifications/envelope.ts';

/** One line of a capture: the message body, and where it was taken from when known. */
export interface CapturedMessage {
  exchange: string | null;
  routingKey: string | null;
  body: Buffer;
}

/**
 * Reads one JSON line of a capture: either a raw message body (the oslo envelope, or a
 * legacy unwrapped notification), or `{exchange, routing_key, body}` as a bus tap writes
 * it, where body is the JSON text or the parsed object.
 */
export function parseCapturedLine(line: string): CapturedMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new MalformedNotificationError('CUMULUS_COLLECTOR_MALFORMED_JSON', `line is not JSON: ${(err as Error).message}`);
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'body' in value && ('exchange' in value || 'routing_key' in value)) {
    const captured = value as { exchange?: unknown; routing_key?: unknown; body: unknown };
    const body = typeof captured.body === 'string' ? captured.body : JSON.stringify(captured.body);
    return {
      exchange: typeof captured.exchange === 'string' ? captured.exchange : null,
      routingKey: typeof captured.routing_key === 'string' ? captured.routing_key : null,
      body: Buffer.from(body),
    };
  }
  return { exchange: null, routingKey: null, body: Buffer.from(line) };
}
