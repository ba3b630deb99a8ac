import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../notifier.ts';
import { canSeeNetwork, ownerFor, owns } from './access.ts';
import { cidrContains, cidrsOverlap, defaultPools, formatCidr, formatIp, lastAddress, normalizeIp, parseCidr, parseIp, type AddressRange, type Cidr } from './cidr.ts';
import type { NeutronConfig } from './config.ts';
import {
  badRequest,
  gatewayConflictWithAllocationPools,
  httpBadRequest,
  invalidAllocationPool,
  invalidInput,
  macAddressInUse,
  networkInUse,
  networkNotFound,
  NeutronApiError,
  outOfBoundsAllocationPool,
  overlappingAllocationPools,
  policyNotAuthorized,
  portNotFound,
  securityGroupNotFound,
  servicePortInUse,
  subnetInUse,
  subnetNotFound,
} from './errors.ts';
import type { NeutronEvents } from './events.ts';
import {
  checkAttributes,
  isObject,
  optBoolean,
  optInteger,
  optObjectList,
  optString,
  optStringList,
  optUuid,
  requestedProject,
  required,
  resourceBody,
  type Body,
} from './input.ts';
import { DEVICE_OWNER, type FixedIp, type NetworkRecord, type PortRecord, type SubnetRecord } from './records.ts';
import type { FixedIpRequest, NeutronStore } from './store.ts';
import { networkView, portView, subnetView } from './views.ts';

export type View = Record<string, unknown>;

const set = (...keys: string[]) => new Set(keys);

const STANDARD_READ_ONLY = ['id', 'status', 'created_at', 'updated_at', 'revision_number', 'tags'];
const PROVIDER_ATTRIBUTES = ['provider:network_type', 'provider:physical_network', 'provider:segmentation_id'];
const NETWORK_CREATE = set('name', 'admin_state_up', 'shared', 'router:external', 'description', 'mtu', 'port_security_enabled', 'project_id', 'tenant_id', 'availability_zone_hints', 'is_default', ...PROVIDER_ATTRIBUTES);
const NETWORK_UPDATE = set('name', 'admin_state_up', 'shared', 'router:external', 'description', 'mtu', 'port_security_enabled', 'is_default');
const NETWORK_READ_ONLY = set(...STANDARD_READ_ONLY, 'subnets', 'project_id', 'tenant_id', 'availability_zone_hints', ...PROVIDER_ATTRIBUTES);
const SUBNET_CREATE = set('name', 'network_id', 'cidr', 'ip_version', 'gateway_ip', 'allocation_pools', 'enable_dhcp', 'dns_nameservers', 'host_routes', 'ipv6_ra_mode', 'ipv6_address_mode', 'description', 'project_id', 'tenant_id');
const SUBNET_UPDATE = set('name', 'enable_dhcp', 'dns_nameservers', 'host_routes', 'description');
const SUBNET_READ_ONLY = set(...STANDARD_READ_ONLY, 'network_id', 'cidr', 'ip_version', 'project_id', 'tenant_id', 'gateway_ip', 'allocation_pools', 'ipv6_ra_mode', 'ipv6_address_mode', 'subnetpool_id');
const PORT_CREATE = set(
  'name',
  'network_id',
  'admin_state_up',
  'mac_address',
  'fixed_ips',
  'device_id',
  'device_owner',
  'security_groups',
  'port_security_enabled',
  'description',
  'project_id',
  'tenant_id',
  'binding:host_id',
  'binding:profile',
  'binding:vnic_type',
);
const PORT_UPDATE = set('name', 'admin_state_up', 'fixed_ips', 'device_id', 'device_owner', 'security_groups', 'port_security_enabled', 'description', 'binding:host_id', 'binding:profile', 'binding:vnic_type');
const PORT_READ_ONLY = set(...STANDARD_READ_ONLY, 'network_id', 'project_id', 'tenant_id', 'mac_address');
const NETWORK_TYPES = ['flat', 'vlan', 'vxlan', 'geneve', 'gre', 'local'];
const VNIC_TYPES = ['normal', 'direct', 'macvtap', 'baremetal', 'direct-physical', 'virtio-forwarder', 'smart-nic', 'remote-managed'];
const IPV6_MODES = ['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac'];
const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;
/** Owners whose ports go with their network (neutron AUTO_DELETE_PORT_OWNERS). */
const AUTO_DELETE_OWNERS = new Set<string>([DEVICE_OWNER.DHCP, 'network:distributed']);
/** Ports the L3 plugin owns: only removing the router interface or floating IP deletes them. */
const L3_OWNERS = new Set<string>([DEVICE_OWNER.ROUTER_INTERFACE, DEVICE_OWNER.ROUTER_GATEWAY, DEVICE_OWNER.FLOATING_IP, 'network:router_interface_distributed', 'network:ha_router_replicated_interface']);

