import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPlatform, type Platform } from '../cli/platform.ts';
import { loadConfig, metricId, openStateDatabase, sampleId, SampleSigner, silentLogger, TOPICS } from '../core/index.ts';
import { createPolicyStore, type ArchivePolicy } from '../storage/index.ts';
import { login } from '../test/support/openstack-http.ts';
import type { LoadResult, LoadSpec } from './api-load.ts';
import { GNOCCHI_AUTHORIZATION, GNOCCHI_PEER, gnocchiAvailability, gnocchiBenchValue, gnocchiUrl, loadGnocchiResources, startGnocchi, stopGnocchi } from './gnocchi-peer.ts';
import { progress, type BenchRow } from './report.ts';

/**
 * API reads under load, ours beside real gnocchi-api serving the same data: so many generic
 * resources in so many projects, each with one metric holding a day of 60 s measures under
 * the archive policy `cumulus-bench-60s-1d` (same ids, same timestamps, same values on both
 * sides). The load comes from a second process (bench/api-load.ts): the same client, the
 * same connections and the same duration against each API in turn, as the cloud admin.
 *
 * BENCH_API_CONNECTIONS (default 10) and BENCH_API_SECONDS (default 10) size each run.
 */

const RESOURCES = 200;
const PROJECTS = 10;
const POINTS = 1440;
/**
 * The day ends this many minutes in the future. Our retention runs from now (Gnocchi's from
 * a metric's newest point), so a day ending now would lose a point a minute on our side
 * while the bench runs; ending a little later keeps the whole day readable on both.
 */
