/**
 * The error catalogue's base. Every error Cumulus raises on purpose carries a stable
 * code (`CUMULUS_<AREA>_<WHAT>`), an HTTP status where one applies, and a message that
 * says what was expected and what came, so an operator can fix the cause. Stable API.
 */
export class CumulusError extends Error {
  readonly code: string;
  readonly httpStatus: number;

  constructor(code: string, message: string, options: { httpStatus?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CumulusError';
    this.code = code;
    this.httpStatus = options.httpStatus ?? 500;
  }
}

/** A configuration value is missing or malformed; names the key and what it must be. */
export class ConfigError extends CumulusError {
  constructor(message: string, cause?: unknown) {
    super('CUMULUS_CONFIG_INVALID', message, { httpStatus: 500, cause });
    this.name = 'ConfigError';
  }
}

/** A transport (bus, stream, store) could not be reached or refused an operation. */
export class TransportError extends CumulusError {
  constructor(code: string, message: string, cause?: unknown) {
    super(code, message, { httpStatus: 503, cause });
    this.name = 'TransportError';
  }
}

/** Input from outside (an API call, a message) is not what the contract expects. */
export class InvalidInputError extends CumulusError {
  constructor(code: string, message: string, cause?: unknown) {
    super(code, message, { httpStatus: 400, cause });
    this.name = 'InvalidInputError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
