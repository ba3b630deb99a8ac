import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiTenants, type ApiTenants, type Caller } from './support/api-tenants.ts';
import { seedRatedUsage, type FrameSeed } from './support/rated-frames.ts';

/**
 * CloudKitty's reports over the whole platform: rated frames seeded straight into
 * `rated_usage`, read back through /rating/v1/report/* and /rating/v2/{summary,dataframes}
 * by the admin and by members of two projects; every figure is summed here with decimals.
 */

type Body = Record<string, unknown>;
const now = new Date();
/** The previous calendar month (UTC): inside the retention, outside the default period. */
const MONTH = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1);
const THIS_MONTH = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
const at = (hours: number) => new Date(MONTH + hours * 3_600_000);
/** The window most tests read: two days, [hour 0, hour 48). */
const BEGIN = at(0).toISOString();
const END = at(48).toISOString();
const INJECTIONS = ["' OR 1=1 --", "x'); DROP TABLE rated_usage; --", 'a\\', '"quoted"', '{scope:String}', 'é🙂'];

/** A frame and the rating run that stored it (a later run replaces an earlier one's frame). */
type Frame = FrameSeed & { ratedAt?: number };

let t: ApiTenants;
let A = '';
let B = '';
const GHOST = 'project-that-does-not-exist';
let frames: Frame[] = [];

/** The frames that count in [begin, end): the latest rating of each. */
const inWindow = (begin = at(0), end = at(48)) => frames.filter((f) => f.start >= begin && f.start < end && f.ratedAt !== 1);
const sum = (list: readonly Frame[], field: 'cost' | 'qty' = 'cost') => list.reduce((total, f) => total.plus(field === 'cost' ? f.cost : (f.qty ?? '1')), new Decimal(0));
const text = (d: Decimal) => d.toFixed();
/** ClickHouse's string order (bytes), for ASCII keys. */
const bytewise = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

const get = (who: Caller, path: string) => who.get(`/rating${path}`);
const json = async (who: Caller, path: string, status = 200): Promise<Body> => {
  const res = await get(who, path);
  const body = await res.text();
  expect(res.status, `${path}: ${body}`).toBe(status);
  return JSON.parse(body) as Body;
};
const raw = async (who: Caller, path: string): Promise<string> => {
  const res = await get(who, path);
  const body = await res.text();
  expect(res.status, `${path}: ${body}`).toBe(200);
  return body;
};
const q = (params: Record<string, string | number | boolean | string[]>) => {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const value of Array.isArray(v) ? v : [v]) search.append(k, String(value));
  return `?${search}`;
};
const WINDOW = { begin: BEGIN, end: END };

beforeAll(async () => {
  t = await startApiTenants();
  A = t.alpha.projectId;
  B = t.beta.projectId;
  frames = [
    { project: A, start: at(0), service: 'instance', resource: 'vm-a1', cost: '0.1', groupby: { stack_id: 'web', 'tag:team': 'blue' }, metadata: { flavor_name: 'm1.small' } },
    // Rated twice: the later rating (0.2) replaces the first (50).
    { project: A, start: at(1), service: 'instance', resource: 'vm-a1', cost: '50', ratedAt: 1, groupby: { stack_id: 'web', 'tag:team': 'blue' }, metadata: { flavor_name: 'm1.small' } },
    { project: A, start: at(1), service: 'instance', resource: 'vm-a1', cost: '0.2', ratedAt: 2, groupby: { stack_id: 'web', 'tag:team': 'blue' }, metadata: { flavor_name: 'm1.small' } },
    { project: A, start: at(0), service: 'volume.size', resource: 'vol-a1', cost: '0.000000001', qty: '10', groupby: { stack_id: 'db' }, metadata: { volume_type: 'ssd' } },
    // The last hour in the window counts; the first hour after it and the hour before it do not.
    { project: A, start: at(47), service: 'instance', resource: 'vm-a1', cost: '0.7', groupby: { stack_id: 'web' }, metadata: { flavor_name: 'm1.small' } },
    { project: A, start: at(48), service: 'instance', resource: 'vm-a1', cost: '1000' },
    { project: A, start: at(-1), service: 'instance', resource: 'vm-a1', cost: '2000' },
    // This month: what the default period (the current month) finds.
    { project: A, start: new Date(THIS_MONTH), service: 'instance', resource: 'vm-a1', cost: '3.33' },
    { project: B, start: at(0), service: 'instance', resource: 'vm-b1', cost: '1.1', groupby: { stack_id: 'web' }, metadata: { flavor_name: 'm1.large' } },
    { project: B, start: at(2), service: 'ip.floating', resource: 'ip-b1', cost: '0.005' },
    { project: GHOST, start: at(3), service: 'instance', resource: 'vm-g1', cost: '5.5', groupby: { [INJECTIONS[1]!]: 'found' } },
  ];
  // One insert per rating run, so the replaced frame sits in another part until FINAL merges it.
  for (const run of [0, 1, 2]) await seedRatedUsage(t.platform.store, frames.filter((f) => (f.ratedAt ?? 0) === run), new Date(MONTH + run * 1000));
}, 90_000);
afterAll(async () => t?.stop());

