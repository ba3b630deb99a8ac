import { TransportError } from '../../core/index.ts';

/** Stable codes of the compute source's failures. */
export const POLLSTER_ERROR_CODES = {
  /** Keystone refused the credentials (or the token was refused twice in a row). */
  authFailed: 'CUMULUS_POLLSTER_AUTH_FAILED',
  /** Keystone or the admin API could not be reached, timed out or answered 5xx. */
  sourceUnavailable: 'CUMULUS_POLLSTER_SOURCE_UNAVAILABLE',
  /** The admin API refused the request (403, 404, ...): retrying will not help by itself. */
  sourceRefused: 'CUMULUS_POLLSTER_SOURCE_REFUSED',
  /** An answer that is not the JSON the admin API documents. */
  badResponse: 'CUMULUS_POLLSTER_BAD_RESPONSE',
} as const;

export type PollsterErrorCode = (typeof POLLSTER_ERROR_CODES)[keyof typeof POLLSTER_ERROR_CODES];

/** A compute source call that failed; `status` is the HTTP status when one came back. */
export class ComputeSourceError extends TransportError {
  readonly status: number | null;

  constructor(code: PollsterErrorCode, message: string, options: { status?: number | null; cause?: unknown } = {}) {
    super(code, message, options.cause);
    this.name = 'ComputeSourceError';
    this.status = options.status ?? null;
  }
}
