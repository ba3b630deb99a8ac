/**
 * What the hypervisors host, as the simulator needs it: compute hosts, and the domains
 * (one per run of a guest on a host, from its start to its stop) that Nova's records imply.
 * The simulator reads only this interface; `novaInventory` builds it from NovaService.
 */
import type { StateDatabase } from '../../core/index.ts';
import { listHypervisors } from '../nova/hypervisors.ts';
import { POWER_STATE, type Flavor, type Server } from '../nova/service.ts';

export interface ComputeHost {
  name: string;
  availabilityZone: string;
  vcpus: number;
  memoryMb: number;
  diskGb: number;
  /** nova-compute's service state and status (`up`/`down`, `enabled`/`disabled`). */
  state: string;
  status: string;
}

export interface GuestFlavor {
  id: string;
  name: string;
  vcpus: number;
  ramMb: number;
  diskGb: number;
  ephemeralGb: number;
}

/** A Neutron port plugged into the guest: its tap device is named after the port id. */
export interface GuestPort {
  id: string;
  macAddress: string;
}

/** One run of a guest on a host: a libvirt domain from its start to its stop. */
export interface Domain {
  instanceId: string;
  name: string;
  projectId: string;
  userId: string;
  host: string;
  flavor: GuestFlavor;
  /** When the instance was first launched: its disks are as old as that. */
  launchedAtMs: number;
  /** When this run started (boot, power-on, reboot): cumulative guest counters count from here. */
  startedAtMs: number;
  /** When this run ended; null while the domain runs. */
  endedAtMs: number | null;
  /** The guest's ports; empty means one interface named after the instance id. */
  ports: readonly GuestPort[];
}

export interface ComputeInventory {
  hosts(): ComputeHost[];
  /**
   * The domains that run or ran on the host, ordered by start: ended ones too (the host's
   * own counters keep what departed guests used), except those that ended before `sinceMs`.
   */
  domains(host: string, sinceMs?: number): Domain[];
}

/** The part of NovaService the adapter reads (the same tables its hypervisor and usage views read). */
export interface NovaRecords {
  readonly database: StateDatabase;
  flavorOf(server: Server): Flavor;
}

export interface NovaInventoryOptions {
  /**
   * The time of the server's last start (build, power-on, reboot, finished resize) when
   * Nova records it; `launched_at` is used otherwise, so power cycles do not restart the
   * guest's counters until Nova records them.
   */
  lastStartedAt?: (server: Server) => string | null;
  /** The server's ports (from Neutron); without it each guest gets one interface named after its id. */
  portsOf?: (serverId: string) => readonly GuestPort[];
}

/** vm_states in which a RUNNING power state means the domain runs (not building, stopped, shelved, errored). */
const LIVE_VM_STATES: ReadonlySet<string> = new Set(['active', 'resized', 'rescued']);

type ServerRow = Omit<Server, 'metadata' | 'fault'> & { metadata: string; fault: string | null; deleted: number };

/** Whether libvirt would have the server's domain running. */
export function domainRuns(server: Pick<Server, 'power_state' | 'vm_state' | 'host'>): boolean {
  return server.host !== null && server.power_state === POWER_STATE.RUNNING && LIVE_VM_STATES.has(server.vm_state);
}

/**
 * The inventory from Nova's records. Nova keeps only each server's current state, so each
 * server yields one domain: from its last start (`lastStartedAt`, else `launched_at`) to
 * now while it runs, or to the time it was last updated (stopped) or terminated (deleted).
 */
export function novaInventory(nova: NovaRecords, options: NovaInventoryOptions = {}): ComputeInventory {
  // Deleted servers stay in the table for ever: only those terminated within the span are read.
  const select = nova.database.prepare('SELECT * FROM servers WHERE host = ? AND launched_at IS NOT NULL AND (deleted = 0 OR terminated_at >= ?) ORDER BY launched_at, id');
  return {
    hosts() {
      return listHypervisors(nova.database).map((h) => ({
        name: h.host,
        availabilityZone: h.availability_zone,
        vcpus: h.vcpus,
        memoryMb: h.memory_mb,
        diskGb: h.local_gb,
        state: h.state,
        status: h.status,
      }));
    },
    domains(host, sinceMs = Number.NEGATIVE_INFINITY) {
      const since = Number.isFinite(sinceMs) ? new Date(sinceMs).toISOString() : '';
      const domains: Domain[] = [];
      for (const row of select.all(host, since) as ServerRow[]) {
        const { deleted, ...fields } = row;
        const server: Server = { ...fields, metadata: JSON.parse(row.metadata) as Record<string, string>, fault: row.fault ? (JSON.parse(row.fault) as Server['fault']) : null };
        const launchedAtMs = Date.parse(row.launched_at as string);
        const startedAtMs = Math.max(launchedAtMs, Date.parse(options.lastStartedAt?.(server) ?? (row.launched_at as string)));
        const runs = deleted === 0 && domainRuns(server);
        const endedAtMs = runs ? null : Date.parse(server.terminated_at ?? server.updated_at);
        if (endedAtMs !== null && (endedAtMs < startedAtMs || endedAtMs < sinceMs)) continue;
        const flavor = nova.flavorOf(server);
        domains.push({
          instanceId: server.id,
          name: server.name,
          projectId: server.project_id,
          userId: server.user_id,
          host,
          flavor: { id: flavor.id, name: flavor.name, vcpus: flavor.vcpus, ramMb: flavor.ram_mb, diskGb: flavor.disk_gb, ephemeralGb: flavor.ephemeral_gb },
          launchedAtMs,
          startedAtMs,
          endedAtMs,
          ports: runs ? (options.portsOf?.(server.id) ?? []) : [],
        });
      }
      return domains.sort((a, b) => a.startedAtMs - b.startedAtMs || a.instanceId.localeCompare(b.instanceId));
    },
  };
}
