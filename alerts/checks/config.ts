/**
 * The prober's settings, their defaults (named, with units) and their validation.
 * Experimental: the keys may still change.
 */
import type { Credentials } from './cloud-client.ts';
import { CheckConfigError } from './errors.ts';

/** The built-in transactions, one check each (endpoint-get: one check per catalog service). */
export const TRANSACTION_KINDS = ['token-issue', 'flavor-list', 'volume-cycle', 'server-cycle', 'endpoint-get', 'process-health'] as const;
export type TransactionKind = (typeof TRANSACTION_KINDS)[number];

/** The shortest interval a check may have: the 1-second checks the operations advice asks for. */
export const MIN_INTERVAL_MS = 1_000;
export const DEFAULT_INTERVALS_MS: Readonly<Record<TransactionKind, number>> = {
  'token-issue': 10_000,
  'flavor-list': 10_000,
  // Creating things costs quota and notifications: less often.
  'volume-cycle': 60_000,
  'server-cycle': 120_000,
  'endpoint-get': 10_000,
  'process-health': 10_000,
};
export const DEFAULT_TIMEOUTS_MS: Readonly<Record<TransactionKind, number>> = {
  'token-issue': 5_000,
  'flavor-list': 5_000,
  'volume-cycle': 60_000,
  'server-cycle': 120_000,
  'endpoint-get': 5_000,
  'process-health': 5_000,
};
/** How often the heartbeat looks for due checks; the clock decides what is due. */
export const DEFAULT_PROBER_TICK_MS = 200;
/** Results are written in batches at most this often (a 1 s check must not cost one insert a second each). */
export const DEFAULT_FLUSH_INTERVAL_MS = 1_000;
/** Rows held while the store refuses them; the oldest go first beyond this. */
export const DEFAULT_MAX_BUFFERED_ROWS = 10_000;
/** How often a transaction re-reads a volume or server while it waits for a status. */
export const DEFAULT_POLL_INTERVAL_MS = 250;
export const DEFAULT_VOLUME_SIZE_GB = 1;
export const DEFAULT_MONITORING_PROJECT = 'cumulus-monitoring';
export const DEFAULT_MONITORING_USER = 'cumulus-monitoring';
export const DEFAULT_MONITORING_ROLE = 'member';
/** Tight quotas: a runaway prober cannot take more than this from the cloud. */
export const DEFAULT_MONITORING_QUOTAS: Readonly<MonitoringQuotas> = { instances: 2, cores: 2, ramMb: 2048, volumes: 2, gigabytes: 2 };
/**
 * The flavor the server check boots when the cloud has none small enough for the quotas.
 * 1 GB of disk, not 0: a flavor without disk asks placement for DISK_GB 0 here, which no host offers.
 */
export const DEFAULT_PROBE_FLAVOR = { name: 'cumulus.probe', vcpus: 1, ramMb: 64, diskGb: 1 } as const;
/** Whose processes the process-health check reports (the deployment model's host roles). */
export const DEFAULT_HEALTH_ROLES: readonly string[] = ['controller'];
/** Names of what the prober creates: a leftover from a crash is recognised and removed at start. */
export const PROBE_RESOURCE_PREFIX = 'cumulus-probe-';

export interface MonitoringQuotas {
  instances: number;
  cores: number;
  ramMb: number;
  volumes: number;
  gigabytes: number;
}

/** What a transaction gets: the run's deadline (abort), the HTTP client and an abortable sleep. */
export interface CheckContext {
  signal: AbortSignal;
  fetch: typeof fetch;
  /** Waits `ms`, or rejects when the run is aborted. */
  sleep(ms: number): Promise<void>;
}

/** One row of a run that reports several things (process health: one per host and process). */
export interface CheckOutcome {
  /** Defaults to the check's name. */
  checkName?: string;
  /** Defaults to the check's service. */
  service?: string;
  host: string;
  ok: boolean;
  error?: string;
}

