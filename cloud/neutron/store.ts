import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock, StateDatabase } from '../../core/index.ts';
import { cidrContains, firstFreeAddress, lastAddress, parseCidr, parseIp, formatIp, type AddressRange } from './cidr.ts';
import { BASE_MAC_PREFIX } from './config.ts';
import { invalidInput, ipAddressAlreadyAllocated, ipAddressGenerationFailure } from './errors.ts';
import type { FixedIp, FloatingIpRecord, NetworkRecord, PortRecord, RouterRecord, SecurityGroupRecord, SecurityGroupRuleRecord, SubnetRecord } from './records.ts';

/** Tables whose rows carry Neutron's standard attributes (tags, revision_number, timestamps). */
export type StandardTable =
  | 'neutron_networks'
  | 'neutron_subnets'
  | 'neutron_ports'
  | 'neutron_routers'
  | 'neutron_floating_ips'
  | 'neutron_security_groups'
  | 'neutron_security_group_rules';

type SqlValue = string | number | null;
type Row = Record<string, SqlValue>;

/** A fixed IP asked for: an address, a subnet to allocate from, or both. */
export interface FixedIpRequest {
  subnet_id?: string;
  ip_address?: string;
}

type Cell = SqlValue | undefined;
const json = <T>(text: Cell): T => JSON.parse(String(text)) as T;
const bool = (value: Cell): boolean => value === 1;
const str = (value: Cell): string => String(value ?? '');
const nullableStr = (value: Cell): string | null => (value === null || value === undefined ? null : String(value));
const nullableNum = (value: Cell): number | null => (value === null || value === undefined ? null : Number(value));

const sqlValue = (value: unknown): SqlValue => {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value === null || typeof value === 'string' || typeof value === 'number') return value;
  return JSON.stringify(value);
};

/** Pools as address ranges, for the allocator. */
export function poolRanges(subnet: SubnetRecord): AddressRange[] {
  return subnet.allocation_pools.flatMap((pool) => {
    const start = parseIp(pool.start);
    const end = parseIp(pool.end);
    return start && end ? [{ start: start.value, end: end.value }] : [];
  });
}

/**
 * Neutron's persistence and IPAM on SQLite. Every method is synchronous, so a caller
 * wraps a multi-step change in `tx()` and it commits or rolls back whole.
 */
export class NeutronStore {
  constructor(
    private readonly db: StateDatabase,
    private readonly clock: Clock,
  ) {}

  now(): string {
    return this.clock.now().toISOString();
  }

  tx<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  // --- generic row operations --------------------------------------------------------

  /** Inserts a row; keys are column names chosen by our code, never by a client. */
  insert(table: StandardTable | 'neutron_ip_allocations' | 'neutron_port_security_groups', row: Record<string, unknown>): void {
    const keys = Object.keys(row);
    this.db.prepare(`INSERT INTO ${table} (${keys.join(', ')}) VALUES (${keys.map(() => '?').join(', ')})`).run(...keys.map((k) => sqlValue(row[k])));
  }

  /** Updates columns and bumps the revision, as every Neutron write to a standard-attribute object does. */
  update(table: StandardTable, id: string, fields: Record<string, unknown>): void {
    const entries = Object.entries(fields);
    const sets = [...entries.map(([k]) => `${k} = ?`), 'revision_number = revision_number + 1', 'updated_at = ?'];
    this.db.prepare(`UPDATE ${table} SET ${sets.join(', ')} WHERE id = ?`).run(...entries.map(([, v]) => sqlValue(v)), this.now(), id);
  }

  delete(table: StandardTable, id: string): void {
    this.db.prepare(`DELETE FROM ${table} WHERE id = ?`).run(id);
  }

  // --- networks ----------------------------------------------------------------------

  private toNetwork(row: Row): NetworkRecord {
    const id = str(row.id);
    return {
      id,
      name: str(row.name),
      project_id: str(row.project_id),
      description: str(row.description),
      admin_state_up: bool(row.admin_state_up),
      status: str(row.status),
      shared: bool(row.shared),
      router_external: bool(row.router_external),
      is_default: bool(row.is_default),
      mtu: Number(row.mtu),
      port_security_enabled: bool(row.port_security_enabled),
      network_type: nullableStr(row.network_type),
      physical_network: nullableStr(row.physical_network),
      segmentation_id: nullableNum(row.segmentation_id),
      availability_zone_hints: json<string[]>(row.availability_zone_hints),
      tags: json<string[]>(row.tags),
      revision_number: Number(row.revision_number),
      created_at: str(row.created_at),
      updated_at: str(row.updated_at),
      subnet_ids: (this.db.prepare('SELECT id FROM neutron_subnets WHERE network_id = ? ORDER BY rowid').all(id) as Array<{ id: string }>).map((s) => s.id),
    };
  }

