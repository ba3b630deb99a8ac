import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { GNOCCHI_PYTHON } from './gnocchi-carbonara.ts';

/**
 * Real Gnocchi 4.4's aggregates operations (python3-gnocchi) as the reference for the
 * evaluator's tests: test/support/gnocchi-operations.py, run by the Debian python3.
 */
const HELPER = fileURLToPath(new URL('./gnocchi-operations.py', import.meta.url));

export interface GnocchiOperationsRequest {
  series: Array<{ name: string; method: string; granularity: number; points: Array<[number, number]> }>;
  operations: unknown;
  start?: number | null;
  stop?: number | null;
  needed_overlap?: number | null;
  fill?: number | 'null' | 'dropna' | null;
}

export type GnocchiPoint = [number, number, number | null];
export type GnocchiOperationsResult = { aggregated: GnocchiPoint[] } | { series: Record<string, Record<string, GnocchiPoint[]>> } | { error: string };

/** Whether the reference can run here: null, or why not. */
export function gnocchiOperationsUnavailable(): string | null {
  const probe = spawnSync(GNOCCHI_PYTHON, ['-c', 'import gnocchi.rest.aggregates.api, gnocchi.rest.aggregates.processor'], { encoding: 'utf8', timeout: 60_000 });
  if (probe.error) return `${GNOCCHI_PYTHON} cannot run: ${probe.error.message}`;
  if (probe.status !== 0) return `${GNOCCHI_PYTHON} cannot import gnocchi's aggregates API (apt-get install python3-gnocchi): ${probe.stderr.trim().split('\n').pop() ?? ''}`;
  return null;
}

/** Runs every request through real Gnocchi in one process. */
export function gnocchiOperations(requests: readonly GnocchiOperationsRequest[]): GnocchiOperationsResult[] {
  const run = spawnSync(GNOCCHI_PYTHON, [HELPER], { input: JSON.stringify({ requests }), encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`gnocchi-operations.py failed (${run.status}): ${run.stderr.trim().split('\n').slice(-5).join('\n')}`);
  return (JSON.parse(run.stdout) as { results: GnocchiOperationsResult[] }).results;
}
