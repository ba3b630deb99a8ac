import { CumulusError } from '../core/index.ts';

/** A control-plane API refusal; rendered in the shape the real service uses for its status. */
export class CloudApiError extends CumulusError {
  constructor(code: string, httpStatus: number, message: string) {
    super(code, message, { httpStatus });
    this.name = 'CloudApiError';
  }
}

export const notFound = (what: string) => new CloudApiError('CUMULUS_CLOUD_NOT_FOUND', 404, what);
export const badRequest = (what: string) => new CloudApiError('CUMULUS_CLOUD_BAD_REQUEST', 400, what);
export const unauthorized = (what = 'The request you have made requires authentication.') => new CloudApiError('CUMULUS_AUTH_TOKEN_INVALID', 401, what);
export const forbidden = (what: string) => new CloudApiError('CUMULUS_CLOUD_FORBIDDEN', 403, what);
export const conflict = (what: string) => new CloudApiError('CUMULUS_CLOUD_CONFLICT', 409, what);

/** Keystone's error body: `{"error": {"code", "message", "title"}}`. */
export function keystoneErrorBody(status: number, message: string): object {
  const titles: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict' };
  return { error: { code: status, message, title: titles[status] ?? 'Internal Server Error' } };
}

/** Nova's error body: `{"<faultName>": {"code", "message"}}`. */
export function novaErrorBody(status: number, message: string): object {
  const names: Record<number, string> = { 400: 'badRequest', 401: 'unauthorized', 403: 'forbidden', 404: 'itemNotFound', 409: 'conflictingRequest' };
  return { [names[status] ?? 'computeFault']: { code: status, message } };
}