  network(id: string): NetworkRecord | undefined {
    const row = this.db.prepare('SELECT * FROM neutron_networks WHERE id = ?').get(id) as Row | undefined;
    return row ? this.toNetwork(row) : undefined;
  }

  networks(): NetworkRecord[] {
    return (this.db.prepare('SELECT * FROM neutron_networks ORDER BY rowid').all() as Row[]).map((row) => this.toNetwork(row));
  }

  /** The next free Geneve VNI, as ML2's type driver hands them out (lowest first). */
  nextSegmentationId(networkType: string): number {
    const row = this.db.prepare('SELECT MAX(segmentation_id) AS top FROM neutron_networks WHERE network_type = ?').get(networkType) as { top: number | null };
    return (row.top ?? 0) + 1;
  }

  // --- subnets -----------------------------------------------------------------------

  private toSubnet(row: Row): SubnetRecord {
    return {
      id: str(row.id),
      name: str(row.name),
      project_id: str(row.project_id),
      network_id: str(row.network_id),
      description: str(row.description),
      ip_version: Number(row.ip_version) === 6 ? 6 : 4,
      cidr: str(row.cidr),
      gateway_ip: nullableStr(row.gateway_ip),
      allocation_pools: json<SubnetRecord['allocation_pools']>(row.allocation_pools),
      enable_dhcp: bool(row.enable_dhcp),
      dns_nameservers: json<string[]>(row.dns_nameservers),
      host_routes: json<SubnetRecord['host_routes']>(row.host_routes),
      ipv6_ra_mode: nullableStr(row.ipv6_ra_mode),
      ipv6_address_mode: nullableStr(row.ipv6_address_mode),
      tags: json<string[]>(row.tags),
      revision_number: Number(row.revision_number),
      created_at: str(row.created_at),
      updated_at: str(row.updated_at),
    };
  }

  subnet(id: string): SubnetRecord | undefined {
    const row = this.db.prepare('SELECT * FROM neutron_subnets WHERE id = ?').get(id) as Row | undefined;
    return row ? this.toSubnet(row) : undefined;
  }

  subnets(networkId?: string): SubnetRecord[] {
    const rows = networkId
      ? (this.db.prepare('SELECT * FROM neutron_subnets WHERE network_id = ? ORDER BY rowid').all(networkId) as Row[])
      : (this.db.prepare('SELECT * FROM neutron_subnets ORDER BY rowid').all() as Row[]);
    return rows.map((row) => this.toSubnet(row));
  }

  /** Ports holding an address in the subnet. */
  portsOnSubnet(subnetId: string): PortRecord[] {
    return (this.db.prepare('SELECT DISTINCT port_id FROM neutron_ip_allocations WHERE subnet_id = ?').all(subnetId) as Array<{ port_id: string }>).flatMap((r) => {
      const port = this.port(r.port_id);
      return port ? [port] : [];
    });
  }

  // --- ports -------------------------------------------------------------------------

  private toPort(row: Row): PortRecord {
    const id = str(row.id);
    return {
      id,
      name: str(row.name),
      project_id: str(row.project_id),
      network_id: str(row.network_id),
      description: str(row.description),
      mac_address: str(row.mac_address),
      admin_state_up: bool(row.admin_state_up),
      status: str(row.status),
      device_id: str(row.device_id),
      device_owner: str(row.device_owner),
      port_security_enabled: bool(row.port_security_enabled),
      binding_host_id: str(row.binding_host_id),
      binding_vnic_type: str(row.binding_vnic_type),
      binding_profile: json<Record<string, unknown>>(row.binding_profile),
      tags: json<string[]>(row.tags),
      revision_number: Number(row.revision_number),
      created_at: str(row.created_at),
      updated_at: str(row.updated_at),
      fixed_ips: this.db.prepare('SELECT subnet_id, ip_address FROM neutron_ip_allocations WHERE port_id = ? ORDER BY rowid').all(id) as FixedIp[],
      security_groups: (this.db.prepare('SELECT security_group_id FROM neutron_port_security_groups WHERE port_id = ? ORDER BY rowid').all(id) as Array<{ security_group_id: string }>).map(
        (r) => r.security_group_id,
      ),
    };
  }

  port(id: string): PortRecord | undefined {
    const row = this.db.prepare('SELECT * FROM neutron_ports WHERE id = ?').get(id) as Row | undefined;
    return row ? this.toPort(row) : undefined;
  }

