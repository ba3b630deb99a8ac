import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { neutronHarness, PUBLIC_URL, type Harness, type Json, type Resource } from './test-harness.ts';

const V2 = '/network/v2.0';
const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface FixedIp {
  subnet_id: string;
  ip_address: string;
}
type Port = Resource & { fixed_ips: FixedIp[]; security_groups: string[]; mac_address: string };
type Group = Resource & { security_group_rules: Resource[] };

let h: Harness;

beforeEach(async () => {
  h = await neutronHarness();
});

afterEach(async () => {
  await h.close();
});

async function create<T = Resource>(resource: string, path: string, token: string, attributes: Json): Promise<T> {
  const response = await h.call<Record<string, T>>('POST', `${V2}/${path}`, token, { [resource]: attributes });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body[resource] as T;
}

async function network(token: string, name: string, cidr = '192.168.10.0/24'): Promise<{ network: Resource; subnet: Resource }> {
  const created = await create('network', 'networks', token, { name, admin_state_up: true });
  const subnet = await create('subnet', 'subnets', token, { name: `${name}-subnet`, network_id: created.id, cidr, ip_version: 4 });
  return { network: created, subnet };
}

async function named(token: string, path: string, collection: string, name: string): Promise<Resource> {
  const response = await h.call<Record<string, Resource[]>>('GET', `${V2}/${path}?name=${name}`, token);
  const found = response.body[collection]?.[0];
  if (!found) throw new Error(`no ${collection} named ${name}`);
  return found;
}

describe('neutron versions and auth', () => {
  it('answers GET /network and /network/ with the versions document, without a token', async () => {
    for (const url of ['/network', '/network/']) {
      const response = await h.call('GET', url, null);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ href: `${PUBLIC_URL}/network/v2.0/`, rel: 'self' }] }] });
    }
  });

  it('refuses the API without a valid token, as keystonemiddleware does (401, Keystone body)', async () => {
    const response = await h.call('GET', `${V2}/networks`, 'not-a-token');
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: { code: 401, message: expect.any(String), title: 'Unauthorized' } });
  });

  it('lists its resources and extensions, and 404s an unknown extension in NeutronError form', async () => {
    const root = await h.call<{ resources: Json[] }>('GET', `${V2}/`, h.alice.token);
    expect(root.body.resources.map((r) => r.collection)).toEqual(expect.arrayContaining(['networks', 'floatingips', 'security_groups']));
    const extensions = await h.call<{ extensions: Json[] }>('GET', `${V2}/extensions`, h.alice.token);
    expect(extensions.body.extensions.map((e) => e.alias)).toEqual(expect.arrayContaining(['router', 'external-net', 'security-group']));
    const missing = await h.call('GET', `${V2}/extensions/dns-integration`, h.alice.token);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ NeutronError: { type: 'HTTPNotFound', message: 'Extension with alias dns-integration does not exist', detail: '' } });
  });
});

describe('neutron bootstrap', () => {
  it('creates public (external) and shared private networks with router1 between them, once', async () => {
    const publicNet = await named(h.adminToken, 'networks', 'networks', 'public');
    expect(publicNet).toMatchObject({ 'router:external': true, shared: false, project_id: h.adminProjectId, 'provider:network_type': 'flat', 'provider:physical_network': 'public' });
    const publicSubnet = await named(h.adminToken, 'subnets', 'subnets', 'public-subnet');
    expect(publicSubnet).toMatchObject({ cidr: '172.24.4.0/24', gateway_ip: '172.24.4.1', allocation_pools: [{ start: '172.24.4.2', end: '172.24.4.254' }], enable_dhcp: false });
    const privateNet = await named(h.alice.token, 'networks', 'networks', 'private');
    expect(privateNet).toMatchObject({ shared: true, 'router:external': false });
    expect(privateNet).not.toHaveProperty('provider:network_type');
    const router = await named(h.adminToken, 'routers', 'routers', 'router1');
    expect(router.external_gateway_info).toMatchObject({ network_id: publicNet.id, enable_snat: true, external_fixed_ips: [{ ip_address: '172.24.4.2' }] });

    const created = await h.notification('network.create.end', (n) => (n.payload.network as Json).name === 'public');
    expect(created).toMatchObject({ routingKey: 'notifications.info', publisherId: 'network.net-1', priority: 'INFO' });
    expect(created.payload.network).toMatchObject({ id: publicNet.id, tenant_id: h.adminProjectId });

    await h.neutron.bootstrap();
    const all = await h.call<{ networks: Resource[] }>('GET', `${V2}/networks`, h.adminToken);
    expect(all.body.networks.map((n) => n.name).sort()).toEqual(['private', 'public']);
    const routers = await h.call<{ routers: Resource[] }>('GET', `${V2}/routers`, h.adminToken);
    expect(routers.body.routers).toHaveLength(1);
  });
});

