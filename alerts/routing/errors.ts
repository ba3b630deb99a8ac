import { CumulusError } from '../../core/index.ts';

/** The routing's error catalogue (stable codes). */
export const ROUTING_ERROR_CODES = {
  /** The routing file (route tree, receivers, inhibit_rules, delivery) is malformed; the message names the key. */
  configInvalid: 'CUMULUS_ROUTING_CONFIG_INVALID',
  /** A label matcher does not parse (`name=value`, `!=`, `=~`, `!~`, a valid regex). */
  matcherInvalid: 'CUMULUS_ROUTING_MATCHER_INVALID',
  /** A silence's fields are missing or out of range. */
  silenceInvalid: 'CUMULUS_SILENCE_INVALID',
  silenceNotFound: 'CUMULUS_SILENCE_NOT_FOUND',
  /** A project-scoped caller touched a silence outside its project (or one without a project_id matcher). */
  silenceForbidden: 'CUMULUS_SILENCE_FORBIDDEN',
  /** The alarm to mark as a false positive is unknown to the notifier. */
  alarmNotFound: 'CUMULUS_ROUTING_ALARM_NOT_FOUND',
} as const;

/** The routing file refused: `<key path>: expected ..., got ...`. */
export class RoutingConfigError extends CumulusError {
  constructor(message: string, cause?: unknown) {
    super(ROUTING_ERROR_CODES.configInvalid, message, { httpStatus: 500, cause });
    this.name = 'RoutingConfigError';
  }
}

export class MatcherError extends CumulusError {
  constructor(message: string, cause?: unknown) {
    super(ROUTING_ERROR_CODES.matcherInvalid, message, { httpStatus: 400, cause });
    this.name = 'MatcherError';
  }
}

export class SilenceError extends CumulusError {
  constructor(kind: 'invalid' | 'notFound' | 'alarmNotFound' | 'forbidden', message: string, cause?: unknown) {
    const code = { invalid: ROUTING_ERROR_CODES.silenceInvalid, notFound: ROUTING_ERROR_CODES.silenceNotFound, alarmNotFound: ROUTING_ERROR_CODES.alarmNotFound, forbidden: ROUTING_ERROR_CODES.silenceForbidden }[kind];
    super(code, message, { httpStatus: kind === 'invalid' ? 400 : kind === 'forbidden' ? 403 : 404, cause });
    this.name = 'SilenceError';
  }
}
