import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { progress } from './report.ts';

/**
 * Real Gnocchi 4.4 (Debian's python3-gnocchi) as a benchmark peer: gnocchi-api under uWSGI
 * and gnocchi-metricd as scripts/gnocchi.sh runs them (file storage, file incoming, a
 * PostgreSQL index, basic auth as "admin"), measured over plain HTTP with Node's fetch.
 *
 * The peer must be running: `bash scripts/gnocchi.sh start` (or startGnocchi()), which
 * begins with an empty index and empty storage each time; stopGnocchi() ends it.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const GNOCCHI_SCRIPT = join(ROOT, 'scripts', 'gnocchi.sh');
export const GNOCCHI_PEER = 'gnocchi 4.4 (python3-gnocchi: uwsgi api + metricd, file storage, PostgreSQL index)';

/** Where the script's files are (GNOCCHI_HOME, as the script reads it). */
function gnocchiHome(): string {
  const home = process.env.GNOCCHI_HOME ?? '.cache/gnocchi';
  return isAbsolute(home) ? home : join(ROOT, home);
}

/** The API the script starts, unless GNOCCHI_URL names another one. */
export function gnocchiUrl(): string {
  return (process.env.GNOCCHI_URL ?? `http://127.0.0.1:${process.env.GNOCCHI_PORT ?? '8041'}`).replace(/\/+$/, '');
}

/** Gnocchi's "basic" auth mode checks no password: user admin (admin role), empty password. */
const AUTHORIZATION = `Basic ${Buffer.from('admin:').toString('base64')}`;

/** The archive policy the benchmark's metrics use (made by benchGnocchi when missing). */
export const BENCH_ARCHIVE_POLICY = {
  name: 'cumulus-bench-60s-1d',
  back_window: 0,
  definition: [{ granularity: 60, timespan: '1 day' }],
  aggregation_methods: ['mean', 'min', 'max', 'sum', 'count'],
} as const;

export interface GnocchiShape {
  metrics: number;
  /** Points per metric, 60 s apart from the day's midnight (1000 points: 1000 consecutive minutes). */
  points: number;
}

export interface GnocchiBenchOptions {
  /** Default gnocchiUrl(). */
  url?: string;
  /** Ingestion shapes, default 1000 x 100 and 1000 x 1000. Aggregates use the last shape's metrics; reads are timed on every shape's. */
  shapes?: readonly GnocchiShape[];
  /** Measures per POST /v1/batch/metrics/measures (whole metrics per batch), default 10,000. */
  batchMeasures?: number;
  /** POSTs in flight, default 2 (the API runs 3 uwsgi processes on 2 cores). */
  concurrency?: number;
  /** Single-metric reads timed per shape, default 50 (after 5 untimed). */
  reads?: number;
  /** Metrics per /v1/aggregates mean, default 100 and 1000. */
  aggregateSizes?: readonly number[];
  /** Timed runs per aggregate size, default 5 (after 1 untimed). */
  aggregateRuns?: number;
  /** The day of the data (UTC), default 2026-11-02. */
  day?: string;
  /** Longest wait for metricd to empty the backlog, per shape, default 900 s. */
  drainTimeoutSeconds?: number;
  /** Longest wait for one HTTP request, default 300 s. */
  requestTimeoutSeconds?: number;
}

/** Smaller sizes for a quick check (BENCH_GNOCCHI_QUICK=1 in the runner). */
export const GNOCCHI_QUICK_OPTIONS: GnocchiBenchOptions = {
  shapes: [
    { metrics: 100, points: 100 },
    { metrics: 100, points: 1000 },
  ],
  reads: 20,
  aggregateSizes: [10, 100],
  aggregateRuns: 3,
};

const DEFAULTS = {
  shapes: [
    { metrics: 1000, points: 100 },
    { metrics: 1000, points: 1000 },
  ],
  batchMeasures: 10_000,
  concurrency: 2,
  reads: 50,
  aggregateSizes: [100, 1000],
  aggregateRuns: 5,
  day: '2026-11-02',
  drainTimeoutSeconds: 900,
  requestTimeoutSeconds: 300,
} satisfies Required<Omit<GnocchiBenchOptions, 'url'>>;

const READ_WARMUP = 5;
const STATUS_POLL_MS = 200;
const METRIC_CREATION_CONCURRENCY = 4;

