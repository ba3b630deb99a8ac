import type { ReadStream } from 'node:fs';
import type { Clock, Logger } from '../../core/index.ts';
import type { BlobStore } from './blob-store.ts';
import { DEFAULT_STORAGE_POLICY, RESELLER_PREFIX, type SwiftConfig } from './config.ts';
import { guessContentType } from './content-type.ts';
import { badRequest, containerNotEmpty, containerNotFound, etagMismatch, objectNotFound, policyConflict, preconditionFailed } from './errors.ts';
import { listPage, type ListingQuery, type Subdir } from './listing.ts';
import { applyChange, checkMetadata, type Metadata, type MetadataChange } from './metadata.ts';
import type { ContainerRow, ObjectRow, SwiftStore } from './store.ts';

export interface AccountInfo {
  projectId: string;
  /** `AUTH_<project>`. */
  account: string;
  /** When the account was first written to; now for one never used (swift's autocreate answers for it). */
  createdAt: number;
  metadata: Metadata;
  containerCount: number;
  objectCount: number;
  bytesUsed: number;
}

export interface ContainerUsage {
  name: string;
  objectCount: number;
  bytesUsed: number;
  storagePolicy: string;
}

/** One project's storage, as Ceilometer's swift pollsters read it (storage.objects*, storage.containers.objects*). */
export interface ProjectUsage {
  projectId: string;
  containerCount: number;
  objectCount: number;
  bytesUsed: number;
  containers: ContainerUsage[];
}

export interface ContainerInput {
  /** X-Storage-Policy, or null when the request names none. */
  storagePolicy: string | null;
  /** X-Container-Read / X-Container-Write: a string sets, null removes, undefined keeps. */
  readAcl?: string | null;
  writeAcl?: string | null;
  metadata: MetadataChange;
}

export interface PutObjectInput {
  /** The request's Content-Type, or null to guess it from the name (also when X-Detect-Content-Type). */
  contentType: string | null;
  metadata: Metadata;
  /** An ETag the client sent: the stored bytes' md5 must equal it. */
  expectedEtag: string | null;
  /** Content-Length; null for a chunked upload. */
  contentLength: number | null;
  /** `If-None-Match: *`: refuse to overwrite an existing object. */
  ifNoneMatch: boolean;
  onBytes(count: number): void;
}

export interface CopyObjectInput {
  contentType: string | null;
  metadata: Metadata;
  /** X-Fresh-Metadata: drop the source's metadata instead of starting from it. */
  freshMetadata: boolean;
}

export interface ObjectContent {
  object: ObjectRow;
  /** The bytes; null for an empty object. */
  stream: ReadStream | null;
}

/** No body (a PUT without one, or a copy of an empty object, which has no file). */
const empty: AsyncIterable<Buffer> = {
  async *[Symbol.asyncIterator]() {
    // yields nothing
  },
};

/**
 * Swift's accounts, containers and objects for the embedded control plane. Rows live in
 * SQLite (SwiftStore), bytes on disk (BlobStore). Stable API, except usage()'s shape,
 * experimental until the swift pollster lands.
 */
export class SwiftService {
  constructor(
    private readonly store: SwiftStore,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly config: SwiftConfig,
  ) {}

  account(projectId: string): AccountInfo {
    const row = this.store.account(projectId);
    const totals = this.store.accountTotals(projectId);
    return { projectId, account: `${RESELLER_PREFIX}${projectId}`, createdAt: row?.createdAt ?? this.clock.nowMs(), metadata: row?.metadata ?? {}, ...totals };
  }

  updateAccount(projectId: string, change: MetadataChange): void {
    this.store.transaction(() => {
      const account = this.store.ensureAccount(projectId, this.clock.nowMs());
      const metadata = applyChange(account.metadata, change);
      checkMetadata(metadata, 'account');
      this.store.setAccountMetadata(projectId, metadata);
    });
  }

  listContainers(projectId: string, query: ListingQuery): Array<ContainerRow | Subdir> {
    return listPage(query, (range) => this.store.listContainers(projectId, range));
  }

