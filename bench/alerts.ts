import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRoutingConfig } from '../alerts/index.ts';
import { startPlatform, type Platform } from '../cli/platform.ts';
import { loadConfig, metricId, openStateDatabase, sampleId, SampleSigner, silentLogger, TOPICS } from '../core/index.ts';
import { createAlarmStore, createPolicyStore, parseAlarm, type ArchivePolicy } from '../storage/index.ts';
import { login } from '../test/support/openstack-http.ts';
import { gnocchiAvailability, gnocchiBenchValue, gnocchiUrl, loadGnocchiResources, startGnocchi, stopGnocchi } from './gnocchi-peer.ts';
import { progress, type BenchRow } from './report.ts';

/**
 * The alerts benchmark (issue 8).
 *
 * 1. Throughput: BENCH_ALARMS (default 10,000) alarms of the three gnocchi types (90 %
 *    gnocchi_resources_threshold, 5 % by_metrics over 3 metrics, 5 % by_resources over a
 *    project's resources) on BENCH_ALERT_RESOURCES (default 200) generic resources, each with
 *    one metric holding a day of 60 s measures sent through our pipeline. The platform's own
 *    evaluator runs BENCH_ALERT_ROUNDS (default 3) rounds by evaluateNow(): statistics read from
 *    chDB, decisions committed to SQLite, transitions handed to the notifier (not delivered:
 *    the routing has no receiver). Alarms evaluated per second, median round.
 *    Peer: Aodh 15's own gnocchi evaluators (Debian's python3-aodh, bench/aodh-peer.py)
 *    evaluating the same alarms against real Gnocchi 4.4 holding the same measures
 *    (scripts/gnocchi.sh), with Aodh's SQL storage (SQLite) for the state changes: the first
 *    BENCH_ALERT_PEER_ALARMS (default 2,000) alarms of the same list, since Aodh reads per alarm
 *    (its rate does not depend on the count) and 10,000 would take minutes a round. The first
 *    round (every alarm leaves `insufficient data`) and the later ones are reported apart.
 * 2. Latency: a platform with the evaluator every second and the notifier's loop running; a
 *    measure over an alarm's threshold POSTed through our Gnocchi API, timed until a local
 *    webhook receiver has the notification, BENCH_ALERT_LATENCY_RUNS (default 10) times.
 *    Peer row: Aodh's default 60 s evaluation interval, i.e. the wait for its next evaluation
 *    (30 s on average, 60 s at worst), before Gnocchi's own processing delay: a stated
 *    figure from Aodh's configuration, not a measurement.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const POINTS = 1440;
/** The day ends this many minutes ahead, so the newest buckets are there while the bench runs (as bench/api.ts). */
const FUTURE_MINUTES = 10;
const PROJECTS = 10;
const METRIC = 'bench.alerts.gauge';
const SECRET = 'alerts-benchmark-metering-secret-0123';
const SEND_CHUNK = 5_000;
const AODH_PEER = 'Aodh 15 gnocchi evaluators (python3-aodh) on Gnocchi 4.4';
const AODH_INTERVAL_S = 60;
/** The throughput platform's evaluator schedule (every second) and the wait between its rounds: over half that period. */
const THROUGHPUT_SCHEDULE = '* * * * * *';
const CLAIM_GUARD_WAIT_MS = 600;
/** Gnocchi's BENCH_ARCHIVE_POLICY in our model (points rather than a timespan), as bench/api.ts. */
const POLICY: ArchivePolicy = { name: 'cumulus-bench-60s-1d', back_window: 0, aggregation_methods: ['mean', 'min', 'max', 'sum', 'count'], definition: [{ granularity: 60, points: POINTS }] };

const say = (line: string) => process.stderr.write(`alerts: ${line}\n`);

interface Resource {
  id: string;
  project_id: string;
  user_id: string;
}

/** One alarm, as the API body (Aodh's shape); metric ids are filled per side. */
type AlarmBody = Record<string, unknown> & { name: string; type: string };

function positiveEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number, got ${JSON.stringify(raw)}`);
  return value;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/**
 * The alarm mix, the same on both sides but for the metric ids (`metricIdOf(m)`: resource m's
 * metric). Thresholds spread over the values' range (0.5..99.5), so states are mixed.
 */
function alarmBodies(count: number, resources: readonly Resource[], projects: readonly string[], metricIdOf: (m: number) => string): AlarmBody[] {
  const bodies: AlarmBody[] = [];
  for (let i = 0; i < count; i++) {
    const m = i % resources.length;
    const threshold = {
      comparison_operator: i % 2 === 0 ? 'gt' : 'lt',
      threshold: (i * 37) % 100,
      aggregation_method: ['mean', 'max', 'min'][i % 3] as string,
      granularity: 60,
      evaluation_periods: 1 + (Math.floor(i / 3) % 3),
    };
    const name = `bench-alarm-${i}`;
    if (i % 20 === 0) {
      const metrics = [0, 1, 2].map((k) => metricIdOf((m + k) % resources.length));
      bodies.push({ name, type: 'gnocchi_aggregation_by_metrics_threshold', gnocchi_aggregation_by_metrics_threshold_rule: { ...threshold, metrics } });
    } else if (i % 20 === 1) {
      const project = projects[Math.floor(i / 20) % projects.length] as string;
      bodies.push({ name, type: 'gnocchi_aggregation_by_resources_threshold', gnocchi_aggregation_by_resources_threshold_rule: { ...threshold, metric: METRIC, resource_type: 'generic', query: JSON.stringify({ '=': { project_id: project } }) } });
    } else {
      bodies.push({ name, type: 'gnocchi_resources_threshold', gnocchi_resources_threshold_rule: { ...threshold, metric: METRIC, resource_id: (resources[m] as Resource).id, resource_type: 'generic' } });
    }
  }
  return bodies;
}

/** A fresh data directory whose state store already holds the bench policy, its rule and (optionally) the alarms. */
function prepareDataDir(prefix: string, alarms: readonly AlarmBody[], owner: { project_id: string; user_id: string }): string {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const db = openStateDatabase(join(dataDir, 'state.sqlite'));
  try {
    const policies = createPolicyStore({}, { db, isPolicyInUse: async () => false });
    policies.createPolicy(POLICY);
    policies.createRule({ name: 'cumulus-bench-alerts', metric_pattern: METRIC, archive_policy_name: POLICY.name });
    const store = createAlarmStore(db);
    db.transaction(() => {
      for (const body of alarms) store.create(parseAlarm(body, owner), owner);
    })();
  } finally {
    db.close();
  }
  return dataDir;
}

/** A day of measures per resource through the embedded stream and pipeline, as the collectors send them (bench/api.ts's way). */
async function sendDay(platform: Platform, resources: readonly Resource[], startMs: number): Promise<number> {
  const signer = new SampleSigner(SECRET);
  const total = resources.length * POINTS;
  const started = performance.now();
  let batch: Array<{ key: string; value: Buffer }> = [];
  let sent = 0;
  for (let j = 0; j < POINTS; j++) {
    const timestamp = new Date(startMs + j * 60_000).toISOString().replace('Z', '+00:00');
    for (const [m, resource] of resources.entries()) {
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
      progress(`alerts: ${total.toLocaleString('en-US')} samples into our pipeline`, sent, total);
    }
  }
  await platform.drain(600_000);
  return (performance.now() - started) / 1000;
}

type StateCounts = Record<string, number>;

interface OurThroughput {
  rates: number[];
  states: StateCounts;
  loadSeconds: number;
}

async function ourThroughput(resources: readonly Resource[], projects: readonly string[], startMs: number, alarmCount: number, rounds: number): Promise<OurThroughput> {
  const owner = { project_id: projects[0] as string, user_id: randomUUID() };
  const bodies = alarmBodies(alarmCount, resources, projects, (m) => metricId((resources[m] as Resource).id, METRIC));
  const dataDir = prepareDataDir('cumulus-bench-alerts-', bodies, owner);
  const config = loadConfig({ env: {}, overrides: { port: 0, dataDir, logLevel: 'silent', meteringSecret: SECRET } });
  // No receiver: transitions are committed and handed to the notifier, which has nowhere to send them.
  const routing = parseRoutingConfig({ route: { receiver: 'nowhere', group_wait: '0s' }, receivers: [{ name: 'nowhere' }] });
  // A 1 s schedule (not run: loops are off) makes the per-alarm claim's guard half a second, which the rounds wait out.
  const platform = await startPlatform(config, { logger: silentLogger(), periodicTasks: false, computePollster: false, alerts: { routing, loops: false, evaluationSchedule: THROUGHPUT_SCHEDULE } });
  const states: StateCounts = {};
  try {
    const loadSeconds = await sendDay(platform, resources, startMs);
    say(`ours: the day loaded in ${loadSeconds.toFixed(1)} s; ${alarmCount} alarms, ${rounds} rounds`);
    const rates: number[] = [];
    for (let r = 0; r < rounds; r++) {
      // A member does not evaluate an alarm again within half its schedule's period (another member may have this round).
      if (r > 0) await sleep(CLAIM_GUARD_WAIT_MS);
      const started = performance.now();
      const round = await platform.alerts.evaluator.evaluateNow();
      const seconds = (performance.now() - started) / 1000;
      if (round.evaluated.length !== alarmCount || round.failed.length > 0) throw new Error(`round ${r + 1}: evaluated ${round.evaluated.length} of ${alarmCount} alarms, ${round.failed.length} failed (first: ${round.failed[0]?.error ?? '-'})`);
      rates.push(alarmCount / seconds);
      say(`ours: round ${r + 1}/${rounds}: ${alarmCount} alarms in ${seconds.toFixed(2)} s (${Math.round(alarmCount / seconds)}/s), ${round.transitions.length} transitions`);
    }
    return { rates, states, loadSeconds };
  } finally {
    await platform.stop();
    // The states the rounds left, to compare with Aodh's on the same data.
    const db = openStateDatabase(join(dataDir, 'state.sqlite'));
    try {
      for (const a of createAlarmStore(db).list(null)) states[a.state] = (states[a.state] ?? 0) + 1;
    } finally {
      db.close();
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface AodhResult {
  alarms: number;
  rounds: number[];
  states: StateCounts;
  measured: string;
}

/** Aodh's evaluators over the same alarms against Gnocchi holding the same data; null with the reason when it cannot run. */
async function aodhThroughput(resources: readonly Resource[], projects: readonly string[], startMs: number, alarmCount: number, peerAlarms: number, rounds: number): Promise<AodhResult | string> {
  const install = spawnSync('bash', [join(ROOT, 'scripts/bench-peer.sh'), 'aodh', 'install'], { encoding: 'utf8' });
  if (install.status !== 0) return `Aodh could not be installed: ${install.stderr.trim()}`;
  let started = false;
  try {
    startGnocchi();
    started = true;
    const availability = await gnocchiAvailability();
    if (!availability.available) return `Gnocchi peer unavailable: ${availability.reason}`;
    const load = await loadGnocchiResources({ resources, metricName: METRIC, points: POINTS, startMs });
    say(`gnocchi: the day loaded in ${load.seconds.toFixed(1)} s (API + metricd)`);
    // The first peerAlarms of the same list (the same mix): Aodh reads per alarm, so its rate does not depend on the count.
    const bodies = alarmBodies(alarmCount, resources, projects, (m) => load.metricIds[m] as string).slice(0, peerAlarms);
    const dir = mkdtempSync(join(tmpdir(), 'cumulus-bench-aodh-'));
    try {
      writeFileSync(join(dir, 'alarms.json'), JSON.stringify(bodies));
      const run = spawnSync('/usr/bin/python3', ['-W', 'ignore', join(ROOT, 'bench/aodh-peer.py'), gnocchiUrl(), join(dir, 'alarms.json'), String(rounds), dir], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] });
      const last = run.stdout.trim().split('\n').pop() ?? '';
      if (run.status !== 0 || !last.startsWith('{')) return `bench/aodh-peer.py failed (exit ${run.status})`;
      return JSON.parse(last) as AodhResult;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } catch (err) {
    return `Gnocchi/Aodh peer failed: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    if (started) stopGnocchi();
  }
}

