/**
 * The compute pollster against the real hypervisor simulator of a control plane with
 * servers (Nova, Neutron ports), read through the in-process source.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, ManualClock, TelemetryRegistry, decodeMeasureBatch, isMeasureBatchRefusal, sampleId, silentLogger, verifySampleSignature, type Sample } from '../core/index.ts';
import { call, createFlavor, createServer, harness, NOW, type Harness, type Json } from '../cloud/nova/test-harness.ts';
import { createComputePollster, createInProcessComputeSource, DEFAULT_POLLING_INTERVAL_MS, type ComputeSource, type HostInspection, type HostSummary } from '../collectors/pollsters/index.ts';
import { RecordingStream } from '../collectors/pollsters/test-stream.ts';

const SECRET = 'pollster-test-metering-secret';
const MINUTE = 60_000;

/** Ceilometer's names, types and units, written out here rather than read from the code under test. */
const INSTANCE_METERS: Record<string, [string, string]> = {
  cpu: ['cumulative', 'ns'],
  vcpus: ['gauge', 'vcpu'],
  memory: ['gauge', 'MB'],
  'memory.usage': ['gauge', 'MB'],
  'memory.resident': ['gauge', 'MB'],
  'memory.swap.in': ['cumulative', 'MB'],
  'memory.swap.out': ['cumulative', 'MB'],
};
const DISK_METERS: Record<string, [string, string]> = {
  'disk.device.read.bytes': ['cumulative', 'B'],
  'disk.device.write.bytes': ['cumulative', 'B'],
  'disk.device.read.requests': ['cumulative', 'request'],
  'disk.device.write.requests': ['cumulative', 'request'],
  'disk.device.read.latency': ['cumulative', 'ns'],
  'disk.device.write.latency': ['cumulative', 'ns'],
  'disk.device.capacity': ['gauge', 'B'],
  'disk.device.allocation': ['gauge', 'B'],
  'disk.device.usage': ['gauge', 'B'],
};
const VNIC_METERS: Record<string, [string, string]> = {
  'network.incoming.bytes': ['cumulative', 'B'],
  'network.outgoing.bytes': ['cumulative', 'B'],
  'network.incoming.packets': ['cumulative', 'packet'],
  'network.outgoing.packets': ['cumulative', 'packet'],
  'network.incoming.packets.drop': ['cumulative', 'packet'],
  'network.outgoing.packets.drop': ['cumulative', 'packet'],
  'network.incoming.packets.error': ['cumulative', 'packet'],
  'network.outgoing.packets.error': ['cumulative', 'packet'],
};
const NODE_METERS: Record<string, [string, string]> = {
  'compute.node.cpu.frequency': ['gauge', 'MHz'],
  'compute.node.cpu.user.time': ['cumulative', 'ns'],
  'compute.node.cpu.kernel.time': ['cumulative', 'ns'],
  'compute.node.cpu.idle.time': ['cumulative', 'ns'],
  'compute.node.cpu.iowait.time': ['cumulative', 'ns'],
  'compute.node.cpu.user.percent': ['gauge', 'percent'],
  'compute.node.cpu.kernel.percent': ['gauge', 'percent'],
  'compute.node.cpu.idle.percent': ['gauge', 'percent'],
  'compute.node.cpu.iowait.percent': ['gauge', 'percent'],
  'compute.node.cpu.percent': ['gauge', 'percent'],
};

interface Setup {
  h: Harness;
  clock: ManualClock;
  servers: Json[];
  stopped: Json;
  source: ComputeSource;
}