/** What a port is created from, by the API, Nova or the L3 plugin. */
export interface PortSpec {
  networkId: string;
  projectId: string;
  name?: string;
  description?: string;
  adminStateUp?: boolean;
  macAddress?: string;
  deviceId?: string;
  deviceOwner?: string;
  /** Null: Neutron's default allocation. */
  fixedIps?: FixedIpRequest[] | null;
  /** Null: the project's default group (for ports that take security groups). */
  securityGroups?: string[] | null;
  portSecurityEnabled?: boolean;
  hostId?: string;
  vnicType?: string;
  profile?: Record<string, unknown>;
  /** Neutron sets floating IP ports' status to N/A. */
  status?: string;
  /** IP versions the default allocation covers (floating IPs take IPv4 only). */
  ipVersions?: ReadonlyArray<4 | 6>;
}

/** ACTIVE once something is plugged in and the port is up; L3-plugin ports stay as created. */
export function portStatus(port: { admin_state_up: boolean; device_id: string; device_owner: string }): string {
  if (port.device_owner === DEVICE_OWNER.FLOATING_IP) return 'N/A';
  return port.admin_state_up && port.device_id !== '' && port.device_owner !== '' ? 'ACTIVE' : 'DOWN';
}

const rangeText = (range: AddressRange, version: 4 | 6) => `${formatIp(range.start, version)}-${formatIp(range.end, version)}`;

function parseFixedIpRequests(value: Body[]): FixedIpRequest[] {
  return value.map((entry) => {
    const request: FixedIpRequest = {};
    const subnetId = optUuid(entry, 'subnet_id');
    if (subnetId !== undefined) request.subnet_id = subnetId;
    if (entry.ip_address !== undefined) {
      if (!parseIp(entry.ip_address)) throw httpBadRequest(`Invalid input for fixed_ips. Reason: '${String(entry.ip_address)}' is not a valid IP address.`);
      request.ip_address = String(entry.ip_address);
    }
    if (request.subnet_id === undefined && request.ip_address === undefined) throw httpBadRequest('Invalid input for fixed_ips. Reason: each fixed IP needs a subnet_id or an ip_address.');
    return request;
  });
}

/**
 * Neutron's core plugin API (ML2, as far as the API shows it): networks, subnets with
 * IPAM, and ports.
 */
export class CoreApi {
  constructor(
    private readonly store: NeutronStore,
    private readonly events: NeutronEvents,
    private readonly config: NeutronConfig,
  ) {}

  // --- lookups shared with the other APIs ----------------------------------------------

  visibleNetwork(id: string, context: RequestContext): NetworkRecord {
    const network = this.store.network(id);
    if (!network || !canSeeNetwork(context, network)) throw networkNotFound(id);
    return network;
  }

  /** Subnets are visible with their network. */
  visibleSubnet(id: string, context: RequestContext): SubnetRecord {
    const subnet = this.store.subnet(id);
    const network = subnet ? this.store.network(subnet.network_id) : undefined;
    if (!subnet || !network || !(owns(context, subnet.project_id) || canSeeNetwork(context, network))) throw subnetNotFound(id);
    return subnet;
  }

  /** A port is visible to its project, the network's owner and admins. */
  visiblePort(id: string, context: RequestContext): PortRecord {
    const port = this.store.port(id);
    const network = port ? this.store.network(port.network_id) : undefined;
    if (!port || !(owns(context, port.project_id) || (network && owns(context, network.project_id)))) throw portNotFound(id);
    return port;
  }

  networkView(network: NetworkRecord, context: RequestContext): View {
    return networkView(network, context.isAdmin);
  }

  subnetView(subnet: SubnetRecord): View {
    return subnetView(subnet, this.store.network(subnet.network_id)?.router_external ?? false);
  }

  portView(port: PortRecord, context: RequestContext): View {
    return portView(port, context.isAdmin);
  }

  // --- networks ------------------------------------------------------------------------

  listNetworks(context: RequestContext): View[] {
    return this.store
      .networks()
      .filter((n) => canSeeNetwork(context, n))
      .map((n) => this.networkView(n, context));
  }

  showNetwork(id: string, context: RequestContext): View {
    return this.networkView(this.visibleNetwork(id, context), context);
  }

