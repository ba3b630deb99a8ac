import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from './support/api-tenants.ts';
import { startApiTenants, type ApiTenants } from './support/api-tenants.ts';

/**
 * Gnocchi v1's archive policies, rules, metrics, measures, batch, status and capabilities
 * against the embedded platform: status codes and bodies as Gnocchi's functional tests
 * (gabbits) expect them, measures read back against values computed here, and RBAC with
 * the cloud admin and two members of two projects.
 */

type Json = Record<string, unknown> & Array<unknown>;
type Point = [string, number, number | null];

const body = async <T = Json>(res: Response): Promise<T> => (await res.json()) as T;
const SUFFIX = Date.now().toString(36);
const named = (base: string) => `${base}-${SUFFIX}`;

// ---------------------------------------------------------------------------------------
// Independent reference computations (numpy / carbonara semantics).

function bucketsOf(measures: ReadonlyArray<readonly [number, number]>, granularity: number): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const [t, v] of [...measures].sort((a, b) => a[0] - b[0])) {
    const b = Math.floor(t / granularity) * granularity;
    out.set(b, [...(out.get(b) ?? []), v]);
  }
  return out;
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return lo === hi ? (s[lo] as number) : (s[lo] as number) * (hi - pos) + (s[hi] as number) * (pos - lo);
}
const std = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', '+00:00');

function expectPoints(actual: Point[], expected: Array<[number, number, number]>) {
  expect(actual.map((p) => [p[0], p[1]])).toEqual(expected.map(([t, g]) => [iso(t), g]));
  actual.forEach((p, i) => expect(p[2]).toBeCloseTo((expected[i] as [number, number, number])[2], 9));
}

