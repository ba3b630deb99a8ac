import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock, ComponentTelemetry, Lifecycle, LogLevel, Logger } from '../../core/index.ts';
import { errorMessage } from '../../core/index.ts';
import { PID_MAX, PID_MIN, SAFE_NAME, resolveServiceLogConfig, type ResolvedServiceLogConfig, type ServiceLogConfig } from './config.ts';
import { invalidLogName, writerStopped } from './errors.ts';
import { formatOsloLine, type LogContext, type OsloLine } from './format.ts';
import { accessLogger, accessMessage, projectOf, startLines, stopLines, type AccessLogStyle, type AccessRecord, type LineSpec } from './service-lines.ts';

/** One line a service process writes. */
export interface ServiceLogEntry {
  host: string;
  /** The process, which names the file: nova-api, nova-compute, cinder-volume... */
  service: string;
  level: LogLevel;
  /** The Python logger name, e.g. nova.compute.manager. */
  logger: string;
  message: string;
  /** With a request id, the line takes the context form; without, `[-]`. */
  context?: LogContext | null;
  instance?: string | null;
  source?: OsloLine['source'];
}

export interface ServiceLogWriterDeps {
  /** Stamps every line, so the simulator's warped time shows in the logs. */
  clock: Clock;
  /** Where the writer reports its own trouble (a file it cannot write). */
  logger?: Logger;
  /** accepted: lines on disk; dropped: lines a file refused. */
  telemetry?: ComponentTelemetry;
}

interface OpenFile {
  stream: WriteStream;
  /** Settles when the last line handed to the stream is on disk (write callbacks run in order). */
  last: Promise<void>;
}

interface ProcessState {
  pid: number;
  generation: number;
  running: boolean;
}

/** FNV-1a: a pid that depends only on the process's identity, so runs are reproducible. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * Writes the control plane's service logs as OpenStack's processes write theirs: one
 * oslo.log-format file per host and process (`<directory>/<host>/<process>.log`, like
 * /var/log/nova/nova-compute.log on that host), appended to, stamped with the injected
 * clock and with one pid per running process. Stable.
 */
export class ServiceLogWriter implements Lifecycle {
  readonly config: ResolvedServiceLogConfig;
  private readonly files = new Map<string, OpenFile>();
  private readonly processes = new Map<string, ProcessState>();
  private readonly createdHosts = new Set<string>();
  private stopped = false;

  constructor(
    config: ServiceLogConfig,
    private readonly deps: ServiceLogWriterDeps,
  ) {
    this.config = resolveServiceLogConfig(config);
  }

  async start(): Promise<void> {
    await mkdir(this.config.directory, { recursive: true });
  }

  /** The writer's time: what its lines are stamped with. */
  now(): Date {
    return this.deps.clock.now();
  }

  /** The file a process on a host writes to. */
  pathOf(host: string, service: string): string {
    if (!SAFE_NAME.test(host)) throw invalidLogName('host', host);
    if (!SAFE_NAME.test(service)) throw invalidLogName('service', service);
    return join(this.config.directory, host, `${service}.log`);
  }

  /** The pid of the process now running; a process stopped and started again gets a new one. */
  pidOf(host: string, service: string): number {
    const key = `${host}\u001f${service}`;
    const state = this.processes.get(key);
    if (state?.running) return state.pid;
    const generation = state ? state.generation + 1 : 0;
    const taken = new Set([...this.processes.entries()].filter(([k, s]) => s.running && k.startsWith(`${host}\u001f`)).map(([, s]) => s.pid));
    let pid = PID_MIN + (fnv1a(`${key}\u001f${generation}`) % (PID_MAX - PID_MIN + 1));
    // Two live processes on one host never share a pid.
    while (taken.has(pid)) pid = pid === PID_MAX ? PID_MIN : pid + 1;
    this.processes.set(key, { pid, generation, running: true });
    return pid;
  }

  /** Appends one line; returns it (without the newline). */
  write(entry: ServiceLogEntry): string {
    if (this.stopped) throw writerStopped();
    const path = this.pathOf(entry.host, entry.service);
    const line = formatOsloLine(
      {
        time: this.deps.clock.now(),
        pid: this.pidOf(entry.host, entry.service),
        level: entry.level,
        logger: entry.logger,
        message: entry.message,
        context: entry.context,
        instance: entry.instance,
        source: entry.source,
      },
      { globalRequestId: this.config.globalRequestId },
    );
    this.append(entry.host, path, `${line}\n`);
    return line;
  }

  /** A process starts (a new pid if it ran before) and writes its start lines. */
  serviceStarted(host: string, service: string, version: string): string[] {
    const state = this.processes.get(`${host}\u001f${service}`);
    if (state) state.running = false;
    return this.writeSpecs(host, service, startLines(service, version));
  }

  /** A process is stopped: it writes its shutdown lines and gives up its pid. */
  serviceStopped(host: string, service: string, signal: 'SIGTERM' | 'SIGINT' = 'SIGTERM'): string[] {
    const lines = this.writeSpecs(host, service, stopLines(service, signal));
    const state = this.processes.get(`${host}\u001f${service}`);
    if (state) state.running = false;
    return lines;
  }

  /** The access line an API process writes for one request, with that request's context. */
  access(host: string, service: string, style: AccessLogStyle, record: AccessRecord, context?: LogContext | null): string {
    return this.write({ host, service, level: 'INFO', logger: accessLogger(style, projectOf(service)), message: accessMessage(style, record), context });
  }

  /** Resolves once every line written so far is on disk. */
  async flush(): Promise<void> {
    await Promise.all([...this.files.values()].map((file) => file.last));
  }

  /** Flushes and closes every file; idempotent, safe before start(). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // 1. Let queued lines reach the files, 2. then close them: end() after flush loses nothing.
    await this.flush();
    await Promise.all([...this.files.values()].map((file) => new Promise<void>((resolve) => file.stream.end(() => resolve()))));
    this.files.clear();
  }

  private writeSpecs(host: string, service: string, specs: readonly LineSpec[]): string[] {
    return specs.map((spec) => this.write({ host, service, ...spec }));
  }

  private append(host: string, path: string, data: string): void {
    let file = this.files.get(path);
    if (!file) {
      if (!this.createdHosts.has(host)) {
        // Synchronous once per host, so the stream below opens into an existing directory.
        mkdirSync(join(this.config.directory, host), { recursive: true });
        this.createdHosts.add(host);
      }
      const stream = createWriteStream(path, { flags: 'a' });
      stream.on('error', (err) => {
        this.deps.logger?.warn({ err: errorMessage(err), path }, 'service log file failed; it reopens on the next line');
        if (this.files.get(path)?.stream === stream) this.files.delete(path);
      });
      file = { stream, last: Promise.resolve() };
      this.files.set(path, file);
    }
    const current = file;
    current.last = new Promise<void>((resolve) => {
      current.stream.write(data, (err) => {
        if (err) this.deps.telemetry?.dropped();
        else this.deps.telemetry?.accepted();
        resolve();
      });
    });
  }
}

/** Validates the config (throws CUMULUS_CONFIG_INVALID naming the key) and builds the writer. */
export function createServiceLogWriter(config: ServiceLogConfig, deps: ServiceLogWriterDeps): ServiceLogWriter {
  return new ServiceLogWriter(config, deps);
}
