import { ConfigError } from '../../core/index.ts';
import { SAFE_NAME } from '../logs/index.ts';

/** The deployment model's settings. Experimental, like the whole fault-injection surface. */
export interface DeploymentConfig {
  /** Controller host names; each runs the whole control plane (HA with three). Default controller-1..3. */
  controllers?: readonly string[];
  /** Compute host names: the cloud config's computeHosts. */
  computeHosts: readonly string[];
  /** Storage host names, each running cinder-volume. Default storage-1. */
  storageHosts?: readonly string[];
  /** The internal VIP name the services reach the database through (what their DB errors name). Default `controller`. */
  internalVip?: string;
}

export const DEFAULT_CONTROLLERS: readonly string[] = ['controller-1', 'controller-2', 'controller-3'];
export const DEFAULT_STORAGE_HOSTS: readonly string[] = ['storage-1'];
export const DEFAULT_INTERNAL_VIP = 'controller';
/** The most latency `slow` injects: ten minutes is already an outage. */
export const MAX_LATENCY_MS = 600_000;
/** Where the experimental admin API lives on the one server. */
export const ADMIN_API_PREFIX = '/cloud-admin/v1';
/** The CLI's User-Agent prefix: the trail records that an operator used `cumulus cloud fault`. */
export const CLI_USER_AGENT = 'cumulus-cli';
/** Fault trail page size, and its ceiling. */
export const DEFAULT_TRAIL_LIMIT = 100;
export const MAX_TRAIL_LIMIT = 1000;

export interface ResolvedDeploymentConfig {
  controllers: readonly string[];
  computeHosts: readonly string[];
  storageHosts: readonly string[];
  internalVip: string;
}

function hostList(key: string, value: unknown, minimum: number): readonly string[] {
  if (!Array.isArray(value) || value.length < minimum) throw new ConfigError(`deployment.${key} must be a list of at least ${minimum} host name(s); got ${JSON.stringify(value)}`);
  for (const name of value) {
    // A host name becomes a log directory, so it must be one safe path component.
    if (typeof name !== 'string' || !SAFE_NAME.test(name)) throw new ConfigError(`deployment.${key} entries must be host names of letters, digits, '.', '_' or '-'; got ${JSON.stringify(name)}`);
  }
  return [...(value as string[])];
}

/** Validates the config (throws CUMULUS_CONFIG_INVALID naming the key) and fills the defaults. */
export function resolveDeploymentConfig(config: DeploymentConfig): ResolvedDeploymentConfig {
  const controllers = hostList('controllers', config.controllers ?? DEFAULT_CONTROLLERS, 1);
  const computeHosts = hostList('computeHosts', config.computeHosts, 0);
  const storageHosts = hostList('storageHosts', config.storageHosts ?? DEFAULT_STORAGE_HOSTS, 0);
  const seen = new Set<string>();
  for (const name of [...controllers, ...computeHosts, ...storageHosts]) {
    if (seen.has(name)) throw new ConfigError(`deployment host ${JSON.stringify(name)} appears twice; give each host one role`);
    seen.add(name);
  }
  const internalVip = config.internalVip ?? DEFAULT_INTERNAL_VIP;
  if (!SAFE_NAME.test(internalVip)) throw new ConfigError(`deployment.internalVip must be a host name; got ${JSON.stringify(internalVip)}`);
  return { controllers, computeHosts, storageHosts, internalVip };
}
