import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Real Gnocchi 4.4 (python3-gnocchi) as a reference peer for the archive-policy and
 * aggregate tests: test/support/gnocchi-carbonara.py, run by the Debian python3 that has it.
 */

/** The interpreter with python3-gnocchi; the python3 first on PATH may be another one. */
export const GNOCCHI_PYTHON = '/usr/bin/python3';
const HELPER = fileURLToPath(new URL('./gnocchi-carbonara.py', import.meta.url));

/** Why real Gnocchi cannot be run here, or null when it can. */
export function gnocchiUnavailable(): string | null {
  const probe = spawnSync(GNOCCHI_PYTHON, ['-c', 'import gnocchi.carbonara, gnocchi.storage.file, gnocchi.rest.aggregates.processor'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.error) return `${GNOCCHI_PYTHON} cannot run: ${probe.error.message}`;
  if (probe.status !== 0) return `${GNOCCHI_PYTHON} cannot import gnocchi (apt-get install python3-gnocchi): ${probe.stderr.trim().split('\n').pop() ?? ''}`;
  return null;
}

/** Whether a test file must fail, not skip, without the reference (CI has it). */
export const GNOCCHI_REQUIRED = process.env.CI === 'true';

/** One request to the helper (see its docstring for the modes); throws with its stderr on failure. */
export function runGnocchi<T>(request: Record<string, unknown>): T {
  const run = spawnSync(GNOCCHI_PYTHON, [HELPER], { input: JSON.stringify(request), encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`gnocchi-carbonara.py failed (${run.status}): ${run.stderr.trim().split('\n').slice(-5).join('\n')}`);
  return JSON.parse(run.stdout) as T;
}

/** A storage case: the measures, batch by batch, through Gnocchi's own processing. */
export interface GnocchiStorageCase {
  definition: Array<[number, number]>;
  back_window: number;
  methods: string[];
  batches: Array<Array<[number, number]>>;
}

/** Per case, `"<method>@<granularity>"` -> `[t (unix s), value]` points. */
export function gnocchiStorage(cases: readonly GnocchiStorageCase[]): Array<Record<string, Array<[number, number | null]>>> {
  return runGnocchi<{ results: Array<Record<string, Array<[number, number | null]>>> }>({ mode: 'storage', cases }).results;
}
