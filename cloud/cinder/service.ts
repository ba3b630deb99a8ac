import { randomUUID } from 'node:crypto';
import type { Clock, Logger } from '../../core/index.ts';
import { badRequest } from '../errors.ts';
import type { Notifier, RequestContext } from '../notifier.ts';
import { listingScope, projectScope, requireVolume } from './access.ts';
import { Backups } from './backups.ts';
import type { CinderConfig } from './config.ts';
import { attachmentNotFound, invalidAvailabilityZone, invalidInput, invalidSnapshot, invalidVolume, metadataKeyNotFound, policyNotAuthorized } from './errors.ts';
import type { ServerVolume, Snapshot, Volume, VolumeAttachment, VolumeType } from './model.ts';
import { CinderNotifications, adminContext } from './notifications.ts';
import { Snapshots } from './snapshots.ts';
import type { CinderStore } from './store.ts';
import { Transitions } from './transitions.ts';
import { UUID_LIKE, MAX_DESCRIPTION, checkMetadata, optionalText, parseBool } from './validation.ts';
import { VolumeTypes } from './volume-types.ts';

/** Statuses a volume may be deleted from without force (cinder/volume/api.py delete). */
const DELETABLE_STATUSES = ['available', 'error', 'error_restoring', 'error_extending', 'error_managing'];
const DELETE_REFUSED = `Volume status must be ${DELETABLE_STATUSES.join(' or ')} and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.`;
const NO_VALID_BACKEND = 'No valid backend was found. No weighed backends available';

export interface CreateVolumeInput {
  size?: unknown;
  name?: unknown;
  description?: unknown;
  volumeType?: unknown;
  availabilityZone?: unknown;
  metadata?: unknown;
  imageRef?: unknown;
  snapshotId?: unknown;
  sourceVolid?: unknown;
}

export interface AttachInput {
  instanceUuid?: string | null;
  hostName?: string | null;
  mountpoint: string;
  mode?: string;
}

export interface VolumeFilter {
  allTenants: boolean;
  projectId?: string | undefined;
  name?: string | undefined;
  status?: string | undefined;
  bootable?: string | undefined;
  availabilityZone?: string | undefined;
  metadata?: Record<string, string> | undefined;
}

/**
 * Cinder's block-storage logic: volumes with their state machine (creating -> available,
 * extending, attaching/in-use/detaching, backing-up, deleting) and actions, plus the
 * volume types, snapshots and backups beside them, and the notifications cinder-api,
 * cinder-volume, cinder-backup and cinder-scheduler emit with the payloads Ceilometer's
 * meters.yaml reads.
 *
 * Nova uses reserveForAttach / attach / detach / unreserveForAttach / get / volumesOfServer
 * for `openstack server add|remove volume`; the composition's scheduler calls emitExists
 * and emitCapacity. Stable API.
 */
export class CinderService {
  readonly types: VolumeTypes;
  readonly snapshots: Snapshots;
  readonly backups: Backups;
  private readonly notifications: CinderNotifications;
  private readonly transitions: Transitions;

  constructor(
    private readonly store: CinderStore,
    notifier: Notifier,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly config: CinderConfig,
  ) {
    this.notifications = new CinderNotifications(store, notifier, clock, logger, config);
    this.transitions = new Transitions(config.transitionDelayMs, logger);
    this.types = new VolumeTypes(store, clock);
    this.snapshots = new Snapshots(store, this.notifications, this.transitions, clock, config.apiHost);
    this.backups = new Backups(store, this.snapshots, this.notifications, this.transitions, clock, config);
  }

  private now(): string {
    return this.clock.now().toISOString();
  }

  get availabilityZone(): string {
    return this.config.availabilityZone;
  }

  /** Cinder's admin context, for callers acting on nobody's behalf. */
  adminContext(): RequestContext {
    return adminContext();
  }

  /** Creates the default volume type (`__DEFAULT__`), as Cinder's database migrations do. Idempotent. */
  bootstrap(): void {
    this.types.bootstrap();
  }

