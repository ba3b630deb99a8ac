import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, createFlavor, createServer, harness, until, type Harness, type Json } from './test-harness.ts';

describe('nova server actions', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });

  const status = async (id: string) => ((await call(h, 'GET', `/servers/${id}`, h.alice.token)).body.server as Json).status as string;

  it('stops and starts a server with power_off/power_on notifications', async () => {
    const flavor = await createFlavor(h);
    const server = await createServer(h, h.alice.token, flavor.id as string);
    await h.cloud.nova.stop();
    expect((await call(h, 'POST', `/servers/${server.id}/action`, h.alice.token, { 'os-stop': null })).status).toBe(202);
    await h.cloud.nova.stop();
    expect(await status(server.id as string)).toBe('SHUTOFF');
    expect((await call(h, 'POST', `/servers/${server.id}/action`, h.alice.token, { 'os-stop': null })).status).toBe(409);
    expect((await call(h, 'POST', `/servers/${server.id}/action`, h.alice.token, { 'os-start': null })).status).toBe(202);
    await h.cloud.nova.stop();
    expect(await status(server.id as string)).toBe('ACTIVE');
    await until(() => h.events().includes('compute.instance.power_on.end'), 'power_on.end');
    expect(h.events().filter((e) => e.includes('power_'))).toEqual(['compute.instance.power_off.start', 'compute.instance.power_off.end', 'compute.instance.power_on.start', 'compute.instance.power_on.end']);
  });

  it('resizes to VERIFY_RESIZE, then confirm keeps the new flavor; revert restores the old one', async () => {
    const small = await createFlavor(h, { name: 'm1.small', vcpus: 1, ram: 1024 });
    const large = await createFlavor(h, { name: 'm1.large', vcpus: 4, ram: 4096 });
    const a = await createServer(h, h.alice.token, small.id as string, 'a');
    const b = await createServer(h, h.alice.token, small.id as string, 'b');
    await h.cloud.nova.stop();
    for (const s of [a, b]) expect((await call(h, 'POST', `/servers/${s.id}/action`, h.alice.token, { resize: { flavorRef: large.id } })).status).toBe(202);
    await h.cloud.nova.stop();
    expect(await status(a.id as string)).toBe('VERIFY_RESIZE');
    expect((await call(h, 'POST', `/servers/${a.id}/action`, h.alice.token, { confirmResize: null })).status).toBe(202);
    expect((await call(h, 'POST', `/servers/${b.id}/action`, h.alice.token, { revertResize: null })).status).toBe(202);
    const shown = async (id: string) => (await call(h, 'GET', `/servers/${id}`, h.alice.token, undefined, { 'X-OpenStack-Nova-API-Version': '2.47' })).body.server as Json;
    expect(((await shown(a.id as string)).flavor as Json).original_name).toBe('m1.large');
    expect(((await shown(b.id as string)).flavor as Json).original_name).toBe('m1.small');
    await until(() => h.events().includes('compute.instance.resize.revert.end'), 'revert.end');
    const finish = h.captured.find((c) => c.message.event_type === 'compute.instance.finish_resize.end' && c.message.payload.instance_id === a.id);
    expect(finish?.message.payload).toMatchObject({ vcpus: 4, memory_mb: 4096, instance_type: 'm1.large' });
    expect(h.events()).toContain('compute.instance.resize.confirm.end');
  });

  it('refuses a resize that would pass the project quota with Nova\'s 403', async () => {
    const small = await createFlavor(h, { name: 'm1.small', vcpus: 1, ram: 1024 });
    const big = await createFlavor(h, { name: 'm1.big', vcpus: 16, ram: 2048 });
    const server = await createServer(h, h.alice.token, small.id as string);
    await h.cloud.nova.stop();
    expect((await call(h, 'PUT', `/os-quota-sets/${h.alice.projectId}`, h.adminToken, { quota_set: { cores: 8 } })).status).toBe(200);
    const refused = await call(h, 'POST', `/servers/${server.id}/action`, h.alice.token, { resize: { flavorRef: big.id } });
    expect(refused.status).toBe(403);
    expect(refused.body.forbidden.message).toMatch(/Quota exceeded for cores/);
  });
});

