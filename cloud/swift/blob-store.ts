import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream, openSync, rmdirSync, unlinkSync, type ReadStream } from 'node:fs';
import { copyFile, mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SwiftApiError, clientDisconnect, objectTooLarge } from './errors.ts';

/** Where an object's bytes go: names hashed, so any container or object name is a safe file name. */
export interface BlobLocation {
  projectId: string;
  container: string;
  object: string;
}

/** What a write left on disk: the file (relative to the store's root, null for an empty object), its size and md5. */
export interface StoredBlob {
  file: string | null;
  bytes: number;
  etag: string;
}

export interface WriteLimits {
  maxBytes: number;
  /** Content-Length the client announced; null for a chunked upload. */
  expectedBytes: number | null;
  /** Told of every chunk read, so the request's metering counts partial uploads too. */
  onBytes(count: number): void;
}

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');
/** Keystone ids are hex; anything else an admin addresses is hashed rather than trusted as a directory name. */
const projectDir = (projectId: string) => (/^[A-Za-z0-9_-]{1,64}$/.test(projectId) ? projectId : `h-${sha256(projectId)}`);

/**
 * Objects' bytes on disk under `<dataDir>/swift/<project>/<sha256(container)>/`. Every
 * write lands in a new version file (`<sha256(object)>.<ms>.<random>`), never over the
 * current one, so a reader that opened the old version keeps reading it and a crash
 * mid-write leaves the stored object intact (only an orphan temp file).
 */
export class BlobStore {
  constructor(
    /** `<dataDir>/swift`. */
    readonly root: string,
    private readonly nowMs: () => number,
  ) {}

  private containerDir(location: Pick<BlobLocation, 'projectId' | 'container'>): string {
    return join(projectDir(location.projectId), sha256(location.container));
  }

  private versionName(location: BlobLocation): string {
    return join(this.containerDir(location), `${sha256(location.object)}.${this.nowMs()}.${randomBytes(4).toString('hex')}`);
  }

  /**
   * Streams a body to a new version file while hashing it:
   * 1. write to a temp file in the container's directory, counting and hashing each chunk;
   * 2. refuse a body over the limit, or shorter than its Content-Length (the client left);
   * 3. flush to disk, then rename into place: the rename is atomic, so no reader sees half a file.
   */
  async write(location: BlobLocation, body: AsyncIterable<Buffer | string>, limits: WriteLimits): Promise<StoredBlob> {
    const dir = join(this.root, this.containerDir(location));
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `.${randomBytes(8).toString('hex')}.tmp`);
    const handle = await open(temp, 'wx');
    const md5 = createHash('md5');
    let bytes = 0;
    try {
      try {
        for await (const piece of body) {
          const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
          bytes += chunk.length;
          limits.onBytes(chunk.length);
          if (bytes > limits.maxBytes) throw objectTooLarge(limits.maxBytes, `more than ${limits.maxBytes}`);
          md5.update(chunk);
          await handle.write(chunk);
        }
      } catch (err) {
        // A body that ends in an error (socket reset, abort) is a client gone mid-upload.
        if (err instanceof SwiftApiError) throw err;
        throw clientDisconnect(limits.expectedBytes ?? bytes, bytes);
      }
      if (limits.expectedBytes !== null && bytes !== limits.expectedBytes) throw clientDisconnect(limits.expectedBytes, bytes);
      await handle.datasync();
    } catch (err) {
      await handle.close();
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    await handle.close();
    const etag = md5.digest('hex');
    if (bytes === 0) {
      await unlink(temp);
      return { file: null, bytes, etag };
    }
    const file = this.versionName(location);
    await rename(temp, join(this.root, file));
    return { file, bytes, etag };
  }

  /** A server-side copy: a new version file for the destination, with the source's bytes. */
  async copy(source: string | null, destination: BlobLocation): Promise<string | null> {
    if (source === null) return null;
    const dir = join(this.root, this.containerDir(destination));
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `.${randomBytes(8).toString('hex')}.tmp`);
    try {
      await copyFile(join(this.root, source), temp, constants.COPYFILE_FICLONE);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    const file = this.versionName(destination);
    await rename(temp, join(this.root, file));
    return file;
  }

  /**
   * Opens a version for reading. Synchronous on purpose: called in the same tick as the
   * row lookup, so no delete can remove the file between the two (an open file stays
   * readable after its unlink).
   */
  open(file: string): ReadStream {
    const fd = openSync(join(this.root, file), 'r');
    return createReadStream('', { fd, autoClose: true });
  }

  /** Drops a version no row points at any more. Synchronous for the same reason as open(). */
  remove(file: string | null): void {
    if (file === null) return;
    try {
      unlinkSync(join(this.root, file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /** Drops a deleted container's directory; best effort (it may hold an orphan temp file). */
  removeContainerDir(projectId: string, container: string): void {
    try {
      rmdirSync(join(this.root, this.containerDir({ projectId, container })));
    } catch {
      // Not there (no object was ever written) or not empty: nothing to reclaim.
    }
  }
}
