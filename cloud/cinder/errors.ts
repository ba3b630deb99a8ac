import { CloudApiError, badRequest, conflict, forbidden, notFound } from '../errors.ts';

/**
 * Cinder's refusals, worded as cinder/exception.py words them, so clients (and people
 * reading the CLI's output) see what a real Cinder says.
 */
export const volumeNotFound = (id: string) => notFound(`Volume ${id} could not be found.`);
export const snapshotNotFound = (id: string) => notFound(`Snapshot ${id} could not be found.`);
export const backupNotFound = (id: string) => notFound(`Backup ${id} could not be found.`);
export const volumeTypeNotFound = (id: string) => notFound(`Volume type ${id} could not be found.`);
export const volumeTypeNotFoundByName = (name: string) => notFound(`Volume type with name ${name} could not be found.`);
export const attachmentNotFound = (filter: string) => notFound(`Volume attachment could not be found with filter: ${filter}.`);
export const metadataKeyNotFound = (id: string, key: string) => notFound(`Volume ${id} has no metadata with key ${key}.`);

export const invalidVolume = (reason: string) => badRequest(`Invalid volume: ${reason}`);
export const invalidSnapshot = (reason: string) => badRequest(`Invalid snapshot: ${reason}`);
export const invalidBackup = (reason: string) => badRequest(`Invalid backup: ${reason}`);
export const invalidInput = (reason: string) => badRequest(`Invalid input received: ${reason}`);
export const invalidAvailabilityZone = (az: string) => badRequest(`Availability zone '${az}' is invalid.`);
export const volumeTypeExists = (id: string) => conflict(`Volume Type ${id} already exists.`);
export const policyNotAuthorized = (action: string) => forbidden(`Policy doesn't allow ${action} to be performed.`);
export const malformedUrl = () => badRequest('Malformed request url');

export const invalidApiVersionString = (version: string) =>
  new CloudApiError('CUMULUS_CLOUD_BAD_MICROVERSION', 400, `API Version String ${version} is of invalid format. Must be of format MajorNum.MinorNum.`);
export const unsupportedApiVersion = (version: string, min: string, max: string) =>
  new CloudApiError('CUMULUS_CLOUD_BAD_MICROVERSION', 406, `Version ${version} is not supported by the API. Minimum is ${min} and maximum is ${max}.`);

/** Fault names of cinder/api/openstack/wsgi.py; anything else is a computeFault (sic). */
const FAULT_NAMES: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

/** Cinder's error body: `{"<faultName>": {"code", "message"}}`. */
export function cinderErrorBody(status: number, message: string): object {
  return { [FAULT_NAMES[status] ?? 'computeFault']: { code: status, message } };
}
