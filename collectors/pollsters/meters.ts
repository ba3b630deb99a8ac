/**
 * The compute meters: names, types, units and resource ids as Ceilometer's compute
 * pollsters (ceilometer/compute/pollsters) and its `compute.node.cpu.*` meter definitions
 * give them, built from one poll of one host.
 */
import { sampleId, signSample, type Sample, type SampleType } from '../../core/index.ts';
import type { DiskReading, HostStats, InstanceInspection, InterfaceReading } from './source.ts';

/** What a meter's resource is: its id is built per kind (see the *ResourceId functions). */
export type ResourceKind = 'instance' | 'disk' | 'vnic' | 'compute_node' | 'host';

export interface MeterInfo {
  name: string;
  type: SampleType;
  unit: string;
  resource: ResourceKind;
}

interface Meter<R> extends MeterInfo {
  read(reading: R): number;
}

/** Per running instance (Ceilometer's InstanceStatsPollster family). */
const INSTANCE_METERS: readonly Meter<InstanceInspection>[] = [
  { name: 'cpu', type: 'cumulative', unit: 'ns', resource: 'instance', read: (i) => i.cpu.time },
  { name: 'vcpus', type: 'gauge', unit: 'vcpu', resource: 'instance', read: (i) => i.cpu.number },
  { name: 'memory', type: 'gauge', unit: 'MB', resource: 'instance', read: (i) => i.memory.available },
  { name: 'memory.usage', type: 'gauge', unit: 'MB', resource: 'instance', read: (i) => i.memory.usage },
  { name: 'memory.resident', type: 'gauge', unit: 'MB', resource: 'instance', read: (i) => i.memory.resident },
  { name: 'memory.swap.in', type: 'cumulative', unit: 'MB', resource: 'instance', read: (i) => i.memory.swap_in },
  { name: 'memory.swap.out', type: 'cumulative', unit: 'MB', resource: 'instance', read: (i) => i.memory.swap_out },
];

/** Per block device (PerDeviceDiskPollster family). */
const DISK_METERS: readonly Meter<DiskReading>[] = [
  { name: 'disk.device.read.bytes', type: 'cumulative', unit: 'B', resource: 'disk', read: (d) => d.read_bytes },
  { name: 'disk.device.write.bytes', type: 'cumulative', unit: 'B', resource: 'disk', read: (d) => d.write_bytes },
  { name: 'disk.device.read.requests', type: 'cumulative', unit: 'request', resource: 'disk', read: (d) => d.read_requests },
  { name: 'disk.device.write.requests', type: 'cumulative', unit: 'request', resource: 'disk', read: (d) => d.write_requests },
  { name: 'disk.device.read.latency', type: 'cumulative', unit: 'ns', resource: 'disk', read: (d) => d.rd_total_times },
  { name: 'disk.device.write.latency', type: 'cumulative', unit: 'ns', resource: 'disk', read: (d) => d.wr_total_times },
  { name: 'disk.device.capacity', type: 'gauge', unit: 'B', resource: 'disk', read: (d) => d.capacity },
  { name: 'disk.device.allocation', type: 'gauge', unit: 'B', resource: 'disk', read: (d) => d.allocation },
  { name: 'disk.device.usage', type: 'gauge', unit: 'B', resource: 'disk', read: (d) => d.physical },
];

/** Per virtual NIC (NetworkPollster family). */
const VNIC_METERS: readonly Meter<InterfaceReading>[] = [
  { name: 'network.incoming.bytes', type: 'cumulative', unit: 'B', resource: 'vnic', read: (n) => n.rx_bytes },
  { name: 'network.outgoing.bytes', type: 'cumulative', unit: 'B', resource: 'vnic', read: (n) => n.tx_bytes },
  { name: 'network.incoming.packets', type: 'cumulative', unit: 'packet', resource: 'vnic', read: (n) => n.rx_packets },
  { name: 'network.outgoing.packets', type: 'cumulative', unit: 'packet', resource: 'vnic', read: (n) => n.tx_packets },
  { name: 'network.incoming.packets.drop', type: 'cumulative', unit: 'packet', resource: 'vnic', read: (n) => n.rx_drop },
  { name: 'network.outgoing.packets.drop', type: 'cumulative', unit: 'packet', resource: 'vnic', read: (n) => n.tx_drop },
  { name: 'network.incoming.packets.error', type: 'cumulative', unit: 'packet', resource: 'vnic', read: (n) => n.rx_errors },
  { name: 'network.outgoing.packets.error', type: 'cumulative', unit: 'packet', resource: 'vnic', read: (n) => n.tx_errors },
];

