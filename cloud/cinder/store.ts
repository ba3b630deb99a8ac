import type { StateDatabase } from '../../core/index.ts';
import type { AttachStatus, Backup, Snapshot, Volume, VolumeAttachment, VolumeType } from './model.ts';

type Row = Record<string, unknown>;
type Cell = string | number | null;

const json = (value: unknown) => JSON.parse(String(value ?? '{}')) as Record<string, string>;
const bool = (value: unknown) => value === 1;
const text = (value: unknown) => (value === null || value === undefined ? null : String(value));

const toType = (r: Row): VolumeType => ({
  id: String(r.id),
  name: String(r.name),
  description: text(r.description),
  is_public: bool(r.is_public),
  extra_specs: json(r.extra_specs),
  created_at: String(r.created_at),
  updated_at: text(r.updated_at),
  deleted: bool(r.deleted),
  deleted_at: text(r.deleted_at),
});

const toVolume = (r: Row): Volume => ({
  id: String(r.id),
  project_id: String(r.project_id),
  user_id: String(r.user_id),
  name: text(r.name),
  description: text(r.description),
  size: Number(r.size),
  status: String(r.status),
  attach_status: String(r.attach_status) as AttachStatus,
  previous_status: text(r.previous_status),
  volume_type_id: String(r.volume_type_id),
  availability_zone: String(r.availability_zone),
  host: text(r.host),
  bootable: bool(r.bootable),
  multiattach: bool(r.multiattach),
  readonly: bool(r.readonly),
  snapshot_id: text(r.snapshot_id),
  source_volid: text(r.source_volid),
  image_id: text(r.image_id),
  metadata: json(r.metadata),
  created_at: String(r.created_at),
  updated_at: text(r.updated_at),
  launched_at: text(r.launched_at),
  terminated_at: text(r.terminated_at),
  deleted: bool(r.deleted),
  deleted_at: text(r.deleted_at),
});

const toAttachment = (r: Row): VolumeAttachment => ({
  id: String(r.id),
  volume_id: String(r.volume_id),
  instance_uuid: text(r.instance_uuid),
  attached_host: text(r.attached_host),
  mountpoint: text(r.mountpoint),
  attach_mode: String(r.attach_mode),
  attach_status: String(r.attach_status) as AttachStatus,
  attach_time: text(r.attach_time),
  detach_time: text(r.detach_time),
  created_at: String(r.created_at),
  updated_at: text(r.updated_at),
  deleted: bool(r.deleted),
  deleted_at: text(r.deleted_at),
});

const toSnapshot = (r: Row): Snapshot => ({
  id: String(r.id),
  project_id: String(r.project_id),
  user_id: String(r.user_id),
  volume_id: String(r.volume_id),
  name: text(r.name),
  description: text(r.description),
  status: String(r.status),
  progress: String(r.progress),
  volume_size: Number(r.volume_size),
  volume_type_id: text(r.volume_type_id),
  metadata: json(r.metadata),
  created_at: String(r.created_at),
  updated_at: text(r.updated_at),
  deleted: bool(r.deleted),
  deleted_at: text(r.deleted_at),
});

const toBackup = (r: Row): Backup => ({
  id: String(r.id),
  project_id: String(r.project_id),
  user_id: String(r.user_id),
  volume_id: String(r.volume_id),
  snapshot_id: text(r.snapshot_id),
  name: text(r.name),
  description: text(r.description),
  status: String(r.status),
  size: Number(r.size),
  object_count: Number(r.object_count),
  container: text(r.container),
  availability_zone: text(r.availability_zone),
  host: text(r.host),
  service: text(r.service),
  service_metadata: text(r.service_metadata),
  fail_reason: text(r.fail_reason),
  parent_id: text(r.parent_id),
  metadata: json(r.metadata),
  data_timestamp: text(r.data_timestamp),
  created_at: String(r.created_at),
  updated_at: text(r.updated_at),
  deleted: bool(r.deleted),
  deleted_at: text(r.deleted_at),
});

/** A model value as SQLite stores it: booleans as 0/1, maps as JSON. */
const cell = (value: unknown): Cell => {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' || typeof value === 'string') return value;
  return JSON.stringify(value);
};

type Table = 'cinder_volume_types' | 'cinder_volumes' | 'cinder_volume_attachments' | 'cinder_snapshots' | 'cinder_backups';

/** Newest first, as Cinder sorts by default (created_at desc); rowid breaks ties so equal clocks stay deterministic. */
const NEWEST_FIRST = 'ORDER BY created_at DESC, rowid DESC';

/**
 * Cinder's rows in SQLite. Column names only ever come from the model's own keys (never
 * from a request); every value is a bound parameter.
 */
