import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStateDatabase, silentLogger, systemClock } from '../core/index.ts';
import { collectUsage, createRatingProcessor, loadServiceDefinitions } from '../pipeline/index.ts';
import {
  BUILTIN_ARCHIVE_POLICIES,
  MIGRATIONS,
  createChdbDriver,
  createHashmapStore,
  createReprocessStore,
  insertMeasureRows,
  loadStatementContent,
  migrate,
  monthOf,
  numberedStatement,
  projectScope,
  type ArchivePolicy,
  type ClickHouseDriver,
  type UsageFrame,
} from '../storage/index.ts';
import { statementHtml } from '../api/rating/statements/html.ts';
import type { BenchRow } from './report.ts';

/**
 * The rating benchmark (issue 7): rate a month of hourly periods for PROJECTS x 20 resources
 * with the real processor (collect from ClickHouse, price with the hashmap engine, write
 * rated_usage, mark the period), then build every project's statement (JSON) and the HTML
 * of a sample with its charts. Peer: CloudKitty 17's own HashMap processor (Debian's
 * python3-cloudkitty, bench/cloudkitty-peer.py) over the same frames of a sample of periods,
 * compared with our engine alone on those frames. CloudKitty's collection from Gnocchi is
 * not timed (not comparable: ours reads ClickHouse); only rating is.
 *
 * BENCH_RATING_PROJECTS (default 100; the issue's size is 1000), BENCH_RATING_DAYS (default
 * 30), BENCH_RATING_PEER_PERIODS (default 24: the periods whose frames both engines rate).
 * Below 1000 projects the month's figures for 1000 are printed as an extrapolation (linear
 * in frames), labelled so.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const H = 3_600_000;
const RESOURCES_PER_PROJECT = 20;
const STATEMENT_HTML_SAMPLE = 20;
/** Measures per insert: a few Native blocks of reasonable size even at the 1000 projects. */
const MEASURE_INSERT_CHUNK = 200_000;

/** The rules, as CloudKitty's hashmap sees them (the peer creates the same ones). */
const RULES = [
  { kind: 'mapping', service: 'instance', field: 'flavor_name', value: 'm1.small', cost: '0.025', type: 'flat' },
  { kind: 'mapping', service: 'instance', field: 'flavor_name', value: 'm1.medium', cost: '0.05', type: 'flat' },
  { kind: 'mapping', service: 'instance', field: 'flavor_name', value: 'm1.large', cost: '0.1', type: 'flat' },
  { kind: 'mapping', service: 'instance', field: 'image_id', value: 'img-windows', cost: '1.6', type: 'rate' },
  { kind: 'mapping', service: 'volume.size', field: null, value: null, cost: '0.00015', type: 'flat' },
  { kind: 'threshold', service: 'volume.size', field: null, level: '100', cost: '0.9', type: 'rate' },
  { kind: 'mapping', service: 'ip.floating', field: null, value: null, cost: '0.004', type: 'flat' },
] as const;

const log = (line: string) => process.stderr.write(`rating bench: ${line}\n`);
const chTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/**
 * Every project's metering inputs, generated inside ClickHouse (INSERT ... SELECT FROM numbers),
 * except the measures: those go through the measure insert, which also writes their rollups
 * (no view does since migration 9). One per volume, so 6 per project: cheap in JavaScript.
 */
