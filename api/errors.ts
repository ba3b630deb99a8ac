import { CumulusError } from '../core/index.ts';

/** An API refusal: a stable code, the HTTP status, and a message that says what to fix. */
export class ApiError extends CumulusError {
  constructor(code: string, httpStatus: number, message: string) {
    super(code, message, { httpStatus });
    this.name = 'ApiError';
  }
}

export const invalidParameter = (name: string, expected: string, got: unknown) =>
  new ApiError('CUMULUS_API_INVALID_PARAMETER', 400, `Invalid value for ${name}: expected ${expected}, got ${JSON.stringify(got)}`);

const TITLES: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 503: 'Service Unavailable' };

/** Gnocchi's error body (pecan/webob JSON errors): `{code, title, description}`. */
export function gnocchiErrorBody(status: number, description: string): object {
  return { code: status, title: TITLES[status] ?? 'Internal Server Error', description };
}
