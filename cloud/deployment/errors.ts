import { CloudApiError } from '../errors.ts';

/**
 * The deployment's error catalogue. Codes are stable; the admin API renders each with
 * its status (see routes.ts).
 */

/** A request field is missing or malformed: names the field, what it must be and what came. */
export const invalidField = (field: string, expected: string, got: unknown) =>
  new CloudApiError('CUMULUS_DEPLOYMENT_FIELD_INVALID', 400, `${field} must be ${expected}; got ${got === undefined ? 'nothing' : JSON.stringify(got)}`);

export const unknownHost = (host: string, known: readonly string[]) =>
  new CloudApiError('CUMULUS_DEPLOYMENT_HOST_UNKNOWN', 400, `host must be one of the deployment's hosts (${known.join(', ')}); got ${JSON.stringify(host)}`);

export const unknownProcess = (host: string, process: string, known: readonly string[]) =>
  new CloudApiError('CUMULUS_DEPLOYMENT_PROCESS_UNKNOWN', 400, `process must be one that runs on ${host} (${known.join(', ')}); got ${JSON.stringify(process)}`);

/** The action does not apply to the state the process or host is in (stop a stopped process...). */
export const stateConflict = (what: string, state: string, action: string, expected: string) =>
  new CloudApiError('CUMULUS_DEPLOYMENT_STATE_CONFLICT', 409, `cannot ${action} ${what}: it is ${state}; ${action} needs it ${expected}`);

export const notAdmin = () => new CloudApiError('CUMULUS_DEPLOYMENT_FORBIDDEN', 403, 'the deployment admin API needs the admin role');

/** An operation before start() (the model is loaded from the database at start). */
export const notStarted = () => new CloudApiError('CUMULUS_DEPLOYMENT_NOT_STARTED', 503, 'the deployment is not started; call start() before injecting faults');