  defaultType(): VolumeType {
    return this.types.defaultType();
  }

  /** Lets transitions under way finish (emitting what they emit), so nothing is left in a transitional state. */
  async stop(): Promise<void> {
    await this.transitions.settle();
  }

  // ---- volumes: reads ----------------------------------------------------------------

  /** A volume visible to `projectId` (null = any project, for admins and Nova); 404 otherwise, so existence does not leak. */
  get(volumeId: string, projectId: string | null): Volume {
    return requireVolume(this.store, volumeId, projectId);
  }

  private visible(id: string, context: RequestContext): Volume {
    return requireVolume(this.store, id, projectScope(context));
  }

  attachmentsOf(volumeId: string): VolumeAttachment[] {
    return this.store.attachmentsOf(volumeId);
  }

  /**
   * Cinder's volume listing: a member always sees their own project (all_tenants is
   * silently ignored, which cinderclient's name lookups rely on: they always send it);
   * an admin sees every project with all_tenants, narrowed by project_id.
   */
  listVolumes(filter: VolumeFilter, context: RequestContext): Volume[] {
    const projectId = listingScope(context, filter.allTenants, filter.projectId);
    const bootable = filter.bootable === undefined ? undefined : parseBool(filter.bootable);
    return this.store
      .listVolumes(projectId)
      .filter((v) => filter.name === undefined || v.name === filter.name)
      .filter((v) => filter.status === undefined || v.status === filter.status)
      .filter((v) => bootable === undefined || v.bootable === bootable)
      .filter((v) => filter.availabilityZone === undefined || v.availability_zone === filter.availabilityZone)
      .filter((v) => !filter.metadata || Object.entries(filter.metadata).every(([k, value]) => v.metadata[k] === value));
  }

  // ---- volumes: create, update, delete --------------------------------------------

