import { CumulusError } from '../../core/index.ts';

/** The rating processor's error catalogue. */
export type RatingErrorCode =
  /** A service definition (services.yaml) is malformed; the message names the file, service and field. */
  | 'CUMULUS_RATING_SERVICES_INVALID'
  /** The processor's config is out of range; names the key. */
  | 'CUMULUS_RATING_CONFIG_INVALID'
  /** Periods collected together must follow each other (a programming error). */
  | 'CUMULUS_RATING_PERIODS_NOT_CONSECUTIVE';

export class RatingError extends CumulusError {
  constructor(code: RatingErrorCode, message: string, cause?: unknown) {
    super(code, message, { httpStatus: 500, cause });
    this.name = 'RatingError';
  }
}
