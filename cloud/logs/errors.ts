import { CumulusError, InvalidInputError } from '../../core/index.ts';

/** A host or service name that cannot be a file name (it would escape the log directory). */
export const invalidLogName = (field: 'host' | 'service', value: string) =>
  new InvalidInputError('CUMULUS_LOGS_NAME_INVALID', `log ${field} must be one word of letters, digits, '.', '_' or '-' (it names a file); got ${JSON.stringify(value)}`);

/** A write after stop(): the files are closed. */
export const writerStopped = () =>
  new CumulusError('CUMULUS_LOGS_WRITER_STOPPED', 'the service log writer is stopped; start a new one before writing');