/**
 * nova-compute's CPU monitor metrics by name, as Ceilometer's meters.yaml maps
 * `compute.metrics.update`. Percentages are used as they come: the monitor holds them as
 * 0-100, Nova divides by 100 on the bus and Ceilometer multiplies back.
 */
const NODE_METERS: ReadonlyMap<string, MeterInfo> = new Map(
  (
    [
      ['cpu.frequency', 'gauge', 'MHz'],
      ['cpu.user.time', 'cumulative', 'ns'],
      ['cpu.kernel.time', 'cumulative', 'ns'],
      ['cpu.idle.time', 'cumulative', 'ns'],
      ['cpu.iowait.time', 'cumulative', 'ns'],
      ['cpu.user.percent', 'gauge', 'percent'],
      ['cpu.kernel.percent', 'gauge', 'percent'],
      ['cpu.idle.percent', 'gauge', 'percent'],
      ['cpu.iowait.percent', 'gauge', 'percent'],
      ['cpu.percent', 'gauge', 'percent'],
    ] as const
  ).map(([metric, type, unit]) => [metric, { name: `compute.node.${metric}`, type, unit, resource: 'compute_node' }]),
);

const KB_PER_MB = 1024;

/** Opt-in: the host meters of Ceilometer's former SNMP pollsters (hardware/pollsters/data/snmp.yaml), same names and units. */
const HARDWARE_METERS: readonly Meter<HostStats>[] = [
  { name: 'hardware.cpu.load.1min', type: 'gauge', unit: 'process', resource: 'host', read: (s) => s.hardware.cpu.load['1min'] },
  { name: 'hardware.cpu.load.5min', type: 'gauge', unit: 'process', resource: 'host', read: (s) => s.hardware.cpu.load['5min'] },
  { name: 'hardware.cpu.load.15min', type: 'gauge', unit: 'process', resource: 'host', read: (s) => s.hardware.cpu.load['15min'] },
  { name: 'hardware.memory.total', type: 'gauge', unit: 'KB', resource: 'host', read: (s) => s.hardware.memory.total_mb * KB_PER_MB },
  { name: 'hardware.memory.used', type: 'gauge', unit: 'KB', resource: 'host', read: (s) => s.hardware.memory.used_mb * KB_PER_MB },
  { name: 'hardware.system_stats.cpu.idle', type: 'gauge', unit: '%', resource: 'host', read: (s) => 100 - s.hardware.cpu.util },
];

const info = ({ name, type, unit, resource }: MeterInfo): MeterInfo => ({ name, type, unit, resource });

/** Every meter a poll emits by default, in emission order. Experimental, as the source is. */
export const COMPUTE_METERS: readonly MeterInfo[] = [...INSTANCE_METERS, ...DISK_METERS, ...VNIC_METERS, ...NODE_METERS.values()].map(info);
/** The meters `hardwareMeters: true` adds. */
export const HARDWARE_HOST_METERS: readonly MeterInfo[] = HARDWARE_METERS.map(info);

/** libvirt's domain name: the source's when it sends one, else as our Nova names domains (`instance-` + the id's first 8 characters). */
export function instanceName(instance: InstanceInspection): string {
  return instance.instance_name ?? `instance-${instance.instance_id.slice(0, 8)}`;
}

/** Ceilometer's per-disk resource: `<instance id>-<device>`. */
export function diskResourceId(instance: InstanceInspection, disk: DiskReading): string {
  return `${instance.instance_id}-${disk.device}`;
}

/** Ceilometer's vNIC resource: the filter reference when there is one, else `<instance name>-<instance id>-<tap>`. */
export function vnicResourceId(instance: InstanceInspection, vnic: InterfaceReading): string {
  return vnic.fref ?? `${instanceName(instance)}-${instance.instance_id}-${vnic.name}`;
}

/** meters.yaml's `$.payload.host + "_" + $.payload.nodename`. */
export function computeNodeResourceId(stats: HostStats): string {
  return `${stats.host}_${stats.compute_node.nodename}`;
}

/** What every sample of one host's poll shares. */
export interface PollStamp {
  /** The poll's instant (ISO 8601, UTC): every sample of the poll carries it. */
  timestamp: string;
  /** `poll:<host>:<instant>`: the synthetic message the sample ids derive from. */
  messageId: string;
  source: string;
  secret: string;
}