async function generate(store: ClickHouseDriver, projects: number, startMs: number): Promise<void> {
  const born = chTime(startMs - 24 * H);
  // Per project: 10 instances (3 flavors, 2 images), 6 volumes (10..160 GiB), 4 floating IPs.
  await store.command({
    sql: `INSERT INTO resources (id, type, project_id, user_id, started_at, ended_at, revision_start, attributes)
      SELECT concat('vm-', toString(p), '-', toString(i)), 'instance', concat('project-', leftPad(toString(p), 4, '0')), 'user-1',
        toDateTime64({born:String}, 6, 'UTC'), NULL, toDateTime64({born:String}, 6, 'UTC'),
        concat('{"flavor_id":"f', toString(i % 3), '","flavor_name":"', ['m1.small','m1.medium','m1.large'][i % 3 + 1],
          '","image_ref":"', if(i % 4 = 0, 'img-windows', 'img-debian'), '","display_name":"vm', toString(i), '"}')
      FROM (SELECT intDiv(number, 10) AS p, number % 10 AS i FROM numbers({n:UInt64}))`,
    params: { born, n: projects * 10 },
  });
  await store.command({
    sql: `INSERT INTO resources (id, type, project_id, user_id, started_at, ended_at, revision_start, attributes)
      SELECT concat('vol-', toString(p), '-', toString(i)), 'volume', concat('project-', leftPad(toString(p), 4, '0')), 'user-1',
        toDateTime64({born:String}, 6, 'UTC'), NULL, toDateTime64({born:String}, 6, 'UTC'),
        concat('{"volume_type":"', if(i % 2 = 0, 'ssd', 'hdd'), '","display_name":"data', toString(i), '"}')
      FROM (SELECT intDiv(number, 6) AS p, number % 6 AS i FROM numbers({n:UInt64}))`,
    params: { born, n: projects * 6 },
  });
  await store.command({
    sql: `INSERT INTO metrics (id, name, resource_id, project_id, user_id, unit, archive_policy_name, created_at)
      SELECT generateUUIDv4(id), if(type = 'instance', 'instance', 'volume.size'), id, project_id, user_id, if(type = 'instance', 'instance', 'GB'), 'low', revision_start
      FROM resources`,
  });
  // Each volume's size (10..160 GiB by its index, vol-<project>-<i>) once, at birth, under the metrics' policy.
  const low = BUILTIN_ARCHIVE_POLICIES.find((p) => p.name === 'low') as ArchivePolicy;
  const volumes = await store.query<{ id: string; resource_id: string }>({ sql: "SELECT id, resource_id FROM metrics WHERE name = 'volume.size'" });
  const bornMicros = (startMs - 24 * H) * 1000;
  for (let i = 0; i < volumes.length; i += MEASURE_INSERT_CHUNK) {
    const chunk = volumes.slice(i, i + MEASURE_INSERT_CHUNK).map((v) => ({ metricId: v.id, tsMicros: bornMicros, value: 10 * (1 + Number(v.resource_id.split('-')[2]) * 3), sampleId: randomUUID(), policy: low }));
    await insertMeasureRows(store, chunk, { dedupToken: randomUUID() });
  }
  await store.command({
    sql: `INSERT INTO events (message_id, event_type, generated, project_id, resource_id, traits_string, raw, retention_days)
      SELECT toString(generateUUIDv4(number)), 'floatingip.create.end', toDateTime64({born:String}, 6, 'UTC'), project, fip, map('user_id', 'user-1'),
        concat('{"event_type":"floatingip.create.end","payload":{"floatingip":{"floating_ip_address":"10.', toString(intDiv(number, 256) % 256), '.', toString(number % 256), '.1","floating_network_id":"public"}}}'), 400
      FROM (SELECT number, concat('project-', leftPad(toString(intDiv(number, 4)), 4, '0')) AS project, concat('fip-', toString(number)) AS fip FROM numbers({n:UInt64}))`,
    params: { born, n: projects * 4 },
  });
}

