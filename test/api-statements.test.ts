import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/index.ts';
import { startApiTenants, type ApiTenants, type Caller } from './support/api-tenants.ts';
import { parseCsv } from './support/csv.ts';

/**
 * Statements, running costs and cost by application under /rating/v1, with the admin and
 * two project members. A month of rated frames with awkward decimals is written straight
 * into `rated_usage`; every figure expected below is computed here, from the frames, with
 * decimal.js (and the key ones also written out by hand).
 */

const Exact = Decimal.clone({ precision: 40 });
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SEPTEMBER = Date.UTC(2026, 8, 1);
const OCTOBER = Date.UTC(2026, 9, 1);
const NOVEMBER = Date.UTC(2026, 10, 1);
/** The platform's clock: September is closed (issued statements), October is open (drafts, running costs). */
const NOW = new Date('2026-10-20T06:30:00Z');
const RATED_THROUGH = Date.UTC(2026, 9, 20, 6);

const INJECTIONS = ["' OR 1=1 --", "x'); DROP TABLE rated_usage; --", 'a\\', '"quoted"', '{project_ids:Array(String)}'];
const VOLUME_NAME = `O'Brien's "data", <disk>`;
const CSV_TRAP = '=HYPERLINK("http://x","y")';

interface Frame {
  project: string;
  service: string;
  resource: string;
  type: string;
  unit: string;
  start: number;
  quantity: string;
  price: string;
  cost: string;
  groupby?: Record<string, string>;
  metadata?: Record<string, string>;
  /** Later wins (a re-rating). */
  ratedAt?: number;
}

let t: ApiTenants;
let pA: string;
let pB: string;
const pNew = 'a0b1c2d3-new-project';
let frames: Frame[] = [];

const hours = (from: number, count: number, make: (start: number, i: number) => Omit<Frame, 'start'>): Frame[] => Array.from({ length: count }, (_, i) => ({ ...make(from + i * HOUR, i), start: from + i * HOUR }));

function seedFrames(): Frame[] {
  const vm = { service: 'instance', resource: 'vm-a1', type: 'instance', unit: 'instance', quantity: '1', groupby: { stack_id: 'stack-web', 'tag:env': 'prod' }, metadata: { display_name: 'web-1' } };
  const vol = { service: 'volume.size', resource: 'vol-a1', type: 'volume', unit: 'GiB-hour', quantity: '20', groupby: { stack_id: 'stack-web', 'tag:env': 'dev' }, metadata: { name: VOLUME_NAME, volume_type: 'ssd' } };
  return [
    // alpha, September: an instance resized mid-month (a second price), its first hour rated twice (the later rating wins),
    ...hours(SEPTEMBER, 360, () => ({ ...vm, project: pA, price: '0.017123457', cost: '0.017123457', metadata: { ...vm.metadata, flavor_name: 'm1.small' } })),
    { ...vm, project: pA, start: SEPTEMBER, price: '0.017123457', cost: '9.999999999', ratedAt: -1 },
    ...hours(SEPTEMBER + 15 * DAY, 360, () => ({ ...vm, project: pA, price: '0.034246914', cost: '0.034246914', metadata: { ...vm.metadata, flavor_name: 'm1.medium' } })),
    // a volume whose price changed on the 11th,
    ...hours(SEPTEMBER, 240, () => ({ ...vol, project: pA, price: '0.000138889', cost: '0.002777780' })),
    ...hours(SEPTEMBER + 10 * DAY, 480, () => ({ ...vol, project: pA, price: '0.000152778', cost: '0.003055560' })),
    // a floating IP held all month (attached or not), without an application,
    ...hours(SEPTEMBER, 720, () => ({ project: pA, service: 'ip.floating', resource: 'fip-a1', type: 'network', unit: 'ip-hour', quantity: '1', price: '0.004999999', cost: '0.004999999' })),
    // and an image whose three frames add up to exactly half a cent (half-up: 0.01).
    ...(['0.001666667', '0.001666667', '0.001666666'] as const).map((cost, i) => ({ project: pA, service: 'image.size', resource: 'img-a1', type: 'image', unit: 'GiB-hour', quantity: '0.5', price: '0.003333333', cost, start: SEPTEMBER + (100 + i) * HOUR })),
    // beta, September: one instance of another stack.
    ...hours(SEPTEMBER, 100, () => ({ project: pB, service: 'instance', resource: 'vm-b1', type: 'instance', unit: 'instance', quantity: '1', price: '0.123456789', cost: '0.123456789', groupby: { stack_id: 'stack-b', 'tag:env': 'prod' }, metadata: { display_name: CSV_TRAP } })),
    // October so far: alpha's instance (dearer from the 13th, 12:00), and a project rated only since the 18th, idle since the 20th 00:00.
    ...hours(OCTOBER, 462, (_, i) => ({ ...vm, project: pA, price: i < 300 ? '0.010000001' : '0.020000003', cost: i < 300 ? '0.010000001' : '0.020000003' })),
    ...hours(Date.UTC(2026, 9, 18), 48, () => ({ project: pNew, service: 'instance', resource: 'vm-n1', type: 'instance', unit: 'instance', quantity: '1', price: '0.1', cost: '0.100000000' })),
  ];
}