export class CinderStore {
  constructor(private readonly db: StateDatabase) {}

  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  private insert(table: Table, record: object): void {
    const entries = Object.entries(record);
    this.db.prepare(`INSERT INTO ${table} (${entries.map(([k]) => k).join(', ')}) VALUES (${entries.map(() => '?').join(', ')})`).run(...entries.map(([, v]) => cell(v)));
  }

  private update(table: Table, id: string, fields: object): void {
    const entries = Object.entries(fields);
    if (entries.length === 0) return;
    this.db.prepare(`UPDATE ${table} SET ${entries.map(([k]) => `${k} = ?`).join(', ')} WHERE id = ?`).run(...entries.map(([, v]) => cell(v)), id);
  }

  // Volume types.
  insertType(type: VolumeType): void {
    this.insert('cinder_volume_types', type);
  }

  updateType(id: string, fields: Partial<VolumeType>): void {
    this.update('cinder_volume_types', id, fields);
  }

  /** A type by id, deleted ones too when asked (volumes keep naming their type after it is deleted). */
  typeById(id: string, includeDeleted = false): VolumeType | undefined {
    const row = this.db.prepare(`SELECT * FROM cinder_volume_types WHERE id = ? AND (? = 1 OR deleted = 0)`).get(id, includeDeleted ? 1 : 0) as Row | undefined;
    return row ? toType(row) : undefined;
  }

  typeByName(name: string): VolumeType | undefined {
    const row = this.db.prepare('SELECT * FROM cinder_volume_types WHERE name = ? AND deleted = 0').get(name) as Row | undefined;
    return row ? toType(row) : undefined;
  }

