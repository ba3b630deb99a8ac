import { hostname } from 'node:os';
import { ConfigError } from '../../core/index.ts';

/** The service log writer's settings. Stable unless marked experimental. */
export interface ServiceLogConfig {
  /** Directory holding one folder per host, each with one `<service>.log` per process, e.g. `<dataDir>/logs`. */
  directory: string;
  /** Host the API processes (nova-api, glance-api...) run on when an access-log observer names none. */
  apiHost?: string;
  /**
   * oslo.log 5.0 (Zed, 2022) and later log the global request id first inside the context
   * brackets, `None` when there is none: `[None req-… user project - - default default]`.
   * false writes the Train-to-Yoga form `[req-… user project - - default default]`.
   */
  globalRequestId?: boolean;
}

export const DEFAULT_GLOBAL_REQUEST_ID = true;

/** Real pids on a Linux host of the services' kind: above the boot-time daemons, below 2^22. */
export const PID_MIN = 1000;
export const PID_MAX = 99_999;

export interface ResolvedServiceLogConfig {
  directory: string;
  apiHost: string;
  globalRequestId: boolean;
}

/** A host or process name becomes a path component: one safe word, no separators, no dot-dot. */
export const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function resolveServiceLogConfig(config: ServiceLogConfig): ResolvedServiceLogConfig {
  if (typeof config?.directory !== 'string' || config.directory.trim() === '') {
    throw new ConfigError(`logs.directory must be a non-empty path, e.g. ./data/logs; got ${JSON.stringify(config?.directory)}`);
  }
  const apiHost = config.apiHost ?? hostname();
  if (!SAFE_NAME.test(apiHost)) throw new ConfigError(`logs.apiHost must be a host name of letters, digits, '.', '_' or '-'; got ${JSON.stringify(apiHost)}`);
  if (config.globalRequestId !== undefined && typeof config.globalRequestId !== 'boolean') {
    throw new ConfigError(`logs.globalRequestId must be true or false; got ${JSON.stringify(config.globalRequestId)}`);
  }
  return { directory: config.directory, apiHost, globalRequestId: config.globalRequestId ?? DEFAULT_GLOBAL_REQUEST_ID };
}