const row = (f: Frame) => ({
  project_id: f.project,
  user_id: 'u-1',
  resource_id: f.resource,
  resource_type: f.type,
  service: f.service,
  period_start: new Date(f.start).toISOString(),
  period_end: new Date(f.start + HOUR).toISOString(),
  quantity: f.quantity,
  unit: f.unit,
  price: f.price,
  cost: f.cost,
  currency: 'EUR',
  rule_id: 'rule-1',
  groupby: { project_id: f.project, ...(f.groupby ?? {}) },
  metadata: f.metadata ?? {},
  rated_at: new Date(NOW.getTime() - DAY + (f.ratedAt ?? 0) * 1000).toISOString(),
});

/** The frames as FINAL reads them: per (project, start, service, resource), the latest rating. */
function effective(): Frame[] {
  const latest = new Map<string, Frame>();
  for (const f of frames) {
    const key = `${f.project}|${f.start}|${f.service}|${f.resource}`;
    const seen = latest.get(key);
    if (!seen || (f.ratedAt ?? 0) >= (seen.ratedAt ?? 0)) latest.set(key, f);
  }
  return [...latest.values()];
}

const halfUp = (d: Decimal) => d.toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);
const sum = (values: Iterable<Decimal.Value>) => [...values].reduce<Decimal>((s, v) => s.plus(v), new Exact(0));

interface ExpectedLine {
  project_id: string;
  service: string;
  resource_id: string;
  quantity: string;
  unit_price: string;
  amount: string;
  exact_amount: string;
}

