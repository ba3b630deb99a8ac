/**
 * The simulated hypervisors: what libvirt on each compute host would tell Ceilometer's
 * compute pollsters about the domains it runs, and what the host itself reports (SNMP-style
 * hardware stats, nova-compute's CPU monitor), consistent with the servers Nova hosts.
 * Stateless: every reading is a pure function of the seed, Nova's records and the time.
 */
import type { Clock, HostInspection, HostStats, HostSummary, InstanceInspection, MonitorMetric } from '../../core/index.ts';
import { notFound } from '../errors.ts';
import { CPU_PERCENT_WINDOW_MS, HOST_MAINTENANCE_INTERVAL_MS, LOAD_WINDOWS_MS, type HypervisorSettings } from './config.ts';
import { deliveredCpuMs, demandedCpuMs, type CpuDemand } from './host-cpu.ts';
import type { ComputeHost, ComputeInventory } from './inventory.ts';
import { LoadCurve } from './load-curve.ts';
import { SeededHash } from './seeded-hash.ts';
import { Workload, type DiskReading, type InterfaceReading } from './workload.ts';

export type { HostInspection, HostStats, HostSummary, InstanceInspection, MonitorMetric } from '../../core/index.ts';

/** libvirt's VIR_DOMAIN_RUNNING, which nova maps to power_state RUNNING (1). */
const RUNNING = 1;
/** The `source` nova-compute's CPU monitor puts on its metrics (the compute driver's name). */
export const MONITOR_SOURCE = 'libvirt.LibvirtDriver';
/** CPU frequencies (MHz) a host may report; one is drawn per host. */
const FREQUENCIES_MHZ = [2000, 2100, 2200, 2300, 2400, 2500, 2600, 2800, 3000, 3200, 3400];

const iso = (ms: number) => new Date(ms).toISOString();

export class HypervisorSimulator {
  private readonly hash: SeededHash;
  private readonly curve: LoadCurve;

  constructor(
    private readonly inventory: ComputeInventory,
    private readonly clock: Clock,
    readonly settings: HypervisorSettings,
  ) {
    this.hash = new SeededHash(settings.seed);
    this.curve = new LoadCurve(settings.utcOffsetMinutes);
  }

  /** The compute hosts with how many domains each runs now. */
  hosts(atMs: number = this.clock.nowMs()): HostSummary[] {
    return this.inventory.hosts().map((h) => ({
      name: h.name,
      availability_zone: h.availabilityZone,
      state: h.state,
      status: h.status,
      vcpus: h.vcpus,
      memory_mb: h.memoryMb,
      local_gb: h.diskGb,
      running_instances: this.workloads(h.name, atMs).filter((w) => w.runsAt(atMs)).length,
      booted_at: iso(this.bootedAt(h.name, atMs)),
    }));
  }

  /** The inspector's view of every domain running on the host at the instant (stopped ones are absent, as in libvirt). */
  inspectHost(host: string, atMs: number = this.clock.nowMs()): HostInspection {
    this.host(host);
    const instances = this.workloads(host, atMs)
      .filter((w) => w.runsAt(atMs))
      .map((w) => this.inspect(w, atMs));
    return { host, timestamp: iso(atMs), instances };
  }

  /** The host's own readings: hardware stats, and nova-compute's CPU monitor metrics. */
  hostStats(host: string, atMs: number = this.clock.nowMs()): HostStats {
    const spec = this.host(host);
    const bootedAtMs = this.bootedAt(host, atMs);
    // What ran since the boot counts in the CPU times; what ran in the longest load window, in the load.
    const workloads = this.workloads(host, Math.min(bootedAtMs, atMs - LOAD_WINDOWS_MS['15min']));
    const running = workloads.filter((w) => w.runsAt(atMs));
    const cores = spec.vcpus;
    const overheadCpus = (cores * this.settings.hostOverheadCpuPercent) / 100;
    const demands: CpuDemand[] = workloads.map((w) => ({
      startMs: w.domain.startedAtMs,
      endMs: w.domain.endedAtMs,
      maxRate: w.maxCpuRate,
      integral: (a, b) => w.cpuIntegralMs(a, b),
    }));

    const instancesUtil = (100 * running.reduce((sum, w) => sum + w.cpuRate(atMs), 0)) / cores;
    const overheadUtil = this.settings.hostOverheadCpuPercent;
    const load = (windowMs: number) => demandedCpuMs(demands, overheadCpus, atMs - windowMs, atMs) / windowMs;

    // Instances' memory is the sum of the same rounded figures the inspector reports, so the two views add up.
    const instancesMb = running.reduce((sum, w) => sum + w.memoryResidentMb(atMs), 0);
    const wantedMb = this.settings.hostOverheadMemoryMb + instancesMb;
    const usedMb = Math.min(spec.memoryMb, wantedMb);

    return {
      host,
      timestamp: iso(atMs),
      booted_at: iso(bootedAtMs),
      hardware: {
        running_instances: running.length,
        cpu: {
          count: cores,
          util: Math.min(100, instancesUtil + overheadUtil),
          instances_util: instancesUtil,
          overhead_util: overheadUtil,
          load: { '1min': load(LOAD_WINDOWS_MS['1min']), '5min': load(LOAD_WINDOWS_MS['5min']), '15min': load(LOAD_WINDOWS_MS['15min']) },
        },
        memory: {
          total_mb: spec.memoryMb,
          used_mb: usedMb,
          free_mb: spec.memoryMb - usedMb,
          instances_mb: instancesMb,
          overhead_mb: this.settings.hostOverheadMemoryMb,
          // Beyond the host's RAM, the kernel would swap the excess out.
          swap_used_mb: wantedMb - usedMb,
        },
      },
      compute_node: { nodename: host, metrics: this.monitorMetrics(host, cores, overheadCpus, demands, bootedAtMs, atMs) },
    };
  }

