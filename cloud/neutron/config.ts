import { hostname } from 'node:os';
import { ConfigError } from '../../core/index.ts';
import { parseCidr } from './cidr.ts';

/**
 * Neutron's settings. Stable. Every field has a default, so `createNeutron(deps)`
 * alone gives the devstack-like layout the CLI works with out of the box.
 */
export interface NeutronConfig {
  /** `host` in neutron.conf: notifications carry publisher_id `network.<host>`. */
  host: string;
  /** The admin-owned external network floating IPs and router gateways come from. */
  publicNetwork: { name: string; subnetName: string; cidr: string; gatewayIp: string; physicalNetwork: string };
  /**
   * A shared tenant network with a router to `public`, so `server create --network private`
   * and `floating ip create public` + `server add floating ip` work for every project
   * without setup. Null: none is created.
   */
  privateNetwork: { name: string; subnetName: string; cidr: string; routerName: string } | null;
  /** MTU of tenant (geneve) networks: 1500 less the 58-byte Geneve overhead, as ML2/OVN sets it. */
  tenantMtu: number;
  /** MTU of flat provider networks. */
  providerMtu: number;
}

export const DEFAULT_PUBLIC_NETWORK = { name: 'public', subnetName: 'public-subnet', cidr: '172.24.4.0/24', gatewayIp: '172.24.4.1', physicalNetwork: 'public' } as const;
export const DEFAULT_PRIVATE_NETWORK = { name: 'private', subnetName: 'private-subnet', cidr: '10.0.0.0/24', routerName: 'router1' } as const;
export const DEFAULT_TENANT_MTU = 1442;
export const DEFAULT_PROVIDER_MTU = 1500;
/** Neutron's default `base_mac`: ports get fa:16:3e plus three random bytes. */
export const BASE_MAC_PREFIX = 'fa:16:3e';

export function neutronConfig(overrides: Partial<NeutronConfig> = {}): NeutronConfig {
  const config: NeutronConfig = {
    host: hostname(),
    publicNetwork: { ...DEFAULT_PUBLIC_NETWORK },
    privateNetwork: { ...DEFAULT_PRIVATE_NETWORK },
    tenantMtu: DEFAULT_TENANT_MTU,
    providerMtu: DEFAULT_PROVIDER_MTU,
    ...overrides,
  };
  if (!config.host) throw new ConfigError('neutron.host must be a non-empty host name (it ends the notifications\' publisher_id network.<host>); got an empty string.');
  if (!parseCidr(config.publicNetwork.cidr)) throw new ConfigError(`neutron.publicNetwork.cidr must be a CIDR such as 172.24.4.0/24; got ${JSON.stringify(config.publicNetwork.cidr)}.`);
  if (config.privateNetwork && !parseCidr(config.privateNetwork.cidr)) {
    throw new ConfigError(`neutron.privateNetwork.cidr must be a CIDR such as 10.0.0.0/24; got ${JSON.stringify(config.privateNetwork.cidr)}.`);
  }
  for (const key of ['tenantMtu', 'providerMtu'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 68) throw new ConfigError(`neutron.${key} must be an integer >= 68 (bytes); got ${String(config[key])}.`);
  }
  return config;
}
