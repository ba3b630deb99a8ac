/**
 * One domain's simulated activity: a seeded profile (how busy, how diurnal, how much I/O)
 * and the closed-form integrals its cumulative counters are made of. Every counter is a
 * constant rate times the integral of the domain's activity since its start (plus a boot
 * read burst), so it is a pure function of the time: polls at any instants give deltas
 * that add up exactly.
 */
import {
  DISK_FILL_DAYS,
  GUEST_BOOT_READ_MIB,
  GUEST_BOOT_READ_TAU_MS,
  GUEST_DIURNAL_SHARE_RANGE,
  GUEST_MEMORY_CEILING,
  GUEST_MEMORY_WARMUP_MS,
  GUEST_RIPPLE_FRACTION,
  GUEST_RIPPLE_PERIOD_MIN,
  GUEST_UTILISATION_RANGE,
  QEMU_OVERHEAD_MB,
  QEMU_OVERHEAD_SHARE,
} from './config.ts';
import type { DiskReading, InterfaceReading } from '../../core/index.ts';
import type { Domain, GuestPort } from './inventory.ts';

export type { DiskReading, InterfaceReading } from '../../core/index.ts';
import { DAY_MS, LoadCurve } from './load-curve.ts';
import type { SeededHash } from './seeded-hash.ts';

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;
/** OpenStack's default base MAC (neutron `base_mac`): derived MACs look like Neutron's. */
const MAC_PREFIX = 'fa:16:3e';

/** A block device's seeded I/O profile (rates at activity 1). */
interface DiskProfile {
  device: string;
  capacityBytes: number;
  readBytesPerS: number;
  writeBytesPerS: number;
  readRequestBytes: number;
  writeRequestBytes: number;
  readLatencyNs: number;
  writeLatencyNs: number;
  bootReadBytes: number;
  /** The qcow2's allocated share: from the image's share towards a plateau. */
  fillFrom: number;
  fillTo: number;
  fillTauMs: number;
}

interface InterfaceProfile {
  name: string;
  mac: string;
  rxBytesPerS: number;
  txBytesPerS: number;
  rxPacketBytes: number;
  txPacketBytes: number;
}

/** The tap device nova's libvirt driver creates for a port: `tap` + the port id's first 11 characters. */
export const tapName = (id: string): string => `tap${id.slice(0, 11)}`;

/** A stable MAC from an id, in Neutron's range. */
export function derivedMac(hash: SeededHash, id: string): string {
  const octets = [0, 1, 2].map((i) => Math.floor(hash.unit('mac', id, String(i)) * 256).toString(16).padStart(2, '0'));
  return `${MAC_PREFIX}:${octets.join(':')}`;
}

export class Workload {
  /** The vCPUs' busy share at activity 1 (the weekday peak without ripple). */
  readonly utilisation: number;
  private readonly diurnalShare: number;
  private readonly rippleAmplitude: number;
  private readonly ripplePeriodMs: number;
  private readonly ripplePhase: number;
  private readonly memoryBase: number;
  private readonly memorySwing: number;
  private readonly residentSlack: number;
  private readonly disks: DiskProfile[];
  private readonly interfaces: InterfaceProfile[];