  ports(where: { networkId?: string; deviceId?: string; deviceOwner?: string } = {}): PortRecord[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM neutron_ports WHERE (? IS NULL OR network_id = ?) AND (? IS NULL OR device_id = ?) AND (? IS NULL OR device_owner = ?) ORDER BY rowid`,
      )
      .all(where.networkId ?? null, where.networkId ?? null, where.deviceId ?? null, where.deviceId ?? null, where.deviceOwner ?? null, where.deviceOwner ?? null) as Row[];
    return rows.map((row) => this.toPort(row));
  }

  /** A MAC Neutron-style: the base_mac prefix and three random bytes, unique on the network. */
  generateMac(networkId: string): string {
    for (;;) {
      const mac = `${BASE_MAC_PREFIX}:${[...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
      if (!this.macInUse(networkId, mac)) return mac;
    }
  }

  macInUse(networkId: string, mac: string): boolean {
    return this.db.prepare('SELECT 1 FROM neutron_ports WHERE network_id = ? AND mac_address = ?').get(networkId, mac) !== undefined;
  }

  setPortSecurityGroups(portId: string, groupIds: readonly string[]): void {
    this.db.prepare('DELETE FROM neutron_port_security_groups WHERE port_id = ?').run(portId);
    for (const groupId of groupIds) this.insert('neutron_port_security_groups', { port_id: portId, security_group_id: groupId });
  }

  portsUsingSecurityGroup(groupId: string): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM neutron_port_security_groups WHERE security_group_id = ?').get(groupId) as { n: number }).n;
  }

  // --- IPAM --------------------------------------------------------------------------

  private usedAddresses(subnetId: string): Set<string> {
    return new Set((this.db.prepare('SELECT ip_address FROM neutron_ip_allocations WHERE subnet_id = ?').all(subnetId) as Array<{ ip_address: string }>).map((r) => r.ip_address));
  }

  addressInUse(subnetId: string, ip: string): boolean {
    return this.db.prepare('SELECT 1 FROM neutron_ip_allocations WHERE subnet_id = ? AND ip_address = ?').get(subnetId, ip) !== undefined;
  }

  private record(portId: string, networkId: string, fixed: FixedIp): FixedIp {
    this.insert('neutron_ip_allocations', { port_id: portId, subnet_id: fixed.subnet_id, network_id: networkId, ip_address: fixed.ip_address });
    return fixed;
  }

  /** An address of the subnet, checked the way Neutron's IPAM checks a requested one. */
  private requestedAddress(subnet: SubnetRecord, text: string): string {
    const cidr = parseCidr(subnet.cidr);
    const ip = parseIp(text);
    if (!cidr || !ip || !cidrContains(cidr, ip)) throw invalidInput(`IP address ${text} is not a valid IP for the specified subnet`);
    if (cidr.version === 4 && cidr.prefix < 31 && (ip.value === cidr.network || ip.value === lastAddress(cidr))) {
      throw invalidInput(`IP address ${text} is not a valid IP for the specified subnet`);
    }
    return formatIp(ip.value, ip.version);
  }

  /**
   * Allocates the port's fixed IPs: the requested ones, or by default one address per IP
   * version (of `versions`) from the first subnet of that version with room (lowest free
   * address of its pools). Throws IpAddressGenerationFailure when a network's subnets are full.
   */
  allocate(portId: string, networkId: string, requests: readonly FixedIpRequest[] | null, versions: ReadonlyArray<4 | 6> = [4, 6]): FixedIp[] {
    const subnets = this.subnets(networkId);
    if (requests === null) {
      const picked: FixedIp[] = [];
      for (const version of versions) {
        const candidates = subnets.filter((s) => s.ip_version === version);
        if (candidates.length === 0) continue;
        const found = candidates.map((s) => ({ subnet: s, ip: firstFreeAddress(poolRanges(s), version, this.usedAddresses(s.id)) })).find((c) => c.ip !== null);
        if (!found?.ip) throw ipAddressGenerationFailure(networkId);
        picked.push(this.record(portId, networkId, { subnet_id: found.subnet.id, ip_address: found.ip }));
      }
      return picked;
    }
    return requests.map((request) => {
      const subnet = request.subnet_id
        ? subnets.find((s) => s.id === request.subnet_id)
        : subnets.find((s) => {
            const cidr = parseCidr(s.cidr);
            const ip = parseIp(request.ip_address);
            return cidr && ip && cidrContains(cidr, ip);
          });
      if (!subnet) {
        throw request.subnet_id
          ? invalidInput(`Failed to create port on network ${networkId}, because fixed_ips included invalid subnet ${request.subnet_id}`)
          : invalidInput(`IP address ${String(request.ip_address)} is not a valid IP for any of the subnets on the specified network`);
      }
      if (request.ip_address !== undefined) {
        const ip = this.requestedAddress(subnet, request.ip_address);
        if (this.addressInUse(subnet.id, ip)) throw ipAddressAlreadyAllocated(ip, subnet.id);
        return this.record(portId, networkId, { subnet_id: subnet.id, ip_address: ip });
      }
      const ip = firstFreeAddress(poolRanges(subnet), subnet.ip_version, this.usedAddresses(subnet.id));
      if (!ip) throw ipAddressGenerationFailure(networkId);
      return this.record(portId, networkId, { subnet_id: subnet.id, ip_address: ip });
    });
  }