/** A transaction: resolves (one ok row), rejects (one failed row, its message as error) or returns its own rows. */
export type Transaction = (context: CheckContext) => Promise<readonly CheckOutcome[] | void>;

/** One synthetic check: a transaction on its own interval. */
export interface CheckDefinition {
  name: string;
  /** The service it speaks for on the status board (catalog type: identity, compute, block-storage, ...). */
  service: string;
  intervalMs: number;
  timeoutMs: number;
  transaction: Transaction;
  /** The host column of its row ('' for a transaction through the load balancer). */
  host?: string;
}

export interface CredentialsInput {
  username: string;
  password: string;
  projectName: string;
  userDomainName?: string;
  projectDomainName?: string;
}

export interface ProberOptions {
  /** Keystone v3, e.g. http://cloud:5000/v3 or http://host/identity/v3. */
  authUrl: string;
  /** The deployment admin API (…/cloud-admin/v1) for process health; null or absent: no process-health check. */
  deploymentUrl?: string | null;
  /** Only this region's endpoints; null: the first of each type. */
  region?: string | null;
  /** An admin: sets up the monitoring project, reads the deployment model. */
  admin: CredentialsInput;
  /** The dedicated monitoring project and user the transactions run as. */
  monitoring: { password: string; projectName?: string; username?: string; role?: string; quotas?: Partial<MonitoringQuotas> };
  /** Which built-in transactions run (default all). */
  transactions?: readonly TransactionKind[];
  intervalsMs?: Partial<Record<TransactionKind, number>>;
  timeoutsMs?: Partial<Record<TransactionKind, number>>;
  /** Checks of your own, run beside the built-in ones. */
  extraChecks?: readonly CheckDefinition[];
  healthRoles?: readonly string[];
  volumeSizeGb?: number;
  /** The heartbeat's period; 0: no heartbeat (whoever owns the prober calls tick()). */
  tickMs?: number;
  flushIntervalMs?: number;
  maxBufferedRows?: number;
  pollIntervalMs?: number;
}

export interface ProberConfig {
  authUrl: string;
  deploymentUrl: string | null;
  region: string | null;
  admin: Credentials;
  monitoring: { credentials: Credentials; role: string; quotas: MonitoringQuotas };
  transactions: readonly TransactionKind[];
  intervalsMs: Record<TransactionKind, number>;
  timeoutsMs: Record<TransactionKind, number>;
  extraChecks: readonly CheckDefinition[];
  healthRoles: readonly string[];
  volumeSizeGb: number;
  tickMs: number;
  flushIntervalMs: number;
  maxBufferedRows: number;
  pollIntervalMs: number;
}

const text = (value: unknown, field: string): string => {
  if (typeof value !== 'string' || value === '') throw new CheckConfigError(field, 'a non-empty string', value);
  return value;
};
const url = (value: unknown, field: string): string => {
  const s = text(value, field);
  if (!/^https?:\/\/[^/]/.test(s)) throw new CheckConfigError(field, 'an http(s) URL', value);
  return s.replace(/\/+$/, '');
};
const integer = (value: unknown, field: string, min: number): number => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new CheckConfigError(field, `an integer >= ${min}`, value);
  return value;
};

function credentials(input: CredentialsInput | undefined, field: string): Credentials {
  if (typeof input !== 'object' || input === null) throw new CheckConfigError(field, 'an object with username, password and projectName', input);
  return {
    username: text(input.username, `${field}.username`),
    password: text(input.password, `${field}.password`),
    projectName: text(input.projectName, `${field}.projectName`),
    userDomainName: input.userDomainName === undefined ? 'Default' : text(input.userDomainName, `${field}.userDomainName`),
    projectDomainName: input.projectDomainName === undefined ? 'Default' : text(input.projectDomainName, `${field}.projectDomainName`),
  };
}

