import { open, readFile, rename, rm, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LogOffsetsError } from './errors.ts';

/** Where one file was read up to: a record boundary, in bytes, of the file generation named by inode and fingerprint. */
export interface FileOffset {
  offset: number;
  /** The inode, as a decimal string (inodes can exceed 2^53). */
  ino: string;
  /** sha256 of the file's first fingerprintBytes bytes: tells a file truncated and rewritten from the one read. */
  fingerprint: string | null;
  fingerprintBytes: number;
}

/** The tailer's durable state. Keys are `<host>/<file>`. */
export interface LogOffsets {
  version: 1;
  files: Record<string, FileOffset>;
}

/** Where the offsets live. The tailer saves only after its consumer took the records before them. */
export interface LogOffsetStore {
  load(): Promise<LogOffsets>;
  save(offsets: LogOffsets): Promise<void>;
}

export const emptyOffsets = (): LogOffsets => ({ version: 1, files: {} });

function isFileOffset(value: unknown): value is FileOffset {
  const v = value as Partial<FileOffset> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    Number.isInteger(v.offset) &&
    (v.offset as number) >= 0 &&
    typeof v.ino === 'string' &&
    (v.fingerprint === null || typeof v.fingerprint === 'string') &&
    Number.isInteger(v.fingerprintBytes)
  );
}

/**
 * The offsets in a small JSON file, replaced atomically: written to a temporary file,
 * flushed to disk, then renamed over the old one, so a crash leaves either the old or
 * the new state, never half of one.
 */
export class JsonFileOffsetStore implements LogOffsetStore {
  private sequence = 0;

  constructor(readonly path: string) {}

  async load(): Promise<LogOffsets> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyOffsets();
      throw new LogOffsetsError(`log offsets file ${this.path} cannot be read: ${(err as Error).message}`, err);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new LogOffsetsError(`log offsets file ${this.path} is not JSON: ${(err as Error).message}`, err);
    }
    const state = parsed as Partial<LogOffsets> | null;
    if (state?.version !== 1 || typeof state.files !== 'object' || state.files === null) {
      throw new LogOffsetsError(`log offsets file ${this.path} must hold {"version": 1, "files": {...}}; got ${text.slice(0, 80)}`);
    }
    const files: Record<string, FileOffset> = {};
    for (const [key, value] of Object.entries(state.files)) {
      if (!isFileOffset(value)) throw new LogOffsetsError(`log offsets file ${this.path}: entry ${JSON.stringify(key)} must have offset, ino, fingerprint and fingerprintBytes; got ${JSON.stringify(value)}`);
      files[key] = value;
    }
    return { version: 1, files };
  }

  async save(offsets: LogOffsets): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.${(this.sequence += 1)}.tmp`;
    // 1. the whole new state into a temporary file, on disk before it is named;
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(offsets)}\n`);
      await handle.sync();
    } catch (err) {
      await handle.close();
      await rm(temporary, { force: true });
      throw err;
    }
    await handle.close();
    // 2. then one rename replaces the old state: readers see the old or the new, whole.
    await rename(temporary, this.path);
    // 3. and the directory entry itself is flushed, so the rename survives a power cut.
    const directory = await open(dirname(this.path), 'r').catch(() => null);
    await directory?.sync().catch(() => undefined);
    await directory?.close();
  }
}
