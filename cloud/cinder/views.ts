import { deriveId } from '../../core/index.ts';
import type { RequestContext } from '../notifier.ts';
import { MV, atLeast, type Microversion } from './microversion.ts';
import type { Backup, Snapshot, Volume, VolumeAttachment, VolumeType } from './model.ts';
import type { CinderService } from './service.ts';
import { strtime } from './usage.ts';

/** What every view needs of the request it answers. */
export interface ViewScope {
  /** The public base of the service: `<publicUrl>/volume`. */
  base: string;
  /** The project id the URL carried (null on the project-less URLs of 3.67+). */
  urlProjectId: string | null;
  context: RequestContext;
  mv: Microversion;
}

/** Cinder's links: `self` under /v3, `bookmark` without the version, both with the URL's project. */
export function links(scope: ViewScope, collection: string, id: string): Array<{ rel: string; href: string }> {
  const project = scope.urlProjectId ? `/${scope.urlProjectId}` : '';
  return [
    { rel: 'self', href: `${scope.base}/v3${project}/${collection}/${id}` },
    { rel: 'bookmark', href: `${scope.base}${project}/${collection}/${id}` },
  ];
}

/** The `<collection>_links` next link, present when a page is full (cinder's _get_collection_links). */
export function nextLink(scope: ViewScope, path: string, query: Record<string, string>, lastId: string): Array<{ rel: string; href: string }> {
  const project = scope.urlProjectId ? `/${scope.urlProjectId}` : '';
  const params = new URLSearchParams({ ...query, marker: lastId });
  return [{ rel: 'next', href: `${scope.base}/v3${project}/${path}?${params.toString()}` }];
}

export function volumeTypeView(type: VolumeType, service: CinderService, scope: ViewScope): Record<string, unknown> {
  return {
    id: type.id,
    name: type.name,
    is_public: type.is_public,
    description: type.description,
    extra_specs: service.types.visibleExtraSpecs(type, scope.context),
    ...(scope.context.isAdmin ? { qos_specs_id: null } : {}),
    'os-volume-type-access:is_public': type.is_public,
  };
}

function attachmentsView(attachments: readonly VolumeAttachment[], context: RequestContext): Array<Record<string, unknown>> {
  return attachments
    .filter((a) => a.attach_status === 'attached')
    .map((a) => ({
      id: a.volume_id,
      attachment_id: a.id,
      volume_id: a.volume_id,
      server_id: a.instance_uuid,
      // Only admins (and services) see the compute host, as in cinder's view builder.
      host_name: context.isAdmin || context.roles.includes('service') ? a.attached_host : null,
      device: a.mountpoint,
      attached_at: strtime(a.attach_time),
    }));
}

export function volumeSummaryView(volume: Volume, scope: ViewScope): Record<string, unknown> {
  return { id: volume.id, name: volume.name, links: links(scope, 'volumes', volume.id) };
}

