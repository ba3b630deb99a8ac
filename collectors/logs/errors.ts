import { CumulusError } from '../../core/index.ts';

/** The offsets file cannot be read back: the tailer starts over (the record ids make re-reading harmless). */
export class LogOffsetsError extends CumulusError {
  constructor(message: string, cause?: unknown) {
    super('CUMULUS_COLLECTOR_LOG_OFFSETS_INVALID', message, { httpStatus: 500, cause });
    this.name = 'LogOffsetsError';
  }
}
