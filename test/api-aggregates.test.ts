import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_ARCHIVE_POLICIES, insertMeasureRows, type MeasureRowInput } from '../storage/index.ts';
import { startApiTenants, type ApiTenants, type Caller } from './support/api-tenants.ts';

/**
 * Gnocchi's /v1/aggregates and /v1/aggregation/... against the embedded platform, over
 * measures written straight into the archive. Every expected value is computed here from
 * the raw points, independently of the API's code.
 */

type Row = [string, number, number | null];
type Raw = Array<[number, number]>;

const policy = (name: string) => BUILTIN_ARCHIVE_POLICIES.find((p) => p.name === name)!;
const MEDIUM = policy('medium'); // 60 s for 7 days, 3600 s for a year; mean min max sum std count
const LOW = policy('low'); // 300 s for 30 days
const BOOL = policy('bool'); // 1 s, last only

// Two whole hours ago, so every bucket is inside its retention.
const T0 = Math.floor(Date.now() / 3_600_000) * 3600 - 2 * 3600;
const minute = (m: number, s = 5) => T0 + m * 60 + s;
const iso = (t: number) => new Date(t * 1000).toISOString().replace('.000Z', '+00:00');

/** Per bucket of `g` seconds, the mean of the raw points in it (what the archive keeps as `mean`). */
function bucketMeans(points: Raw, g: number): Map<number, number> {
  const groups = new Map<number, number[]>();
  for (const [t, v] of points) {
    const b = Math.floor(t / g) * g;
    groups.set(b, [...(groups.get(b) ?? []), v]);
  }
  return new Map([...groups].sort((a, b) => a[0] - b[0]).map(([b, vs]) => [b, vs.reduce((x, y) => x + y, 0) / vs.length]));
}
const bucketMax = (points: Raw, g: number) => {
  const out = new Map<number, number>();
  for (const [t, v] of points) out.set(Math.floor(t / g) * g, Math.max(out.get(Math.floor(t / g) * g) ?? -Infinity, v));
  return new Map([...out].sort((a, b) => a[0] - b[0]));
};

function expectRows(actual: unknown, wanted: Array<[number, number, number | null]>, label = ''): void {
  const rows = actual as Row[];
  expect(rows.map(([t, g]) => [t, g]), `${label} times`).toEqual(wanted.map(([t, g]) => [iso(t), g]));
  wanted.forEach(([, , w], i) => {
    const got = (rows[i] as Row)[2];
    if (w === null) expect(got, `${label} #${i}`).toBeNull();
    else expect(Math.abs((got as number) - w), `${label} #${i}: got ${got}, want ${w}`).toBeLessThan(1e-9 * Math.max(1, Math.abs(w)));
  });
}

// Alpha's metrics A and B (medium): A has minutes 0..5 (two points in minute 3), B minutes 2..7.
const A_POINTS: Raw = [[minute(0), 1], [minute(1), 5], [minute(2), 3], [minute(3, 5), 4], [minute(3, 40), 8], [minute(4), -2], [minute(5), 10]];
const B_POINTS: Raw = [[minute(2), 20], [minute(3), 22], [minute(4), 18], [minute(5), 30], [minute(6), 26], [minute(7), 24]];

interface Fixture {
  A: string;
  B: string;
  /** Alpha's, on the `low` policy (no granularity in common with medium). */
  L: string;
  /** Alpha's, on `bool` (keeps `last` only). */
  K: string;
  /** Beta's, medium. */
  X: string;
  /** Resources: r1, r2 (alpha, users u1/u2), r3 (beta), r4 (admin's project, its cpu on `low`). */
  r1: string;
  r2: string;
  r3: string;
  r4: string;
  cpu: Record<'r1' | 'r2' | 'r3' | 'r4', Raw>;
  cpuIds: Record<'r1' | 'r2' | 'r3' | 'r4', string>;
}