export function pollStamp(host: string, atMs: number, source: string, secret: string): PollStamp {
  const instant = new Date(atMs).toISOString();
  return { timestamp: instant.replace('Z', '+00:00'), messageId: `poll:${host}:${instant}`, source, secret };
}

/** Samples of one host's poll; readings that are not finite numbers are left out and counted. */
export class PollSamples {
  readonly samples: Sample[] = [];
  skipped = 0;

  constructor(private readonly stamp: PollStamp) {}

  add(meter: MeterInfo, volume: number, resourceId: string, owner: { user_id: string | null; project_id: string | null }, metadata: Record<string, unknown>): void {
    if (!Number.isFinite(volume)) {
      this.skipped += 1;
      return;
    }
    const { stamp } = this;
    this.samples.push(
      signSample(
        {
          // Same meter, resource and poll instant: same id, as a redelivered notification keeps its samples' ids.
          id: sampleId(stamp.messageId, meter.name, resourceId),
          name: meter.name,
          type: meter.type,
          unit: meter.unit,
          volume,
          user_id: owner.user_id,
          project_id: owner.project_id,
          resource_id: resourceId,
          timestamp: stamp.timestamp,
          resource_metadata: metadata,
          source: stamp.source,
          message_id: stamp.messageId,
        },
        stamp.secret,
      ),
    );
  }

  /** One running instance: its own meters, then per disk, then per vNIC. */
  addInstance(instance: InstanceInspection): void {
    const owner = { user_id: instance.user_id || null, project_id: instance.project_id || null };
    for (const meter of INSTANCE_METERS) {
      const extra = meter.name === 'cpu' ? { cpu_number: instance.cpu.number } : {};
      this.add(meter, meter.read(instance), instance.instance_id, owner, { ...instanceMetadata(instance), ...extra });
    }
    for (const disk of instance.disks) {
      for (const meter of DISK_METERS) this.add(meter, meter.read(disk), diskResourceId(instance, disk), owner, { ...instanceMetadata(instance), disk_name: disk.device });
    }
    for (const vnic of instance.interfaces) {
      // As in Ceilometer, the vNIC's own `name` (its tap) replaces the instance's in the metadata.
      const metadata = { ...instanceMetadata(instance), name: vnic.name, mac: vnic.mac, fref: vnic.fref, vnic_name: vnic.fref ?? vnic.name };
      for (const meter of VNIC_METERS) this.add(meter, meter.read(vnic), vnicResourceId(instance, vnic), owner, metadata);
    }
  }

  /** The host: nova-compute's CPU monitor metrics, and the hardware meters when asked for. */
  addHost(stats: HostStats, options: { hardware: boolean }): void {
    const none = { user_id: null, project_id: null };
    const node = computeNodeResourceId(stats);
    for (const metric of stats.compute_node.metrics) {
      // Metrics the monitor may add later (numa.*) have no meter in Ceilometer either.
      const meter = NODE_METERS.get(metric.name);
      if (meter) this.add(meter, metric.value, node, none, { host: stats.host, nodename: stats.compute_node.nodename, source: metric.source });
    }
    if (!options.hardware) return;
    for (const meter of HARDWARE_METERS) this.add(meter, meter.read(stats), stats.host, none, { host: stats.host });
  }
}

/**
 * Ceilometer's instance metadata (compute/pollsters/util.py) as far as the inspection
 * carries it. `host` is the compute host's name, not Nova's opaque per-project hostId,
 * so it matches what the notification meters and the resource index call `host`;
 * `flavor_id`/`flavor_name` are the flat keys the notification meters use.
 */
function instanceMetadata(instance: InstanceInspection): Record<string, unknown> {
  const { flavor } = instance;
  return {
    display_name: instance.name,
    name: instanceName(instance),
    instance_id: instance.instance_id,
    instance_type: flavor.name,
    host: instance.host,
    instance_host: instance.host,
    flavor: { id: flavor.id, name: flavor.name, vcpus: flavor.vcpus, ram: flavor.ram, disk: flavor.disk, ephemeral: flavor.ephemeral },
    flavor_id: flavor.id,
    flavor_name: flavor.name,
    vcpus: flavor.vcpus,
    memory_mb: flavor.ram,
    disk_gb: flavor.disk,
    ephemeral_gb: flavor.ephemeral,
  };
}
