import type { Backup, Snapshot, Volume, VolumeAttachment } from './model.ts';

/**
 * Cinder's notification payloads (cinder/volume/volume_utils.py: _usage_from_volume,
 * _usage_from_snapshot, _usage_from_backup, _usage_from_capacity), with Python's own
 * renderings of times, because Ceilometer and anything else reading real Cinder parse
 * exactly these strings.
 */

const micros = (date: Date) => `${String(date.getUTCMilliseconds()).padStart(3, '0')}000`;

/** `datetime.isoformat()` of an aware UTC datetime: microseconds only when not zero, as Python omits them. */
export function pythonIsoformat(iso: string): string {
  const date = new Date(iso);
  const fraction = date.getUTCMilliseconds() === 0 ? '' : `.${micros(date)}`;
  return `${date.toISOString().slice(0, 19)}${fraction}+00:00`;
}

/** `datetime.isoformat()` of a naive datetime (what `timeutils.utcnow()` gives). */
export function pythonNaiveIsoformat(date: Date): string {
  const fraction = date.getUTCMilliseconds() === 0 ? '' : `.${micros(date)}`;
  return `${date.toISOString().slice(0, 19)}${fraction}`;
}

/** `str(datetime)` of an aware UTC datetime, as the usage audit renders its period. */
export function pythonStr(date: Date): string {
  const fraction = date.getUTCMilliseconds() === 0 ? '' : `.${micros(date)}`;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}${fraction}+00:00`;
}

/** oslo.serialization's rendering of a datetime inside a payload or an API body: `%Y-%m-%dT%H:%M:%S.%f`. */
export function strtime(iso: string | null): string | null {
  if (!iso) return null;
  const date = new Date(iso);
  return `${date.toISOString().slice(0, 19)}.${micros(date)}`;
}

/** Python's repr() of a str -> str dict, as `null_safe_str(snapshot.metadata)` puts it in snapshot payloads. */
export function pythonDictRepr(map: Record<string, string>): string {
  const quote = (s: string) => {
    const q = s.includes("'") && !s.includes('"') ? '"' : "'";
    return `${q}${s.replace(/\\/g, '\\\\').replace(q === "'" ? /'/g : /"/g, q === "'" ? "\\'" : '\\"').replace(/\n/g, '\\n')}${q}`;
  };
  return `{${Object.entries(map).map(([k, v]) => `${quote(k)}: ${quote(v)}`).join(', ')}}`;
}

/**
 * An attachment row as it reaches a payload (the volume_attachment table's columns).
 * `server_id` is not a column: Ceilometer's meters.yaml reads
 * `$.payload.volume_attachment[0].server_id` for the volume.size meter's instance_id,
 * so we carry the instance under that name too.
 */
function attachmentRow(a: VolumeAttachment): Record<string, unknown> {
  return {
    id: a.id,
    volume_id: a.volume_id,
    instance_uuid: a.instance_uuid,
    server_id: a.instance_uuid,
    attached_host: a.attached_host,
    mountpoint: a.mountpoint,
    attach_time: strtime(a.attach_time),
    detach_time: strtime(a.detach_time),
    attach_mode: a.attach_mode,
    attach_status: a.attach_status,
    created_at: strtime(a.created_at),
    updated_at: strtime(a.updated_at),
    deleted_at: strtime(a.deleted_at),
    deleted: a.deleted,
  };
}

/** `_usage_from_volume`: `volume_type` is the type's id, `launched_at` falls back to now (naive) before the volume is up. */
export function volumeUsage(volume: Volume, attachments: readonly VolumeAttachment[], now: Date, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    tenant_id: volume.project_id,
    host: volume.host,
    user_id: volume.user_id,
    availability_zone: volume.availability_zone,
    volume_id: volume.id,
    volume_type: volume.volume_type_id,
    display_name: volume.name,
    launched_at: volume.launched_at ? pythonIsoformat(volume.launched_at) : pythonNaiveIsoformat(now),
    created_at: pythonIsoformat(volume.created_at),
    status: volume.status,
    snapshot_id: volume.snapshot_id,
    size: volume.size,
    replication_status: 'disabled',
    replication_extended_status: null,
    replication_driver_data: null,
    metadata: Object.entries(volume.metadata).map(([key, value]) => ({ key, value })),
    ...extra,
    volume_attachment: attachments.map(attachmentRow),
  };
  // Only volumes made from an image have glance metadata; Ceilometer reads image_id from it.
  if (volume.image_id) payload.glance_metadata = [{ volume_id: volume.id, snapshot_id: null, key: 'image_id', value: volume.image_id }];
  return payload;
}

/** `_usage_from_snapshot`: `deleted` and `metadata` are Python str() renderings there. */
export function snapshotUsage(snapshot: Snapshot, volume: Volume | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tenant_id: snapshot.project_id,
    user_id: snapshot.user_id,
    availability_zone: volume?.availability_zone ?? null,
    volume_id: snapshot.volume_id,
    volume_size: snapshot.volume_size,
    snapshot_id: snapshot.id,
    display_name: snapshot.name,
    created_at: pythonIsoformat(snapshot.created_at),
    status: snapshot.status,
    deleted: snapshot.deleted ? 'True' : 'False',
    metadata: pythonDictRepr(snapshot.metadata),
    ...extra,
  };
}

/** `_usage_from_backup`. */
export function backupUsage(backup: Backup, dependents: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tenant_id: backup.project_id,
    user_id: backup.user_id,
    availability_zone: backup.availability_zone,
    backup_id: backup.id,
    host: backup.host,
    display_name: backup.name,
    created_at: pythonIsoformat(backup.created_at),
    status: backup.status,
    volume_id: backup.volume_id,
    size: backup.size,
    service_metadata: backup.service_metadata,
    service: backup.service,
    fail_reason: backup.fail_reason,
    parent_id: backup.parent_id,
    num_dependent_backups: dependents,
    snapshot_id: backup.snapshot_id,
    ...extra,
  };
}

export interface Capacity {
  nameToId: string;
  total: number;
  free: number;
  allocated: number;
  provisioned: number;
  virtualFree: number;
  reportedAt: Date;
}

/** `_usage_from_capacity`: what the scheduler emits as `capacity.pool` and `capacity.backend`. */
export function capacityUsage(capacity: Capacity): Record<string, unknown> {
  return {
    name_to_id: capacity.nameToId,
    total: capacity.total,
    free: capacity.free,
    allocated: capacity.allocated,
    provisioned: capacity.provisioned,
    virtual_free: capacity.virtualFree,
    reported_at: strtime(capacity.reportedAt.toISOString()),
  };
}
