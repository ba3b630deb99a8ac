import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';

/**
 * Every component reports its own telemetry through this one helper: how many items it
 * accepted, refused (dead-lettered, failed), dropped, and how long its batches took. The
 * registry renders them in Prometheus' text exposition format (version 0.0.4) for /metrics,
 * together with what scrape-time collectors read (process metrics, consumer lag).
 *
 * Stable: the metric names and labels below are documented in docs/operations.md; dashboards
 * and alert rules depend on them, so renaming one is a breaking change.
 */
export interface ComponentTelemetry {
  accepted(count?: number): void;
  /**
   * Items the component refused. `reason` is a stable, low-cardinality word or code saying
   * why or where (a dead letter's CUMULUS_* code, a failed delivery's receiver kind); never
   * an id, a tenant or free text: each distinct reason is a time series.
   */
  refused(count?: number, reason?: string): void;
  dropped(count?: number): void;
  observeBatch(durationMs: number): void;
  snapshot(): TelemetrySnapshot;
}

export interface TelemetrySnapshot {
  component: string;
  accepted: number;
  refused: number;
  dropped: number;
  batches: number;
  batchMsSum: number;
  /** Refusals that came with a reason, by reason. */
  refusedByReason: Record<string, number>;
}

export type MetricLabels = Readonly<Record<string, string>>;

/** One metric family read at scrape time: a counter or a gauge with its labelled values. */
export interface MetricFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: ReadonlyArray<{ labels?: MetricLabels; value: number }>;
}

/** Reads metric families when Prometheus scrapes (values that are cheaper to read than to track). */
export type ScrapeCollector = () => Promise<readonly MetricFamily[]> | readonly MetricFamily[];

/** Upper bounds (seconds) of the batch duration histogram: 5 ms (a small insert) to 1 min (a slow evaluation round). */
export const DEFAULT_BATCH_BUCKETS_SECONDS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** How long one scrape collector may take before the scrape goes on without it. */
export const DEFAULT_COLLECTOR_TIMEOUT_MS = 3000;
/** Distinct refusal reasons kept per component; more are counted under `other` (a bug's free text must not explode the series). */
export const MAX_REASONS_PER_COMPONENT = 50;
const OTHER_REASON = 'other';

interface ComponentState {
  snapshot: TelemetrySnapshot;
  /** Cumulative counts per bucket of DEFAULT_BATCH_BUCKETS_SECONDS (non-cumulative here; summed when rendered). */
  buckets: number[];
}

export class TelemetryRegistry {
  private readonly components = new Map<string, ComponentState>();
  private readonly collectors = new Map<string, ScrapeCollector>();

  constructor(private readonly bucketsSeconds: readonly number[] = DEFAULT_BATCH_BUCKETS_SECONDS) {}

  component(name: string): ComponentTelemetry {
    let state = this.components.get(name);
    if (!state) {
      state = {
        snapshot: { component: name, accepted: 0, refused: 0, dropped: 0, batches: 0, batchMsSum: 0, refusedByReason: {} },
        buckets: this.bucketsSeconds.map(() => 0),
      };
      this.components.set(name, state);
    }
    const { snapshot: s, buckets } = state;
    const bounds = this.bucketsSeconds;
    return {
      accepted: (count = 1) => void (s.accepted += count),
      refused: (count = 1, reason) => {
        s.refused += count;
        if (reason === undefined || count === 0) return;
        const known = reason in s.refusedByReason || Object.keys(s.refusedByReason).length < MAX_REASONS_PER_COMPONENT;
        const key = known ? reason : OTHER_REASON;
        s.refusedByReason[key] = (s.refusedByReason[key] ?? 0) + count;
      },
      dropped: (count = 1) => void (s.dropped += count),
      observeBatch: (durationMs) => {
        s.batches += 1;
        s.batchMsSum += durationMs;
        const seconds = durationMs / 1000;
        const index = bounds.findIndex((le) => seconds <= le);
        if (index >= 0) buckets[index] = (buckets[index] ?? 0) + 1;
      },
      snapshot: () => copy(s),
    };
  }

  snapshots(): TelemetrySnapshot[] {
    return [...this.components.values()].map((c) => copy(c.snapshot));
  }

  /**
   * Adds a source read at every scrape under `name` (replacing one of the same name);
   * returns its removal. Its health shows as cumulus_scrape_collector_up{collector}.
   */
  addCollector(name: string, collector: ScrapeCollector): () => void {
    this.collectors.set(name, collector);
    return () => {
      if (this.collectors.get(name) === collector) this.collectors.delete(name);
    };
  }

