import { afterEach, describe, expect, it } from 'vitest';
import { InProcessBus, ManualClock, migrateState, openStateDatabase, silentLogger } from '../../core/index.ts';
import { KeystoneService } from '../keystone/service.ts';
import { Notifier } from '../notifier.ts';
import { CLOUD_MIGRATIONS } from '../state.ts';
import { createNeutron } from './index.ts';
import { neutronHarness, NOW, PUBLIC_URL, type Harness, type Json, type Resource } from './test-harness.ts';

const V2 = '/network/v2.0';
const open: Harness[] = [];

async function harness(...args: Parameters<typeof neutronHarness>): Promise<Harness> {
  const h = await neutronHarness(...args);
  open.push(h);
  return h;
}

afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

describe('neutron for nova', () => {
  it('finds the network `--network` names, by id or by a name the project can see', async () => {
    const h = await harness();
    const shared = h.neutron.findNetwork('private', h.alice.projectId);
    expect(shared).toMatchObject({ name: 'private', shared: true });
    expect(h.neutron.findNetwork(shared.id, h.bob.projectId).id).toBe(shared.id);

    for (const member of [h.alice, h.bob]) {
      const created = await h.call('POST', `${V2}/networks`, member.token, { network: { name: 'dup' } });
      expect(created.status).toBe(201);
    }
    expect(h.neutron.findNetwork('dup', h.alice.projectId).project_id).toBe(h.alice.projectId);
    expect(() => h.neutron.findNetwork('dup', null)).toThrow(expect.objectContaining({ neutronType: 'NetworkAmbiguous', httpStatus: 409 }));
    expect(() => h.neutron.findNetwork('nowhere', h.alice.projectId)).toThrow(expect.objectContaining({ code: 'CUMULUS_NEUTRON_NETWORK_NOT_FOUND', httpStatus: 404 }));
  });

  it("creates a server's port with fixed IPs, MAC and default group, and notifies as the API call would", async () => {
    const h = await harness();
    const network = h.neutron.findNetwork('private', h.alice.projectId);
    const port = await h.neutron.createPort({ networkId: network.id, projectId: h.alice.projectId, deviceId: 'server-1', hostId: 'compute-1' });
    // router1's interface holds the gateway 10.0.0.1.
    expect(port).toMatchObject({ device_owner: 'compute:nova', device_id: 'server-1', status: 'ACTIVE', project_id: h.alice.projectId, fixed_ips: [{ subnet_id: network.subnet_ids[0], ip_address: '10.0.0.2' }] });
    expect(port.mac_address).toMatch(/^fa:16:3e(:[0-9a-f]{2}){3}$/);
    expect(port.security_groups).toHaveLength(1);
    const end = await h.notification('port.create.end', (n) => (n.payload.port as Json).id === port.id);
    expect(end.payload.port).toMatchObject({ tenant_id: h.alice.projectId, device_id: 'server-1', network_id: network.id });
    expect(end.message._context_project_id).toBe(h.alice.projectId);
    expect(h.neutron.portsOfDevice('server-1').map((p) => p.id)).toEqual([port.id]);

    const bobsNet = await h.call<{ network: Resource }>('POST', `${V2}/networks`, h.bob.token, { network: { name: 'bob-net' } });
    await expect(h.neutron.createPort({ networkId: bobsNet.body.network.id, projectId: h.alice.projectId, deviceId: 'server-2' })).rejects.toMatchObject({ neutronType: 'NetworkNotFound' });
  });

  it("deletes a server's ports, keeping its floating IP allocated but disassociated", async () => {
    const h = await harness();
    const network = h.neutron.findNetwork('private', h.alice.projectId);
    const publicNet = h.neutron.findNetwork('public', h.alice.projectId);
    const port = await h.neutron.createPort({ networkId: network.id, projectId: h.alice.projectId, deviceId: 'server-1' });
    const fip = await h.call<{ floatingip: Resource }>('POST', `${V2}/floatingips`, h.alice.token, { floatingip: { floating_network_id: publicNet.id, port_id: port.id } });
    expect(fip.body.floatingip).toMatchObject({ status: 'ACTIVE', fixed_ip_address: '10.0.0.2' });
    expect(h.neutron.floatingIpsOfDevice('server-1').map((f) => f.floating_ip_address)).toEqual([fip.body.floatingip.floating_ip_address]);

    expect(await h.neutron.deletePortsOfDevice('server-1')).toBe(1);
    expect(h.neutron.portsOfDevice('server-1')).toEqual([]);
    expect((await h.notification('port.delete.end', (n) => n.payload.port_id === port.id)).payload.port).toMatchObject({ id: port.id, tenant_id: h.alice.projectId });
    const kept = await h.call<{ floatingip: Resource }>('GET', `${V2}/floatingips/${fip.body.floatingip.id}`, h.alice.token);
    expect(kept.body.floatingip).toMatchObject({ status: 'DOWN', port_id: null, fixed_ip_address: null });
    // The next server gets the freed address.
    const next = await h.neutron.createPort({ networkId: network.id, projectId: h.bob.projectId, deviceId: 'server-2' });
    expect(next.fixed_ips[0]?.ip_address).toBe('10.0.0.2');
  });
});

describe('neutron bootstrap settings', () => {
  it('creates only the public network when the private one is configured off', async () => {
    const h = await harness({ privateNetwork: null, publicNetwork: { name: 'ext', subnetName: 'ext-v4', cidr: '203.0.113.0/24', gatewayIp: '203.0.113.1', physicalNetwork: 'physnet1' } });
    const networks = await h.call<{ networks: Resource[] }>('GET', `${V2}/networks`, h.adminToken);
    expect(networks.body.networks.map((n) => n.name)).toEqual(['ext']);
    const routers = await h.call<{ routers: Resource[] }>('GET', `${V2}/routers`, h.adminToken);
    expect(routers.body.routers).toEqual([]);
  });

  it('refuses bad settings with a typed error naming the field', () => {
    const db = openStateDatabase(':memory:');
    migrateState(db, 'cloud', CLOUD_MIGRATIONS);
    const clock = new ManualClock(NOW);
    const keystone = new KeystoneService(db, clock, 3_600_000);
    const deps = { db, notifier: new Notifier(new InProcessBus(silentLogger()), clock), keystone, clock, logger: silentLogger(), publicUrl: PUBLIC_URL, region: 'RegionOne' };
    expect(() => createNeutron(deps, { publicNetwork: { name: 'public', subnetName: 'x', cidr: '172.24.4.0', gatewayIp: '172.24.4.1', physicalNetwork: 'public' } })).toThrow(
      expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID', message: expect.stringContaining('neutron.publicNetwork.cidr') }),
    );
    expect(() => createNeutron(deps, { tenantMtu: 10 })).toThrow(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID' }));
    db.close();
  });

  it("says so when Keystone's bootstrap has not run", async () => {
    const db = openStateDatabase(':memory:');
    migrateState(db, 'cloud', CLOUD_MIGRATIONS);
    const clock = new ManualClock(NOW);
    const keystone = new KeystoneService(db, clock, 3_600_000);
    const neutron = createNeutron({ db, notifier: new Notifier(new InProcessBus(silentLogger()), clock), keystone, clock, logger: silentLogger(), publicUrl: PUBLIC_URL, region: 'RegionOne' }, { host: 'h' });
    await expect(neutron.start?.()).rejects.toMatchObject({ code: 'CUMULUS_NEUTRON_BOOTSTRAP_NO_ADMIN_PROJECT' });
    db.close();
  });
});