const FUTURE_MINUTES = 10;
const METRIC = 'bench.api.gauge';
const SECRET = 'api-benchmark-metering-secret-0123456';
const SEND_CHUNK = 5_000;
const WARMUP_MS = 1_000;
/** A run whose answers are more than this share failures measures errors, not reads. */
const MAX_FAILED_SHARE = 0.01;
const LOAD_SCRIPT = fileURLToPath(new URL('./api-load.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Gnocchi's BENCH_ARCHIVE_POLICY in our model (points rather than a timespan). */
const POLICY: ArchivePolicy = { name: 'cumulus-bench-60s-1d', back_window: 0, aggregation_methods: ['mean', 'min', 'max', 'sum', 'count'], definition: [{ granularity: 60, points: POINTS }] };

interface Dataset {
  resources: Array<{ id: string; project_id: string; user_id: string }>;
  projects: string[];
  startMs: number;
}

/** One API under test: where it is, how a request proves who it is, and its ids for the metrics. */
interface Target {
  label: string;
  origin: string;
  /** Path prefix of Gnocchi's v1 (`/metric/v1` for ours, `/v1` for Gnocchi). */
  v1: string;
  headers: Record<string, string>;
  metricIds: string[];
}

/** One endpoint measured on both: the requests (one picked at random per request) and a check of one answer. */
interface Endpoint {
  name: string;
  requests(target: Target, data: Dataset): LoadSpec['requests'];
  /** Throws when an answer is not the data both sides were given. */
  check(body: unknown, data: Dataset): void;
}

const say = (line: string) => process.stderr.write(`api: ${line}\n`);

function dataset(): Dataset {
  const projects = Array.from({ length: PROJECTS }, () => randomUUID());
  const resources = Array.from({ length: RESOURCES }, (_, i) => ({ id: randomUUID(), project_id: projects[i % PROJECTS] as string, user_id: randomUUID() }));
  const startMs = (Math.floor(Date.now() / 60_000) + FUTURE_MINUTES - POINTS) * 60_000;
  return { resources, projects, startMs };
}

const dayQuery = (data: Dataset) => `granularity=60&start=${encodeURIComponent(new Date(data.startMs).toISOString())}&stop=${encodeURIComponent(new Date(data.startMs + 86_400_000).toISOString())}`;

function expectArray(body: unknown, length: number, what: string): unknown[] {
  if (!Array.isArray(body)) throw new Error(`${what}: expected a list, got ${JSON.stringify(body).slice(0, 200)}`);
  if (body.length !== length) throw new Error(`${what}: expected ${length} items, got ${body.length}`);
  return body;
}

const ENDPOINTS: Endpoint[] = [
  {
    name: `GET one metric's day at 60 s (${POINTS} points, mean)`,
    requests: (t, data) => t.metricIds.map((id) => ({ method: 'GET', path: `${t.v1}/metric/${id}/measures?${dayQuery(data)}` })),
    check: (body, data) => {
      const rows = expectArray(body, POINTS, 'measures') as Array<[string, number, number]>;
      // The first point is metric 0's first value on both sides (gnocchiBenchValue).
      if (Date.parse(rows[0]?.[0] ?? '') !== data.startMs) throw new Error(`measures: the first point is at ${rows[0]?.[0]}, not ${new Date(data.startMs).toISOString()}`);
    },
  },
  {
    name: 'GET a metric',
    requests: (t) => t.metricIds.map((id) => ({ method: 'GET', path: `${t.v1}/metric/${id}` })),
    check: (body) => {
      if (typeof (body as { id?: unknown }).id !== 'string') throw new Error(`metric: expected an object with an id, got ${JSON.stringify(body).slice(0, 200)}`);
    },
  },
  {
    name: `GET the resource list (all ${RESOURCES} generic resources)`,
    requests: (t) => [{ method: 'GET', path: `${t.v1}/resource/generic` }],
    // Ours also indexes its own control plane's few resources (e.g. the admin project): a handful more is the same work.
    check: (body) => {
      const length = Array.isArray(body) ? body.length : -1;
      if (length < RESOURCES || length > RESOURCES + 10) throw new Error(`resource list: expected ${RESOURCES} to ${RESOURCES + 10} items, got ${length}`);
    },
  },
  {
    name: `POST a resource search by project (${RESOURCES / PROJECTS} resources)`,
    requests: (t, data) => data.projects.map((p) => ({ method: 'POST', path: `${t.v1}/search/resource/generic`, body: JSON.stringify({ '=': { project_id: p } }) })),
    check: (body) => void expectArray(body, RESOURCES / PROJECTS, 'resource search'),
  },
];

// ---------------------------------------------------------------------------------------
// Ours: the platform embedded, the data through its own pipeline.

/**
 * The platform on a fresh data directory whose state store already holds the bench policy
 * and a rule giving it to METRIC; the samples go through the embedded stream and pipeline
 * (metric and resource index, measures, rollups), as the collectors would send them.
 */
async function startOurs(data: Dataset): Promise<{ platform: Platform; target: Target; seconds: number; stop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cumulus-bench-api-'));
  // 1. the policy and its rule before the platform opens the state store, so the first sample already finds them.
  const db = openStateDatabase(join(dataDir, 'state.sqlite'));
  try {
    const policies = createPolicyStore({}, { db, isPolicyInUse: async () => false });
    policies.createPolicy(POLICY);
    policies.createRule({ name: 'cumulus-bench-api', metric_pattern: METRIC, archive_policy_name: POLICY.name });
  } finally {
    db.close();
  }
  const config = loadConfig({ env: {}, overrides: { port: 0, dataDir, logLevel: 'silent', meteringSecret: SECRET } });
  const platform = await startPlatform(config, { logger: silentLogger(), periodicTasks: false, computePollster: false });
  const stop = async () => {
    await platform.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    // 2. the samples, point by point across the resources, as a poll would send them.
    const signer = new SampleSigner(SECRET);
    const total = RESOURCES * POINTS;
    const started = performance.now();
    let batch: Array<{ key: string; value: Buffer }> = [];
    let sent = 0;
    for (let j = 0; j < POINTS; j++) {
      const timestamp = new Date(data.startMs + j * 60_000).toISOString().replace('Z', '+00:00');
      for (let m = 0; m < RESOURCES; m++) {
        const resource = data.resources[m] as Dataset['resources'][number];
        const messageId = `${resource.id}-${j}`;
        const sample = signer.sign({
          id: sampleId(messageId, METRIC, resource.id),
          name: METRIC,
          type: 'gauge',
          unit: 'ms',
          volume: gnocchiBenchValue(m, j),
          user_id: resource.user_id,
          project_id: resource.project_id,
          resource_id: resource.id,
          timestamp,
          resource_metadata: {},
          source: 'openstack',
          message_id: messageId,
        });
        batch.push({ key: resource.id, value: Buffer.from(JSON.stringify(sample)) });
      }
      if (batch.length >= SEND_CHUNK || j === POINTS - 1) {
        await platform.stream.send(TOPICS.samples, batch);
        sent += batch.length;
        batch = [];
        progress(`api: ours, ${total.toLocaleString('en-US')} samples into the pipeline`, sent, total);
      }
    }
    // 3. until the pipeline has stored them all.
    await platform.drain(600_000);
    const seconds = (performance.now() - started) / 1000;
    const admin = await login(platform.url, 'admin', platform.adminPassword, 'admin');
    const target: Target = { label: 'cumulus', origin: platform.url, v1: '/metric/v1', headers: { 'x-auth-token': admin.token }, metricIds: data.resources.map((r) => metricId(r.id, METRIC)) };
    return { platform, target, seconds, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------
// The runs.

/** One answer, checked, before the load: a run of errors would measure nothing. */
async function probe(target: Target, endpoint: Endpoint, data: Dataset): Promise<void> {
  const first = endpoint.requests(target, data)[0] as LoadSpec['requests'][number];
  const response = await fetch(`${target.origin}${first.path}`, {
    method: first.method,
    headers: { ...target.headers, ...(first.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(first.body === undefined ? {} : { body: first.body }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${first.method} ${first.path} answered ${response.status}: ${text.slice(0, 300)}`);
  endpoint.check(JSON.parse(text), data);
}

/** The load in a second process; resolves with its figures. */
function load(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', LOAD_SCRIPT], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`the load process (${LOAD_SCRIPT}) exited with status ${code}`));
      try {
        resolve(JSON.parse(out) as LoadResult);
      } catch (err) {
        reject(new Error(`the load process printed no result: ${(err as Error).message}: ${out.slice(0, 200)}`));
      }
    });
    child.stdin.end(JSON.stringify(spec));
  });
}

async function measure(target: Target, endpoint: Endpoint, data: Dataset, connections: number, seconds: number): Promise<LoadResult> {
  await probe(target, endpoint, data);
  say(`${target.label}: ${endpoint.name}, ${connections} connections, ${seconds} s (after ${WARMUP_MS / 1000} s untimed)`);
  const result = await load({ origin: target.origin, headers: target.headers, requests: endpoint.requests(target, data), connections, durationMs: seconds * 1000, warmupMs: WARMUP_MS });
  const failed = Object.values(result.non2xx).reduce((a, b) => a + b, 0) + result.errors;
  if (result.requests === 0 || failed > result.requests * MAX_FAILED_SHARE) {
    throw new Error(`${failed} of ${result.requests} requests failed (${result.firstNon2xx ?? result.firstError ?? 'no answer in time'})`);
  }
  say(`${target.label}: ${result.requestsPerSecond.toFixed(1)} requests/s, p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms (${result.requests} requests${failed > 0 ? `, ${failed} failed` : ''})`);
  return result;
}

/** A run's figures, or why there are none. */
async function attempt(target: Target | null, endpoint: Endpoint, data: Dataset, connections: number, seconds: number): Promise<LoadResult | string> {
  if (!target) return 'not started';
  try {
    return await measure(target, endpoint, data, connections, seconds);
  } catch (err) {
    const reason = (err as Error).message;
    say(`${target.label}: ${endpoint.name} not measured: ${reason}`);
    return reason;
  }
}

function positiveEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a number above 0, got ${raw}`);
  return value;
}

const row = (name: string, value: number, unit: string, peerValue: number | null, better: 'higher' | 'lower'): BenchRow => ({ suite: 'api', name, value, unit, peer: peerValue === null ? null : GNOCCHI_PEER, peer_value: peerValue, better });

/**
 * Ours (the platform embedded, chDB) and Gnocchi 4.4 (scripts/gnocchi.sh: gnocchi-api under
 * uWSGI + metricd, file storage, PostgreSQL index), the same data in both, then each
 * endpoint under the same load against each in turn: p50 and p99 latency and requests/s.
 * When Gnocchi cannot be started or loaded, the rows carry no peer figures and the reason
 * is printed; an endpoint we do not answer yet gets no row, also with the reason.
 */
export async function benchApiBesideGnocchi(): Promise<BenchRow[]> {
  const connections = Math.round(positiveEnv('BENCH_API_CONNECTIONS', 10));
  const seconds = positiveEnv('BENCH_API_SECONDS', 10);
  const data = dataset();
  const loadBefore = loadavg()[0] ?? 0;
  say(`${RESOURCES} resources in ${PROJECTS} projects, one metric each, ${POINTS} points at 60 s (${(RESOURCES * POINTS).toLocaleString('en-US')} measures), policy ${POLICY.name}`);

  const ours = await startOurs(data);
  say(`ours: loaded in ${ours.seconds.toFixed(1)} s (samples -> in-process stream -> pipeline -> chDB)`);
  let peer: Target | null = null;
  let peerReason: string | null = null;
  try {
    say('Gnocchi 4.4: bash scripts/gnocchi.sh start');
    try {
      startGnocchi();
      const available = await gnocchiAvailability();
      if (!available.available) throw new Error(available.reason);
      const loaded = await loadGnocchiResources({ resources: data.resources, metricName: METRIC, points: POINTS, startMs: data.startMs });
      say(`Gnocchi: loaded in ${loaded.seconds.toFixed(1)} s (resources and metrics created, measures POSTed, metricd done)`);
      peer = { label: 'gnocchi', origin: gnocchiUrl(), v1: '/v1', headers: { authorization: GNOCCHI_AUTHORIZATION }, metricIds: loaded.metricIds };
    } catch (err) {
      peerReason = err instanceof Error ? err.message : String(err);
      say(`Gnocchi could not be started or loaded (${peerReason}): the rows have no peer figures`);
    }

    const rows: BenchRow[] = [];
    for (const endpoint of ENDPOINTS) {
      const mine = await attempt(ours.target, endpoint, data, connections, seconds);
      if (typeof mine === 'string') continue;
      const theirs = await attempt(peer, endpoint, data, connections, seconds);
      const other = typeof theirs === 'string' ? null : theirs;
      const shape = `${connections} connections, ${seconds} s`;
      rows.push(row(`${endpoint.name}, p50 (${shape})`, mine.p50Ms, 'ms', other?.p50Ms ?? null, 'lower'));
      rows.push(row(`${endpoint.name}, p99 (${shape})`, mine.p99Ms, 'ms', other?.p99Ms ?? null, 'lower'));
      rows.push(row(`${endpoint.name}, throughput (${shape})`, mine.requestsPerSecond, 'requests/s', other?.requestsPerSecond ?? null, 'higher'));
    }
    say(`load average ${loadBefore.toFixed(2)} before, ${(loadavg()[0] ?? 0).toFixed(2)} after (2 cores: above 2, other work competed)`);
    if (peerReason) say(`no Gnocchi figures: ${peerReason}`);
    return rows;
  } finally {
    stopGnocchi();
    await ours.stop();
  }
}
