import { describe, expect, it } from 'vitest';
import { ConfigError, ManualClock } from '../../core/index.ts';
import { resolveSettings, type HypervisorOptions } from './config.ts';
import type { ComputeHost, ComputeInventory, Domain } from './inventory.ts';
import { DAY_MS, HOUR_MS } from './load-curve.ts';
import { HypervisorSimulator, type HostStats, type InstanceInspection } from './simulator.ts';

const WEDNESDAY = Date.parse('2026-01-07T00:00:00Z');
const MINUTE = 60_000;

class FakeInventory implements ComputeInventory {
  readonly hostList: ComputeHost[] = [
    { name: 'compute-1', availabilityZone: 'nova', vcpus: 32, memoryMb: 131_072, diskGb: 2000, state: 'up', status: 'enabled' },
    { name: 'compute-2', availabilityZone: 'nova', vcpus: 4, memoryMb: 16_384, diskGb: 500, state: 'up', status: 'enabled' },
  ];
  readonly domainList: Domain[] = [];

  hosts(): ComputeHost[] {
    return this.hostList;
  }

  domains(host: string, sinceMs = Number.NEGATIVE_INFINITY): Domain[] {
    return this.domainList.filter((d) => d.host === host && (d.endedAtMs === null || d.endedAtMs >= sinceMs));
  }

  add(id: string, fields: Partial<Domain> = {}): Domain {
    const domain: Domain = {
      instanceId: id,
      name: `vm-${id.slice(0, 4)}`,
      projectId: 'project-a',
      userId: 'user-a',
      host: 'compute-1',
      flavor: { id: 'f1', name: 'm1.medium', vcpus: 2, ramMb: 4096, diskGb: 40, ephemeralGb: 0 },
      launchedAtMs: WEDNESDAY - 2 * DAY_MS,
      startedAtMs: WEDNESDAY - 2 * DAY_MS,
      endedAtMs: null,
      ports: [],
      ...fields,
    };
    this.domainList.push(domain);
    return domain;
  }
}

const IDS = ['5b1f0c2e-8d7a-4c39-9e21-0a6f3b7d9c41', 'c0ffee00-1234-4abc-8def-0123456789ab', '0d9e8f7a-6b5c-4d3e-a2f1-9e8d7c6b5a40'];

function simulator(inventory: ComputeInventory, options: Partial<HypervisorOptions> = {}, at = WEDNESDAY): { sim: HypervisorSimulator; clock: ManualClock } {
  const clock = new ManualClock(at);
  return { sim: new HypervisorSimulator(inventory, clock, resolveSettings({ seed: 42, ...options })), clock };
}

function populated(): FakeInventory {
  const inventory = new FakeInventory();
  inventory.add(IDS[0] as string);
  inventory.add(IDS[1] as string, { flavor: { id: 'f2', name: 'm1.large', vcpus: 4, ramMb: 8192, diskGb: 80, ephemeralGb: 20 }, ports: [{ id: 'a1b2c3d4-e5f6-4711-8899-aabbccddeeff', macAddress: 'fa:16:3e:12:34:56' }] });
  inventory.add(IDS[2] as string, { startedAtMs: WEDNESDAY - 5 * HOUR_MS });
  return inventory;
}

const only = (sim: HypervisorSimulator, id: string, at: number): InstanceInspection => {
  const found = sim.inspectHost('compute-1', at).instances.find((i) => i.instance_id === id);
  if (!found) throw new Error(`instance ${id} not reported at ${new Date(at).toISOString()}`);
  return found;
};

/** Every cumulative counter of an inspection, by a stable name. */
function counters(i: InstanceInspection): Record<string, number> {
  const out: Record<string, number> = { cpu: i.cpu.time };
  for (const d of i.disks) for (const k of ['read_bytes', 'read_requests', 'write_bytes', 'write_requests', 'rd_total_times', 'wr_total_times'] as const) out[`${d.device}.${k}`] = d[k];
  for (const n of i.interfaces) for (const k of ['rx_bytes', 'tx_bytes', 'rx_packets', 'tx_packets'] as const) out[`${n.name}.${k}`] = n[k];
  return out;
}

