import { randomUUID } from 'node:crypto';
import type { Clock, Logger, StateDatabase } from '../../core/index.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import { Keypairs } from './keypairs.ts';
import { Quotas } from './quotas.ts';
import type { Notifier, RequestContext } from '../notifier.ts';

export interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  ram_mb: number;
  disk_gb: number;
  ephemeral_gb: number;
  swap_mb: number;
  rxtx_factor: number;
  is_public: boolean;
  description: string | null;
  extra_specs: Record<string, string>;
}

export interface Server {
  id: string;
  name: string;
  project_id: string;
  user_id: string;
  flavor_id: string;
  image_ref: string;
  host: string | null;
  availability_zone: string | null;
  vm_state: string;
  task_state: string | null;
  power_state: number;
  metadata: Record<string, string>;
  fault: { code: number; message: string; created: string } | null;
  reservation_id: string;
  created_at: string;
  updated_at: string;
  launched_at: string | null;
  terminated_at: string | null;
  deleted_at: string | null;
  /** The flavor before a resize, until it is confirmed or reverted. */
  old_flavor_id: string | null;
  key_name: string | null;
  last_started_at: string | null;
  /**
   * The image's metadata copied at boot, as Nova keeps it in system_metadata (`image_*`):
   * min_ram, min_disk, disk_format, container_format and the image's properties (os_distro,
   * os_type, ...), all as text. Later changes to the image do not reach the server.
   */
  image_meta: Record<string, string>;
}

