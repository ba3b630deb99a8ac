import { randomUUID } from 'node:crypto';
import type { Clock } from '../../core/index.ts';
import { badRequest } from '../errors.ts';
import type { RequestContext } from '../notifier.ts';
import { listingScope, projectScope, requireVolume } from './access.ts';
import { invalidSnapshot, invalidVolume, policyNotAuthorized, snapshotNotFound } from './errors.ts';
import type { Snapshot } from './model.ts';
import type { CinderNotifications } from './notifications.ts';
import type { CinderStore } from './store.ts';
import type { Transitions } from './transitions.ts';
import { MAX_DESCRIPTION, checkMetadata, optionalText, parseBool } from './validation.ts';

const SNAPSHOT_IN_USE_FLAG_MSG =
  "Since microversion 3.66 the 'force' flag is invalid for this request.  For backward compatability, however, when the 'force' flag is passed with a value evaluating to True, it is silently ignored.";

export interface SnapshotFilter {
  allTenants: boolean;
  projectId?: string | undefined;
  name?: string | undefined;
  status?: string | undefined;
  volumeId?: string | undefined;
}

/** Volume snapshots: `creating` -> `available` -> `deleting` -> gone, with cinder-volume's snapshot.* notifications. */
export class Snapshots {
  constructor(
    private readonly store: CinderStore,
    private readonly notifications: CinderNotifications,
    private readonly transitions: Transitions,
    private readonly clock: Clock,
    /** cinder-api's host: the API, not cinder-volume, emits snapshot.update.*. */
    private readonly apiHost: string,
  ) {}

  private now(): string {
    return this.clock.now().toISOString();
  }

  get(id: string, context: RequestContext): Snapshot {
    const snapshot = this.store.snapshot(id);
    const scope = projectScope(context);
    if (!snapshot || (scope !== null && snapshot.project_id !== scope)) throw snapshotNotFound(id);
    return snapshot;
  }

  list(filter: SnapshotFilter, context: RequestContext): Snapshot[] {
    return this.store
      .listSnapshots(listingScope(context, filter.allTenants, filter.projectId))
      .filter((s) => filter.name === undefined || s.name === filter.name)
      .filter((s) => filter.status === undefined || s.status === filter.status)
      .filter((s) => filter.volumeId === undefined || s.volume_id === filter.volumeId);
  }

  /**
   * POST /snapshots: `creating` then `available`, with snapshot.create.start/end. An
   * in-use volume needs force, or microversion 3.66 (`allowInUse`), where force=false is refused.
   */
  create(input: { volumeId: unknown; name?: unknown; description?: unknown; force?: unknown; metadata?: unknown }, allowInUse: boolean, context: RequestContext): Snapshot {
    if (!context.projectId || !context.userId) throw badRequest('Creating a snapshot needs a project-scoped token.');
    if (typeof input.volumeId !== 'string' || !input.volumeId) throw badRequest("Invalid input for field/attribute volume_id. Value: None. None is not of type 'string'");
    const volume = requireVolume(this.store, input.volumeId, projectScope(context));
    let force = false;
    if (input.force !== undefined && input.force !== null) {
      const parsed = parseBool(input.force);
      if (parsed === undefined) throw badRequest(`Invalid input for field/attribute force. Value: ${String(input.force)}. ${JSON.stringify(input.force)} is not a valid boolean.`);
      if (allowInUse && parsed === false) throw badRequest(SNAPSHOT_IN_USE_FLAG_MSG);
      force = parsed;
    }
    if (!volume.host) throw invalidVolume('The snapshot cannot be created because volume has not been scheduled to any host.');
    if (volume.status === 'maintenance') throw invalidVolume('The snapshot cannot be created when the volume is in maintenance mode.');
    if (volume.status === 'error') throw invalidVolume('The snapshot cannot be created when the volume is in error status.');
    const valid = force || allowInUse ? ['available', 'in-use'] : ['available'];
    if (!valid.includes(volume.status)) throw invalidVolume(`Volume ${volume.id} status must be ${valid.join(', ')}, but current status is: ${volume.status}.`);
    const snapshot: Snapshot = {
      id: randomUUID(),
      project_id: context.projectId,
      user_id: context.userId,
      volume_id: volume.id,
      name: optionalText('name', input.name),
      description: optionalText('description', input.description, MAX_DESCRIPTION),
      status: 'creating',
      progress: '0%',
      volume_size: volume.size,
      volume_type_id: volume.volume_type_id,
      metadata: checkMetadata(input.metadata),
      created_at: this.now(),
      updated_at: null,
      deleted: false,
      deleted_at: null,
    };
    this.store.insertSnapshot(snapshot);
    this.transitions.later(() => this.finishCreate(snapshot.id, context));
    return snapshot;
  }

