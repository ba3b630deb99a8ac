import { randomUUID } from 'node:crypto';
import type { Clock } from '../../core/index.ts';
import { badRequest } from '../errors.ts';
import type { RequestContext } from '../notifier.ts';
import { listingScope, projectScope, requireVolume } from './access.ts';
import { BACKUP_SERVICE, DEFAULT_BACKUP_CONTAINER, type CinderConfig } from './config.ts';
import { backupNotFound, invalidAvailabilityZone, invalidBackup, invalidSnapshot, invalidVolume, policyNotAuthorized } from './errors.ts';
import type { Backup, Snapshot } from './model.ts';
import type { CinderNotifications } from './notifications.ts';
import type { Snapshots } from './snapshots.ts';
import type { CinderStore } from './store.ts';
import type { Transitions } from './transitions.ts';
import { MAX_DESCRIPTION, checkMetadata, optionalText, parseBool } from './validation.ts';

/** Swift's default chunk (backup_swift_object_size): how many objects a backup of a size makes. */
const BACKUP_OBJECT_BYTES = 52_428_800;

export interface BackupInput {
  volumeId: unknown;
  name?: unknown;
  description?: unknown;
  container?: unknown;
  incremental?: unknown;
  force?: unknown;
  snapshotId?: unknown;
  metadata?: unknown;
  availabilityZone?: unknown;
}

export interface BackupFilter {
  allTenants: boolean;
  projectId?: string | undefined;
  name?: string | undefined;
  status?: string | undefined;
  volumeId?: string | undefined;
}

/** Volume backups by cinder-backup (swift driver): `creating` -> `available` -> `deleting` -> gone, with backup.* notifications. */
export class Backups {
  constructor(
    private readonly store: CinderStore,
    private readonly snapshots: Snapshots,
    private readonly notifications: CinderNotifications,
    private readonly transitions: Transitions,
    private readonly clock: Clock,
    private readonly config: CinderConfig,
  ) {}

  private now(): string {
    return this.clock.now().toISOString();
  }

  get(id: string, context: RequestContext): Backup {
    const backup = this.store.backup(id);
    const scope = projectScope(context);
    if (!backup || (scope !== null && backup.project_id !== scope)) throw backupNotFound(id);
    return backup;
  }

  hasDependents(id: string): boolean {
    return this.store.dependentBackups(id) > 0;
  }

  list(filter: BackupFilter, context: RequestContext): Backup[] {
    return this.store
      .listBackups(listingScope(context, filter.allTenants, filter.projectId))
      .filter((b) => filter.name === undefined || b.name === filter.name)
      .filter((b) => filter.status === undefined || b.status === filter.status)
      .filter((b) => filter.volumeId === undefined || b.volume_id === filter.volumeId);
  }

