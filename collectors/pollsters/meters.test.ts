/** Sample building from hand-written readings: the resource-id and metadata rules that the simulator never exercises. */
import { describe, expect, it } from 'vitest';
import { verifySampleSignature } from '../../core/index.ts';
import { COMPUTE_METERS, HARDWARE_HOST_METERS, PollSamples, pollStamp } from './meters.ts';
import type { HostStats, InstanceInspection } from './source.ts';

const SECRET = 'pollster-test-metering-secret';
const AT = Date.parse('2026-03-04T05:06:07.890Z');

function instance(fields: Partial<InstanceInspection> = {}): InstanceInspection {
  return {
    instance_id: '0f1e2d3c-4b5a-4697-8877-665544332211',
    name: 'web-0',
    project_id: 'project-a',
    user_id: 'user-a',
    host: 'compute-1',
    flavor: { id: 'f1', name: 'm1.small', vcpus: 1, ram: 2048, disk: 20, ephemeral: 0 },
    power_state: 1,
    launched_at: '2026-03-04T04:00:00.000Z',
    started_at: '2026-03-04T04:00:00.000Z',
    cpu: { number: 1, time: 123_000_000_000, util: 12.5 },
    memory: { available: 2048, usage: 900, resident: 1100, swap_in: 0, swap_out: 0 },
    disks: [{ device: 'vda', read_bytes: 1, read_requests: 1, write_bytes: 2, write_requests: 1, errors: 0, rd_total_times: 10, wr_total_times: 20, capacity: 21_474_836_480, allocation: 3_000_000_000, physical: 3_100_000_000 }],
    interfaces: [{ name: 'tapaaaabbbbccc', mac: 'fa:16:3e:00:00:01', fref: null, rx_bytes: 10, tx_bytes: 20, rx_packets: 1, tx_packets: 2, rx_drop: 0, tx_drop: 0, rx_errors: 0, tx_errors: 0 }],
    ...fields,
  };
}

function stats(metrics: HostStats['compute_node']['metrics']): HostStats {
  return {
    host: 'compute-1',
    timestamp: new Date(AT).toISOString(),
    booted_at: '2026-03-01T00:00:00.000Z',
    hardware: {
      running_instances: 1,
      cpu: { count: 8, util: 37.5, instances_util: 34.5, overhead_util: 3, load: { '1min': 3, '5min': 2.9, '15min': 2.8 } },
      memory: { total_mb: 16384, used_mb: 4000, free_mb: 12384, instances_mb: 2464, overhead_mb: 1536, swap_used_mb: 0 },
    },
    compute_node: { nodename: 'compute-1.example', metrics },
  };
}

const newBatch = () => new PollSamples(pollStamp('compute-1', AT, 'openstack', SECRET));