export interface GnocchiIngestion {
  metrics: number;
  pointsPerMetric: number;
  measures: number;
  /** POSTs to /v1/batch/metrics/measures, and measures in each. */
  requests: number;
  measuresPerRequest: number;
  /** Creating the metrics (POST /v1/metric one by one, 4 in flight), before the timing. */
  metricsCreatedPerSecond: number;
  /** From the first POST to the last 202: the API writing the measures to incoming storage. */
  postSeconds: number;
  /** From the first POST to /v1/status showing no measures left to process. */
  seconds: number;
  /** End to end: measures / seconds. */
  measuresPerSecond: number;
  /** The API alone: measures / postSeconds. */
  acceptedMeasuresPerSecond: number;
}

export interface GnocchiLatency {
  runs: number;
  p50Ms: number;
  p95Ms: number;
  minMs: number;
  maxMs: number;
}

export interface GnocchiRead extends GnocchiLatency {
  /** GET /v1/metric/{id}/measures?granularity=60&start=<day>&stop=<day + 1>, mean, over this many metrics in turn. */
  metrics: number;
  /** Points each answer holds. */
  points: number;
  granularitySeconds: 60;
}

export type GnocchiAggregate =
  | (GnocchiLatency & { metrics: number; points: number; granularitySeconds: 60; operation: string })
  | { metrics: number; error: string };

export interface GnocchiFigures {
  peer: string;
  /** Gnocchi's build, from GET /. */
  version: string;
  url: string;
  /** What scripts/gnocchi.sh started with (its settings.json), null when it is not the script's instance. */
  setup: Record<string, unknown> | null;
  archivePolicy: typeof BENCH_ARCHIVE_POLICY;
  /** The day of the data, UTC. */
  day: string;
  batchMeasures: number;
  concurrency: number;
  ingestion: GnocchiIngestion[];
  /** One metric's day, on the last shape's metrics (the most points per day). */
  read: GnocchiRead;
  /** The same on each shape's metrics, in shape order (the last one is `read`). */
  reads: GnocchiRead[];
  aggregates: GnocchiAggregate[];
  /** The whole benchGnocchi call. */
  seconds: number;
  /** The machine's 1-minute load average when the call began and ended (2 cores: above 2, other work competed). */
  loadAverage: { before: number; after: number };
}

export type GnocchiAvailability = { available: true } | { available: false; reason: string };

// ---------------------------------------------------------------------------------------
// The script.

function runScript(command: 'start' | 'stop' | 'status'): { status: number | null; output: string } {
  const result = spawnSync('bash', [GNOCCHI_SCRIPT, command], {
    encoding: 'utf8',
    // start and stop report on our stderr as they go; status is read.
    stdio: command === 'status' ? ['ignore', 'pipe', 'pipe'] : ['ignore', 2, 2],
  });
  if (result.error) throw new Error(`cannot run bash ${GNOCCHI_SCRIPT} ${command}: ${result.error.message}`);
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim() };
}

/** `bash scripts/gnocchi.sh start`: a clean Gnocchi (new database, empty storage); throws when it fails (the script said why on stderr). */
export function startGnocchi(): void {
  const { status } = runScript('start');
  if (status !== 0) throw new Error(`scripts/gnocchi.sh start failed (status ${status}); see its messages above and ${gnocchiHome()}/*.log`);
}

/** `bash scripts/gnocchi.sh stop`: ends what the script started, nothing else. */
export function stopGnocchi(): void {
  runScript('stop');
}

function scriptSettings(): Record<string, unknown> | null {
  const file = join(gnocchiHome(), 'settings.json');
  if (process.env.GNOCCHI_URL || !existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------
// HTTP.

class GnocchiHttp {
  constructor(
    readonly base: string,
    readonly timeoutMs: number,
  ) {}

  /** The response's text; throws on a non-2xx status, with Gnocchi's answer. */
  async request(method: 'GET' | 'POST', path: string, body?: string, timeoutMs = this.timeoutMs): Promise<string> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: body === undefined ? { Authorization: AUTHORIZATION } : { Authorization: AUTHORIZATION, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    if (!response.ok) throw new HttpError(method, path, response.status, text);
    return text;
  }

  async json<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    return JSON.parse(await this.request(method, path, body === undefined ? undefined : JSON.stringify(body))) as T;
  }
}

class HttpError extends Error {
  constructor(
    method: string,
    path: string,
    readonly status: number,
    text: string,
  ) {
    super(`${method} ${path.length > 120 ? `${path.slice(0, 120)}...` : path} answered ${status}: ${text.slice(0, 500)}`);
  }
}

/** Runs work(item) over items with at most `width` at once; the first failure rejects. */
async function pool<T>(items: readonly T[], width: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, lane));
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

