import Fastify from 'fastify';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ManualClock, silentLogger } from '../../core/index.ts';
import { Notifier } from '../notifier.ts';
import { call, createFlavor, createServer, harness, NOW, type Harness, type Json } from '../nova/test-harness.ts';
import { createHypervisorSimulator, novaInventory } from './index.ts';

const MINUTE = 60_000;

/** The simulator's admin API on its own server, reading the harness's Nova, with its own clock 10 minutes after Nova's. */
async function adminApi(h: Harness) {
  const clock = new ManualClock(NOW.getTime() + 10 * MINUTE);
  const hypervisor = createHypervisorSimulator(
    { db: h.db, notifier: new Notifier(h.bus, clock), keystone: h.cloud.keystone, clock, logger: silentLogger(), publicUrl: 'http://cloud.test:8000', region: 'RegionOne' },
    { nova: novaInventory(h.cloud.nova), seed: 7 },
  );
  const app = Fastify();
  hypervisor.register(app);
  await app.ready();
  onTestFinished(() => app.close());
  const get = async (url: string, token: string | null) => {
    const response = await app.inject({ method: 'GET', url: `/cloud-admin/v1${url}`, headers: token ? { 'x-auth-token': token } : {} });
    return { status: response.statusCode, body: JSON.parse(response.body) as Json };
  };
  return { hypervisor, clock, get };
}

async function runningServers(h: Harness, count: number): Promise<Json[]> {
  const flavor = await createFlavor(h, { name: 'm1.medium', vcpus: 2, ram: 4096, disk: 40 });
  const servers: Json[] = [];
  for (let n = 0; n < count; n++) servers.push(await createServer(h, h.alice.token, flavor.id as string, `web-${n}`));
  await h.cloud.nova.stop();
  return servers;
}

describe('cloud-admin hypervisor API', () => {
  it('answers admins only: 401 without a token, 403 for a project member', async () => {
    const h = await harness();
    const { get } = await adminApi(h);
    for (const url of ['/hosts', '/hosts/compute-1/instances', '/hosts/compute-1/stats']) {
      const anonymous = await get(url, null);
      expect(anonymous.status, url).toBe(401);
      expect(anonymous.body.error.code).toBe('CUMULUS_AUTH_TOKEN_INVALID');
      const member = await get(url, h.alice.token);
      expect(member.status, url).toBe(403);
      expect(member.body).toEqual({ error: { code: 'CUMULUS_CLOUD_FORBIDDEN', status: 403, message: 'The cloud admin API needs a token with the admin role.' } });
      expect((await get(url, h.adminToken)).status, url).toBe(200);
    }
    // Unknown paths and hosts are refused only after the admin check, so they do not leak to members.
    expect((await get('/nowhere', h.alice.token)).status).toBe(403);
    expect(await get('/hosts/compute-9/stats', h.adminToken)).toEqual({ status: 404, body: { error: { code: 'CUMULUS_CLOUD_NOT_FOUND', status: 404, message: 'Compute host compute-9 could not be found.' } } });
  });

  it("shows Nova's running servers on their hosts, and leaves stopped and deleted ones out", async () => {
    const h = await harness();
    const [running, stopped, deleted] = await runningServers(h, 3);
    expect((await call(h, 'POST', `/servers/${stopped?.id}/action`, h.alice.token, { 'os-stop': null })).status).toBe(202);
    expect((await call(h, 'DELETE', `/servers/${deleted?.id}`, h.alice.token)).status).toBe(204);
    await h.cloud.nova.stop();
    const { get } = await adminApi(h);

    const hosts = await get('/hosts', h.adminToken);
    expect(hosts.body.hosts.map((x: Json) => x.name)).toEqual(['compute-1', 'compute-2']);
    expect(hosts.body.hosts.reduce((sum: number, x: Json) => sum + (x.running_instances as number), 0)).toBe(1);

    const server = h.cloud.nova.getServer(running?.id as string, null);
    const view = await get(`/hosts/${server.host}/instances`, h.adminToken);
    expect(view.status).toBe(200);
    expect(view.body.timestamp).toBe(new Date(NOW.getTime() + 10 * MINUTE).toISOString());
    expect(view.body.instances.map((i: Json) => i.instance_id)).toEqual([server.id]);
    const [instance] = view.body.instances as Json[];
    expect(instance).toMatchObject({ name: 'web-0', project_id: h.alice.projectId, host: server.host, power_state: 1, flavor: { vcpus: 2, ram: 4096, disk: 40, ephemeral: 0 } });
    expect(instance?.launched_at).toBe(server.launched_at);
    // Ten minutes of a 2-vCPU guest at 5-80% (times the curve): between a few and 96 CPU-seconds.
    expect(instance?.cpu.time).toBeGreaterThan(1e9);
    expect(instance?.cpu.time).toBeLessThan(2 * 0.88 * 600 * 1e9);
    expect(instance?.interfaces[0].name).toBe(`tap${server.id.slice(0, 11)}`);

    const stats = await get(`/hosts/${server.host}/stats`, h.adminToken);
    expect(stats.body.hardware.running_instances).toBe(1);
    expect(stats.body.hardware.memory.used_mb).toBe(1536 + (instance?.memory.resident as number));
    expect(stats.body.compute_node.metrics.map((m: Json) => m.name)).toContain('cpu.percent');
  });
});
