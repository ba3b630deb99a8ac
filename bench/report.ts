import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One benchmark result; `peer` is what it was compared with in the same run (null when none yet). */
export interface BenchRow {
  suite: string;
  name: string;
  value: number;
  unit: string;
  peer: string | null;
  peer_value: number | null;
  /** Whether a larger value is better (rates, the default) or a smaller one (latencies). */
  better?: 'higher' | 'lower';
}

/** How many times better than the peer: value/peer for rates, peer/value for latencies. */
export function ratioOf(row: BenchRow): number | null {
  if (!row.peer_value || !row.value) return null;
  return row.better === 'lower' ? row.peer_value / row.value : row.value / row.peer_value;
}

export const RESULTS_FILE = join(dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json');

export function printTable(rows: readonly BenchRow[]): void {
  const table = rows.map((r) => ({
    suite: r.suite,
    name: r.name,
    value: r.value.toLocaleString('en-US', { maximumFractionDigits: 1 }),
    unit: r.unit,
    peer: r.peer ?? '-',
    'peer value': r.peer_value === null ? '-' : r.peer_value.toLocaleString('en-US', { maximumFractionDigits: 1 }),
    'x better than peer': ratioOf(r) === null ? '-' : `${(ratioOf(r) as number).toFixed(1)}x`,
  }));
  const columns = Object.keys(table[0] ?? { suite: '' }) as Array<keyof (typeof table)[number]>;
  const widths = columns.map((c) => Math.max(c.length, ...table.map((row) => String(row[c]).length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] as number)).join('  ');
  process.stdout.write(`\n${line(columns as string[])}\n${line(widths.map((w) => '-'.repeat(w)))}\n`);
  for (const row of table) process.stdout.write(`${line(columns.map((c) => String(row[c])))}\n`);
}

export function writeResults(rows: readonly BenchRow[]): void {
  mkdirSync(dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(RESULTS_FILE, `${JSON.stringify(rows, null, 2)}\n`);
  process.stdout.write(`\nresults written to ${RESULTS_FILE}\n`);
}

/** A one-line progress bar on stderr for long steps. */
export function progress(label: string, done: number, total: number): void {
  const width = 30;
  const filled = Math.round((done / Math.max(total, 1)) * width);
  process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}${done >= total ? '\n' : ''}`);
}
