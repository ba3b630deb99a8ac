import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createChdbDriver, migrate, type ClickHouseDriver } from '../storage/index.ts';
import { progress, type BenchRow } from './report.ts';

/**
 * What chDB itself costs per measure on this machine, before any of our code: the floor
 * under the pipeline's ingestion figure (issue 5 asks for 10x Gnocchi's 1000 x 1000 rate,
 * about 1.1 M measures/s here). One million measures (1000 metrics x 1000 points at 60 s),
 * inserted into the `measures` table in 200,000-row blocks:
 * - as JSONEachRow text (what the pipeline sends today), with the rollups' view;
 * - as Native columns read from a file (`INSERT ... SELECT FROM file(..., Native)`), with the view;
 * - the same without the view (the raw table alone);
 * - Native with a view that skips the GROUP BY and keeps first/last as (time, value)
 *   tuples under min/max: a candidate rollup design, into a table of its own.
 * The JSON and Native payloads are built before the clock starts for each insert.
 */

const METRICS = 1000;
const POINTS = 1000;
const BLOCK = 200_000;

type Variant = 'json' | 'native' | 'native-no-view' | 'native-tuple-view';

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
  await migrate(store);
  if (variant === 'json' || variant === 'native') return;
  await store.command({ sql: 'DROP VIEW rollups_mv' });
  if (variant === 'native-tuple-view') {
    await store.command({
      sql: `CREATE TABLE rollups_tuples (metric_id UUID, granularity UInt32, bucket DateTime('UTC'),
        expires SimpleAggregateFunction(max, DateTime('UTC')), count SimpleAggregateFunction(sum, UInt64),
        sum SimpleAggregateFunction(sum, Float64), min SimpleAggregateFunction(min, Float64), max SimpleAggregateFunction(max, Float64),
        sumsq SimpleAggregateFunction(sum, Float64), first SimpleAggregateFunction(min, Tuple(DateTime64(6, 'UTC'), Float64)),
        last SimpleAggregateFunction(max, Tuple(DateTime64(6, 'UTC'), Float64))) ENGINE = AggregatingMergeTree ORDER BY (metric_id, granularity, bucket)`,
    });
    await store.command({
      sql: `CREATE MATERIALIZED VIEW rollups_tuples_mv TO rollups_tuples AS SELECT metric_id, g AS granularity,
        toDateTime(intDiv(toUnixTimestamp(ts), g) * g, 'UTC') AS bucket, toDateTime(intDiv(toUnixTimestamp(ts), g) * g + r, 'UTC') AS expires,
        toUInt64(1) AS count, value AS sum, value AS min, value AS max, value * value AS sumsq, (ts, value) AS first, (ts, value) AS last
        FROM measures ARRAY JOIN granularities AS g, retentions AS r`,
    });
  }
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
      if (variant === 'json') {
        const text = jsonBlock(metrics, startMs, offset, rows);
        started = performance.now();
        await store.insertJsonEachRow('measures', text, { dedupToken: `floor-${n}` });
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
    return (METRICS * POINTS) / seconds;
  } finally {
    await store.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

const LABELS: Record<Variant, string> = {
  json: 'chDB insert alone: JSONEachRow text, with the rollups view (the pipeline today)',
  native: 'chDB insert alone: Native columns, with the rollups view',
  'native-no-view': 'chDB insert alone: Native columns, raw measures only (no rollups)',
  'native-tuple-view': 'chDB insert alone: Native, a rollups view without GROUP BY (first/last as tuples)',
};

/** Measures per second chDB takes for each way in: the ceiling any pipeline on top of it has here. */
export async function benchStorageFloor(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const variant of ['json', 'native', 'native-no-view', 'native-tuple-view'] as const) {
    rows.push({ suite: 'storage-floor', name: `${LABELS[variant]}, 1000 x 1000`, value: await measure(variant), unit: 'measures/s', peer: null, peer_value: null });
  }
  return rows;
}