/** A statement's lines and totals, computed from the frames by the documented rule. */
function expectedStatement(projects: string[], from: number, to: number) {
  const groups = new Map<string, Frame[]>();
  for (const f of effective().filter((f) => projects.includes(f.project) && f.start >= from && f.start < to)) {
    const key = JSON.stringify([f.project, f.service, f.resource, f.unit, new Exact(f.price).toFixed()]);
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const lines: ExpectedLine[] = [...groups.values()].map((fs) => {
    const exact = sum(fs.map((f) => f.cost));
    return {
      project_id: fs[0]!.project,
      service: fs[0]!.service,
      resource_id: fs[0]!.resource,
      quantity: sum(fs.map((f) => f.quantity)).toFixed(),
      unit_price: new Exact(fs[0]!.price).toFixed(),
      amount: halfUp(exact),
      exact_amount: exact.toFixed(9),
    };
  });
  const services = [...new Set(lines.map((l) => l.service))].sort().map((service) => {
    const mine = lines.filter((l) => l.service === service);
    return { service, lines: mine, total: sum(mine.map((l) => l.amount)).toFixed(2) };
  });
  return { services, total: sum(services.map((s) => s.total)).toFixed(2) };
}

interface StatementBody {
  number: string | null;
  revision: number | null;
  status: 'draft' | 'issued';
  issued_at: string | null;
  supersedes: string | null;
  scope: { type: string; id: string; project_ids: string[] };
  period: { month: string; start: string; end: string };
  currency: string;
  total: string;
  services: Array<{ service: string; total: string; lines: Array<ExpectedLine & { resource_type: string; display_name: string | null; unit: string; from: string; to: string }> }>;
  daily: Array<{ date: string; amount: string }>;
}

async function ok<T>(res: Response): Promise<T> {
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as T;
}
const get = <T>(caller: Caller, path: string) => caller.get(path).then((res) => ok<T>(res));

/** The WSME fault of a refusal, after checking its status. */
async function refused(res: Response, status: number): Promise<string> {
  expect(res.status, await res.clone().text()).toBe(status);
  const body = (await res.json()) as { error_message: { faultcode: string; faultstring: string } };
  expect(body.error_message.faultcode).toBe(status < 500 ? 'Client' : 'Server');
  return body.error_message.faultstring;
}

beforeAll(async () => {
  t = await startApiTenants({}, { clock: new ManualClock(NOW) });
  pA = t.alpha.projectId;
  pB = t.beta.projectId;
  frames = seedFrames();
  // Two inserts: the first rating of alpha's first hour lands in its own part, so only FINAL hides it.
  await t.platform.store.insert('rated_usage', frames.filter((f) => f.ratedAt === -1).map(row));
  await t.platform.store.insert('rated_usage', frames.filter((f) => f.ratedAt !== -1).map(row));
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

describe('a project statement', () => {
  let statement: StatementBody;

  it('has every line and total as computed by hand, and the figures written out agree', async () => {
    statement = await get<StatementBody>(t.alpha, '/rating/v1/statements?month=2026-09');
    const expected = expectedStatement([pA], SEPTEMBER, OCTOBER);
    expect(statement.services.map((s) => ({ service: s.service, total: s.total, lines: s.lines.map(({ project_id, service, resource_id, quantity, unit_price, amount, exact_amount }) => ({ project_id, service, resource_id, quantity, unit_price, amount, exact_amount })) }))).toEqual(
      expected.services.map((s) => ({ ...s, lines: [...s.lines].sort((a, b) => (a.resource_id < b.resource_id ? -1 : a.resource_id > b.resource_id ? 1 : Number(a.unit_price) - Number(b.unit_price))) })),
    );
    expect(statement.total).toBe(expected.total);
    // By hand: 360 x 0.017123457 = 6.164444520; 360 x 0.034246914 = 12.328889040; 240 x 0.00277778 = 0.6666672;
    // 480 x 0.00305556 = 1.4666688; 720 x 0.004999999 = 3.59999928; 0.001666667 x 2 + 0.001666666 = 0.005.
    const amounts = Object.fromEntries(statement.services.map((s) => [s.service, s.lines.map((l) => l.amount)]));
    expect(amounts).toEqual({ 'image.size': ['0.01'], instance: ['6.16', '12.33'], 'ip.floating': ['3.60'], 'volume.size': ['0.67', '1.47'] });
    expect(statement.services.map((s) => s.total)).toEqual(['0.01', '18.49', '3.60', '2.14']);
    // The sum of the rounded lines (24.24), not the rounded exact sum (24.23166884 -> 24.23): the documented rule.
    expect(statement.total).toBe('24.24');
    expect(halfUp(sum(effective().filter((f) => f.project === pA && f.start < OCTOBER).map((f) => f.cost)))).toBe('24.23');
  });

  it('describes each resource: type, display name from its metadata, quantity and unit, unit price, the period', () => {
    const instance = statement.services.find((s) => s.service === 'instance')!;
    expect(instance.lines[0]).toEqual({
      project_id: pA,
      service: 'instance',
      resource_id: 'vm-a1',
      resource_type: 'instance',
      display_name: 'web-1',
      quantity: '360',
      unit: 'instance',
      unit_price: '0.017123457',
      amount: '6.16',
      exact_amount: '6.164444520',
      from: '2026-09-01T00:00:00Z',
      to: '2026-09-16T00:00:00Z',
    });
    const volume = statement.services.find((s) => s.service === 'volume.size')!;
    expect(volume.lines.map((l) => [l.display_name, l.quantity, l.unit, l.unit_price])).toEqual([
      [VOLUME_NAME, '4800', 'GiB-hour', '0.000138889'],
      [VOLUME_NAME, '9600', 'GiB-hour', '0.000152778'],
    ]);
    expect(statement.services.find((s) => s.service === 'ip.floating')!.lines[0]).toMatchObject({ display_name: null, resource_type: 'network', quantity: '720' });
    expect(statement).toMatchObject({
      status: 'issued',
      revision: 1,
      supersedes: null,
      currency: 'EUR',
      scope: { type: 'project', id: pA, project_ids: [pA] },
      period: { month: '2026-09', start: '2026-09-01T00:00:00.000Z', end: '2026-10-01T00:00:00.000Z' },
      issued_at: NOW.toISOString(),
    });
  });

  it('has a daily trend: each day rounded from its exact sum', () => {
    const byDay = new Map<string, Decimal>();
    for (const f of effective().filter((f) => f.project === pA && f.start >= SEPTEMBER && f.start < OCTOBER)) {
      const day = new Date(f.start).toISOString().slice(0, 10);
      byDay.set(day, (byDay.get(day) ?? new Exact(0)).plus(f.cost));
    }
    expect(statement.daily).toEqual([...byDay.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([date, exact]) => ({ date, amount: halfUp(exact) })));
    expect(statement.daily).toHaveLength(30);
  });

  it('keeps its number when rendered again, in any format', async () => {
    expect(statement.number).toMatch(new RegExp(`^CUM-202609-${pA.replace(/[^a-z0-9]/gi, '').slice(0, 8).toLowerCase()}-000001$`));
    const again = await get<StatementBody>(t.admin, `/rating/v1/statements?month=2026-09&project_id=${pA}`);
    expect(again).toEqual(statement);
    const csv = await t.alpha.request('GET', '/rating/v1/statements?month=2026-09&format=csv');
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(parseCsv(await csv.text())[1]?.[1]).toBe(statement.number);
  });

  it('answers CSV that parses back to the same lines and totals', async () => {
    const res = await t.alpha.request('GET', '/rating/v1/statements?month=2026-09', undefined, { accept: 'text/csv' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${statement.number}.csv"`);
    const [header, ...records] = parseCsv(await res.text());
    expect(header).toEqual(['record', 'statement_number', 'status', 'month', 'currency', 'project_id', 'service', 'resource_id', 'resource_type', 'display_name', 'quantity', 'unit', 'unit_price', 'amount', 'from', 'to']);
    const objects = records.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]])));
    const lines = objects.filter((o) => o.record === 'line');
    expect(lines.map((o) => [o.service, o.resource_id, o.display_name, o.quantity, o.unit, o.unit_price, o.amount])).toEqual(
      statement.services.flatMap((s) => s.lines.map((l) => [l.service, l.resource_id, l.display_name ?? '', l.quantity, l.unit, l.unit_price, l.amount])),
    );
    expect(objects.filter((o) => o.record === 'service_total').map((o) => [o.service, o.amount])).toEqual(statement.services.map((s) => [s.service, s.total]));
    expect(objects.filter((o) => o.record === 'total').map((o) => o.amount)).toEqual(['24.24']);
    // The lines add up to the service totals and the total, in the CSV alone.
    expect(sum(lines.map((o) => o.amount as string)).toFixed(2)).toBe('24.24');
    expect(new Set(objects.map((o) => `${o.statement_number}|${o.status}|${o.month}|${o.currency}`))).toEqual(new Set([`${statement.number}|issued|2026-09|EUR`]));
  });

  it('answers HTML and PDF', async () => {
    const html = await t.alpha.request('GET', '/rating/v1/statements?month=2026-09&format=html');
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await html.text();
    expect(page).toContain(statement.number as string);
    expect(page).toContain('O&#39;Brien&#39;s &quot;data&quot;, &lt;disk&gt;');
    const pdf = await t.alpha.request('GET', '/rating/v1/statements?month=2026-09', undefined, { accept: 'application/pdf' });
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });

  it('is a draft without a number while the month is open', async () => {
    const october = await get<StatementBody>(t.alpha, '/rating/v1/statements?month=2026-10');
    expect(october).toMatchObject({ status: 'draft', number: null, revision: null, issued_at: null });
    const expected = expectedStatement([pA], OCTOBER, NOVEMBER);
    expect(october.total).toBe(expected.total);
    // 300 x 0.010000001 + 162 x 0.020000003 = 6.240000786
    expect(october.total).toBe('6.24');
    const issued = await get<{ statements: Array<{ month: string }> }>(t.admin, '/rating/v1/statements/issued?month=2026-10');
    expect(issued.statements).toEqual([]);
  });
});