  constructor(
    readonly domain: Domain,
    private readonly curve: LoadCurve,
    hash: SeededHash,
  ) {
    const id = domain.instanceId;
    this.utilisation = hash.between(GUEST_UTILISATION_RANGE, 'cpu', id);
    this.diurnalShare = hash.between(GUEST_DIURNAL_SHARE_RANGE, 'diurnal', id);
    // Sized from the lowest activity the curve allows, so activity never reaches zero.
    this.rippleAmplitude = GUEST_RIPPLE_FRACTION * (1 - this.diurnalShare + this.diurnalShare * LoadCurve.MIN);
    this.ripplePeriodMs = hash.between(GUEST_RIPPLE_PERIOD_MIN, 'ripple-period', id) * 60_000;
    this.ripplePhase = hash.unit('ripple-phase', id) * 2 * Math.PI;
    this.memoryBase = hash.between([0.2, 0.55], 'memory', id);
    this.memorySwing = hash.between([0.05, 0.3], 'memory-swing', id);
    this.residentSlack = hash.between([0.1, 0.4], 'resident', id);

    const { flavor } = domain;
    const disk = (device: string, capacityGb: number, share: number): DiskProfile => ({
      device,
      capacityBytes: capacityGb * GIB,
      readBytesPerS: share * hash.logBetween([10 * KIB, 2 * MIB], 'read', id, device),
      writeBytesPerS: share * hash.logBetween([20 * KIB, 4 * MIB], 'write', id, device),
      readRequestBytes: hash.pick([16, 32, 64, 128], 'read-size', id, device) * KIB,
      writeRequestBytes: hash.pick([4, 8, 16, 32, 64], 'write-size', id, device) * KIB,
      readLatencyNs: hash.logBetween([100_000, 1_500_000], 'read-latency', id, device),
      writeLatencyNs: hash.logBetween([200_000, 2_000_000], 'write-latency', id, device),
      bootReadBytes: device === 'vda' ? hash.between(GUEST_BOOT_READ_MIB, 'boot-read', id) * MIB : 0,
      fillFrom: hash.between([0.05, 0.15], 'fill-from', id, device),
      fillTo: hash.between([0.3, 0.85], 'fill-to', id, device),
      fillTauMs: hash.between(DISK_FILL_DAYS, 'fill-days', id, device) * DAY_MS,
    });
    // The root disk is vda; an ephemeral disk (when the flavor has one) is vdb, busier with scratch writes than reads.
    this.disks = [disk('vda', flavor.diskGb, 1), ...(flavor.ephemeralGb > 0 ? [disk('vdb', flavor.ephemeralGb, 0.5)] : [])];

    const ports: readonly GuestPort[] = domain.ports.length > 0 ? domain.ports : [{ id, macAddress: derivedMac(hash, id) }];
    this.interfaces = ports.map((port, i) => ({
      name: tapName(port.id),
      mac: port.macAddress,
      // The first port carries most of the traffic (the others are management or storage networks).
      rxBytesPerS: (i === 0 ? 1 : 0.2) * hash.logBetween([2 * KIB, 1 * MIB], 'rx', id, port.id),
      txBytesPerS: (i === 0 ? 1 : 0.2) * hash.logBetween([1 * KIB, 2 * MIB], 'tx', id, port.id),
      rxPacketBytes: hash.between([200, 1400], 'rx-packet', id, port.id),
      txPacketBytes: hash.between([300, 1400], 'tx-packet', id, port.id),
    }));
  }

  /** Whether the domain runs at the instant. */
  runsAt(tMs: number): boolean {
    return this.domain.startedAtMs <= tMs && (this.domain.endedAtMs === null || tMs < this.domain.endedAtMs);
  }

  /** The activity factor at an instant: flat part + diurnal part + ripple; in (0, 1.1]. */
  activity(tMs: number): number {
    const curve = this.curve.at(tMs);
    return 1 - this.diurnalShare + this.diurnalShare * curve + this.rippleAmplitude * Math.sin(this.rippleAngle(tMs));
  }

  /** The integral of the activity over [aMs, bMs] (activity x ms), in closed form. */
  activityIntegral(aMs: number, bMs: number): number {
    if (bMs <= aMs) return 0;
    const flat = (1 - this.diurnalShare) * (bMs - aMs);
    const diurnal = this.diurnalShare * this.curve.integral(aMs, bMs);
    const ripple = ((this.rippleAmplitude * this.ripplePeriodMs) / (2 * Math.PI)) * (Math.cos(this.rippleAngle(aMs)) - Math.cos(this.rippleAngle(bMs)));
    return flat + diurnal + ripple;
  }

  /** An upper bound of the activity at any instant. */
  get maxActivity(): number {
    return 1 - this.diurnalShare + this.diurnalShare * LoadCurve.MAX + this.rippleAmplitude;
  }

  /** CPUs busy at the instant (vCPUs x busy share). */
  cpuRate(tMs: number): number {
    return this.domain.flavor.vcpus * this.utilisation * this.activity(tMs);
  }

  /** CPU-ms used over [aMs, bMs]. */
  cpuIntegralMs(aMs: number, bMs: number): number {
    return this.domain.flavor.vcpus * this.utilisation * this.activityIntegral(aMs, bMs);
  }

