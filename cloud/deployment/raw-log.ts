import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../core/index.ts';
import { errorMessage } from '../../core/index.ts';
import { SAFE_NAME, invalidLogName } from '../logs/index.ts';

interface OpenFile {
  stream: WriteStream;
  /** Settles when the last line handed to the stream is on disk (write callbacks run in order). */
  last: Promise<void>;
}

/**
 * Appends lines in the daemons' own formats (MariaDB, RabbitMQ, haproxy's syslog) next to
 * the ServiceLogWriter's oslo.log files: `<directory>/<host>/<file>`. The writer only
 * writes oslo.log lines, and these files are never its (it names files `<process>.log`
 * for oslo processes only), so the two never share a file.
 */
export class RawLogFiles {
  private readonly files = new Map<string, OpenFile>();
  private stopped = false;

  constructor(
    private readonly directory: string,
    private readonly logger?: Logger,
  ) {}

  append(host: string, file: string, lines: readonly string[]): void {
    if (this.stopped || lines.length === 0) return;
    if (!SAFE_NAME.test(host)) throw invalidLogName('host', host);
    // `rabbit@controller-1.log`: one path component, never `..`.
    if (!/^[A-Za-z0-9][A-Za-z0-9@._-]{0,127}$/.test(file)) throw invalidLogName('service', file);
    const path = join(this.directory, host, file);
    let open = this.files.get(path);
    if (!open) {
      mkdirSync(join(this.directory, host), { recursive: true });
      const stream = createWriteStream(path, { flags: 'a' });
      stream.on('error', (err) => {
        this.logger?.warn({ err: errorMessage(err), path }, 'deployment log file failed; it reopens on the next line');
        if (this.files.get(path)?.stream === stream) this.files.delete(path);
      });
      open = { stream, last: Promise.resolve() };
      this.files.set(path, open);
    }
    const current = open;
    current.last = new Promise<void>((resolve) => current.stream.write(`${lines.join('\n')}\n`, () => resolve()));
  }

  async flush(): Promise<void> {
    await Promise.all([...this.files.values()].map((file) => file.last));
  }

  /** Flushes and closes every file; idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // 1. Let queued lines reach the files, 2. then close them.
    await this.flush();
    await Promise.all([...this.files.values()].map((file) => new Promise<void>((resolve) => file.stream.end(() => resolve()))));
    this.files.clear();
  }
}