  private async finishCreate(id: string, context: RequestContext): Promise<void> {
    const pending = this.store.snapshot(id);
    if (!pending || pending.status !== 'creating') return;
    await this.notifications.snapshot(pending, 'create.start', context);
    const current = this.store.snapshot(id);
    if (!current || current.status !== 'creating') return;
    const created = this.store.updateSnapshot(id, { status: 'available', progress: '100%', updated_at: this.now() });
    await this.notifications.snapshot(created, 'create.end', context);
  }

  /** PUT /snapshots/{id}: name and description, with snapshot.update.start/end from cinder-api. */
  async update(id: string, input: { name?: unknown; description?: unknown }, context: RequestContext): Promise<Snapshot> {
    const snapshot = this.get(id, context);
    const changes: Partial<Snapshot> = { updated_at: this.now() };
    if (input.name !== undefined) changes.name = optionalText('name', input.name);
    if (input.description !== undefined) changes.description = optionalText('description', input.description, MAX_DESCRIPTION);
    await this.notifications.snapshot(snapshot, 'update.start', context, { publisher: this.apiHost });
    const updated = this.store.updateSnapshot(id, changes);
    await this.notifications.snapshot(updated, 'update.end', context, { publisher: this.apiHost });
    return updated;
  }

  /** POST merges, PUT replaces. */
  setMetadata(id: string, metadata: unknown, replace: boolean, context: RequestContext): Record<string, string> {
    const snapshot = this.get(id, context);
    const merged = replace ? checkMetadata(metadata) : { ...snapshot.metadata, ...checkMetadata(metadata) };
    return this.store.updateSnapshot(id, { metadata: merged, updated_at: this.now() }).metadata;
  }

  deleteMetadataKey(id: string, key: string, context: RequestContext): void {
    const snapshot = this.get(id, context);
    if (!(key in snapshot.metadata)) throw badRequest(`Snapshot ${id} has no metadata with key ${key}.`);
    const { [key]: _removed, ...rest } = snapshot.metadata;
    this.store.updateSnapshot(id, { metadata: rest, updated_at: this.now() });
  }

  /** DELETE /snapshots/{id}: available or error only (os-force_delete: any, admin); `deleting`, then gone. */
  delete(id: string, context: RequestContext, force = false): Snapshot {
    const snapshot = this.get(id, context);
    if (force && !context.isAdmin) throw policyNotAuthorized('volume_extension:snapshot_admin_actions:force_delete');
    if (!force && !['available', 'error'].includes(snapshot.status)) throw invalidSnapshot('Snapshot status must be available or error and must not be part of a group.');
    const deleting = this.store.updateSnapshot(id, { status: 'deleting', updated_at: this.now() });
    this.transitions.later(() => this.destroy(id, context));
    return deleting;
  }

  /** cinder-volume's delete_snapshot: snapshot.delete.start, gone, snapshot.delete.end. Also the volumes' cascade. */
  async destroy(id: string, context: RequestContext): Promise<void> {
    const snapshot = this.store.snapshot(id);
    if (!snapshot || snapshot.status !== 'deleting') return;
    await this.notifications.snapshot(snapshot, 'delete.start', context);
    const now = this.now();
    const deleted = this.store.updateSnapshot(id, { status: 'deleted', deleted: true, deleted_at: now, updated_at: now });
    await this.notifications.snapshot(deleted, 'delete.end', context);
  }
}
