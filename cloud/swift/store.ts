import type { StateDatabase } from '../../core/index.ts';
import { parseMetadata, type Metadata } from './metadata.ts';

export interface AccountRow {
  projectId: string;
  createdAt: number;
  metadata: Metadata;
}

export interface ContainerRow {
  id: number;
  projectId: string;
  name: string;
  storagePolicy: string;
  readAcl: string | null;
  writeAcl: string | null;
  metadata: Metadata;
  objectCount: number;
  bytesUsed: number;
  createdAt: number;
  updatedAt: number;
}

export interface ObjectRow {
  containerId: number;
  name: string;
  bytes: number;
  etag: string;
  contentType: string;
  metadata: Metadata;
  /** The bytes' file under the blob store's root; null for an empty object. */
  dataFile: string | null;
  timestamp: number;
}

/** The bounds one listing page reads within (swift's marker, end_marker and prefix). */
export interface ListingRange {
  /** Names strictly after this one (the marker; '' for none). */
  after: string;
  /** Names from this one on (where a delimiter listing resumes past a subdir; '' for none). */
  from: string;
  /** Names strictly before this one (end_marker), or null. */
  before: string | null;
  prefix: string;
  limit: number;
}

export interface AccountTotals {
  containerCount: number;
  objectCount: number;
  bytesUsed: number;
}

type Row = Record<string, unknown>;

const toAccount = (r: Row): AccountRow => ({ projectId: String(r.project_id), createdAt: Number(r.created_at), metadata: parseMetadata(String(r.metadata)) });
const toContainer = (r: Row): ContainerRow => ({
  id: Number(r.id),
  projectId: String(r.project_id),
  name: String(r.name),
  storagePolicy: String(r.storage_policy),
  readAcl: r.read_acl === null ? null : String(r.read_acl),
  writeAcl: r.write_acl === null ? null : String(r.write_acl),
  metadata: parseMetadata(String(r.metadata)),
  objectCount: Number(r.object_count),
  bytesUsed: Number(r.bytes_used),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});
const toObject = (r: Row): ObjectRow => ({
  containerId: Number(r.container_id),
  name: String(r.name),
  bytes: Number(r.bytes),
  etag: String(r.etag),
  contentType: String(r.content_type),
  metadata: parseMetadata(String(r.metadata)),
  dataFile: r.data_file === null ? null : String(r.data_file),
  timestamp: Number(r.timestamp),
});

/**
 * Swift's rows in SQLite. Every value is bound (named parameters); names compare with
 * SQLite's BINARY collation, i.e. by UTF-8 bytes, which is swift's listing order.
 */
export class SwiftStore {
  constructor(readonly db: StateDatabase) {}

  /** Runs `fn` in one transaction (better-sqlite3 nests them as savepoints). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  account(projectId: string): AccountRow | undefined {
    const row = this.db.prepare('SELECT * FROM swift_accounts WHERE project_id = @projectId').get({ projectId }) as Row | undefined;
    return row ? toAccount(row) : undefined;
  }

  /** Swift's account autocreate: the first write to an account creates it. */
  ensureAccount(projectId: string, nowMs: number): AccountRow {
    this.db.prepare('INSERT INTO swift_accounts (project_id, created_at) VALUES (@projectId, @nowMs) ON CONFLICT(project_id) DO NOTHING').run({ projectId, nowMs });
    return this.account(projectId) as AccountRow;
  }

  setAccountMetadata(projectId: string, metadata: Metadata): void {
    this.db.prepare('UPDATE swift_accounts SET metadata = @metadata WHERE project_id = @projectId').run({ projectId, metadata: JSON.stringify(metadata) });
  }

  accountTotals(projectId: string): AccountTotals {
    const row = this.db
      .prepare('SELECT COUNT(*) AS containers, COALESCE(SUM(object_count), 0) AS objects, COALESCE(SUM(bytes_used), 0) AS bytes FROM swift_containers WHERE project_id = @projectId')
      .get({ projectId }) as Row;
    return { containerCount: Number(row.containers), objectCount: Number(row.objects), bytesUsed: Number(row.bytes) };
  }

  accounts(projectId: string | null): AccountRow[] {
    const rows = this.db.prepare('SELECT * FROM swift_accounts WHERE @projectId IS NULL OR project_id = @projectId ORDER BY project_id').all({ projectId }) as Row[];
    return rows.map(toAccount);
  }

  container(projectId: string, name: string): ContainerRow | undefined {
    const row = this.db.prepare('SELECT * FROM swift_containers WHERE project_id = @projectId AND name = @name').get({ projectId, name }) as Row | undefined;
    return row ? toContainer(row) : undefined;
  }

  containerById(id: number): ContainerRow | undefined {
    const row = this.db.prepare('SELECT * FROM swift_containers WHERE id = @id').get({ id }) as Row | undefined;
    return row ? toContainer(row) : undefined;
  }

