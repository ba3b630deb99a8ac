import type { Clock, Logger } from '../../core/index.ts';
import { errorMessage } from '../../core/index.ts';
import type { NotificationPriority, Notifier, RequestContext } from '../notifier.ts';
import { newRequestId } from '../request-context.ts';
import type { CinderConfig } from './config.ts';
import type { Backup, Snapshot, Volume } from './model.ts';
import type { CinderStore } from './store.ts';
import { backupUsage, capacityUsage, pythonStr, snapshotUsage, volumeUsage } from './usage.ts';

/** Cinder's admin context (context.get_admin_context()): what periodic tasks and internal callers act as. */
export function adminContext(): RequestContext {
  return { requestId: newRequestId(), userId: null, userName: null, projectId: null, projectName: null, domainId: null, roles: [], isAdmin: true, remoteAddress: null };
}

/**
 * What Cinder's services publish on the `cinder` exchange, each under its own publisher
 * id (`<service>.<host>`, as rpc.get_notifier builds it): cinder-volume's `volume.*` and
 * `snapshot.*`, cinder-backup's `backup.*`, cinder-api's `*.update.*`, cinder-scheduler's
 * `capacity.*` and `scheduler.*`.
 */
export class CinderNotifications {
  constructor(
    private readonly store: CinderStore,
    private readonly notifier: Notifier,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly config: CinderConfig,
  ) {}

  /** The volumes' host: `host@backend#pool`. */
  get volumeHost(): string {
    return `${this.config.backendHost}#${this.config.pool}`;
  }

  /** Like oslo's notifier, a failed publish is logged and never fails the operation that emitted it. */
  async publish(publisherId: string, eventType: string, payload: Record<string, unknown>, context: RequestContext, priority: NotificationPriority = 'INFO'): Promise<void> {
    try {
      await this.notifier.notify({ exchange: 'cinder', publisherId, eventType, priority, payload, context });
    } catch (err) {
      this.logger.error({ err: errorMessage(err), eventType }, 'cinder: a notification could not be published');
    }
  }

  /** `volume.<suffix>` from cinder-volume (the backend host unless told), cinder-api passes its own. */
  volume(volume: Volume, suffix: string, context: RequestContext, options: { publisher?: string; extra?: Record<string, unknown> } = {}): Promise<void> {
    const payload = volumeUsage(volume, this.store.attachmentsOf(volume.id), this.clock.now(), options.extra);
    return this.publish(`volume.${options.publisher ?? this.config.backendHost}`, `volume.${suffix}`, payload, context);
  }

  snapshot(snapshot: Snapshot, suffix: string, context: RequestContext, options: { publisher?: string; extra?: Record<string, unknown> } = {}): Promise<void> {
    // The snapshot's volume is read even when deleted, as cinder reads it with read_deleted="yes".
    const payload = snapshotUsage(snapshot, this.store.volume(snapshot.volume_id, true), options.extra);
    return this.publish(`snapshot.${options.publisher ?? this.config.backendHost}`, `snapshot.${suffix}`, payload, context);
  }

  backup(backup: Backup, suffix: string, context: RequestContext, extra: Record<string, unknown> = {}): Promise<void> {
    const payload = backupUsage(backup, this.store.dependentBackups(backup.id), extra);
    return this.publish(`backup.${this.config.backupHost}`, `backup.${suffix}`, payload, context);
  }

  /** cinder-scheduler's `scheduler.<method>` on notifications.error when no backend can take a request. */
  schedulerError(method: string, volume: Volume, reason: string, context: RequestContext): Promise<void> {
    const properties = { size: volume.size, availability_zone: volume.availability_zone, volume_type_id: volume.volume_type_id, status: 'creating', project_id: volume.project_id, user_id: volume.user_id, display_name: volume.name };
    return this.publish(
      `scheduler.${this.config.schedulerHost}`,
      `scheduler.${method}`,
      { request_spec: { volume_id: volume.id, volume_properties: properties }, volume_properties: properties, volume_id: volume.id, state: { volume_state: { status: volume.status } }, method, reason },
      context,
      'ERROR',
    );
  }

  /**
   * cinder-volume-usage-audit: one `volume.exists`, `snapshot.exists` and `backup.exists`
   * per resource that existed at some time in [beginning, ending), deleted ones included,
   * with the period as `str(datetime)`. Returns how many notifications it sent.
   */
  async exists(beginning: Date, ending: Date): Promise<number> {
    if (!(ending.getTime() > beginning.getTime())) throw new RangeError(`the audit period must end after it begins; got ${beginning.toISOString()} .. ${ending.toISOString()}`);
    const context = adminContext();
    const period = { audit_period_beginning: pythonStr(beginning), audit_period_ending: pythonStr(ending) };
    const from = beginning.toISOString();
    const to = ending.toISOString();
    let sent = 0;
    for (const volume of this.store.volumesActiveIn(from, to)) {
      await this.volume(volume, 'exists', context, { extra: period });
      sent += 1;
    }
    for (const snapshot of this.store.snapshotsActiveIn(from, to)) {
      await this.snapshot(snapshot, 'exists', context, { extra: period });
      sent += 1;
    }
    for (const backup of this.store.backupsActiveIn(from, to)) {
      await this.backup(backup, 'exists', context, period);
      sent += 1;
    }
    return sent;
  }

  /**
   * cinder-scheduler's capacity report for the one thick-provisioned pool and its backend
   * (`capacity.pool`, then `capacity.backend`).
   */
  async capacity(): Promise<void> {
    const context = adminContext();
    const allocated = this.store.allocatedGb();
    const total = this.config.capacityGb;
    const free = Math.max(0, total - allocated);
    const reportedAt = this.clock.now();
    const publisher = `capacity.${this.config.schedulerHost}`;
    await this.publish(publisher, 'capacity.pool', capacityUsage({ nameToId: this.volumeHost, total, free, allocated, provisioned: allocated, virtualFree: free, reportedAt }), context);
    await this.publish(publisher, 'capacity.backend', capacityUsage({ nameToId: this.config.backendHost, total, free, allocated, provisioned: allocated, virtualFree: free, reportedAt }), context);
  }
}