  /** Provider attributes as ML2 validates them; defaults to a Geneve tenant network. */
  private providerSegment(input: Body): { type: string; physical: string | null; segmentation: number | null } {
    const type = optString(input, 'provider:network_type') ?? 'geneve';
    if (!NETWORK_TYPES.includes(type)) throw invalidInput(`network_type value '${type}' not supported`);
    const physical = input['provider:physical_network'] === null ? null : (optString(input, 'provider:physical_network') ?? null);
    const segmentation = optInteger(input, 'provider:segmentation_id') ?? null;
    if (type === 'flat' || type === 'vlan') {
      if (!physical) throw invalidInput(`physical_network required for ${type} provider network`);
    } else if (physical) {
      throw invalidInput(`provider:physical_network specified for ${type} network`);
    }
    if (type === 'flat' || type === 'local') {
      if (segmentation !== null) throw invalidInput(`segmentation_id specified for ${type} network`);
      return { type, physical, segmentation: null };
    }
    if (type === 'vlan') {
      if (segmentation === null || segmentation < 1 || segmentation > 4094) throw invalidInput('segmentation_id out of range (1 through 4094)');
      return { type, physical, segmentation };
    }
    return { type, physical, segmentation: segmentation ?? this.store.nextSegmentationId(type) };
  }

  async createNetwork(body: unknown, context: RequestContext): Promise<View> {
    await this.events.createStart('network', body, context);
    const input = resourceBody(body, 'network');
    checkAttributes(input, NETWORK_CREATE, NETWORK_READ_ONLY, 'create');
    const projectId = ownerFor(context, requestedProject(input));
    const shared = optBoolean(input, 'shared') ?? false;
    const external = optBoolean(input, 'router:external') ?? false;
    const isDefault = optBoolean(input, 'is_default') ?? false;
    if (!context.isAdmin) {
      if (shared) throw policyNotAuthorized('rule:create_network and rule:create_network:shared');
      if (external) throw policyNotAuthorized('rule:create_network and rule:create_network:router:external');
      if (isDefault) throw policyNotAuthorized('rule:create_network and rule:create_network:is_default');
      const provider = PROVIDER_ATTRIBUTES.find((key) => key in input);
      if (provider) throw policyNotAuthorized(`rule:create_network and rule:create_network:${provider}`);
    }
    const segment = this.providerSegment(input);
    const tunnel = segment.type === 'geneve' || segment.type === 'vxlan' || segment.type === 'gre';
    const mtu = optInteger(input, 'mtu', 68) ?? (tunnel ? this.config.tenantMtu : this.config.providerMtu);
    const zones = optStringList(input, 'availability_zone_hints') ?? [];
    const now = this.store.now();
    const id = randomUUID();
    this.store.tx(() => {
      this.store.insert('neutron_networks', {
        id,
        name: optString(input, 'name') ?? '',
        project_id: projectId,
        description: optString(input, 'description') ?? '',
        admin_state_up: optBoolean(input, 'admin_state_up') ?? true,
        status: 'ACTIVE',
        shared,
        router_external: external,
        is_default: isDefault,
        mtu,
        port_security_enabled: optBoolean(input, 'port_security_enabled') ?? true,
        network_type: segment.type,
        physical_network: segment.physical,
        segmentation_id: segment.segmentation,
        availability_zone_hints: zones,
        revision_number: 1,
        created_at: now,
        updated_at: now,
      });
      // ML2 makes sure the owner has its default security group when it creates a network.
      this.store.ensureDefaultSecurityGroup(projectId);
    });
    const view = this.networkView(this.store.network(id) as NetworkRecord, context);
    await this.events.createEnd('network', view, context);
    return view;
  }

