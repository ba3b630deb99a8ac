import { CumulusError } from '../../core/index.ts';

/**
 * An event definitions file that cannot be used. The message names the file, the
 * definition (its position and event types), the trait and the field; the same facts are
 * on the error for programs. Stable code.
 */
export class EventDefinitionError extends CumulusError {
  constructor(
    message: string,
    readonly origin: string,
    readonly definition: number | null = null,
    readonly field: string | null = null,
    cause?: unknown,
  ) {
    super('CUMULUS_COLLECTOR_EVENT_DEFINITION_INVALID', message, { httpStatus: 400, cause });
    this.name = 'EventDefinitionError';
  }
}

/**
 * A notification whose traits cannot be converted the way its definition asks (`int` of
 * "3.0", a datetime that is not one, a path jsonpath_rw cannot read). Ceilometer logs and
 * drops such a notification; we dead-letter it, so it can be replayed. Stable code.
 */
export const EVENT_TRAIT_INVALID = 'CUMULUS_COLLECTOR_EVENT_TRAIT_INVALID';

/** The notification's own timestamp is not a time: no `generated` for the event. Shared with the meter mapper. */
export const BAD_TIMESTAMP = 'CUMULUS_COLLECTOR_BAD_TIMESTAMP';
