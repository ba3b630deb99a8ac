import type { Logger } from '../../core/index.ts';
import { errorMessage } from '../../core/index.ts';
import type { LineSpec, ServiceLogWriter } from '../logs/index.ts';
import type { RawLogFiles } from './raw-log.ts';

/**
 * Where the deployment's lines go: oslo.log lines through the ServiceLogWriter (which
 * also hands out the pids those lines carry), the daemons' own formats through
 * RawLogFiles. Without a writer (no log directory configured) nothing is written.
 * A line that cannot be written never fails the operation it describes.
 */
export class LogOutput {
  constructor(
    private readonly writer: ServiceLogWriter | null,
    private readonly files: RawLogFiles | null,
    private readonly logger: Logger,
  ) {}

  get enabled(): boolean {
    return this.writer !== null;
  }

  /** The pid the writer stamps on this process's lines (a running process keeps it), or null without a writer. */
  pidOf(host: string, process: string): number | null {
    return this.guard(() => this.writer?.pidOf(host, process) ?? null, null);
  }

  oslo(host: string, process: string, spec: LineSpec): void {
    this.guard(() => this.writer?.write({ host, service: process, ...spec }), undefined);
  }

  /** The process's start lines; returns the new pid the writer gave it. */
  started(host: string, process: string, version: string): number | null {
    return this.guard(() => {
      if (!this.writer) return null;
      this.writer.serviceStarted(host, process, version);
      return this.writer.pidOf(host, process);
    }, null);
  }

  /** `Caught SIGTERM, exiting` and, for an API, the WSGI server's shutdown. */
  stopped(host: string, process: string): void {
    this.guard(() => this.writer?.serviceStopped(host, process), undefined);
  }

  raw(host: string, file: string, lines: readonly string[]): void {
    this.guard(() => this.files?.append(host, file, lines), undefined);
  }

  private guard<T>(write: () => T, fallback: T): T {
    try {
      return write();
    } catch (err) {
      this.logger.warn({ err: errorMessage(err) }, 'deployment log line not written');
      return fallback;
    }
  }
}
