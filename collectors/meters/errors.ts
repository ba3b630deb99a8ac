import { CumulusError } from '../../core/index.ts';

/** A meter definition file that cannot be used; names the file, the meter and the field. */
export class MeterDefinitionError extends CumulusError {
  constructor(message: string, cause?: unknown) {
    super('CUMULUS_COLLECTOR_METER_DEFINITION_INVALID', message, { httpStatus: 400, cause });
    this.name = 'MeterDefinitionError';
  }
}