  /** Creates a container, or updates it when it exists (swift answers 201 or 202). */
  createContainer(projectId: string, name: string, input: ContainerInput): { created: boolean; container: ContainerRow } {
    if (input.storagePolicy !== null && input.storagePolicy !== DEFAULT_STORAGE_POLICY) throw badRequest(`Invalid X-Storage-Policy '${input.storagePolicy}'`);
    return this.store.transaction(() => {
      const existing = this.store.container(projectId, name);
      if (existing) {
        if (input.storagePolicy !== null && input.storagePolicy !== existing.storagePolicy) throw policyConflict(name, existing.storagePolicy);
        this.applyContainerChange(existing, input);
        return { created: false, container: this.store.containerById(existing.id) as ContainerRow };
      }
      const metadata = applyChange({}, input.metadata);
      checkMetadata(metadata, 'container');
      const nowMs = this.clock.nowMs();
      this.store.ensureAccount(projectId, nowMs);
      const container = this.store.insertContainer({
        projectId,
        name,
        storagePolicy: input.storagePolicy ?? DEFAULT_STORAGE_POLICY,
        readAcl: input.readAcl ?? null,
        writeAcl: input.writeAcl ?? null,
        metadata,
        nowMs,
      });
      return { created: true, container };
    });
  }

  container(projectId: string, name: string): ContainerRow {
    const container = this.store.container(projectId, name);
    if (!container) throw containerNotFound(`${RESELLER_PREFIX}${projectId}`, name);
    return container;
  }

  updateContainer(projectId: string, name: string, input: Omit<ContainerInput, 'storagePolicy'>): void {
    this.store.transaction(() => this.applyContainerChange(this.container(projectId, name), input));
  }

  private applyContainerChange(container: ContainerRow, input: Omit<ContainerInput, 'storagePolicy'>): void {
    const metadata = applyChange(container.metadata, input.metadata);
    checkMetadata(metadata, 'container');
    this.store.updateContainer(container.id, {
      readAcl: input.readAcl === undefined ? container.readAcl : input.readAcl,
      writeAcl: input.writeAcl === undefined ? container.writeAcl : input.writeAcl,
      metadata,
      nowMs: this.clock.nowMs(),
    });
  }

  deleteContainer(projectId: string, name: string): void {
    this.store.transaction(() => {
      const container = this.container(projectId, name);
      if (container.objectCount > 0) throw containerNotEmpty(name);
      this.store.deleteContainer(container.id);
    });
    this.blobs.removeContainerDir(projectId, name);
  }

  listObjects(projectId: string, container: string, query: ListingQuery): { container: ContainerRow; entries: Array<ObjectRow | Subdir> } {
    const row = this.container(projectId, container);
    return { container: row, entries: listPage(query, (range) => this.store.listObjects(row.id, range)) };
  }

  object(projectId: string, container: string, name: string): ObjectRow {
    const object = this.store.object(this.container(projectId, container).id, name);
    if (!object) throw objectNotFound(container, name);
    return object;
  }

  /** The object and its bytes, opened in the same tick as the lookup (see BlobStore.open). */
  readObject(projectId: string, container: string, name: string): ObjectContent {
    const object = this.object(projectId, container, name);
    return { object, stream: object.dataFile === null ? null : this.blobs.open(object.dataFile) };
  }