  /**
   * POST /volumes: the volume is recorded in `creating` at once (202), then scheduled
   * onto the backend and `available` after the transition delay, emitting
   * volume.create.start/end as cinder-volume does; `error` when the backend is full.
   */
  createVolume(input: CreateVolumeInput, context: RequestContext): Volume {
    if (!context.projectId || !context.userId) throw badRequest('Creating a volume needs a project-scoped token.');
    const name = optionalText('name', input.name);
    const description = optionalText('description', input.description, MAX_DESCRIPTION);
    const metadata = checkMetadata(input.metadata);

    // 1. The size as asked, before any source fills it in.
    let size: number | null = null;
    if (input.size !== undefined && input.size !== null && input.size !== '') {
      const text = String(input.size);
      if (!/^\s*[+-]?\d+\s*$/.test(text) || Number(text) <= 0) {
        throw invalidInput(`Invalid volume size provided for create request: ${text} (size argument must be an integer (or string representation of an integer) and greater than zero).`);
      }
      size = Number(text);
    }

    // 2. The sources: a snapshot or a volume to clone (each must be visible and usable).
    let snapshot: Snapshot | null = null;
    if (input.snapshotId !== undefined && input.snapshotId !== null) {
      snapshot = this.snapshots.get(String(input.snapshotId), context);
      if (snapshot.status !== 'available') throw invalidSnapshot("Originating snapshot status must be one of 'available' values");
      if (size === null) size = snapshot.volume_size;
      if (size < snapshot.volume_size) {
        throw invalidInput(`Volume size '${size}'GB cannot be smaller than the snapshot size ${snapshot.volume_size}GB. They must be >= original snapshot size.`);
      }
    }
    let source: Volume | null = null;
    if (input.sourceVolid !== undefined && input.sourceVolid !== null) {
      source = this.visible(String(input.sourceVolid), context);
      if (!['available', 'in-use'].includes(source.status)) throw invalidVolume("Originating volume status must be one of 'available, in-use' values");
      if (size === null) size = source.size;
      if (size < source.size) throw invalidInput(`Volume size '${size}'GB cannot be smaller than original volume size  ${source.size}GB. They must be >= original volume size.`);
    }
    if (size === null) throw invalidInput("Volume size 'None' must be an integer and greater than 0");

    // 3. The type: as asked, else the source's, else the default.
    const origin = snapshot ? this.store.volume(snapshot.volume_id, true) : source;
    let type: VolumeType;
    if (input.volumeType !== undefined && input.volumeType !== null && input.volumeType !== '') type = this.types.byNameOrId(String(input.volumeType), context);
    else if (snapshot?.volume_type_id) type = this.types.byIdIncludingDeleted(snapshot.volume_type_id) ?? this.types.defaultType();
    else if (source) type = this.types.byIdIncludingDeleted(source.volume_type_id) ?? this.types.defaultType();
    else type = this.types.defaultType();

    // 4. The availability zone: there is one, and a copy stays in its source's.
    const asked = input.availabilityZone === undefined || input.availabilityZone === null || input.availabilityZone === '' ? null : String(input.availabilityZone);
    if (asked !== null && asked !== this.config.availabilityZone) throw invalidAvailabilityZone(asked);
    const availabilityZone = origin?.availability_zone ?? this.config.availabilityZone;

    const imageRef = input.imageRef === undefined || input.imageRef === null || input.imageRef === '' ? null : String(input.imageRef).split('/').pop() ?? null;
    const volume: Volume = {
      id: randomUUID(),
      project_id: context.projectId,
      user_id: context.userId,
      name,
      description,
      size,
      status: 'creating',
      attach_status: 'detached',
      previous_status: null,
      volume_type_id: type.id,
      availability_zone: availabilityZone,
      host: null,
      bootable: imageRef !== null || (origin?.bootable ?? false),
      multiattach: parseBool(type.extra_specs.multiattach?.replace(/^<is>\s*/i, '')) ?? false,
      readonly: false,
      snapshot_id: snapshot?.id ?? null,
      source_volid: source?.id ?? null,
      image_id: imageRef ?? origin?.image_id ?? null,
      metadata,
      created_at: this.now(),
      updated_at: null,
      launched_at: null,
      terminated_at: null,
      deleted: false,
      deleted_at: null,
    };
    this.store.insertVolume(volume);
    this.transitions.later(() => this.finishCreate(volume.id, context));
    return volume;
  }

  private async finishCreate(id: string, context: RequestContext): Promise<void> {
    const pending = this.store.volume(id);
    // A force-delete during creation wins: nothing may say the volume came up after that.
    if (!pending || pending.status !== 'creating') return;
    // 1. Schedule: the backend must hold the volume, or the scheduler puts it in error.
    if (this.store.allocatedGb() + pending.size > this.config.capacityGb) {
      const failed = this.store.updateVolume(id, { status: 'error', updated_at: this.now() });
      this.logger.warn({ volume: id }, `cinder-scheduler: ${NO_VALID_BACKEND}`);
      await this.notifications.schedulerError('create_volume', failed, NO_VALID_BACKEND, context);
      return;
    }
    // 2. cinder-volume takes it: create.start carries the pool host, as the create flow notifies with host=volume.host.
    const scheduled = this.store.updateVolume(id, { host: this.notifications.volumeHost, updated_at: this.now() });
    await this.notifications.volume(scheduled, 'create.start', context, { publisher: this.notifications.volumeHost });
    const current = this.store.volume(id);
    if (!current || current.status !== 'creating') return;
    const now = this.now();
    const created = this.store.updateVolume(id, { status: 'available', launched_at: now, updated_at: now });
    await this.notifications.volume(created, 'create.end', context, { publisher: this.notifications.volumeHost });
  }