describe('neutron networks', () => {
  it('creates, shows, lists with the CLI filters, updates and deletes a network, with Neutron fields and notifications', async () => {
    const created = await h.call<{ network: Resource }>('POST', `${V2}/networks`, h.alice.token, { network: { name: 'net1', admin_state_up: true } });
    expect(created.status).toBe(201);
    const net = created.body.network;
    expect(net).toMatchObject({ name: 'net1', admin_state_up: true, status: 'ACTIVE', shared: false, 'router:external': false, subnets: [], tags: [], description: '', revision_number: 1, mtu: 1442 });
    expect(net.project_id).toBe(h.alice.projectId);
    expect(net.tenant_id).toBe(h.alice.projectId);
    expect(net.id).toMatch(UUID);
    expect(net.created_at).toMatch(ISO_Z);
    expect(created.headers['x-openstack-request-id']).toBeDefined();

    const start = await h.notification('network.create.start', (n) => (n.payload.network as Json).name === 'net1');
    expect(start.payload).toEqual({ network: { name: 'net1', admin_state_up: true } });
    const end = await h.notification('network.create.end', (n) => (n.payload.network as Json).id === net.id);
    expect(end.payload.network).toMatchObject({ id: net.id, tenant_id: h.alice.projectId, name: 'net1' });
    expect(end.message._context_project_id).toBe(h.alice.projectId);

    // The SDK's find: GET /networks/<name> first (a 404 sends it to ?name=), then the list.
    const byName = await h.call('GET', `${V2}/networks/net1`, h.alice.token);
    expect(byName.status).toBe(404);
    expect(byName.body).toEqual({ NeutronError: { type: 'NetworkNotFound', message: 'Network net1 could not be found.', detail: '' } });
    const listed = await h.call<{ networks: Resource[] }>('GET', `${V2}/networks?name=net1`, h.alice.token);
    expect(listed.body.networks.map((n) => n.id)).toEqual([net.id]);
    // `network list --external` sends router:external=True; a member sees shared and external networks too.
    const external = await h.call<{ networks: Resource[] }>('GET', `${V2}/networks?router%3Aexternal=True`, h.alice.token);
    expect(external.body.networks.map((n) => n.name)).toEqual(['public']);
    const visible = await h.call<{ networks: Resource[] }>('GET', `${V2}/networks?fields=id&fields=name&fields=subnets`, h.alice.token);
    expect(visible.body.networks.map((n) => n.name)).toEqual(['public', 'private', 'net1']);
    expect(Object.keys(visible.body.networks[0] ?? {})).toEqual(['id', 'name', 'subnets']);
    const shared = await h.call<{ networks: Resource[] }>('GET', `${V2}/networks?shared=true`, h.alice.token);
    expect(shared.body.networks.map((n) => n.name)).toEqual(['private']);

    h.clock.advance(61_000);
    const updated = await h.call<{ network: Resource }>('PUT', `${V2}/networks/${net.id}`, h.alice.token, { network: { name: 'renamed' } });
    expect(updated.status).toBe(200);
    expect(updated.body.network).toMatchObject({ name: 'renamed', revision_number: 2, created_at: net.created_at });
    expect(updated.body.network.updated_at).not.toBe(net.updated_at);
    const updateStart = await h.notification('network.update.start');
    expect(updateStart.payload).toEqual({ network: { name: 'renamed' }, id: net.id });
    await h.notification('network.update.end', (n) => (n.payload.network as Json).name === 'renamed');

    const deleted = await h.call('DELETE', `${V2}/networks/${net.id}`, h.alice.token);
    expect(deleted.status).toBe(204);
    expect((await h.notification('network.delete.start')).payload).toEqual({ network_id: net.id });
    const deleteEnd = await h.notification('network.delete.end');
    expect(deleteEnd.payload).toMatchObject({ network_id: net.id, network: { id: net.id, name: 'renamed' } });
    expect((await h.call('GET', `${V2}/networks/${net.id}`, h.alice.token)).status).toBe(404);
  });

  it('keeps projects apart and reserves shared, external and provider attributes to admins', async () => {
    const { network: aliceNet } = await network(h.alice.token, 'alice-net');
    expect((await h.call('GET', `${V2}/networks/${aliceNet.id}`, h.bob.token)).status).toBe(404);
    expect((await h.call('DELETE', `${V2}/networks/${aliceNet.id}`, h.bob.token)).status).toBe(404);
    const bobs = await h.call<{ networks: Resource[] }>('GET', `${V2}/networks`, h.bob.token);
    expect(bobs.body.networks.map((n) => n.name)).not.toContain('alice-net');

    for (const attributes of [{ shared: true }, { 'router:external': true }, { 'provider:network_type': 'vlan' }]) {
      const refused = await h.call<{ NeutronError: Json }>('POST', `${V2}/networks`, h.alice.token, { network: { name: 'x', ...attributes } });
      expect(refused.status).toBe(403);
      expect(refused.body.NeutronError).toMatchObject({ type: 'PolicyNotAuthorized', message: expect.stringContaining('is disallowed by policy') });
    }
    const admin = await h.call<{ network: Resource }>('POST', `${V2}/networks`, h.adminToken, {
      network: { name: 'ext2', 'router:external': true, 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1', 'provider:segmentation_id': 100 },
    });
    expect(admin.status).toBe(201);
    expect(admin.body.network).toMatchObject({ 'router:external': true, 'provider:network_type': 'vlan', 'provider:segmentation_id': 100, mtu: 1500 });
  });

  it('answers bad input with NeutronError bodies', async () => {
    const unknown = await h.call('POST', `${V2}/networks`, h.alice.token, { network: { name: 'x', colour: 'blue' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({ NeutronError: { type: 'HTTPBadRequest', message: "Unrecognized attribute(s) 'colour'", detail: '' } });
    const missing = await h.call('POST', `${V2}/networks`, h.alice.token, { name: 'x' });
    expect(missing.body).toMatchObject({ NeutronError: { type: 'HTTPBadRequest', message: "Unable to find 'network' in request body" } });
    const filter = await h.call('GET', `${V2}/networks?colour=blue`, h.alice.token);
    expect(filter.status).toBe(400);
    expect(filter.body).toMatchObject({ NeutronError: { message: '[colour] is invalid attribute for filtering' } });
  });

  it('pages a list with limit and a next link carrying the marker', async () => {
    const first = await h.call<{ networks: Resource[]; networks_links: Array<{ rel: string; href: string }> }>('GET', `${V2}/networks?limit=1`, h.adminToken);
    expect(first.body.networks).toHaveLength(1);
    const next = first.body.networks_links[0];
    expect(next).toMatchObject({ rel: 'next', href: expect.stringContaining(`marker=${first.body.networks[0]?.id}`) });
    const second = await h.call<{ networks: Resource[] }>('GET', (next?.href ?? '').replace(PUBLIC_URL, ''), h.adminToken);
    expect(second.body.networks.map((n) => n.name)).toEqual(['private']);
  });
});

describe('neutron subnets and ports', () => {
  it('computes pools and gateway, refuses host bits and overlaps, and allocates fixed IPs from the pool', async () => {
    const { network: net, subnet } = await network(h.alice.token, 'net1', '192.168.10.0/24');
    expect(subnet).toMatchObject({ ip_version: 4, gateway_ip: '192.168.10.1', allocation_pools: [{ start: '192.168.10.2', end: '192.168.10.254' }], enable_dhcp: true, dns_nameservers: [], network_id: net.id });
    expect((await h.notification('subnet.create.end', (n) => (n.payload.subnet as Json).id === subnet.id)).payload.subnet).toMatchObject({ tenant_id: h.alice.projectId, cidr: '192.168.10.0/24' });
    const shownNet = await h.call<{ network: Resource }>('GET', `${V2}/networks/${net.id}`, h.alice.token);
    expect(shownNet.body.network).toMatchObject({ subnets: [subnet.id], revision_number: 2 });

    const hostBits = await h.call('POST', `${V2}/subnets`, h.alice.token, { subnet: { network_id: net.id, cidr: '192.168.10.5/24', ip_version: 4 } });
    expect(hostBits.status).toBe(400);
    const overlap = await h.call('POST', `${V2}/subnets`, h.alice.token, { subnet: { network_id: net.id, cidr: '192.168.10.128/25', ip_version: 4 } });
    expect(overlap.body).toMatchObject({ NeutronError: { type: 'InvalidInput' } });
    const pools = await h.call('POST', `${V2}/subnets`, h.alice.token, { subnet: { network_id: net.id, cidr: '192.168.20.0/24', ip_version: 4, allocation_pools: [{ start: '192.168.20.1', end: '192.168.20.10' }] } });
    expect(pools.status).toBe(409);
    expect(pools.body).toMatchObject({ NeutronError: { type: 'GatewayConflictWithAllocationPools' } });

    const port = await create<Port>('port', 'ports', h.alice.token, { network_id: net.id, name: 'p1' });
    expect(port).toMatchObject({ status: 'DOWN', device_id: '', device_owner: '', fixed_ips: [{ subnet_id: subnet.id, ip_address: '192.168.10.2' }], admin_state_up: true });
    expect(port.mac_address).toMatch(/^fa:16:3e(:[0-9a-f]{2}){3}$/);
    const groups = await h.call<{ security_groups: Resource[] }>('GET', `${V2}/security-groups?name=default`, h.alice.token);
    expect(port.security_groups).toEqual([groups.body.security_groups[0]?.id]);
    const fixed = await create<Port>('port', 'ports', h.alice.token, { network_id: net.id, fixed_ips: [{ ip_address: '192.168.10.50' }], device_id: 'vm-1', device_owner: 'compute:nova' });
    expect(fixed).toMatchObject({ status: 'ACTIVE', fixed_ips: [{ subnet_id: subnet.id, ip_address: '192.168.10.50' }] });
    const taken = await h.call('POST', `${V2}/ports`, h.alice.token, { port: { network_id: net.id, fixed_ips: [{ ip_address: '192.168.10.50' }] } });
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({ NeutronError: { type: 'IpAddressAlreadyAllocated' } });

    // `port list` sends fields=...; `--server` and `--network` become device_id and network_id.
    const listed = await h.call<{ ports: Resource[] }>('GET', `${V2}/ports?fields=id&fields=name&fields=mac_address&fields=fixed_ips&fields=status&device_id=vm-1`, h.alice.token);
    expect(listed.body.ports).toEqual([{ id: fixed.id, name: '', mac_address: fixed.mac_address, fixed_ips: fixed.fixed_ips, status: 'ACTIVE' }]);
    const onNet = await h.call<{ ports: Resource[] }>('GET', `${V2}/ports?network_id=${net.id}&device_owner=compute%3Anova`, h.alice.token);
    expect(onNet.body.ports.map((p) => p.id)).toEqual([fixed.id]);
    const byIp = await h.call<{ ports: Resource[] }>('GET', `${V2}/ports?fixed_ips=ip_address%3D192.168.10.2`, h.alice.token);
    expect(byIp.body.ports.map((p) => p.id)).toEqual([port.id]);

    const updated = await h.call<{ port: Port }>('PUT', `${V2}/ports/${port.id}`, h.alice.token, { port: { name: 'renamed', device_id: 'vm-2', device_owner: 'compute:nova' } });
    expect(updated.body.port).toMatchObject({ name: 'renamed', status: 'ACTIVE', revision_number: 2 });

    const busy = await h.call('DELETE', `${V2}/networks/${net.id}`, h.alice.token);
    expect(busy.status).toBe(409);
    expect(busy.body).toMatchObject({ NeutronError: { type: 'NetworkInUse' } });
    const busySubnet = await h.call('DELETE', `${V2}/subnets/${subnet.id}`, h.alice.token);
    expect(busySubnet.body).toMatchObject({ NeutronError: { type: 'SubnetInUse' } });
    for (const id of [port.id, fixed.id]) expect((await h.call('DELETE', `${V2}/ports/${id}`, h.alice.token)).status).toBe(204);
    expect((await h.notification('port.delete.end', (n) => n.payload.port_id === port.id)).payload.port).toMatchObject({ id: port.id, name: 'renamed' });
    // The freed address is handed out again.
    const again = await create<Port>('port', 'ports', h.alice.token, { network_id: net.id });
    expect(again.fixed_ips[0]?.ip_address).toBe('192.168.10.2');
  });

  it('says when a subnet has no address left (409 IpAddressGenerationFailure)', async () => {
    const { network: net } = await network(h.alice.token, 'tiny', '10.9.0.0/29');
    for (let i = 0; i < 5; i += 1) await create('port', 'ports', h.alice.token, { network_id: net.id });
    const full = await h.call('POST', `${V2}/ports`, h.alice.token, { port: { network_id: net.id } });
    expect(full.status).toBe(409);
    expect(full.body).toEqual({ NeutronError: { type: 'IpAddressGenerationFailure', message: `No more IP addresses available on network ${net.id}.`, detail: '' } });
    // The refused port left nothing behind: its row went with the rolled-back transaction.
    const ports = await h.call<{ ports: Resource[] }>('GET', `${V2}/ports?network_id=${net.id}`, h.alice.token);
    expect(ports.body.ports).toHaveLength(5);
  });
});

describe('neutron routers and floating IPs', () => {
  it('allocates, associates, disassociates and releases a floating IP with the timestamps and notifications billing needs', async () => {
    const publicNet = await named(h.alice.token, 'networks', 'networks', 'public');
    const privateNet = await named(h.alice.token, 'networks', 'networks', 'private');
    const router1 = await named(h.adminToken, 'routers', 'routers', 'router1');
    const serverPort = await h.neutron.createPort({ networkId: privateNet.id, projectId: h.alice.projectId, deviceId: 'server-1' });

    const created = await h.call<{ floatingip: Resource }>('POST', `${V2}/floatingips`, h.alice.token, { floatingip: { floating_network_id: publicNet.id } });
    expect(created.status).toBe(201);
    const fip = created.body.floatingip;
    expect(fip).toMatchObject({ status: 'DOWN', port_id: null, fixed_ip_address: null, router_id: null, floating_network_id: publicNet.id, project_id: h.alice.projectId, tenant_id: h.alice.projectId, revision_number: 0, created_at: '2026-01-02T03:04:05Z' });
    expect(fip.floating_ip_address).toBe('172.24.4.3');
    const createEnd = await h.notification('floatingip.create.end');
    expect(createEnd.payload.floatingip).toMatchObject({ id: fip.id, tenant_id: h.alice.projectId, floating_ip_address: '172.24.4.3', status: 'DOWN' });

    // `floating ip delete <address>`: find by address lists the project's floating IPs.
    const listed = await h.call<{ floatingips: Resource[] }>('GET', `${V2}/floatingips`, h.alice.token);
    expect(listed.body.floatingips.map((f) => f.floating_ip_address)).toEqual(['172.24.4.3']);

    h.clock.advance(1_800_000);
    const associated = await h.call<{ floatingip: Resource }>('PUT', `${V2}/floatingips/${fip.id}`, h.alice.token, { floatingip: { port_id: serverPort.id } });
    expect(associated.status).toBe(200);
    expect(associated.body.floatingip).toMatchObject({
      status: 'ACTIVE',
      port_id: serverPort.id,
      fixed_ip_address: serverPort.fixed_ips[0]?.ip_address,
      router_id: router1.id,
      created_at: '2026-01-02T03:04:05Z',
      updated_at: '2026-01-02T03:34:05Z',
      port_details: { device_id: 'server-1', device_owner: 'compute:nova', network_id: privateNet.id },
    });
    expect((await h.notification('floatingip.update.start')).payload).toEqual({ floatingip: { port_id: serverPort.id }, id: fip.id });
    expect((await h.notification('floatingip.update.end', (n) => (n.payload.floatingip as Json).status === 'ACTIVE')).payload.floatingip).toMatchObject({ id: fip.id, tenant_id: h.alice.projectId, port_id: serverPort.id });
    const byPort = await h.call<{ floatingips: Resource[] }>('GET', `${V2}/floatingips?port_id=${serverPort.id}`, h.alice.token);
    expect(byPort.body.floatingips.map((f) => f.id)).toEqual([fip.id]);

    const disassociated = await h.call<{ floatingip: Resource }>('PUT', `${V2}/floatingips/${fip.id}`, h.alice.token, { floatingip: { port_id: null } });
    expect(disassociated.body.floatingip).toMatchObject({ status: 'DOWN', port_id: null, fixed_ip_address: null, router_id: null, port_details: null });

    const released = await h.call('DELETE', `${V2}/floatingips/${fip.id}`, h.alice.token);
    expect(released.status).toBe(204);
    expect((await h.notification('floatingip.delete.start')).payload).toEqual({ floatingip_id: fip.id });
    expect((await h.notification('floatingip.delete.end')).payload).toMatchObject({ floatingip_id: fip.id, floatingip: { id: fip.id, tenant_id: h.alice.projectId } });
    // The address is free again, and Bob cannot see Alice's floating IPs.
    const next = await create('floatingip', 'floatingips', h.bob.token, { floating_network_id: publicNet.id });
    expect(next.floating_ip_address).toBe('172.24.4.3');
    expect((await h.call('GET', `${V2}/floatingips/${next.id}`, h.alice.token)).status).toBe(404);
  });

  it('refuses a floating IP from a non-external network and an association no router reaches', async () => {
    const { network: net } = await network(h.alice.token, 'isolated');
    const internal = await h.call('POST', `${V2}/floatingips`, h.alice.token, { floatingip: { floating_network_id: net.id } });
    expect(internal.status).toBe(400);
    expect(internal.body).toMatchObject({ NeutronError: { type: 'BadRequest', message: `Bad floatingip request: Network ${net.id} is not a valid external network.` } });
    const publicNet = await named(h.alice.token, 'networks', 'networks', 'public');
    const port = await create('port', 'ports', h.alice.token, { network_id: net.id, device_id: 'vm', device_owner: 'compute:nova' });
    const fip = await create('floatingip', 'floatingips', h.alice.token, { floating_network_id: publicNet.id });
    const unreachable = await h.call('PUT', `${V2}/floatingips/${fip.id}`, h.alice.token, { floatingip: { port_id: port.id } });
    // 404 is what `server add floating ip` expects to skip a port.
    expect(unreachable.status).toBe(404);
    expect(unreachable.body).toMatchObject({ NeutronError: { type: 'ExternalGatewayForFloatingIPNotFound' } });
    const fixedAddress = await h.call('POST', `${V2}/floatingips`, h.alice.token, { floatingip: { floating_network_id: publicNet.id, floating_ip_address: '172.24.4.99' } });
    expect(fixedAddress.status).toBe(403);
  });

  it('routes a project network: gateway, interface, floating IP through it, and the in-use conflicts', async () => {
    const publicNet = await named(h.alice.token, 'networks', 'networks', 'public');
    const { network: net, subnet } = await network(h.alice.token, 'net1', '192.168.30.0/24');
    const router = await create('router', 'routers', h.alice.token, { name: 'r1', admin_state_up: true, external_gateway_info: { network_id: publicNet.id } });
    expect(router).toMatchObject({ status: 'ACTIVE', external_gateway_info: { network_id: publicNet.id, enable_snat: true, external_fixed_ips: [{ ip_address: '172.24.4.3' }] }, routes: [] });
    expect(router).not.toHaveProperty('distributed');

    const added = await h.call('PUT', `${V2}/routers/${router.id}/add_router_interface`, h.alice.token, { subnet_id: subnet.id });
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ id: router.id, subnet_id: subnet.id, subnet_ids: [subnet.id], network_id: net.id, project_id: h.alice.projectId, tenant_id: h.alice.projectId });
    expect((await h.notification('router.interface.create', (n) => (n.payload.router_interface as Json).id === router.id)).payload).toEqual({ router_interface: added.body });
    const interfacePorts = await h.call<{ ports: Port[] }>('GET', `${V2}/ports?device_id=${router.id}`, h.alice.token);
    expect(interfacePorts.body.ports).toMatchObject([{ device_owner: 'network:router_interface', fixed_ips: [{ subnet_id: subnet.id, ip_address: '192.168.30.1' }], status: 'ACTIVE', security_groups: [] }]);
    const twice = await h.call('PUT', `${V2}/routers/${router.id}/add_router_interface`, h.alice.token, { subnet_id: subnet.id });
    expect(twice.status).toBe(400);
    const directDelete = await h.call('DELETE', `${V2}/ports/${interfacePorts.body.ports[0]?.id}`, h.alice.token);
    expect(directDelete.body).toMatchObject({ NeutronError: { type: 'ServicePortInUse' } });

    const vm = await create('port', 'ports', h.alice.token, { network_id: net.id, device_id: 'vm-9', device_owner: 'compute:nova' });
    const fip = await create('floatingip', 'floatingips', h.alice.token, { floating_network_id: publicNet.id, port_id: vm.id });
    expect(fip).toMatchObject({ status: 'ACTIVE', router_id: router.id, fixed_ip_address: '192.168.30.2' });

    expect((await h.call('DELETE', `${V2}/routers/${router.id}`, h.alice.token)).body).toMatchObject({ NeutronError: { type: 'RouterInUse' } });
    const inUse = await h.call('PUT', `${V2}/routers/${router.id}/remove_router_interface`, h.alice.token, { subnet_id: subnet.id });
    expect(inUse.body).toMatchObject({ NeutronError: { type: 'RouterInterfaceInUseByFloatingIP' } });
    const gatewayInUse = await h.call('PUT', `${V2}/routers/${router.id}`, h.alice.token, { router: { external_gateway_info: {} } });
    expect(gatewayInUse.body).toMatchObject({ NeutronError: { type: 'RouterExternalGatewayInUseByFloatingIp' } });

    // Deleting the server's port drops the association; the address stays allocated (and billed).
    expect((await h.call('DELETE', `${V2}/ports/${vm.id}`, h.alice.token)).status).toBe(204);
    const kept = await h.call<{ floatingip: Resource }>('GET', `${V2}/floatingips/${fip.id}`, h.alice.token);
    expect(kept.body.floatingip).toMatchObject({ status: 'DOWN', port_id: null, router_id: null, floating_ip_address: fip.floating_ip_address });

    const removed = await h.call('PUT', `${V2}/routers/${router.id}/remove_router_interface`, h.alice.token, { subnet_id: subnet.id });
    expect(removed.status).toBe(200);
    await h.notification('router.interface.delete');
    const cleared = await h.call<{ router: Resource }>('PUT', `${V2}/routers/${router.id}`, h.alice.token, { router: { external_gateway_info: null, name: 'r1b' } });
    expect(cleared.body.router).toMatchObject({ external_gateway_info: null, name: 'r1b' });
    expect((await h.call('DELETE', `${V2}/routers/${router.id}`, h.alice.token)).status).toBe(204);
    expect((await h.notification('router.delete.end')).payload).toMatchObject({ router_id: router.id, router: { id: router.id } });
    expect((await h.call('DELETE', `${V2}/networks/${net.id}`, h.alice.token)).status).toBe(204);
  });
});

describe('neutron security groups', () => {
  it("creates a project's default group on first use, with Neutron's template rules", async () => {
    const listed = await h.call<{ security_groups: Group[] }>('GET', `${V2}/security-groups`, h.bob.token);
    expect(listed.body.security_groups).toHaveLength(1);
    const group = listed.body.security_groups[0] as Group;
    expect(group).toMatchObject({ name: 'default', description: 'Default security group', project_id: h.bob.projectId, stateful: true });
    const rules = group.security_group_rules.map((r) => `${String(r.direction)}/${String(r.ethertype)}/${r.remote_group_id === group.id ? 'self' : String(r.remote_group_id)}`);
    expect(rules.sort()).toEqual(['egress/IPv4/null', 'egress/IPv6/null', 'ingress/IPv4/self', 'ingress/IPv6/self']);
    const again = await h.call<{ security_groups: Group[] }>('GET', `${V2}/security-groups`, h.bob.token);
    expect(again.body.security_groups.map((g) => g.id)).toEqual([group.id]);
    const refused = await h.call('DELETE', `${V2}/security-groups/${group.id}`, h.bob.token);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ NeutronError: { type: 'SecurityGroupCannotRemoveDefault' } });
  });

  it('creates groups and rules, refuses duplicates and groups in use, and notifies', async () => {
    const group = await create<Group>('security_group', 'security-groups', h.alice.token, { name: 'web', description: 'web servers' });
    expect(group.security_group_rules.map((r) => r.direction)).toEqual(['egress', 'egress']);
    expect((await h.notification('security_group.create.end')).payload.security_group).toMatchObject({ id: group.id, tenant_id: h.alice.projectId });
    const rule = await create('security_group_rule', 'security-group-rules', h.alice.token, {
      security_group_id: group.id,
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: '0.0.0.0/0',
    });
    expect(rule).toMatchObject({ protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0', normalized_cidr: '0.0.0.0/0', security_group_id: group.id });
    expect((await h.notification('security_group_rule.create.end')).payload.security_group_rule).toMatchObject({ id: rule.id });
    const duplicate = await h.call('POST', `${V2}/security-group-rules`, h.alice.token, { security_group_rule: { security_group_id: group.id, direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22 } });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toMatchObject({ NeutronError: { type: 'SecurityGroupRuleExists', message: `Security group rule already exists. Rule id is ${rule.id}.` } });
    const badRange = await h.call('POST', `${V2}/security-group-rules`, h.alice.token, { security_group_rule: { security_group_id: group.id, direction: 'ingress', protocol: 'tcp', port_range_min: 80, port_range_max: 22 } });
    expect(badRange.body).toMatchObject({ NeutronError: { type: 'SecurityGroupInvalidPortRange' } });
    const byGroup = await h.call<{ security_group_rules: Resource[] }>('GET', `${V2}/security-group-rules?security_group_id=${group.id}&direction=ingress`, h.alice.token);
    expect(byGroup.body.security_group_rules.map((r) => r.id)).toEqual([rule.id]);

    const privateNet = await named(h.alice.token, 'networks', 'networks', 'private');
    const port = await create('port', 'ports', h.alice.token, { network_id: privateNet.id, security_groups: [group.id] });
    const inUse = await h.call('DELETE', `${V2}/security-groups/${group.id}`, h.alice.token);
    expect(inUse.body).toMatchObject({ NeutronError: { type: 'SecurityGroupInUse' } });
    await h.call('DELETE', `${V2}/ports/${port.id}`, h.alice.token);
    expect((await h.call('DELETE', `${V2}/security-group-rules/${rule.id}`, h.alice.token)).status).toBe(204);
    expect((await h.notification('security_group_rule.delete.end')).payload).toMatchObject({ security_group_rule_id: rule.id });
    expect((await h.call('DELETE', `${V2}/security-groups/${group.id}`, h.alice.token)).status).toBe(204);
    expect((await h.notification('security_group.delete.end')).payload).toMatchObject({ security_group_id: group.id });
    expect((await h.call('GET', `${V2}/security-groups/${group.id}`, h.alice.token)).body).toMatchObject({ NeutronError: { type: 'SecurityGroupNotFound' } });
  });
});

describe('neutron tags', () => {
  it('sets tags as the CLI does (PUT .../tags) and filters by them', async () => {
    const { network: net } = await network(h.alice.token, 'tagged');
    const set = await h.call('PUT', `${V2}/networks/${net.id}/tags`, h.alice.token, { tags: ['blue', 'prod'] });
    expect(set.body).toEqual({ tags: ['blue', 'prod'] });
    expect((await h.notification('tag.update.end')).payload).toEqual({ obj_resource: 'networks', obj_resource_id: net.id, tags: ['blue', 'prod'] });
    const tagged = await h.call<{ networks: Resource[] }>('GET', `${V2}/networks?tags=blue,prod`, h.alice.token);
    expect(tagged.body.networks.map((n) => n.id)).toEqual([net.id]);
    const notTagged = await h.call<{ networks: Resource[] }>('GET', `${V2}/networks?not-tags-any=blue`, h.alice.token);
    expect(notTagged.body.networks.map((n) => n.id)).not.toContain(net.id);
    expect((await h.call('PUT', `${V2}/networks/${net.id}/tags/green`, h.alice.token)).status).toBe(201);
    expect((await h.call('DELETE', `${V2}/networks/${net.id}/tags/blue`, h.alice.token)).status).toBe(204);
    const shown = await h.call<{ network: Resource }>('GET', `${V2}/networks/${net.id}`, h.alice.token);
    expect(shown.body.network.tags).toEqual(['prod', 'green']);
    expect((await h.call('PUT', `${V2}/networks/${net.id}/tags`, h.bob.token, { tags: ['x'] })).status).toBe(404);
  });
});
