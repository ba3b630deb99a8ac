import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createChdbDriver, insertMeasureRuns, migrate, MIGRATIONS, type ArchivePolicy, type ClickHouseDriver, type MeasureRun } from '../storage/index.ts';
import { progress, type BenchRow } from './report.ts';

/**
 * What chDB itself costs per measure on this machine, before any of our code: the floor
 * under the pipeline's ingestion figure (issue 5 asks for 10x Gnocchi's 1000 x 1000 rate,
 * about 1.1 M measures/s here). One million measures (1000 metrics x 1000 points at 60 s),
 * inserted in 200,000-row blocks:
 * - as JSONEachRow text into `measures` with the rollups' materialized view (the schema
 *   before migration 9, what the pipeline did until then);
 * - through storage's measure insert (what every writer does since migration 9): the
 *   rollup rows computed in JavaScript and both tables written as Native blocks; the
 *   clock includes that JavaScript, from runs of the metrics' measures;
 * - Native columns into `measures` alone (no rollups at all): the engine's own ceiling.
 * Payloads other than the measure insert's are built before the clock starts.
 */

const METRICS = 1000;
const POINTS = 1000;
const BLOCK = 200_000;
/** One 60 s level kept a day, as the pipeline benchmark's policy. */
const POLICY: ArchivePolicy = { name: 'floor-60s-1d', back_window: 0, aggregation_methods: ['mean'], definition: [{ granularity: 60, points: 1440 }] };

type Variant = 'json-view' | 'measure-insert' | 'native-no-rollups';

function str(text: string): Buffer {
  const bytes = Buffer.from(text);
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}
function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
}

/** One block of the measures table in ClickHouse's Native format (columns one after the other). */
function nativeBlock(metrics: readonly Buffer[], startMs: number, offset: number, rows: number): Buffer {
  const metric = Buffer.alloc(rows * 16);
  const ts = Buffer.alloc(rows * 8);
  const value = Buffer.alloc(rows * 8);
  const sample = Buffer.alloc(rows * 16);
  const offsets = Buffer.alloc(rows * 8);
  const granularities = Buffer.alloc(rows * 4);
  const retentions = Buffer.alloc(rows * 4);
  for (let i = 0; i < rows; i++) {
    const k = offset + i;
    const point = Math.floor(k / METRICS);
    const m = k % METRICS;
    (metrics[m] as Buffer).copy(metric, i * 16);
    ts.writeBigInt64LE(BigInt((startMs + point * 60_000) * 1000), i * 8);
    value.writeDoubleLE(((m * 31 + point * 17) % 1000) / 10, i * 8);
    offsets.writeBigUInt64LE(BigInt(i + 1), i * 8);
    granularities.writeUInt32LE(60, i * 4);
    retentions.writeUInt32LE(86_400, i * 4);
  }
  return Buffer.concat([
    varint(6),
    varint(rows),
    str('metric_id'), str('UUID'), metric,
    str('ts'), str("DateTime64(6, 'UTC')"), ts,
    str('value'), str('Float64'), value,
    str('sample_id'), str('UUID'), sample,
    str('granularities'), str('Array(UInt32)'), offsets, granularities,
    str('retentions'), str('Array(UInt32)'), offsets, retentions,
  ]);
}

const uuidText = (b: Buffer) => `${b.toString('hex', 0, 4)}-${b.toString('hex', 4, 6)}-${b.toString('hex', 6, 8)}-${b.toString('hex', 8, 10)}-${b.toString('hex', 10, 16)}`;

function jsonBlock(metrics: readonly Buffer[], startMs: number, offset: number, rows: number): string {
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const k = offset + i;
    const point = Math.floor(k / METRICS);
    const m = k % METRICS;
    lines.push(`{"metric_id":"${uuidText(metrics[m] as Buffer)}","ts":"${new Date(startMs + point * 60_000).toISOString()}","value":${((m * 31 + point * 17) % 1000) / 10},"sample_id":"00000000-0000-0000-0000-000000000000","granularities":[60],"retentions":[86400]}`);
  }
  return lines.join('\n');
}

