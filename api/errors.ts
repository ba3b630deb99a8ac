import { CumulusError } from '../core/index.ts';

/** An API refusal: a stable code, the HTTP status, and a message that says what to fix. */
export class ApiError extends CumulusError {
  constructor(code: string, httpStatus: number, message: string) {
    super(code, message, { httpStatus });
    this.name = 'ApiError';
  }
}

/** An ApiError whose Gnocchi body carries an object description (`{cause, detail, reason}`), as Gnocchi words some errors. */
export class DescribedApiError extends ApiError {
  constructor(
    code: string,
    httpStatus: number,
    message: string,
    readonly description: Readonly<Record<string, unknown>>,
  ) {
    super(code, httpStatus, message);
    this.name = 'DescribedApiError';
  }
}

export const invalidParameter = (name: string, expected: string, got: unknown) =>
  new ApiError('CUMULUS_API_INVALID_PARAMETER', 400, `Invalid value for ${name}: expected ${expected}, got ${JSON.stringify(got)}`);

const TITLES: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 415: 'Unsupported Media Type', 503: 'Service Unavailable' };

/** Gnocchi's error body (pecan/webob JSON errors): `{code, title, description}`. */
export function gnocchiErrorBody(status: number, description: string | Readonly<Record<string, unknown>>): object {
  return { code: status, title: TITLES[status] ?? 'Internal Server Error', description };
}