  async updateNetwork(id: string, body: unknown, context: RequestContext): Promise<View> {
    await this.events.updateStart('network', id, body, context);
    const input = resourceBody(body, 'network');
    checkAttributes(input, NETWORK_UPDATE, NETWORK_READ_ONLY, 'update');
    const network = this.visibleNetwork(id, context);
    if (!owns(context, network.project_id)) throw policyNotAuthorized('rule:update_network');
    const fields: Record<string, unknown> = {};
    const name = optString(input, 'name');
    if (name !== undefined) fields.name = name;
    const description = optString(input, 'description');
    if (description !== undefined) fields.description = description;
    const up = optBoolean(input, 'admin_state_up');
    if (up !== undefined) fields.admin_state_up = up;
    const mtu = optInteger(input, 'mtu', 68);
    if (mtu !== undefined) fields.mtu = mtu;
    const portSecurity = optBoolean(input, 'port_security_enabled');
    if (portSecurity !== undefined) fields.port_security_enabled = portSecurity;
    const shared = optBoolean(input, 'shared');
    const external = optBoolean(input, 'router:external');
    const isDefault = optBoolean(input, 'is_default');
    if (!context.isAdmin && (shared !== undefined || external !== undefined || isDefault !== undefined)) {
      throw policyNotAuthorized(`rule:update_network and rule:update_network:${shared !== undefined ? 'shared' : external !== undefined ? 'router:external' : 'is_default'}`);
    }
    if (shared === false && network.shared && this.store.ports({ networkId: id }).some((p) => p.project_id !== network.project_id && p.project_id !== '')) {
      throw new NeutronApiError('InvalidSharedSetting', 409, `Unable to reconfigure sharing settings for network ${id}. Multiple tenants are using it.`);
    }
    if (external === false && network.router_external && this.store.ports({ networkId: id }).some((p) => p.device_owner === DEVICE_OWNER.ROUTER_GATEWAY || p.device_owner === DEVICE_OWNER.FLOATING_IP)) {
      throw new NeutronApiError('ExternalNetworkInUse', 409, `External network ${id} cannot be updated to be made non-external, since it has existing gateway ports.`);
    }
    if (shared !== undefined) fields.shared = shared;
    if (external !== undefined) fields.router_external = external;
    if (isDefault !== undefined) fields.is_default = isDefault;
    this.store.update('neutron_networks', id, fields);
    const view = this.networkView(this.store.network(id) as NetworkRecord, context);
    await this.events.updateEnd('network', view, context);
    return view;
  }

  async deleteNetwork(id: string, context: RequestContext): Promise<void> {
    await this.events.deleteStart('network', id, context);
    const network = this.visibleNetwork(id, context);
    if (!owns(context, network.project_id)) throw policyNotAuthorized('rule:delete_network');
    const ports = this.store.ports({ networkId: id });
    if (ports.some((p) => !AUTO_DELETE_OWNERS.has(p.device_owner))) throw networkInUse(id);
    const view = this.networkView(network, context);
    this.store.tx(() => {
      for (const port of ports) this.store.delete('neutron_ports', port.id);
      // Subnets go with the network (ON DELETE CASCADE), without notifications of their own, as in Neutron.
      this.store.delete('neutron_networks', id);
    });
    await this.events.deleteEnd('network', id, view, context);
  }

  // --- subnets -------------------------------------------------------------------------

  listSubnets(context: RequestContext): View[] {
    const visible = new Set(this.store.networks().filter((n) => canSeeNetwork(context, n)).map((n) => n.id));
    return this.store
      .subnets()
      .filter((s) => visible.has(s.network_id) || owns(context, s.project_id))
      .map((s) => this.subnetView(s));
  }

  showSubnet(id: string, context: RequestContext): View {
    return this.subnetView(this.visibleSubnet(id, context));
  }

  /** Allocation pools as given, checked as neutron/ipam/utils.py and db_base_plugin do. */
  private allocationPools(input: Body, cidr: Cidr, gateway: bigint | null): AddressRange[] {
    const given = optObjectList(input, 'allocation_pools');
    if (given === undefined) return defaultPools(cidr, gateway);
    const cidrText = formatCidr(cidr);
    const ranges = given.map((pool) => {
      const start = parseIp(pool.start);
      const end = parseIp(pool.end);
      const text = `${String(pool.start)}-${String(pool.end)}`;
      if (!start || !end || start.version !== cidr.version || end.version !== cidr.version || start.value > end.value) throw invalidAllocationPool(text);
      const first = cidr.network + (cidr.version === 4 ? 1n : 0n);
      const last = lastAddress(cidr) - (cidr.version === 4 ? 1n : 0n);
      if (start.value < first || end.value > last) throw outOfBoundsAllocationPool(text, cidrText);
      return { start: start.value, end: end.value };
    });
    const sorted = [...ranges].sort((a, b) => (a.start < b.start ? -1 : 1));
    for (let i = 1; i < sorted.length; i += 1) {
      const previous = sorted[i - 1] as AddressRange;
      const current = sorted[i] as AddressRange;
      if (current.start <= previous.end) throw overlappingAllocationPools(rangeText(previous, cidr.version), rangeText(current, cidr.version), cidrText);
    }
    if (gateway !== null) {
      const clash = ranges.find((r) => gateway >= r.start && gateway <= r.end);
      if (clash) throw gatewayConflictWithAllocationPools(formatIp(gateway, cidr.version), rangeText(clash, cidr.version));
    }
    return ranges;
  }