  /**
   * nova's virt_driver CPU monitor: cumulative user/kernel/idle/iowait times (ns) since the
   * host booted, as libvirt's getCPUStats gives them, and the percentages over the last
   * window computed from their deltas the way the monitor does (used = user + kernel + iowait).
   */
  private monitorMetrics(host: string, cores: number, overheadCpus: number, demands: readonly CpuDemand[], bootedAtMs: number, atMs: number): MonitorMetric[] {
    const kernelShare = this.hash.between([0.12, 0.22], 'kernel-share', host);
    const iowaitShare = this.hash.between([0.002, 0.01], 'iowait-share', host);
    const times = (tMs: number) => {
      const busy = deliveredCpuMs(demands, overheadCpus, cores, bootedAtMs, tMs);
      const idleAll = cores * Math.max(0, tMs - bootedAtMs) - busy;
      const ns = (ms: number) => Math.round(ms * 1e6);
      return { user: ns(busy * (1 - kernelShare)), kernel: ns(busy * kernelShare), idle: ns(idleAll * (1 - iowaitShare)), iowait: ns(idleAll * iowaitShare) };
    };
    const now = times(atMs);
    const before = times(Math.max(bootedAtMs, atMs - CPU_PERCENT_WINDOW_MS));
    const delta = { user: now.user - before.user, kernel: now.kernel - before.kernel, idle: now.idle - before.idle, iowait: now.iowait - before.iowait };
    const total = delta.user + delta.kernel + delta.idle + delta.iowait;
    const percent = (part: number) => (total > 0 ? (100 * part) / total : 0);
    const timestamp = iso(atMs);
    const metric = (name: string, value: number): MonitorMetric => ({ name, value, timestamp, source: MONITOR_SOURCE });
    return [
      metric('cpu.frequency', this.hash.pick(FREQUENCIES_MHZ, 'frequency', host)),
      metric('cpu.user.time', now.user),
      metric('cpu.kernel.time', now.kernel),
      metric('cpu.idle.time', now.idle),
      metric('cpu.iowait.time', now.iowait),
      metric('cpu.user.percent', percent(delta.user)),
      metric('cpu.kernel.percent', percent(delta.kernel)),
      metric('cpu.idle.percent', percent(delta.idle)),
      metric('cpu.iowait.percent', percent(delta.iowait)),
      metric('cpu.percent', percent(delta.user + delta.kernel + delta.iowait)),
    ];
  }

  private inspect(w: Workload, atMs: number): InstanceInspection {
    const { domain } = w;
    return {
      instance_id: domain.instanceId,
      name: domain.name,
      project_id: domain.projectId,
      user_id: domain.userId,
      host: domain.host,
      flavor: { id: domain.flavor.id, name: domain.flavor.name, vcpus: domain.flavor.vcpus, ram: domain.flavor.ramMb, disk: domain.flavor.diskGb, ephemeral: domain.flavor.ephemeralGb },
      power_state: RUNNING,
      launched_at: iso(domain.launchedAtMs),
      started_at: iso(domain.startedAtMs),
      cpu: { number: domain.flavor.vcpus, time: w.cpuTimeNs(atMs), util: 100 * w.utilisation * w.activity(atMs) },
      memory: { available: domain.flavor.ramMb, usage: w.memoryUsageMb(atMs), resident: w.memoryResidentMb(atMs), swap_in: 0, swap_out: 0 },
      disks: w.diskReadings(atMs),
      interfaces: w.interfaceReadings(atMs),
    };
  }

  /** Hosts reboot for maintenance on a fixed interval at a seeded phase, so host counters have a bounded, reproducible uptime. */
  private bootedAt(host: string, atMs: number): number {
    // Whole seconds, so booted_at (ISO, ms) states the boot exactly.
    const phase = Math.floor((this.hash.unit('boot', host) * HOST_MAINTENANCE_INTERVAL_MS) / 1000) * 1000;
    return Math.floor((atMs - phase) / HOST_MAINTENANCE_INTERVAL_MS) * HOST_MAINTENANCE_INTERVAL_MS + phase;
  }

  private host(name: string): ComputeHost {
    const spec = this.inventory.hosts().find((h) => h.name === name);
    if (!spec) throw notFound(`Compute host ${name} could not be found.`);
    return spec;
  }

  private workloads(host: string, sinceMs: number): Workload[] {
    return this.inventory.domains(host, sinceMs).map((d) => new Workload(d, this.curve, this.hash));
  }
}