export async function benchRating(): Promise<BenchRow[]> {
  const projects = Number(process.env.BENCH_RATING_PROJECTS ?? 100);
  const days = Number(process.env.BENCH_RATING_DAYS ?? 30);
  const peerPeriods = Number(process.env.BENCH_RATING_PEER_PERIODS ?? 24);
  const month = monthOf(new Date(), -1);
  const startMs = month.start.getTime();
  const periods = Math.min(days * 24, Math.round((month.end.getTime() - startMs) / H));
  const untilMs = startMs + periods * H;
  const resources = projects * RESOURCES_PER_PROJECT;
  log(`${projects} projects x ${RESOURCES_PER_PROJECT} resources x ${periods} hourly periods from ${month.start.toISOString()} = ${(resources * periods).toLocaleString('en-US')} frames (load ${loadavg()[0]?.toFixed(2)} on 2 cores)`);

  const dir = mkdtempSync(join(tmpdir(), 'cumulus-bench-rating-'));
  const store = createChdbDriver({ dataDir: join(dir, 'ch') });
  const db = openStateDatabase(join(dir, 'state.sqlite'));
  const rows: BenchRow[] = [];
  try {
    await migrate(store, MIGRATIONS);
    let t = performance.now();
    await generate(store, projects, startMs);
    log(`metering inputs generated in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const hashmap = createHashmapStore(db);
    const serviceIds = new Map<string, string>();
    const fieldIds = new Map<string, string>();
    for (const rule of RULES) {
      let serviceId = serviceIds.get(rule.service);
      if (serviceId === undefined) {
        serviceId = hashmap.createService({ name: rule.service }).service_id;
        serviceIds.set(rule.service, serviceId);
      }
      let parent: Record<string, string> = { service_id: serviceId };
      if (rule.field) {
        const key = `${rule.service}/${rule.field}`;
        let fieldId = fieldIds.get(key);
        if (fieldId === undefined) {
          fieldId = hashmap.createField({ service_id: serviceId, name: rule.field }).field_id;
          fieldIds.set(key, fieldId);
        }
        parent = { field_id: fieldId };
      }
      if (rule.kind === 'mapping') hashmap.createMapping({ ...parent, ...(rule.value ? { value: rule.value } : {}), cost: rule.cost, type: rule.type });
      else hashmap.createThreshold({ ...parent, level: rule.level, cost: rule.cost, type: rule.type });
    }

    // 1. the whole processor over the month (progress every few seconds).
    const services = loadServiceDefinitions();
    const processor = createRatingProcessor(
      { services, firstPeriod: new Date(startMs) },
      { store, periods: createReprocessStore(db), rater: () => hashmap.rater(), clock: systemClock, logger: silentLogger() },
    );
    t = performance.now();
    let frames = 0;
    let unpriced = 0;
    let lastLine = t;
    // A day per call, as the hourly schedule catches up after downtime (the processor reads a day of periods at once).
    for (let p = Math.min(24, periods); p <= periods; p = p === periods ? periods + 1 : Math.min(periods, p + 24)) {
      const run = await processor.rateNow(new Date(startMs + p * H));
      frames += run.frames;
      unpriced += run.unpriced;
      if (performance.now() - lastLine > 5000 || p === periods) {
        lastLine = performance.now();
        const s = (lastLine - t) / 1000;
        log(`rated ${p}/${periods} periods, ${frames.toLocaleString('en-US')} frames in ${s.toFixed(1)} s (${Math.round(frames / s).toLocaleString('en-US')} frames/s)`);
      }
    }
    const rateSeconds = (performance.now() - t) / 1000;
    if (unpriced > 0) log(`${unpriced} frames had no rule (not stored)`);

    // 2. every project's statement (JSON), and the HTML with charts of a sample.
    const projectIds = Array.from({ length: projects }, (_, p) => `project-${String(p).padStart(4, '0')}`);
    t = performance.now();
    lastLine = t;
    let jsonBytes = 0;
    let grand = 0;
    for (const [i, projectId] of projectIds.entries()) {
      const statement = numberedStatement(await loadStatementContent(store, projectScope(projectId), month), null);
      jsonBytes += JSON.stringify(statement).length;
      grand += statement.services.length;
      if (performance.now() - lastLine > 5000) {
        lastLine = performance.now();
        log(`statements (JSON) ${i + 1}/${projects}`);
      }
    }
    const jsonSeconds = (performance.now() - t) / 1000;
    log(`${projects} JSON statements (${grand} service sections, ${(jsonBytes / 1e6).toFixed(1)} MB) in ${jsonSeconds.toFixed(1)} s`);
    const sample = projectIds.slice(0, Math.min(STATEMENT_HTML_SAMPLE, projects));
    t = performance.now();
    for (const projectId of sample) statementHtml(numberedStatement(await loadStatementContent(store, projectScope(projectId), month), null), new Date());
    const htmlSeconds = (performance.now() - t) / 1000;

    // 3. the same frames for both engines: the first peerPeriods periods, collected once.
    const sampleFrames: Array<{ start: Date; end: Date; frames: UsageFrame[] }> = [];
    for (let p = 0; p < Math.min(peerPeriods, periods); p++) {
      const period = { start: new Date(startMs + p * H), end: new Date(startMs + (p + 1) * H) };
      sampleFrames.push({ ...period, frames: await collectUsage(store, services, period, null) });
    }
    const sampleCount = sampleFrames.reduce((n, s) => n + s.frames.length, 0);
    const rater = hashmap.rater();
    let ourTotal = 0n;
    t = performance.now();
    for (const s of sampleFrames) {
      for (const frame of s.frames) {
        const rated = rater.rate(frame);
        // cost is already fixed-point text at FRAME_SCALE places: summed as integers, not re-parsed.
        if (rated) ourTotal += BigInt(rated.cost.replace('.', ''));
      }
    }
    const engineSeconds = (performance.now() - t) / 1000;
    const ourTotalText = `${ourTotal / 10n ** 9n}.${String(ourTotal % 10n ** 9n).padStart(9, '0')}`;

    type PeerResult = { frames: number; seconds: number; total: string };
    let peer: PeerResult | null = null;
    let peerReason = '';
    const install = spawnSync('bash', [join(ROOT, 'scripts/bench-peer.sh'), 'cloudkitty', 'install'], { encoding: 'utf8' });
    if (install.status !== 0) peerReason = `CloudKitty could not be installed: ${install.stderr.trim()}`;
    else {
      writeFileSync(join(dir, 'rules.json'), JSON.stringify(RULES));
      writeFileSync(
        join(dir, 'frames.jsonl'),
        sampleFrames
          .map((s) => JSON.stringify({ start: s.start.toISOString(), end: s.end.toISOString(), points: s.frames.map((f) => [f.service, f.quantity, f.unit, f.metadata, f.groupby]) }))
          .join('\n') + '\n',
      );
      log(`CloudKitty 17 HashMap over the same ${sampleCount.toLocaleString('en-US')} frames (${sampleFrames.length} periods)`);
      const run = spawnSync('/usr/bin/python3', ['-W', 'ignore', join(ROOT, 'bench/cloudkitty-peer.py'), join(dir, 'rules.json'), join(dir, 'frames.jsonl'), dir], { encoding: 'utf8', maxBuffer: 1 << 26 });
      const last = run.stdout.trim().split('\n').pop() ?? '';
      if (run.status === 0 && last.startsWith('{')) peer = JSON.parse(last) as PeerResult;
      else peerReason = `bench/cloudkitty-peer.py failed: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`;
    }
    if (peer) log(`totals over the sample: ours ${ourTotalText}, CloudKitty ${peer.total} (CloudKitty keeps costs as SQLite floats and does not round frames)`);
    else log(`no peer: ${peerReason}`);

    const peerName = peer ? 'CloudKitty 17 hashmap' : null;
    const peerRate = peer ? peer.frames / peer.seconds : null;
    const row = (name: string, value: number, unit: string, better: 'higher' | 'lower' = 'higher', peerValue: number | null = null): BenchRow => ({
      suite: 'rating',
      name,
      value,
      unit,
      peer: peerValue === null ? null : peerName,
      peer_value: peerValue,
      better,
    });
    rows.push(
      row(`hashmap engine alone, ${sampleCount} frames (same frames as peer)`, sampleCount / engineSeconds, 'frames/s', 'higher', peerRate),
      row(`whole processor (collect+price+write), ${projects}x${RESOURCES_PER_PROJECT} res, ${periods} h`, frames / rateSeconds, 'frames/s', 'higher', peerRate),
      row(`rate ${projects} projects x ${periods} h (${frames} frames)`, rateSeconds, 's', 'lower'),
      row(`${projects} statements (JSON)`, jsonSeconds, 's', 'lower'),
      row(`${sample.length} statements (HTML with 2 SVG charts)`, htmlSeconds, 's', 'lower'),
    );
    // The size is 1000 projects x 30 days: a smaller run also prints its figures scaled
    // linearly (rating in frames, statements in projects), labelled as an extrapolation.
    const fullFrames = 1000 * RESOURCES_PER_PROJECT * 720;
    if (frames < fullFrames) rows.push(row(`EXTRAPOLATED (linear in frames, x${(fullFrames / frames).toFixed(1)}): rate 1000 projects x 720 h`, (rateSeconds * fullFrames) / frames, 's', 'lower'));
    if (projects < 1000) rows.push(row(`EXTRAPOLATED (linear in projects, x${(1000 / projects).toFixed(0)}): 1000 statements (JSON)`, (jsonSeconds * 1000) / projects, 's', 'lower'));
    if (!peer) rows.push({ suite: 'rating', name: `peer missing: ${peerReason}`.slice(0, 160), value: 0, unit: '-', peer: 'CloudKitty 17 hashmap', peer_value: null });
    log(`load average now ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    return rows;
  } finally {
    db.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