/** A local webhook receiver: when each alarm's first firing notification arrived (performance.now()). */
async function startReceiver(): Promise<{ url: string; firing: Map<string, number>; server: Server }> {
  const firing = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alerts?: Array<{ status?: string; labels?: Record<string, string> }> };
        for (const alert of body.alerts ?? []) {
          const name = alert.labels?.alarm_name;
          if (alert.status === 'firing' && name !== undefined && !firing.has(name)) firing.set(name, at);
        }
      } catch {
        // Not ours to judge: the timing only needs the firing ones.
      }
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, firing, server };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Seconds from a breaching POST to the webhook, one alarm (and metric) per run. */
async function ourLatency(runs: number): Promise<number[]> {
  const receiver = await startReceiver();
  const dataDir = prepareDataDir('cumulus-bench-alerts-latency-', [], { project_id: '', user_id: '' });
  const config = loadConfig({ env: {}, overrides: { port: 0, dataDir, logLevel: 'silent', meteringSecret: SECRET } });
  const routing = parseRoutingConfig({ route: { receiver: 'hook', group_by: ['alarm_name'], group_wait: '0s', group_interval: '1m', repeat_interval: '4h' }, receivers: [{ name: 'hook', webhook_configs: [{ url: receiver.url }] }] });
  const platform = await startPlatform(config, { logger: silentLogger(), periodicTasks: false, computePollster: false, alerts: { routing, loops: true, evaluationSchedule: '* * * * * *' } });
  try {
    const admin = await login(platform.url, 'admin', platform.adminPassword, 'admin');
    const call = async (method: string, path: string, body: unknown): Promise<Record<string, unknown>> => {
      const res = await fetch(`${platform.url}${path}`, { method, headers: { 'x-auth-token': admin.token, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return (text.startsWith('{') ? JSON.parse(text) : {}) as Record<string, unknown>;
    };
    const seconds: number[] = [];
    for (let r = 0; r < runs; r++) {
      // 1. a resource with its metric and a value under the threshold; the alarm on it settles to ok.
      const resourceId = randomUUID();
      const created = await call('POST', '/metric/v1/resource/generic', { id: resourceId, project_id: randomUUID(), user_id: randomUUID(), metrics: { [METRIC]: { archive_policy_name: POLICY.name } } });
      const metric = (created.metrics as Record<string, string>)[METRIC] as string;
      const now = () => new Date().toISOString();
      await call('POST', `/metric/v1/metric/${metric}/measures`, [{ timestamp: new Date(Date.now() - 60_000).toISOString(), value: 1 }, { timestamp: now(), value: 1 }]);
      const name = `latency-${r}-${resourceId.slice(0, 8)}`;
      const alarm = await call('POST', '/alarming/v2/alarms', {
        name,
        type: 'gnocchi_resources_threshold',
        gnocchi_resources_threshold_rule: { metric: METRIC, resource_id: resourceId, resource_type: 'generic', comparison_operator: 'gt', threshold: 50, aggregation_method: 'max', granularity: 60, evaluation_periods: 1 },
      });
      const alarmPath = `/alarming/v2/alarms/${String(alarm.alarm_id)}`;
      for (let wait = 0; ; wait++) {
        const res = await fetch(`${platform.url}${alarmPath}`, { headers: { 'x-auth-token': admin.token } });
        if (((await res.json()) as { state?: string }).state === 'ok') break;
        if (wait > 100) throw new Error(`alarm ${name} did not settle to ok`);
        await sleep(100);
      }
      // 2. the breach, timed from the POST until the webhook has it.
      const posted = performance.now();
      await call('POST', `/metric/v1/metric/${metric}/measures`, [{ timestamp: now(), value: 100 }]);
      while (!receiver.firing.has(name)) {
        if (performance.now() - posted > 30_000) throw new Error(`no webhook for ${name} within 30 s`);
        await sleep(5);
      }
      seconds.push(((receiver.firing.get(name) as number) - posted) / 1000);
      progress('alerts: breach -> webhook', r + 1, runs);
    }
    return seconds;
  } finally {
    await platform.stop();
    await new Promise((resolve) => receiver.server.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function benchAlerts(): Promise<BenchRow[]> {
  const alarmCount = positiveEnv('BENCH_ALARMS', 10_000);
  const resourceCount = positiveEnv('BENCH_ALERT_RESOURCES', 200);
  const rounds = positiveEnv('BENCH_ALERT_ROUNDS', 3);
  const latencyRuns = positiveEnv('BENCH_ALERT_LATENCY_RUNS', 10);
  const peerAlarms = positiveEnv('BENCH_ALERT_PEER_ALARMS', 2_000);
  const projects = Array.from({ length: PROJECTS }, () => randomUUID());
  const resources: Resource[] = Array.from({ length: resourceCount }, (_, i) => ({ id: randomUUID(), project_id: projects[i % PROJECTS] as string, user_id: randomUUID() }));
  const startMs = (Math.floor(Date.now() / 60_000) + FUTURE_MINUTES - POINTS) * 60_000;
  const rows: BenchRow[] = [];

  // 1. throughput, ours then Aodh's on the same data (one at a time: 2 cores).
  const ours = await ourThroughput(resources, projects, startMs, alarmCount, rounds);
  say(`ours: states after the rounds ${JSON.stringify(ours.states)}`);
  const peer = await aodhThroughput(resources, projects, startMs, alarmCount, Math.min(peerAlarms, alarmCount), rounds);
  const shape = `${alarmCount} gnocchi alarms (90% resources, 5% by_metrics, 5% by_resources), ${resourceCount} metrics x 1 day`;
  const peerLabel = typeof peer === 'string' ? null : `${AODH_PEER}, ${peer.alarms} of the alarms`;
  const peerRates = typeof peer === 'string' ? [] : peer.rounds.map((seconds) => peer.alarms / seconds);
  if (typeof peer === 'string') say(`no peer: ${peer}`);
  else say(`aodh: ${peer.measured}; rounds ${peer.rounds.map((s) => `${s.toFixed(1)} s`).join(', ')}; states ${JSON.stringify(peer.states)}`);
  rows.push({ suite: 'alerts', name: `first round, every alarm changes state: ${shape}`, value: ours.rates[0] as number, unit: 'alarms/s', peer: peerLabel, peer_value: peerRates[0] ?? null });
  if (rounds > 1) rows.push({ suite: 'alerts', name: `alarms evaluated, median of rounds 2..${rounds}: ${shape}`, value: median(ours.rates.slice(1)), unit: 'alarms/s', peer: peerLabel, peer_value: peerRates.length > 1 ? median(peerRates.slice(1)) : null });
  if (typeof peer === 'string') rows.push({ suite: 'alerts', name: `peer missing: ${peer}`.slice(0, 160), value: 0, unit: '-', peer: AODH_PEER, peer_value: null });

  // 2. latency from a breaching measure to the webhook.
  const latencies = (await ourLatency(latencyRuns)).sort((a, b) => a - b);
  const label = `Aodh default ${AODH_INTERVAL_S} s evaluation interval (stated, not measured)`;
  rows.push({ suite: 'alerts', name: `breach -> webhook p50 (${latencyRuns} runs, evaluator every 1 s)`, value: median(latencies), unit: 's', peer: `${label}: mean wait ${AODH_INTERVAL_S / 2} s`, peer_value: AODH_INTERVAL_S / 2, better: 'lower' });
  rows.push({ suite: 'alerts', name: `breach -> webhook max (${latencyRuns} runs, evaluator every 1 s)`, value: latencies[latencies.length - 1] as number, unit: 's', peer: `${label}: worst wait ${AODH_INTERVAL_S} s`, peer_value: AODH_INTERVAL_S, better: 'lower' });
  say(`latencies (s): ${latencies.map((s) => s.toFixed(3)).join(', ')}`);
  return rows;
}