/** Checks a check of one's own: a name, a service, an interval >= 1 s and a timeout. */
export function validateCheck(check: CheckDefinition, field: string): CheckDefinition {
  text(check.name, `${field}.name`);
  text(check.service, `${field}.service`);
  integer(check.intervalMs, `${field}.intervalMs`, MIN_INTERVAL_MS);
  integer(check.timeoutMs, `${field}.timeoutMs`, 1);
  if (typeof check.transaction !== 'function') throw new CheckConfigError(`${field}.transaction`, 'a function (context) => Promise', typeof check.transaction);
  return check;
}

/** The settings with defaults filled in; throws CheckConfigError naming the first bad field. */
export function resolveProberConfig(options: ProberOptions): ProberConfig {
  const monitoring = options.monitoring ?? ({} as ProberOptions['monitoring']);
  const quotas = { ...DEFAULT_MONITORING_QUOTAS, ...monitoring.quotas };
  for (const [key, value] of Object.entries(quotas)) integer(value, `monitoring.quotas.${key}`, 1);
  const transactions = options.transactions ?? TRANSACTION_KINDS;
  transactions.forEach((kind, i) => {
    if (!(TRANSACTION_KINDS as readonly string[]).includes(kind)) throw new CheckConfigError(`transactions[${i}]`, `one of ${TRANSACTION_KINDS.join(', ')}`, kind);
  });
  const intervalsMs = { ...DEFAULT_INTERVALS_MS, ...options.intervalsMs };
  const timeoutsMs = { ...DEFAULT_TIMEOUTS_MS, ...options.timeoutsMs };
  for (const kind of TRANSACTION_KINDS) {
    integer(intervalsMs[kind], `intervalsMs.${kind}`, MIN_INTERVAL_MS);
    integer(timeoutsMs[kind], `timeoutsMs.${kind}`, 1);
  }
  const extraChecks = (options.extraChecks ?? []).map((check, i) => validateCheck(check, `extraChecks[${i}]`));
  const names = new Set<string>();
  for (const check of extraChecks) {
    if (names.has(check.name)) throw new CheckConfigError('extraChecks', 'unique check names', check.name);
    names.add(check.name);
  }
  const healthRoles = options.healthRoles ?? DEFAULT_HEALTH_ROLES;
  if (!Array.isArray(healthRoles) || healthRoles.length === 0) throw new CheckConfigError('healthRoles', 'a non-empty list of host roles (controller, compute, storage)', healthRoles);
  return {
    authUrl: url(options.authUrl, 'authUrl'),
    deploymentUrl: options.deploymentUrl === undefined || options.deploymentUrl === null ? null : url(options.deploymentUrl, 'deploymentUrl'),
    region: options.region === undefined || options.region === null ? null : text(options.region, 'region'),
    admin: credentials(options.admin, 'admin'),
    monitoring: {
      credentials: credentials(
        { username: monitoring.username ?? DEFAULT_MONITORING_USER, password: monitoring.password, projectName: monitoring.projectName ?? DEFAULT_MONITORING_PROJECT },
        'monitoring',
      ),
      role: text(monitoring.role ?? DEFAULT_MONITORING_ROLE, 'monitoring.role'),
      quotas,
    },
    transactions: [...transactions],
    intervalsMs,
    timeoutsMs,
    extraChecks,
    healthRoles: [...healthRoles],
    volumeSizeGb: integer(options.volumeSizeGb ?? DEFAULT_VOLUME_SIZE_GB, 'volumeSizeGb', 1),
    tickMs: options.tickMs === 0 ? 0 : integer(options.tickMs ?? DEFAULT_PROBER_TICK_MS, 'tickMs', 10),
    flushIntervalMs: integer(options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS, 'flushIntervalMs', 0),
    maxBufferedRows: integer(options.maxBufferedRows ?? DEFAULT_MAX_BUFFERED_ROWS, 'maxBufferedRows', 1),
    pollIntervalMs: integer(options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, 'pollIntervalMs', 10),
  };
}