  insertContainer(input: { projectId: string; name: string; storagePolicy: string; readAcl: string | null; writeAcl: string | null; metadata: Metadata; nowMs: number }): ContainerRow {
    const { lastInsertRowid } = this.db
      .prepare(
        `INSERT INTO swift_containers (project_id, name, storage_policy, read_acl, write_acl, metadata, created_at, updated_at)
         VALUES (@projectId, @name, @storagePolicy, @readAcl, @writeAcl, @metadata, @nowMs, @nowMs)`,
      )
      .run({ ...input, metadata: JSON.stringify(input.metadata) });
    return this.containerById(Number(lastInsertRowid)) as ContainerRow;
  }

  updateContainer(id: number, changes: { readAcl: string | null; writeAcl: string | null; metadata: Metadata; nowMs: number }): void {
    this.db
      .prepare('UPDATE swift_containers SET read_acl = @readAcl, write_acl = @writeAcl, metadata = @metadata, updated_at = @nowMs WHERE id = @id')
      .run({ id, ...changes, metadata: JSON.stringify(changes.metadata) });
  }

  deleteContainer(id: number): void {
    this.db.prepare('DELETE FROM swift_containers WHERE id = @id').run({ id });
  }

  /** Containers of a project, or of every project, in listing order. */
  containers(projectId: string | null): ContainerRow[] {
    const rows = this.db.prepare('SELECT * FROM swift_containers WHERE @projectId IS NULL OR project_id = @projectId ORDER BY project_id, name').all({ projectId }) as Row[];
    return rows.map(toContainer);
  }

  listContainers(projectId: string, range: ListingRange): ContainerRow[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM swift_containers
         WHERE project_id = @projectId AND name > @after AND name >= @from
           AND (@before IS NULL OR name < @before)
           AND substr(name, 1, length(@prefix)) = @prefix
         ORDER BY name LIMIT @limit`,
      )
      .all({ projectId, ...range }) as Row[];
    return rows.map(toContainer);
  }

  object(containerId: number, name: string): ObjectRow | undefined {
    const row = this.db.prepare('SELECT * FROM swift_objects WHERE container_id = @containerId AND name = @name').get({ containerId, name }) as Row | undefined;
    return row ? toObject(row) : undefined;
  }

  listObjects(containerId: number, range: ListingRange): ObjectRow[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM swift_objects
         WHERE container_id = @containerId AND name > @after AND name >= @from
           AND (@before IS NULL OR name < @before)
           AND substr(name, 1, length(@prefix)) = @prefix
         ORDER BY name LIMIT @limit`,
      )
      .all({ containerId, ...range }) as Row[];
    return rows.map(toObject);
  }

  /** Inserts or replaces an object and moves the container's counters by the difference; returns the row it replaced. */
  putObject(row: ObjectRow): ObjectRow | undefined {
    const previous = this.object(row.containerId, row.name);
    this.db
      .prepare(
        `INSERT INTO swift_objects (container_id, name, bytes, etag, content_type, metadata, data_file, timestamp)
         VALUES (@containerId, @name, @bytes, @etag, @contentType, @metadata, @dataFile, @timestamp)
         ON CONFLICT(container_id, name) DO UPDATE SET bytes = excluded.bytes, etag = excluded.etag, content_type = excluded.content_type,
           metadata = excluded.metadata, data_file = excluded.data_file, timestamp = excluded.timestamp`,
      )
      .run({ ...row, metadata: JSON.stringify(row.metadata) });
    this.db
      .prepare('UPDATE swift_containers SET object_count = object_count + @objects, bytes_used = bytes_used + @bytes WHERE id = @id')
      .run({ id: row.containerId, objects: previous ? 0 : 1, bytes: row.bytes - (previous?.bytes ?? 0) });
    return previous;
  }

  updateObject(containerId: number, name: string, changes: { contentType: string; metadata: Metadata; timestamp: number }): void {
    this.db
      .prepare('UPDATE swift_objects SET content_type = @contentType, metadata = @metadata, timestamp = @timestamp WHERE container_id = @containerId AND name = @name')
      .run({ containerId, name, ...changes, metadata: JSON.stringify(changes.metadata) });
  }

  /** Deletes an object and moves its container's counters; returns the deleted row. */
  deleteObject(containerId: number, name: string): ObjectRow | undefined {
    const previous = this.object(containerId, name);
    if (!previous) return undefined;
    this.db.prepare('DELETE FROM swift_objects WHERE container_id = @containerId AND name = @name').run({ containerId, name });
    this.db
      .prepare('UPDATE swift_containers SET object_count = object_count - 1, bytes_used = bytes_used - @bytes WHERE id = @id')
      .run({ id: containerId, bytes: previous.bytes });
    return previous;
  }
}