const metric = (stats: HostStats, name: string): number => {
  const found = stats.compute_node.metrics.find((m) => m.name === name);
  if (!found) throw new Error(`no metric ${name}`);
  return found.value;
};

describe('HypervisorSimulator', () => {
  it('is deterministic: two simulators with the same seed give the same numbers, another seed differs', () => {
    const at = WEDNESDAY + 9 * HOUR_MS + 17 * MINUTE;
    const a = simulator(populated()).sim;
    const b = simulator(populated()).sim;
    expect(b.inspectHost('compute-1', at)).toEqual(a.inspectHost('compute-1', at));
    expect(b.hostStats('compute-1', at)).toEqual(a.hostStats('compute-1', at));
    expect(b.hosts(at)).toEqual(a.hosts(at));
    const other = simulator(populated(), { seed: 43 }).sim;
    expect(other.inspectHost('compute-1', at).instances[0]?.cpu.time).not.toBe(a.inspectHost('compute-1', at).instances[0]?.cpu.time);
  });

  it('reports what libvirt would for a running domain: the flavor, its disks and tap interfaces', () => {
    const { sim } = simulator(populated());
    const at = WEDNESDAY + 10 * HOUR_MS;
    const plain = only(sim, IDS[0] as string, at);
    expect(plain.power_state).toBe(1);
    expect(plain.cpu.number).toBe(2);
    expect(plain.cpu.util).toBeGreaterThan(0);
    expect(plain.cpu.util).toBeLessThanOrEqual(100);
    expect(plain.memory.usage).toBeGreaterThan(0);
    expect(plain.memory.usage).toBeLessThanOrEqual(4096);
    expect(plain.memory.resident).toBeGreaterThan(plain.memory.usage);
    expect(plain.disks.map((d) => d.device)).toEqual(['vda']);
    expect(plain.disks[0]?.capacity).toBe(40 * 1024 ** 3);
    expect(plain.disks[0]?.allocation).toBeLessThanOrEqual(plain.disks[0]?.capacity as number);
    expect(plain.interfaces).toHaveLength(1);
    expect(plain.interfaces[0]?.name).toBe(`tap${(IDS[0] as string).slice(0, 11)}`);
    expect(plain.interfaces[0]?.mac).toMatch(/^fa:16:3e(:[0-9a-f]{2}){3}$/);

    const large = only(sim, IDS[1] as string, at);
    expect(large.disks.map((d) => d.device)).toEqual(['vda', 'vdb']);
    expect(large.disks[1]?.capacity).toBe(20 * 1024 ** 3);
    expect(large.interfaces).toMatchObject([{ name: 'tapa1b2c3d4-e5', mac: 'fa:16:3e:12:34:56' }]);
  });

  it('keeps every cumulative counter monotonic while the domain runs', () => {
    const { sim } = simulator(populated());
    for (const id of IDS) {
      let previous = counters(only(sim, id, WEDNESDAY));
      for (let t = WEDNESDAY + 7 * MINUTE; t < WEDNESDAY + 3 * DAY_MS; t += 7 * MINUTE + 13_000) {
        const current = counters(only(sim, id, t));
        for (const [name, value] of Object.entries(current)) expect(value, `${id} ${name}`).toBeGreaterThanOrEqual(previous[name] as number);
        expect(current.cpu).toBeGreaterThan(previous.cpu as number);
        previous = current;
      }
    }
  });

  it('gives consistent deltas: counters integrate the rate, and do not depend on when or how often they are polled', () => {
    const id = IDS[0] as string;
    const t1 = WEDNESDAY + 3 * HOUR_MS + 1234;
    const t2 = WEDNESDAY + 11 * HOUR_MS + 5678;
    const t3 = WEDNESDAY + 29 * HOUR_MS + 91;

    // A simulator polled often and one polled only at the ends agree on every value.
    const often = simulator(populated()).sim;
    for (let t = t1; t < t3; t += 5 * MINUTE) often.inspectHost('compute-1', t);
    const seldom = simulator(populated()).sim;
    expect(counters(only(often, id, t3))).toEqual(counters(only(seldom, id, t3)));

    // The sum of two intervals' deltas is the delta over the span.
    const c1 = counters(only(seldom, id, t1));
    const c2 = counters(only(seldom, id, t2));
    const c3 = counters(only(seldom, id, t3));
    for (const name of Object.keys(c1)) expect((c2[name] as number) - (c1[name] as number) + ((c3[name] as number) - (c2[name] as number))).toBe((c3[name] as number) - (c1[name] as number));

    // The CPU delta is the integral of the instantaneous rate (util % of its vCPUs), computed numerically here.
    const rateNsPerMs = (t: number) => {
      const i = only(seldom, id, t);
      return (i.cpu.util / 100) * i.cpu.number * 1e6;
    };
    let integral = 0;
    const step = 60_000;
    for (let t = t1; t < t3; t += step) {
      const end = Math.min(t3, t + step);
      integral += ((end - t) / 6) * (rateNsPerMs(t) + 4 * rateNsPerMs((t + end) / 2) + rateNsPerMs(end));
    }
    expect(Math.abs((c3.cpu as number) - (c1.cpu as number) - integral) / integral).toBeLessThan(1e-6);
  });

  it('follows the diurnal curve: busier at 14:00 than at 04:00 on a weekday, and less busy over a weekend day', () => {
    const { sim } = simulator(populated());
    for (const id of IDS) {
      expect(only(sim, id, WEDNESDAY + 14 * HOUR_MS).cpu.util, id).toBeGreaterThan(only(sim, id, WEDNESDAY + 4 * HOUR_MS).cpu.util);
      const weekday = only(sim, id, WEDNESDAY + DAY_MS).cpu.time - only(sim, id, WEDNESDAY).cpu.time;
      const saturday = WEDNESDAY + 3 * DAY_MS;
      const weekend = only(sim, id, saturday + DAY_MS).cpu.time - only(sim, id, saturday).cpu.time;
      expect(weekend, id).toBeLessThan(weekday);
    }
    const stats = (h: number) => sim.hostStats('compute-1', WEDNESDAY + h * HOUR_MS).hardware.cpu.util;
    expect(stats(14)).toBeGreaterThan(stats(4));
  });

  it('resets the counters when the domain is power-cycled, and reports nothing while it is stopped', () => {
    const inventory = populated();
    const { sim } = simulator(inventory);
    const id = IDS[0] as string;
    const stopAt = WEDNESDAY + 10 * HOUR_MS;
    const startAt = stopAt + 30 * MINUTE;
    const before = only(sim, id, stopAt - 1);

    // Stop: the run ends; Nova keeps the server (SHUTOFF) and a later start is a new run.
    const first = inventory.domainList.find((d) => d.instanceId === id) as Domain;
    first.endedAtMs = stopAt;
    expect(sim.inspectHost('compute-1', stopAt + MINUTE).instances.map((i) => i.instance_id)).not.toContain(id);
    inventory.add(id, { startedAtMs: startAt });

    expect(sim.inspectHost('compute-1', startAt + 10 * MINUTE).instances.map((i) => i.instance_id)).toContain(id);
    const after = only(sim, id, startAt);
    expect(after.cpu.time).toBe(0);
    expect(after.started_at).toBe(new Date(startAt).toISOString());
    const soon = only(sim, id, startAt + 5 * MINUTE);
    expect(soon.cpu.time).toBeGreaterThan(0);
    expect(soon.cpu.time).toBeLessThan(before.cpu.time);
    expect(soon.interfaces[0]?.rx_bytes).toBeLessThan(before.interfaces[0]?.rx_bytes as number);
    // The disk is as old as the instance, not the run: its allocation does not restart.
    expect(soon.disks[0]?.allocation).toBeGreaterThanOrEqual(before.disks[0]?.allocation as number);
  });

  it('leaves stopped, shelved and never-started instances out, and counts only running ones per host', () => {
    const inventory = populated();
    inventory.domainList[1]!.endedAtMs = WEDNESDAY - HOUR_MS;
    const { sim } = simulator(inventory);
    const at = WEDNESDAY + HOUR_MS;
    const ids = sim.inspectHost('compute-1', at).instances.map((i) => i.instance_id);
    expect(ids).toEqual([IDS[0], IDS[2]]);
    // Before its start, a domain does not exist either.
    expect(sim.inspectHost('compute-1', WEDNESDAY - 6 * HOUR_MS).instances.map((i) => i.instance_id)).toEqual([IDS[0], IDS[1]]);
    expect(sim.hosts(at).map((h) => [h.name, h.running_instances])).toEqual([
      ['compute-1', 2],
      ['compute-2', 0],
    ]);
    expect(sim.hostStats('compute-1', at).hardware.running_instances).toBe(2);
  });

  it('answers 404 for a host it does not know', () => {
    const { sim } = simulator(populated());
    expect(() => sim.inspectHost('compute-9')).toThrow(expect.objectContaining({ code: 'CUMULUS_CLOUD_NOT_FOUND', httpStatus: 404 }));
    expect(() => sim.hostStats('compute-9')).toThrow(expect.objectContaining({ httpStatus: 404 }));
  });

  it('reports host stats as the sum over its running instances plus the host overhead', () => {
    const { sim } = simulator(populated(), { hostOverheadMemoryMb: 2048, hostOverheadCpuPercent: 4 });
    const at = WEDNESDAY + 15 * HOUR_MS + 7 * MINUTE;
    const instances = sim.inspectHost('compute-1', at).instances;
    const stats = sim.hostStats('compute-1', at);
    const cores = 32;
    const instancesUtil = instances.reduce((sum, i) => sum + (i.cpu.util * i.cpu.number) / cores, 0);
    expect(stats.hardware.cpu.instances_util).toBeCloseTo(instancesUtil, 9);
    expect(stats.hardware.cpu.overhead_util).toBe(4);
    expect(stats.hardware.cpu.util).toBeCloseTo(instancesUtil + 4, 9);
    expect(stats.hardware.memory.instances_mb).toBe(instances.reduce((sum, i) => sum + i.memory.resident, 0));
    expect(stats.hardware.memory.used_mb).toBe(2048 + stats.hardware.memory.instances_mb);
    expect(stats.hardware.memory.free_mb).toBe(131_072 - stats.hardware.memory.used_mb);
    expect(stats.hardware.memory.swap_used_mb).toBe(0);
    // Over a minute the load is the CPUs in demand: close to the instantaneous figure.
    expect(stats.hardware.cpu.load['1min']).toBeCloseTo((stats.hardware.cpu.util / 100) * cores, 1);

    // An idle host shows only its overhead.
    const idle = sim.hostStats('compute-2', at);
    expect(idle.hardware.cpu.util).toBe(4);
    expect(idle.hardware.memory.used_mb).toBe(2048);
  });

  it("reports nova-compute's CPU monitor metrics: monotonic times since the host's boot and percentages that add up", () => {
    const { sim } = simulator(populated());
    const names = ['cpu.frequency', 'cpu.user.time', 'cpu.kernel.time', 'cpu.idle.time', 'cpu.iowait.time', 'cpu.user.percent', 'cpu.kernel.percent', 'cpu.idle.percent', 'cpu.iowait.percent', 'cpu.percent'];
    let previous: HostStats | null = null;
    for (let t = WEDNESDAY; t < WEDNESDAY + DAY_MS; t += 47 * MINUTE) {
      const stats = sim.hostStats('compute-1', t);
      expect(stats.compute_node.metrics.map((m) => m.name)).toEqual(names);
      expect(stats.compute_node.metrics.every((m) => m.source === 'libvirt.LibvirtDriver' && m.timestamp === stats.timestamp)).toBe(true);
      const uptimeNs = (t - Date.parse(stats.booted_at)) * 1e6;
      const sum = ['user', 'kernel', 'idle', 'iowait'].reduce((s, k) => s + metric(stats, `cpu.${k}.time`), 0);
      expect(Math.abs(sum - 32 * uptimeNs)).toBeLessThan(10);
      const percents = ['user', 'kernel', 'idle', 'iowait'].reduce((s, k) => s + metric(stats, `cpu.${k}.percent`), 0);
      expect(percents).toBeCloseTo(100, 6);
      // cpu.percent is used over total, as nova's monitor computes it (iowait counts as used).
      expect(metric(stats, 'cpu.percent')).toBeCloseTo(100 - metric(stats, 'cpu.idle.percent'), 6);
      // Over the last minute, the busy share tracks the instantaneous utilisation.
      expect(metric(stats, 'cpu.user.percent') + metric(stats, 'cpu.kernel.percent')).toBeCloseTo(stats.hardware.cpu.util, 0);
      if (previous && previous.booted_at === stats.booted_at) {
        for (const k of ['user', 'kernel', 'idle', 'iowait']) expect(metric(stats, `cpu.${k}.time`)).toBeGreaterThan(metric(previous, `cpu.${k}.time`));
      }
      previous = stats;
    }
  });

  it('caps an overcommitted host at its cores while its guests report the CPU they ask for', () => {
    const inventory = new FakeInventory();
    for (let n = 0; n < 12; n++) {
      inventory.add(`${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`, { host: 'compute-2', flavor: { id: 'f3', name: 'm1.xlarge', vcpus: 4, ramMb: 1024, diskGb: 10, ephemeralGb: 0 } });
    }
    const { sim } = simulator(inventory);
    let previous: HostStats | null = null;
    for (let t = WEDNESDAY; t < WEDNESDAY + DAY_MS; t += 61 * MINUTE) {
      const stats = sim.hostStats('compute-2', t);
      expect(stats.hardware.cpu.util).toBeLessThanOrEqual(100);
      expect(metric(stats, 'cpu.percent')).toBeLessThanOrEqual(100 + 1e-9);
      expect(metric(stats, 'cpu.idle.time')).toBeGreaterThanOrEqual(0);
      if (previous && previous.booted_at === stats.booted_at) expect(metric(stats, 'cpu.idle.time')).toBeGreaterThanOrEqual(metric(previous, 'cpu.idle.time'));
      previous = stats;
    }
    const peak = sim.hostStats('compute-2', WEDNESDAY + 14 * HOUR_MS);
    expect(peak.hardware.cpu.util).toBe(100);
    // A load average above the core count is what overcommitment looks like.
    expect(peak.hardware.cpu.load['15min']).toBeGreaterThan(4);
    // Ceilometer's view of the guests is what they demand.
    const guests = sim.inspectHost('compute-2', WEDNESDAY + 14 * HOUR_MS).instances;
    expect(guests.reduce((sum, i) => sum + (i.cpu.util * i.cpu.number) / 100, 0)).toBeGreaterThan(4);
  });

  it('refuses settings that make no sense, naming the field', () => {
    expect(() => resolveSettings({ seed: 1.5 })).toThrow(ConfigError);
    expect(() => resolveSettings({ seed: 1, hostOverheadCpuPercent: 140 })).toThrow(/hostOverheadCpuPercent/);
    expect(() => resolveSettings({ seed: 1, hostOverheadMemoryMb: -1 })).toThrow(/hostOverheadMemoryMb/);
    expect(resolveSettings({ seed: 7 })).toEqual({ seed: 7, hostOverheadMemoryMb: 1536, hostOverheadCpuPercent: 3, utcOffsetMinutes: 0 });
  });
});