  private nameservers(input: Body): string[] | undefined {
    const servers = optStringList(input, 'dns_nameservers');
    if (servers === undefined) return undefined;
    for (const server of servers) {
      if (!parseIp(server)) throw httpBadRequest(`Invalid input for dns_nameservers. Reason: '${server}' is not a valid nameserver.`);
    }
    return servers;
  }

  private hostRoutes(input: Body): SubnetRecord['host_routes'] | undefined {
    const routes = optObjectList(input, 'host_routes');
    if (routes === undefined) return undefined;
    return routes.map((route) => {
      if (!parseCidr(route.destination) || !parseIp(route.nexthop)) throw httpBadRequest(`Invalid input for host_routes. Reason: '${JSON.stringify(route)}' is not a valid route.`);
      return { destination: String(route.destination), nexthop: String(route.nexthop) };
    });
  }

  async createSubnet(body: unknown, context: RequestContext): Promise<View> {
    await this.events.createStart('subnet', body, context);
    const input = resourceBody(body, 'subnet');
    checkAttributes(input, SUBNET_CREATE, SUBNET_READ_ONLY, 'create');
    const networkId = required(optUuid(input, 'network_id'), 'network_id');
    const network = this.visibleNetwork(networkId, context);
    if (!owns(context, network.project_id)) throw policyNotAuthorized('rule:create_subnet');
    const projectId = ownerFor(context, requestedProject(input));
    const cidrText = input.cidr;
    if (cidrText === undefined || cidrText === null) throw badRequest('subnets', 'a subnetpool must be specified in the absence of a cidr');
    const cidr = parseCidr(cidrText);
    if (!cidr) throw httpBadRequest(`Invalid input for cidr. Reason: '${String(cidrText)}' is not a valid IP subnet.`);
    if (cidr.given !== cidr.network) throw httpBadRequest(`Invalid input for cidr. Reason: '${String(cidrText)}' isn't a recommended CIDR, use '${formatCidr(cidr)}' instead.`);
    const version = optInteger(input, 'ip_version') ?? cidr.version;
    if (version !== 4 && version !== 6) throw httpBadRequest(`Invalid input for ip_version. Reason: '${version}' is not in [4, 6].`);
    if (version !== cidr.version) throw invalidInput(`Invalid CIDR ${String(cidrText)} for IP version ${version}`);
    const clash = this.store.subnets(networkId).find((s) => {
      const other = parseCidr(s.cidr);
      return other !== null && cidrsOverlap(other, cidr);
    });
    if (clash) throw invalidInput(`Requested subnet with cidr: ${formatCidr(cidr)} for network: ${networkId} overlaps with another subnet`);

    let gateway: bigint | null;
    if ('gateway_ip' in input) {
      if (input.gateway_ip === null) {
        gateway = null;
      } else {
        const ip = parseIp(input.gateway_ip);
        if (!ip || ip.version !== cidr.version) throw httpBadRequest(`Invalid input for gateway_ip. Reason: '${String(input.gateway_ip)}' is not a valid IP address.`);
        if (cidr.version === 4 && cidrContains(cidr, ip) && cidr.prefix < 31 && (ip.value === cidr.network || ip.value === lastAddress(cidr))) throw invalidInput('Gateway is not valid on subnet');
        gateway = ip.value;
      }
    } else {
      // Neutron's default gateway: the first address after the network address, when there is one.
      gateway = defaultPools(cidr, null).length > 0 ? cidr.network + 1n : null;
    }
    const pools = this.allocationPools(input, cidr, gateway);
    const raMode = input.ipv6_ra_mode === null ? null : (optString(input, 'ipv6_ra_mode') ?? null);
    const addressMode = input.ipv6_address_mode === null ? null : (optString(input, 'ipv6_address_mode') ?? null);
    for (const [key, mode] of [['ipv6_ra_mode', raMode], ['ipv6_address_mode', addressMode]] as const) {
      if (mode === null) continue;
      if (!IPV6_MODES.includes(mode)) throw httpBadRequest(`Invalid input for ${key}. Reason: '${mode}' is not in ${JSON.stringify(IPV6_MODES).replace(/"/g, "'")}.`);
      if (version === 4) throw invalidInput(`${key} set to '${mode}' with ip_version set to '4' is not valid. Modes are only valid for IPv6`);
    }
    const now = this.store.now();
    const id = randomUUID();
    this.store.tx(() => {
      this.store.insert('neutron_subnets', {
        id,
        name: optString(input, 'name') ?? '',
        project_id: projectId,
        network_id: networkId,
        description: optString(input, 'description') ?? '',
        ip_version: version,
        cidr: formatCidr(cidr),
        gateway_ip: gateway === null ? null : formatIp(gateway, cidr.version),
        allocation_pools: pools.map((r) => ({ start: formatIp(r.start, cidr.version), end: formatIp(r.end, cidr.version) })),
        enable_dhcp: optBoolean(input, 'enable_dhcp') ?? true,
        dns_nameservers: this.nameservers(input) ?? [],
        host_routes: this.hostRoutes(input) ?? [],
        ipv6_ra_mode: raMode,
        ipv6_address_mode: addressMode,
        revision_number: 1,
        created_at: now,
        updated_at: now,
      });
      // A network's subnets are part of it: adding one is a new revision of the network.
      this.store.update('neutron_networks', networkId, {});
    });
    const view = this.subnetView(this.store.subnet(id) as SubnetRecord);
    await this.events.createEnd('subnet', view, context);
    return view;
  }