/** Cinder v3's detailed volume (cinder/api/v3/views/volumes.py plus the contrib extensions' attributes). */
export function volumeDetailView(volume: Volume, service: CinderService, scope: ViewScope): Record<string, unknown> {
  const { context, mv } = scope;
  const type = service.types.of(volume);
  const view: Record<string, unknown> = {
    id: volume.id,
    status: volume.status,
    size: volume.size,
    availability_zone: volume.availability_zone,
    created_at: strtime(volume.created_at),
    updated_at: strtime(volume.updated_at),
    name: volume.name,
    description: volume.description,
    volume_type: type?.name ?? volume.volume_type_id,
    snapshot_id: volume.snapshot_id,
    source_volid: volume.source_volid,
    metadata: volume.metadata,
    links: links(scope, 'volumes', volume.id),
    user_id: volume.user_id,
    bootable: volume.bootable ? 'true' : 'false',
    encrypted: false,
    replication_status: 'disabled',
    consistencygroup_id: null,
    multiattach: volume.multiattach,
    attachments: attachmentsView(service.attachmentsOf(volume.id), context),
    'os-vol-tenant-attr:tenant_id': volume.project_id,
  };
  if (volume.image_id) view.volume_image_metadata = { image_id: volume.image_id };
  if (context.isAdmin) {
    view.migration_status = null;
    view['os-vol-host-attr:host'] = volume.host;
    view['os-vol-mig-status-attr:migstat'] = null;
    view['os-vol-mig-status-attr:name_id'] = null;
  }
  if (atLeast(mv, MV.GROUP_VOLUME)) view.group_id = null;
  if (context.isAdmin && atLeast(mv, MV.VOLUME_DETAIL_PROVIDER_ID)) view.provider_id = null;
  if (atLeast(mv, MV.VOLUME_SHARED_TARGETS_AND_SERVICE_FIELDS)) {
    view.shared_targets = false;
    view.service_uuid = volume.host ? deriveId('cinder-service', volume.host.split('#')[0] ?? volume.host) : null;
  }
  if (context.isAdmin && atLeast(mv, MV.VOLUME_CLUSTER_NAME)) view.cluster_name = null;
  if (atLeast(mv, MV.VOLUME_TYPE_ID_IN_VOLUME_DETAIL)) view.volume_type_id = volume.volume_type_id;
  if (atLeast(mv, MV.USE_QUOTA)) view.consumes_quota = true;
  return view;
}

/**
 * A snapshot (cinder/api/v3/views/snapshots.py). The extended attributes (project and
 * progress) come from an extension that decorates show and detail only.
 */
export function snapshotView(snapshot: Snapshot, scope: ViewScope, extended: boolean): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: snapshot.id,
    created_at: strtime(snapshot.created_at),
    updated_at: strtime(snapshot.updated_at),
    name: snapshot.name,
    description: snapshot.description,
    volume_id: snapshot.volume_id,
    status: snapshot.status,
    size: snapshot.volume_size,
    metadata: snapshot.metadata,
  };
  if (atLeast(scope.mv, MV.GROUP_SNAPSHOTS)) view.group_snapshot_id = null;
  if (atLeast(scope.mv, MV.SNAPSHOT_LIST_USER_ID)) view.user_id = snapshot.user_id;
  if (atLeast(scope.mv, MV.USE_QUOTA)) view.consumes_quota = true;
  if (extended) {
    view['os-extended-snapshot-attributes:project_id'] = snapshot.project_id;
    view['os-extended-snapshot-attributes:progress'] = snapshot.progress;
  }
  return view;
}

export function backupSummaryView(backup: Backup, scope: ViewScope): Record<string, unknown> {
  return { id: backup.id, name: backup.name, links: links(scope, 'backups', backup.id) };
}

export function backupDetailView(backup: Backup, service: CinderService, scope: ViewScope): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: backup.id,
    status: backup.status,
    size: backup.size,
    object_count: backup.object_count,
    availability_zone: backup.availability_zone,
    container: backup.container,
    created_at: strtime(backup.created_at),
    updated_at: strtime(backup.updated_at),
    name: backup.name,
    description: backup.description,
    fail_reason: backup.fail_reason,
    volume_id: backup.volume_id,
    links: links(scope, 'backups', backup.id),
    is_incremental: backup.parent_id !== null,
    has_dependent_backups: service.backups.hasDependents(backup.id),
    snapshot_id: backup.snapshot_id,
    data_timestamp: strtime(backup.data_timestamp),
  };
  if (atLeast(scope.mv, MV.BACKUP_METADATA)) view.metadata = backup.metadata;
  if (scope.context.isAdmin && atLeast(scope.mv, MV.BACKUP_PROJECT)) view['os-backup-project-attr:project_id'] = backup.project_id;
  if (atLeast(scope.mv, MV.BACKUP_USER_ID)) view.user_id = backup.user_id;
  return view;
}