describe('who sees which statement', () => {
  it("lets members see only their own project's: another project's answers 404 like one without usage", async () => {
    const beta = await get<StatementBody>(t.beta, '/rating/v1/statements?month=2026-09');
    expect(beta.scope.id).toBe(pB);
    // 100 x 0.123456789 = 12.3456789
    expect(beta.total).toBe('12.35');
    expect(beta.services.flatMap((s) => s.lines.map((l) => l.resource_id))).toEqual(['vm-b1']);
    expect(beta.number).toMatch(/-000002$/);
    const other = await refused(await t.beta.get(`/rating/v1/statements?month=2026-09&project_id=${pA}`), 404);
    const none = await refused(await t.admin.get('/rating/v1/statements?month=2026-09&project_id=nobody'), 404);
    expect(other).toBe(`No statement: project ${pA} has no rated usage in 2026-09.`);
    expect(none).toBe('No statement: project nobody has no rated usage in 2026-09.');
    // The admin's own project has no usage.
    await refused(await t.admin.get('/rating/v1/statements?month=2026-09'), 404);
  });

  it('lists issued statements: members their own, the admin all; one issued statement by number, as issued', async () => {
    const all = await get<{ statements: Array<{ number: string; scope: { id: string }; total: string }> }>(t.admin, '/rating/v1/statements/issued?month=2026-09');
    expect(all.statements.map((s) => [s.scope.id, s.total]).sort()).toEqual([
      [pA, '24.24'],
      [pB, '12.35'],
    ].sort());
    const mine = await get<{ statements: Array<{ scope: { id: string } }> }>(t.alpha, '/rating/v1/statements/issued');
    expect(mine.statements.map((s) => s.scope.id)).toEqual([pA]);
    expect((await get<{ statements: unknown[] }>(t.alpha, `/rating/v1/statements/issued?project_id=${pB}`)).statements).toEqual([]);
    const alphaNumber = all.statements.find((s) => s.scope.id === pA)!.number;
    const byNumber = await get<StatementBody>(t.alpha, `/rating/v1/statements/issued/${alphaNumber}`);
    expect(byNumber).toMatchObject({ number: alphaNumber, total: '24.24', status: 'issued' });
    await refused(await t.beta.get(`/rating/v1/statements/issued/${alphaNumber}`), 404);
    await refused(await t.admin.get(`/rating/v1/statements/issued/${encodeURIComponent("CUM' OR 1=1 --")}`), 404);
  });

  it("gives an admin a domain's statement over the listed projects; refuses it to members", async () => {
    const domain = await get<StatementBody>(t.admin, `/rating/v1/statements?month=2026-09&domain_id=default&project_id=${pB}&project_id=${pA}`);
    const expected = expectedStatement([pA, pB], SEPTEMBER, OCTOBER);
    expect(domain.scope).toEqual({ type: 'domain', id: 'default', project_ids: [pA, pB].sort() });
    expect(domain.services.map((s) => [s.service, s.total])).toEqual(expected.services.map((s) => [s.service, s.total]));
    // 24.24 + 12.35
    expect(domain.total).toBe('36.59');
    expect(domain.number).toBe('CUM-202609-Ddefault-000003');
    expect(await refused(await t.alpha.get(`/rating/v1/statements?month=2026-09&domain_id=default&project_id=${pA}`), 403)).toMatch(/Domain statements are for operators/);
    // Without a list: every project Keystone has in the domain (the admin's and the tenants').
    const whole = await get<StatementBody>(t.admin, '/rating/v1/statements?month=2026-09&domain_id=default');
    expect(whole.scope.project_ids).toEqual(expect.arrayContaining([pA, pB, t.admin.projectId]));
    expect(whole.total).toBe('36.59');
    expect(await refused(await t.admin.get(`/rating/v1/statements?month=2026-09&domain_id=default&project_id=${pA}&project_id=nobody`), 400)).toBe('Invalid value for project_id: expected projects of domain default, got ["nobody"]');
    expect(await refused(await t.admin.get('/rating/v1/statements?month=2026-09&domain_id=elsewhere'), 404)).toBe('Domain elsewhere not found in Keystone');
  });

  it('issues the month on demand (admins only), keeping the numbers already given', async () => {
    expect(await refused(await t.alpha.post('/rating/v1/statements/issue', { month: '2026-09' }), 403)).toMatch(/statement:issue/);
    const issue = await ok<{ month: string; statements: Array<{ project_id: string; number: string; outcome: string; total: string }> }>(await t.admin.post('/rating/v1/statements/issue', { month: '2026-09' }));
    expect(issue.month).toBe('2026-09');
    expect(issue.statements.filter((s) => s.project_id === pA || s.project_id === pB).map((s) => [s.project_id, s.outcome, s.total]).sort()).toEqual(
      [
        [pA, 'unchanged', '24.24'],
        [pB, 'unchanged', '12.35'],
      ].sort(),
    );
    expect(await refused(await t.admin.post('/rating/v1/statements/issue', { month: '2026-10' }), 409)).toMatch(/still open/);
    // Without a body: the previous month.
    const defaulted = await ok<{ month: string; statements: Array<{ outcome: string }> }>(await t.admin.request('POST', '/rating/v1/statements/issue'));
    expect(defaulted.month).toBe('2026-09');
    expect(new Set(defaulted.statements.map((s) => s.outcome))).toEqual(new Set(['unchanged']));
  });

  it('re-issues a statement whose content reprocessing changed, as the next revision of the same number', async () => {
    const before = await get<StatementBody>(t.beta, '/rating/v1/statements?month=2026-09');
    const rerated: Frame = { ...frames.find((f) => f.project === pB)!, cost: '1.000000000', ratedAt: 60 };
    frames.push(rerated);
    await t.platform.store.insert('rated_usage', [row(rerated)]);
    const after = await get<StatementBody>(t.beta, '/rating/v1/statements?month=2026-09');
    // 99 x 0.123456789 + 1 = 13.222222111
    expect(after.total).toBe('13.22');
    expect(after.total).toBe(expectedStatement([pB], SEPTEMBER, OCTOBER).total);
    expect(after).toMatchObject({ number: `${before.number}-R2`, revision: 2, supersedes: before.number });
    // The first issue is still there as issued, and says what replaced it.
    expect(await get<StatementBody>(t.beta, `/rating/v1/statements/issued/${before.number}`)).toMatchObject({ total: '12.35', number: before.number });
    const listed = await get<{ statements: Array<{ number: string; superseded_by: string | null }> }>(t.beta, '/rating/v1/statements/issued?month=2026-09');
    expect(listed.statements.map((s) => [s.number, s.superseded_by])).toEqual([
      [before.number, `${before.number}-R2`],
      [`${before.number}-R2`, null],
    ]);
  });
});

