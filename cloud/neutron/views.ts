import { formatCidr, parseCidr } from './cidr.ts';
import type { FloatingIpRecord, NetworkRecord, PortRecord, RouterRecord, SecurityGroupRecord, SecurityGroupRuleRecord, SubnetRecord } from './records.ts';

/**
 * Neutron's API representations. `admin` stands for Neutron's policy: provider
 * attributes, port bindings and router distributed/ha are shown to admins only. The
 * same views are the notification payloads, as Neutron's notifier hook sends the
 * response body.
 */

/** Neutron's standard-attribute timestamps: ISO 8601, seconds, `Z`. */
export function neutronTime(iso: string): string {
  return `${iso.slice(0, 19)}Z`;
}

export function networkView(n: NetworkRecord, admin: boolean): Record<string, unknown> {
  return {
    id: n.id,
    name: n.name,
    tenant_id: n.project_id,
    admin_state_up: n.admin_state_up,
    mtu: n.mtu,
    status: n.status,
    subnets: n.subnet_ids,
    shared: n.shared,
    project_id: n.project_id,
    port_security_enabled: n.port_security_enabled,
    qos_policy_id: null,
    'router:external': n.router_external,
    is_default: n.is_default,
    availability_zone_hints: n.availability_zone_hints,
    availability_zones: [],
    ipv4_address_scope: null,
    ipv6_address_scope: null,
    l2_adjacency: true,
    description: n.description,
    tags: n.tags,
    created_at: neutronTime(n.created_at),
    updated_at: neutronTime(n.updated_at),
    revision_number: n.revision_number,
    ...(admin
      ? { 'provider:network_type': n.network_type, 'provider:physical_network': n.physical_network, 'provider:segmentation_id': n.segmentation_id }
      : {}),
  };
}

export function subnetView(s: SubnetRecord, routerExternal: boolean): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    tenant_id: s.project_id,
    network_id: s.network_id,
    ip_version: s.ip_version,
    subnetpool_id: null,
    enable_dhcp: s.enable_dhcp,
    ipv6_ra_mode: s.ipv6_ra_mode,
    ipv6_address_mode: s.ipv6_address_mode,
    gateway_ip: s.gateway_ip,
    cidr: s.cidr,
    allocation_pools: s.allocation_pools,
    host_routes: s.host_routes,
    dns_nameservers: s.dns_nameservers,
    description: s.description,
    service_types: [],
    segment_id: null,
    'router:external': routerExternal,
    project_id: s.project_id,
    tags: s.tags,
    created_at: neutronTime(s.created_at),
    updated_at: neutronTime(s.updated_at),
    revision_number: s.revision_number,
  };
}

export function portView(p: PortRecord, admin: boolean): Record<string, unknown> {
  return {
    id: p.id,
    name: p.name,
    network_id: p.network_id,
    tenant_id: p.project_id,
    mac_address: p.mac_address,
    admin_state_up: p.admin_state_up,
    status: p.status,
    device_id: p.device_id,
    device_owner: p.device_owner,
    fixed_ips: p.fixed_ips.map((ip) => ({ subnet_id: ip.subnet_id, ip_address: ip.ip_address })),
    allowed_address_pairs: [],
    extra_dhcp_opts: [],
    security_groups: p.security_groups,
    description: p.description,
    'binding:vnic_type': p.binding_vnic_type,
    port_security_enabled: p.port_security_enabled,
    qos_policy_id: null,
    qos_network_policy_id: null,
    resource_request: null,
    ip_allocation: 'immediate',
    propagate_uplink_status: false,
    project_id: p.project_id,
    tags: p.tags,
    created_at: neutronTime(p.created_at),
    updated_at: neutronTime(p.updated_at),
    revision_number: p.revision_number,
    ...(admin
      ? {
          'binding:host_id': p.binding_host_id,
          'binding:profile': p.binding_profile,
          'binding:vif_type': p.binding_host_id ? 'ovs' : 'unbound',
          'binding:vif_details': p.binding_host_id ? { port_filter: true, connectivity: 'l2', bridge_name: 'br-int', datapath_type: 'system' } : {},
        }
      : {}),
  };
}

export function routerView(r: RouterRecord, admin: boolean): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    tenant_id: r.project_id,
    admin_state_up: r.admin_state_up,
    status: r.status,
    external_gateway_info: r.gateway
      ? { network_id: r.gateway.network_id, external_fixed_ips: r.gateway.external_fixed_ips.map((ip) => ({ ...ip })), enable_snat: r.enable_snat }
      : null,
    description: r.description,
    availability_zones: [],
    availability_zone_hints: r.availability_zone_hints,
    routes: r.routes,
    flavor_id: null,
    project_id: r.project_id,
    tags: r.tags,
    created_at: neutronTime(r.created_at),
    updated_at: neutronTime(r.updated_at),
    revision_number: r.revision_number,
    ...(admin ? { distributed: false, ha: false } : {}),
  };
}

/** `port` is the associated port, for the fip-port-details extension. */
export function floatingIpView(f: FloatingIpRecord, port: PortRecord | null): Record<string, unknown> {
  return {
    id: f.id,
    tenant_id: f.project_id,
    floating_ip_address: f.floating_ip_address,
    floating_network_id: f.floating_network_id,
    router_id: f.router_id,
    port_id: f.port_id,
    fixed_ip_address: f.fixed_ip_address,
    status: f.status,
    project_id: f.project_id,
    description: f.description,
    qos_policy_id: null,
    port_details: port
      ? {
          name: port.name,
          network_id: port.network_id,
          mac_address: port.mac_address,
          admin_state_up: port.admin_state_up,
          status: port.status,
          device_id: port.device_id,
          device_owner: port.device_owner,
        }
      : null,
    port_forwardings: [],
    tags: f.tags,
    created_at: neutronTime(f.created_at),
    updated_at: neutronTime(f.updated_at),
    revision_number: f.revision_number,
  };
}

export function securityGroupRuleView(r: SecurityGroupRuleRecord, belongsToDefault: boolean): Record<string, unknown> {
  const prefix = r.remote_ip_prefix ? parseCidr(r.remote_ip_prefix) : null;
  return {
    id: r.id,
    tenant_id: r.project_id,
    security_group_id: r.security_group_id,
    ethertype: r.ethertype,
    direction: r.direction,
    protocol: r.protocol,
    port_range_min: r.port_range_min,
    port_range_max: r.port_range_max,
    remote_ip_prefix: r.remote_ip_prefix,
    remote_address_group_id: null,
    normalized_cidr: prefix ? formatCidr(prefix) : null,
    remote_group_id: r.remote_group_id,
    description: r.description,
    belongs_to_default_sg: belongsToDefault,
    project_id: r.project_id,
    created_at: neutronTime(r.created_at),
    updated_at: neutronTime(r.updated_at),
    revision_number: r.revision_number,
  };
}

export function securityGroupView(g: SecurityGroupRecord): Record<string, unknown> {
  return {
    id: g.id,
    name: g.name,
    tenant_id: g.project_id,
    description: g.description,
    stateful: g.stateful,
    shared: false,
    security_group_rules: g.rules.map((r) => securityGroupRuleView(r, g.is_default)),
    project_id: g.project_id,
    tags: g.tags,
    created_at: neutronTime(g.created_at),
    updated_at: neutronTime(g.updated_at),
    revision_number: g.revision_number,
  };
}
