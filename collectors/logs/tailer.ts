import { createHash } from 'node:crypto';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, errorMessage, systemClock, type Clock, type ComponentTelemetry, type Lifecycle, type LogRecord, type Logger } from '../../core/index.ts';
import { RecordAssembler } from './assembler.ts';
import { resolveLogTailerConfig, type LogTailerConfig, type ResolvedLogTailerConfig } from './config.ts';
import { JsonFileOffsetStore, emptyOffsets, type FileOffset, type LogOffsetStore, type LogOffsets } from './offsets.ts';

/** The data verb: resolving means the records are taken; rejecting means "not now", and the same records come again. */
export interface LogConsumer {
  consume(batch: LogRecord[]): Promise<void>;
}

export interface LogTailerDeps {
  consumer: LogConsumer;
  /** Ages batches for flushIntervalMs and dates syslog lines. Default: the system clock. */
  clock?: Clock;
  logger?: Logger;
  /** accepted: records the consumer took; dropped: lines that match no format or were cut; batches: consume() calls that succeeded. */
  telemetry?: ComponentTelemetry;
  /** Default: a JsonFileOffsetStore at config.statePath. */
  offsets?: LogOffsetStore;
}

/** Bytes of a file's start that identify its generation. */
const FINGERPRINT_BYTES = 256;

/** One generation of one file: what was read, and what waits for the consumer. */
interface Tracker {
  /** `<host>/<file>`: the offsets key, and with the offset the record ids. */
  key: string;
  host: string;
  file: string;
  /** Where its bytes are now: the file itself, or the name it was rotated to. */
  path: string;
  ino: string;
  /** Bytes handed to the assembler: always at a line boundary. */
  offset: number;
  fingerprint: string | null;
  fingerprintBytes: number;
  lastSize: number;
  assembler: RecordAssembler;
  /** Offsets of this tracker's records waiting in the buffer, oldest first. */
  waiting: number[];
  /** Rotated or truncated away: read to its end, delivered, then forgotten. */
  retired: boolean;
  /** Nothing more will be read from it. */
  done: boolean;
  warnedUnread: boolean;
}

interface Waiting {
  record: LogRecord;
  tracker: Tracker;
}