  /** PUT /volumes/{id}: name, description, metadata (replaced); cinder-api emits volume.update.start/end itself. */
  async updateVolume(id: string, input: { name?: unknown; description?: unknown; metadata?: unknown }, context: RequestContext): Promise<Volume> {
    const volume = this.visible(id, context);
    if (volume.status === 'maintenance') throw invalidVolume('The volume cannot be updated during maintenance.');
    const changes: Partial<Volume> = {};
    if (input.name !== undefined) changes.name = optionalText('name', input.name);
    if (input.description !== undefined) changes.description = optionalText('description', input.description, MAX_DESCRIPTION);
    if (input.metadata !== undefined) changes.metadata = checkMetadata(input.metadata);
    await this.notifications.volume(volume, 'update.start', context, { publisher: this.config.apiHost });
    const updated = this.store.updateVolume(id, { ...changes, updated_at: this.now() });
    await this.notifications.volume(updated, 'update.end', context, { publisher: this.config.apiHost });
    return updated;
  }

  /**
   * DELETE /volumes/{id}: refused (400) while attached, in a transitional state or with
   * snapshots (unless cascade); otherwise `deleting` at once and gone after the delay,
   * with volume.delete.start/end (and the cascaded snapshots' snapshot.delete.*).
   */
  deleteVolume(id: string, context: RequestContext, options: { cascade?: boolean; force?: boolean } = {}): Volume {
    const volume = this.visible(id, context);
    if (options.force && !context.isAdmin) throw policyNotAuthorized('volume_extension:volume_admin_actions:force_delete');
    const snapshots = this.store.snapshotsOf(volume.id);
    const statusOk = options.force || DELETABLE_STATUSES.includes(volume.status);
    const snapshotsOk = options.cascade
      ? options.force || snapshots.every((s) => ['available', 'error'].includes(s.status))
      : snapshots.length === 0;
    if (!statusOk || volume.attach_status === 'attached' || !snapshotsOk) throw invalidVolume(DELETE_REFUSED);
    const now = this.now();
    const deleting = this.store.transaction(() => {
      if (options.cascade) for (const s of snapshots) this.store.updateSnapshot(s.id, { status: 'deleting', updated_at: now });
      return this.store.updateVolume(volume.id, { status: 'deleting', terminated_at: now, updated_at: now });
    });
    this.transitions.later(() => this.finishDelete(volume.id, options.cascade ? snapshots.map((s) => s.id) : [], context));
    return deleting;
  }

  private async finishDelete(id: string, snapshotIds: readonly string[], context: RequestContext): Promise<void> {
    for (const snapshotId of snapshotIds) await this.snapshots.destroy(snapshotId, context);
    const volume = this.store.volume(id);
    if (!volume || volume.status !== 'deleting') return;
    await this.notifications.volume(volume, 'delete.start', context);
    const now = this.now();
    const deleted = this.store.transaction(() => {
      for (const a of this.store.attachmentsOf(id)) this.store.updateAttachment(a.id, { attach_status: 'detached', detach_time: now, deleted: true, deleted_at: now, updated_at: now });
      return this.store.updateVolume(id, { status: 'deleted', attach_status: 'detached', deleted: true, deleted_at: now, updated_at: now });
    });
    await this.notifications.volume(deleted, 'delete.end', context);
  }

  // ---- volume metadata -------------------------------------------------------------

  volumeMetadata(id: string, context: RequestContext): Record<string, string> {
    return this.visible(id, context).metadata;
  }

  /** POST merges, PUT (replace) replaces: cinder's volume_metadata_update with delete=False/True. */
  setVolumeMetadata(id: string, metadata: unknown, replace: boolean, context: RequestContext): Record<string, string> {
    const volume = this.visible(id, context);
    if (volume.status === 'maintenance') throw invalidVolume('Updating volume metadata is not allowed for volumes in maintenance status.');
    const merged = replace ? checkMetadata(metadata) : { ...volume.metadata, ...checkMetadata(metadata) };
    return this.store.updateVolume(id, { metadata: merged, updated_at: this.now() }).metadata;
  }

