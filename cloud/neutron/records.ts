/** Neutron's objects as the service keeps them (snake_case, like the tables and the API). */

export const DEVICE_OWNER = {
  ROUTER_INTERFACE: 'network:router_interface',
  ROUTER_GATEWAY: 'network:router_gateway',
  FLOATING_IP: 'network:floatingip',
  DHCP: 'network:dhcp',
  COMPUTE: 'compute:nova',
} as const;

export interface FixedIp {
  subnet_id: string;
  ip_address: string;
}

export interface NetworkRecord {
  id: string;
  name: string;
  project_id: string;
  description: string;
  admin_state_up: boolean;
  status: string;
  shared: boolean;
  router_external: boolean;
  is_default: boolean;
  mtu: number;
  port_security_enabled: boolean;
  network_type: string | null;
  physical_network: string | null;
  segmentation_id: number | null;
  availability_zone_hints: string[];
  tags: string[];
  revision_number: number;
  created_at: string;
  updated_at: string;
  /** Ids of the network's subnets, oldest first. */
  subnet_ids: string[];
}

export interface SubnetRecord {
  id: string;
  name: string;
  project_id: string;
  network_id: string;
  description: string;
  ip_version: 4 | 6;
  cidr: string;
  gateway_ip: string | null;
  allocation_pools: Array<{ start: string; end: string }>;
  enable_dhcp: boolean;
  dns_nameservers: string[];
  host_routes: Array<{ destination: string; nexthop: string }>;
  ipv6_ra_mode: string | null;
  ipv6_address_mode: string | null;
  tags: string[];
  revision_number: number;
  created_at: string;
  updated_at: string;
}

export interface PortRecord {
  id: string;
  name: string;
  project_id: string;
  network_id: string;
  description: string;
  mac_address: string;
  admin_state_up: boolean;
  status: string;
  device_id: string;
  device_owner: string;
  port_security_enabled: boolean;
  binding_host_id: string;
  binding_vnic_type: string;
  binding_profile: Record<string, unknown>;
  tags: string[];
  revision_number: number;
  created_at: string;
  updated_at: string;
  fixed_ips: FixedIp[];
  security_groups: string[];
}

export interface RouterRecord {
  id: string;
  name: string;
  project_id: string;
  description: string;
  admin_state_up: boolean;
  status: string;
  gw_port_id: string | null;
  enable_snat: boolean;
  routes: Array<{ destination: string; nexthop: string }>;
  availability_zone_hints: string[];
  tags: string[];
  revision_number: number;
  created_at: string;
  updated_at: string;
  /** From the gateway port: its network and addresses; null without a gateway. */
  gateway: { network_id: string; external_fixed_ips: FixedIp[] } | null;
}

export interface FloatingIpRecord {
  id: string;
  project_id: string;
  description: string;
  floating_network_id: string;
  floating_ip_address: string;
  floating_port_id: string;
  port_id: string | null;
  fixed_ip_address: string | null;
  router_id: string | null;
  status: string;
  tags: string[];
  revision_number: number;
  created_at: string;
  updated_at: string;
}

export interface SecurityGroupRuleRecord {
  id: string;
  security_group_id: string;
  project_id: string;
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
  description: string;
  revision_number: number;
  created_at: string;
  updated_at: string;
}

export interface SecurityGroupRecord {
  id: string;
  name: string;
  project_id: string;
  description: string;
  stateful: boolean;
  is_default: boolean;
  tags: string[];
  revision_number: number;
  created_at: string;
  updated_at: string;
  rules: SecurityGroupRuleRecord[];
}