describe('compute sample building', () => {
  it('stamps every sample with the poll instant and the synthetic message id', () => {
    expect(pollStamp('compute-1', AT, 'openstack', SECRET)).toEqual({ timestamp: '2026-03-04T05:06:07.890+00:00', messageId: 'poll:compute-1:2026-03-04T05:06:07.890Z', source: 'openstack', secret: SECRET });
  });

  it("uses the source's instance name when it sends one, and a vNIC's filter reference as its resource when it has one", () => {
    const batch = newBatch();
    batch.addInstance(
      instance({
        instance_name: 'instance-0000002a',
        interfaces: [
          { name: 'tap01', mac: 'fa:16:3e:00:00:02', fref: null, rx_bytes: 1, tx_bytes: 1, rx_packets: 1, tx_packets: 1, rx_drop: 0, tx_drop: 0, rx_errors: 0, tx_errors: 0 },
          { name: 'tap02', mac: 'fa:16:3e:00:00:03', fref: 'nic-filter-7', rx_bytes: 1, tx_bytes: 1, rx_packets: 1, tx_packets: 1, rx_drop: 0, tx_drop: 0, rx_errors: 0, tx_errors: 0 },
        ],
      }),
    );
    const resources = new Set(batch.samples.filter((s) => s.name.startsWith('network.')).map((s) => s.resource_id));
    expect(resources).toEqual(new Set(['instance-0000002a-0f1e2d3c-4b5a-4697-8877-665544332211-tap01', 'nic-filter-7']));
    const filtered = batch.samples.find((s) => s.resource_id === 'nic-filter-7');
    expect(filtered?.resource_metadata).toMatchObject({ vnic_name: 'nic-filter-7', name: 'tap02', fref: 'nic-filter-7' });
    expect(batch.samples.find((s) => s.name === 'cpu')?.resource_metadata.name).toBe('instance-0000002a');
  });

  it('falls back to our Nova’s domain name when the source sends none', () => {
    const batch = newBatch();
    batch.addInstance(instance());
    expect(batch.samples.find((s) => s.name === 'network.incoming.bytes')?.resource_id).toBe('instance-0f1e2d3c-0f1e2d3c-4b5a-4697-8877-665544332211-tapaaaabbbbccc');
    expect(batch.samples.find((s) => s.name === 'disk.device.usage')).toMatchObject({ resource_id: '0f1e2d3c-4b5a-4697-8877-665544332211-vda', volume: 3_100_000_000 });
  });

  it('keeps percentages on the 0-100 scale, ignores monitor metrics Ceilometer has no meter for, and names the node `<host>_<nodename>`', () => {
    const batch = newBatch();
    const timestamp = new Date(AT).toISOString();
    batch.addHost(
      stats([
        { name: 'cpu.percent', value: 42.5, timestamp, source: 'libvirt.LibvirtDriver' },
        { name: 'cpu.idle.time', value: 9.5e17, timestamp, source: 'libvirt.LibvirtDriver' },
        { name: 'numa.membw.current', value: 7, timestamp, source: 'libvirt.LibvirtDriver' },
      ]),
      { hardware: false },
    );
    expect(batch.samples.map((s) => [s.name, s.type, s.unit, s.volume, s.resource_id])).toEqual([
      ['compute.node.cpu.percent', 'gauge', 'percent', 42.5, 'compute-1_compute-1.example'],
      ['compute.node.cpu.idle.time', 'cumulative', 'ns', 9.5e17, 'compute-1_compute-1.example'],
    ]);
  });

  it('adds the hardware meters on the host resource only when asked', () => {
    const batch = newBatch();
    batch.addHost(stats([]), { hardware: true });
    expect(batch.samples.map((s) => [s.name, s.volume, s.resource_id])).toEqual([
      ['hardware.cpu.load.1min', 3, 'compute-1'],
      ['hardware.cpu.load.5min', 2.9, 'compute-1'],
      ['hardware.cpu.load.15min', 2.8, 'compute-1'],
      ['hardware.memory.total', 16384 * 1024, 'compute-1'],
      ['hardware.memory.used', 4000 * 1024, 'compute-1'],
      ['hardware.system_stats.cpu.idle', 62.5, 'compute-1'],
    ]);
    expect(HARDWARE_HOST_METERS.map((m) => m.name)).toEqual(batch.samples.map((s) => s.name));
  });

  it('leaves out a reading that is not a finite number and counts it, keeping the rest signed', () => {
    const batch = newBatch();
    batch.addInstance(instance({ memory: { available: 2048, usage: Number.NaN, resident: 1100, swap_in: 0, swap_out: 0 } }));
    expect(batch.skipped).toBe(1);
    expect(batch.samples.some((s) => s.name === 'memory.usage')).toBe(false);
    expect(batch.samples.length).toBe(7 - 1 + 9 + 8);
    expect(batch.samples.every((s) => verifySampleSignature(s, SECRET))).toBe(true);
  });

  it('lists each default meter once, with a resource kind', () => {
    const names = COMPUTE_METERS.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBe(7 + 9 + 8 + 10);
    expect(new Set(COMPUTE_METERS.map((m) => m.resource))).toEqual(new Set(['instance', 'disk', 'vnic', 'compute_node']));
  });
});
