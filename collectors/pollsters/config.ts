/** The compute pollster's and its HTTP source's settings. Experimental, as the admin API they read is. */
import { ConfigError } from '../../core/index.ts';

/** Ceilometer's default polling interval (polling.yaml's `interval: 600`). */
export const DEFAULT_POLLING_INTERVAL_MS = 600_000;
/** Below a second the readings' own resolution is coarser than the interval. */
export const MIN_POLLING_INTERVAL_MS = 1_000;
/** setInterval's longest delay (2^31 - 1 ms, about 24.8 days); a longer one fires at once. */
export const MAX_POLLING_INTERVAL_MS = 2_147_483_647;
/** Hosts read at once: enough to hide the admin API's latency, few enough not to load it. */
export const DEFAULT_MAX_CONCURRENT_HOSTS = 4;
export const MAX_CONCURRENT_HOSTS = 64;
/** The `source` of the samples, as the notification mapper sets it. */
export const DEFAULT_SAMPLE_SOURCE = 'openstack';
/** What the config schema asks of the metering secret. */
export const MIN_METERING_SECRET_LENGTH = 16;

export interface ComputePollsterConfig {
  /** Time between two polls; the first runs at start. */
  intervalMs: number;
  /** HMAC key the samples are signed with (the pipeline verifies it). */
  meteringSecret: string;
  /** The samples' `source`. */
  source: string;
  /**
   * Also emit the host's `hardware.*` meters under the names of Ceilometer's SNMP
   * pollsters (gone from Ceilometer 19); off by default.
   */
  hardwareMeters: boolean;
  maxConcurrentHosts: number;
  /**
   * How a host's poll is published: one signed sample per measure on cumulus.samples
   * (Ceilometer's model, the default), or the whole poll as one signed measure batch on
   * cumulus.measure-batches (one record, one signature, per host and poll).
   */
  publishAs: 'samples' | 'measure-batches';
}

export const DEFAULT_COMPUTE_POLLSTER_CONFIG: Omit<ComputePollsterConfig, 'meteringSecret'> = {
  intervalMs: DEFAULT_POLLING_INTERVAL_MS,
  source: DEFAULT_SAMPLE_SOURCE,
  hardwareMeters: false,
  maxConcurrentHosts: DEFAULT_MAX_CONCURRENT_HOSTS,
  publishAs: 'samples',
};

/** Refresh a token this long before Keystone says it expires, so no call carries a dying one. */
export const DEFAULT_TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;
/** One Keystone or admin API call gives up after this. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_USER_DOMAIN_NAME = 'Default';
export const DEFAULT_PROJECT_NAME = 'admin';
export const DEFAULT_PROJECT_DOMAIN_NAME = 'Default';

export interface HttpComputeSourceConfig {
  /** Keystone v3, as in OS_AUTH_URL: e.g. http://127.0.0.1:8000/identity/v3. */
  authUrl: string;
  /** The control plane's admin API: e.g. http://127.0.0.1:8000/cloud-admin/v1. */
  adminUrl: string;
  /** A user with the admin role on `projectName`. */
  username: string;
  password: string;
  userDomainName: string;
  projectName: string;
  projectDomainName: string;
  tokenRefreshMarginMs: number;
  requestTimeoutMs: number;
}

export type HttpComputeSourceOptions = Pick<HttpComputeSourceConfig, 'authUrl' | 'adminUrl' | 'username' | 'password'> & Partial<HttpComputeSourceConfig>;

function wholeNumber(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${field} must be a whole number from ${min} to ${max}; got ${JSON.stringify(value)}`);
  }
  return value;
}

function text(field: string, value: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new ConfigError(`${field} must be a non-empty string; got ${JSON.stringify(value)}`);
  return value;
}

function httpUrl(field: string, value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(`${field} must be an http:// or https:// URL; got ${JSON.stringify(value)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`${field} must be an http:// or https:// URL; got ${JSON.stringify(value)}`);
  // Paths are appended to it: one trailing slash or none must mean the same.
  return value.replace(/\/+$/, '');
}

/** Fills the defaults and refuses what cannot work, naming the field. */
export function resolveComputePollsterConfig(config: Partial<ComputePollsterConfig> & Pick<ComputePollsterConfig, 'meteringSecret'>): ComputePollsterConfig {
  const merged = { ...DEFAULT_COMPUTE_POLLSTER_CONFIG, ...config };
  if (typeof merged.meteringSecret !== 'string' || merged.meteringSecret.length < MIN_METERING_SECRET_LENGTH) {
    throw new ConfigError(`pollsters.compute.meteringSecret must be at least ${MIN_METERING_SECRET_LENGTH} characters; got ${typeof merged.meteringSecret === 'string' ? `${merged.meteringSecret.length}` : typeof merged.meteringSecret}`);
  }
  if (typeof merged.hardwareMeters !== 'boolean') throw new ConfigError(`pollsters.compute.hardwareMeters must be true or false; got ${JSON.stringify(merged.hardwareMeters)}`);
  if (merged.publishAs !== 'samples' && merged.publishAs !== 'measure-batches') throw new ConfigError(`pollsters.compute.publishAs must be "samples" or "measure-batches"; got ${JSON.stringify(merged.publishAs)}`);
  return {
    intervalMs: wholeNumber('pollsters.compute.intervalMs', merged.intervalMs, MIN_POLLING_INTERVAL_MS, MAX_POLLING_INTERVAL_MS),
    meteringSecret: merged.meteringSecret,
    source: text('pollsters.compute.source', merged.source),
    hardwareMeters: merged.hardwareMeters,
    maxConcurrentHosts: wholeNumber('pollsters.compute.maxConcurrentHosts', merged.maxConcurrentHosts, 1, MAX_CONCURRENT_HOSTS),
    publishAs: merged.publishAs,
  };
}

export function resolveHttpComputeSourceConfig(options: HttpComputeSourceOptions): HttpComputeSourceConfig {
  return {
    authUrl: httpUrl('pollsters.compute.authUrl', options.authUrl),
    adminUrl: httpUrl('pollsters.compute.adminUrl', options.adminUrl),
    username: text('pollsters.compute.username', options.username),
    password: text('pollsters.compute.password', options.password),
    userDomainName: text('pollsters.compute.userDomainName', options.userDomainName ?? DEFAULT_USER_DOMAIN_NAME),
    projectName: text('pollsters.compute.projectName', options.projectName ?? DEFAULT_PROJECT_NAME),
    projectDomainName: text('pollsters.compute.projectDomainName', options.projectDomainName ?? DEFAULT_PROJECT_DOMAIN_NAME),
    tokenRefreshMarginMs: wholeNumber('pollsters.compute.tokenRefreshMarginMs', options.tokenRefreshMarginMs ?? DEFAULT_TOKEN_REFRESH_MARGIN_MS, 0, 24 * 3_600_000),
    requestTimeoutMs: wholeNumber('pollsters.compute.requestTimeoutMs', options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, 1, 10 * 60_000),
  };
}
