/**
 * Neutron's tables (component `cloud.neutron`), in migration order. Never edit a shipped
 * entry: append. Tables carry a `neutron_` prefix because the control plane shares one
 * database. Lists (tags, pools, name servers...) are JSON text: they are read and
 * written whole, never queried into.
 */
export const NEUTRON_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE neutron_networks (
    id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', project_id TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
    admin_state_up INTEGER NOT NULL DEFAULT 1, status TEXT NOT NULL DEFAULT 'ACTIVE', shared INTEGER NOT NULL DEFAULT 0,
    router_external INTEGER NOT NULL DEFAULT 0, is_default INTEGER NOT NULL DEFAULT 0, mtu INTEGER NOT NULL,
    port_security_enabled INTEGER NOT NULL DEFAULT 1, network_type TEXT, physical_network TEXT, segmentation_id INTEGER,
    availability_zone_hints TEXT NOT NULL DEFAULT '[]', tags TEXT NOT NULL DEFAULT '[]',
    revision_number INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  CREATE INDEX neutron_networks_project ON neutron_networks (project_id);

  CREATE TABLE neutron_subnets (
    id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', project_id TEXT NOT NULL,
    network_id TEXT NOT NULL REFERENCES neutron_networks(id) ON DELETE CASCADE, description TEXT NOT NULL DEFAULT '',
    ip_version INTEGER NOT NULL, cidr TEXT NOT NULL, gateway_ip TEXT, allocation_pools TEXT NOT NULL DEFAULT '[]',
    enable_dhcp INTEGER NOT NULL DEFAULT 1, dns_nameservers TEXT NOT NULL DEFAULT '[]', host_routes TEXT NOT NULL DEFAULT '[]',
    ipv6_ra_mode TEXT, ipv6_address_mode TEXT, tags TEXT NOT NULL DEFAULT '[]',
    revision_number INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  CREATE INDEX neutron_subnets_network ON neutron_subnets (network_id);

  CREATE TABLE neutron_ports (
    id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', project_id TEXT NOT NULL,
    network_id TEXT NOT NULL REFERENCES neutron_networks(id), description TEXT NOT NULL DEFAULT '',
    mac_address TEXT NOT NULL, admin_state_up INTEGER NOT NULL DEFAULT 1, status TEXT NOT NULL,
    device_id TEXT NOT NULL DEFAULT '', device_owner TEXT NOT NULL DEFAULT '', port_security_enabled INTEGER NOT NULL DEFAULT 1,
    binding_host_id TEXT NOT NULL DEFAULT '', binding_vnic_type TEXT NOT NULL DEFAULT 'normal', binding_profile TEXT NOT NULL DEFAULT '{}',
    tags TEXT NOT NULL DEFAULT '[]', revision_number INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    UNIQUE (network_id, mac_address));
  CREATE INDEX neutron_ports_device ON neutron_ports (device_id);
  CREATE INDEX neutron_ports_network ON neutron_ports (network_id);

  -- One row per fixed IP; the primary key is what makes two ports never share an address.
  CREATE TABLE neutron_ip_allocations (
    port_id TEXT NOT NULL REFERENCES neutron_ports(id) ON DELETE CASCADE,
    subnet_id TEXT NOT NULL REFERENCES neutron_subnets(id), network_id TEXT NOT NULL, ip_address TEXT NOT NULL,
    PRIMARY KEY (subnet_id, ip_address));
  CREATE INDEX neutron_ip_allocations_port ON neutron_ip_allocations (port_id);

  CREATE TABLE neutron_security_groups (
    id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', project_id TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
    stateful INTEGER NOT NULL DEFAULT 1, is_default INTEGER NOT NULL DEFAULT 0, tags TEXT NOT NULL DEFAULT '[]',
    revision_number INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  -- At most one default group per project, even when two first uses race.
  CREATE UNIQUE INDEX neutron_security_groups_default ON neutron_security_groups (project_id) WHERE is_default = 1;

  CREATE TABLE neutron_security_group_rules (
    id TEXT PRIMARY KEY, security_group_id TEXT NOT NULL REFERENCES neutron_security_groups(id) ON DELETE CASCADE,
    project_id TEXT NOT NULL, direction TEXT NOT NULL, ethertype TEXT NOT NULL, protocol TEXT,
    port_range_min INTEGER, port_range_max INTEGER, remote_ip_prefix TEXT, remote_group_id TEXT,
    description TEXT NOT NULL DEFAULT '', revision_number INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  CREATE INDEX neutron_security_group_rules_group ON neutron_security_group_rules (security_group_id);

  CREATE TABLE neutron_port_security_groups (
    port_id TEXT NOT NULL REFERENCES neutron_ports(id) ON DELETE CASCADE,
    security_group_id TEXT NOT NULL REFERENCES neutron_security_groups(id),
    PRIMARY KEY (port_id, security_group_id));

  CREATE TABLE neutron_routers (
    id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', project_id TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
    admin_state_up INTEGER NOT NULL DEFAULT 1, status TEXT NOT NULL DEFAULT 'ACTIVE',
    gw_port_id TEXT REFERENCES neutron_ports(id), enable_snat INTEGER NOT NULL DEFAULT 1, routes TEXT NOT NULL DEFAULT '[]',
    availability_zone_hints TEXT NOT NULL DEFAULT '[]', tags TEXT NOT NULL DEFAULT '[]',
    revision_number INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);

  CREATE TABLE neutron_floating_ips (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
    floating_network_id TEXT NOT NULL REFERENCES neutron_networks(id), floating_ip_address TEXT NOT NULL,
    floating_port_id TEXT NOT NULL REFERENCES neutron_ports(id), port_id TEXT REFERENCES neutron_ports(id),
    fixed_ip_address TEXT, router_id TEXT REFERENCES neutron_routers(id), status TEXT NOT NULL DEFAULT 'DOWN',
    tags TEXT NOT NULL DEFAULT '[]', revision_number INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  CREATE INDEX neutron_floating_ips_port ON neutron_floating_ips (port_id);
  `,
];