describe('the Gnocchi aggregates API', { timeout: 120_000 }, () => {
  let tenants: ApiTenants;
  let admin: Caller;
  let alpha: Caller;
  let beta: Caller;
  const f = {} as Fixture;

  const post = async (who: Caller, path: string, body: unknown) => {
    const res = await who.request('POST', `/metric/v1${path}`, body);
    return { status: res.status, body: (await res.json()) as any };
  };
  const get = async (who: Caller, path: string) => {
    const res = await who.request('GET', `/metric/v1${path}`);
    return { status: res.status, body: (await res.json()) as any };
  };
  const aggregates = (who: Caller, body: unknown, query = '') => post(who, `/aggregates${query ? `?${query}` : ''}`, body);

  beforeAll(async () => {
    tenants = await startApiTenants();
    ({ admin, alpha, beta } = tenants);
    const store = tenants.platform.store;
    const now = new Date().toISOString();
    const metric = (id: string, name: string, projectId: string, policyName: string, resourceId = '') => ({ id, name, resource_id: resourceId, project_id: projectId, user_id: 'u1', unit: '', archive_policy_name: policyName, created_at: now, deleted: 0 });
    const measures = (id: string, points: Raw, p = MEDIUM): MeasureRowInput[] =>
      points.map(([t, value]) => ({ metricId: id, tsMicros: Math.round(t * 1_000_000), value, sampleId: randomUUID(), policy: p }));
    Object.assign(f, { A: randomUUID(), B: randomUUID(), L: randomUUID(), K: randomUUID(), X: randomUUID(), r1: randomUUID(), r2: randomUUID(), r3: randomUUID(), r4: randomUUID() });
    f.cpu = {
      r1: [[minute(0), 10], [minute(1), 20], [minute(2), 30]],
      r2: [[minute(0), 40], [minute(1), 50], [minute(2, 10), 60], [minute(2, 50), 70]],
      r3: [[minute(0), 100], [minute(1), 200], [minute(2), 300]],
      r4: [[minute(0), 7]],
    };
    f.cpuIds = { r1: randomUUID(), r2: randomUUID(), r3: randomUUID(), r4: randomUUID() };
    const resource = (id: string, projectId: string, userId: string, type = 'generic', attributes: Record<string, unknown> = {}) => ({ id, type, project_id: projectId, user_id: userId, started_at: now, ended_at: null, revision_start: now, attributes: JSON.stringify(attributes), type_generation: 0 });
    await store.insert('resources', [resource(f.r1, alpha.projectId, 'u1'), resource(f.r2, alpha.projectId, 'u2'), resource(f.r3, beta.projectId, 'u1'), resource(f.r4, admin.projectId, 'u1')]);
    await store.insert('metrics', [
      metric(f.A, 'a', alpha.projectId, 'medium'),
      metric(f.B, 'b', alpha.projectId, 'medium'),
      metric(f.L, 'l', alpha.projectId, 'low'),
      metric(f.K, 'k', alpha.projectId, 'bool'),
      metric(f.X, 'x', beta.projectId, 'medium'),
      metric(f.cpuIds.r1, 'cpu', alpha.projectId, 'medium', f.r1),
      metric(randomUUID(), 'cpu.idle', alpha.projectId, 'medium', f.r1),
      metric(f.cpuIds.r2, 'cpu', alpha.projectId, 'medium', f.r2),
      metric(f.cpuIds.r3, 'cpu', beta.projectId, 'medium', f.r3),
      metric(f.cpuIds.r4, 'cpu', admin.projectId, 'low', f.r4),
    ]);
    await insertMeasureRows(store, [
      ...measures(f.A, A_POINTS),
      ...measures(f.B, B_POINTS),
      ...measures(f.L, [[minute(1), 1]], LOW),
      ...measures(f.K, [[minute(1), 1]], BOOL),
      ...measures(f.X, [[minute(1), 99]]),
      ...measures(f.cpuIds.r1, f.cpu.r1),
      ...measures(f.cpuIds.r2, f.cpu.r2),
      ...measures(f.cpuIds.r3, f.cpu.r3),
      ...measures(f.cpuIds.r4, f.cpu.r4, LOW),
    ], { dedupToken: randomUUID() });
  }, 90_000);
  afterAll(async () => tenants?.stop());

  // Expected series, from the raw points.
  const a60 = () => bucketMeans(A_POINTS, 60);
  const b60 = () => bucketMeans(B_POINTS, 60);
  const hourMean = (points: Raw) => points.reduce((s, [, v]) => s + v, 0) / points.length;

  describe('by metric ids', () => {
    it('aggregates the mean of two metrics per bucket, coarsest granularity first (fill dropna by default)', async () => {
      const { status, body } = await aggregates(alpha, { operations: `(aggregate mean (metric (${f.A} mean) (${f.B} mean)))` });
      expect(status).toBe(200);
      const minutes = [...new Set([...a60().keys(), ...b60().keys()])].sort((x, y) => x - y);
      const mean = (...xs: Array<number | undefined>) => {
        const present = xs.filter((x): x is number => x !== undefined);
        return present.reduce((s, x) => s + x, 0) / present.length;
      };
      expectRows(body.measures.aggregated, [[T0, 3600, (hourMean(A_POINTS) + hourMean(B_POINTS)) / 2], ...minutes.map((t) => [t, 60, mean(a60().get(t), b60().get(t))] as [number, number, number])]);
      // The same through the TypeScript evaluator (the tree is no longer the ClickHouse shape).
      const slow = await aggregates(alpha, { operations: `(aggregate mean (+ (metric (${f.A} mean) (${f.B} mean)) 0))` });
      expect(slow.body).toEqual(body);
    });

    it('sums across metrics over the overlapping minutes with needed_overlap, and fills missing values with fill', async () => {
      const overlap = [2, 3, 4, 5].map((m) => T0 + m * 60);
      const { body } = await aggregates(alpha, { operations: ['aggregate', 'sum', ['metric', [f.A, 'mean'], [f.B, 'mean']]] }, 'granularity=60&needed_overlap=100');
      expectRows(body.measures.aggregated, overlap.map((t) => [t, 60, a60().get(t)! + b60().get(t)!]));
      const filled = await aggregates(alpha, { operations: `(aggregate sum (metric (${f.A} mean) (${f.B} mean)))` }, 'granularity=60&fill=0');
      expectRows(filled.body.measures.aggregated, [0, 1, 2, 3, 4, 5, 6, 7].map((m) => T0 + m * 60).map((t) => [t, 60, (a60().get(t) ?? 0) + (b60().get(t) ?? 0)]));
      const ffill = await aggregates(alpha, { operations: `(metric (${f.A} mean))` }, 'granularity=60&fill=ffill');
      expect(ffill.body.measures[f.A].mean.map((r: Row) => r[2])).toEqual([...a60().values()]);
      // Without a start, the rule keeps the overlapping span; with one, 4 of minutes 0..5 overlap (no stop: the span ends at the last overlap).
      const refused = await aggregates(alpha, { operations: `(aggregate sum (metric (${f.A} mean) (${f.B} mean)))` }, `granularity=60&needed_overlap=100&start=${T0}`);
      expect(refused.status).toBe(400);
      expect(refused.body.description).toMatchObject({ cause: "Metrics can't being aggregated", reason: 'Less than 100.000000% of datapoints overlap in this timespan (66.67%)' });
      const enough = await aggregates(alpha, { operations: `(aggregate sum (metric (${f.A} mean) (${f.B} mean)))` }, `granularity=60&needed_overlap=50&start=${T0}`);
      expectRows(enough.body.measures.aggregated, [0, 1, 2, 3, 4, 5].map((m) => T0 + m * 60).map((t) => [t, 60, a60().get(t)! + (b60().get(t) ?? 0)]));
    });

    it('answers each series under its id and aggregation, with the metrics as references when details=true', async () => {
      const { status, body } = await aggregates(alpha, { operations: `(metric (${f.A} mean) (${f.B.toUpperCase()} max))` }, 'details=true&granularity=60&fill=null');
      expect(status).toBe(200);
      const minutes = [0, 1, 2, 3, 4, 5, 6, 7].map((m) => T0 + m * 60);
      expectRows(body.measures[f.A].mean, minutes.map((t) => [t, 60, a60().get(t) ?? null]));
      expectRows(body.measures[f.B].max, minutes.map((t) => [t, 60, bucketMax(B_POINTS, 60).get(t) ?? null]));
      expect(body.references.map((r: { id: string }) => r.id).sort()).toEqual([f.A, f.B].sort());
      expect(body.references[0].archive_policy.name).toBe('medium');
    });

    it('computes arithmetic, resample and rolling', async () => {
      const diff = await aggregates(alpha, { operations: `(- (metric ${f.A} mean) (metric ${f.B} mean))` }, 'granularity=60');
      expectRows(diff.body.measures.aggregated, [2, 3, 4, 5].map((m) => T0 + m * 60).map((t) => [t, 60, a60().get(t)! - b60().get(t)!]));
      const scaled = await aggregates(alpha, { operations: `(* (abs (metric ${f.A} mean)) 2)` }, 'granularity=60');
      expectRows(scaled.body.measures[f.A].mean, [...a60()].map(([t, v]) => [t, 60, Math.abs(v) * 2]));
      const resampled = await aggregates(alpha, { operations: `(resample sum 180 (metric ${f.A} mean))` }, 'granularity=60');
      const threes = new Map<number, number>();
      for (const [t, v] of a60()) threes.set(Math.floor(t / 180) * 180, (threes.get(Math.floor(t / 180) * 180) ?? 0) + v);
      expectRows(resampled.body.measures[f.A].mean, [...threes].map(([t, v]) => [t, 180, v]));
      const rolling = await aggregates(alpha, { operations: `(rolling mean 2 (metric ${f.A} mean))` }, 'granularity=60');
      const values = [...a60()];
      expectRows(rolling.body.measures[f.A].mean, values.slice(1).map(([t, v], i) => [t, 60, (v + values[i]![1]) / 2]));
      const rate = await aggregates(alpha, { operations: `(aggregate rate:max (metric (${f.A} mean) (${f.B} mean)))` }, 'granularity=60&fill=0');
      const maxes = [0, 1, 2, 3, 4, 5, 6, 7].map((m) => T0 + m * 60).map((t) => [t, Math.max(a60().get(t) ?? 0, b60().get(t) ?? 0)] as const);
      expectRows(rate.body.measures.aggregated, maxes.slice(1).map(([t, v], i) => [t, 60, v - maxes[i]![1]]));
    });

    it('refuses bad operations, metrics and parameters in Gnocchi words', async () => {
      const bad = async (body: unknown, query: string, status: number) => {
        const res = await aggregates(alpha, body, query);
        expect(res.status, JSON.stringify(res.body)).toBe(status);
        expect(res.body.code).toBe(status);
        return res.body.description;
      };
      expect(await bad({ operations: '(metroc foo bar' }, '', 400)).toMatchObject({ cause: 'Invalid operations', reason: 'Fail to parse the operations string' });
      expect(await bad({ operations: [] }, '', 400)).toMatchObject({ cause: 'Invalid input', detail: ['operations'] });
      expect(await bad({ operations: `(rolling blah 2 (metric ${f.A} mean))` }, '', 400)).toMatchObject({ reason: expect.stringMatching(/^'rolling' operation invalid/) });
      expect(await bad({ operations: '(aggregate mean (+ 1 2))' }, '', 400)).toMatchObject({ cause: 'Operations is invalid', reason: "At least one 'metric' is required" });
      expect(await bad({ operations: '(metric not-a-uuid mean)' }, '', 400)).toMatchObject({ cause: 'Invalid metric references' });
      const missing = randomUUID();
      expect(await bad({ operations: `(metric (${f.A} mean) (${missing} mean))` }, '', 404)).toEqual({ cause: 'Unknown metrics', reason: "Provided metrics don't exists", detail: [missing] });
      expect(await bad({ operations: `(metric (${f.A} mean) (${f.L} mean))` }, '', 400)).toMatchObject({ cause: "Metrics can't being aggregated", reason: 'No granularity match', detail: [[f.A, 'mean'], [f.L, 'mean']] });
      expect(await bad({ operations: `(metric ${f.A} mean)` }, 'granularity=123', 400)).toMatchObject({ reason: 'Granularities are missing', detail: [[f.A, 'mean', 123]] });
      expect(await bad({ operations: `(metric (${f.K} mean))` }, '', 404)).toEqual({ cause: 'Metrics with unknown aggregation', detail: [[f.K, 'mean']] });
      expect(await bad({ operations: `(metric ${f.A} mean)` }, 'start=notadate', 400)).toEqual({ cause: 'Argument value error', detail: 'start', reason: 'Must be a datetime or a timestamp' });
      expect(await bad({ operations: `(metric ${f.A} mean)` }, 'needed_overlap=lots', 400)).toMatchObject({ detail: 'needed_overlap', reason: 'Must be a number' });
      expect(await bad({ operations: `(metric ${f.A} mean)` }, 'granularity=foobar', 400)).toMatchObject({ detail: 'granularity', reason: 'Unable to parse timespan' });
      expect(await bad({ operations: `(metric ${f.A} mean)` }, 'fill=foobar', 400)).toMatchObject({ detail: 'fill', reason: expect.stringMatching(/^Must be a float, 'dropna', 'null'/) });
      expect(await bad({ operations: `(metric ${f.A} mean)` }, 'details=maybe', 400)).toMatch(/details/);
      expect(await bad({ operations: `(rolling mean 30 (metric ${f.A} mean))` }, 'granularity=60', 400)).toMatchObject({ reason: "Rolling window '30' is greater than serie length '6'" });
      expect(await bad({ operations: `(metric ${f.A} mean)`, extra: 1 }, '', 400)).toMatch(/extra/);
      expect(await bad({ search: {} }, '', 400)).toMatch(/operations/);
      expect(await bad({ operations: { foo: 'bar' } }, '', 400)).toMatch(/operations/);
    });
  });

  describe('access', () => {
    it("answers another project's metric exactly like a missing one, and lets the admin read every project's", async () => {
      const missing = randomUUID();
      const hidden = await aggregates(alpha, { operations: `(metric ${f.X} mean)` });
      const absent = await aggregates(alpha, { operations: `(metric ${missing} mean)` });
      expect(hidden.status).toBe(404);
      expect(absent.status).toBe(404);
      expect(JSON.stringify(hidden.body).replaceAll(f.X, 'ID')).toBe(JSON.stringify(absent.body).replaceAll(missing, 'ID'));
      expect((await aggregates(beta, { operations: `(metric ${f.A} mean)` })).status).toBe(404);
      const own = await aggregates(beta, { operations: `(metric ${f.X} mean)` }, 'granularity=60');
      expectRows(own.body.measures[f.X].mean, [[T0 + 60, 60, 99]]);
      const both = await aggregates(admin, { operations: `(aggregate sum (metric (${f.A} mean) (${f.X} mean)))` }, 'granularity=60&fill=0');
      expect(both.status).toBe(200);
      expect(both.body.measures.aggregated.find((r: Row) => r[0] === iso(T0 + 60))[2]).toBe(a60().get(T0 + 60)! + 99);
      // The old routes too.
      expect((await get(alpha, `/aggregation/metric?metric=${f.X}`)).status).toBe(404);
      expect((await get(alpha, `/aggregation/metric?metric=${f.X}`)).body.description).toBe(`Metric ${f.X} does not exist`);
    });

    it("searches only the caller's resources", async () => {
      const mine = await aggregates(alpha, { resource_type: 'generic', search: {}, operations: '(metric cpu mean)' }, 'granularity=60');
      expect(Object.keys(mine.body.measures).sort()).toEqual([f.r1, f.r2].sort());
      const theirs = await aggregates(beta, { resource_type: 'generic', search: {}, operations: '(metric cpu mean)' }, 'granularity=60');
      expect(Object.keys(theirs.body.measures)).toEqual([f.r3]);
      const all = await aggregates(admin, { resource_type: 'generic', search: { '!=': { project_id: admin.projectId } }, operations: '(metric cpu mean)' }, 'granularity=60');
      expect(Object.keys(all.body.measures).sort()).toEqual([f.r1, f.r2, f.r3].sort());
    });
  });

  describe('by resources', () => {
    const cpu60 = (r: 'r1' | 'r2' | 'r3') => bucketMeans(f.cpu[r], 60);

    it('aggregates a metric of every resource the search finds, with the resources as references', async () => {
      const { status, body } = await aggregates(alpha, { resource_type: 'generic', search: `project_id = '${alpha.projectId}'`, operations: '(aggregate mean (metric cpu mean))' }, 'details=true');
      expect(status).toBe(200);
      const hour = (hourMean(f.cpu.r1) + hourMean(f.cpu.r2)) / 2;
      expectRows(body.measures.aggregated, [[T0, 3600, hour], ...[0, 1, 2].map((m) => T0 + m * 60).map((t) => [t, 60, (cpu60('r1').get(t)! + cpu60('r2').get(t)!) / 2] as [number, number, number])]);
      expect(body.references.map((r: { id: string }) => r.id).sort()).toEqual([f.r1, f.r2].sort());
      expect(body.references[0].metrics).toHaveProperty('cpu');
    });

    it('answers per resource and metric name, matching name patterns', async () => {
      const { body } = await aggregates(alpha, { resource_type: 'generic', search: { '=': { user_id: 'u1' } }, operations: '(metric (cpu* mean))' }, 'granularity=60');
      expect(Object.keys(body.measures)).toEqual([f.r1]);
      expect(Object.keys(body.measures[f.r1]).sort()).toEqual(['cpu', 'cpu.idle']);
      expectRows(body.measures[f.r1].cpu.mean, [...cpu60('r1')].map(([t, v]) => [t, 60, v]));
      expect(body.measures[f.r1]['cpu.idle'].mean).toEqual([]);
    });

    it('groups by resource fields', async () => {
      const { status, body } = await aggregates(admin, { resource_type: 'generic', search: { in: { project_id: [alpha.projectId, beta.projectId] } }, operations: '(aggregate sum (metric cpu mean))' }, 'groupby=project_id&groupby=user_id&granularity=60');
      expect(status).toBe(200);
      const groups = [
        { project_id: alpha.projectId, user_id: 'u1', rs: ['r1'] as const },
        { project_id: alpha.projectId, user_id: 'u2', rs: ['r2'] as const },
        { project_id: beta.projectId, user_id: 'u1', rs: ['r3'] as const },
      ].sort((x, y) => (x.project_id + x.user_id < y.project_id + y.user_id ? -1 : 1));
      expect(body.map((g: { group: unknown }) => g.group)).toEqual(groups.map(({ project_id, user_id }) => ({ project_id, user_id })));
      groups.forEach((g, i) => expectRows(body[i].measures.measures.aggregated, [...cpu60(g.rs[0])].map(([t, v]) => [t, 60, v]), `group ${i}`));
      const byProject = await aggregates(admin, { resource_type: 'generic', search: { in: { project_id: [alpha.projectId, beta.projectId] } }, operations: '(aggregate sum (metric cpu mean))' }, 'groupby=project_id&granularity=60');
      const alphaGroup = byProject.body.find((g: { group: { project_id: string } }) => g.group.project_id === alpha.projectId);
      expectRows(alphaGroup.measures.measures.aggregated, [0, 1, 2].map((m) => T0 + m * 60).map((t) => [t, 60, cpu60('r1').get(t)! + cpu60('r2').get(t)!]));
    });

    it('refuses unknown names, groupby fields, types and mismatched policies', async () => {
      const none = await aggregates(alpha, { resource_type: 'generic', search: {}, operations: '(aggregate mean (metric (notexists mean) (foobar mean)))' });
      expect(none.status).toBe(400);
      expect(none.body.description).toEqual({ cause: 'Metrics not found', detail: ['foobar', 'notexists'] });
      const groupby = await aggregates(alpha, { resource_type: 'generic', search: {}, operations: '(metric cpu mean)' }, 'groupby=unit');
      expect(groupby.status).toBe(400);
      expect(groupby.body.description).toMatch(/^Invalid pagination: `Sort key supplied is invalid: unit'/);
      const type = await aggregates(alpha, { resource_type: 'nope', search: {}, operations: '(metric cpu mean)' });
      expect(type.status).toBe(400);
      expect(type.body.description).toMatch(/Resource type nope does not exist/);
      // The admin's own r4 keeps cpu under `low`: no granularity in common with the others.
      const mismatch = await aggregates(admin, { resource_type: 'generic', search: {}, operations: '(aggregate mean (metric cpu mean))' });
      expect(mismatch.status).toBe(400);
      expect(mismatch.body.description).toMatchObject({ cause: "Metrics can't being aggregated", reason: 'No granularity match' });
      expect(mismatch.body.description.detail).toHaveLength(4);
    });

    it('treats quotes, backslashes and SQL in searches, names and groupby as data', async () => {
      const attempts: unknown[] = [
        `user_id = 'u1'' OR ''1''=''1'`,
        `user_id = "u1\\" OR 1=1 --"`,
        { '=': { user_id: "u1' OR '1'='1" } },
        { like: { user_id: "%' UNION SELECT * FROM metrics --" } },
        { '=': { project_id: `${alpha.projectId}\\` } },
      ];
      for (const search of attempts) {
        // Either a value that matches no resource, or a filter that does not parse: a 400 either way, never SQL.
        const res = await aggregates(alpha, { resource_type: 'generic', search, operations: '(metric cpu mean)' });
        expect(res.status, JSON.stringify(search)).toBe(400);
        const description = res.body.description;
        if (typeof description === 'string') expect(description, JSON.stringify(search)).toMatch(/^Invalid filter/);
        else expect(description, JSON.stringify(search)).toMatchObject({ cause: 'Metrics not found' });
      }
      const names = await aggregates(alpha, { resource_type: 'generic', search: {}, operations: ['metric', ["cpu' OR 1=1 --", 'mean']] });
      expect(names.body.description).toMatchObject({ cause: 'Metrics not found', detail: ["cpu' OR 1=1 --"] });
      const unknownField = await aggregates(alpha, { resource_type: 'generic', search: { '=': { "user_id') OR 1=1 --": 'x' } }, operations: '(metric cpu mean)' });
      expect(unknownField.status).toBe(400);
      const groupby = await aggregates(alpha, { resource_type: 'generic', search: {}, operations: '(metric cpu mean)' }, `groupby=${encodeURIComponent('project_id; DROP TABLE resources')}`);
      expect(groupby.status).toBe(400);
      const ids = await aggregates(alpha, { operations: ['metric', [`${f.A}' OR '1'='1`, 'mean']] });
      expect(ids.body.description).toMatchObject({ cause: 'Invalid metric references' });
      const fill = await aggregates(alpha, { operations: `(metric ${f.A} mean)` }, `fill=${encodeURIComponent("0' OR 1=1")}`);
      expect(fill.status).toBe(400);
      // Still all there.
      const after = await aggregates(admin, { resource_type: 'generic', search: { '!=': { project_id: admin.projectId } }, operations: '(metric cpu mean)' });
      expect(Object.keys(after.body.measures)).toHaveLength(3);
    });
  });

  describe('the /v1/aggregation routes (gnocchi measures aggregation)', () => {
    it('reaggregates several metrics over their overlap, and answers one metric with its own measures', async () => {
      const both = await get(alpha, `/aggregation/metric?metric=${f.A}&metric=${f.B}&aggregation=mean&refresh=False`);
      expect(both.status).toBe(200);
      const overlap = [2, 3, 4, 5].map((m) => T0 + m * 60);
      expectRows(both.body, [[T0, 3600, (hourMean(A_POINTS) + hourMean(B_POINTS)) / 2], ...overlap.map((t) => [t, 60, (a60().get(t)! + b60().get(t)!) / 2] as [number, number, number])]);
      const min = await get(alpha, `/aggregation/metric?metric=${f.A}&metric=${f.B}&reaggregation=min&granularity=60`);
      expectRows(min.body, overlap.map((t) => [t, 60, Math.min(a60().get(t)!, b60().get(t)!)]));
      const posted = await post(alpha, '/aggregation/metric?granularity=60&reaggregation=max', [f.A, f.B]);
      expectRows(posted.body, overlap.map((t) => [t, 60, Math.max(a60().get(t)!, b60().get(t)!)]));
      const one = await get(alpha, `/aggregation/metric?metric=${f.A}&granularity=60`);
      expectRows(one.body, [...a60()].map(([t, v]) => [t, 60, v]));
      const resampled = await get(alpha, `/aggregation/metric?metric=${f.A}&metric=${f.B}&granularity=60&resample=120&fill=0`);
      const pairs = new Map<number, number[]>();
      for (const m of [0, 1, 2, 3, 4, 5, 6, 7]) {
        const t = T0 + m * 60;
        const b = Math.floor(t / 120) * 120;
        pairs.set(b, [...(pairs.get(b) ?? []), ((a60().get(t) ?? Number.NaN) + (b60().get(t) ?? Number.NaN)) / 2]);
      }
      // resample mean per metric, then the mean across them: with fill 0 every minute has both.
      const expected = new Map<number, number>();
      for (const m of [0, 1, 2, 3, 4, 5, 6, 7]) {
        const t = T0 + m * 60;
        const b = Math.floor(t / 120) * 120;
        expected.set(b, (expected.get(b) ?? 0) + ((a60().get(t) ?? 0) + (b60().get(t) ?? 0)) / 2 / 2);
      }
      expectRows(resampled.body, [...expected].map(([t, v]) => [t, 120, v]));
    });

    it('refuses what Gnocchi refuses', async () => {
      expect((await get(alpha, '/aggregation/metric?metric=foobar')).status).toBe(400);
      expect((await get(alpha, `/aggregation/metric?metric=${f.A}&metric=${f.B}&aggregation=wtf`)).body.description).toBe(`Aggregation method 'wtf' at granularity '60.0' for metric ${f.A} does not exist`);
      expect((await get(alpha, `/aggregation/metric?metric=${f.A}&granularity=42`)).status).toBe(404);
      const resample = await get(alpha, `/aggregation/metric?metric=${f.A}&resample=60`);
      expect(resample.status).toBe(400);
      expect(resample.body.description).toBe('A granularity must be specified to resample');
      expect((await get(alpha, `/aggregation/metric?metric=${f.A}&metric=${f.L}`)).body.description).toMatchObject({ reason: 'No granularity match' });
      expect((await get(alpha, '/aggregation/metric')).body).toEqual([]);
    });

    it('aggregates a metric of the resources a search finds, grouped or not', async () => {
      const cpu60 = (r: 'r1' | 'r2' | 'r3') => bucketMeans(f.cpu[r], 60);
      const plain = await post(alpha, '/aggregation/resource/generic/metric/cpu?granularity=60', { '=': { user_id: 'u1' } });
      expectRows(plain.body, [...cpu60('r1')].map(([t, v]) => [t, 60, v]));
      const filter = await post(admin, `/aggregation/resource/generic/metric/cpu?granularity=60&groupby=project_id&filter=${encodeURIComponent(`user_id = 'u1' and project_id != '${admin.projectId}'`)}`, undefined);
      expect(filter.status, JSON.stringify(filter.body)).toBe(200);
      expect(filter.body.map((g: { group: unknown }) => g.group).sort((x: any, y: any) => (x.project_id < y.project_id ? -1 : 1))).toEqual(
        [{ project_id: alpha.projectId }, { project_id: beta.projectId }].sort((x, y) => (x.project_id < y.project_id ? -1 : 1)),
      );
      const betaGroup = filter.body.find((g: { group: { project_id: string } }) => g.group.project_id === beta.projectId);
      expectRows(betaGroup.measures, [...cpu60('r3')].map(([t, v]) => [t, 60, v]));
      const reagg = await post(alpha, '/aggregation/resource/generic/metric/cpu?granularity=60&reaggregation=sum', {});
      expectRows(reagg.body, [0, 1, 2].map((m) => T0 + m * 60).map((t) => [t, 60, cpu60('r1').get(t)! + cpu60('r2').get(t)!]));
      expect((await post(alpha, '/aggregation/resource/generic/metric/notexists', {})).body).toEqual([]);
      expect((await post(alpha, '/aggregation/resource/notexists/metric/cpu', {})).status).toBe(404);
      expect((await get(alpha, '/aggregation/resource/generic/metric/cpu')).status).toBe(405);
      const groupby = await post(alpha, '/aggregation/resource/generic/metric/cpu?groupby=thisisdumb', {});
      expect(groupby.status).toBe(400);
      expect(groupby.body.description).toMatch(/Invalid groupby attribute/);
    });
  });

  it('documents every route in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${tenants.url}/docs/json`)).json()) as { paths: Record<string, Record<string, { tags?: string[]; security?: unknown }>> };
    for (const path of ['/metric/v1/aggregates', '/metric/v1/aggregation/metric', '/metric/v1/aggregation/resource/{type}/metric/{name}']) {
      expect(doc.paths[path], path).toBeDefined();
      for (const op of Object.values(doc.paths[path]!)) expect(op.tags).toEqual(['metric']);
    }
  });
});