  /**
   * Stores an object. The order keeps every row pointing at a complete file:
   * 1. check the container (and If-None-Match) before reading a byte, as swift-proxy does;
   * 2. stream the body into a new version file, hashing it;
   * 3. refuse it if the client's ETag differs from the md5 (the file is dropped);
   * 4. commit the row and the container's counters in one transaction, re-checking the
   *    container (it may have been deleted during the upload);
   * 5. only then unlink the version the row pointed at before.
   */
  async putObject(projectId: string, container: string, name: string, body: AsyncIterable<Buffer | string> | null, input: PutObjectInput): Promise<ObjectRow> {
    checkMetadata(input.metadata, 'object');
    // 1. container and precondition
    const target = this.container(projectId, container);
    if (input.ifNoneMatch && this.store.object(target.id, name)) throw preconditionFailed('If-None-Match: * and the object exists');
    // 2. bytes
    const blob = await this.blobs.write({ projectId, container, object: name }, body ?? empty, { maxBytes: this.config.maxObjectBytes, expectedBytes: input.contentLength, onBytes: input.onBytes });
    // 3. integrity
    if (input.expectedEtag !== null && input.expectedEtag.replace(/"/g, '').toLowerCase() !== blob.etag) {
      this.blobs.remove(blob.file);
      throw etagMismatch(input.expectedEtag, blob.etag);
    }
    return this.commitObject(projectId, container, target.id, {
      name,
      bytes: blob.bytes,
      etag: blob.etag,
      contentType: input.contentType ?? guessContentType(name),
      metadata: input.metadata,
      dataFile: blob.file,
    });
  }

  /** A server-side copy (COPY, or PUT with X-Copy-From): the source's bytes and, unless fresh, its metadata. */
  async copyObject(projectId: string, source: { container: string; object: string }, destination: { container: string; object: string }, input: CopyObjectInput): Promise<{ object: ObjectRow; source: ObjectRow }> {
    checkMetadata(input.metadata, 'object');
    const target = this.container(projectId, destination.container);
    const { object: from, stream } = this.readObject(projectId, source.container, source.object);
    let blob;
    try {
      blob = await this.blobs.write({ projectId, container: destination.container, object: destination.object }, stream ?? empty, {
        maxBytes: this.config.maxObjectBytes,
        expectedBytes: from.bytes,
        onBytes: () => undefined,
      });
    } finally {
      stream?.destroy();
    }
    const object = this.commitObject(projectId, destination.container, target.id, {
      name: destination.object,
      bytes: blob.bytes,
      etag: blob.etag,
      contentType: input.contentType ?? from.contentType,
      metadata: input.freshMetadata ? input.metadata : { ...from.metadata, ...input.metadata },
      dataFile: blob.file,
    });
    return { object, source: from };
  }

  private commitObject(projectId: string, container: string, containerId: number, fields: Omit<ObjectRow, 'containerId' | 'timestamp'>): ObjectRow {
    const row: ObjectRow = { ...fields, containerId, timestamp: this.clock.nowMs() };
    let replaced: ObjectRow | undefined;
    try {
      // 4. commit
      replaced = this.store.transaction(() => {
        if (!this.store.containerById(containerId)) throw containerNotFound(`${RESELLER_PREFIX}${projectId}`, container);
        return this.store.putObject(row);
      });
    } catch (err) {
      this.blobs.remove(row.dataFile);
      throw err;
    }
    // 5. the old version is unreferenced now
    if (replaced && replaced.dataFile !== row.dataFile) this.removeQuietly(replaced.dataFile);
    return row;
  }

  /** POST on an object: swift replaces all its user metadata (and Content-Type when sent). */
  updateObject(projectId: string, container: string, name: string, input: { contentType: string | null; metadata: Metadata }): ObjectRow {
    checkMetadata(input.metadata, 'object');
    return this.store.transaction(() => {
      const object = this.object(projectId, container, name);
      const changes = { contentType: input.contentType ?? object.contentType, metadata: input.metadata, timestamp: this.clock.nowMs() };
      this.store.updateObject(object.containerId, name, changes);
      return { ...object, ...changes };
    });
  }

  deleteObject(projectId: string, container: string, name: string): ObjectRow {
    const deleted = this.store.transaction(() => {
      const row = this.store.deleteObject(this.container(projectId, container).id, name);
      if (!row) throw objectNotFound(container, name);
      return row;
    });
    this.removeQuietly(deleted.dataFile);
    return deleted;
  }

  /**
   * Object counts and bytes per project and per container: what Ceilometer's swift
   * pollsters read from HEAD and GET on each account. Projects that never stored
   * anything are absent. Experimental shape.
   */
  usage(projectId: string | null = null): ProjectUsage[] {
    const byProject = new Map<string, ProjectUsage>();
    for (const account of this.store.accounts(projectId)) {
      byProject.set(account.projectId, { projectId: account.projectId, containerCount: 0, objectCount: 0, bytesUsed: 0, containers: [] });
    }
    for (const c of this.store.containers(projectId)) {
      const usage = byProject.get(c.projectId);
      if (!usage) continue;
      usage.containerCount += 1;
      usage.objectCount += c.objectCount;
      usage.bytesUsed += c.bytesUsed;
      usage.containers.push({ name: c.name, objectCount: c.objectCount, bytesUsed: c.bytesUsed, storagePolicy: c.storagePolicy });
    }
    return [...byProject.values()];
  }

  /** A file no row points at is only wasted space: a failure to unlink it must not fail the request. */
  private removeQuietly(file: string | null): void {
    try {
      this.blobs.remove(file);
    } catch (err) {
      this.logger.warn({ err, file }, 'swift: could not remove an unreferenced object file');
    }
  }
}