  releaseAddresses(portId: string, keep: readonly FixedIp[] = []): void {
    const kept = new Set(keep.map((ip) => `${ip.subnet_id}/${ip.ip_address}`));
    for (const ip of this.db.prepare('SELECT subnet_id, ip_address FROM neutron_ip_allocations WHERE port_id = ?').all(portId) as FixedIp[]) {
      if (!kept.has(`${ip.subnet_id}/${ip.ip_address}`)) this.db.prepare('DELETE FROM neutron_ip_allocations WHERE subnet_id = ? AND ip_address = ?').run(ip.subnet_id, ip.ip_address);
    }
  }

  // --- routers -----------------------------------------------------------------------

  private toRouter(row: Row): RouterRecord {
    const gwPortId = nullableStr(row.gw_port_id);
    const gwPort = gwPortId ? this.port(gwPortId) : undefined;
    return {
      id: str(row.id),
      name: str(row.name),
      project_id: str(row.project_id),
      description: str(row.description),
      admin_state_up: bool(row.admin_state_up),
      status: str(row.status),
      gw_port_id: gwPortId,
      enable_snat: bool(row.enable_snat),
      routes: json<RouterRecord['routes']>(row.routes),
      availability_zone_hints: json<string[]>(row.availability_zone_hints),
      tags: json<string[]>(row.tags),
      revision_number: Number(row.revision_number),
      created_at: str(row.created_at),
      updated_at: str(row.updated_at),
      gateway: gwPort ? { network_id: gwPort.network_id, external_fixed_ips: gwPort.fixed_ips } : null,
    };
  }

  router(id: string): RouterRecord | undefined {
    const row = this.db.prepare('SELECT * FROM neutron_routers WHERE id = ?').get(id) as Row | undefined;
    return row ? this.toRouter(row) : undefined;
  }

  routers(): RouterRecord[] {
    return (this.db.prepare('SELECT * FROM neutron_routers ORDER BY rowid').all() as Row[]).map((row) => this.toRouter(row));
  }

  // --- floating IPs ------------------------------------------------------------------

  private toFloatingIp(row: Row): FloatingIpRecord {
    return {
      id: str(row.id),
      project_id: str(row.project_id),
      description: str(row.description),
      floating_network_id: str(row.floating_network_id),
      floating_ip_address: str(row.floating_ip_address),
      floating_port_id: str(row.floating_port_id),
      port_id: nullableStr(row.port_id),
      fixed_ip_address: nullableStr(row.fixed_ip_address),
      router_id: nullableStr(row.router_id),
      status: str(row.status),
      tags: json<string[]>(row.tags),
      revision_number: Number(row.revision_number),
      created_at: str(row.created_at),
      updated_at: str(row.updated_at),
    };
  }

  floatingIp(id: string): FloatingIpRecord | undefined {
    const row = this.db.prepare('SELECT * FROM neutron_floating_ips WHERE id = ?').get(id) as Row | undefined;
    return row ? this.toFloatingIp(row) : undefined;
  }