async function prepare(store: ClickHouseDriver, variant: Variant): Promise<void> {
  // Before migration 9 the view filled the rollups; from it on the writers do.
  await migrate(store, variant === 'json-view' ? MIGRATIONS.filter((m) => m.id < 9) : MIGRATIONS);
}

/** One block's measures as runs of one metric each (the form the writers hand the measure insert). */
function runsOf(metrics: readonly Buffer[], startMs: number, offset: number, rows: number): MeasureRun[] {
  const byMetric = new Map<number, { timestamps: number[]; values: number[] }>();
  for (let i = 0; i < rows; i++) {
    const k = offset + i;
    const point = Math.floor(k / METRICS);
    const m = k % METRICS;
    let run = byMetric.get(m);
    if (run === undefined) {
      run = { timestamps: [], values: [] };
      byMetric.set(m, run);
    }
    run.timestamps.push((startMs + point * 60_000) * 1000);
    run.values.push(((m * 31 + point * 17) % 1000) / 10);
  }
  return [...byMetric].map(([m, run]) => ({ metricId: uuidText(metrics[m] as Buffer), policy: POLICY, sampleId: '00000000-0000-0000-0000-000000000000', ...run }));
}

async function measure(variant: Variant): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'cumulus-bench-floor-'));
  const store = createChdbDriver({ dataDir: join(dir, 'ch') });
  const metrics = Array.from({ length: METRICS }, () => randomBytes(16));
  const startMs = Math.floor(Date.now() / 60_000) * 60_000 - POINTS * 60_000;
  try {
    await prepare(store, variant);
    let seconds = 0;
    for (let offset = 0, n = 0; offset < METRICS * POINTS; offset += BLOCK, n++) {
      const rows = Math.min(BLOCK, METRICS * POINTS - offset);
      let started: number;
      if (variant === 'json-view') {
        const text = jsonBlock(metrics, startMs, offset, rows);
        started = performance.now();
        await store.insertJsonEachRow('measures', text, { dedupToken: `floor-${n}` });
      } else if (variant === 'measure-insert') {
        const runs = runsOf(metrics, startMs, offset, rows);
        started = performance.now();
        await insertMeasureRuns(store, runs, { dedupToken: `floor-${n}` });
      } else {
        const file = join(dir, `block-${n}.native`);
        writeFileSync(file, nativeBlock(metrics, startMs, offset, rows));
        started = performance.now();
        await store.command({ sql: `INSERT INTO measures SELECT * FROM file({file:String}, Native) SETTINGS insert_deduplication_token = {token:String}`, params: { file, token: `floor-${n}` } });
      }
      seconds += (performance.now() - started) / 1000;
      progress(`  storage floor: ${variant}`, offset + rows, METRICS * POINTS);
    }
    const [row] = await store.query<{ n: string }>({ sql: 'SELECT count() AS n FROM measures' });
    if (Number(row?.n) !== METRICS * POINTS) throw new Error(`${variant}: ${row?.n ?? 0} measures stored, expected ${METRICS * POINTS}`);
    if (variant !== 'native-no-rollups') {
      const [rolled] = await store.query<{ n: string }>({ sql: 'SELECT sum(count) AS n FROM rollups' });
      if (Number(rolled?.n) !== METRICS * POINTS) throw new Error(`${variant}: the rollups count ${rolled?.n ?? 0} measures, expected ${METRICS * POINTS}`);
    }
    return (METRICS * POINTS) / seconds;
  } finally {
    await store.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

const LABELS: Record<Variant, string> = {
  'json-view': 'chDB: JSONEachRow into measures, rollups by the view (before migration 9)',
  'measure-insert': "storage's measure insert: rollups computed in JS, measures and rollups as Native blocks (since migration 9)",
  'native-no-rollups': 'chDB: Native columns into measures alone, no rollups (the ceiling)',
};

/** Measures per second chDB takes for each way in: the ceiling any pipeline on top of it has here. */
export async function benchStorageFloor(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const variant of ['json-view', 'measure-insert', 'native-no-rollups'] as const) {
    rows.push({ suite: 'storage-floor', name: `${LABELS[variant]}, 1000 x 1000`, value: await measure(variant), unit: 'measures/s', peer: null, peer_value: null });
  }
  return rows;
}