describe('running costs', () => {
  /** The documented projection, computed here: MTD + window cost x remaining / window length. */
  function expectedRunning(project: string, windowStart: number) {
    const live = effective().filter((f) => f.project === project);
    const mtd = sum(live.filter((f) => f.start >= OCTOBER && f.start < RATED_THROUGH).map((f) => f.cost));
    const windowCost = sum(live.filter((f) => f.start >= windowStart && f.start < RATED_THROUGH).map((f) => f.cost));
    const windowMs = RATED_THROUGH - windowStart;
    const remainingMs = NOVEMBER - RATED_THROUGH;
    const projected = mtd.plus(windowCost.times(remainingMs).div(windowMs));
    return { mtd, windowCost, projected, daily: windowCost.times(DAY).div(windowMs), windowDays: new Exact(windowMs).div(DAY).toFixed(), remainingDays: new Exact(remainingMs).div(DAY).toFixed() };
  }

  it('gives month-to-date and the projected end of month in exact decimals', async () => {
    const running = await get<Record<string, any>>(t.alpha, '/rating/v1/costs/running');
    const windowStart = RATED_THROUGH - 7 * DAY;
    const e = expectedRunning(pA, windowStart);
    expect(running).toMatchObject({
      project_id: pA,
      currency: 'EUR',
      month: '2026-10',
      as_of: NOW.toISOString(),
      rated_through: new Date(RATED_THROUGH).toISOString(),
      month_to_date: halfUp(e.mtd),
      month_to_date_exact: e.mtd.toFixed(9),
      projection: {
        window: { start: new Date(windowStart).toISOString(), end: new Date(RATED_THROUGH).toISOString(), days: '7' },
        window_cost: e.windowCost.toFixed(9),
        daily_average: e.daily.toDecimalPlaces(9).toFixed(9),
        remaining_days: '11.75',
        end_of_month: halfUp(e.projected),
        end_of_month_exact: e.projected.toDecimalPlaces(9).toFixed(9),
      },
    });
    // By hand: MTD 6.240000786; window 6 x 0.010000001 + 162 x 0.020000003 = 3.300000492;
    // 6.240000786 + 3.300000492 x 11.75 / 7 = 11.779287326142857...
    expect(running.month_to_date_exact).toBe('6.240000786');
    expect(running.projection.window_cost).toBe('3.300000492');
    expect(running.projection.end_of_month_exact).toBe('11.779287326');
    expect(running.projection.end_of_month).toBe('11.78');
  });

  it("projects a project rated for less than 7 days over its own life, and counts its idle hours", async () => {
    const running = await get<Record<string, any>>(t.admin, `/rating/v1/costs/running?project_id=${pNew}`);
    const e = expectedRunning(pNew, Date.UTC(2026, 9, 18));
    expect(running.projection.window).toEqual({ start: '2026-10-18T00:00:00.000Z', end: '2026-10-20T06:00:00.000Z', days: '2.25' });
    expect(running.month_to_date_exact).toBe('4.800000000');
    // 4.8 + 4.8 x 11.75 / 2.25 = 29.866666666...
    expect(running.projection.end_of_month_exact).toBe(e.projected.toDecimalPlaces(9).toFixed(9));
    expect(running.projection.end_of_month_exact).toBe('29.866666667');
    expect(running.projection.end_of_month).toBe('29.87');
  });

  it('is zero for a project without October usage; members read only their own', async () => {
    const beta = await get<Record<string, any>>(t.beta, '/rating/v1/costs/running');
    expect([beta.month_to_date, beta.projection.end_of_month, beta.projection.window.days]).toEqual(['0.00', '0.00', '7']);
    await refused(await t.beta.get(`/rating/v1/costs/running?project_id=${pA}`), 404);
  });
});