function latency(samples: readonly number[]): GnocchiLatency {
  const sorted = [...samples].sort((a, b) => a - b);
  return { runs: sorted.length, p50Ms: percentile(sorted, 50), p95Ms: percentile(sorted, 95), minMs: sorted[0] ?? Number.NaN, maxMs: sorted[sorted.length - 1] ?? Number.NaN };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const say = (line: string) => process.stderr.write(`gnocchi: ${line}\n`);

// ---------------------------------------------------------------------------------------
// Availability.

/**
 * Whether a Gnocchi answers /v1/status at gnocchiUrl() and, when it is the script's
 * instance (GNOCCHI_URL unset), whether its gnocchi-metricd runs too: without metricd the
 * backlog never empties. Gnocchi's /v1/status cannot tell (with the file incoming driver
 * and PostgreSQL coordination it lists no processors), so the script's status does.
 */
export async function gnocchiAvailability(): Promise<GnocchiAvailability> {
  const url = gnocchiUrl();
  try {
    await new GnocchiHttp(url, 5000).request('GET', '/v1/status?details=false');
  } catch (err) {
    const why = err instanceof HttpError ? err.message : `${(err as Error).message}${(err as Error).cause ? ` (${String((err as { cause: unknown }).cause)})` : ''}`;
    return { available: false, reason: `Gnocchi does not answer at ${url}/v1/status (bash scripts/gnocchi.sh start): ${why}` };
  }
  if (!process.env.GNOCCHI_URL) {
    const status = runScript('status');
    if (status.status !== 0) return { available: false, reason: `the API answers but scripts/gnocchi.sh status says: ${status.output.split('\n').slice(-1)[0] ?? ''}` };
  }
  return { available: true };
}

// ---------------------------------------------------------------------------------------
// The benchmark.

async function ensureArchivePolicy(http: GnocchiHttp): Promise<void> {
  try {
    await http.json('POST', '/v1/archive_policy', BENCH_ARCHIVE_POLICY);
  } catch (err) {
    if (!(err instanceof HttpError && err.status === 409)) throw err;
  }
}

async function createMetrics(http: GnocchiHttp, count: number, label: string): Promise<{ ids: string[]; seconds: number }> {
  const ids: string[] = new Array<string>(count);
  let done = 0;
  const started = performance.now();
  await pool(
    Array.from({ length: count }, (_, i) => i),
    METRIC_CREATION_CONCURRENCY,
    async (i) => {
      const metric = await http.json<{ id: string }>('POST', '/v1/metric', { archive_policy_name: BENCH_ARCHIVE_POLICY.name, name: `${label}-${i}`, unit: 'ms' });
      ids[i] = metric.id;
      done++;
      if (done % 50 === 0 || done === count) progress(`gnocchi: creating ${count} metrics`, done, count);
    },
  );
  return { ids, seconds: (performance.now() - started) / 1000 };
}

/**
 * The request bodies of one shape, built before the clock starts: whole metrics per body,
 * about batchMeasures measures each, {"<metric id>": [{"timestamp": ..., "value": ...}, ...]}.
 */
function batchBodies(ids: readonly string[], points: number, dayStart: number, batchMeasures: number): string[] {
  const heads = Array.from({ length: points }, (_, j) => `{"timestamp":"${new Date(dayStart + j * 60_000).toISOString()}","value":`);
  const perBatch = Math.max(1, Math.floor(batchMeasures / points));
  const bodies: string[] = [];
  for (let first = 0; first < ids.length; first += perBatch) {
    const parts: string[] = [];
    for (let m = first; m < Math.min(ids.length, first + perBatch); m++) {
      const measures = heads.map((head, j) => `${head}${((m * 7 + j) % 100) + 0.5}}`);
      parts.push(`"${ids[m]}":[${measures.join(',')}]`);
    }
    bodies.push(`{${parts.join(',')}}`);
  }
  return bodies;
}

interface StatusReport {
  storage: { summary: { metrics: number; measures: number } };
}

/** Polls /v1/status until no measures wait for metricd; resolves at the first empty report. */
async function drain(http: GnocchiHttp, metrics: number, timeoutSeconds: number): Promise<void> {
  const deadline = performance.now() + timeoutSeconds * 1000;
  let lastShown = -1;
  for (;;) {
    const report = await http.json<StatusReport>('GET', '/v1/status?details=false');
    const waiting = report.storage.summary.metrics;
    if (report.storage.summary.measures === 0 && waiting === 0) {
      if (lastShown > 0) progress('gnocchi: metricd processing', metrics, metrics);
      return;
    }
    const done = Math.max(0, metrics - waiting);
    if (done !== lastShown) {
      progress('gnocchi: metricd processing', Math.min(done, metrics - 1), metrics);
      lastShown = done;
    }
    if (performance.now() > deadline) {
      process.stderr.write('\n');
      throw new Error(`metricd left ${report.storage.summary.measures} measure files in ${waiting} metrics after ${timeoutSeconds} s (is gnocchi-metricd running? see .cache/gnocchi/metricd.log)`);
    }
    await sleep(STATUS_POLL_MS);
  }
}

type MeasureRow = [string, number, number];

async function readDay(http: GnocchiHttp, id: string, start: string, stop: string): Promise<string> {
  return http.request('GET', `/v1/metric/${id}/measures?granularity=60&start=${encodeURIComponent(start)}&stop=${encodeURIComponent(stop)}`);
}

async function ingest(http: GnocchiHttp, shape: GnocchiShape, o: typeof DEFAULTS, dayStart: number, label: string): Promise<{ figures: GnocchiIngestion; ids: string[] }> {
  const measures = shape.metrics * shape.points;
  say(`ingestion ${shape.metrics} metrics x ${shape.points} points (${measures.toLocaleString('en-US')} measures)`);
  const created = await createMetrics(http, shape.metrics, label);
  const bodies = batchBodies(created.ids, shape.points, dayStart, o.batchMeasures);
  const perRequest = Math.max(1, Math.floor(o.batchMeasures / shape.points)) * shape.points;

  let posted = 0;
  const started = performance.now();
  await pool(bodies, o.concurrency, async (body) => {
    await http.request('POST', '/v1/batch/metrics/measures', body);
    posted++;
    progress(`gnocchi: POST /v1/batch/metrics/measures (${Math.min(perRequest, measures).toLocaleString('en-US')} measures each)`, posted, bodies.length);
  });
  const postSeconds = (performance.now() - started) / 1000;
  await drain(http, shape.metrics, o.drainTimeoutSeconds);
  const seconds = (performance.now() - started) / 1000;

  // Every measure must have reached its metric's 60 s archive, or the figure means nothing.
  const start = new Date(dayStart).toISOString();
  const stop = new Date(dayStart + 86_400_000).toISOString();
  for (const id of [created.ids[0], created.ids[created.ids.length - 1]] as string[]) {
    const rows = JSON.parse(await readDay(http, id, start, stop)) as MeasureRow[];
    if (rows.length !== shape.points) throw new Error(`metric ${id} holds ${rows.length} points at 60 s after the backlog emptied, not ${shape.points}`);
  }
  say(`${measures.toLocaleString('en-US')} measures in ${seconds.toFixed(2)} s (${(measures / seconds).toFixed(0)}/s end to end; the API took them in ${postSeconds.toFixed(2)} s)`);
  return {
    ids: created.ids,
    figures: {
      metrics: shape.metrics,
      pointsPerMetric: shape.points,
      measures,
      requests: bodies.length,
      measuresPerRequest: Math.min(perRequest, measures),
      metricsCreatedPerSecond: shape.metrics / created.seconds,
      postSeconds,
      seconds,
      measuresPerSecond: measures / seconds,
      acceptedMeasuresPerSecond: measures / postSeconds,
    },
  };
}

async function timeReads(http: GnocchiHttp, ids: readonly string[], points: number, reads: number, dayStart: number): Promise<GnocchiRead> {
  const start = new Date(dayStart).toISOString();
  const stop = new Date(dayStart + 86_400_000).toISOString();
  say(`single-metric reads: ${reads} x one metric's day at 60 s (${points} points), after ${READ_WARMUP} untimed`);
  for (let i = 0; i < READ_WARMUP; i++) await readDay(http, ids[(ids.length - 1 - i) % ids.length] as string, start, stop);
  const samples: number[] = [];
  for (let i = 0; i < reads; i++) {
    const id = ids[(i * 37) % ids.length] as string;
    const t0 = performance.now();
    const text = await readDay(http, id, start, stop);
    samples.push(performance.now() - t0);
    const rows = JSON.parse(text) as MeasureRow[];
    if (rows.length !== points) throw new Error(`GET measures of ${id} returned ${rows.length} points, not ${points}`);
  }
  return { ...latency(samples), metrics: Math.min(reads, ids.length), points, granularitySeconds: 60 };
}

async function timeAggregates(http: GnocchiHttp, ids: readonly string[], points: number, sizes: readonly number[], runs: number, dayStart: number): Promise<GnocchiAggregate[]> {
  const query = `granularity=60&start=${encodeURIComponent(new Date(dayStart).toISOString())}&stop=${encodeURIComponent(new Date(dayStart + 86_400_000).toISOString())}`;
  const results: GnocchiAggregate[] = [];
  for (const wanted of sizes) {
    const n = Math.min(wanted, ids.length);
    const operation = `(aggregate mean (metric ${ids
      .slice(0, n)
      .map((id) => `(${id} mean)`)
      .join(' ')}))`;
    const body = JSON.stringify({ operations: operation });
    say(`cross-metric mean: POST /v1/aggregates over ${n} metrics, ${runs} runs after 1 untimed`);
    const samples: number[] = [];
    try {
      for (let i = 0; i <= runs; i++) {
        const t0 = performance.now();
        const text = await http.request('POST', `/v1/aggregates?${query}`, body);
        const ms = performance.now() - t0;
        const answer = JSON.parse(text) as { measures: { aggregated?: MeasureRow[] } };
        const got = answer.measures.aggregated?.length ?? 0;
        if (got !== points) throw new Error(`the aggregate returned ${got} points, not ${points}`);
        if (i > 0) samples.push(ms);
        progress(`gnocchi: aggregates over ${n} metrics`, i, runs);
      }
      results.push({ ...latency(samples), metrics: n, points, granularitySeconds: 60, operation: `(aggregate mean (metric (<id> mean) x ${n}))` });
    } catch (err) {
      process.stderr.write('\n');
      const error = (err as Error).name === 'TimeoutError' ? `no answer within ${http.timeoutMs / 1000} s` : (err as Error).message;
      say(`aggregates over ${n} metrics failed: ${error}`);
      results.push({ metrics: n, error });
    }
  }
  return results;
}

/**
 * Measures the running Gnocchi (see gnocchiAvailability) over HTTP:
 *  - ingestion, per shape: fresh metrics with BENCH_ARCHIVE_POLICY (60 s x 1 day,
 *    mean/min/max/sum/count), their measures POSTed in batches to /v1/batch/metrics/measures
 *    (`concurrency` in flight), then /v1/status polled every 200 ms until no measures wait;
 *    the time runs from the first POST to that empty report;
 *  - one metric's day at 60 s (GET /v1/metric/{id}/measures), p50/p95 over `reads` reads,
 *    on each shape's metrics (`read` is the last shape's);
 *  - a mean across N metrics at 60 s for the day (POST /v1/aggregates), p50 over `aggregateRuns`.
 * Aggregates use the last shape's metrics. Progress goes to stderr.
 */
export async function benchGnocchi(options: GnocchiBenchOptions = {}): Promise<GnocchiFigures> {
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS & { url?: string };
  const url = (o.url ?? gnocchiUrl()).replace(/\/+$/, '');
  const http = new GnocchiHttp(url, o.requestTimeoutSeconds * 1000);
  const dayStart = Date.parse(`${o.day}T00:00:00Z`);
  if (Number.isNaN(dayStart)) throw new Error(`day must be YYYY-MM-DD, not ${o.day}`);
  if (o.shapes.length === 0) throw new Error('at least one ingestion shape is needed');
  for (const shape of o.shapes) if (shape.points > 1440) throw new Error(`${shape.points} points at 60 s do not fit the archive policy's day (1440 at most)`);

  const started = performance.now();
  const loadBefore = loadavg()[0] ?? 0;
  const { build } = await http.json<{ build: string }>('GET', '/');
  await ensureArchivePolicy(http);

  const ingestion: GnocchiIngestion[] = [];
  const loaded: Array<{ ids: string[]; points: number }> = [];
  const runTag = Date.now().toString(36);
  for (const shape of o.shapes) {
    const { figures, ids } = await ingest(http, shape, o, dayStart, `bench-${runTag}-${shape.metrics}x${shape.points}`);
    ingestion.push(figures);
    loaded.push({ ids, points: shape.points });
  }
  const reads: GnocchiRead[] = [];
  for (const { ids, points } of loaded) reads.push(await timeReads(http, ids, points, o.reads, dayStart));
  const { ids, points } = loaded[loaded.length - 1] as { ids: string[]; points: number };
  const aggregates = await timeAggregates(http, ids, points, o.aggregateSizes, o.aggregateRuns, dayStart);

  return {
    peer: GNOCCHI_PEER,
    version: build,
    url,
    setup: o.url ? null : scriptSettings(),
    archivePolicy: BENCH_ARCHIVE_POLICY,
    day: o.day,
    batchMeasures: o.batchMeasures,
    concurrency: o.concurrency,
    ingestion,
    read: reads[reads.length - 1] as GnocchiRead,
    reads,
    aggregates,
    seconds: (performance.now() - started) / 1000,
    loadAverage: { before: loadBefore, after: loadavg()[0] ?? 0 },
  };
}

// ---------------------------------------------------------------------------------------
// Loading data for other benchmarks (bench/api.ts reads it back under load).

/** The header Gnocchi's basic auth takes for the admin user (no password). */
export const GNOCCHI_AUTHORIZATION = AUTHORIZATION;

export interface GnocchiResourceLoad {
  /** Resource ids (UUIDs, so Gnocchi keeps them as given), each with one metric. */
  resources: ReadonlyArray<{ id: string; project_id: string; user_id: string }>;
  /** The metric's name on every resource. */
  metricName: string;
  /** Points per metric, 60 s apart from startMs; values as benchGnocchi writes them (gnocchiBenchValue). */
  points: number;
  startMs: number;
  /** Default gnocchiUrl(). */
  url?: string;
  /** Longest wait for metricd, default 900 s. */
  drainTimeoutSeconds?: number;
}

/** The value benchGnocchi (and loadGnocchiResources) write for metric `m`'s point `j`, so another system can hold the same data. */
export const gnocchiBenchValue = (m: number, j: number): number => ((m * 7 + j) % 100) + 0.5;

/**
 * Generic resources, each with one metric under BENCH_ARCHIVE_POLICY, created through the
 * API (4 in flight), their measures POSTed in batches, and then the wait for metricd to
 * process them all. Resolves with the metric ids in resource order.
 */
export async function loadGnocchiResources(load: GnocchiResourceLoad): Promise<{ metricIds: string[]; seconds: number }> {
  const http = new GnocchiHttp((load.url ?? gnocchiUrl()).replace(/\/+$/, ''), DEFAULTS.requestTimeoutSeconds * 1000);
  const started = performance.now();
  await ensureArchivePolicy(http);
  const metricIds = new Array<string>(load.resources.length);
  let done = 0;
  await pool(load.resources, METRIC_CREATION_CONCURRENCY, async (resource, i) => {
    const body = { ...resource, metrics: { [load.metricName]: { archive_policy_name: BENCH_ARCHIVE_POLICY.name } } };
    const created = await http.json<{ metrics: Record<string, string> }>('POST', '/v1/resource/generic', body);
    metricIds[i] = created.metrics[load.metricName] as string;
    done++;
    if (done % 20 === 0 || done === load.resources.length) progress(`gnocchi: creating ${load.resources.length} resources`, done, load.resources.length);
  });
  const bodies = batchBodies(metricIds, load.points, load.startMs, DEFAULTS.batchMeasures);
  let posted = 0;
  await pool(bodies, DEFAULTS.concurrency, async (body) => {
    await http.request('POST', '/v1/batch/metrics/measures', body);
    posted++;
    progress('gnocchi: POST /v1/batch/metrics/measures', posted, bodies.length);
  });
  await drain(http, metricIds.length, load.drainTimeoutSeconds ?? DEFAULTS.drainTimeoutSeconds);
  return { metricIds, seconds: (performance.now() - started) / 1000 };
}