describe('the OpenAPI document', () => {
  it('documents every report route with its query fields', async () => {
    const doc = (await (await fetch(`${t.url}/docs/json`)).json()) as { paths: Record<string, { get?: { tags?: string[]; parameters?: Array<{ name: string }> } }> };
    const params = (path: string) => doc.paths[path]?.get?.parameters?.map((p) => p.name);
    for (const path of ['/rating/v1/report/total', '/rating/v1/report/summary', '/rating/v1/report/tenants', '/rating/v2/summary', '/rating/v2/dataframes']) expect(doc.paths[path]?.get?.tags, path).toEqual(['rating']);
    expect(params('/rating/v1/report/summary')).toEqual(['begin', 'end', 'tenant_id', 'service', 'all_tenants', 'groupby']);
    expect(params('/rating/v2/summary')).toEqual(['begin', 'end', 'groupby', 'filters', 'offset', 'limit', 'response_format']);
    expect(params('/rating/v2/dataframes')).toEqual(['begin', 'end', 'filters', 'offset', 'limit']);
  });
});

describe('/v1/report/total', () => {
  it('answers a bare JSON number with the exact sum', async () => {
    const everything = await raw(t.admin, `/v1/report/total${q({ ...WINDOW, all_tenants: 'True' })}`);
    expect(everything).toBe(text(sum(inWindow())));
    expect(everything).toBe('7.605000001');
    expect(await raw(t.admin, `/v1/report/total${q({ ...WINDOW, all_tenants: true, service: 'instance' })}`)).toBe(text(sum(inWindow().filter((f) => f.service === 'instance'))));
    expect(await raw(t.admin, `/v1/report/total${q({ ...WINDOW, tenant_id: B })}`)).toBe('1.105');
  });

  it("reads the admin's own project unless told (CloudKitty's rule), zero when nothing is rated", async () => {
    expect(await raw(t.admin, `/v1/report/total${q(WINDOW)}`)).toBe('0');
    expect(await raw(t.admin, `/v1/report/total${q({ begin: END, end: BEGIN, all_tenants: true })}`)).toBe('0');
  });

  it("gives members their own project's total, begin inclusive and end exclusive", async () => {
    const own = text(sum(inWindow().filter((f) => f.project === A)));
    expect(own).toBe('1.000000001');
    expect(await raw(t.alpha, `/v1/report/total${q(WINDOW)}`)).toBe(own);
    expect(await raw(t.alpha, `/v1/report/total${q({ ...WINDOW, tenant_id: A })}`)).toBe(own);
    expect(await raw(t.alpha, `/v1/report/total${q({ begin: at(47).toISOString(), end: at(48).toISOString() })}`)).toBe('0.7');
    expect(await raw(t.alpha, `/v1/report/total${q({ begin: at(48).toISOString(), end: at(49).toISOString() })}`)).toBe('1000');
    expect(await raw(t.beta, `/v1/report/total${q(WINDOW)}`)).toBe('1.105');
    // Naive timestamps are UTC, with a space as the CLI sends them.
    expect(await raw(t.alpha, `/v1/report/total${q({ begin: at(47).toISOString().slice(0, 19).replace('T', ' '), end: at(48).toISOString().slice(0, 19) })}`)).toBe('0.7');
  });

  it('defaults to the current month', async () => {
    expect(await raw(t.alpha, '/v1/report/total')).toBe('3.33');
  });

  it("refuses a member another project or all of them, whether or not it exists, with WSME's error", async () => {
    const refusals = await Promise.all(([{ tenant_id: B }, { tenant_id: GHOST }, { all_tenants: 'true' }] as Array<Record<string, string>>).map((extra) => get(t.alpha, `/v1/report/total${q({ ...WINDOW, ...extra })}`)));
    const bodies = await Promise.all(refusals.map((res) => res.json() as Promise<Body>));
    expect(refusals.map((res) => res.status)).toEqual([403, 403, 403]);
    expect(bodies[0]).toEqual({ error_message: { faultcode: 'Client', faultstring: expect.stringMatching(/denied/), debuginfo: null } });
    expect(bodies[1]).toEqual(bodies[0]);
  });

  it('refuses bad input naming the field', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ begin: 'yesterday' }, /begin/],
      [{ end: '2026-02-30T00:00:00' }, /end/],
      [{ all_tenants: 'maybe' }, /all_tenants/],
      [{ tenant: A }, /unknown field "tenant"/],
      [{ groupby: 'tenant_id' }, /unknown field "groupby"/],
    ];
    for (const [params, message] of cases) {
      const res = await get(t.alpha, `/v1/report/total${q(params)}`);
      expect(res.status, JSON.stringify(params)).toBe(400);
      expect(((await res.json()) as { error_message: { faultstring: string } }).error_message.faultstring).toMatch(message);
    }
    expect((await t.alpha.request('GET', '/rating/v1/report/total', undefined, { 'x-auth-token': 'nope' })).status).toBe(401);
  });
});

