import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, TelemetryRegistry, silentLogger, type LogRecord } from '../../core/index.ts';
import { logRecordId } from './line.ts';
import { JsonFileOffsetStore, type LogOffsets } from './offsets.ts';
import { createLogTailer, type LogConsumer, type LogTailer, type LogTailerDeps } from './tailer.ts';
import type { LogTailerConfig } from './config.ts';

/** Lines cloud/logs' ServiceLogWriter wrote (see parser.test.ts). */
const capture = JSON.parse(readFileSync(new URL('./testdata/cloud-logs.json', import.meta.url), 'utf8')) as {
  oslo: Array<{ globalRequestId: boolean; host: string; service: string; line: string; input: { message: string } }>;
  daemons: { mysqld: string[]; rabbitmq: string[] };
};
const written = capture.oslo.filter((c) => c.globalRequestId);

/** A nova-compute line in the writer's format; `n` makes it unique. */
const line = (n: number, message = `line ${n}`) => `2026-11-24 17:00:${String(n % 60).padStart(2, '0')}.${String(n % 1000).padStart(3, '0')} 2211 INFO nova.compute.manager [None req-${n} u1 p1 - - default default] ${message}`;

/** A consumer that keeps what it took and can be told to refuse. */
class Collecting implements LogConsumer {
  batches: LogRecord[][] = [];
  refuse = 0;
  onConsume: ((batch: LogRecord[]) => void) | null = null;
  async consume(batch: LogRecord[]): Promise<void> {
    this.onConsume?.(batch);
    if (this.refuse > 0) {
      this.refuse -= 1;
      throw new Error('stream unavailable');
    }
    this.batches.push(batch);
  }
  get records(): LogRecord[] {
    return this.batches.flat();
  }
  messages(): string[] {
    return this.records.map((r) => r.message);
  }
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('LogTailer', () => {
  let root: string;
  let directory: string;
  let statePath: string;
  const tailers: LogTailer[] = [];

  const append = (host: string, file: string, lines: readonly string[], newline = true) => {
    mkdirSync(join(directory, host), { recursive: true });
    appendFileSync(join(directory, host, file), lines.join('\n') + (newline ? '\n' : ''));
  };
  const saved = (): LogOffsets => JSON.parse(readFileSync(statePath, 'utf8')) as LogOffsets;
  /** Driven by poll(): the timer is too slow to fire during a test. */
  const tailer = (consumer: LogConsumer, config: Partial<LogTailerConfig> = {}, deps: Partial<LogTailerDeps> = {}) => {
    const created = createLogTailer({ directory, statePath, pollIntervalMs: 3_600_000, flushIntervalMs: 0, ...config }, { consumer, logger: silentLogger(), ...deps });
    tailers.push(created);
    return created;
  };
  /** Two polls: the first reads, the second finds the files quiet and closes their last records. */
  const settle = async (t: LogTailer) => {
    await t.poll();
    await t.poll();
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cumulus-tailer-'));
    directory = join(root, 'logs');
    statePath = join(root, 'state', 'log-offsets.json');
  });

  afterEach(async () => {
    for (const t of tailers.splice(0)) await t.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('reads the lines cloud/logs wrote, with host and service from the path and ids from the offsets', async () => {
    const byFile = new Map<string, typeof written>();
    for (const c of written) byFile.set(`${c.host}/${c.service}`, [...(byFile.get(`${c.host}/${c.service}`) ?? []), c]);
    for (const entries of byFile.values()) append(entries[0]?.host as string, `${entries[0]?.service as string}.log`, entries.map((e) => e.line));
    const consumer = new Collecting();
    const t = tailer(consumer);
    await t.start();
    await t.poll();
    expect(consumer.records).toHaveLength(written.length);
    for (const entries of byFile.values()) {
      let offset = 0;
      for (const entry of entries) {
        const record = consumer.records.find((r) => r.id === logRecordId(entry.host, `${entry.service}.log`, offset, entry.line));
        expect(record, entry.line).toMatchObject({ host: entry.host, service: entry.service });
        expect(record?.message).toContain(entry.input.message);
        offset += Buffer.byteLength(entry.line) + 1;
      }
    }
  });

  it('follows appends and files that appear later, holding the last record until its file is quiet', async () => {
    const consumer = new Collecting();
    const t = tailer(consumer);
    await t.start();
    expect(consumer.records).toEqual([]);
    append('compute-1', 'nova-compute.log', [line(1), line(2)]);
    await t.poll();
    // line 2 could still get traceback lines: it waits for a quiet poll.
    expect(consumer.messages()).toEqual(['line 1']);
    await t.poll();
    expect(consumer.messages()).toEqual(['line 1', 'line 2']);
    append('compute-1', 'nova-compute.log', [line(3), '  a continuation of line 3']);
    append('compute-2', 'nova-compute.log', [line(4)]);
    append('controller-1', 'mysqld.log', capture.daemons.mysqld.slice(-2));
    await settle(t);
    expect(consumer.messages().slice(2).sort()).toEqual(['/usr/sbin/mariadbd: ready for connections.\n' + (capture.daemons.mysqld.at(-1) as string), 'line 3\n  a continuation of line 3', 'line 4']);
    expect(consumer.records.find((r) => r.message === 'line 4')).toMatchObject({ host: 'compute-2', service: 'nova-compute' });
    expect(consumer.records.find((r) => r.service === 'mysqld')).toMatchObject({ host: 'controller-1', level: 'INFO' });
    expect(new Set(consumer.records.map((r) => r.id)).size).toBe(consumer.records.length);
  });

  it('waits for the newline of a line still being written', async () => {
    const consumer = new Collecting();
    const t = tailer(consumer);
    await t.start();
    append('compute-1', 'nova-compute.log', [line(1)], false);
    await settle(t);
    expect(consumer.records).toEqual([]);
    appendFileSync(join(directory, 'compute-1', 'nova-compute.log'), ' and its end\n');
    await settle(t);
    expect(consumer.messages()).toEqual(['line 1 and its end']);
  });

  it('keeps offsets only after the consumer took the records, in a JSON file replaced atomically', async () => {
    append('compute-1', 'nova-compute.log', [line(1), line(2)]);
    const consumer = new Collecting();
    const seenDuringConsume: Array<number | undefined> = [];
    consumer.onConsume = () => seenDuringConsume.push(existsSync(statePath) ? saved().files['compute-1/nova-compute.log']?.offset : undefined);
    const t = tailer(consumer);
    await t.start();
    await t.poll();
    const size = readFileSync(join(directory, 'compute-1', 'nova-compute.log')).length;
    // While each batch was being consumed, the offsets on disk were still before it.
    expect(seenDuringConsume).toEqual([undefined, Buffer.byteLength(line(1)) + 1]);
    expect(saved()).toEqual({ version: 1, files: { 'compute-1/nova-compute.log': { offset: size, ino: expect.stringMatching(/^\d+$/), fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/), fingerprintBytes: expect.any(Number) } } });
    expect(readdirSync(join(root, 'state'))).toEqual(['log-offsets.json']);
  });

  it('re-delivers, with the same ids, what was consumed but whose offsets were not saved before a crash', async () => {
    append('compute-1', 'nova-compute.log', [line(1), line(2), line(3)]);
    const real = new JsonFileOffsetStore(statePath);
    let crashed = false;
    const crashing = { load: () => real.load(), save: async (o: LogOffsets) => (crashed ? Promise.reject(new Error('process killed')) : real.save(o)) };
    const first = new Collecting();
    const before = tailer(first, {}, { offsets: crashing });
    // start() polls once: lines 1 and 2 delivered and saved, line 3 still open.
    await before.start();
    expect(first.messages()).toEqual(['line 1', 'line 2']);
    // Then the process dies after delivering line 3, before saving the offsets past it.
    crashed = true;
    append('compute-1', 'nova-compute.log', [line(4)]);
    await before.poll();
    expect(first.messages()).toEqual(['line 1', 'line 2', 'line 3']);
    const delivered3 = first.records[2] as LogRecord;

    const second = new Collecting();
    const after = tailer(second);
    await after.start();
    await after.poll();
    // Line 3 comes again under the same id; nothing already saved comes again; nothing is lost.
    expect(second.records[0]).toEqual(delivered3);
    expect(second.messages()).toEqual(['line 3', 'line 4']);
  });

  it('offers a refused batch again until the consumer takes it: nothing lost, nothing twice', async () => {
    append('compute-1', 'nova-compute.log', [line(1), line(2), line(3)]);
    const consumer = new Collecting();
    consumer.refuse = 3;
    const t = tailer(consumer, { pollIntervalMs: 10, maxRetryDelayMs: 40 });
    await t.start();
    await until(() => consumer.records.length === 3, 'three records');
    expect(consumer.messages()).toEqual(['line 1', 'line 2', 'line 3']);
    await t.stop();
    expect(saved().files['compute-1/nova-compute.log']?.offset).toBe(readFileSync(join(directory, 'compute-1', 'nova-compute.log')).length);
  });

  it('keeps the offsets before a refused batch, so a restart reads it again', async () => {
    append('compute-1', 'nova-compute.log', [line(1), line(2)]);
    const refusing = new Collecting();
    refusing.refuse = Number.POSITIVE_INFINITY;
    const t = tailer(refusing);
    await t.start();
    await settle(t);
    await t.stop();
    expect(refusing.records).toEqual([]);
    expect(existsSync(statePath) ? saved().files['compute-1/nova-compute.log']?.offset : 0).toBe(0);
    const consumer = new Collecting();
    const again = tailer(consumer);
    await again.start();
    await settle(again);
    expect(consumer.messages()).toEqual(['line 1', 'line 2']);
  });

  it('reads the rest of a rotated file under its new name, then the new file from its start', async () => {
    const consumer = new Collecting();
    const t = tailer(consumer);
    await t.start();
    append('compute-1', 'nova-compute.log', [line(1), line(2)]);
    await settle(t);
    // Written after the last poll, then logrotate renames the file and the service opens a new one.
    append('compute-1', 'nova-compute.log', [line(3), line(4)]);
    renameSync(join(directory, 'compute-1', 'nova-compute.log'), join(directory, 'compute-1', 'nova-compute.log.1'));
    append('compute-1', 'nova-compute.log', [line(5)]);
    await settle(t);
    expect(consumer.messages()).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
    // The new generation starts at offset 0 again: its first line keeps its id apart from line 1's.
    const ids = consumer.records.map((r) => r.id);
    expect(new Set(ids).size).toBe(5);
    expect(consumer.records[4]?.id).toBe(logRecordId('compute-1', 'nova-compute.log', 0, line(5)));
    expect(saved().files['compute-1/nova-compute.log']?.offset).toBe(Buffer.byteLength(line(5)) + 1);
  });

  it('finishes a rotated file after a restart: the saved inode is found under its new name', async () => {
    append('compute-1', 'nova-compute.log', [line(1)]);
    const first = new Collecting();
    const before = tailer(first);
    await before.start();
    await settle(before);
    await before.stop();
    append('compute-1', 'nova-compute.log', [line(2)]);
    renameSync(join(directory, 'compute-1', 'nova-compute.log'), join(directory, 'compute-1', 'nova-compute.log.1'));
    append('compute-1', 'nova-compute.log', [line(3)]);
    const second = new Collecting();
    const after = tailer(second);
    await after.start();
    await settle(after);
    expect(second.messages()).toEqual(['line 2', 'line 3']);
  });

  it('starts over when a file is truncated (copytruncate), also when it grew back past the old offset', async () => {
    const consumer = new Collecting();
    const t = tailer(consumer);
    await t.start();
    const path = join(directory, 'compute-1', 'nova-compute.log');
    append('compute-1', 'nova-compute.log', [line(1), line(2)]);
    await settle(t);
    truncateSync(path, 0);
    append('compute-1', 'nova-compute.log', [line(3)]);
    await settle(t);
    expect(consumer.messages()).toEqual(['line 1', 'line 2', 'line 3']);
    // Truncated and rewritten longer than before between two polls: the first bytes differ.
    writeFileSync(path, `${[line(10, 'x'.repeat(400)), line(11)].join('\n')}\n`);
    await settle(t);
    expect(consumer.messages().slice(3)).toEqual(['x'.repeat(400), 'line 11']);
  });

  it('forgets a deleted file', async () => {
    const consumer = new Collecting();
    const t = tailer(consumer);
    await t.start();
    append('compute-1', 'nova-compute.log', [line(1)]);
    append('compute-1', 'nova-api.log', [line(2)]);
    await settle(t);
    rmSync(join(directory, 'compute-1', 'nova-api.log'));
    await settle(t);
    expect(Object.keys(saved().files)).toEqual(['compute-1/nova-compute.log']);
  });

  it('batches by count, and sends a smaller batch once its oldest record waited flushIntervalMs', async () => {
    const clock = new ManualClock(new Date('2026-11-24T18:00:00Z'));
    const consumer = new Collecting();
    const t = tailer(consumer, { batchSize: 2, flushIntervalMs: 1000 }, { clock });
    await t.start();
    append('compute-1', 'nova-compute.log', [1, 2, 3, 4, 5, 6].map((n) => line(n)));
    await settle(t);
    expect(consumer.batches.map((b) => b.length)).toEqual([2, 2, 2]);
    append('compute-1', 'nova-compute.log', [line(7)]);
    await settle(t);
    expect(t.waiting).toBe(1);
    clock.advance(1000);
    await t.poll();
    expect(consumer.batches.map((b) => b.length)).toEqual([2, 2, 2, 1]);
    // A clock set back (the simulator's warp) does not hold a batch until it catches up.
    append('compute-1', 'nova-compute.log', [line(8)]);
    await settle(t);
    expect(t.waiting).toBe(1);
    clock.set(new Date('2026-11-01T00:00:00Z'));
    await t.poll();
    expect(consumer.batches.map((b) => b.length)).toEqual([2, 2, 2, 1, 1]);
  });

  it('polls on its own every pollIntervalMs', async () => {
    const consumer = new Collecting();
    const t = tailer(consumer, { pollIntervalMs: 10 });
    await t.start();
    append('compute-1', 'nova-compute.log', [line(1), line(2)]);
    await until(() => consumer.records.length === 2, 'two records');
  });

  it('flushes at stop: the record still open and the batch not yet due', async () => {
    const consumer = new Collecting();
    const t = tailer(consumer, { batchSize: 100, flushIntervalMs: 60_000 });
    await t.start();
    append('compute-1', 'nova-compute.log', [line(1), line(2)]);
    await t.poll();
    expect(consumer.records).toEqual([]);
    await t.stop();
    expect(consumer.messages()).toEqual(['line 1', 'line 2']);
    await t.stop();
    expect(consumer.batches).toHaveLength(1);
  });

  it('is safe to stop before start', async () => {
    const t = tailer(new Collecting());
    await t.stop();
    await t.stop();
    expect(existsSync(statePath)).toBe(false);
  });

  it('pauses reading while maxBufferedRecords wait for the consumer', async () => {
    const consumer = new Collecting();
    consumer.refuse = 1;
    const t = tailer(consumer, { batchSize: 2, maxBufferedRecords: 2 });
    await t.start();
    append('compute-1', 'nova-compute.log', [1, 2, 3, 4, 5].map((n) => line(n)));
    await t.poll();
    expect(t.waiting).toBe(4);
    await t.stop();
    expect(consumer.messages()).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
  });

  it('starts over from the files when the offsets file is unreadable', async () => {
    mkdirSync(join(root, 'state'));
    writeFileSync(statePath, '{"version": 1, "files": ');
    append('compute-1', 'nova-compute.log', [line(1)]);
    const consumer = new Collecting();
    const t = tailer(consumer);
    await t.start();
    await settle(t);
    expect(consumer.messages()).toEqual(['line 1']);
    expect(saved().version).toBe(1);
  });

  it('counts accepted records and the lines it could not read', async () => {
    const telemetry = new TelemetryRegistry().component('collectors.logs');
    const t = tailer(new Collecting(), {}, { telemetry });
    await t.start();
    append('compute-1', 'strange.log', ['no format here', 'nor here']);
    append('compute-1', 'nova-compute.log', [line(1)]);
    await settle(t);
    expect(telemetry.snapshot()).toMatchObject({ accepted: 1, dropped: 2, batches: 1 });
  });

  it('refuses bad config, naming the key', () => {
    const consumer = new Collecting();
    expect(() => createLogTailer({ directory: '', statePath }, { consumer })).toThrow(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID', message: expect.stringContaining('collectors.logs.directory') }));
    expect(() => createLogTailer({ directory, statePath, pollIntervalMs: 0 }, { consumer })).toThrow(/collectors\.logs\.pollIntervalMs must be a whole number >= 1; got 0/);
    expect(() => createLogTailer({ directory, statePath, batchSize: 10, maxBufferedRecords: 5 }, { consumer })).toThrow(/maxBufferedRecords must be at least batchSize/);
    expect(() => createLogTailer({ directory, statePath }, {} as LogTailerDeps)).toThrow(/deps\.consumer/);
  });
});