  /** The components' own metrics, in Prometheus text exposition format (synchronous: no collectors). */
  render(): string {
    const out = new Exposition();
    const all = [...this.components.values()];
    const counter = (name: string, help: string, pick: (s: TelemetrySnapshot) => number) =>
      out.family({ name, help, type: 'counter', samples: all.map((c) => ({ labels: { component: c.snapshot.component }, value: pick(c.snapshot) })) });
    counter('cumulus_items_accepted_total', 'Items a component accepted and handed on.', (s) => s.accepted);
    counter('cumulus_items_refused_total', 'Items a component refused (dead letters, failed evaluations, failed deliveries).', (s) => s.refused);
    counter('cumulus_items_dropped_total', 'Items a component dropped on purpose (e.g. outside retention, silenced).', (s) => s.dropped);
    out.family({
      name: 'cumulus_items_refused_by_reason_total',
      help: 'Refused items by reason: the dead letter code for collectors and pipeline writers, the receiver kind for failed notification deliveries.',
      type: 'counter',
      samples: all.flatMap((c) => Object.entries(c.snapshot.refusedByReason).map(([reason, value]) => ({ labels: { component: c.snapshot.component, reason }, value }))),
    });
    counter('cumulus_batches_total', 'Batches (or rounds) a component processed.', (s) => s.batches);
    // Kept for dashboards written before the histogram; the histogram's _sum carries the same in seconds.
    counter('cumulus_batch_duration_ms_sum', 'Total time spent in batches, ms (deprecated: use cumulus_batch_duration_seconds).', (s) => s.batchMsSum);
    out.histogram(
      'cumulus_batch_duration_seconds',
      'Time a component spent on one batch or round (for alerts.evaluator: one alarm evaluation round).',
      this.bucketsSeconds,
      all.map((c) => ({ labels: { component: c.snapshot.component }, buckets: c.buckets, count: c.snapshot.batches, sum: c.snapshot.batchMsSum / 1000 })),
    );
    return out.text();
  }

  /**
   * Everything for one scrape: the components' metrics, then each collector's (concurrently,
   * each within `timeoutMs`). A collector that fails or is late is left out of this scrape
   * and reported as cumulus_scrape_collector_up 0, so one broken source never hides the rest.
   */
  async scrape(timeoutMs = DEFAULT_COLLECTOR_TIMEOUT_MS): Promise<string> {
    const entries = [...this.collectors.entries()];
    const results = await Promise.all(entries.map(async ([name, collector]) => ({ name, families: await withTimeout(Promise.resolve().then(collector), timeoutMs).catch(() => null) })));
    const out = new Exposition();
    // Families of the same name from several collectors are merged: a name has one HELP/TYPE block.
    const merged = new Map<string, MetricFamily & { samples: Array<{ labels?: MetricLabels; value: number }> }>();
    for (const { families } of results) {
      for (const family of families ?? []) {
        const existing = merged.get(family.name);
        if (existing) existing.samples.push(...family.samples);
        else merged.set(family.name, { ...family, samples: [...family.samples] });
      }
    }
    for (const family of merged.values()) out.family(family);
    out.family({
      name: 'cumulus_scrape_collector_up',
      help: 'Whether a scrape-time collector answered in time during this scrape (1) or not (0).',
      type: 'gauge',
      samples: results.map((r) => ({ labels: { collector: r.name }, value: r.families ? 1 : 0 })),
    });
    return this.render() + out.text();
  }
}