describe('/v1/report/summary', () => {
  const v1Begin = at(0).toISOString().slice(0, 19);
  const v1End = at(48).toISOString().slice(0, 19);

  it('groups by tenant and resource type, rates as exact decimal text', async () => {
    const byProject = await json(t.admin, `/v1/report/summary${q({ ...WINDOW, all_tenants: true, groupby: 'tenant_id' })}`);
    const projects = [A, B, GHOST].sort();
    expect(byProject).toEqual({
      summary: projects.map((p) => ({ begin: v1Begin, end: v1End, tenant_id: p, res_type: 'ALL', rate: text(sum(inWindow().filter((f) => f.project === p))) })),
    });
    const both = await json(t.admin, `/v1/report/summary${q({ ...WINDOW, all_tenants: true, groupby: 'res_type,tenant_id' })}`);
    const expected = projects.flatMap((p) =>
      [...new Set(inWindow().filter((f) => f.project === p).map((f) => f.service))].sort().map((type) => ({ begin: v1Begin, end: v1End, tenant_id: p, res_type: type, rate: text(sum(inWindow().filter((f) => f.project === p && f.service === type))) })),
    );
    expect(both.summary).toEqual(expected);
    expect(expected).toHaveLength(5);
  });

  it("gives members their project's summary; the service filter names the type", async () => {
    expect(await json(t.alpha, `/v1/report/summary${q({ ...WINDOW, groupby: 'res_type' })}`)).toEqual({
      summary: [
        { begin: v1Begin, end: v1End, tenant_id: A, res_type: 'instance', rate: '1' },
        { begin: v1Begin, end: v1End, tenant_id: A, res_type: 'volume.size', rate: '0.000000001' },
      ],
    });
    expect(await json(t.alpha, `/v1/report/summary${q({ ...WINDOW, service: 'instance' })}`)).toEqual({ summary: [{ begin: v1Begin, end: v1End, tenant_id: A, res_type: 'instance', rate: '1' }] });
    expect(await json(t.alpha, `/v1/report/summary${q({ begin: at(100).toISOString(), end: at(101).toISOString() })}`)).toEqual({ summary: [] });
    expect((await get(t.alpha, `/v1/report/summary${q({ ...WINDOW, tenant_id: B })}`)).status).toBe(403);
    expect((await get(t.beta, `/v1/report/summary${q({ ...WINDOW, all_tenants: true })}`)).status).toBe(403);
  });

  it('refuses an unknown groupby naming it', async () => {
    const res = await get(t.admin, `/v1/report/summary${q({ groupby: 'tenant_id,flavor' })}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error_message: { faultcode: 'Client', faultstring: expect.stringMatching(/groupby.*"flavor"/), debuginfo: null } });
  });
});

describe('/v1/report/tenants', () => {
  it('lists the rated projects of a period to admins only', async () => {
    expect(await json(t.admin, `/v1/report/tenants${q(WINDOW)}`)).toEqual([A, B, GHOST].sort());
    expect(await json(t.admin, `/v1/report/tenants${q({ begin: at(48).toISOString(), end: at(49).toISOString() })}`)).toEqual([A]);
    expect(await json(t.admin, '/v1/report/tenants')).toEqual([A]);
    expect((await get(t.alpha, '/v1/report/tenants')).status).toBe(403);
  });
});

describe('/v2/summary', () => {
  const v2 = (d: Date) => d.toISOString().slice(0, 19) + '+00:00';

  it('answers one grand total as a table, amounts exact in the JSON text', async () => {
    const body = await raw(t.admin, `/v2/summary${q(WINDOW)}`);
    const all = inWindow();
    expect(body).toBe(`{"total":1,"columns":["begin","end","qty","rate"],"results":[["${v2(at(0))}","${v2(at(48))}",${text(sum(all, 'qty'))},${text(sum(all))}]],"format":"table"}`);
    expect(body).toContain(',7.605000001]');
  });

  it('groups by project and type, pages stable and complete', async () => {
    const path = (page: Record<string, number>) => `/v2/summary${q({ ...WINDOW, groupby: 'project_id,type', ...page })}`;
    const whole = await json(t.admin, path({}));
    const expected = [...new Set(inWindow().map((f) => `${f.project}\u0000${f.service}`))].sort().map((key) => {
      const [p, type] = key.split('\u0000') as [string, string];
      const group = inWindow().filter((f) => f.project === p && f.service === type);
      return [v2(at(0)), v2(at(48)), Number(text(sum(group, 'qty'))), Number(text(sum(group))), p, type];
    });
    expect(whole).toEqual({ total: 5, columns: ['begin', 'end', 'qty', 'rate', 'project_id', 'type'], results: expected, format: 'table' });
    const pages: unknown[] = [];
    for (let offset = 0; offset < 6; offset += 2) {
      const page = await json(t.admin, path({ offset, limit: 2 }));
      expect(page.total).toBe(5);
      pages.push(...(page.results as unknown[]));
    }
    expect(pages).toEqual(whole.results);
  });

  it('groups by stack and operator tags, by period, and answers objects on request', async () => {
    const byStack = await json(t.alpha, `/v2/summary${q({ ...WINDOW, groupby: ['stack_id', 'tag:team'], response_format: 'object' })}`);
    expect(byStack).toEqual({
      total: 3,
      results: [
        { begin: v2(at(0)), end: v2(at(48)), qty: 10, rate: 1e-9, stack_id: 'db', 'tag:team': '' },
        { begin: v2(at(0)), end: v2(at(48)), qty: 1, rate: 0.7, stack_id: 'web', 'tag:team': '' },
        { begin: v2(at(0)), end: v2(at(48)), qty: 2, rate: 0.3, stack_id: 'web', 'tag:team': 'blue' },
      ],
      format: 'object',
    });
    const byPeriod = await json(t.alpha, `/v2/summary${q({ ...WINDOW, groupby: 'time', filters: 'type:instance', response_format: 'object' })}`);
    expect((byPeriod.results as Body[]).map((r) => [r.begin, r.end, r.rate])).toEqual([
      [v2(at(0)), v2(at(1)), 0.1],
      [v2(at(1)), v2(at(2)), 0.2],
      [v2(at(47)), v2(at(48)), 0.7],
    ]);
    const byDay = await json(t.alpha, `/v2/summary${q({ ...WINDOW, groupby: 'time-d' })}`);
    expect(byDay.columns).toEqual(['begin', 'end', 'qty', 'rate', 'day_of_the_year']);
    expect((byDay.results as unknown[][]).map((r) => r[3])).toEqual([0.300000001, 0.7]);
  });

  it('filters on keys, metadata and alternatives', async () => {
    const rate = async (who: Caller, filters: string[]) => {
      const body = await raw(who, `/v2/summary${q({ ...WINDOW, filters })}`);
      return (body.match(/,([0-9.]+)\]\]/) ?? [])[1] ?? 'none';
    };
    expect(await rate(t.admin, ['stack_id:web'])).toBe(text(sum(inWindow().filter((f) => f.groupby?.stack_id === 'web'))));
    expect(await rate(t.admin, ['flavor_name:m1.small'])).toBe('1');
    expect(await rate(t.admin, ['volume_type:ssd'])).toBe('0.000000001');
    expect(await rate(t.admin, [`project_id:${A},project_id:${B}`])).toBe('2.105000001');
    expect(await rate(t.admin, ['type:ip.floating', `project_id:${B}`])).toBe('0.005');
    expect(await rate(t.admin, ['tag:team:blue'])).toBe('0.3');
    expect(await rate(t.admin, ['stack_id:nope'])).toBe('none');
  });

  it('shows members only their project: another project filter finds nothing', async () => {
    const own = await json(t.alpha, `/v2/summary${q({ ...WINDOW, groupby: 'project_id' })}`);
    expect((own.results as unknown[][]).map((r) => r[4])).toEqual([A]);
    for (const project of [B, GHOST]) {
      expect(await json(t.alpha, `/v2/summary${q({ ...WINDOW, filters: `project_id:${project}` })}`)).toEqual({ total: 0, columns: [], results: [], format: 'table' });
    }
    const beta = await json(t.beta, `/v2/summary${q({ ...WINDOW, groupby: 'id' })}`);
    expect((beta.results as unknown[][]).map((r) => [r[4], r[3]])).toEqual([
      ['ip-b1', 0.005],
      ['vm-b1', 1.1],
    ]);
  });

  it("refuses bad input naming the field, in flask-restful's {message}", async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ limit: '0' }, /limit/],
      [{ limit: 'ten' }, /limit/],
      [{ offset: '-1' }, /offset/],
      [{ response_format: 'xml' }, /response_format/],
      [{ filters: 'type' }, /filters/],
      [{ groupby: 'qty' }, /groupby/],
      [{ begin: 'not a time' }, /begin/],
      [{ filter: 'type:instance' }, /unknown field "filter"/],
    ];
    for (const [params, message] of cases) {
      const res = await get(t.alpha, `/v2/summary${q(params)}`);
      expect(res.status, JSON.stringify(params)).toBe(400);
      const body = (await res.json()) as { message: string };
      expect(Object.keys(body)).toEqual(['message']);
      expect(body.message).toMatch(message);
    }
    const unauthenticated = await t.alpha.request('GET', '/rating/v2/summary', undefined, { 'x-auth-token': 'nope' });
    expect(unauthenticated.status).toBe(401);
    expect(Object.keys((await unauthenticated.json()) as Body)).toEqual(['message']);
  });

  it('takes injection strings in filters and groupby as data', async () => {
    for (const s of INJECTIONS) {
      const clean = s.replace(/[,:]/g, '');
      expect(await json(t.admin, `/v2/summary${q({ ...WINDOW, filters: [`project_id:${clean}`, `${clean}:${clean}`] })}`)).toEqual({ total: 0, columns: [], results: [], format: 'table' });
      const grouped = await json(t.admin, `/v2/summary${q({ ...WINDOW, groupby: clean, response_format: 'object' })}`);
      expect(grouped.total).toBe(clean === INJECTIONS[1] ? 2 : 1);
    }
    const found = await json(t.admin, `/v2/summary${q({ ...WINDOW, groupby: INJECTIONS[1]!, filters: `${INJECTIONS[1]}:found`, response_format: 'object' })}`);
    expect(found.results).toEqual([{ begin: v2(at(0)), end: v2(at(48)), qty: 1, rate: 5.5, [INJECTIONS[1]!]: 'found' }]);
    expect(await raw(t.admin, `/v1/report/total${q({ ...WINDOW, all_tenants: true })}`)).toBe('7.605000001');
  });
});

describe('/v2/dataframes', () => {
  const v2 = (d: Date) => d.toISOString().slice(0, 19) + '+00:00';
  interface Point {
    vol: { unit: string; qty: number };
    rating: { price: number };
    groupby: Record<string, string>;
    metadata: Record<string, string>;
  }
  interface Dataframe {
    period: { begin: string; end: string };
    usage: Record<string, Point[]>;
  }
  /** Every point of a page, flattened in order: [begin, service, resource, price]. */
  const points = (dataframes: Dataframe[]) => dataframes.flatMap((d) => Object.entries(d.usage).flatMap(([service, list]) => list.map((p) => [d.period.begin, service, p.groupby.id, p.rating.price])));

  it("answers CloudKitty's dataframes: points by period and service, prices exact", async () => {
    const body = await json(t.alpha, `/v2/dataframes${q(WINDOW)}`);
    const mine = inWindow().filter((f) => f.project === A);
    expect(body.total).toBe(mine.length);
    const dataframes = body.dataframes as Dataframe[];
    expect(dataframes[0]).toEqual({
      usage: {
        instance: [{ vol: { unit: 'instance', qty: 1 }, rating: { price: 0.1 }, groupby: { stack_id: 'web', 'tag:team': 'blue', id: 'vm-a1', user_id: `user-${A}`, project_id: A }, metadata: { flavor_name: 'm1.small' } }],
        'volume.size': [{ vol: { unit: 'GiB', qty: 10 }, rating: { price: 1e-9 }, groupby: { stack_id: 'db', id: 'vol-a1', user_id: `user-${A}`, project_id: A }, metadata: { volume_type: 'ssd' } }],
      },
      period: { begin: v2(at(0)), end: v2(at(1)) },
    });
    expect(dataframes.map((d) => d.period.begin)).toEqual([v2(at(0)), v2(at(1)), v2(at(47))]);
    expect(await raw(t.alpha, `/v2/dataframes${q(WINDOW)}`)).toContain('"rating":{"price":0.000000001}');
  });

  it('pages points stable and complete', async () => {
    const whole = points((await json(t.admin, `/v2/dataframes${q(WINDOW)}`)).dataframes as Dataframe[]);
    expect(whole).toHaveLength(inWindow().length);
    const expected = [...inWindow()]
      .sort((x, y) => x.start.getTime() - y.start.getTime() || bytewise(x.service, y.service) || bytewise(x.project, y.project) || bytewise(x.resource, y.resource))
      .map((f) => [v2(f.start), f.service, f.resource, Number(f.cost)]);
    expect(whole).toEqual(expected);
    const paged = [];
    for (let offset = 0; offset < whole.length + 2; offset += 3) {
      const page = await json(t.admin, `/v2/dataframes${q({ ...WINDOW, offset, limit: 3 })}`);
      expect(page.total).toBe(whole.length);
      paged.push(...points(page.dataframes as Dataframe[]));
    }
    expect(paged).toEqual(whole);
  });

  it('filters by type and keys; each key once', async () => {
    const volumes = await json(t.admin, `/v2/dataframes${q({ ...WINDOW, filters: 'type:volume.size' })}`);
    expect(points(volumes.dataframes as Dataframe[])).toEqual([[v2(at(0)), 'volume.size', 'vol-a1', 1e-9]]);
    const res = await get(t.admin, `/v2/dataframes${q({ filters: 'type:instance,type:volume.size' })}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ message: expect.stringMatching(/filters.*"type" is already given/) });
  });

  it("answers 404 alike for another project and for none, as CloudKitty's empty answer", async () => {
    const answers = await Promise.all([`project_id:${B}`, `project_id:${GHOST}`, 'id:nothing'].map((filters) => get(t.alpha, `/v2/dataframes${q({ ...WINDOW, filters })}`)));
    expect(answers.map((res) => res.status)).toEqual([404, 404, 404]);
    const bodies = await Promise.all(answers.map((res) => res.json()));
    for (const body of bodies) expect(body).toEqual({ message: 'No resource found for provided filters.' });
    expect(points((await json(t.beta, `/v2/dataframes${q(WINDOW)}`)).dataframes as Dataframe[]).map((p) => p[2])).toEqual(['vm-b1', 'ip-b1']);
    for (const s of INJECTIONS) expect((await get(t.admin, `/v2/dataframes${q({ filters: `id:${s.replace(/[,:]/g, '')}` })}`)).status).toBe(404);
  });
});