  async updateSubnet(id: string, body: unknown, context: RequestContext): Promise<View> {
    await this.events.updateStart('subnet', id, body, context);
    const input = resourceBody(body, 'subnet');
    checkAttributes(input, SUBNET_UPDATE, SUBNET_READ_ONLY, 'update');
    const subnet = this.visibleSubnet(id, context);
    if (!owns(context, subnet.project_id)) throw policyNotAuthorized('rule:update_subnet');
    const fields: Record<string, unknown> = {};
    for (const key of ['name', 'description'] as const) {
      const value = optString(input, key);
      if (value !== undefined) fields[key] = value;
    }
    const dhcp = optBoolean(input, 'enable_dhcp');
    if (dhcp !== undefined) fields.enable_dhcp = dhcp;
    const servers = this.nameservers(input);
    if (servers !== undefined) fields.dns_nameservers = servers;
    const routes = this.hostRoutes(input);
    if (routes !== undefined) fields.host_routes = routes;
    this.store.update('neutron_subnets', id, fields);
    const view = this.subnetView(this.store.subnet(id) as SubnetRecord);
    await this.events.updateEnd('subnet', view, context);
    return view;
  }

  async deleteSubnet(id: string, context: RequestContext): Promise<void> {
    await this.events.deleteStart('subnet', id, context);
    const subnet = this.visibleSubnet(id, context);
    if (!owns(context, subnet.project_id)) throw policyNotAuthorized('rule:delete_subnet');
    const ports = this.store.portsOnSubnet(id);
    if (ports.some((p) => !AUTO_DELETE_OWNERS.has(p.device_owner))) throw subnetInUse(id);
    const view = this.subnetView(subnet);
    this.store.tx(() => {
      for (const port of ports) this.store.releaseAddresses(port.id, port.fixed_ips.filter((ip) => ip.subnet_id !== id));
      this.store.delete('neutron_subnets', id);
      this.store.update('neutron_networks', subnet.network_id, {});
    });
    await this.events.deleteEnd('subnet', id, view, context);
  }

  // --- ports ---------------------------------------------------------------------------

  listPorts(context: RequestContext): View[] {
    const ownedNetworks = new Set(this.store.networks().filter((n) => owns(context, n.project_id)).map((n) => n.id));
    return this.store
      .ports()
      .filter((p) => owns(context, p.project_id) || ownedNetworks.has(p.network_id))
      .map((p) => this.portView(p, context));
  }

  showPort(id: string, context: RequestContext): View {
    return this.portView(this.visiblePort(id, context), context);
  }

  /** The groups exist and belong to the port's project (admins may use any). */
  private checkSecurityGroups(groupIds: readonly string[], projectId: string, context: RequestContext): void {
    for (const groupId of groupIds) {
      const group = this.store.securityGroup(groupId);
      if (!group || !(context.isAdmin || group.project_id === projectId)) throw securityGroupNotFound(groupId);
    }
  }