  floatingIps(where: { portId?: string; routerId?: string } = {}): FloatingIpRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM neutron_floating_ips WHERE (? IS NULL OR port_id = ?) AND (? IS NULL OR router_id = ?) ORDER BY rowid')
      .all(where.portId ?? null, where.portId ?? null, where.routerId ?? null, where.routerId ?? null) as Row[];
    return rows.map((row) => this.toFloatingIp(row));
  }

  /**
   * Drops the association of floating IPs with a port being deleted; the addresses stay
   * allocated to their projects (l3_db disassociate_floatingips).
   */
  disassociateFloatingIps(portId: string): void {
    for (const fip of this.floatingIps({ portId })) this.update('neutron_floating_ips', fip.id, { port_id: null, fixed_ip_address: null, router_id: null, status: 'DOWN' });
  }

  // --- security groups ---------------------------------------------------------------

  private toRule(row: Row): SecurityGroupRuleRecord {
    return {
      id: str(row.id),
      security_group_id: str(row.security_group_id),
      project_id: str(row.project_id),
      direction: str(row.direction) === 'egress' ? 'egress' : 'ingress',
      ethertype: str(row.ethertype) === 'IPv6' ? 'IPv6' : 'IPv4',
      protocol: nullableStr(row.protocol),
      port_range_min: nullableNum(row.port_range_min),
      port_range_max: nullableNum(row.port_range_max),
      remote_ip_prefix: nullableStr(row.remote_ip_prefix),
      remote_group_id: nullableStr(row.remote_group_id),
      description: str(row.description),
      revision_number: Number(row.revision_number),
      created_at: str(row.created_at),
      updated_at: str(row.updated_at),
    };
  }

  private toSecurityGroup(row: Row): SecurityGroupRecord {
    const id = str(row.id);
    return {
      id,
      name: str(row.name),
      project_id: str(row.project_id),
      description: str(row.description),
      stateful: bool(row.stateful),
      is_default: bool(row.is_default),
      tags: json<string[]>(row.tags),
      revision_number: Number(row.revision_number),
      created_at: str(row.created_at),
      updated_at: str(row.updated_at),
      rules: (this.db.prepare('SELECT * FROM neutron_security_group_rules WHERE security_group_id = ? ORDER BY rowid').all(id) as Row[]).map((r) => this.toRule(r)),
    };
  }

  securityGroup(id: string): SecurityGroupRecord | undefined {
    const row = this.db.prepare('SELECT * FROM neutron_security_groups WHERE id = ?').get(id) as Row | undefined;
    return row ? this.toSecurityGroup(row) : undefined;
  }

  securityGroups(): SecurityGroupRecord[] {
    return (this.db.prepare('SELECT * FROM neutron_security_groups ORDER BY rowid').all() as Row[]).map((row) => this.toSecurityGroup(row));
  }

  rule(id: string): SecurityGroupRuleRecord | undefined {
    const row = this.db.prepare('SELECT * FROM neutron_security_group_rules WHERE id = ?').get(id) as Row | undefined;
    return row ? this.toRule(row) : undefined;
  }

  rules(): SecurityGroupRuleRecord[] {
    return (this.db.prepare('SELECT * FROM neutron_security_group_rules ORDER BY rowid').all() as Row[]).map((row) => this.toRule(row));
  }

  /** Rules of other groups that name `groupId` as their remote group. */
  deleteRulesReferencing(groupId: string): void {
    this.db.prepare('DELETE FROM neutron_security_group_rules WHERE remote_group_id = ? AND security_group_id <> ?').run(groupId, groupId);
  }

  insertRule(rule: Omit<SecurityGroupRuleRecord, 'revision_number' | 'created_at' | 'updated_at'>): void {
    const now = this.now();
    this.insert('neutron_security_group_rules', { ...rule, revision_number: 0, created_at: now, updated_at: now });
  }

  /**
   * A security group with Neutron's template rules: egress anywhere over IPv4 and IPv6,
   * plus, for a project's default group, ingress from members of the group itself.
   */
  insertSecurityGroup(group: { id?: string; name: string; project_id: string; description: string; stateful: boolean; is_default: boolean }): string {
    const id = group.id ?? randomUUID();
    const now = this.now();
    this.insert('neutron_security_groups', { id, name: group.name, project_id: group.project_id, description: group.description, stateful: group.stateful, is_default: group.is_default, revision_number: 1, created_at: now, updated_at: now });
    for (const ethertype of ['IPv4', 'IPv6'] as const) {
      const base = { security_group_id: id, project_id: group.project_id, ethertype, protocol: null, port_range_min: null, port_range_max: null, remote_ip_prefix: null, description: '' };
      this.insertRule({ ...base, id: randomUUID(), direction: 'egress', remote_group_id: null });
      if (group.is_default) this.insertRule({ ...base, id: randomUUID(), direction: 'ingress', remote_group_id: id });
    }
    return id;
  }

  defaultSecurityGroupId(projectId: string): string | undefined {
    return (this.db.prepare('SELECT id FROM neutron_security_groups WHERE project_id = ? AND is_default = 1').get(projectId) as { id: string } | undefined)?.id;
  }

  /** The project's `default` group, created on first use as Neutron does. */
  ensureDefaultSecurityGroup(projectId: string): string {
    return this.defaultSecurityGroupId(projectId) ?? this.tx(() => this.insertSecurityGroup({ name: 'default', project_id: projectId, description: 'Default security group', stateful: true, is_default: true }));
  }
}
