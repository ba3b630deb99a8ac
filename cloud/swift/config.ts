import { ConfigError } from '../../core/index.ts';

/**
 * Swift's settings as the embedded control plane runs it: the defaults of a stock
 * swift-proxy with keystoneauth and ceilometermiddleware in its pipeline
 * (swift/common/constraints.py, ceilometermiddleware/swift.py). Stable unless marked.
 */
export interface SwiftOptions {
  /** Directory objects' bytes live under, as `<dataDir>/swift/<project>/<container hash>/<object hash>.<version>`. */
  dataDir: string;
  /** Projects whose requests emit no `objectstore.http.request` (ceilometermiddleware's `ignore_projects`). */
  ignoreProjects?: readonly string[];
  /** Largest object one PUT may store, in bytes (`max_file_size`). */
  maxObjectBytes?: number;
}

export interface SwiftConfig {
  dataDir: string;
  ignoreProjects: readonly string[];
  maxObjectBytes: number;
}

/** The catalog prefix the service is mounted under; the API itself is at `<prefix>/v1/AUTH_<project>`. */
export const SWIFT_PREFIX = '/object-storage';
/** The control exchange ceilometermiddleware publishes to (its `control_exchange` default). */
export const SWIFT_EXCHANGE = 'swift';
/** ceilometermiddleware's oslo.messaging publisher id. */
export const PUBLISHER_ID = 'ceilometermiddleware';
export const REQUEST_EVENT_TYPE = 'objectstore.http.request';
/** keystoneauth's `reseller_prefix`: account `AUTH_<project id>` belongs to that project. */
export const RESELLER_PREFIX = 'AUTH_';
/** keystoneauth's `reseller_admin_role`: may act on every account (Ceilometer's pollsters hold it). */
export const RESELLER_ADMIN_ROLE = 'ResellerAdmin';
/** The one storage policy, as a stock single-policy swift.conf names it. */
export const DEFAULT_STORAGE_POLICY = 'Policy-0';

/** `max_file_size`: 5 GiB + 2 bytes, swift's default. */
export const DEFAULT_MAX_OBJECT_BYTES = 5 * 1024 * 1024 * 1024 + 2;
/** `container_listing_limit` and `account_listing_limit`: the most entries one listing holds. */
export const LISTING_LIMIT = 10_000;
export const MAX_CONTAINER_NAME_BYTES = 256;
export const MAX_OBJECT_NAME_BYTES = 1024;
export const MAX_ACCOUNT_NAME_BYTES = 256;
export const MAX_META_NAME_LENGTH = 128;
export const MAX_META_VALUE_LENGTH = 256;
export const MAX_META_COUNT = 90;
export const MAX_META_OVERALL_SIZE = 4096;

/** Fills defaults and refuses values that cannot work, naming the field. */
export function resolveSwiftConfig(options: SwiftOptions): SwiftConfig {
  const config: SwiftConfig = {
    dataDir: options.dataDir,
    ignoreProjects: options.ignoreProjects ?? [],
    maxObjectBytes: options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES,
  };
  if (typeof config.dataDir !== 'string' || config.dataDir.trim() === '' || config.dataDir.includes('\0')) {
    throw new ConfigError(`swift.dataDir must be a directory path; got ${JSON.stringify(options.dataDir)}`);
  }
  if (!Number.isSafeInteger(config.maxObjectBytes) || config.maxObjectBytes < 0) {
    throw new ConfigError(`swift.maxObjectBytes must be a whole number of bytes >= 0; got ${String(options.maxObjectBytes)}`);
  }
  if (!Array.isArray(config.ignoreProjects) || config.ignoreProjects.some((p) => typeof p !== 'string' || p === '')) {
    throw new ConfigError(`swift.ignoreProjects must be a list of project ids; got ${JSON.stringify(options.ignoreProjects)}`);
  }
  return config;
}