function copy(s: TelemetrySnapshot): TelemetrySnapshot {
  return { ...s, refusedByReason: { ...s.refusedByReason } };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Label values are escaped as the text format requires: backslash, double quote, newline. */
function labelText(labels: MetricLabels | undefined, extra?: [string, string]): string {
  const pairs = Object.entries(labels ?? {});
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return '';
  return `{${pairs.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}

function numberText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** Writes metric families in the text exposition format, version 0.0.4. */
class Exposition {
  private readonly lines: string[] = [];

  family(f: MetricFamily): void {
    this.header(f.name, f.help, f.type);
    for (const s of f.samples) this.lines.push(`${f.name}${labelText(s.labels)} ${numberText(s.value)}`);
  }

  histogram(name: string, help: string, bounds: readonly number[], series: ReadonlyArray<{ labels: MetricLabels; buckets: readonly number[]; count: number; sum: number }>): void {
    this.header(name, help, 'histogram');
    for (const s of series) {
      let cumulative = 0;
      bounds.forEach((le, i) => {
        cumulative += s.buckets[i] ?? 0;
        this.lines.push(`${name}_bucket${labelText(s.labels, ['le', numberText(le)])} ${cumulative}`);
      });
      this.lines.push(`${name}_bucket${labelText(s.labels, ['le', '+Inf'])} ${s.count}`);
      this.lines.push(`${name}_sum${labelText(s.labels)} ${numberText(s.sum)}`);
      this.lines.push(`${name}_count${labelText(s.labels)} ${s.count}`);
    }
  }

  private header(name: string, help: string, type: string): void {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
  }

  text(): string {
    return this.lines.length === 0 ? '' : `${this.lines.join('\n')}\n`;
  }
}

/** The process' own metrics, named as prom-client's defaults name them (so stock Node.js dashboards work). */
export interface ProcessMetrics {
  readonly collect: ScrapeCollector;
  /** Stops the event loop delay monitor; idempotent. */
  stop(): void;
}

/** Resolution of the event loop delay monitor (ms). */
const EVENT_LOOP_RESOLUTION_MS = 10;

export function createProcessMetrics(): ProcessMetrics {
  // Whole seconds, rounded down: a start time is never later than now.
  const startSeconds = Math.floor(Date.now() / 1000 - process.uptime());
  let delay: IntervalHistogram | null = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  delay.enable();
  const version = process.versions.node.split('.');

  const collect = async (): Promise<MetricFamily[]> => {
    // The lag a task queued now waits (what prom-client's nodejs_eventloop_lag_seconds reports).
    const queued = performance.now();
    const lagSeconds = await new Promise<number>((resolve) => setImmediate(() => resolve((performance.now() - queued) / 1000)));
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    const families: MetricFamily[] = [
      { name: 'process_cpu_user_seconds_total', help: 'Total user CPU time spent in seconds.', type: 'counter', samples: [{ value: cpu.user / 1e6 }] },
      { name: 'process_cpu_system_seconds_total', help: 'Total system CPU time spent in seconds.', type: 'counter', samples: [{ value: cpu.system / 1e6 }] },
      { name: 'process_cpu_seconds_total', help: 'Total user and system CPU time spent in seconds.', type: 'counter', samples: [{ value: (cpu.user + cpu.system) / 1e6 }] },
      { name: 'process_start_time_seconds', help: 'Start time of the process since unix epoch in seconds.', type: 'gauge', samples: [{ value: startSeconds }] },
      { name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.', type: 'gauge', samples: [{ value: memory.rss }] },
      { name: 'nodejs_heap_size_total_bytes', help: 'Process heap size from Node.js in bytes.', type: 'gauge', samples: [{ value: memory.heapTotal }] },
      { name: 'nodejs_heap_size_used_bytes', help: 'Process heap size used from Node.js in bytes.', type: 'gauge', samples: [{ value: memory.heapUsed }] },
      { name: 'nodejs_external_memory_bytes', help: 'Node.js external memory size in bytes.', type: 'gauge', samples: [{ value: memory.external }] },
      {
        name: 'nodejs_heap_space_size_used_bytes',
        help: 'Process heap space size used from Node.js in bytes.',
        type: 'gauge',
        samples: getHeapSpaceStatistics().map((space) => ({ labels: { space: space.space_name.replace(/_space$/, '') }, value: space.space_used_size })),
      },
      { name: 'nodejs_eventloop_lag_seconds', help: 'Lag of event loop in seconds.', type: 'gauge', samples: [{ value: lagSeconds }] },
      { name: 'nodejs_version_info', help: 'Node.js version info.', type: 'gauge', samples: [{ labels: { version: process.version, major: version[0] ?? '', minor: version[1] ?? '', patch: version[2] ?? '' }, value: 1 }] },
    ];
    if (delay) {
      // Since the previous scrape: the monitor is reset after each read, as prom-client does.
      const ns = (v: number) => (Number.isFinite(v) ? v / 1e9 : 0);
      families.push(
        { name: 'nodejs_eventloop_lag_mean_seconds', help: 'The mean of the recorded event loop delays since the last scrape.', type: 'gauge', samples: [{ value: ns(delay.mean) }] },
        { name: 'nodejs_eventloop_lag_max_seconds', help: 'The maximum recorded event loop delay since the last scrape.', type: 'gauge', samples: [{ value: ns(delay.max) }] },
        { name: 'nodejs_eventloop_lag_p99_seconds', help: 'The 99th percentile of the recorded event loop delays since the last scrape.', type: 'gauge', samples: [{ value: ns(delay.percentile(99)) }] },
      );
      delay.reset();
    }
    const resources = process.getActiveResourcesInfo().reduce<Map<string, number>>((m, type) => m.set(type, (m.get(type) ?? 0) + 1), new Map());
    families.push({ name: 'nodejs_active_resources', help: 'Resources that keep the event loop alive, by type.', type: 'gauge', samples: [...resources].map(([type, value]) => ({ labels: { type }, value })) });
    families.push(...linuxFileDescriptors());
    return families;
  };

  return {
    collect,
    stop() {
      delay?.disable();
      delay = null;
    },
  };
}

/** Open and maximum file descriptors, from /proc (Linux only; nothing elsewhere). */
function linuxFileDescriptors(): MetricFamily[] {
  if (process.platform !== 'linux') return [];
  const families: MetricFamily[] = [];
  try {
    families.push({ name: 'process_open_fds', help: 'Number of open file descriptors.', type: 'gauge', samples: [{ value: readdirSync('/proc/self/fd').length }] });
    const limit = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (limit) families.push({ name: 'process_max_fds', help: 'Maximum number of open file descriptors.', type: 'gauge', samples: [{ value: Number(limit[1]) }] });
  } catch {
    // /proc not mounted (some sandboxes): these two are simply absent.
  }
  return families;
}

/**
 * Reports a batch's refusals by reason: one `refused(count, reason)` per distinct reason
 * (a batch's dead letters by code, failed deliveries by receiver kind). Nothing when empty.
 */
export function refusedByReason(telemetry: ComponentTelemetry, reasons: Iterable<string>): void {
  const counts = new Map<string, number>();
  for (const reason of reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  for (const [reason, count] of counts) telemetry.refused(count, reason);
}
