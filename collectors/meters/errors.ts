import { CumulusError } from '../../core/index.ts';

/** A meter definition file that cannot be used; names the file, the meter and the field. */
export class MeterDefinitionError extends CumulusError {
  constructor(message: string, cause?: unknown) {
    super('CUMULUS_COLLECTOR_METER_DEFINITION_INVALID', message, { httpStatus: 400, cause });
    this.name = 'MeterDefinitionError';
  }
}

/**
 * Why the mapper refuses a whole notification (it goes to dead letters with the code).
 * Each is a case where Ceilometer loses the whole notification too.
 */
export const MAPPING_ERROR_CODES = {
  /** The sample's time (the definition's `timestamp`, else the notification's) is not an ISO 8601 time. */
  badTimestamp: 'CUMULUS_COLLECTOR_BAD_TIMESTAMP',
  /** A jsonpath failed where Python raises (an index into null, a filter comparing a string with a number...). */
  fieldFailed: 'CUMULUS_COLLECTOR_METER_FIELD_FAILED',
  /** A volume is a list or a mapping, not a number. */
  badVolume: 'CUMULUS_COLLECTOR_BAD_VOLUME',
} as const;
