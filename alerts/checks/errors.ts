import { CumulusError } from '../../core/index.ts';

/** The synthetic checks' error catalogue (stable codes). */
export const CHECK_ERROR_CODES = {
  /** A prober or built-in rule setting is missing or out of range. */
  configInvalid: 'CUMULUS_CHECK_CONFIG_INVALID',
  /** A step of a transaction got an answer it did not expect (status, body). */
  stepFailed: 'CUMULUS_CHECK_STEP_FAILED',
  /** A transaction did not finish within its check's timeout. */
  timeout: 'CUMULUS_CHECK_TIMEOUT',
  /** The monitoring project, its user, quotas or flavor could not be set up. */
  setupFailed: 'CUMULUS_CHECK_SETUP_FAILED',
} as const;

/** A setting the prober or the built-in rules refuse; the message names the field, what it must be and what came. */
export class CheckConfigError extends CumulusError {
  constructor(field: string, expected: string, received: unknown) {
    super(CHECK_ERROR_CODES.configInvalid, `${field}: expected ${expected}, got ${received === undefined ? 'nothing' : JSON.stringify(received)}`, { httpStatus: 500 });
    this.name = 'CheckConfigError';
  }
}

/**
 * Why a check run failed: which step, against which URL, and what came back. Its
 * message is what the `error` column of `check_results` and the status board show.
 */
export class CheckFailure extends CumulusError {
  readonly step: string;
  readonly status: number | null;
  constructor(code: string, step: string, message: string, options: { status?: number | null; cause?: unknown } = {}) {
    super(code, `${step}: ${message}`, { httpStatus: 503, cause: options.cause });
    this.name = 'CheckFailure';
    this.step = step;
    this.status = options.status ?? null;
  }
}