  /**
   * Creates a port inside the caller's transaction: MAC, fixed IPs, security groups.
   * Throws (and so rolls the transaction back) on a MAC or address conflict.
   */
  insertPort(spec: PortSpec): PortRecord {
    const network = this.store.network(spec.networkId);
    if (!network) throw networkNotFound(spec.networkId);
    const id = randomUUID();
    const now = this.store.now();
    const mac = spec.macAddress?.toLowerCase() ?? this.store.generateMac(network.id);
    if (this.store.macInUse(network.id, mac)) throw macAddressInUse(network.id, mac);
    const deviceOwner = spec.deviceOwner ?? '';
    const deviceId = spec.deviceId ?? '';
    const adminStateUp = spec.adminStateUp ?? true;
    const portSecurity = spec.portSecurityEnabled ?? network.port_security_enabled;
    // Router, DHCP and floating IP ports never carry security groups.
    const takesGroups = portSecurity && !deviceOwner.startsWith('network:');
    const groups = takesGroups ? (spec.securityGroups ?? (spec.projectId ? [this.store.ensureDefaultSecurityGroup(spec.projectId)] : [])) : [];
    this.store.insert('neutron_ports', {
      id,
      name: spec.name ?? '',
      project_id: spec.projectId,
      network_id: network.id,
      description: spec.description ?? '',
      mac_address: mac,
      admin_state_up: adminStateUp,
      status: spec.status ?? portStatus({ admin_state_up: adminStateUp, device_id: deviceId, device_owner: deviceOwner }),
      device_id: deviceId,
      device_owner: deviceOwner,
      port_security_enabled: portSecurity,
      binding_host_id: spec.hostId ?? '',
      binding_vnic_type: spec.vnicType ?? 'normal',
      binding_profile: spec.profile ?? {},
      revision_number: 1,
      created_at: now,
      updated_at: now,
    });
    this.store.allocate(id, network.id, spec.fixedIps ?? null, spec.ipVersions);
    this.store.setPortSecurityGroups(id, groups);
    return this.store.port(id) as PortRecord;
  }

  async createPort(body: unknown, context: RequestContext): Promise<View> {
    await this.events.createStart('port', body, context);
    const input = resourceBody(body, 'port');
    checkAttributes(input, PORT_CREATE, PORT_READ_ONLY, 'create');
    const networkId = required(optUuid(input, 'network_id'), 'network_id');
    const network = this.visibleNetwork(networkId, context);
    const projectId = ownerFor(context, requestedProject(input));
    if (!context.isAdmin && network.project_id !== projectId && !network.shared) throw policyNotAuthorized('rule:create_port');
    const spec = this.portSpec(input, networkId, projectId, context);
    const port = this.store.tx(() => this.insertPort(spec));
    const view = this.portView(port, context);
    await this.events.createEnd('port', view, context);
    return view;
  }

  private portSpec(input: Body, networkId: string, projectId: string, context: RequestContext): PortSpec {
    const spec: PortSpec = { networkId, projectId };
    spec.name = optString(input, 'name');
    spec.description = optString(input, 'description');
    spec.adminStateUp = optBoolean(input, 'admin_state_up');
    spec.deviceId = optString(input, 'device_id');
    spec.deviceOwner = optString(input, 'device_owner');
    spec.portSecurityEnabled = optBoolean(input, 'port_security_enabled');
    const mac = optString(input, 'mac_address');
    if (mac !== undefined && !MAC.test(mac)) throw httpBadRequest(`Invalid input for mac_address. Reason: '${mac}' is not a valid MAC address.`);
    spec.macAddress = mac;
    const fixed = optObjectList(input, 'fixed_ips');
    spec.fixedIps = fixed === undefined ? null : parseFixedIpRequests(fixed);
    const groups = optStringList(input, 'security_groups');
    if (groups !== undefined) this.checkSecurityGroups(groups, projectId, context);
    spec.securityGroups = groups ?? null;
    if (groups !== undefined && groups.length > 0 && spec.portSecurityEnabled === false) {
      throw new NeutronApiError('PortSecurityAndIPRequiredForSecurityGroups', 400, 'Port security must be enabled and port must have an IP address in order to use security groups.');
    }
    const vnic = optString(input, 'binding:vnic_type');
    if (vnic !== undefined && !VNIC_TYPES.includes(vnic)) throw httpBadRequest(`Invalid input for binding:vnic_type. Reason: '${vnic}' is not in ${JSON.stringify(VNIC_TYPES).replace(/"/g, "'")}.`);
    spec.vnicType = vnic;
    for (const key of ['binding:host_id', 'binding:profile'] as const) {
      if (key in input && !context.isAdmin) throw policyNotAuthorized(`rule:create_port and rule:create_port:${key}`);
    }
    spec.hostId = optString(input, 'binding:host_id');
    if (input['binding:profile'] !== undefined) {
      if (!isObject(input['binding:profile'])) throw httpBadRequest(`Invalid input for binding:profile. Reason: '${JSON.stringify(input['binding:profile'])}' is not a dictionary.`);
      spec.profile = input['binding:profile'];
    }
    return spec;
  }

