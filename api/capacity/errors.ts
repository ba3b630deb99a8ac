import { CumulusError } from '../../core/index.ts';

/** The capacity planner's error catalogue (experimental). Every message names the key or input at fault. */
export type CapacityErrorCode =
  /** A capacity-model or forecast option is out of range; the message names the key and its allowed range. */
  | 'CUMULUS_CAPACITY_CONFIG_INVALID'
  /** A series is malformed (bad start, step or values) or has too few known points. */
  | 'CUMULUS_CAPACITY_SERIES_INVALID'
  /** A series is too short for any forecast model at the requested horizon; says how many points are needed. */
  | 'CUMULUS_CAPACITY_SERIES_TOO_SHORT'
  /** A host inventory, allocation or flavor is malformed; names the host or flavor and the field. */
  | 'CUMULUS_CAPACITY_INVENTORY_INVALID';

export class CapacityError extends CumulusError {
  constructor(code: CapacityErrorCode, message: string, cause?: unknown) {
    super(code, message, { httpStatus: 400, cause });
    this.name = 'CapacityError';
  }
}