/** Python's str() of an aware UTC datetime, as nova's legacy payloads carry times: `2026-01-01 10:00:00.123000+00:00`. */
export function pythonUtc(iso: string | null): string {
  if (!iso) return '';
  const date = new Date(iso);
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}.${String(date.getUTCMilliseconds()).padStart(3, '0')}000+00:00`;
}

/**
 * What Nova's scheduler asks Placement (cloud/placement, wired in by the composition):
 * which hosts can take the resources, and the claim of them for an instance.
 */
export interface ComputePlacement {
  /** Host names that can take these amounts now. */
  candidateHosts(resources: Readonly<Record<string, number>>): string[];
  /** Claims the resources on the host for the instance, replacing what it held; throws when they no longer fit. */
  claim(consumerId: string, host: string, resources: Readonly<Record<string, number>>, projectId: string, userId: string): void;
  release(consumerId: string): void;
}

/** A server's address as Nova shows it under `addresses[network name]`. */
export interface ServerAddress {
  version: 4 | 6;
  addr: string;
  type: 'fixed' | 'floating';
  mac: string;
}

/** What Nova asks Neutron (cloud/neutron, wired in by the composition): the server's ports. */
export interface ComputeNetworking {
  /** Resolves a requested network (id) for the project; throws a 400-worthy error when unknown. */
  checkNetwork(networkId: string, projectId: string): void;
  /** The network a server gets when none is requested (a single usable one), or null. */
  defaultNetwork(projectId: string): string | null;
  /** Creates the server's port on each network. */
  plug(serverId: string, projectId: string, host: string, networkIds: readonly string[], context: RequestContext): Promise<void>;
  unplug(serverId: string, context: RequestContext): Promise<void>;
  addresses(serverId: string): Record<string, ServerAddress[]>;
}

/** What Nova asks Cinder (cloud/cinder, wired in by the composition): a server's volumes. */
export interface ComputeVolumes {
  /** Reserves and attaches the volume; `device` is the next free one when not given. */
  attach(server: Server, volumeId: string, device: string, context: RequestContext): Promise<void>;
  detach(server: Server, volumeId: string, context: RequestContext): Promise<void>;
  attachments(serverId: string): Array<{ volumeId: string; device: string | null; attachmentId: string }>;
}

/** What a flavor asks of Placement; zero amounts are left out, as Nova does (a disk-less flavor claims no DISK_GB). */
export const flavorResources = (flavor: Pick<Flavor, 'vcpus' | 'ram_mb' | 'disk_gb' | 'ephemeral_gb' | 'swap_mb'>): Record<string, number> =>
  Object.fromEntries(
    Object.entries({
      VCPU: flavor.vcpus,
      MEMORY_MB: flavor.ram_mb,
      DISK_GB: flavor.disk_gb + flavor.ephemeral_gb + Math.ceil(flavor.swap_mb / 1024),
    }).filter(([, amount]) => amount > 0),
  );

/** Nova's power states (nova/compute/power_state.py). */
export const POWER_STATE = { NOSTATE: 0, RUNNING: 1, SHUTDOWN: 4 } as const;

/** The API's `status` from vm_state (nova/api/openstack/common.py's mapping, the states we model). */
export function serverStatus(server: Pick<Server, 'vm_state' | 'task_state'>): string {
  switch (server.vm_state) {
    case 'building':
      return 'BUILD';
    case 'active':
      if (server.task_state?.startsWith('resize_')) return 'RESIZE';
      if (server.task_state === 'rebooting' || server.task_state === 'reboot_started') return 'REBOOT';
      return 'ACTIVE';
    case 'stopped':
      return server.task_state?.startsWith('resize_') ? 'RESIZE' : 'SHUTOFF';
    case 'resized':
      return 'VERIFY_RESIZE';
    case 'error':
      return 'ERROR';
    case 'deleted':
      return 'DELETED';
    default:
      return 'UNKNOWN';
  }
}

interface ServerRow extends Omit<Server, 'metadata' | 'fault' | 'image_meta'> {
  metadata: string;
  fault: string | null;
  image_meta: string;
}

const toServer = (row: ServerRow): Server => ({
  ...row,
  metadata: JSON.parse(row.metadata) as Record<string, string>,
  fault: row.fault ? (JSON.parse(row.fault) as Server['fault']) : null,
  image_meta: JSON.parse(row.image_meta) as Record<string, string>,
});

/** Where Nova reads an image's metadata at boot (Glance, wired in by the composition). */
export interface ComputeImages {
  /** The image's metadata as Nova copies it (all values text), or null when the project cannot see it. */
  imageMeta(imageId: string, projectId: string): Record<string, string> | null;
}

interface FlavorRow extends Omit<Flavor, 'is_public' | 'extra_specs'> {
  is_public: number;
  extra_specs: string;
}

const toFlavor = (row: FlavorRow): Flavor => ({ ...row, is_public: row.is_public === 1, extra_specs: JSON.parse(row.extra_specs) as Record<string, string> });

/**
 * Nova's compute API logic: flavors, servers with their state machine, a filter
 * scheduler over the compute hosts, and the legacy (unversioned) notifications the real
 * nova-compute emits, which Ceilometer's meters.yaml reads.
 */
export class NovaService {
  private readonly pending = new Set<Promise<void>>();
  readonly quotas: Quotas;
  readonly keypairs: Keypairs;

  /** The control plane's clock (the simulator warps it). */
  nowMs(): number {
    return this.clock.nowMs();
  }

  /** Now, as the ISO text the server rows keep. */
  now(): string {
    return this.clock.now().toISOString();
  }

  /** For the read-only views (hypervisors, usage) that query the same tables. */
  get database(): StateDatabase {
    return this.db;
  }

  constructor(
    private readonly db: StateDatabase,
    private readonly notifier: Notifier,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly buildDelayMs: number,
    private readonly projectName: (projectId: string) => string | null,
    private readonly placement: ComputePlacement | null = null,
    private readonly networking: ComputeNetworking | null = null,
    private readonly volumes: ComputeVolumes | null = null,
    private readonly images: ComputeImages | null = null,
  ) {
    this.quotas = new Quotas(db);
    this.keypairs = new Keypairs(db, clock);
  }

  setExtraSpecs(flavorId: string, specs: Record<string, string>): Record<string, string> {
    const flavor = this.getFlavor(flavorId);
    const merged = { ...flavor.extra_specs, ...Object.fromEntries(Object.entries(specs).map(([k, v]) => [k, String(v)])) };
    this.db.prepare('UPDATE flavors SET extra_specs = ? WHERE id = ?').run(JSON.stringify(merged), flavorId);
    return merged;
  }

  deleteExtraSpec(flavorId: string, key: string): void {
    const flavor = this.getFlavor(flavorId);
    if (!(key in flavor.extra_specs)) throw notFound(`Flavor ${flavorId} has no extra specs with key ${key}.`);
    const { [key]: _removed, ...rest } = flavor.extra_specs;
    this.db.prepare('UPDATE flavors SET extra_specs = ? WHERE id = ?').run(JSON.stringify(rest), flavorId);
  }

  /**
   * The periodic usage audit (`compute.instance.exists`) nova-compute emits for every
   * instance that existed during the audit period; Ceilometer and billing read it.
   */
  async emitExists(beginning: Date, ending: Date): Promise<number> {
    const rows = this.db
      .prepare("SELECT * FROM servers WHERE created_at < ? AND (terminated_at IS NULL OR terminated_at >= ?) AND vm_state NOT IN ('building', 'error')")
      .all(ending.toISOString(), beginning.toISOString()) as ServerRow[];
    const system: RequestContext = { requestId: `req-${randomUUID()}`, userId: null, userName: null, projectId: null, projectName: null, domainId: null, roles: [], isAdmin: true, remoteAddress: null };
    for (const row of rows) {
      const server = toServer(row);
      await this.emit(server, this.flavorOf(server), 'compute.instance.exists', { ...system, userId: server.user_id, projectId: server.project_id }, 'INFO', {
        audit_period_beginning: pythonUtc(beginning.toISOString()).replace('+00:00', ''),
        audit_period_ending: pythonUtc(ending.toISOString()).replace('+00:00', ''),
        bandwidth: {},
      });
    }
    return rows.length;
  }

  /**
   * nova-compute's liveness as the servicegroup sees it (the deployment model calls it):
   * the scheduler only places on hosts that are up.
   */
  setHostState(name: string, state: 'up' | 'down'): void {
    this.db.prepare('UPDATE compute_hosts SET state = ? WHERE name = ?').run(state, name);
  }

  seedHosts(hosts: ReadonlyArray<{ name: string; availabilityZone: string; vcpus: number; memoryMb: number; diskGb: number }>): void {
    const insert = this.db.prepare('INSERT OR IGNORE INTO compute_hosts (name, availability_zone, vcpus, memory_mb, disk_gb) VALUES (?, ?, ?, ?, ?)');
    for (const h of hosts) insert.run(h.name, h.availabilityZone, h.vcpus, h.memoryMb, h.diskGb);
  }

  listFlavors(): Flavor[] {
    return (this.db.prepare('SELECT id, name, vcpus, ram_mb, disk_gb, ephemeral_gb, swap_mb, rxtx_factor, is_public, description, extra_specs FROM flavors WHERE deleted = 0 ORDER BY ram_mb, id').all() as FlavorRow[]).map(toFlavor);
  }

  getFlavor(id: string): Flavor {
    const row = this.db.prepare('SELECT id, name, vcpus, ram_mb, disk_gb, ephemeral_gb, swap_mb, rxtx_factor, is_public, description, extra_specs FROM flavors WHERE id = ? AND deleted = 0').get(id) as FlavorRow | undefined;
    if (!row) throw notFound(`Flavor ${id} could not be found.`);
    return toFlavor(row);
  }

  createFlavor(input: { id?: string | null; name: string; vcpus: number; ram: number; disk: number; ephemeral?: number; swap?: number; rxtx_factor?: number; is_public?: boolean; description?: string | null }): Flavor {
    const id = input.id && input.id !== 'auto' ? input.id : randomUUID();
    if (this.db.prepare('SELECT 1 FROM flavors WHERE (id = ? OR name = ?) AND deleted = 0').get(id, input.name)) throw conflict(`Flavor with name ${input.name} or ID ${id} already exists.`);
    this.db
      .prepare('INSERT INTO flavors (id, name, vcpus, ram_mb, disk_gb, ephemeral_gb, swap_mb, rxtx_factor, is_public, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(id, input.name, input.vcpus, input.ram, input.disk, input.ephemeral ?? 0, input.swap ?? 0, input.rxtx_factor ?? 1, input.is_public === false ? 0 : 1, input.description ?? null);
    return this.getFlavor(id);
  }

  deleteFlavor(id: string): void {
    if (this.db.prepare('UPDATE flavors SET deleted = 1 WHERE id = ? AND deleted = 0').run(id).changes === 0) throw notFound(`Flavor ${id} could not be found.`);
  }

  listServers(filter: { projectId: string | null; name?: string }): Server[] {
    const rows = this.db
      .prepare('SELECT * FROM servers WHERE deleted = 0 AND (? IS NULL OR project_id = ?) ORDER BY created_at DESC, id')
      .all(filter.projectId, filter.projectId) as ServerRow[];
    const servers = rows.map(toServer);
    return filter.name ? servers.filter((s) => new RegExp(filter.name as string).test(s.name)) : servers;
  }

  /** A server visible to `projectId` (null = any project, for admins); 404 otherwise, so existence does not leak. */
  getServer(id: string, projectId: string | null): Server {
    const row = this.db.prepare('SELECT * FROM servers WHERE id = ? AND deleted = 0 AND (? IS NULL OR project_id = ?)').get(id, projectId, projectId) as ServerRow | undefined;
    if (!row) throw notFound(`Instance ${id} could not be found.`);
    return toServer(row);
  }

  /** Picks the host with the most free RAM that fits the flavor (RAM, vCPU at 16:1, disk); null when none fits. */
  schedule(flavor: Flavor, availabilityZone: string | null, excludeServer?: string): { name: string; availability_zone: string } | null {
    const hosts = this.db
      .prepare(
        `SELECT h.name, h.availability_zone, h.vcpus, h.memory_mb, h.disk_gb,
           COALESCE(SUM(f.vcpus), 0) AS used_vcpus, COALESCE(SUM(f.ram_mb), 0) AS used_ram, COALESCE(SUM(f.disk_gb + f.ephemeral_gb), 0) AS used_disk
         FROM compute_hosts h LEFT JOIN servers s ON s.host = h.name AND s.deleted = 0 AND s.id IS NOT ? LEFT JOIN flavors f ON f.id = s.flavor_id
         WHERE h.state = 'up' AND h.status = 'enabled' AND (? IS NULL OR h.availability_zone = ?)
         GROUP BY h.name ORDER BY (h.memory_mb - used_ram) DESC, h.name`,
      )
      .all(excludeServer ?? null, availabilityZone, availabilityZone) as Array<{ name: string; availability_zone: string; vcpus: number; memory_mb: number; disk_gb: number; used_vcpus: number; used_ram: number; used_disk: number }>;
    if (this.placement) {
      // Placement decides what fits (allocation ratios, reservations); Nova weighs by free RAM.
      const candidates = new Set(this.placement.candidateHosts(flavorResources(flavor)));
      return hosts.find((h) => candidates.has(h.name)) ?? null;
    }
    return (
      hosts.find((h) => h.memory_mb - h.used_ram >= flavor.ram_mb && h.vcpus * 16 - h.used_vcpus >= flavor.vcpus && h.disk_gb - h.used_disk >= flavor.disk_gb + flavor.ephemeral_gb) ?? null
    );
  }

  /** The legacy `compute.instance.*` payload (nova/notifications/base.py info_from_instance). */
  instancePayload(server: Server, flavor: Flavor, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      tenant_id: server.project_id,
      user_id: server.user_id,
      instance_id: server.id,
      display_name: server.name,
      reservation_id: server.reservation_id,
      hostname: server.name.toLowerCase().replace(/[^a-z0-9-]/g, '-'),
      instance_type: flavor.name,
      instance_type_id: flavor.id,
      instance_flavor_id: flavor.id,
      memory_mb: flavor.ram_mb,
      disk_gb: flavor.disk_gb + flavor.ephemeral_gb,
      root_gb: flavor.disk_gb,
      ephemeral_gb: flavor.ephemeral_gb,
      vcpus: flavor.vcpus,
      host: server.host,
      node: server.host,
      availability_zone: server.availability_zone,
      cell_name: '',
      state: server.vm_state,
      state_description: server.task_state ?? '',
      progress: '',
      created_at: pythonUtc(server.created_at),
      launched_at: pythonUtc(server.launched_at),
      terminated_at: pythonUtc(server.terminated_at),
      deleted_at: pythonUtc(server.deleted_at),
      image_ref_url: `/image/v2/images/${server.image_ref}`,
      // nova's image_meta: the boot-time copy of the image's metadata, then base_image_ref.
      image_meta: { ...server.image_meta, base_image_ref: server.image_ref },
      metadata: server.metadata,
      os_type: server.image_meta.os_type ?? null,
      architecture: server.image_meta.architecture ?? null,
      access_ip_v4: null,
      access_ip_v6: null,
      fixed_ips: [],
      ...extra,
    };
  }

  async emit(server: Server, flavor: Flavor, eventType: string, context: RequestContext, priority: 'INFO' | 'ERROR' = 'INFO', extra: Record<string, unknown> = {}): Promise<void> {
    await this.notifier.notify({
      exchange: 'nova',
      publisherId: `compute.${server.host ?? 'scheduler'}`,
      eventType,
      priority,
      payload: this.instancePayload(server, flavor, extra),
      context,
    });
  }

  update(id: string, fields: Partial<Record<keyof ServerRow | 'deleted', string | number | null>>): Server {
    const now = this.clock.now().toISOString();
    const entries = Object.entries({ ...fields, updated_at: now });
    this.db.prepare(`UPDATE servers SET ${entries.map(([k]) => `${k} = ?`).join(', ')} WHERE id = ?`).run(...entries.map(([, v]) => v), id);
    return toServer(this.db.prepare('SELECT * FROM servers WHERE id = ?').get(id) as ServerRow);
  }

  /**
   * POST /servers: the server is recorded in BUILD at once (202), then the build runs:
   * scheduled onto a host and ACTIVE after the spawn delay, or ERROR with a fault when
   * no host fits. Each step emits what nova-compute emits.
   */
  async createServer(
    input: { name: string; flavorRef: string; imageRef: string; availabilityZone?: string | null; metadata?: Record<string, string>; networks?: readonly string[] | 'auto' | 'none'; keyName?: string | null },
    context: RequestContext,
  ): Promise<Server> {
    if (!context.projectId || !context.userId) throw badRequest('Creating a server needs a project-scoped token.');
    if (!input.name || input.name.length > 255) throw badRequest("Invalid input for field/attribute name. Value must be a string of 1 to 255 characters.");
    const flavorId = input.flavorRef.split('/').pop() ?? '';
    const flavor = (() => {
      try {
        return this.getFlavor(flavorId);
      } catch {
        throw badRequest(`Flavor ${input.flavorRef} could not be found.`);
      }
    })();
    this.quotas.check(context.projectId, { instances: 1, cores: flavor.vcpus, ram: flavor.ram_mb });
    const projectId = context.projectId;
    let networkIds: string[] = [];
    if (this.networking && input.networks !== 'none') {
      if (Array.isArray(input.networks) && input.networks.length > 0) {
        for (const networkId of input.networks) this.networking.checkNetwork(networkId, projectId);
        networkIds = [...input.networks];
      } else {
        const fallback = this.networking.defaultNetwork(projectId);
        if (fallback) networkIds = [fallback];
      }
    }
    if (input.keyName) this.keypairs.get(context.userId, input.keyName);
    const imageId = (input.imageRef ?? '').split('/').pop() ?? '';
    // Real Nova refuses an image it cannot find (400); this control plane has always booted
    // any imageRef (tests and the simulator name images Glance never had), so an unknown one
    // boots with no image metadata instead.
    const imageMeta = imageId !== '' && this.images ? this.images.imageMeta(imageId, projectId) : null;
    const now = this.clock.now().toISOString();
    const id = randomUUID();
    const reservationId = `r-${randomUUID().slice(0, 8)}`;
    this.db
      .prepare(
        `INSERT INTO servers (id, name, project_id, user_id, flavor_id, image_ref, availability_zone, vm_state, task_state, power_state, metadata, reservation_id, created_at, updated_at, key_name, image_meta)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'building', 'scheduling', 0, ?, ?, ?, ?, ?, ?)`,
      )
      .run(id, input.name, context.projectId, context.userId, flavor.id, input.imageRef ?? '', input.availabilityZone ?? null, JSON.stringify(input.metadata ?? {}), reservationId, now, now, input.keyName ?? null, JSON.stringify(imageMeta ?? {}));
    const server = this.getServer(id, null);
    this.later(() => this.build(server.id, flavor, input.availabilityZone ?? null, context, networkIds));
    return server;
  }

  later(step: () => Promise<void>): void {
    const run = new Promise<void>((resolve) => setTimeout(resolve, this.buildDelayMs))
      .then(step)
      .catch((err: unknown) => this.logger.error({ err }, 'nova: a background step failed'))
      .finally(() => this.pending.delete(run));
    this.pending.add(run);
  }

  /** True while the server is still being built: a delete during BUILD ends the build silently. */
  private stillBuilding(id: string): boolean {
    return this.db.prepare("SELECT 1 FROM servers WHERE id = ? AND deleted = 0 AND vm_state = 'building'").get(id) !== undefined;
  }

  private async build(id: string, flavor: Flavor, availabilityZone: string | null, context: RequestContext, networkIds: readonly string[] = []): Promise<void> {
    if (!this.stillBuilding(id)) return;
    const host = this.schedule(flavor, availabilityZone);
    if (!host) {
      const message = 'No valid host was found. There are not enough hosts available.';
      const server = this.update(id, { vm_state: 'error', task_state: null, fault: JSON.stringify({ code: 500, message, created: this.clock.now().toISOString() }) });
      this.logger.warn({ instance: id }, `nova-scheduler: ${message}`);
      await this.emit(server, flavor, 'scheduler.select_destinations.error', context, 'ERROR', { reason: message });
      await this.emit(server, flavor, 'compute.instance.create.error', context, 'ERROR', { message, code: 500 });
      return;
    }
    const building = this.getServer(id, null);
    this.placement?.claim(id, host.name, flavorResources(flavor), building.project_id, building.user_id);
    if (this.networking && networkIds.length > 0) {
      this.update(id, { task_state: 'networking' });
      await this.networking.plug(id, building.project_id, host.name, networkIds, context);
    }
    let server = this.update(id, { host: host.name, availability_zone: host.availability_zone, task_state: 'spawning' });
    await this.emit(server, flavor, 'compute.instance.create.start', context);
    if (!this.stillBuilding(id)) return;
    const launchedAt = this.clock.now().toISOString();
    server = this.update(id, { vm_state: 'active', task_state: null, power_state: POWER_STATE.RUNNING, launched_at: launchedAt, last_started_at: launchedAt });
    await this.emit(server, flavor, 'compute.instance.create.end', context, 'INFO', { message: 'Success', fixed_ips: [] });
  }

  async deleteServer(id: string, context: RequestContext): Promise<void> {
    const existing = this.getServer(id, context.isAdmin ? null : context.projectId);
    const flavor = this.db.prepare('SELECT id, name, vcpus, ram_mb, disk_gb, ephemeral_gb, swap_mb, rxtx_factor, is_public, description, extra_specs FROM flavors WHERE id = ?').get(existing.flavor_id) as FlavorRow;
    const server = this.update(id, { task_state: 'deleting' });
    await this.emit(server, toFlavor(flavor), 'compute.instance.delete.start', context);
    // Volumes outlive the server: detached first (Cinder refuses to delete an attached volume).
    for (const attachment of this.volumes?.attachments(id) ?? []) await this.volumes?.detach(server, attachment.volumeId, context);
    const now = this.clock.now().toISOString();
    const deleted = this.update(id, { vm_state: 'deleted', task_state: null, power_state: POWER_STATE.NOSTATE, terminated_at: now, deleted_at: now, deleted: 1 });
    this.placement?.release(id);
    await this.networking?.unplug(id, context);
    await this.emit(deleted, toFlavor(flavor), 'compute.instance.delete.end', context);
  }

  /** os-volume_attachments: attaches a volume at the next free device (vdb, vdc, ...) unless one is given. */
  async attachVolume(serverId: string, volumeId: string, device: string | null, context: RequestContext): Promise<{ device: string }> {
    const server = this.getServer(serverId, context.isAdmin ? null : context.projectId);
    if (!this.volumes) throw badRequest('Volume attachment is not available: this cloud has no block storage service.');
    if (!['active', 'stopped'].includes(server.vm_state) || server.task_state) throw conflict(`Cannot 'attach_volume' instance ${server.id} while it is in vm_state ${server.vm_state}`);
    const used = new Set(this.volumes.attachments(serverId).map((a) => a.device));
    const chosen = device ?? [...'bcdefghijklmnopqrstuvwxyz'].map((l) => `/dev/vd${l}`).find((d) => !used.has(d));
    if (!chosen) throw badRequest('No free device name left on this server.');
    await this.volumes.attach(server, volumeId, chosen, context);
    return { device: chosen };
  }

  async detachVolume(serverId: string, volumeId: string, context: RequestContext): Promise<void> {
    const server = this.getServer(serverId, context.isAdmin ? null : context.projectId);
    if (!this.volumes?.attachments(serverId).some((a) => a.volumeId === volumeId)) throw notFound(`volume_id not found: ${volumeId}`);
    await this.volumes.detach(server, volumeId, context);
  }

  volumeAttachments(serverId: string): Array<{ volumeId: string; device: string | null; attachmentId: string }> {
    return this.volumes?.attachments(serverId) ?? [];
  }

  /** The server's fixed and floating addresses by network name (empty without Neutron). */
  addressesOf(serverId: string): Record<string, ServerAddress[]> {
    return this.networking?.addresses(serverId) ?? {};
  }

  /** Claims a flavor's resources for a server on a host (resize, revert); a no-op without Placement. */
  claim(server: Server, host: string, flavor: Flavor): void {
    this.placement?.claim(server.id, host, flavorResources(flavor), server.project_id, server.user_id);
  }

  /** Flavor of a server even when the flavor was deleted since (servers keep theirs). */
  flavorOf(server: Server): Flavor {
    return toFlavor(this.db.prepare('SELECT id, name, vcpus, ram_mb, disk_gb, ephemeral_gb, swap_mb, rxtx_factor, is_public, description, extra_specs FROM flavors WHERE id = ?').get(server.flavor_id) as FlavorRow);
  }

  projectNameOf(projectId: string): string | null {
    return this.projectName(projectId);
  }

  /** Lets builds under way finish, so no server is left in BUILD by a clean shutdown. */
  async stop(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
