import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedRatedUsage, type FrameSeed } from '../../test/support/rated-frames.ts';
import { openTempStore, type TempStore } from '../../test/support/temp-store.ts';
import { countRatedFrames, countRatedTotals, selectRatedFrames, selectRatedProjects, selectRatedTotals, type RatedFrameRow, type RatedTotalRow, type RatedUsageFilters } from './rating-reports.ts';

// A recent month (rows older than their retention would be dropped by the TTL).
const now = new Date();
const MONTH = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1);
const at = (hours: number) => new Date(MONTH + hours * 3_600_000);
const INJECTION = "x'); DROP TABLE rated_usage; --\\";

/** A frame and the run that rated it (ms after the month's start; a later run replaces an earlier one). */
type Seed = Omit<FrameSeed, 'start'> & { hour: number; ratedAt?: number };

const SEEDS: Seed[] = [
  { project: 'p1', hour: 0, service: 'instance', resource: 'vm-1', cost: '0.1', groupby: { stack_id: 'web' }, metadata: { flavor_name: 'm1.small' } },
  { project: 'p1', hour: 1, service: 'instance', resource: 'vm-1', cost: '0.2', groupby: { stack_id: 'web' }, metadata: { flavor_name: 'm1.small' } },
  { project: 'p1', hour: 1, service: 'volume.size', resource: 'vol-1', cost: '0.000000001', qty: '10', groupby: { stack_id: 'db', 'tag:team': 'blue' } },
  { project: 'p2', hour: 0, service: 'instance', resource: 'vm-2', cost: '1.5', groupby: { [INJECTION]: 'v' }, metadata: { flavor_name: INJECTION } },
  // The last hour of the range: included; the next hour: excluded.
  { project: 'p2', hour: 47, service: 'instance', resource: 'vm-2', cost: '0.7' },
  { project: 'p2', hour: 48, service: 'instance', resource: 'vm-2', cost: '100' },
  // Rated twice: the later rating replaces the first (FINAL).
  { project: 'p3', hour: 2, service: 'instance', resource: 'vm-3', cost: '9', ratedAt: 1 },
  { project: 'p3', hour: 2, service: 'instance', resource: 'vm-3', cost: '0.3', ratedAt: 2 },
];

const ALL: RatedUsageFilters = { scope: null, begin: at(0), end: at(48) };
let t: TempStore;
const totals = (filters: RatedUsageFilters, groupby: string[] = [], page = { offset: 0, limit: 100 }) => t.store.query<RatedTotalRow>(selectRatedTotals({ filters, groupby, ...page }));
const count = async (filters: RatedUsageFilters, groupby: string[] = []) => Number((await t.store.query<{ total: string }>(countRatedTotals({ filters, groupby })))[0]?.total);
const sum = (...values: string[]) => values.reduce((a, v) => a.plus(v), new Decimal(0));

beforeAll(async () => {
  t = await openTempStore('cumulus-rating-reports-');
  // Separate inserts, so the replaced row sits in another part until FINAL merges it.
  for (const { hour, ratedAt, ...seed } of SEEDS) await seedRatedUsage(t.store, [{ ...seed, start: at(hour) }], new Date(MONTH + (ratedAt ?? 0)));
});
afterAll(async () => t?.close());