  /** Live types; `isPublic` null lists private ones too; `withAccessFor` adds the private types a project was given. */
  listTypes(isPublic: boolean | null, withAccessFor: string | null = null): VolumeType[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM cinder_volume_types t WHERE deleted = 0 AND (? IS NULL OR is_public = ?
           OR EXISTS (SELECT 1 FROM cinder_volume_type_projects p WHERE p.volume_type_id = t.id AND p.project_id = ?)) ORDER BY name`,
      )
      .all(isPublic === null ? null : isPublic ? 1 : 0, isPublic ? 1 : 0, withAccessFor) as Row[];
    return rows.map(toType);
  }

  typeAccess(typeId: string): string[] {
    return (this.db.prepare('SELECT project_id FROM cinder_volume_type_projects WHERE volume_type_id = ? ORDER BY project_id').all(typeId) as Array<{ project_id: string }>).map((r) => r.project_id);
  }

  /** False when the project had access already. */
  addTypeAccess(typeId: string, projectId: string): boolean {
    return this.db.prepare('INSERT OR IGNORE INTO cinder_volume_type_projects (volume_type_id, project_id) VALUES (?, ?)').run(typeId, projectId).changes > 0;
  }

  /** False when the project had no access. */
  removeTypeAccess(typeId: string, projectId: string): boolean {
    return this.db.prepare('DELETE FROM cinder_volume_type_projects WHERE volume_type_id = ? AND project_id = ?').run(typeId, projectId).changes > 0;
  }

  typeInUse(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM cinder_volumes WHERE volume_type_id = ? AND deleted = 0 LIMIT 1').get(id) !== undefined;
  }

  // Volumes.
  insertVolume(volume: Volume): void {
    this.insert('cinder_volumes', volume);
  }

  updateVolume(id: string, fields: Partial<Volume>): Volume {
    this.update('cinder_volumes', id, fields);
    return this.volume(id, true) as Volume;
  }

  volume(id: string, includeDeleted = false): Volume | undefined {
    const row = this.db.prepare('SELECT * FROM cinder_volumes WHERE id = ? AND (? = 1 OR deleted = 0)').get(id, includeDeleted ? 1 : 0) as Row | undefined;
    return row ? toVolume(row) : undefined;
  }

  /** Live volumes of a project (null: every project), newest first. */
  listVolumes(projectId: string | null): Volume[] {
    const rows = this.db.prepare(`SELECT * FROM cinder_volumes WHERE deleted = 0 AND (? IS NULL OR project_id = ?) ${NEWEST_FIRST}`).all(projectId, projectId) as Row[];
    return rows.map(toVolume);
  }

  /** Volumes that existed at some time in [beginning, ending): cinder's get_all_active_by_window. */
  volumesActiveIn(beginning: string, ending: string): Volume[] {
    const rows = this.db
      .prepare(`SELECT * FROM cinder_volumes WHERE created_at < ? AND (deleted_at IS NULL OR deleted_at > ?) ${NEWEST_FIRST}`)
      .all(ending, beginning) as Row[];
    return rows.map(toVolume);
  }

  /** GB held on the backend: what the scheduler's capacity reports call allocated. */
  allocatedGb(): number {
    const row = this.db.prepare("SELECT COALESCE(SUM(size), 0) AS gb FROM cinder_volumes WHERE deleted = 0 AND host IS NOT NULL AND status NOT IN ('error')").get() as { gb: number };
    return Number(row.gb);
  }

  // Attachments.
  insertAttachment(attachment: VolumeAttachment): void {
    this.insert('cinder_volume_attachments', attachment);
  }

  updateAttachment(id: string, fields: Partial<VolumeAttachment>): void {
    this.update('cinder_volume_attachments', id, fields);
  }

  attachment(id: string): VolumeAttachment | undefined {
    const row = this.db.prepare('SELECT * FROM cinder_volume_attachments WHERE id = ? AND deleted = 0').get(id) as Row | undefined;
    return row ? toAttachment(row) : undefined;
  }

  /** A volume's attachments that are not detached (cinder's volume_attachment_get_all_by_volume_id). */
  attachmentsOf(volumeId: string): VolumeAttachment[] {
    const rows = this.db
      .prepare("SELECT * FROM cinder_volume_attachments WHERE volume_id = ? AND deleted = 0 AND attach_status != 'detached' ORDER BY created_at, rowid")
      .all(volumeId) as Row[];
    return rows.map(toAttachment);
  }

  attachmentsOfServer(serverId: string): VolumeAttachment[] {
    const rows = this.db
      .prepare("SELECT * FROM cinder_volume_attachments WHERE instance_uuid = ? AND deleted = 0 AND attach_status = 'attached' ORDER BY created_at, rowid")
      .all(serverId) as Row[];
    return rows.map(toAttachment);
  }

  // Snapshots.
  insertSnapshot(snapshot: Snapshot): void {
    this.insert('cinder_snapshots', snapshot);
  }

  updateSnapshot(id: string, fields: Partial<Snapshot>): Snapshot {
    this.update('cinder_snapshots', id, fields);
    return this.snapshot(id, true) as Snapshot;
  }

  snapshot(id: string, includeDeleted = false): Snapshot | undefined {
    const row = this.db.prepare('SELECT * FROM cinder_snapshots WHERE id = ? AND (? = 1 OR deleted = 0)').get(id, includeDeleted ? 1 : 0) as Row | undefined;
    return row ? toSnapshot(row) : undefined;
  }

  listSnapshots(projectId: string | null): Snapshot[] {
    const rows = this.db.prepare(`SELECT * FROM cinder_snapshots WHERE deleted = 0 AND (? IS NULL OR project_id = ?) ${NEWEST_FIRST}`).all(projectId, projectId) as Row[];
    return rows.map(toSnapshot);
  }

  snapshotsOf(volumeId: string): Snapshot[] {
    const rows = this.db.prepare(`SELECT * FROM cinder_snapshots WHERE volume_id = ? AND deleted = 0 ${NEWEST_FIRST}`).all(volumeId) as Row[];
    return rows.map(toSnapshot);
  }

  snapshotsActiveIn(beginning: string, ending: string): Snapshot[] {
    const rows = this.db
      .prepare(`SELECT * FROM cinder_snapshots WHERE created_at < ? AND (deleted_at IS NULL OR deleted_at > ?) ${NEWEST_FIRST}`)
      .all(ending, beginning) as Row[];
    return rows.map(toSnapshot);
  }

  // Backups.
  insertBackup(backup: Backup): void {
    this.insert('cinder_backups', backup);
  }

  updateBackup(id: string, fields: Partial<Backup>): Backup {
    this.update('cinder_backups', id, fields);
    return this.backup(id, true) as Backup;
  }

  backup(id: string, includeDeleted = false): Backup | undefined {
    const row = this.db.prepare('SELECT * FROM cinder_backups WHERE id = ? AND (? = 1 OR deleted = 0)').get(id, includeDeleted ? 1 : 0) as Row | undefined;
    return row ? toBackup(row) : undefined;
  }

  listBackups(projectId: string | null): Backup[] {
    const rows = this.db.prepare(`SELECT * FROM cinder_backups WHERE deleted = 0 AND (? IS NULL OR project_id = ?) ${NEWEST_FIRST}`).all(projectId, projectId) as Row[];
    return rows.map(toBackup);
  }

  backupsOf(volumeId: string): Backup[] {
    const rows = this.db.prepare(`SELECT * FROM cinder_backups WHERE volume_id = ? AND deleted = 0 ${NEWEST_FIRST}`).all(volumeId) as Row[];
    return rows.map(toBackup);
  }

  dependentBackups(id: string): number {
    const row = this.db.prepare('SELECT COUNT(*) AS n FROM cinder_backups WHERE parent_id = ? AND deleted = 0').get(id) as { n: number };
    return Number(row.n);
  }

  backupsActiveIn(beginning: string, ending: string): Backup[] {
    const rows = this.db
      .prepare(`SELECT * FROM cinder_backups WHERE created_at < ? AND (deleted_at IS NULL OR deleted_at > ?) ${NEWEST_FIRST}`)
      .all(ending, beginning) as Row[];
    return rows.map(toBackup);
  }
}
