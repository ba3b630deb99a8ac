/**
 * The API extensions we implement, as GET /v2.0/extensions lists them. Clients probe
 * these (e.g. `openstack router list --long` asks for router_availability_zone, `network
 * create --dns-domain` for dns-integration) and adapt, so only what is served is listed.
 */
export interface NeutronExtension {
  alias: string;
  name: string;
  description: string;
  updated: string;
  links: never[];
}

const extension = (alias: string, name: string, description: string, updated: string): NeutronExtension => ({ alias, name, description, updated, links: [] });

export const NEUTRON_EXTENSIONS: readonly NeutronExtension[] = [
  extension('binding', 'Port Binding', 'Expose port bindings of a virtual port to external application', '2014-02-03T10:00:00-00:00'),
  extension('external-net', 'Neutron external network', 'Adds external network attribute to network resource.', '2013-01-14T10:00:00-00:00'),
  extension('extraroute', 'Neutron Extra Route', 'Extra routes configuration for L3 router', '2013-02-01T10:00:00-00:00'),
  extension('fip-port-details', 'Floating IP Port Details Extension', 'Add port_details attribute to Floating IP resource', '2018-04-09T10:00:00-00:00'),
  extension('filter-validation', 'Filter parameters validation', 'Provides validation on filter parameters.', '2018-03-21T10:00:00-00:00'),
  extension('network-mtu', 'Network MTU', 'Provides MTU attribute for a network resource.', '2015-03-25T10:00:00-00:00'),
  extension('pagination', 'Pagination support', 'Extension that indicates that pagination is enabled.', '2016-06-12T00:00:00-00:00'),
  extension('port-security', 'Port Security', 'Provides port security', '2012-07-23T10:00:00-00:00'),
  extension('project-id', 'project_id field enabled', 'Extension that indicates that project_id field is enabled.', '2016-09-09T09:09:09-09:09'),
  extension('provider', 'Provider Network', 'Expose mapping of virtual networks to physical networks', '2012-09-07T10:00:00-00:00'),
  extension('router', 'Neutron L3 Router', 'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.', '2012-07-20T10:00:00-00:00'),
  extension('security-group', 'security-group', 'The security groups extension.', '2012-10-05T10:00:00-00:00'),
  extension('sorting', 'Sorting support', 'Extension that indicates that sorting is enabled.', '2016-06-12T00:00:00-00:00'),
  extension('standard-attr-description', 'standard-attr-description', 'Extension to add descriptions to standard attributes', '2016-02-10T10:00:00-00:00'),
  extension('standard-attr-revisions', 'Resource revision numbers', 'This extension will display the revision number of neutron resources.', '2016-04-11T10:00:00-00:00'),
  extension('standard-attr-tag', 'Tag support for resources with standard attribute: subnet, trunk, network_segment_range, router, network, policy, subnetpool, port, security_group, floatingip', 'Enables to set tag on resources with standard attribute.', '2017-01-01T00:00:00-00:00'),
  extension('standard-attr-timestamp', 'Resource timestamps', 'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.', '2016-09-12T10:00:00-00:00'),
  extension('stateful-security-group', 'Stateful security group', 'Indicates if the security group is stateful or not', '2019-11-26T09:00:00-00:00'),
];