describe('cost by application', () => {
  /** Per application and service, the exact sums rounded; totals of the rounded figures. */
  function expectedApplications(key: string, projects: string[] | null) {
    const groups = new Map<string | null, Map<string, Decimal>>();
    for (const f of effective().filter((f) => f.start >= SEPTEMBER && f.start < OCTOBER && (projects === null || projects.includes(f.project)))) {
      const app = f.groupby?.[key] ?? null;
      const services = groups.get(app) ?? new Map<string, Decimal>();
      services.set(f.service, (services.get(f.service) ?? new Exact(0)).plus(f.cost));
      groups.set(app, services);
    }
    const applications = [...groups.entries()]
      .sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : a < b ? -1 : 1))
      .map(([application, services]) => {
        const list = [...services.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([service, exact]) => ({ service, amount: halfUp(exact), exact_amount: exact.toFixed(9) }));
        return { application, services: list, total: sum(list.map((s) => s.amount)).toFixed(2) };
      });
    return { applications, total: sum(applications.map((a) => a.total)).toFixed(2) };
  }

  it('groups by Heat stack', async () => {
    const body = await get<Record<string, any>>(t.admin, '/rating/v1/costs/by-application?month=2026-09&by=stack');
    expect(body).toMatchObject({ month: '2026-09', by: 'stack', key: 'stack_id', currency: 'EUR', project_id: null });
    expect({ applications: body.applications, total: body.total }).toEqual(expectedApplications('stack_id', null));
    // By hand: stack-web = 18.49 (instance) + 2.13 (volume, 2.133336 exact) = 20.62; unassigned = 3.60 + 0.01.
    expect(body.applications.map((a: { application: string | null; total: string }) => [a.application, a.total])).toEqual([
      ['stack-b', '13.22'],
      ['stack-web', '20.62'],
      [null, '3.61'],
    ]);
  });

  it('groups by a tag, and members see only their project', async () => {
    const admin = await get<Record<string, any>>(t.admin, '/rating/v1/costs/by-application?month=2026-09&by=tag:env');
    expect({ applications: admin.applications, total: admin.total }).toEqual(expectedApplications('tag:env', null));
    expect(admin.applications.map((a: { application: string | null }) => a.application)).toEqual(['dev', 'prod', null]);
    const alpha = await get<Record<string, any>>(t.alpha, '/rating/v1/costs/by-application?month=2026-09&by=stack');
    expect({ applications: alpha.applications, total: alpha.total }).toEqual(expectedApplications('stack_id', [pA]));
    expect(alpha.project_id).toBe(pA);
    expect(alpha.total).toBe('24.23');
    await refused(await t.alpha.get(`/rating/v1/costs/by-application?month=2026-09&by=stack&project_id=${pB}`), 404);
    const onlyBeta = await get<Record<string, any>>(t.admin, `/rating/v1/costs/by-application?month=2026-09&by=stack&project_id=${pB}`);
    expect(onlyBeta.applications.map((a: { application: string }) => a.application)).toEqual(['stack-b']);
  });
});