  async updatePort(id: string, body: unknown, context: RequestContext): Promise<View> {
    await this.events.updateStart('port', id, body, context);
    const input = resourceBody(body, 'port');
    checkAttributes(input, PORT_UPDATE, PORT_READ_ONLY, 'update');
    const port = this.visiblePort(id, context);
    if (!owns(context, port.project_id) && !context.isAdmin) throw policyNotAuthorized('rule:update_port');
    for (const key of ['binding:host_id', 'binding:profile'] as const) {
      if (key in input && !context.isAdmin) throw policyNotAuthorized(`rule:update_port and rule:update_port:${key}`);
    }
    const fields: Record<string, unknown> = {};
    for (const key of ['name', 'description', 'device_id', 'device_owner'] as const) {
      const value = optString(input, key);
      if (value !== undefined) fields[key] = value;
    }
    const up = optBoolean(input, 'admin_state_up');
    if (up !== undefined) fields.admin_state_up = up;
    const hostId = optString(input, 'binding:host_id');
    if (hostId !== undefined) fields.binding_host_id = hostId;
    const vnic = optString(input, 'binding:vnic_type');
    if (vnic !== undefined) {
      if (!VNIC_TYPES.includes(vnic)) throw httpBadRequest(`Invalid input for binding:vnic_type. Reason: '${vnic}' is not in ${JSON.stringify(VNIC_TYPES).replace(/"/g, "'")}.`);
      fields.binding_vnic_type = vnic;
    }
    if (input['binding:profile'] !== undefined) {
      if (!isObject(input['binding:profile'])) throw httpBadRequest(`Invalid input for binding:profile. Reason: '${JSON.stringify(input['binding:profile'])}' is not a dictionary.`);
      fields.binding_profile = input['binding:profile'];
    }
    const portSecurity = optBoolean(input, 'port_security_enabled');
    if (portSecurity !== undefined) fields.port_security_enabled = portSecurity;
    const groups = optStringList(input, 'security_groups');
    if (groups !== undefined) this.checkSecurityGroups(groups, port.project_id, context);
    const finalSecurity = portSecurity ?? port.port_security_enabled;
    const finalGroups = groups ?? port.security_groups;
    if (!finalSecurity && finalGroups.length > 0) {
      throw groups !== undefined
        ? new NeutronApiError('PortSecurityAndIPRequiredForSecurityGroups', 400, 'Port security must be enabled and port must have an IP address in order to use security groups.')
        : new NeutronApiError('PortSecurityPortHasSecurityGroup', 409, 'Port has security group associated. Cannot disable port security or ip address until security group is removed');
    }
    const fixed = optObjectList(input, 'fixed_ips');
    const requests = fixed === undefined ? undefined : parseFixedIpRequests(fixed);
    const next = {
      admin_state_up: up ?? port.admin_state_up,
      device_id: (fields.device_id as string | undefined) ?? port.device_id,
      device_owner: (fields.device_owner as string | undefined) ?? port.device_owner,
    };
    if (port.status !== 'N/A') fields.status = portStatus(next);
    this.store.tx(() => {
      if (requests !== undefined) this.replaceFixedIps(port, requests);
      if (groups !== undefined) this.store.setPortSecurityGroups(id, groups);
      this.store.update('neutron_ports', id, fields);
    });
    const view = this.portView(this.store.port(id) as PortRecord, context);
    await this.events.updateEnd('port', view, context);
    return view;
  }

  /** Keeps the addresses asked for again, releases the others, then allocates the new ones. */
  private replaceFixedIps(port: PortRecord, requests: readonly FixedIpRequest[]): void {
    const kept: FixedIp[] = [];
    const fresh: FixedIpRequest[] = [];
    for (const request of requests) {
      const ip = request.ip_address === undefined ? null : normalizeIp(request.ip_address);
      const existing = port.fixed_ips.find((f) => f.ip_address === ip && (request.subnet_id === undefined || request.subnet_id === f.subnet_id));
      if (existing) kept.push(existing);
      else fresh.push(request);
    }
    this.store.releaseAddresses(port.id, kept);
    this.store.allocate(port.id, port.network_id, fresh);
  }

  async deletePort(id: string, context: RequestContext): Promise<void> {
    await this.events.deleteStart('port', id, context);
    const port = this.visiblePort(id, context);
    if (!owns(context, port.project_id) && !context.isAdmin) throw policyNotAuthorized('rule:delete_port');
    if (L3_OWNERS.has(port.device_owner)) throw servicePortInUse(id, port.device_owner);
    const view = this.portView(port, context);
    this.removePort(port.id);
    await this.events.deleteEnd('port', id, view, context);
  }

  /** Deletes a port and what hangs on it: its addresses, group bindings, floating IP associations. */
  removePort(portId: string): void {
    this.store.tx(() => {
      this.store.disassociateFloatingIps(portId);
      this.store.delete('neutron_ports', portId);
    });
  }
}
