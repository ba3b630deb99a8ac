import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_ARCHIVE_POLICIES, insertMeasureRows } from '../storage/index.ts';
import { startApiTenants, type ApiTenants } from './support/api-tenants.ts';
import { GNOCCHI_CLI, gnocchiCliAvailable, gnocchi as runGnocchi } from './support/gnocchi-cli.ts';
import { IN_CI } from './support/services.ts';

/**
 * The real python3-gnocchiclient from Debian (`gnocchi aggregates`, `gnocchi measures
 * aggregation`) against the embedded platform, over measures written into the archive.
 */
const available = gnocchiCliAvailable();
if (!available && !IN_CI) process.stderr.write(`[skip] ${GNOCCHI_CLI} is not installed (apt-get install python3-gnocchiclient); CI fails instead of skipping\n`);

type Row = Record<string, unknown>;

const MEDIUM = BUILTIN_ARCHIVE_POLICIES.find((p) => p.name === 'medium')!;
const T0 = Math.floor(Date.now() / 3_600_000) * 3600 - 2 * 3600;
const iso = (t: number) => new Date(t * 1000).toISOString().replace('.000Z', '+00:00');

describe.runIf(available || IN_CI)('the gnocchi CLI: aggregates and measures aggregation', { timeout: 120_000 }, () => {
  let tenants: ApiTenants;
  const A = randomUUID();
  const B = randomUUID();
  const r1 = randomUUID();
  const r2 = randomUUID();
  // Per minute m of the hour from T0: A = m + 1, B = 10 (m + 1); A minutes 0..3, B minutes 1..4.
  const a = (m: number) => m + 1;
  const b = (m: number) => 10 * (m + 1);

  const gnocchi = (args: readonly string[]) =>
    runGnocchi<Row[]>({ authUrl: `${tenants.url}/identity/v3`, username: 'admin', password: tenants.platform.adminPassword, project: 'admin' }, args);

  beforeAll(async () => {
    tenants = await startApiTenants();
    const store = tenants.platform.store;
    const project = tenants.admin.projectId;
    const now = new Date().toISOString();
    await store.insert('resources', [r1, r2].map((id, i) => ({ id, type: 'generic', project_id: project, user_id: `user-${i + 1}`, started_at: now, ended_at: null, revision_start: now, attributes: '{}', type_generation: 0 })));
    const metric = (id: string, name: string, resourceId: string) => ({ id, name, resource_id: resourceId, project_id: project, user_id: 'user-1', unit: '', archive_policy_name: 'medium', created_at: now, deleted: 0 });
    await store.insert('metrics', [metric(A, 'cpu', r1), metric(B, 'cpu', r2)]);
    const rows = (id: string, minutes: number[], value: (m: number) => number) =>
      minutes.map((m) => ({ metricId: id, tsMicros: (T0 + m * 60 + 7) * 1_000_000, value: value(m), sampleId: randomUUID(), policy: MEDIUM }));
    await insertMeasureRows(store, [...rows(A, [0, 1, 2, 3], a), ...rows(B, [1, 2, 3, 4], b)], { dedupToken: randomUUID() });
  }, 90_000);
  afterAll(async () => tenants?.stop());

  it('has the gnocchi CLI installed', () => {
    expect(available, `${GNOCCHI_CLI} must be installed (python3-gnocchiclient)`).toBe(true);
  });

  it('runs gnocchi aggregates over metric ids', async () => {
    const rows = await gnocchi(['aggregates', '--granularity', '60', `(aggregate mean (metric (${A} mean) (${B} mean)))`]);
    // Default fill (dropna): every minute either metric has, the mean of those present.
    const expected = [0, 1, 2, 3, 4].map((m) => {
      const present = [m <= 3 ? a(m) : undefined, m >= 1 ? b(m) : undefined].filter((x): x is number => x !== undefined);
      return { name: 'aggregated', timestamp: iso(T0 + m * 60), granularity: 60, value: present.reduce((s, x) => s + x, 0) / present.length };
    });
    expect(rows).toEqual(expected);
    const each = await gnocchi(['aggregates', '--granularity', '60', `(* (metric ${A} mean) 2)`]);
    expect(each).toEqual([0, 1, 2, 3].map((m) => ({ name: `${A}/mean`, timestamp: iso(T0 + m * 60), granularity: 60, value: 2 * a(m) })));
  });

  it('runs gnocchi aggregates over the resources a search finds, grouped', async () => {
    const rows = await gnocchi(['aggregates', '--granularity', '60', '--groupby', 'user_id', '(aggregate sum (metric cpu mean))', `project_id = '${tenants.admin.projectId}'`]);
    expect(rows).toEqual([
      ...[0, 1, 2, 3].map((m) => ({ group: 'user_id: user-1', name: 'aggregated', timestamp: iso(T0 + m * 60), granularity: 60, value: a(m) })),
      ...[1, 2, 3, 4].map((m) => ({ group: 'user_id: user-2', name: 'aggregated', timestamp: iso(T0 + m * 60), granularity: 60, value: b(m) })),
    ]);
  });

  it('runs gnocchi measures aggregation across metrics (the overlap only) and over a resource search', async () => {
    const rows = await gnocchi(['measures', 'aggregation', '--utc', '-m', A, B, '--aggregation', 'mean', '--granularity', '60']);
    expect(rows).toEqual([1, 2, 3].map((m) => ({ timestamp: iso(T0 + m * 60), granularity: 60, value: (a(m) + b(m)) / 2 })));
    const all = await gnocchi(['measures', 'aggregation', '--utc', '-m', A, B, '--aggregation', 'mean']);
    const hour = ([0, 1, 2, 3].reduce((s, m) => s + a(m), 0) / 4 + [1, 2, 3, 4].reduce((s, m) => s + b(m), 0) / 4) / 2;
    expect(all[0]).toEqual({ timestamp: iso(T0), granularity: 3600, value: hour });
    const max = await gnocchi(['measures', 'aggregation', '--utc', '-m', 'cpu', '--query', `project_id='${tenants.admin.projectId}'`, '--reaggregation', 'max', '--granularity', '60', '--fill', 'null']);
    expect(max).toEqual([0, 1, 2, 3, 4].map((m) => ({ timestamp: iso(T0 + m * 60), granularity: 60, value: Math.max(m <= 3 ? a(m) : -Infinity, m >= 1 ? b(m) : -Infinity) })));
  });

  it("shows Gnocchi's refusals", async () => {
    const missing = randomUUID();
    await expect(gnocchi(['aggregates', `(metric ${missing} mean)`])).rejects.toThrow(/'cause': 'Unknown metrics'.*\(HTTP 404\)/);
    await expect(gnocchi(['aggregates', '(metroc foo'])).rejects.toThrow(/'cause': 'Invalid operations'.*Expected '\)', found end of text.*\(HTTP 400\)/);
    await expect(gnocchi(['measures', 'aggregation', '-m', missing, '--aggregation', 'mean'])).rejects.toThrow(new RegExp(`Metric ${missing} does not exist`));
  });
});