  deleteVolumeMetadataKey(id: string, key: string, context: RequestContext): void {
    const volume = this.visible(id, context);
    if (!(key in volume.metadata)) throw metadataKeyNotFound(id, key);
    const { [key]: _removed, ...rest } = volume.metadata;
    this.store.updateVolume(id, { metadata: rest, updated_at: this.now() });
  }

  // ---- volume actions --------------------------------------------------------------

  /** os-extend: available only; `extending`, then the new size with volume.resize.start/end. */
  extendVolume(id: string, newSize: unknown, context: RequestContext): Volume {
    const volume = this.visible(id, context);
    const text = newSize === undefined || newSize === null ? '' : String(newSize);
    if (!/^\s*\d+\s*$/.test(text) || Number(text) < 1) throw badRequest(`Invalid input for field/attribute new_size. Value: ${text || 'None'}. It must be an integer >= 1.`);
    const size = Number(text);
    if (size <= volume.size) throw invalidInput(`New size for extend must be greater than current size. (current: ${volume.size}, extended: ${size}).`);
    if (volume.status !== 'available') throw invalidVolume(`Volume ${volume.id} status must be '{'status': 'available'}' to extend, currently ${volume.status}.`);
    const extending = this.store.updateVolume(id, { status: 'extending', previous_status: volume.status, updated_at: this.now() });
    this.transitions.later(() => this.finishExtend(id, size, context));
    return extending;
  }

  private async finishExtend(id: string, size: number, context: RequestContext): Promise<void> {
    const volume = this.store.volume(id);
    if (!volume || volume.status !== 'extending') return;
    await this.notifications.volume(volume, 'resize.start', context);
    const extended = this.store.updateVolume(id, { size, status: volume.previous_status ?? 'available', previous_status: 'extending', updated_at: this.now() });
    await this.notifications.volume(extended, 'resize.end', context, { extra: { size } });
  }

  /** os-reserve: available (or in-use when multiattach) -> attaching. */
  reserve(id: string, context: RequestContext): Volume {
    return this.reserveVolume(this.visible(id, context));
  }

  private reserveVolume(volume: Volume): Volume {
    const allowed = volume.multiattach ? ['available', 'in-use'] : ['available'];
    if (!allowed.includes(volume.status)) throw invalidVolume(`Volume status must be ${allowed.join(' or ')} to reserve, but the status is ${volume.status}.`);
    return this.store.updateVolume(volume.id, { status: 'attaching', updated_at: this.now() });
  }

  /** os-unreserve: attaching -> in-use when attached elsewhere, else available; a no-op otherwise. */
  unreserve(id: string, context: RequestContext): Volume {
    const volume = this.visible(id, context);
    if (volume.status !== 'attaching') return volume;
    return this.store.updateVolume(id, { status: this.store.attachmentsOf(id).some((a) => a.attach_status === 'attached') ? 'in-use' : 'available', updated_at: this.now() });
  }

  /** os-begin_detaching: in-use and attached -> detaching. */
  beginDetaching(id: string, context: RequestContext): Volume {
    const volume = this.visible(id, context);
    if (volume.status !== 'in-use' || volume.attach_status !== 'attached') {
      throw invalidVolume("Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.");
    }
    return this.store.updateVolume(id, { status: 'detaching', updated_at: this.now() });
  }

  /** os-roll_detaching: detaching -> in-use. */
  rollDetaching(id: string, context: RequestContext): Volume {
    const volume = this.visible(id, context);
    if (volume.status !== 'detaching') return volume;
    return this.store.updateVolume(id, { status: 'in-use', updated_at: this.now() });
  }

  /**
   * os-attach (a synchronous RPC call to cinder-volume in Cinder): records the attachment,
   * turns the volume in-use/attached and emits volume.attach.start/end. A second attach of
   * the same server is a no-op, as in cinder's manager.
   */
  async attachVolume(id: string, input: AttachInput, context: RequestContext): Promise<VolumeAttachment> {
    return this.attachTo(this.visible(id, context), input, context);
  }