/** Three running servers (one with an ephemeral disk, one of another project) and a stopped one; the pollster's clock 10 minutes after their launch. */
async function setup(): Promise<Setup> {
  const h = await harness();
  const medium = await createFlavor(h, { name: 'm1.medium', vcpus: 2, ram: 4096, disk: 40 });
  const scratch = await createFlavor(h, { name: 'm1.scratch', vcpus: 4, ram: 8192, disk: 80, 'OS-FLV-EXT-DATA:ephemeral': 20 });
  const servers = [
    await createServer(h, h.alice.token, medium.id as string, 'web-0'),
    await createServer(h, h.alice.token, scratch.id as string, 'batch-0'),
    await createServer(h, h.bob.token, medium.id as string, 'db-0'),
  ];
  const stopped = await createServer(h, h.bob.token, medium.id as string, 'idle-0');
  await h.cloud.nova.stop();
  expect((await call(h, 'POST', `/servers/${stopped.id}/action`, h.bob.token, { 'os-stop': null })).status).toBe(202);
  await h.cloud.nova.stop();
  const clock = new ManualClock(NOW.getTime() + 10 * MINUTE);
  // The cloud's own simulator (ports from Neutron), read at the pollster's clock.
  const sim = h.cloud.hypervisor;
  const source = createInProcessComputeSource({
    hosts: () => sim.hosts(clock.nowMs()),
    inspect: (host) => sim.inspectHost(host, clock.nowMs()),
    stats: (host) => sim.hostStats(host, clock.nowMs()),
  });
  return { h, clock, servers, stopped, source };
}

function pollsterOver(s: Pick<Setup, 'clock' | 'source'>, options: { hardwareMeters?: boolean; intervalMs?: number; publishAs?: 'samples' | 'measure-batches' } = {}) {
  const stream = new RecordingStream();
  const registry = new TelemetryRegistry();
  const telemetry = registry.component('collector.pollster');
  const pollster = createComputePollster({ meteringSecret: SECRET, ...options }, { source: s.source, stream, clock: s.clock, logger: silentLogger(), telemetry });
  return { pollster, stream, telemetry };
}

const byResource = (samples: readonly Sample[], resourceId: string) => samples.filter((x) => x.resource_id === resourceId);
const meterTable = (samples: readonly Sample[]) => Object.fromEntries(samples.map((x) => [x.name, [x.type, x.unit]]));
const volume = (samples: readonly Sample[], name: string, resourceId: string): number => {
  const found = samples.find((x) => x.name === name && x.resource_id === resourceId);
  if (!found) throw new Error(`no ${name} sample for ${resourceId}`);
  return found.volume;
};

afterEach(() => {
  vi.useRealTimers();
});