  /** An upper bound of `cpuRate`. */
  get maxCpuRate(): number {
    return this.domain.flavor.vcpus * this.utilisation * this.maxActivity;
  }

  /** Cumulative CPU time (ns) since the domain started: libvirt's cpu_time. */
  cpuTimeNs(tMs: number): number {
    return Math.round(this.cpuIntegralMs(this.domain.startedAtMs, tMs) * 1e6);
  }

  /** Guest memory in use (MB): libvirt's available - unused, warming up after a start. */
  memoryUsageMb(tMs: number): number {
    const ram = this.domain.flavor.ramMb;
    const warm = 1 - 0.35 * Math.exp(-(tMs - this.domain.startedAtMs) / GUEST_MEMORY_WARMUP_MS);
    const share = (this.memoryBase + (this.memorySwing * this.activity(tMs)) / this.maxActivity) * warm;
    return Math.round(ram * Math.min(GUEST_MEMORY_CEILING, share));
  }

  /** qemu's resident set (MB) on the host: what the guest uses, pages it touched and freed, and qemu itself. */
  memoryResidentMb(tMs: number): number {
    const ram = this.domain.flavor.ramMb;
    const usage = this.memoryUsageMb(tMs);
    return Math.round(usage + (ram - usage) * this.residentSlack + QEMU_OVERHEAD_MB + ram * QEMU_OVERHEAD_SHARE);
  }

  diskReadings(tMs: number): DiskReading[] {
    const since = this.domain.startedAtMs;
    const activitySeconds = this.activityIntegral(since, tMs) / 1000;
    const ageMs = Math.max(0, tMs - this.domain.launchedAtMs);
    return this.disks.map((d) => {
      const bootRead = d.bootReadBytes * (1 - Math.exp(-(tMs - since) / GUEST_BOOT_READ_TAU_MS));
      const readBytes = Math.round(d.readBytesPerS * activitySeconds + bootRead);
      const writeBytes = Math.round(d.writeBytesPerS * activitySeconds);
      const readRequests = Math.floor(readBytes / d.readRequestBytes);
      const writeRequests = Math.floor(writeBytes / d.writeRequestBytes);
      // The image's qcow2 keeps what the guest wrote: it fills with the instance's age, not the run's.
      const allocation = Math.round(d.capacityBytes * (d.fillFrom + (d.fillTo - d.fillFrom) * (1 - Math.exp(-ageMs / d.fillTauMs))));
      return {
        device: d.device,
        read_bytes: readBytes,
        read_requests: readRequests,
        write_bytes: writeBytes,
        write_requests: writeRequests,
        errors: 0,
        rd_total_times: Math.round(readRequests * d.readLatencyNs),
        wr_total_times: Math.round(writeRequests * d.writeLatencyNs),
        capacity: d.capacityBytes,
        allocation,
        // qcow2 metadata (L2 tables, refcounts) sits on top of the allocated clusters.
        physical: allocation + Math.ceil(d.capacityBytes / 8192),
      };
    });
  }

  interfaceReadings(tMs: number): InterfaceReading[] {
    const activitySeconds = this.activityIntegral(this.domain.startedAtMs, tMs) / 1000;
    return this.interfaces.map((n) => {
      const rxBytes = Math.round(n.rxBytesPerS * activitySeconds);
      const txBytes = Math.round(n.txBytesPerS * activitySeconds);
      return {
        name: n.name,
        mac: n.mac,
        fref: null,
        rx_bytes: rxBytes,
        tx_bytes: txBytes,
        rx_packets: Math.floor(rxBytes / n.rxPacketBytes),
        tx_packets: Math.floor(txBytes / n.txPacketBytes),
        rx_drop: 0,
        tx_drop: 0,
        rx_errors: 0,
        tx_errors: 0,
      };
    });
  }

  private rippleAngle(tMs: number): number {
    // The phase from t mod period keeps the angle small, so sin/cos stay precise at epoch-scale times.
    const p = this.ripplePeriodMs;
    return (2 * Math.PI * (((tMs % p) + p) % p)) / p + this.ripplePhase;
  }
}