  private async attachTo(volume: Volume, input: AttachInput, context: RequestContext): Promise<VolumeAttachment> {
    const id = volume.id;
    const mode = input.mode ?? 'rw';
    if (volume.status === 'maintenance') throw invalidVolume('The volume cannot be attached in maintenance mode.');
    if (mode !== 'rw' && mode !== 'ro') throw badRequest(`Invalid input for field/attribute mode. Value: ${mode}. '${mode}' is not one of ['rw', 'ro']`);
    if (volume.readonly && mode !== 'ro') throw badRequest(`Invalid attaching mode '${mode}' for volume ${volume.id}.`);
    const existing = this.store.attachmentsOf(id).find((a) => a.attach_status === 'attached' && ((input.instanceUuid && a.instance_uuid === input.instanceUuid) || (!input.instanceUuid && a.attached_host === (input.hostName ?? null))));
    if (existing) {
      this.store.updateVolume(id, { status: 'in-use', updated_at: this.now() });
      return existing;
    }
    if (!['available', 'attaching', 'in-use'].includes(volume.status)) throw invalidVolume(`Volume status must be available or attaching to attach, but the status is ${volume.status}.`);
    if (volume.status === 'in-use' && !volume.multiattach) {
      throw badRequest('Error attaching volume - InvalidVolume: Invalid volume: volume is already attached and multiple attachments are not enabled');
    }
    if (input.instanceUuid && !UUID_LIKE.test(input.instanceUuid)) throw badRequest(`Error attaching volume - InvalidUUID: Expected a UUID but received ${input.instanceUuid}.`);

    await this.notifications.volume(volume, 'attach.start', context);
    const now = this.now();
    const attachment: VolumeAttachment = {
      id: randomUUID(),
      volume_id: id,
      instance_uuid: input.instanceUuid ?? null,
      attached_host: input.hostName ?? null,
      mountpoint: input.mountpoint,
      attach_mode: mode,
      attach_status: 'attached',
      attach_time: now,
      detach_time: null,
      created_at: now,
      updated_at: now,
      deleted: false,
      deleted_at: null,
    };
    const attached = this.store.transaction(() => {
      this.store.insertAttachment(attachment);
      return this.store.updateVolume(id, { status: 'in-use', attach_status: 'attached', updated_at: now });
    });
    await this.notifications.volume(attached, 'attach.end', context);
    return attachment;
  }

  /**
   * os-detach (synchronous in Cinder too): ends one attachment (the only one when no id is
   * given), emitting volume.detach.start/end; the volume is available once none is left.
   */
  async detachVolume(id: string, attachmentId: string | null, context: RequestContext): Promise<Volume> {
    return this.detachFrom(this.visible(id, context), attachmentId, context);
  }

  private async detachFrom(volume: Volume, attachmentId: string | null, context: RequestContext): Promise<Volume> {
    const id = volume.id;
    if (volume.status === 'maintenance') throw invalidVolume('The volume cannot be detached in maintenance mode.');
    const attachments = this.store.attachmentsOf(id);
    let attachment: VolumeAttachment | undefined;
    if (attachmentId) {
      attachment = attachments.find((a) => a.id === attachmentId);
      if (!attachment) return this.finishDetach(volume);
    } else if (attachments.length > 1) {
      throw badRequest('Error detaching volume - InvalidVolume: Invalid volume: Detach volume failed: More than one attachment, but no attachment_id provided.');
    } else {
      attachment = attachments[0];
      if (!attachment) return this.finishDetach(volume);
    }
    await this.notifications.volume(volume, 'detach.start', context);
    const detached = this.finishDetach(volume, attachment.id);
    await this.notifications.volume(detached, 'detach.end', context);
    return detached;
  }