describe('rated usage totals', () => {
  it('sums costs exactly over [begin, end), the latest rating of a frame winning', async () => {
    const [grand] = await totals(ALL);
    const expected = sum('0.1', '0.2', '0.000000001', '1.5', '0.7', '0.3');
    expect(new Decimal(grand!.rate).equals(expected)).toBe(true);
    expect(grand!.rate).toBe('2.800000001');
    expect(new Decimal(grand!.qty).equals(sum('1', '1', '10', '1', '1', '1'))).toBe(true);
    expect(await count(ALL)).toBe(1);
  });

  it('has no grand-total row when nothing matches', async () => {
    const none = { ...ALL, begin: at(100), end: at(200) };
    expect(await totals(none)).toEqual([]);
    expect(await count(none)).toBe(0);
  });

  it('groups by columns, map keys and time, ordered by the keys', async () => {
    const byProjectType = await totals(ALL, ['project_id', 'type']);
    expect(byProjectType.map((r) => [r.g0, r.g1, r.rate])).toEqual([
      ['p1', 'instance', '0.3'],
      ['p1', 'volume.size', '0.000000001'],
      ['p2', 'instance', '2.2'],
      ['p3', 'instance', '0.3'],
    ]);
    expect(await count(ALL, ['project_id', 'type'])).toBe(4);
    const byStack = await totals(ALL, ['stack_id']);
    expect(byStack.map((r) => [r.g0, r.rate])).toEqual([
      ['', '2.5'],
      ['db', '0.000000001'],
      ['web', '0.3'],
    ]);
    const byTime = await totals({ ...ALL, scope: 'p1' }, ['time', 'id']);
    expect(byTime.map((r) => [r.t_begin, r.t_end, r.g1, r.rate])).toEqual([
      [fmt(at(0)), fmt(at(1)), 'vm-1', '0.1'],
      [fmt(at(1)), fmt(at(2)), 'vm-1', '0.2'],
      [fmt(at(1)), fmt(at(2)), 'vol-1', '0.000000001'],
    ]);
    const byDay = await totals(ALL, ['time-d', 'time-m', 'time-y']);
    const day = (h: number) => String(dayOfYear(at(h)));
    expect(byDay.map((r) => [r.g0, r.g1, r.g2, r.rate])).toEqual(
      [
        [day(0), String(at(0).getUTCMonth() + 1), String(at(0).getUTCFullYear()), '2.100000001'],
        [day(47), String(at(47).getUTCMonth() + 1), String(at(47).getUTCFullYear()), '0.7'],
      ].sort((a, b) => Number(a[0]) - Number(b[0])),
    );
  });

  it("numbers weeks as strftime's %U (Sunday first, week 00 before the first Sunday)", async () => {
    const [week] = await totals({ ...ALL, scope: 'p1' }, ['time-w']);
    const start = at(0);
    const jan1 = Date.UTC(start.getUTCFullYear(), 0, 1);
    const yday = Math.round((start.getTime() - jan1) / 86_400_000);
    expect(week!.g0).toBe(String(Math.floor((yday + 7 - start.getUTCDay()) / 7)).padStart(2, '0'));
  });

  it('filters on columns, groupby and metadata keys; values of a key are alternatives', async () => {
    const rate = async (match: RatedUsageFilters['match']) => (await totals({ ...ALL, match }))[0]?.rate;
    expect(await rate([['type', ['volume.size']]])).toBe('0.000000001');
    expect(await rate([['id', ['vm-1', 'vm-3']]])).toBe('0.6');
    expect(await rate([['user_id', ['user-p2']]])).toBe('2.2');
    expect(await rate([['flavor_name', ['m1.small']]])).toBe('0.3');
    expect(await rate([['tag:team', ['blue']]])).toBe('0.000000001');
    expect(await rate([['stack_id', ['web', 'db']], ['project_id', ['p1']]])).toBe('0.300000001');
    expect(await rate([['stack_id', ['nope']]])).toBeUndefined();
  });

  it('pages through groups without gaps or repeats', async () => {
    const all = await totals(ALL, ['id', 'time']);
    expect(all).toHaveLength(6);
    const pages = [];
    for (let offset = 0; offset < 8; offset += 4) pages.push(...(await totals(ALL, ['id', 'time'], { offset, limit: 4 })));
    expect(pages).toEqual(all);
    expect(await count(ALL, ['id', 'time'])).toBe(6);
  });

  it('keeps every key and value as data, never as SQL', async () => {
    const byKey = selectRatedTotals({ filters: { ...ALL, match: [['flavor_name', [INJECTION]]] }, groupby: [INJECTION, 'constructor'], offset: 0, limit: 10 });
    expect(byKey.sql).not.toContain('DROP');
    expect(byKey.sql).not.toContain('function');
    const rows = await t.store.query<RatedTotalRow>(byKey);
    expect(rows).toEqual([{ qty: '1', rate: '1.5', g0: 'v', g1: '' }]);
    expect(await totals({ ...ALL, scope: INJECTION })).toEqual([]);
  });
});

describe('rated frames', () => {
  it('pages frames by period, service, project and resource', async () => {
    const frames = await t.store.query<RatedFrameRow>(selectRatedFrames({ filters: ALL, offset: 0, limit: 100 }));
    expect(frames.map((f) => [f.period_start, f.service, f.project_id, f.resource_id, f.cost])).toEqual([
      [fmt(at(0)), 'instance', 'p1', 'vm-1', '0.1'],
      [fmt(at(0)), 'instance', 'p2', 'vm-2', '1.5'],
      [fmt(at(1)), 'instance', 'p1', 'vm-1', '0.2'],
      [fmt(at(1)), 'volume.size', 'p1', 'vol-1', '0.000000001'],
      [fmt(at(2)), 'instance', 'p3', 'vm-3', '0.3'],
      [fmt(at(47)), 'instance', 'p2', 'vm-2', '0.7'],
    ]);
    expect(frames[3]).toMatchObject({ qty: '10', unit: 'GiB', groupby: { stack_id: 'db', 'tag:team': 'blue' }, metadata: {}, user_id: 'user-p1', period_end: fmt(at(2)) });
    const paged = [];
    for (let offset = 0; offset < 6; offset += 4) paged.push(...(await t.store.query<RatedFrameRow>(selectRatedFrames({ filters: ALL, offset, limit: 4 }))));
    expect(paged).toEqual(frames);
    expect(await t.store.query(countRatedFrames(ALL))).toEqual([{ total: '6' }]);
    expect(await t.store.query(countRatedFrames({ ...ALL, scope: 'p2' }))).toEqual([{ total: '2' }]);
  });

  it('lists the projects rated in a period', async () => {
    expect(await t.store.query(selectRatedProjects(at(0), at(48)))).toEqual([{ project_id: 'p1' }, { project_id: 'p2' }, { project_id: 'p3' }]);
    expect(await t.store.query(selectRatedProjects(at(48), at(49)))).toEqual([{ project_id: 'p2' }]);
  });
});

/** A Date as ClickHouse writes DateTime (UTC). */
function fmt(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

function dayOfYear(d: Date): number {
  return Math.round((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
}
