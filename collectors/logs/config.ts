import { ConfigError } from '../../core/index.ts';

/** The log tailer's settings (`collectors.logs.*`). Stable unless marked experimental. */
export interface LogTailerConfig {
  /** The folder holding one folder per host, each with `<process>.log` files: cloud/logs' `<dataDir>/logs`. */
  directory: string;
  /** The JSON file keeping the read offsets, e.g. `<dataDir>/collectors/log-offsets.json`. */
  statePath: string;
  /** How often the files are looked at; fs.watch misses events on many file systems, polling does not. */
  pollIntervalMs?: number;
  /** Records handed to the consumer at most at once. */
  batchSize?: number;
  /** A batch smaller than batchSize goes out once its oldest record waited this long. */
  flushIntervalMs?: number;
  /** Bytes read from one file in one poll, so one busy file cannot starve the others. */
  maxReadBytes?: number;
  /** Above this many records waiting for the consumer, reading pauses: backpressure. */
  maxBufferedRecords?: number;
  /** A record's message (with its continuation lines) is cut beyond this. */
  maxMessageBytes?: number;
  /** Longest wait before retrying a consumer that refused a batch; the wait doubles from pollIntervalMs up to this. */
  maxRetryDelayMs?: number;
}

export const DEFAULT_LOG_POLL_INTERVAL_MS = 500;
export const DEFAULT_LOG_BATCH_SIZE = 1000;
export const DEFAULT_LOG_FLUSH_INTERVAL_MS = 1000;
export const DEFAULT_LOG_MAX_READ_BYTES = 1024 * 1024;
export const DEFAULT_LOG_MAX_BUFFERED_RECORDS = 10_000;
export const DEFAULT_LOG_MAX_MESSAGE_BYTES = 64 * 1024;
export const DEFAULT_LOG_MAX_RETRY_DELAY_MS = 30_000;

export type ResolvedLogTailerConfig = Required<LogTailerConfig>;

function nonEmptyPath(value: unknown, key: string, example: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new ConfigError(`collectors.logs.${key} must be a non-empty path, e.g. ${example}; got ${JSON.stringify(value)}`);
  return value;
}

function wholeNumber(value: number | undefined, fallback: number, key: string, min: number): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved < min) throw new ConfigError(`collectors.logs.${key} must be a whole number >= ${min}; got ${JSON.stringify(value)}`);
  return resolved;
}

/** Fills the defaults and refuses what cannot work, naming the key. */
export function resolveLogTailerConfig(config: LogTailerConfig): ResolvedLogTailerConfig {
  const resolved: ResolvedLogTailerConfig = {
    directory: nonEmptyPath(config?.directory, 'directory', './data/logs'),
    statePath: nonEmptyPath(config?.statePath, 'statePath', './data/collectors/log-offsets.json'),
    pollIntervalMs: wholeNumber(config.pollIntervalMs, DEFAULT_LOG_POLL_INTERVAL_MS, 'pollIntervalMs', 1),
    batchSize: wholeNumber(config.batchSize, DEFAULT_LOG_BATCH_SIZE, 'batchSize', 1),
    flushIntervalMs: wholeNumber(config.flushIntervalMs, DEFAULT_LOG_FLUSH_INTERVAL_MS, 'flushIntervalMs', 0),
    maxReadBytes: wholeNumber(config.maxReadBytes, DEFAULT_LOG_MAX_READ_BYTES, 'maxReadBytes', 1024),
    maxBufferedRecords: wholeNumber(config.maxBufferedRecords, DEFAULT_LOG_MAX_BUFFERED_RECORDS, 'maxBufferedRecords', 1),
    maxMessageBytes: wholeNumber(config.maxMessageBytes, DEFAULT_LOG_MAX_MESSAGE_BYTES, 'maxMessageBytes', 256),
    maxRetryDelayMs: wholeNumber(config.maxRetryDelayMs, DEFAULT_LOG_MAX_RETRY_DELAY_MS, 'maxRetryDelayMs', 1),
  };
  if (resolved.maxBufferedRecords < resolved.batchSize) {
    throw new ConfigError(`collectors.logs.maxBufferedRecords must be at least batchSize (${resolved.batchSize}); got ${resolved.maxBufferedRecords}`);
  }
  return resolved;
}
