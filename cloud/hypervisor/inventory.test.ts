import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/index.ts';
import { call, createFlavor, createServer, harness, NOW, type Harness } from '../nova/test-harness.ts';
import { resolveSettings } from './config.ts';
import { novaInventory, type NovaInventoryOptions } from './inventory.ts';
import { HypervisorSimulator, type HostStats } from './simulator.ts';

const MINUTE = 60_000;

async function server(h: Harness): Promise<{ id: string; host: string }> {
  const flavor = await createFlavor(h, { name: 'm1.medium', vcpus: 2, ram: 4096, disk: 40 });
  const created = await createServer(h, h.alice.token, flavor.id as string);
  await h.cloud.nova.stop();
  const record = h.cloud.nova.getServer(created.id as string, null);
  return { id: record.id, host: record.host as string };
}

function simulator(h: Harness, options: NovaInventoryOptions = {}) {
  return new HypervisorSimulator(novaInventory(h.cloud.nova, options), new ManualClock(NOW.getTime() + 10 * MINUTE), resolveSettings({ seed: 7 }));
}

const userTime = (stats: HostStats) => stats.compute_node.metrics.find((m) => m.name === 'cpu.user.time')?.value as number;

describe('novaInventory', () => {
  it('maps Nova hosts and a live server to a running domain from launched_at', async () => {
    const h = await harness();
    const { id, host } = await server(h);
    const inventory = novaInventory(h.cloud.nova);
    expect(inventory.hosts().map((x) => [x.name, x.vcpus, x.memoryMb])).toEqual([
      ['compute-1', 8, 16384],
      ['compute-2', 8, 32768],
    ]);
    expect(inventory.domains(host)).toEqual([
      expect.objectContaining({ instanceId: id, host, startedAtMs: NOW.getTime(), launchedAtMs: NOW.getTime(), endedAtMs: null, flavor: expect.objectContaining({ vcpus: 2, ramMb: 4096, diskGb: 40 }) }),
    ]);
  });

  it("restarts a guest's counters from the start time Nova records, when it records one", async () => {
    const h = await harness();
    const { id, host } = await server(h);
    const restarts = new Map<string, string>();
    const sim = simulator(h, { lastStartedAt: (s) => restarts.get(s.id) ?? null });
    const before = sim.inspectHost(host).instances[0];
    restarts.set(id, new Date(NOW.getTime() + 8 * MINUTE).toISOString());
    const after = sim.inspectHost(host).instances[0];
    expect(after?.started_at).toBe(new Date(NOW.getTime() + 8 * MINUTE).toISOString());
    expect(after?.cpu.time).toBeGreaterThan(0);
    expect(after?.cpu.time).toBeLessThan(before?.cpu.time as number);
  });

  it("keeps a deleted guest's past in the host's CPU times, so they do not fall back when it goes", async () => {
    const h = await harness();
    const { id, host } = await server(h);
    const sim = simulator(h);
    const whileRunning = sim.hostStats(host, NOW.getTime() + 4 * MINUTE);
    expect((await call(h, 'DELETE', `/servers/${id}`, h.alice.token)).status).toBe(204);
    // Nova's clock is pinned in the harness; place the termination where the history puts it.
    h.db.prepare('UPDATE servers SET terminated_at = ? WHERE id = ?').run(new Date(NOW.getTime() + 5 * MINUTE).toISOString(), id);
    const afterDeletion = sim.hostStats(host, NOW.getTime() + 6 * MINUTE);
    expect(afterDeletion.hardware.running_instances).toBe(0);
    expect(userTime(afterDeletion)).toBeGreaterThan(userTime(whileRunning));
    expect(sim.inspectHost(host, NOW.getTime() + 6 * MINUTE).instances).toEqual([]);
  });

  it('reports a stopped server as no domain', async () => {
    const h = await harness();
    const { id, host } = await server(h);
    expect((await call(h, 'POST', `/servers/${id}/action`, h.alice.token, { 'os-stop': null })).status).toBe(202);
    await h.cloud.nova.stop();
    const sim = simulator(h);
    expect(sim.inspectHost(host).instances).toEqual([]);
    expect(sim.hosts().find((x) => x.name === host)?.running_instances).toBe(0);
  });
});