describe('Gnocchi v1 core: archive policies, rules, metrics, measures, batch, status', () => {
  let t: ApiTenants;
  let admin: Caller;
  let alpha: Caller;
  let beta: Caller;
  const v1 = (path: string) => `/metric/v1${path}`;

  beforeAll(async () => {
    t = await startApiTenants();
    ({ admin, alpha, beta } = t);
  }, 90_000);
  afterAll(async () => t?.stop());

  // -------------------------------------------------------------------------------------
  describe('archive policies', () => {
    const name = named('cookies');

    it('lists the built-ins to anyone authenticated and refuses writes to members', async () => {
      const list = await body<Array<{ name: string }>>(await alpha.get(v1('/archive_policy')));
      expect(list.map((p) => p.name)).toEqual(expect.arrayContaining(['low', 'medium', 'high', 'bool', 'ceilometer-low']));
      const low = await body(await beta.get(v1('/archive_policy/low')));
      expect(low).toMatchObject({ name: 'low', back_window: 0, definition: [{ granularity: '0:05:00', points: 8640, timespan: '30 days, 0:00:00' }] });
      const refused = await alpha.post(v1('/archive_policy'), { name, definition: [{ granularity: '1 second', points: 20 }] });
      expect(refused.status).toBe(403);
      expect(((await body(refused)) as { description: string }).description).toMatch(/Access was denied/);
    });

    it('creates one (201, Location, timedelta texts) and refuses a duplicate with 409', async () => {
      const res = await admin.post(v1('/archive_policy'), { name, back_window: 1, definition: [{ granularity: '1 second', points: 20 }, { granularity: 2, timespan: '1 minute' }] });
      expect(res.status).toBe(201);
      expect(res.headers.get('location')).toBe(`${t.url}/metric/v1/archive_policy/${name}`);
      expect(await body(res)).toEqual({
        name,
        back_window: 1,
        aggregation_methods: ['mean', 'min', 'max', 'sum', 'std', 'count'],
        definition: [
          { granularity: '0:00:01', points: 20, timespan: '0:00:20' },
          { granularity: '0:00:02', points: 30, timespan: '0:01:00' },
        ],
      });
      const again = await admin.post(v1('/archive_policy'), { name, definition: [{ granularity: '1 hour', points: 2 }] });
      expect(again.status).toBe(409);
      expect((await body(again)).description).toBe(`Archive policy ${name} already exists`);
      const unicode = await admin.post(v1('/archive_policy'), { name: `✔éñ☃-${SUFFIX}`, definition: [{ granularity: '1 minute', points: 20 }] });
      expect(unicode.status).toBe(201);
      expect(unicode.headers.get('location')).toBe(`${t.url}/metric/v1/archive_policy/${encodeURIComponent(`✔éñ☃-${SUFFIX}`)}`);
      expect((await admin.del(v1(`/archive_policy/${encodeURIComponent(`✔éñ☃-${SUFFIX}`)}`))).status).toBe(204);
    });

    it('refuses bad bodies with a 400 that names the field', async () => {
      const cases: Array<[unknown, RegExp]> = [
        [{ name: 'x', definition: [{ granularity: 1, points: 1 }], cowsay: 'moo' }, /cowsay/],
        [{ name: 'x' }, /definition/],
        [{ name: 'x', definition: [] }, /definition/],
        [{ name: 'x', definition: 'foobar' }, /definition/],
        [{ name: 'x', definition: [{ cowsay: 'moo' }] }, /definition\[0\]\.cowsay/],
        [{ name: 'x', definition: [{ granularity: 0, points: 60 }] }, /granularity/],
        [{ name: 'x', definition: [{ granularity: 10, points: 0 }] }, /points/],
        [{ name: 'x', definition: [{ granularity: '1 second', points: 60, timespan: '0:01:01' }] }, /timespan/],
        [{ name: 'x', definition: [{ granularity: '1 second', points: 60 }, { granularity: '1 second', points: 120 }] }, /granularity/],
        [{ name: 'x', aggregation_methods: ['wtf'], definition: [{ granularity: 1, points: 60 }] }, /aggregation_methods\[0\]/],
        [{ name: 'x', definition: [{ granularity: '2 hour', timespan: '1 hour' }] }, /timespan/],
      ];
      for (const [payload, field] of cases) {
        const res = await admin.post(v1('/archive_policy'), payload);
        expect(res.status, JSON.stringify(payload)).toBe(400);
        expect(JSON.stringify(await body(res)), JSON.stringify(payload)).toMatch(field);
      }
    });

    it('patches only the definition with the same granularities', async () => {
      const path = v1(`/archive_policy/${name}`);
      const missing = await admin.request('PATCH', path, { definition: [{ granularity: '1 second', points: 50 }] });
      expect(missing.status).toBe(400);
      expect((await body(missing)).description).toMatch(/does not support change: Cannot add or drop granularities/);
      const moved = await admin.request('PATCH', path, { definition: [{ granularity: '5 second', points: 20 }, { granularity: 2, points: 30 }] });
      expect(moved.status).toBe(400);
      expect((await body(moved)).description).toMatch(/granularity interval was changed/);
      expect((await alpha.request('PATCH', path, { definition: [{ granularity: 1, points: 50 }, { granularity: 2, points: 30 }] })).status).toBe(403);
      expect((await admin.request('PATCH', v1('/archive_policy/nope-nope'), { definition: [{ granularity: 1, points: 5 }] })).status).toBe(404);
      const ok = await admin.request('PATCH', path, { definition: [{ granularity: '1 second', points: 50 }, { granularity: 2, points: 30 }] });
      expect(ok.status).toBe(200);
      expect(((await body(ok)) as unknown as { definition: unknown[] }).definition[0]).toEqual({ granularity: '0:00:01', points: 50, timespan: '0:00:50' });
      expect(((await body(await alpha.get(path))) as unknown as { definition: Array<{ points: number }> }).definition[0]?.points).toBe(50);
    });

    it('deletes: 403 for members, 404 when missing, 400 while in use, 204 then gone', async () => {
      const gone = named('gone');
      expect((await admin.post(v1('/archive_policy'), { name: gone, definition: [{ granularity: '1 hour', points: 2 }] })).status).toBe(201);
      expect((await beta.del(v1(`/archive_policy/${gone}`))).status).toBe(403);
      const missing = await admin.del(v1('/archive_policy/grandiose'));
      expect(missing.status).toBe(404);
      expect((await body(missing)).description).toMatch(/Archive policy grandiose does not exist/);
      const metric = await alpha.post(v1('/metric'), { archive_policy_name: gone });
      expect(metric.status).toBe(201);
      const inUse = await admin.del(v1(`/archive_policy/${gone}`));
      expect(inUse.status).toBe(400);
      expect((await body(inUse)).description).toMatch(new RegExp(`Archive policy ${gone} is still in use`));
      // Once its metric is deleted, the policy can go.
      expect((await alpha.del(v1(`/metric/${(await body(metric)).id}`))).status).toBe(204);
      expect((await admin.del(v1(`/archive_policy/${gone}`))).status).toBe(204);
      expect((await admin.get(v1(`/archive_policy/${gone}`))).status).toBe(404);
    });
  });

  // -------------------------------------------------------------------------------------
  describe('archive policy rules', () => {
    const policy = named('rule-target');
    beforeAll(async () => {
      expect((await admin.post(v1('/archive_policy'), { name: policy, definition: [{ granularity: '1 hour', points: 24 }] })).status).toBe(201);
    });

    it('creates, lists in match order, shows, renames and deletes', async () => {
      for (const [rule, pattern] of [
        ['r1', `zz-${SUFFIX}.*`],
        ['r2', `zz-${SUFFIX}.foo.*`],
        ['r3', `zz-${SUFFIX}.foo.bar`],
      ] as const) {
        const res = await admin.post(v1('/archive_policy_rule'), { name: named(rule), metric_pattern: pattern, archive_policy_name: policy });
        expect(res.status).toBe(201);
        expect(await body(res)).toEqual({ name: named(rule), metric_pattern: pattern, archive_policy_name: policy });
      }
      const list = await body<Array<{ name: string }>>(await beta.get(v1('/archive_policy_rule')));
      const ours = list.filter((r) => r.name.endsWith(SUFFIX)).map((r) => r.name);
      expect(ours).toEqual([named('r3'), named('r2'), named('r1')]);
      expect((await alpha.get(v1(`/archive_policy_rule/${named('r2')}`))).status).toBe(200);
      expect((await alpha.get(v1('/archive_policy_rule/foo'))).status).toBe(404);
      // A metric named to match takes the most specific rule's policy.
      const metric = await body(await alpha.post(v1('/metric'), { name: `zz-${SUFFIX}.foo.x` }));
      expect(metric.archive_policy_name).toBe(policy);
      expect((await admin.del(v1(`/metric/${metric.id}`))).status).toBe(204);

      expect((await admin.request('PATCH', v1(`/archive_policy_rule/${named('r3')}`), {})).status).toBe(400);
      const renamed = await admin.request('PATCH', v1(`/archive_policy_rule/${named('r3')}`), { name: named('r3b') });
      expect(renamed.status).toBe(200);
      expect((await body(renamed)).name).toBe(named('r3b'));
      expect((await admin.get(v1(`/archive_policy_rule/${named('r3')}`))).status).toBe(404);
      const taken = await admin.request('PATCH', v1(`/archive_policy_rule/${named('r2')}`), { name: named('r3b') });
      expect(taken.status).toBe(400);
      expect((await body(taken)).description).toMatch(new RegExp(`Archive policy rule ${named('r3b')} already exists`));
      expect((await alpha.del(v1(`/archive_policy_rule/${named('r1')}`))).status).toBe(403);
      for (const rule of ['r1', 'r2', 'r3b']) expect((await admin.del(v1(`/archive_policy_rule/${named(rule)}`))).status).toBe(204);
      const again = await admin.del(v1(`/archive_policy_rule/${named('r1')}`));
      expect(again.status).toBe(404);
      expect((await body(again)).description).toMatch(/does not exist/);
    });

    it('answers Gnocchi\'s errors: unknown policy (400 with a cause), duplicate (409), members (403), bad bodies (400)', async () => {
      const unknown = await admin.post(v1('/archive_policy_rule'), { name: named('rx'), metric_pattern: 'disk.foo.*', archive_policy_name: 'not-exists' });
      expect(unknown.status).toBe(400);
      expect(await body(unknown)).toMatchObject({ code: 400, description: { cause: 'Archive policy does not exist', detail: 'not-exists' } });
      expect((await admin.post(v1('/archive_policy_rule'), { name: named('ry'), metric_pattern: 'a', archive_policy_name: policy })).status).toBe(201);
      expect((await admin.post(v1('/archive_policy_rule'), { name: named('ry'), metric_pattern: 'b', archive_policy_name: policy })).status).toBe(409);
      expect((await alpha.post(v1('/archive_policy_rule'), { name: named('rz'), metric_pattern: 'b', archive_policy_name: policy })).status).toBe(403);
      const extra = await admin.post(v1('/archive_policy_rule'), { whaa: 'foobar' });
      expect(extra.status).toBe(400);
      expect((await body(extra)).description).toMatch(/name|whaa/);
      const missing = await admin.post(v1('/archive_policy_rule'), { name: named('rw'), metric_pattern: 'disk.foo.*' });
      expect(missing.status).toBe(400);
      expect((await body(missing)).description).toMatch(/archive_policy_name/);
      expect((await admin.del(v1(`/archive_policy_rule/${named('ry')}`))).status).toBe(204);
    });
  });

  // -------------------------------------------------------------------------------------
  describe('metrics', () => {
    const policy = named('metrics-ap');
    let alphaMetric: Json;
    let betaMetric: Json;

    beforeAll(async () => {
      expect((await admin.post(v1('/archive_policy'), { name: policy, definition: [{ granularity: '1 minute', points: 60 }] })).status).toBe(201);
    });

    it('creates a metric owned by the caller (201, Gnocchi body, Location)', async () => {
      const res = await alpha.post(v1('/metric'), { name: named('disk.io.rate'), unit: 'B/s', archive_policy_name: policy });
      expect(res.status).toBe(201);
      alphaMetric = await body(res);
      expect(res.headers.get('location')).toBe(`${t.url}/metric/v1/metric/${alphaMetric.id}`);
      expect(alphaMetric).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: named('disk.io.rate'),
        unit: 'B/s',
        resource_id: null,
        archive_policy_name: policy,
        creator: `${alpha.userId}:${alpha.projectId}`,
        created_by_user_id: alpha.userId,
        created_by_project_id: alpha.projectId,
      });
      betaMetric = await body(await beta.post(v1('/metric'), { name: named('cpu'), unit: 'ns', archive_policy_name: policy }));
      expect(betaMetric.created_by_project_id).toBe(beta.projectId);
    });

    it('refuses bad metric bodies naming what is wrong', async () => {
      const cases: Array<[unknown, number, RegExp]> = [
        [{ name: 'disk/io/rate' }, 400, /'\/' is not supported in metric name/],
        [{ name: 'disk.io', unit: 'over_length_unit_over_length_unit' }, 400, /unit/],
        [{ archive_policy_name: 'bad-cookie' }, 400, /Archive policy bad-cookie does not exist/],
        [{ archive_policy_name: policy, colour: 'red' }, 400, /colour/],
        [{ name: 'x', resource_id: randomUUID(), archive_policy_name: policy }, 404, /Resource .* does not exist/],
        [{ resource_id: randomUUID(), archive_policy_name: policy }, 400, /Name cannot be null/],
      ];
      for (const [payload, status, message] of cases) {
        const res = await alpha.post(v1('/metric'), payload);
        expect(res.status, JSON.stringify(payload)).toBe(status);
        expect(JSON.stringify(await body(res)), JSON.stringify(payload)).toMatch(message);
      }
      const bad = await alpha.request('POST', v1('/metric'), '{"archive_policy_name": "x"}', { 'content-type': 'text/plain' });
      expect(bad.status).toBe(415);
    });

    it("shows a metric with its policy, resource and refusal counts; another project's is 404, admin sees both", async () => {
      const shown = await body(await alpha.get(v1(`/metric/${alphaMetric.id}`)));
      expect(shown).toMatchObject({ id: alphaMetric.id, name: named('disk.io.rate'), unit: 'B/s', resource: null, refused_measures: { back_window: 0, retention: 0, last_refused_at: null } });
      expect((shown.archive_policy as { name: string }).name).toBe(policy);
      const hidden = await alpha.get(v1(`/metric/${betaMetric.id}`));
      expect(hidden.status).toBe(404);
      expect((await body(hidden)).description).toBe(`Metric ${betaMetric.id} does not exist`);
      expect((await alpha.get(v1(`/metric/${randomUUID()}`))).status).toBe(404);
      expect((await alpha.get(v1('/metric/foobar'))).status).toBe(404);
      expect((await admin.get(v1(`/metric/${betaMetric.id}`))).status).toBe(200);
    });

    it('lists per project with filters, sorts and keyset pages (Link to the next page)', async () => {
      for (const [n, unit] of [
        ['list-a', 'ms'],
        ['list-b', 'ms'],
        ['list-c', 'B'],
      ] as const) {
        expect((await alpha.post(v1('/metric'), { name: named(n), unit, archive_policy_name: policy })).status).toBe(201);
      }
      const alphaList = await body<Array<{ id: string; created_by_project_id: string }>>(await alpha.get(v1('/metric')));
      expect(alphaList.every((m) => m.created_by_project_id === alpha.projectId)).toBe(true);
      expect(alphaList.map((m) => m.id)).not.toContain(betaMetric.id);
      const adminList = await body<Array<{ id: string }>>(await admin.get(v1('/metric')));
      expect(adminList.map((m) => m.id)).toEqual(expect.arrayContaining([alphaMetric.id, betaMetric.id]));
      // Filters.
      const byUnit = await body<Array<{ name: string; archive_policy: { name: string } }>>(await alpha.get(v1(`/metric?unit=ms&archive_policy_name=${policy}&sort=name:desc`)));
      expect(byUnit.map((m) => m.name)).toEqual([named('list-b'), named('list-a')]);
      expect(byUnit[0]?.archive_policy.name).toBe(policy);
      expect(await body(await alpha.get(v1(`/metric?id=${alphaMetric.id}`)))).toHaveLength(1);
      expect(await body(await alpha.get(v1(`/metric?id=${betaMetric.id}`)))).toHaveLength(0);
      expect(await body(await alpha.get(v1(`/metric?creator=${alpha.userId}:${alpha.projectId}&archive_policy_name=${policy}`)))).toHaveLength(4);
      // Pages of 2 by name descending: the Link carries the marker; the second page ends it.
      const first = await alpha.get(v1(`/metric?archive_policy_name=${policy}&sort=name:desc&limit=2`));
      const page1 = await body<Array<{ id: string; name: string }>>(first);
      expect(page1.map((m) => m.name)).toEqual([named('list-c'), named('list-b')]);
      const link = first.headers.get('link') as string;
      expect(link).toBe(`<${t.url}/metric/v1/metric?archive_policy_name=${policy}&limit=2&marker=${page1[1]?.id}&sort=name%3Adesc>; rel="next"`);
      const next = await alpha.get(link.slice(1, link.indexOf('>')).replace(t.url, ''));
      const page2 = await body<Array<{ name: string }>>(next);
      expect(page2.map((m) => m.name)).toEqual([named('list-a'), named('disk.io.rate')]);
      const last = await body<Array<unknown>>(await alpha.get(v1(`/metric?archive_policy_name=${policy}&sort=name:desc&limit=2&marker=${(page2 as unknown as Array<{ id: string }>)[1]?.id}`)));
      expect(last).toEqual([]);
      // Errors as Gnocchi's.
      const badSort = await alpha.get(v1('/metric?sort=nonexistent_key:asc'));
      expect(badSort.status).toBe(400);
      expect((await body(badSort)).description).toMatch(/Sort key supplied is invalid: nonexistent_key/);
      expect((await alpha.get(v1('/metric?sort=name:sideways'))).status).toBe(400);
      expect((await alpha.get(v1(`/metric?marker=${randomUUID()}`))).status).toBe(400);
      // Another project's metric is no marker either (no existence leak through pagination).
      expect((await alpha.get(v1(`/metric?marker=${betaMetric.id}`))).status).toBe(400);
      expect((await alpha.get(v1('/metric?limit=0'))).status).toBe(400);
    });

    it('treats injection attempts in every filter as data', async () => {
      const nasty = [`x' OR '1'='1`, `\\' OR 1=1 --`, `"); DROP TABLE metrics; --`, `{name:String}`, `%' --`, '\\\\', "name = name OR 1"];
      const created = await body(await alpha.post(v1('/metric'), { name: nasty[0], unit: nasty[2], archive_policy_name: policy }));
      expect(created.name).toBe(nasty[0]);
      for (const value of nasty) {
        for (const filter of ['name', 'unit', 'archive_policy_name', 'creator', 'user_id', 'project_id', 'resource_id', 'id']) {
          const res = await alpha.get(v1(`/metric?${filter}=${encodeURIComponent(value)}`));
          expect(res.status, `${filter}=${value}`).toBe(200);
          const rows = await body<Array<{ id: string }>>(res);
          const expected = (filter === 'name' && value === nasty[0]) || (filter === 'unit' && value === nasty[2]) ? [created.id] : [];
          expect(rows.map((r) => r.id), `${filter}=${value}`).toEqual(expected);
        }
        expect((await alpha.get(v1(`/metric?sort=${encodeURIComponent(value)}`))).status).toBe(400);
        expect((await alpha.get(v1(`/metric?marker=${encodeURIComponent(value)}`))).status).toBe(400);
        expect((await alpha.get(v1(`/metric/${encodeURIComponent(value)}`))).status).toBe(404);
      }
      // The table is intact and the metric reads back byte for byte.
      expect(((await body(await alpha.get(v1(`/metric/${created.id}`)))) as { unit: string }).unit).toBe(nasty[2]);
    });

    it("deletes: another project's answers 404, the owner's 204, then it is gone everywhere", async () => {
      expect((await beta.del(v1(`/metric/${alphaMetric.id}`))).status).toBe(404);
      expect((await alpha.del(v1(`/metric/${alphaMetric.id}`))).status).toBe(204);
      expect((await alpha.get(v1(`/metric/${alphaMetric.id}`))).status).toBe(404);
      expect((await admin.get(v1(`/metric/${alphaMetric.id}`))).status).toBe(404);
      expect((await alpha.del(v1(`/metric/${alphaMetric.id}`))).status).toBe(404);
      expect((await alpha.del(v1('/metric/foo'))).status).toBe(404);
      const ids = (await body<Array<{ id: string }>>(await admin.get(v1('/metric')))).map((m) => m.id);
      expect(ids).not.toContain(alphaMetric.id);
      const deleted = (await body<Array<{ id: string }>>(await admin.get(v1('/metric?status=delete')))).map((m) => m.id);
      expect(deleted).toContain(alphaMetric.id);
      // The admin may delete any project's metric.
      expect((await admin.del(v1(`/metric/${betaMetric.id}`))).status).toBe(204);
      expect((await beta.get(v1(`/metric/${betaMetric.id}`))).status).toBe(404);
    });
  });

  // -------------------------------------------------------------------------------------
  describe('measures', () => {
    const policy = named('calc');
    const methods = ['mean', 'min', 'max', 'sum', 'count', 'std', 'median', 'first', 'last', '95pct', 'rate:mean', 'rate:max'];
    // Two hours ago, on a 5-minute boundary: inside every retention (the engine expires rollups on its own clock).
    const base = Math.floor(Date.now() / 1000 / 300) * 300 - 7200;
    // A measure every 37 s for 40 minutes, values that are not monotonic.
    const measures: Array<[number, number]> = Array.from({ length: 65 }, (_, i) => [base + i * 37, Math.round((Math.sin(i / 3) * 50 + i) * 100) / 100]);
    let metric: string;

    beforeAll(async () => {
      expect((await admin.post(v1('/archive_policy'), { name: policy, aggregation_methods: methods, definition: [{ granularity: 60, points: 1440 }, { granularity: 300, points: 288 }] })).status).toBe(201);
      metric = ((await body(await alpha.post(v1('/metric'), { name: named('calc'), archive_policy_name: policy }))) as { id: string }).id;
      // Half as ISO text, half as epoch seconds (each request one kind, as Gnocchi requires).
      const half = Math.floor(measures.length / 2);
      const first = await alpha.post(v1(`/metric/${metric}/measures`), measures.slice(0, half).map(([ts, value]) => ({ timestamp: new Date(ts * 1000).toISOString().replace('Z', ''), value })));
      expect(first.status).toBe(202);
      expect(await first.text()).toBe('');
      expect((await alpha.post(v1(`/metric/${metric}/measures`), measures.slice(half).map(([ts, value]) => ({ timestamp: ts, value: String(value) })))).status).toBe(202);
    });
    const get = async (query: string) => {
      const res = await alpha.get(v1(`/metric/${metric}/measures?${query}`));
      expect(res.status, query).toBe(200);
      return body<Point[]>(res);
    };

    it('reads mean at each granularity, coarsest first, as computed here', async () => {
      const expected: Array<[number, number, number]> = [];
      for (const g of [300, 60]) for (const [b, xs] of bucketsOf(measures, g)) expected.push([b, g, mean(xs)]);
      expectPoints(await get('refresh=true'), expected);
    });

    it('reads min, max, sum, count, std, median, first, last, 95pct at one granularity', async () => {
      const g300 = [...bucketsOf(measures, 300)];
      const check: Record<string, (xs: number[]) => number> = {
        min: (xs) => Math.min(...xs),
        max: (xs) => Math.max(...xs),
        sum: (xs) => xs.reduce((a, b) => a + b, 0),
        count: (xs) => xs.length,
        median: (xs) => quantile(xs, 0.5),
        first: (xs) => xs[0] as number,
        last: (xs) => xs[xs.length - 1] as number,
        '95pct': (xs) => quantile(xs, 0.95),
      };
      for (const [method, fn] of Object.entries(check)) {
        expectPoints(await get(`aggregation=${encodeURIComponent(method)}&granularity=300`), g300.map(([b, xs]) => [b, 300, fn(xs)]));
      }
      expectPoints(
        await get('aggregation=std&granularity=5min'),
        g300.filter(([, xs]) => xs.length > 1).map(([b, xs]) => [b, 300, std(xs)]),
      );
    });

    it('reads rate:mean and rate:max from consecutive differences', async () => {
      // Measures every 37 s: each one's previous is in its bucket or the one before.
      const rates: Array<[number, number]> = measures.slice(1).map(([ts, v], i) => [ts, v - (measures[i] as [number, number])[1]]);
      expectPoints(await get('aggregation=rate:mean&granularity=60'), [...bucketsOf(rates, 60)].map(([b, xs]) => [b, 60, mean(xs)]));
      expectPoints(await get('aggregation=rate%3Amax&granularity=300'), [...bucketsOf(rates, 300)].map(([b, xs]) => [b, 300, Math.max(...xs)]));
    });

    it('honours start (rounded down to the bucket) and stop (exclusive), in any time form', async () => {
      const start = base + 610;
      const stop = base + 1500;
      const expected = [...bucketsOf(measures, 60)].filter(([b]) => b >= Math.floor(start / 60) * 60 && b < stop).map(([b, xs]) => [b, 60, mean(xs)] as [number, number, number]);
      expectPoints(await get(`granularity=60&start=${start}&stop=${stop}`), expected);
      expectPoints(await get(`granularity=60&start=${encodeURIComponent(new Date(start * 1000).toISOString())}&stop=${encodeURIComponent(new Date(stop * 1000).toISOString().replace('Z', '+00:00'))}`), expected);
      expect(await get(`granularity=60&start=${stop}&stop=${start}`)).toEqual([]);
    });

    it('resamples with the same method (Gnocchi regroups the aggregated points)', async () => {
      const means60 = [...bucketsOf(measures, 60)].map(([b, xs]) => [b, mean(xs)] as [number, number]);
      const expected = [...bucketsOf(means60, 600)].map(([b, xs]) => [b, 600, mean(xs)] as [number, number, number]);
      expectPoints(await get('granularity=60&resample=600'), expected);
      const noGranularity = await alpha.get(v1(`/metric/${metric}/measures?resample=60`));
      expect(noGranularity.status).toBe(400);
      expect((await body(noGranularity)).description).toBe('A granularity must be specified to resample');
      expect((await alpha.get(v1(`/metric/${metric}/measures?resample=abc&granularity=60`))).status).toBe(400);
    });

    it('fills empty buckets between start and stop (Cumulus extension)', async () => {
      const start = base + 3600;
      const points = await get(`granularity=300&start=${start}&stop=${start + 900}&fill=0`);
      expect(points).toEqual([
        [iso(start), 300, 0],
        [iso(start + 300), 300, 0],
        [iso(start + 600), 300, 0],
      ]);
      expect((await get(`granularity=300&start=${start}&stop=${start + 600}&fill=null`)).map((p) => p[2])).toEqual([null, null]);
      expect((await alpha.get(v1(`/metric/${metric}/measures?granularity=300&fill=asdf`))).status).toBe(400);
    });

    it("answers Gnocchi's errors for unknown aggregations and granularities and unreadable parameters", async () => {
      const wtf = await alpha.get(v1(`/metric/${metric}/measures?aggregation=wtf`));
      expect(wtf.status).toBe(404);
      expect(await body(wtf)).toMatchObject({ description: { cause: 'Aggregation method does not exist for this metric', detail: { metric, aggregation_method: 'wtf' } } });
      const notKept = await alpha.get(v1(`/metric/${metric}/measures?aggregation=99pct`));
      expect(notKept.status).toBe(404);
      const g42 = await alpha.get(v1(`/metric/${metric}/measures?granularity=42`));
      expect(g42.status).toBe(404);
      expect((await body(g42)).description).toBe(`Aggregation method 'mean' at granularity '42.0' for metric ${metric} does not exist`);
      const foobar = await alpha.get(v1(`/metric/${metric}/measures?granularity=foobar`));
      expect(foobar.status).toBe(400);
      expect((await body(foobar)).description).toEqual({ cause: 'Argument value error', detail: 'granularity', reason: 'Unable to parse timespan' });
      const badStart = await alpha.get(v1(`/metric/${metric}/measures?start=yesterday-ish`));
      expect(badStart.status).toBe(400);
      expect((await body(badStart)).description).toMatchObject({ detail: 'start', reason: 'Must be a datetime or a timestamp' });
      expect((await alpha.get(v1(`/metric/${metric}/measures?refresh=maybe`))).status).toBe(400);
      expect((await alpha.get(v1(`/metric/${randomUUID()}/measures`))).status).toBe(404);
      expect((await alpha.get(v1('/metric/fake/measures'))).status).toBe(404);
    });

    it('refuses unreadable measures with a 400 naming the item', async () => {
      const post = (payload: unknown) => alpha.post(v1(`/metric/${metric}/measures`), payload);
      const cases: Array<[unknown, RegExp]> = [
        [[{ timestamp: new Date().toISOString(), value: 12 }, { timestamp: new Date().toISOString(), value: 'foobar' }], /body\[1\]\.value/],
        [[{ timestamp: '1915-03-06T14:33:57', value: 43.1 }], /Timestamp must be after Epoch/],
        [[{ timestamp: '1915-100-06T14:33:57', value: 43.1 }], /body\[0\]\.timestamp/],
        [[{ timestamp: 1478012832, value: 43.1 }, { timestamp: '-5 minutes', value: 43.1 }], /body\[1\]\.timestamp/],
        [[['2015-03-06T14:33:57', 43.1]], /body\[0\]/],
        [[{ timestamp: '2015-03-06T14:33:57' }], /value/],
        [1, /body/],
        [[{ timestamp: new Date().toISOString(), value: null }], /body\[0\]\.value/],
      ];
      for (const [payload, message] of cases) {
        const res = await post(payload);
        expect(res.status, JSON.stringify(payload)).toBe(400);
        expect(JSON.stringify(await body(res)), JSON.stringify(payload)).toMatch(message);
      }
      expect((await alpha.post(v1('/metric/fake/measures'), [{ timestamp: '2015-03-06T14:33:57', value: 1 }])).status).toBe(404);
    });

    it('accepts relative timestamps and counts what the back window or the retention refuses', async () => {
      const short = named('short');
      expect((await admin.post(v1('/archive_policy'), { name: short, definition: [{ granularity: 60, points: 1440 }] })).status).toBe(201);
      const id = ((await body(await alpha.post(v1('/metric'), { name: named('late'), archive_policy_name: short }))) as { id: string }).id;
      const now = Math.floor(Date.now() / 1000);
      expect((await alpha.post(v1(`/metric/${id}/measures`), [{ timestamp: '-5 minutes', value: 1 }])).status).toBe(202);
      const relative = await body<Point[]>(await alpha.get(v1(`/metric/${id}/measures`)));
      expect(relative).toHaveLength(1);
      expect(Math.abs(Date.parse(relative[0]?.[0] as string) / 1000 - (Math.floor((now - 300) / 60) * 60))).toBeLessThanOrEqual(60);
      // Newest block now holds now-5min; one from 20 minutes ago is before the back window, one 2 days ago past retention.
      const late = await alpha.post(v1(`/metric/${id}/measures`), [
        { timestamp: now - 1200, value: 2 },
        { timestamp: now - 2 * 86_400, value: 3 },
        { timestamp: now - 60, value: 4 },
      ]);
      expect(late.status).toBe(202);
      expect(late.headers.get('x-cumulus-refused-measures')).toBe('2');
      const shown = await body(await alpha.get(v1(`/metric/${id}`)));
      expect(shown.refused_measures).toMatchObject({ back_window: 1, retention: 1, last_refused_at: expect.stringMatching(/\+00:00$/) });
      expect((await body<Point[]>(await alpha.get(v1(`/metric/${id}/measures?aggregation=count`)))).reduce((a, p) => a + (p[2] as number), 0)).toBe(2);
    });

    it("keeps each project's measures its own: 404 for others, the admin may write", async () => {
      expect((await beta.post(v1(`/metric/${metric}/measures`), [{ timestamp: base, value: 1 }])).status).toBe(404);
      expect((await beta.get(v1(`/metric/${metric}/measures`))).status).toBe(404);
      expect((await admin.post(v1(`/metric/${metric}/measures`), [{ timestamp: base + 3000, value: 1000 }])).status).toBe(202);
      const last = await body<Point[]>(await admin.get(v1(`/metric/${metric}/measures?aggregation=max&granularity=60&start=${base + 3000}`)));
      expect(last).toEqual([[iso(base + 3000), 60, 1000]]);
    });
  });

  // -------------------------------------------------------------------------------------
  describe('batch', () => {
    const policy = named('batch');
    const at = Math.floor(Date.now() / 1000 / 60) * 60 - 1800;
    let m1: string;
    let m2: string;
    let betaOnly: string;
    const resourceId = randomUUID();

    beforeAll(async () => {
      expect((await admin.post(v1('/archive_policy'), { name: policy, aggregation_methods: ['mean', 'sum', 'last'], definition: [{ granularity: 60, points: 1440 }] })).status).toBe(201);
      expect((await admin.post(v1('/archive_policy_rule'), { name: named('auto'), metric_pattern: `auto-${SUFFIX}.*`, archive_policy_name: policy })).status).toBe(201);
      m1 = ((await body(await alpha.post(v1('/metric'), { archive_policy_name: policy }))) as { id: string }).id;
      m2 = ((await body(await alpha.post(v1('/metric'), { archive_policy_name: policy }))) as { id: string }).id;
      betaOnly = ((await body(await beta.post(v1('/metric'), { archive_policy_name: policy }))) as { id: string }).id;
      const resource = await alpha.post(v1('/resource/generic'), { id: resourceId, user_id: alpha.userId, project_id: alpha.projectId, metrics: { 'disk.iops': { archive_policy_name: policy } } });
      expect(resource.status, await resource.clone().text()).toBe(201);
    });
    const sumOf = async (caller: Caller, id: string) => (await body<Point[]>(await caller.get(v1(`/metric/${id}/measures?aggregation=sum`)))).reduce((a, p) => a + (p[2] as number), 0);

    it('writes several metrics at once, ids in any case', async () => {
      const res = await alpha.post(v1('/batch/metrics/measures'), {
        [m1]: [
          { timestamp: at, value: 43.1 },
          { timestamp: at + 15, value: 12 },
        ],
        [m2.toUpperCase()]: [{ timestamp: new Date(at * 1000).toISOString(), value: 5 }],
      });
      expect(res.status).toBe(202);
      expect(await res.text()).toBe('');
      expect(await sumOf(alpha, m1)).toBeCloseTo(55.1, 9);
      expect(await sumOf(alpha, m2)).toBe(5);
    });

    it("lists unknown metrics (another project's included) and refuses keys that are not ids", async () => {
      const a = 'AAAAAAAA-C0D9-445B-8AB9-D3C6312DCF5C';
      const b = '37AEC8B7-C0D9-445B-8AB9-D3C6312DCF5D';
      const res = await alpha.post(v1('/batch/metrics/measures'), { [b]: [{ timestamp: at, value: 1 }], [a]: [{ timestamp: at, value: 1 }], [m1]: [{ timestamp: at + 30, value: 1 }] });
      expect(res.status).toBe(400);
      expect((await body(res)).description).toBe(`Unknown metrics: ${b.toLowerCase()}, ${a.toLowerCase()}`);
      const cross = await alpha.post(v1('/batch/metrics/measures'), { [betaOnly]: [{ timestamp: at, value: 1 }] });
      expect(cross.status).toBe(400);
      expect((await body(cross)).description).toBe(`Unknown metrics: ${betaOnly}`);
      expect(await sumOf(beta, betaOnly)).toBe(0);
      // Nothing of the refused batches was written.
      expect(await sumOf(alpha, m1)).toBeCloseTo(55.1, 9);
      const notId = await alpha.post(v1('/batch/metrics/measures'), { "x' OR 1=1": [{ timestamp: at, value: 1 }] });
      expect(notId.status).toBe(400);
      expect((await body(notId)).description).toMatchObject({ detail: ["x' OR 1=1"] });
      const badMeasure = await alpha.post(v1('/batch/metrics/measures'), { [m1]: [{ timestamp: at, value: 'x' }] });
      expect(badMeasure.status).toBe(400);
      expect(JSON.stringify(await body(badMeasure))).toContain(`body[\\"${m1}\\"][0].value`);
    });

    it('writes named metrics of resources; unknown ones are listed unless create_metrics creates them', async () => {
      const unknown = await alpha.post(v1('/batch/resources/metrics/measures'), { [resourceId]: { [`auto-${SUFFIX}.test`]: [{ timestamp: at, value: 1 }], 'disk.iops': [{ timestamp: at, value: 1 }] } });
      expect(unknown.status).toBe(400);
      expect((await body(unknown)).description).toBe(`Unknown metrics: ${resourceId}/auto-${SUFFIX}.test`);
      const created = await alpha.post(v1(`/batch/resources/metrics/measures?create_metrics=true`), {
        [resourceId]: {
          'disk.iops': [{ timestamp: at, value: 7 }],
          [`auto-${SUFFIX}.test`]: [
            { timestamp: at, value: 43.1 },
            { timestamp: at + 60, value: 12 },
          ],
          newformat: { archive_policy_name: policy, unit: 'ks', measures: [{ timestamp: at, value: 42 }] },
        },
      });
      expect(created.status, await created.clone().text()).toBe(202);
      const metrics = await body<Array<{ id: string; name: string; unit: string | null; archive_policy: { name: string } }>>(await alpha.get(v1(`/metric?resource_id=${resourceId}`)));
      const byName = new Map(metrics.map((m) => [m.name, m]));
      expect([...byName.keys()].sort()).toEqual([`auto-${SUFFIX}.test`, 'disk.iops', 'newformat']);
      expect(byName.get(`auto-${SUFFIX}.test`)?.archive_policy.name).toBe(policy);
      expect(byName.get('newformat')?.unit).toBe('ks');
      const auto = await body<Point[]>(await alpha.get(v1(`/metric/${byName.get(`auto-${SUFFIX}.test`)?.id}/measures?start=${at + 60}`)));
      expect(auto).toEqual([[iso(at + 60), 60, 12]]);
      expect(await sumOf(alpha, byName.get('disk.iops')?.id as string)).toBe(7);
      expect(await sumOf(alpha, byName.get('newformat')?.id as string)).toBe(42);
    });

    it("reports unknown resources (another project's included) with Gnocchi's body", async () => {
      const a = 'aaaaaaaa-d63b-4cdd-be89-111111111111';
      const res = await alpha.post(v1('/batch/resources/metrics/measures?create_metrics=true'), { [a]: { 'auto.test': [{ timestamp: at, value: 1 }] }, foobar: { 'auto.test': { measures: [{ timestamp: at, value: 1 }] } } });
      expect(res.status).toBe(400);
      const description = (await body(res)).description as { cause: string; detail: Array<{ resource_id: string; original_resource_id: string }> };
      expect(description.cause).toBe('Unknown resources');
      expect(description.detail.map((d) => d.original_resource_id).sort()).toEqual([a, 'foobar']);
      expect(description.detail.find((d) => d.original_resource_id === a)?.resource_id).toBe(a);
      const cross = await beta.post(v1('/batch/resources/metrics/measures?create_metrics=true'), { [resourceId]: { 'disk.iops': [{ timestamp: at, value: 1 }] } });
      expect(cross.status).toBe(400);
      expect(((await body(cross)).description as { cause: string }).cause).toBe('Unknown resources');
      expect((await alpha.post(v1('/batch/resources/metrics/measures?create_metrics=perhaps'), {})).status).toBe(400);
      const wrong = await alpha.post(v1('/batch/resources/metrics/measures?create_metrics=true'), { [resourceId]: { 'auto.test': [['2015-03-06T14:33:57', 43.1]] } });
      expect(wrong.status).toBe(400);
    });
  });

  // -------------------------------------------------------------------------------------
  describe('status and capabilities', () => {
    it("answers Gnocchi's status shape to admins (no backlog: writes are synchronous) and 403 to members", async () => {
      const res = await admin.get(v1('/status'));
      expect(res.status).toBe(200);
      const status = await body(res);
      expect(status).toMatchObject({ storage: { summary: { metrics: 0, measures: 0 }, measures_to_process: {} }, metricd: { processors: null, statistics: {} } });
      const ours = status.cumulus as { metrics: number; measures: number; refused_measures: number };
      expect(ours.metrics).toBeGreaterThan(5);
      expect(ours.measures).toBeGreaterThan(60);
      expect(ours.refused_measures).toBeGreaterThanOrEqual(2);
      expect((await body(await admin.get(v1('/status?details=false')))).storage).toEqual({ summary: { metrics: 0, measures: 0 } });
      expect((await alpha.get(v1('/status'))).status).toBe(403);
    });

    it('lists every aggregation method', async () => {
      const caps = await body<{ aggregation_methods: string[] }>(await beta.get(v1('/capabilities')));
      expect(caps.aggregation_methods).toEqual(expect.arrayContaining(['mean', 'median', '95pct', 'rate:mean', 'rate:99pct', 'std', 'count']));
      expect(caps.aggregation_methods).toHaveLength(2 * (9 + 99));
    });

    it('documents every route of the family with its schema', async () => {
      const doc = (await (await fetch(`${t.url}/docs/json`)).json()) as { paths: Record<string, Record<string, { tags?: string[]; security?: unknown }>> };
      for (const path of ['/metric/v1/archive_policy', '/metric/v1/archive_policy/{name}', '/metric/v1/archive_policy_rule/{name}', '/metric/v1/metric', '/metric/v1/metric/{id}/measures', '/metric/v1/batch/metrics/measures', '/metric/v1/batch/resources/metrics/measures', '/metric/v1/status', '/metric/v1/capabilities']) {
        expect(doc.paths[path], path).toBeDefined();
        for (const operation of Object.values(doc.paths[path] ?? {})) {
          expect(operation.tags).toEqual(['metric']);
          expect(operation.security).toEqual([{ keystoneToken: [] }]);
        }
      }
    });
  });
});