  /** volume.finish_detach: the attachment ends; in-use while others remain, available otherwise. */
  private finishDetach(volume: Volume, attachmentId?: string): Volume {
    const now = this.now();
    return this.store.transaction(() => {
      if (attachmentId) this.store.updateAttachment(attachmentId, { attach_status: 'detached', detach_time: now, deleted: true, deleted_at: now, updated_at: now });
      const remaining = this.store.attachmentsOf(volume.id).length;
      return this.store.updateVolume(volume.id, { status: remaining > 0 ? 'in-use' : 'available', attach_status: remaining > 0 ? 'attached' : 'detached', updated_at: now });
    });
  }

  /** os-initialize_connection: what an iSCSI (LVM) backend hands the compute host. */
  initializeConnection(id: string, connector: unknown, context: RequestContext): Record<string, unknown> {
    const volume = this.visible(id, context);
    if (!connector || typeof connector !== 'object' || Array.isArray(connector)) throw badRequest("Invalid input for field/attribute connector. Value: None. None is not of type 'object'");
    if (volume.status === 'maintenance') throw invalidVolume('The volume connection cannot be initialized in maintenance mode.');
    return {
      driver_volume_type: 'iscsi',
      data: {
        target_discovered: false,
        target_portal: '127.0.0.1:3260',
        target_iqn: `iqn.2010-10.org.openstack:volume-${volume.id}`,
        target_lun: 0,
        volume_id: volume.id,
        auth_method: 'CHAP',
        access_mode: volume.readonly ? 'ro' : 'rw',
        encrypted: false,
        discard: true,
      },
      enforce_multipath: Boolean((connector as Record<string, unknown>).enforce_multipath),
    };
  }

  setBootable(id: string, bootable: unknown, context: RequestContext): Volume {
    const volume = this.visible(id, context);
    const flag = parseBool(bootable);
    if (flag === undefined) throw badRequest(`Invalid input for field/attribute bootable. Value: ${String(bootable)}. ${JSON.stringify(bootable)} is not of type 'boolean', 'string'`);
    return this.store.updateVolume(volume.id, { bootable: flag, updated_at: this.now() });
  }

  updateReadonlyFlag(id: string, readonly: unknown, context: RequestContext): Volume {
    const volume = this.visible(id, context);
    const flag = parseBool(readonly);
    if (flag === undefined) throw badRequest(`Invalid input for field/attribute readonly. Value: ${String(readonly)}.`);
    if (volume.status !== 'available') throw invalidVolume(`Volume ${volume.id} status must be available to update readonly flag, but current status is: ${volume.status}.`);
    return this.store.updateVolume(volume.id, { readonly: flag, updated_at: this.now() });
  }

  /** os-reset_status (admin): writes the states as told, as Cinder does, with no regard to reality. */
  resetStatus(id: string, input: { status?: unknown; attachStatus?: unknown }, context: RequestContext): Volume {
    if (!context.isAdmin) throw policyNotAuthorized('volume_extension:volume_admin_actions:reset_status');
    const volume = this.visible(id, context);
    const changes: Partial<Volume> = { updated_at: this.now() };
    const statuses = ['available', 'error', 'creating', 'deleting', 'in-use', 'attaching', 'detaching', 'error_deleting', 'maintenance', 'reserved', 'error_extending'];
    if (input.status !== undefined && input.status !== null) {
      if (typeof input.status !== 'string' || !statuses.includes(input.status)) throw badRequest(`Invalid input for field/attribute status. Value: ${String(input.status)}.`);
      changes.status = input.status;
    }
    if (input.attachStatus !== undefined && input.attachStatus !== null) {
      if (input.attachStatus !== 'attached' && input.attachStatus !== 'detached') throw badRequest(`Invalid input for field/attribute attach_status. Value: ${String(input.attachStatus)}.`);
      changes.attach_status = input.attachStatus;
    }
    return this.store.updateVolume(volume.id, changes);
  }

