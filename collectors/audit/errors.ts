import { MalformedNotificationError } from '../notifications/envelope.ts';

/**
 * A notification that claims to be CADF (its payload has a typeURI) but lacks what
 * pycadf's Event.is_valid() requires. It extends MalformedNotificationError so the
 * notification listener dead-letters it like any other unreadable message. Stable code.
 */
export class MalformedCadfError extends MalformedNotificationError {
  /** The CADF attribute that is missing or unusable, e.g. `eventTime` or `initiator.id`. */
  readonly field: string;

  constructor(field: string, message: string) {
    super('CUMULUS_COLLECTOR_MALFORMED_CADF', message);
    this.name = 'MalformedCadfError';
    this.field = field;
  }
}