  /**
   * POST /backups: the volume (or its snapshot) is `backing-up` while cinder-backup copies
   * it; the backup goes `creating` -> `available` with backup.create.start/end, and the
   * source returns to its previous status.
   */
  create(input: BackupInput, context: RequestContext): Backup {
    if (!context.projectId || !context.userId) throw badRequest('Creating a backup needs a project-scoped token.');
    if (typeof input.volumeId !== 'string' || !input.volumeId) throw badRequest("Invalid input for field/attribute volume_id. Value: None. None is not of type 'string'");
    const volume = requireVolume(this.store, input.volumeId, projectScope(context));
    const force = input.force === undefined || input.force === null ? false : parseBool(input.force);
    const incremental = input.incremental === undefined || input.incremental === null ? false : parseBool(input.incremental);
    if (force === undefined) throw badRequest(`Invalid input for field/attribute force. Value: ${String(input.force)}.`);
    if (incremental === undefined) throw badRequest(`Invalid input for field/attribute incremental. Value: ${String(input.incremental)}.`);
    let snapshot: Snapshot | null = null;
    if (input.snapshotId !== undefined && input.snapshotId !== null) {
      snapshot = this.snapshots.get(String(input.snapshotId), context);
      if (snapshot.volume_id !== volume.id) throw invalidVolume(`Volume ${volume.id} does not match with snapshot.volume_id ${snapshot.volume_id}.`);
      if (snapshot.status !== 'available') throw invalidSnapshot(`Snapshot to be backed up must be available, but the current status is "${snapshot.status}".`);
    } else if (!['available', 'in-use'].includes(volume.status)) {
      throw invalidVolume(`Volume to be backed up must be available or in-use, but the current status is "${volume.status}".`);
    } else if (volume.status === 'in-use' && !force) {
      throw invalidVolume('Backing up an in-use volume must use the force flag.');
    }
    const asked = input.availabilityZone === undefined || input.availabilityZone === null ? null : String(input.availabilityZone);
    if (asked !== null && asked !== this.config.availabilityZone) throw invalidAvailabilityZone(asked);
    let parent: Backup | null = null;
    if (incremental) {
      // The parent is the newest available backup of the volume by data time, as Cinder picks it.
      const dataTime = (b: Backup) => b.data_timestamp ?? b.created_at;
      const candidates = this.store.backupsOf(volume.id).filter((b) => b.status === 'available' && (!snapshot || dataTime(b) < snapshot.created_at));
      parent = candidates.sort((a, b) => dataTime(b).localeCompare(dataTime(a)))[0] ?? null;
      if (!parent) throw invalidBackup('No backups available to do an incremental backup.');
    }
    const now = this.now();
    const backup: Backup = {
      id: randomUUID(),
      project_id: context.projectId,
      user_id: context.userId,
      volume_id: volume.id,
      snapshot_id: snapshot?.id ?? null,
      name: optionalText('name', input.name),
      description: optionalText('description', input.description, MAX_DESCRIPTION),
      status: 'creating',
      size: volume.size,
      object_count: 0,
      container: optionalText('container', input.container),
      availability_zone: asked ?? this.config.availabilityZone,
      host: null,
      service: null,
      service_metadata: null,
      fail_reason: null,
      parent_id: parent?.id ?? null,
      metadata: checkMetadata(input.metadata),
      data_timestamp: snapshot ? snapshot.created_at : now,
      created_at: now,
      updated_at: null,
      deleted: false,
      deleted_at: null,
    };
    this.store.transaction(() => {
      this.store.insertBackup(backup);
      if (snapshot) this.store.updateSnapshot(snapshot.id, { status: 'backing-up', updated_at: now });
      else this.store.updateVolume(volume.id, { status: 'backing-up', previous_status: volume.status, updated_at: now });
    });
    this.transitions.later(() => this.finishCreate(backup.id, context));
    return backup;
  }

  private async finishCreate(id: string, context: RequestContext): Promise<void> {
    const pending = this.store.backup(id);
    if (!pending || pending.status !== 'creating') return;
    // 1. cinder-backup picks it up: host and driver are known from here on.
    const started = this.store.updateBackup(id, { host: this.config.backupHost, service: BACKUP_SERVICE, container: pending.container ?? DEFAULT_BACKUP_CONTAINER, updated_at: this.now() });
    await this.notifications.backup(started, 'create.start', context);
    // 2. The copy is done: the source returns to what it was before the backup is announced, so a reader of create.end can use it.
    const now = this.now();
    const stamp = now.replace(/[-:T]/g, '').slice(0, 14);
    const created = this.store.transaction(() => {
      if (started.snapshot_id) {
        const snapshot = this.store.snapshot(started.snapshot_id);
        if (snapshot?.status === 'backing-up') this.store.updateSnapshot(snapshot.id, { status: 'available', updated_at: now });
      } else {
        const volume = this.store.volume(started.volume_id);
        if (volume?.status === 'backing-up') this.store.updateVolume(volume.id, { status: volume.previous_status ?? 'available', previous_status: 'backing-up', updated_at: now });
      }
      return this.store.updateBackup(id, {
        status: 'available',
        object_count: Math.ceil((started.size * 1024 ** 3) / BACKUP_OBJECT_BYTES),
        service_metadata: `volume_${started.volume_id}/${stamp}/az_${started.availability_zone ?? this.config.availabilityZone}_backup_${id}`,
        updated_at: now,
      });
    });
    await this.notifications.backup(created, 'create.end', context);
  }

  /** DELETE /backups/{id}: available or error (os-force_delete: any, admin), without incremental children; `deleting`, then gone. */
  delete(id: string, context: RequestContext, force = false): Backup {
    const backup = this.get(id, context);
    if (force && !context.isAdmin) throw policyNotAuthorized('volume_extension:backup_admin_actions:force_delete');
    if (!force && !['available', 'error'].includes(backup.status)) throw invalidBackup('Backup status must be available or error');
    if (this.store.dependentBackups(id) > 0) throw invalidBackup('Incremental backups exist for this backup.');
    const deleting = this.store.updateBackup(id, { status: 'deleting', updated_at: this.now() });
    this.transitions.later(async () => {
      const current = this.store.backup(id);
      if (!current || current.status !== 'deleting') return;
      await this.notifications.backup(current, 'delete.start', context);
      const now = this.now();
      const deleted = this.store.updateBackup(id, { status: 'deleted', deleted: true, deleted_at: now, updated_at: now });
      await this.notifications.backup(deleted, 'delete.end', context);
    });
    return deleting;
  }
}