describe('nova hypervisors, usage, keypairs, quotas', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(() => undefined);

  it('reports hypervisors and statistics consistent with the servers they host', async () => {
    const flavor = await createFlavor(h, { vcpus: 2, ram: 4096, disk: 40 });
    await createServer(h, h.alice.token, flavor.id as string, 'x');
    await createServer(h, h.bob.token, flavor.id as string, 'y');
    await h.cloud.nova.stop();
    const list = (await call(h, 'GET', '/os-hypervisors/detail', h.adminToken)).body.hypervisors as Json[];
    expect(list).toHaveLength(2);
    expect(list.reduce((n, hv) => n + (hv.running_vms as number), 0)).toBe(2);
    const stats = (await call(h, 'GET', '/os-hypervisors/statistics', h.adminToken)).body.hypervisor_statistics as Json;
    expect(stats).toMatchObject({ count: 2, vcpus: 16, vcpus_used: 4, memory_mb: 16384 + 32768, memory_mb_used: 8192, local_gb_used: 80, running_vms: 2 });
    expect((await call(h, 'GET', '/os-hypervisors', h.alice.token)).status).toBe(403);
    const at253 = (await call(h, 'GET', '/os-hypervisors', h.adminToken, undefined, { 'X-OpenStack-Nova-API-Version': '2.53' })).body.hypervisors as Json[];
    expect(at253[0]?.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('computes simple tenant usage from launch to termination within the period', async () => {
    const flavor = await createFlavor(h, { vcpus: 2, ram: 4096, disk: 40 });
    const server = await createServer(h, h.alice.token, flavor.id as string);
    await h.cloud.nova.stop();
    const launched = Date.parse(((await call(h, 'GET', `/servers/${server.id}`, h.alice.token)).body.server as Json)['OS-SRV-USG:launched_at'] as string + 'Z');
    // The harness clock does not move: the period ends 2 hours after the launch.
    const start = new Date(launched - 3_600_000).toISOString().replace('Z', '');
    const end = new Date(launched + 2 * 3_600_000).toISOString().replace('Z', '');
    const usage = (await call(h, 'GET', `/os-simple-tenant-usage/${h.alice.projectId}?start=${start}&end=${end}`, h.alice.token)).body.tenant_usage as Json;
    // Usage counts only up to now (the fixed clock, = launch): zero hours so far.
    expect(usage.total_hours ?? 0).toBe(0);
    expect((await call(h, 'GET', `/os-simple-tenant-usage/${h.bob.projectId}`, h.alice.token)).status).toBe(403);
  });

  it('creates, lists and deletes keypairs per user, generating one when no key is given', async () => {
    const generated = await call(h, 'POST', '/os-keypairs', h.alice.token, { keypair: { name: 'k1' } });
    expect(generated.status).toBe(200);
    expect(generated.body.keypair.public_key).toMatch(/^ssh-ed25519 [A-Za-z0-9+/=]+ /);
    expect(generated.body.keypair.private_key).toContain('PRIVATE KEY');
    expect(generated.body.keypair.fingerprint).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    expect((await call(h, 'POST', '/os-keypairs', h.alice.token, { keypair: { name: 'k1' } })).status).toBe(409);
    expect(((await call(h, 'GET', '/os-keypairs', h.alice.token)).body.keypairs as Json[]).map((k) => k.keypair.name)).toEqual(['k1']);
    expect(((await call(h, 'GET', '/os-keypairs', h.bob.token)).body.keypairs as Json[])).toEqual([]);
    expect((await call(h, 'DELETE', '/os-keypairs/k1', h.alice.token)).status).toBe(202);
  });

  it('reports quotas with usage and refuses servers past the instance quota', async () => {
    const flavor = await createFlavor(h, { vcpus: 1, ram: 512 });
    expect((await call(h, 'PUT', `/os-quota-sets/${h.alice.projectId}`, h.alice.token, { quota_set: { instances: 1 } })).status).toBe(403);
    expect((await call(h, 'PUT', `/os-quota-sets/${h.alice.projectId}`, h.adminToken, { quota_set: { instances: 1 } })).status).toBe(200);
    await createServer(h, h.alice.token, flavor.id as string);
    const refused = await call(h, 'POST', '/servers', h.alice.token, { server: { name: 'two', flavorRef: flavor.id, imageRef: 'x' } });
    expect(refused.status).toBe(403);
    const detail = (await call(h, 'GET', `/os-quota-sets/${h.alice.projectId}/detail`, h.alice.token)).body.quota_set as Json;
    expect(detail.instances).toEqual({ limit: 1, in_use: 1, reserved: 0 });
    expect(detail.cores.in_use).toBe(1);
  });

  it('manages flavor extra specs (admin only to change)', async () => {
    const flavor = await createFlavor(h);
    expect((await call(h, 'POST', `/flavors/${flavor.id}/os-extra_specs`, h.adminToken, { extra_specs: { 'hw:cpu_policy': 'dedicated' } })).body).toEqual({ extra_specs: { 'hw:cpu_policy': 'dedicated' } });
    expect((await call(h, 'POST', `/flavors/${flavor.id}/os-extra_specs`, h.alice.token, { extra_specs: { a: 'b' } })).status).toBe(403);
    expect((await call(h, 'GET', `/flavors/${flavor.id}/os-extra_specs/hw:cpu_policy`, h.alice.token)).body).toEqual({ 'hw:cpu_policy': 'dedicated' });
    expect((await call(h, 'DELETE', `/flavors/${flavor.id}/os-extra_specs/hw:cpu_policy`, h.adminToken)).status).toBe(200);
    expect((await call(h, 'GET', `/flavors/${flavor.id}/os-extra_specs`, h.alice.token)).body).toEqual({ extra_specs: {} });
  });

  it('emits compute.instance.exists for every instance alive in the audit period', async () => {
    const flavor = await createFlavor(h);
    await createServer(h, h.alice.token, flavor.id as string, 'e1');
    await createServer(h, h.bob.token, flavor.id as string, 'e2');
    await h.cloud.nova.stop();
    const count = await h.cloud.nova.emitExists(new Date(Date.now() - 86_400_000 * 400), new Date(Date.now() + 86_400_000 * 400));
    expect(count).toBe(2);
    await until(() => h.events().filter((e) => e === 'compute.instance.exists').length === 2, 'two exists notifications');
    const exists = h.captured.find((c) => c.message.event_type === 'compute.instance.exists');
    expect(exists?.message.payload).toHaveProperty('audit_period_beginning');
    expect(exists?.message.payload).toHaveProperty('audit_period_ending');
  });
});