async function statOrNull(path: string) {
  try {
    const found = await stat(path, { bigint: true });
    return found.isFile() ? { ino: found.ino.toString(), size: Number(found.size) } : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function readAt(path: string, position: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * Follows every `<directory>/<host>/<file>.log` (files appear over time) and hands the
 * records to the consumer in batches. It polls: each poll reads what was appended,
 * notices rotation (a new inode: the rest of the old one is read from its new name
 * first) and truncation (a shorter file, or a different first 256 bytes: read again
 * from the start), and keeps its offsets in a JSON file written only after the consumer
 * took the records before them. A crash therefore re-reads rather than loses, and the
 * records' deterministic ids make the re-read harmless downstream. One tailer per
 * offsets file. Stable.
 */
export class LogTailer implements Lifecycle {
  readonly config: ResolvedLogTailerConfig;
  private readonly clock: Clock;
  private readonly store: LogOffsetStore;
  private readonly live = new Map<string, Tracker>();
  private retired: Tracker[] = [];
  private buffer: Waiting[] = [];
  private bufferSince: number | null = null;
  private retryAt = 0;
  private retryDelayMs = 0;
  private lastSaved = '';
  private phase: 'new' | 'running' | 'stopped' = 'new';
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    config: LogTailerConfig,
    private readonly deps: LogTailerDeps,
  ) {
    this.config = resolveLogTailerConfig(config);
    this.clock = deps.clock ?? systemClock;
    this.store = deps.offsets ?? new JsonFileOffsetStore(this.config.statePath);
  }

  /** Loads the offsets, reads what is there, and polls every pollIntervalMs. Idempotent. */
  async start(): Promise<void> {
    if (this.phase !== 'new') return;
    let saved: LogOffsets;
    try {
      saved = await this.store.load();
    } catch (err) {
      // Starting over re-sends records downstream already has, under the same ids: harmless, unlike not collecting.
      this.deps.logger?.warn({ err: errorMessage(err) }, 'log offsets unreadable; reading every log file from its start');
      saved = emptyOffsets();
    }
    // stop() while the offsets were loading: stay stopped.
    if (this.phase !== 'new') return;
    for (const [key, offset] of Object.entries(saved.files)) {
      const slash = key.indexOf('/');
      if (slash > 0) this.live.set(key, this.track(key.slice(0, slash), key.slice(slash + 1), offset));
    }
    this.lastSaved = JSON.stringify(saved);
    this.phase = 'running';
    await this.poll();
    this.schedule();
  }

  /**
   * Stops polling, reads what is left, closes the open records and hands everything to
   * the consumer, then saves the offsets. If the consumer refuses, the offsets stay
   * before those records: the next start reads them again. Idempotent, safe before start().
   */
  async stop(): Promise<void> {
    if (this.phase !== 'running') {
      this.phase = 'stopped';
      return;
    }
    this.phase = 'stopped';
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.serial(async () => {
      await this.read();
      for (const tracker of [...this.retired, ...this.live.values()]) this.enqueue(tracker, tracker.assembler.finish());
      const delivered = await this.deliver(true);
      await this.commit();
      if (!delivered) this.deps.logger?.warn({ waiting: this.buffer.length }, 'log records not delivered at stop; they are read again at the next start');
    });
  }

  /** One poll now (what the timer runs): read, deliver what is due, save the offsets. Experimental (tests drive it). */
  poll(): Promise<void> {
    return this.serial(async () => {
      await this.read();
      await this.deliver(false);
      await this.commit();
    });
  }

  /** Records read and not yet taken by the consumer. */
  get waiting(): number {
    return this.buffer.length;
  }

  private schedule(): void {
    if (this.phase !== 'running') return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.poll().finally(() => this.schedule());
    }, this.config.pollIntervalMs);
  }

  /** Polls never overlap: offsets, buffer and trackers change in one place at a time. */
  private serial(work: () => Promise<void>): Promise<void> {
    const next = this.chain.then(work).catch((err: unknown) => this.deps.logger?.warn({ err: errorMessage(err) }, 'log tailer poll failed; trying again at the next one'));
    this.chain = next;
    return next;
  }

  private track(host: string, file: string, from: FileOffset | null): Tracker {
    return {
      key: `${host}/${file}`,
      host,
      file,
      path: join(this.config.directory, host, file),
      ino: from?.ino ?? '',
      offset: from?.offset ?? 0,
      fingerprint: from?.fingerprint ?? null,
      fingerprintBytes: from?.fingerprintBytes ?? 0,
      lastSize: -1,
      assembler: new RecordAssembler({ host, file, service: file.replace(/\.log$/, '') }, this.config.maxMessageBytes),
      waiting: [],
      retired: false,
      done: false,
      warnedUnread: false,
    };
  }

  /** `<directory>/<host>/<name>.log`, sorted so runs read in the same order. */
  private async discover(): Promise<Array<{ host: string; file: string }>> {
    const found: Array<{ host: string; file: string }> = [];
    const hosts = await readdir(this.config.directory, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
    for (const host of hosts.filter((h) => h.isDirectory()).map((h) => h.name).sort()) {
      const files = await readdir(join(this.config.directory, host), { withFileTypes: true }).catch(() => []);
      for (const file of files.filter((f) => f.isFile() && f.name.endsWith('.log')).map((f) => f.name).sort()) found.push({ host, file });
    }
    return found;
  }

  /** The file an inode was rotated to: `<file>.1`, `<file>-20261124`... in the same folder. */
  private async findRotated(tracker: Tracker): Promise<string | null> {
    if (tracker.ino === '') return null;
    const folder = join(this.config.directory, tracker.host);
    const names = await readdir(folder).catch(() => [] as string[]);
    for (const name of names) {
      if (name === tracker.file || !name.startsWith(tracker.file)) continue;
      const found = await statOrNull(join(folder, name)).catch(() => null);
      if (found?.ino === tracker.ino) return join(folder, name);
    }
    return null;
  }

  private retire(tracker: Tracker, rotatedTo: string | null): void {
    this.live.delete(tracker.key);
    tracker.retired = true;
    if (rotatedTo) tracker.path = rotatedTo;
    else {
      // Truncated or deleted: what was not read is gone; what was read is complete.
      tracker.done = true;
      this.enqueue(tracker, tracker.assembler.finish());
    }
    this.retired.push(tracker);
  }

  /** Whether the file still starts with the bytes this generation started with. */
  private async sameStart(tracker: Tracker, size: number): Promise<boolean> {
    if (tracker.fingerprint === null) return true;
    if (size < tracker.fingerprintBytes) return false;
    return sha256(await readAt(tracker.path, 0, tracker.fingerprintBytes)) === tracker.fingerprint;
  }

  private async read(): Promise<void> {
    if (this.buffer.length >= this.config.maxBufferedRecords) return;
    const now = this.clock.now();
    // 1. rotated generations first: their lines are older than the new file's.
    for (const tracker of this.retired.filter((t) => !t.done)) await this.guarded(tracker, () => this.readRetired(tracker, now));
    // 2. every file there is now; a file not seen before starts at 0.
    const seen = new Set<string>();
    for (const { host, file } of await this.discover()) {
      const key = `${host}/${file}`;
      seen.add(key);
      let tracker = this.live.get(key);
      if (!tracker) {
        tracker = this.track(host, file, null);
        this.live.set(key, tracker);
      }
      const current = tracker;
      await this.guarded(current, () => this.readLive(current, now));
    }
    // 3. files that went away: read the rest under their new name if they were renamed.
    for (const tracker of [...this.live.values()].filter((t) => !seen.has(t.key))) {
      const rotatedTo = await this.findRotated(tracker);
      this.retire(tracker, rotatedTo);
      if (rotatedTo) await this.guarded(tracker, () => this.readRetired(tracker, now));
    }
    this.retired = this.retired.filter((t) => !t.done || t.waiting.length > 0 || t.assembler.openOffset !== null);
  }

  private async guarded(tracker: Tracker, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      this.deps.logger?.warn({ err: errorMessage(err), file: tracker.path }, 'log file not read; trying again at the next poll');
    }
  }

  private async readLive(tracker: Tracker, now: Date): Promise<void> {
    const found = await statOrNull(tracker.path);
    if (!found) return;
    if (tracker.ino === '') tracker.ino = found.ino;
    const changed = found.size !== tracker.lastSize;
    const renamed = found.ino !== tracker.ino;
    if (renamed || found.size < tracker.offset || (changed && !(await this.sameStart(tracker, found.size)))) {
      const rotatedTo = renamed ? await this.findRotated(tracker) : null;
      this.retire(tracker, rotatedTo);
      if (rotatedTo) await this.readRetired(tracker, now);
      const next = this.track(tracker.host, tracker.file, null);
      next.ino = found.ino;
      this.live.set(next.key, next);
      this.deps.logger?.info({ file: tracker.key, rotatedTo }, renamed ? 'log file rotated; reading the new one from its start' : 'log file truncated; reading it from its start');
      await this.readFrom(next, found.size, now, false);
      return;
    }
    await this.readFrom(tracker, found.size, now, false);
  }

  private async readRetired(tracker: Tracker, now: Date): Promise<void> {
    let found = await statOrNull(tracker.path);
    if (found?.ino !== tracker.ino) {
      // Rotated once more (.1 to .2) while being read: follow the inode.
      const moved = await this.findRotated(tracker);
      found = moved ? await statOrNull(moved) : null;
      if (moved) tracker.path = moved;
    }
    if (!found || found.ino !== tracker.ino) {
      tracker.done = true;
      this.enqueue(tracker, tracker.assembler.finish());
      return;
    }
    const progressed = await this.readFrom(tracker, found.size, now, true);
    if (!progressed) tracker.done = true;
  }

  /**
   * Reads what was appended after tracker.offset (at most maxReadBytes), up to the last
   * complete line, into the assembler. A file that had nothing new closes its open
   * record. `final`: the file will not grow (rotated away), so a last line without its
   * newline is complete. Returns whether anything was read.
   */
  private async readFrom(tracker: Tracker, size: number, now: Date, final: boolean): Promise<boolean> {
    tracker.lastSize = size;
    const available = size - tracker.offset;
    let consumed = 0;
    if (available > 0) {
      const length = Math.min(available, this.config.maxReadBytes);
      const chunk = await readAt(tracker.path, tracker.offset, length);
      consumed = chunk.lastIndexOf(0x0a) + 1;
      // A line longer than one read would stall the file: take the chunk as one line.
      if (consumed === 0 && (chunk.length === this.config.maxReadBytes || final)) consumed = chunk.length;
      const before = tracker.assembler.unreadLines + tracker.assembler.cutLines;
      let start = 0;
      while (start < consumed) {
        const newline = chunk.indexOf(0x0a, start);
        const end = newline === -1 || newline >= consumed ? consumed : newline;
        const line = chunk.subarray(start, end).toString('utf8').replace(/\r$/, '');
        this.enqueue(tracker, tracker.assembler.push(line, tracker.offset + start, now));
        start = end + 1;
      }
      tracker.offset += consumed;
      const dropped = tracker.assembler.unreadLines + tracker.assembler.cutLines - before;
      if (dropped > 0) {
        this.deps.telemetry?.dropped(dropped);
        if (!tracker.warnedUnread) this.deps.logger?.warn({ file: tracker.key, dropped }, 'log lines match no known format (or overflow a record); counted as dropped');
        tracker.warnedUnread = true;
      }
      if (tracker.fingerprintBytes < FINGERPRINT_BYTES && size > tracker.fingerprintBytes && !tracker.retired) {
        const head = await readAt(tracker.path, 0, Math.min(size, FINGERPRINT_BYTES));
        tracker.fingerprint = sha256(head);
        tracker.fingerprintBytes = head.length;
      }
    }
    if (consumed === 0) this.enqueue(tracker, tracker.assembler.finish());
    return consumed > 0;
  }

  private enqueue(tracker: Tracker, records: ReadonlyArray<{ record: LogRecord; offset: number }>): void {
    if (records.length === 0) return;
    if (this.buffer.length === 0) this.bufferSince = this.clock.nowMs();
    for (const { record, offset } of records) {
      this.buffer.push({ record, tracker });
      tracker.waiting.push(offset);
    }
  }

  /**
   * Hands the buffer to the consumer in batches: full batches at once, the rest once its
   * oldest record waited flushIntervalMs (or at once when forced). A refusal leaves the
   * records where they are and waits before trying again (doubling, up to maxRetryDelayMs).
   * Returns whether the buffer was emptied.
   */
  private async deliver(force: boolean): Promise<boolean> {
    while (this.buffer.length > 0) {
      const now = this.clock.nowMs();
      if (!force && now < this.retryAt) return false;
      const age = now - (this.bufferSince ?? now);
      // A negative age means the clock was set back (the simulator's warp): send rather than wait for it to catch up.
      const due = force || this.buffer.length >= this.config.batchSize || age >= this.config.flushIntervalMs || age < 0;
      if (!due) return false;
      const batch = this.buffer.slice(0, this.config.batchSize);
      try {
        await this.deps.consumer.consume(batch.map((w) => w.record));
      } catch (err) {
        this.retryDelayMs = Math.min(this.config.maxRetryDelayMs, this.retryDelayMs === 0 ? this.config.pollIntervalMs : this.retryDelayMs * 2);
        this.retryAt = this.clock.nowMs() + this.retryDelayMs;
        this.deps.logger?.warn({ err: errorMessage(err), records: batch.length, retryInMs: this.retryDelayMs }, 'log consumer refused a batch; it is offered again');
        return false;
      }
      this.retryDelayMs = 0;
      this.retryAt = 0;
      this.buffer.splice(0, batch.length);
      for (const w of batch) w.tracker.waiting.shift();
      // The records left were read no later than the ones just sent: they keep their age.
      if (this.buffer.length === 0) this.bufferSince = null;
      this.deps.telemetry?.accepted(batch.length);
      this.deps.telemetry?.observeBatch(this.clock.nowMs() - now);
      // 1. the consumer has resolved: it holds these records;
      // 2. only now may the offsets move past them. A crash between 1 and 2 reads them again
      //    and sends them under the same ids, which downstream treats as the same records.
      await this.commit();
    }
    return true;
  }

  /** Where a file is safe to resume: before its oldest record not yet taken (or still open), else where reading got to. */
  private resumeAt(tracker: Tracker): FileOffset {
    const open = tracker.assembler.openOffset;
    const offset = Math.min(tracker.waiting[0] ?? tracker.offset, open ?? tracker.offset, tracker.offset);
    return { offset, ino: tracker.ino, fingerprint: tracker.fingerprint, fingerprintBytes: tracker.fingerprintBytes };
  }

  /** Saves the offsets if they moved. A rotated generation not yet finished wins over its successor: a restart finishes it first. */
  private async commit(): Promise<void> {
    const files: Record<string, FileOffset> = {};
    for (const tracker of this.retired) {
      const unfinished = !tracker.done || tracker.waiting.length > 0 || tracker.assembler.openOffset !== null;
      if (unfinished && !(tracker.key in files)) files[tracker.key] = this.resumeAt(tracker);
    }
    for (const tracker of this.live.values()) if (!(tracker.key in files) && tracker.ino !== '') files[tracker.key] = this.resumeAt(tracker);
    const state: LogOffsets = { version: 1, files };
    const text = JSON.stringify(state);
    if (text === this.lastSaved) return;
    try {
      await this.store.save(state);
      this.lastSaved = text;
    } catch (err) {
      // Not fatal: the offsets on disk are older, which only means reading again after a crash.
      this.deps.logger?.warn({ err: errorMessage(err) }, 'log offsets not saved; trying again at the next commit');
    }
  }
}

/** Validates the config (CUMULUS_CONFIG_INVALID naming the key) and builds the tailer. Stable. */
export function createLogTailer(config: LogTailerConfig, deps: LogTailerDeps): LogTailer {
  if (typeof deps?.consumer?.consume !== 'function') throw new ConfigError('the log tailer needs deps.consumer, an object with consume(batch): Promise<void>; got none');
  return new LogTailer(config, deps);
}