describe('bad input', () => {
  it('answers 400 naming the field', async () => {
    const cases: Array<[Caller, string, RegExp]> = [
      [t.alpha, '/rating/v1/statements?month=2026-13', /querystring\.month must match pattern/],
      [t.alpha, '/rating/v1/statements?month=2030-01', /^Invalid value for month: expected a month that has begun \(up to 2026-10\), got "2030-01"/],
      [t.alpha, '/rating/v1/statements?month=2026-09&format=xml', /querystring\.format must be one of/],
      [t.alpha, '/rating/v1/statements?month=2026-09&projet_id=x', /querystring has an unknown field "projet_id"/],
      [t.admin, `/rating/v1/statements?month=2026-09&project_id=${pA}&project_id=${pB}`, /^Invalid value for project_id: expected one project id \(several only with domain_id\)/],
      [t.alpha, '/rating/v1/statements/issued?limit=0', /querystring\.limit must be >= 1/],
      [t.alpha, '/rating/v1/costs/by-application?month=2026-09', /querystring is missing the required field "by"/],
      [t.alpha, '/rating/v1/costs/by-application?month=2026-09&by=team', /querystring\.by must match pattern/],
      [t.alpha, '/rating/v1/costs/running?project=x', /querystring has an unknown field "project"/],
    ];
    for (const [caller, path, message] of cases) expect(await refused(await caller.get(path), 400), path).toMatch(message);
    expect(await refused(await t.admin.post('/rating/v1/statements/issue', { month: 'September' }), 400)).toMatch(/body\.month must match pattern/);
    expect(await refused(await t.admin.post('/rating/v1/statements/issue', { month: '2026-09', dry_run: true }), 400)).toMatch(/body\.dry_run is not an accepted field/);
  });

  it('takes injection strings through every filter as data', async () => {
    for (const text of INJECTIONS) {
      const q = encodeURIComponent(text);
      await refused(await t.admin.get(`/rating/v1/statements?month=2026-09&project_id=${q}`), 404);
      const domain = await t.admin.get(`/rating/v1/statements?month=2026-09&domain_id=${q}&project_id=${q}&project_id=${pB}`);
      expect(await refused(domain, 404)).toBe(`Domain ${text} not found in Keystone`);
      expect((await get<{ statements: unknown[] }>(t.admin, `/rating/v1/statements/issued?project_id=${q}`)).statements).toEqual([]);
      await refused(await t.admin.get(`/rating/v1/statements/issued/${q}`), 404);
      const running = await get<{ month_to_date: string }>(t.admin, `/rating/v1/costs/running?project_id=${q}`);
      expect(running.month_to_date).toBe('0.00');
      const byTag = await get<{ applications: Array<{ application: string | null }>; total: string }>(t.admin, `/rating/v1/costs/by-application?month=2026-09&by=tag:${q}`);
      expect(byTag.applications.map((a) => a.application)).toEqual([null]);
      expect(byTag.total).toBe(everythingTotal());
      expect((await get<{ applications: unknown[] }>(t.admin, `/rating/v1/costs/by-application?month=2026-09&by=stack&project_id=${q}`)).applications).toEqual([]);
    }
  });
});

/** Everything of September in one group: the rounded per-service sums, totalled. */
function everythingTotal(): string {
  const services = new Map<string, Decimal>();
  for (const f of effective().filter((f) => f.start >= SEPTEMBER && f.start < OCTOBER)) services.set(f.service, (services.get(f.service) ?? new Exact(0)).plus(f.cost));
  return sum([...services.values()].map(halfUp)).toFixed(2);
}