  /** os-retype: available or in-use volumes change type after the delay, emitting volume.retype. */
  retype(id: string, newType: unknown, context: RequestContext): Volume {
    const volume = this.visible(id, context);
    if (typeof newType !== 'string' || !newType) throw badRequest("Invalid input for field/attribute new_type. Value: None. None is not of type 'string'");
    const type = (() => {
      try {
        return this.types.byNameOrId(newType, context);
      } catch {
        throw invalidInput(`Invalid volume_type passed: ${newType}.`);
      }
    })();
    if (!['available', 'in-use'].includes(volume.status) || type.id === volume.volume_type_id) {
      throw invalidVolume(
        'Retype needs volume to be in available or in-use state, not be part of an active migration or a consistency group, requested type has to be different that the one from the volume, and for in-use volumes front-end qos specs cannot change.',
      );
    }
    const retyping = this.store.updateVolume(id, { status: 'retyping', previous_status: volume.status, updated_at: this.now() });
    this.transitions.later(async () => {
      const current = this.store.volume(id);
      if (!current || current.status !== 'retyping') return;
      const retyped = this.store.updateVolume(id, { volume_type_id: type.id, status: current.previous_status ?? 'available', previous_status: 'retyping', updated_at: this.now() });
      await this.notifications.volume(retyped, 'retype', context, { extra: { volume_type: type.id } });
    });
    return retyping;
  }

  // ---- what Nova calls -------------------------------------------------------------

  /**
   * Nova's reserve_volume before an attach: available -> attaching. `projectId` is the
   * project the volume must belong to (the server's), null for any. attach and detach take
   * the user's context when Nova has one (it forwards the user's token to Cinder), so the
   * notifications carry it; without one they carry Cinder's admin context.
   */
  reserveForAttach(volumeId: string, projectId: string | null): Volume {
    return this.reserveVolume(this.get(volumeId, projectId));
  }

  /** Nova's roll-back when an attach fails after the reserve. */
  unreserveForAttach(volumeId: string): Volume {
    return this.unreserve(volumeId, adminContext());
  }

  /** Nova's attach once the server has the disk: in-use, with volume.attach.start/end. */
  async attach(volumeId: string, target: { serverId: string; host: string | null; device: string }, context: RequestContext = adminContext()): Promise<VolumeAttachment> {
    return this.attachTo(this.get(volumeId, null), { instanceUuid: target.serverId, hostName: target.host, mountpoint: target.device, mode: 'rw' }, context);
  }

  /** Nova's detach of one server's attachment, with volume.detach.start/end. */
  async detach(volumeId: string, serverId: string, context: RequestContext = adminContext()): Promise<Volume> {
    const volume = this.get(volumeId, null);
    const attachment = this.store.attachmentsOf(volumeId).find((a) => a.instance_uuid === serverId);
    if (!attachment) throw attachmentNotFound(`volume_id = ${volumeId} and instance_uuid = ${serverId}`);
    return this.detachFrom(volume, attachment.id, context);
  }

  /** The volumes attached to a server (os-volume_attachments, `os-extended-volumes:volumes_attached`). */
  volumesOfServer(serverId: string): ServerVolume[] {
    return this.store.attachmentsOfServer(serverId).map((a) => ({ volumeId: a.volume_id, attachmentId: a.id, device: a.mountpoint, host: a.attached_host }));
  }

  // ---- periodic reports -----------------------------------------------------------

  /**
   * cinder-volume-usage-audit for [beginning, ending): `volume.exists`, `snapshot.exists`
   * and `backup.exists` for everything that existed during the period (deleted ones
   * included), from which Ceilometer derives volume.size, snapshot.size and backup.size
   * between events. Returns how many notifications it sent.
   */
  emitExists(beginning: Date, ending: Date): Promise<number> {
    return this.notifications.exists(beginning, ending);
  }

  /**
   * cinder-scheduler's `capacity.pool` and `capacity.backend` (Ceilometer's
   * volume.provider.* meters). Cinder sends them when a backend's stats change; the
   * composition calls this on a tick.
   */
  emitCapacity(): Promise<void> {
    return this.notifications.capacity();
  }
}