describe('compute pollster over the hypervisor simulator', () => {
  it("gives every running instance, disk and vNIC Ceilometer's meters, types, units and resource ids, and every host its compute.node meters", async () => {
    const s = await setup();
    const { pollster, stream, telemetry } = pollsterOver(s);
    const report = await pollster.poll();
    const samples = stream.samples();

    expect(report).toMatchObject({ timestamp: new Date(s.clock.nowMs()).toISOString(), hosts: 2, failedHosts: [], unsent: 0 });
    expect(report.published).toBe(samples.length);
    expect(telemetry.snapshot()).toMatchObject({ accepted: samples.length, refused: 0, dropped: 0, batches: 1 });
    // One batch per host, on the samples topic, each record keyed by its resource.
    expect(stream.sends.map((x) => x.topic)).toEqual(['cumulus.samples', 'cumulus.samples']);
    for (const send of stream.sends) for (const record of send.records) expect(record.key).toBe((JSON.parse(record.value.toString()) as Sample).resource_id);

    const inspected = new Map((await Promise.all(['compute-1', 'compute-2'].map((host) => s.source.instances(host)))).flatMap((x) => x.instances.map((i) => [i.instance_id, i] as const)));
    expect([...inspected.keys()].sort()).toEqual(s.servers.map((x) => x.id as string).sort());

    for (const server of s.servers) {
      const id = server.id as string;
      // 2.47+: the server shows its flavor's figures, not a link.
      const admin = (await call(s.h, 'GET', `/servers/${id}`, s.h.adminToken, undefined, { 'x-openstack-nova-api-version': '2.47' })).body.server as Json;
      const instance = inspected.get(id);
      if (!instance) throw new Error(`${id} not inspected`);
      const own = byResource(samples, id);
      expect(meterTable(own)).toEqual(INSTANCE_METERS);
      expect(volume(samples, 'cpu', id)).toBe(instance.cpu.time);
      expect(volume(samples, 'cpu', id)).toBeGreaterThan(0);
      expect(volume(samples, 'vcpus', id)).toBe(admin.flavor.vcpus);
      expect(volume(samples, 'memory', id)).toBe(admin.flavor.ram);
      expect(volume(samples, 'memory.usage', id)).toBe(instance.memory.usage);
      expect(volume(samples, 'memory.resident', id)).toBe(instance.memory.resident);
      for (const sample of own) {
        expect(sample.user_id).toBe(admin.user_id);
        expect(sample.project_id).toBe(admin.tenant_id);
        expect(sample.resource_metadata).toMatchObject({
          display_name: admin.name,
          name: admin['OS-EXT-SRV-ATTR:instance_name'],
          instance_id: id,
          instance_type: admin.flavor.original_name,
          flavor_name: admin.flavor.original_name,
          host: admin['OS-EXT-SRV-ATTR:host'],
          instance_host: admin['OS-EXT-SRV-ATTR:host'],
          vcpus: admin.flavor.vcpus,
          memory_mb: admin.flavor.ram,
        });
      }
      expect(own.find((x) => x.name === 'cpu')?.resource_metadata.cpu_number).toBe(admin.flavor.vcpus);

      // Disks: `<instance>-<device>`; the ephemeral flavor has a second one.
      const devices = admin.flavor.ephemeral > 0 ? ['vda', 'vdb'] : ['vda'];
      expect(instance.disks.map((d) => d.device)).toEqual(devices);
      for (const device of devices) {
        const disk = byResource(samples, `${id}-${device}`);
        expect(meterTable(disk)).toEqual(DISK_METERS);
        expect(disk.every((x) => x.resource_metadata.disk_name === device && x.user_id === admin.user_id)).toBe(true);
      }
      expect(volume(samples, 'disk.device.capacity', `${id}-vda`)).toBe(admin.flavor.disk * 1024 ** 3);

      // vNICs: Ceilometer's `<instance name>-<instance id>-<tap>`, one per Neutron port.
      expect(instance.interfaces.length).toBeGreaterThan(0);
      for (const vnic of instance.interfaces) {
        const resource = `${admin['OS-EXT-SRV-ATTR:instance_name']}-${id}-${vnic.name}`;
        const nic = byResource(samples, resource);
        expect(meterTable(nic)).toEqual(VNIC_METERS);
        expect(nic[0]?.resource_metadata).toMatchObject({ name: vnic.name, vnic_name: vnic.name, mac: vnic.mac, fref: null, instance_id: id });
        expect(volume(samples, 'network.incoming.bytes', resource)).toBe(vnic.rx_bytes);
      }
    }
    // The stopped server has no domain, hence no samples.
    expect(samples.some((x) => x.resource_id.includes(s.stopped.id as string))).toBe(false);

    for (const host of ['compute-1', 'compute-2']) {
      const node = byResource(samples, `${host}_${host}`);
      expect(meterTable(node)).toEqual(NODE_METERS);
      expect(node.every((x) => x.user_id === null && x.project_id === null && x.resource_metadata.host === host && x.resource_metadata.source === 'libvirt.LibvirtDriver')).toBe(true);
      const percent = volume(samples, 'compute.node.cpu.percent', `${host}_${host}`);
      expect(percent).toBeGreaterThan(0);
      expect(percent).toBeLessThanOrEqual(100);
    }
    // Every sample is one of the meters above: nothing else, and no hardware.* unless asked for.
    const known = new Set([...Object.keys(INSTANCE_METERS), ...Object.keys(DISK_METERS), ...Object.keys(VNIC_METERS), ...Object.keys(NODE_METERS)]);
    expect(samples.filter((x) => !known.has(x.name))).toEqual([]);
  });

  it('adds the hardware.* host meters when asked, with the SNMP pollsters’ names and units', async () => {
    const s = await setup();
    const { pollster, stream } = pollsterOver(s, { hardwareMeters: true });
    await pollster.poll();
    const hardware = stream.samples().filter((x) => x.name.startsWith('hardware.'));
    const stats = await s.source.hostStats('compute-1');
    expect(meterTable(byResource(hardware, 'compute-1'))).toEqual({
      'hardware.cpu.load.1min': ['gauge', 'process'],
      'hardware.cpu.load.5min': ['gauge', 'process'],
      'hardware.cpu.load.15min': ['gauge', 'process'],
      'hardware.memory.total': ['gauge', 'KB'],
      'hardware.memory.used': ['gauge', 'KB'],
      'hardware.system_stats.cpu.idle': ['gauge', '%'],
    });
    expect(volume(hardware, 'hardware.memory.total', 'compute-1')).toBe(16384 * 1024);
    expect(volume(hardware, 'hardware.memory.used', 'compute-1')).toBe(stats.hardware.memory.used_mb * 1024);
    expect(volume(hardware, 'hardware.cpu.load.15min', 'compute-1')).toBe(stats.hardware.cpu.load['15min']);
    expect(byResource(hardware, 'compute-2')).toHaveLength(6);
  });

  it('sees the cumulative counters grow between two polls as the clock moves, under new sample ids', async () => {
    const s = await setup();
    const { pollster, stream } = pollsterOver(s);
    const first = await pollster.poll();
    const before = stream.samples();
    stream.clear();
    s.clock.advance(10 * MINUTE);
    const second = await pollster.poll();
    const after = stream.samples();
    expect(Date.parse(second.timestamp) - Date.parse(first.timestamp)).toBe(10 * MINUTE);
    expect(after.every((x) => x.timestamp === new Date(s.clock.nowMs()).toISOString().replace('Z', '+00:00'))).toBe(true);

    const key = (x: Sample) => `${x.name}|${x.resource_id}`;
    const earlier = new Map(before.map((x) => [key(x), x]));
    const cumulative = after.filter((x) => x.type === 'cumulative');
    expect(cumulative.length).toBeGreaterThan(0);
    for (const sample of cumulative) {
      const previous = earlier.get(key(sample));
      if (!previous) throw new Error(`${key(sample)} missing from the first poll`);
      expect(sample.volume, key(sample)).toBeGreaterThanOrEqual(previous.volume);
      expect(sample.id).not.toBe(previous.id);
    }
    // The busy counters grow strictly: ten minutes of a running guest is never nothing.
    for (const server of s.servers) {
      const id = server.id as string;
      expect(volume(after, 'cpu', id)).toBeGreaterThan(volume(before, 'cpu', id));
      expect(volume(after, 'disk.device.write.bytes', `${id}-vda`)).toBeGreaterThan(volume(before, 'disk.device.write.bytes', `${id}-vda`));
    }
    expect(volume(after, 'compute.node.cpu.user.time', 'compute-1_compute-1')).toBeGreaterThan(volume(before, 'compute.node.cpu.user.time', 'compute-1_compute-1'));
    const incoming = cumulative.filter((x) => x.name === 'network.incoming.bytes');
    expect(incoming.length).toBe(s.servers.length);
    for (const sample of incoming) expect(sample.volume).toBeGreaterThan(earlier.get(key(sample))?.volume as number);
  });

  it('derives the ids from (meter, resource, poll instant): polling the same instant again gives the same samples, signed to verify', async () => {
    const s = await setup();
    const one = pollsterOver(s);
    const two = pollsterOver(s);
    await one.pollster.poll();
    await two.pollster.poll();
    const a = one.stream.samples();
    const b = two.stream.samples();
    expect(b).toEqual(a);
    expect(new Set(a.map((x) => x.id)).size).toBe(a.length);

    const instant = new Date(s.clock.nowMs()).toISOString();
    for (const sample of a) {
      const host = sample.resource_id.startsWith('compute-') ? sample.resource_id.split('_')[0] : (sample.resource_metadata.instance_host as string);
      expect(sample.message_id).toBe(`poll:${host}:${instant}`);
      expect(sample.id).toBe(sampleId(sample.message_id, sample.name, sample.resource_id));
      expect(sample.source).toBe('openstack');
      expect(verifySampleSignature(sample, SECRET)).toBe(true);
      expect(verifySampleSignature(sample, 'another-metering-secret')).toBe(false);
    }
    const forged = { ...(a[0] as Sample), volume: (a[0] as Sample).volume + 1 };
    expect(verifySampleSignature(forged, SECRET)).toBe(false);
  });

  it('publishes a host\'s poll as one signed measure batch when asked, carrying exactly the samples\' measures', async () => {
    const s = await setup();
    const asSamples = pollsterOver(s);
    const asBatches = pollsterOver(s, { publishAs: 'measure-batches' });
    await asSamples.pollster.poll();
    const report = await asBatches.pollster.poll();
    const samples = asSamples.stream.samples();
    // One record per host on the batches topic, keyed by the host; counted by measure.
    expect(asBatches.stream.sends.map((x) => [x.topic, x.records.map((r) => r.key)])).toEqual([
      ['cumulus.measure-batches', ['compute-1']],
      ['cumulus.measure-batches', ['compute-2']],
    ]);
    expect(report.published).toBe(samples.length);
    const measures: Array<[string, string, number, number, string]> = [];
    const ids = new Set<string>();
    for (const send of asBatches.stream.sends) {
      const batch = decodeMeasureBatch(send.records[0]?.value as Buffer, SECRET);
      if (isMeasureBatchRefusal(batch)) throw new Error(batch.reason);
      expect(isMeasureBatchRefusal(decodeMeasureBatch(send.records[0]?.value as Buffer, 'another-metering-secret-0123'))).toBe(true);
      ids.add(batch.id);
      for (const series of batch.series) {
        const like = samples.find((x) => x.resource_id === series.resource_id && x.name === series.name);
        expect(series).toMatchObject({ type: like?.type, unit: like?.unit, project_id: like?.project_id, user_id: like?.user_id, source: 'openstack', resource_metadata: like?.resource_metadata });
        series.timestamps.forEach((t, i) => measures.push([series.resource_id, series.name, t, series.volumes[i] as number, series.unit]));
      }
    }
    expect(ids.size).toBe(2);
    const fromSamples = samples.map((x) => [x.resource_id, x.name, Date.parse(x.timestamp) * 1000, x.volume, x.unit]);
    const order = (a: readonly unknown[], b: readonly unknown[]) => JSON.stringify(a).localeCompare(JSON.stringify(b));
    expect(measures.sort(order)).toEqual(fromSamples.sort(order));
  });

  it('polls the other hosts when one cannot be read, and counts the failure as refused', async () => {
    const s = await setup();
    const ghost: HostSummary = { name: 'compute-9', availability_zone: 'nova', state: 'up', status: 'enabled', vcpus: 8, memory_mb: 8192, local_gb: 100, running_instances: 0, booted_at: NOW.toISOString() };
    // compute-9 is listed but the simulator does not know it (404), as when a host is removed between two calls.
    const listed = createInProcessComputeSource({
      hosts: async () => [ghost, ...(await s.source.hosts())],
      inspect: (host) => s.source.instances(host),
      stats: (host) => s.source.hostStats(host),
    });
    const { pollster, stream, telemetry } = pollsterOver({ clock: s.clock, source: listed });
    const report = await pollster.poll();
    expect(report.hosts).toBe(3);
    expect(report.failedHosts).toEqual(['compute-9']);
    expect(telemetry.snapshot()).toMatchObject({ refused: 1, accepted: report.published });
    const samples = stream.samples();
    for (const server of s.servers) expect(byResource(samples, server.id as string)).toHaveLength(Object.keys(INSTANCE_METERS).length);
    expect(samples.some((x) => x.resource_id.startsWith('compute-9'))).toBe(false);

    // A host whose stats fail still has its instances metered (and the reverse).
    const statsDown = createInProcessComputeSource({
      hosts: () => s.source.hosts(),
      inspect: (host) => s.source.instances(host),
      stats: (host) => (host === 'compute-1' ? Promise.reject(new Error('stats timed out')) : s.source.hostStats(host)),
    });
    const partial = pollsterOver({ clock: s.clock, source: statsDown });
    expect((await partial.pollster.poll()).failedHosts).toEqual(['compute-1']);
    const partialSamples = partial.stream.samples();
    expect(byResource(partialSamples, 'compute-1_compute-1')).toEqual([]);
    expect(byResource(partialSamples, 'compute-2_compute-2')).toHaveLength(Object.keys(NODE_METERS).length);
    for (const server of s.servers) expect(byResource(partialSamples, server.id as string)).toHaveLength(Object.keys(INSTANCE_METERS).length);

    // An in-process answer of the wrong shape fails that host's reading, not the poll.
    const broken = createInProcessComputeSource({
      hosts: () => s.source.hosts(),
      inspect: async (host) => (host === 'compute-2' ? ({ host, timestamp: '', instances: [null] } as unknown as HostInspection) : s.source.instances(host)),
      stats: (host) => s.source.hostStats(host),
    });
    const shaky = pollsterOver({ clock: s.clock, source: broken });
    expect((await shaky.pollster.poll()).failedHosts).toEqual(['compute-2']);
    expect(byResource(shaky.stream.samples(), 'compute-2_compute-2')).toHaveLength(Object.keys(NODE_METERS).length);

    // No host list: nothing to poll, one refusal, and the next poll starts afresh.
    const noList = pollsterOver({ clock: s.clock, source: { ...s.source, hosts: () => Promise.reject(new Error('connection refused')) } });
    expect(await noList.pollster.poll()).toMatchObject({ hosts: 0, failedHosts: ['*'], published: 0 });
    expect(noList.stream.sends).toEqual([]);
    expect(noList.telemetry.snapshot().refused).toBe(1);
  });

  it('drops a batch the stream refuses and sends the current state on the next poll, losing no counted increment', async () => {
    const s = await setup();
    const { pollster, stream, telemetry } = pollsterOver(s);
    const reference = pollsterOver(s);
    await reference.pollster.poll();
    const refusedView = reference.stream.samples();

    stream.refuseNext = 1;
    const first = await pollster.poll();
    expect(first.unsent).toBeGreaterThan(0);
    expect(first.published + first.unsent).toBe(refusedView.length);
    expect(stream.sends).toHaveLength(1);
    expect(telemetry.snapshot()).toMatchObject({ dropped: first.unsent, accepted: first.published });

    s.clock.advance(5 * MINUTE);
    const second = await pollster.poll();
    expect(second).toMatchObject({ unsent: 0, failedHosts: [] });
    const latest = stream.sends.slice(1).flatMap((x) => x.records.map((r) => JSON.parse(r.value.toString()) as Sample));
    // Each cumulative value that was not delivered is included in the next one.
    for (const sample of refusedView.filter((x) => x.type === 'cumulative')) {
      expect(volume(latest, sample.name, sample.resource_id)).toBeGreaterThanOrEqual(sample.volume);
    }
  });

  it('polls at start and then every interval, skips no host, and stops cleanly (idempotent, safe before start)', async () => {
    const s = await setup();
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { pollster, stream } = pollsterOver(s, { intervalMs: 1_000 });
    await pollster.stop();
    await pollster.start();
    await pollster.start();
    await vi.waitFor(() => expect(stream.sends).toHaveLength(2));
    s.clock.advance(1_000);
    vi.advanceTimersByTime(1_000);
    await vi.waitFor(() => expect(stream.sends).toHaveLength(4));
    await pollster.stop();
    await pollster.stop();
    vi.advanceTimersByTime(10_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stream.sends).toHaveLength(4);
    expect(new Set(stream.samples().map((x) => x.timestamp)).size).toBe(2);
  });

  it('refuses settings that cannot work, naming the field', () => {
    const deps = { source: createInProcessComputeSource({ hosts: () => [], inspect: () => Promise.reject(new Error('none')), stats: () => Promise.reject(new Error('none')) }), stream: new RecordingStream(), clock: new ManualClock(NOW), logger: silentLogger(), telemetry: new TelemetryRegistry().component('t') };
    const refused = (config: Parameters<typeof createComputePollster>[0], field: string) => {
      expect(() => createComputePollster(config, deps)).toThrow(ConfigError);
      expect(() => createComputePollster(config, deps)).toThrow(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID', message: expect.stringContaining(field) }));
    };
    refused({ meteringSecret: SECRET, intervalMs: 999 }, 'pollsters.compute.intervalMs');
    refused({ meteringSecret: SECRET, intervalMs: 1.5e9 * 2 }, 'pollsters.compute.intervalMs');
    refused({ meteringSecret: SECRET, intervalMs: 1500.5 }, 'pollsters.compute.intervalMs');
    refused({ meteringSecret: 'short' }, 'pollsters.compute.meteringSecret');
    refused({ meteringSecret: SECRET, maxConcurrentHosts: 0 }, 'pollsters.compute.maxConcurrentHosts');
    refused({ meteringSecret: SECRET, source: ' ' }, 'pollsters.compute.source');
    // One second is the floor, and the default is Ceilometer's ten minutes.
    expect(() => createComputePollster({ meteringSecret: SECRET, intervalMs: 1_000 }, deps)).not.toThrow();
    expect(DEFAULT_POLLING_INTERVAL_MS).toBe(600_000);
  });
});
