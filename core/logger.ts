import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino blanks before a line is written: secrets never reach a log, whatever a
 * caller passes in (passwords, tokens, the metering secret, auth headers).
 */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'meteringSecret',
  '*.meteringSecret',
  'headers["x-auth-token"]',
  'headers["x-subject-token"]',
  'req.headers["x-auth-token"]',
  'res.headers["x-subject-token"]',
  'authorization',
  '*.authorization',
];

export interface LoggerConfig {
  level: string;
  /** Where lines go; stdout when omitted. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(config: LoggerConfig): Logger {
  const options = { level: config.level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return config.destination ? pino(options, config.destination) : pino(options);
}

/** A logger that writes nothing: for tests and for library use without a host logger. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
