import { ConfigError } from '../../core/index.ts';

/** Cinder's settings. Stable unless marked experimental. */
export interface CinderOptions {
  /** How long a volume, snapshot or backup stays in its transitional state (creating, extending, deleting...). */
  transitionDelayMs?: number;
  /** The cinder-volume backend volumes land on: `host@backend`, publisher of `volume.*` and `snapshot.*`. */
  backendHost?: string;
  /** The backend's one pool: volumes' host is `host@backend#pool`. */
  pool?: string;
  /** Host of cinder-backup, publisher of `backup.*`. */
  backupHost?: string;
  /** Host of cinder-api, publisher of `volume.update.*` (the API emits those itself). */
  apiHost?: string;
  /** Host of cinder-scheduler, publisher of `capacity.*`. */
  schedulerHost?: string;
  /** The one storage availability zone. */
  availabilityZone?: string;
  /** The backend's total capacity (what `capacity.*` notifications report). */
  capacityGb?: number;
}

export type CinderConfig = Required<CinderOptions>;

export const DEFAULT_TRANSITION_DELAY_MS = 100;
export const DEFAULT_BACKEND_HOST = 'cinder-volume-1@lvmdriver-1';
export const DEFAULT_POOL = 'lvmdriver-1';
export const DEFAULT_BACKUP_HOST = 'cinder-backup-1';
export const DEFAULT_API_HOST = 'cinder-api-1';
export const DEFAULT_SCHEDULER_HOST = 'cinder-scheduler-1';
export const DEFAULT_AVAILABILITY_ZONE = 'nova';
export const DEFAULT_CAPACITY_GB = 10_000;
/** Cinder's own default type, created by its database migrations (we create it at bootstrap). */
export const DEFAULT_VOLUME_TYPE_NAME = '__DEFAULT__';
/** Cinder's default swift container for backups. */
export const DEFAULT_BACKUP_CONTAINER = 'volumebackups';
export const BACKUP_SERVICE = 'cinder.backup.drivers.swift.SwiftBackupDriver';

/** Fills defaults and refuses values that cannot work, naming the field. */
export function resolveCinderConfig(options: CinderOptions = {}): CinderConfig {
  const config: CinderConfig = {
    transitionDelayMs: options.transitionDelayMs ?? DEFAULT_TRANSITION_DELAY_MS,
    backendHost: options.backendHost ?? DEFAULT_BACKEND_HOST,
    pool: options.pool ?? DEFAULT_POOL,
    backupHost: options.backupHost ?? DEFAULT_BACKUP_HOST,
    apiHost: options.apiHost ?? DEFAULT_API_HOST,
    schedulerHost: options.schedulerHost ?? DEFAULT_SCHEDULER_HOST,
    availabilityZone: options.availabilityZone ?? DEFAULT_AVAILABILITY_ZONE,
    capacityGb: options.capacityGb ?? DEFAULT_CAPACITY_GB,
  };
  if (!Number.isFinite(config.transitionDelayMs) || config.transitionDelayMs < 0) {
    throw new ConfigError(`cinder.transitionDelayMs must be a number of milliseconds >= 0; got ${String(options.transitionDelayMs)}`);
  }
  if (!/^[^@#\s]+@[^@#\s]+$/.test(config.backendHost)) {
    throw new ConfigError(`cinder.backendHost must look like host@backend; got ${JSON.stringify(config.backendHost)}`);
  }
  for (const key of ['pool', 'backupHost', 'apiHost', 'schedulerHost', 'availabilityZone'] as const) {
    if (!config[key] || /\s/.test(config[key])) throw new ConfigError(`cinder.${key} must be a non-empty name without spaces; got ${JSON.stringify(config[key])}`);
  }
  if (!Number.isInteger(config.capacityGb) || config.capacityGb <= 0) {
    throw new ConfigError(`cinder.capacityGb must be a whole number of GB > 0; got ${String(options.capacityGb)}`);
  }
  return config;
}
