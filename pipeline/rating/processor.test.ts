import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, openStateDatabase, silentLogger, type StateDatabase } from '../../core/index.ts';
import { openTempStore, type TempStore } from '../../test/support/temp-store.ts';
import { BUILTIN_ARCHIVE_POLICIES, createReprocessStore, frameAmount, insertMeasureRows, Money, selectRatedUsage, type ArchivePolicy, type ClickHouseDriver, type RatedFrame, type Rater, type RatedUsageRow, type ReprocessStore, type UsageFrame } from '../../storage/index.ts';
import { createRatingProcessor } from './processor.ts';
import { loadServiceDefinitions } from './services.ts';

const H = 3_600_000;
const MIN = 60_000;
// Three days ago, on the hour: recent enough for the events' retention (the engine's clock).
const T = Math.floor(Date.now() / H) * H - 72 * H;
const t = (ms: number) => new Date(T + ms);
const chTime = (ms: number) => new Date(T + ms).toISOString().replace('T', ' ').replace('Z', '');
// The metrics' policy (archive_policy_name below); rating reads the raw measures only.
const LOW = BUILTIN_ARCHIVE_POLICIES.find((p) => p.name === 'low') as ArchivePolicy;

/** Unit prices by service and flavor; null = no rule (the frame is not rated). */
type Prices = Record<string, string | Record<string, string> | null>;

/** A small explicit Rater: quantity x unit price (by flavor for instances), 9 places half-even. */
function priceList(prices: Prices): Rater {
  return {
    rate(frame: UsageFrame): RatedFrame | null {
      const entry = prices[frame.service];
      const price = typeof entry === 'object' && entry !== null ? entry[frame.metadata.flavor_name ?? ''] : entry;
      if (price === undefined || price === null) return null;
      return { ...frame, price, cost: frameAmount(new Money(frame.quantity).times(price)), currency: 'EUR', ruleId: `price:${frame.service}` };
    },
  };
}

describe('rating processor (chDB)', () => {
  let temp: TempStore;
  let store: ClickHouseDriver;
  const dir = mkdtempSync(join(tmpdir(), 'cumulus-rating-processor-'));
  const dbs: StateDatabase[] = [];

  beforeAll(async () => {
    temp = await openTempStore('cumulus-rating-processor-ch-');
    store = temp.store;
  });
  afterAll(async () => {
    for (const db of dbs) db.close();
    await temp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // --- the metering data, written as the pipeline writes it ---
  const resource = async (row: { id: string; type: string; project: string; started: number; ended?: number; revisions: Array<{ start: number; attributes: Record<string, unknown> }> }) => {
    const base = { id: row.id, type: row.type, project_id: row.project, user_id: 'u1', started_at: chTime(row.started), ended_at: row.ended === undefined ? null : chTime(row.ended), type_generation: 0 };
    const history = row.revisions.slice(0, -1).map((r, i) => ({ ...base, ended_at: null, revision_start: chTime(r.start), revision_end: chTime((row.revisions[i + 1] as { start: number }).start), attributes: JSON.stringify(r.attributes) }));
    const current = row.revisions[row.revisions.length - 1] as { start: number; attributes: Record<string, unknown> };
    if (history.length > 0) await store.insert('resource_history', history);
    await store.insert('resources', [{ ...base, revision_start: chTime(current.start), attributes: JSON.stringify(current.attributes) }]);
  };
  const measures = async (resourceId: string, name: string, points: Array<[number, number]>) => {
    const id = randomUUID();
    await store.insert('metrics', [{ id, name, resource_id: resourceId, project_id: 'p', user_id: 'u1', unit: 'x', archive_policy_name: 'low', created_at: chTime(0) }]);
    await insertMeasureRows(store, points.map(([at, value]) => ({ metricId: id, tsMicros: (T + at) * 1000, value, sampleId: randomUUID(), policy: LOW })), { dedupToken: randomUUID() });
  };
  const event = async (eventType: string, resourceId: string, project: string, at: number, payload: unknown) =>
    store.insert('events', [{ message_id: randomUUID(), event_type: eventType, generated: chTime(at), project_id: project, resource_id: resourceId, traits_string: { user_id: 'u1' }, raw: JSON.stringify({ event_type: eventType, payload }) }]);

  const small = { flavor_id: 'f1', flavor_name: 'm1.small', display_name: 'web' };
  const large = { flavor_id: 'f2', flavor_name: 'm1.large', display_name: 'web' };

  beforeAll(async () => {
    // p1: a server (small from 00:00, large from 01:30), a 10 GiB volume from 00:30,
    // a floating IP held from 00:00 and never attached. p2 (an injection attempt as its
    // id: it is only data): a small server from 00:00 to 02:15.
    await resource({ id: 'vm-1', type: 'instance', project: 'p1', started: 0, revisions: [{ start: 0, attributes: small }, { start: 90 * MIN, attributes: large }] });
    await measures('vm-1', 'instance', [[0, 1], [90 * MIN, 1]]);
    await measures('vm-1', 'vcpus', [[0, 1], [90 * MIN, 4]]);
    await resource({ id: 'vol-1', type: 'volume', project: 'p1', started: 30 * MIN, revisions: [{ start: 30 * MIN, attributes: { volume_type: 'ssd', display_name: 'data' } }] });
    await measures('vol-1', 'volume.size', [[30 * MIN, 10]]);
    await event('floatingip.create.end', 'fip-1', 'p1', 0, { floatingip: { floating_ip_address: '172.24.4.10', port_id: null } });
    await resource({ id: 'vm-2', type: 'instance', project: "p2' OR '1'='1", started: 0, ended: 135 * MIN, revisions: [{ start: 0, attributes: small }, { start: 135 * MIN, attributes: small }] });
    await measures('vm-2', 'instance', [[0, 1]]);
  });

  // Each case rates the same metering data from a fresh state of its own.
  beforeEach(async () => store.command({ sql: 'TRUNCATE TABLE rated_usage' }));

  const services = loadServiceDefinitions();
  const open = (clock: ManualClock) => {
    const db = openStateDatabase(join(dir, `state-${randomUUID()}.sqlite`));
    dbs.push(db);
    return createReprocessStore(db, { clock });
  };
  const processorWith = (clock: ManualClock, periods: ReprocessStore, prices: { current: Prices }) =>
    createRatingProcessor({ services, firstPeriod: t(0) }, { store, periods, rater: () => priceList(prices.current), clock, logger: silentLogger() });
  const rows = async (fromMs: number, toMs: number, scope: readonly string[] | null = null) => store.query<RatedUsageRow>(selectRatedUsage({ range: { from: t(fromMs), to: t(toMs) }, scope }));
  const view = (r: RatedUsageRow) => [r.project_id, r.period_start.slice(11, 16), r.period_end.slice(11, 16), r.service, r.resource_id, new Money(r.quantity).toFixed(4), new Money(r.cost).toFixed(9)];
  const hh = (ms: number) => new Date(T + ms).toISOString().slice(11, 16);
  const PRICES: Prices = { instance: { 'm1.small': '0.05', 'm1.large': '0.2' }, 'volume.size': '0.0001', 'ip.floating': '0.004' };

  it('rates each closed, settled period once, oldest first, and catches up after downtime', async () => {
    // 03:05: hour 02 ended at 03:00 but may still receive data until 03:10.
    const clock = new ManualClock(T + 3 * H + 5 * MIN);
    const periods = open(clock);
    const processor = processorWith(clock, periods, { current: PRICES });
    const first = await processor.rateNow();
    expect([first.periods, first.until]).toEqual([2, new Date(T + 3 * H - 5 * MIN)]);
    // Figures by hand: hour 00: vm-1 1 h small (0.05), vol-1 0.5 h x 10 GiB (5 GiB-h x 0.0001),
    // fip-1 1 h (0.004), vm-2 1 h small. Hour 01: vm-1 0.5 h small + 0.5 h large (0.025 + 0.1).
    expect((await rows(0, 2 * H)).map(view)).toEqual([
      ['p1', hh(0), hh(H), 'instance', 'vm-1', '1.0000', '0.050000000'],
      ['p1', hh(0), hh(H), 'ip.floating', 'fip-1', '1.0000', '0.004000000'],
      ['p1', hh(0), hh(H), 'volume.size', 'vol-1', '5.0000', '0.000500000'],
      ['p1', hh(H), hh(90 * MIN), 'instance', 'vm-1', '0.5000', '0.025000000'],
      ['p1', hh(H), hh(2 * H), 'ip.floating', 'fip-1', '1.0000', '0.004000000'],
      ['p1', hh(H), hh(2 * H), 'volume.size', 'vol-1', '10.0000', '0.001000000'],
      ['p1', hh(90 * MIN), hh(2 * H), 'instance', 'vm-1', '0.5000', '0.100000000'],
      ["p2' OR '1'='1", hh(0), hh(H), 'instance', 'vm-2', '1.0000', '0.050000000'],
      ["p2' OR '1'='1", hh(H), hh(2 * H), 'instance', 'vm-2', '1.0000', '0.050000000'],
    ]);
    const resized = (await rows(H, 2 * H)).filter((r) => r.resource_id === 'vm-1');
    expect(resized.map((r) => [r.metadata.flavor_name, r.metadata.vcpus, r.price, r.groupby])).toEqual([
      ['m1.small', '1', '0.05', { id: 'vm-1', project_id: 'p1', user_id: 'u1' }],
      ['m1.large', '4', '0.2', { id: 'vm-1', project_id: 'p1', user_id: 'u1' }],
    ]);

    // Nothing new is due yet; then the processor is down until 05:20 and catches up 02, 03, 04 (05 is open).
    expect((await processor.rateNow()).periods).toBe(0);
    clock.set(T + 5 * H + 20 * MIN);
    // An explicit limit lowers the horizon (03:00), never raises it.
    expect((await processor.rateNow(t(3 * H))).periods).toBe(1);
    expect((await processor.rateNow(t(9 * H))).periods).toBe(2);
    expect(periods.lastPeriod()).toMatchObject({ periodStart: t(4 * H), state: 'rated', generation: 1 });
    // vm-2 ended 02:15: a quarter hour in hour 02, nothing after.
    expect((await rows(2 * H, 5 * H, ["p2' OR '1'='1"])).map(view)).toEqual([["p2' OR '1'='1", hh(2 * H), hh(3 * H), 'instance', 'vm-2', '0.2500', '0.012500000']]);
    expect((await rows(4 * H, 5 * H)).map((r) => r.resource_id)).toEqual(['vm-1', 'fip-1', 'vol-1']);
  });

  it('resumes a period interrupted between its insert and its state update, writing nothing twice', async () => {
    const clock = new ManualClock(T + 1 * H + 30 * MIN);
    const real = open(clock);
    let failures = 1;
    // The failure injected between the insert (step 3) and the state update (step 5): a crash there.
    const periods: ReprocessStore = {
      ...real,
      completePeriod(...args) {
        if (failures-- > 0) throw new Error('killed after the insert');
        return real.completePeriod(...args);
      },
    };
    const processor = createRatingProcessor({ services, firstPeriod: t(0) }, { store: temp.store, periods, rater: () => priceList(PRICES), clock, logger: silentLogger() });
    await expect(processor.rateNow()).rejects.toThrow('killed after the insert');
    const pending = real.period(t(0));
    expect(pending).toMatchObject({ state: 'pending', generation: 1 });
    const writtenByThisRun = async () =>
      store.query<{ n: string; cost: string }>({
        sql: "SELECT count() AS n, toString(sum(cost)) AS cost FROM rated_usage WHERE period_start >= {from:DateTime('UTC')} AND period_start < {to:DateTime('UTC')} AND rated_at = {rated_at:DateTime64(3, 'UTC')}",
        params: { from: t(0), to: t(H), rated_at: pending!.ratedAt },
      });
    expect(await writtenByThisRun()).toEqual([{ n: '4', cost: '0.1045' }]);
    // The restart: the same generation, the same rated_at, the same token; the insert is dropped.
    clock.advance(7 * MIN);
    const run = await processor.rateNow();
    expect(run.periods).toBe(1);
    expect(real.period(t(0))).toMatchObject({ state: 'rated', generation: 1, ratedAt: pending!.ratedAt, frames: 4 });
    expect(await writtenByThisRun()).toEqual([{ n: '4', cost: '0.1045' }]);
    // Read as reports read it (FINAL): one row per key, the period's total once.
    const final = await rows(0, H);
    expect(final.length).toBe(4);
    expect(final.reduce((sum, r) => sum.plus(r.cost), new Money(0)).toString()).toBe('0.1045');
  });

  it('reprocesses on request: a new generation replaces the scope’s rows, drops frames no longer priced, leaves other projects alone', async () => {
    const clock = new ManualClock(T + 3 * H);
    const periods = open(clock);
    const prices = { current: PRICES };
    const processor = processorWith(clock, periods, prices);
    await processor.rateNow();
    const before = await rows(0, 2 * H);
    const p2Before = before.filter((r) => r.project_id !== 'p1');

    // New prices: large servers cheaper, floating IPs no longer rated.
    prices.current = { ...PRICES, instance: { 'm1.small': '0.05', 'm1.large': '0.1' }, 'ip.floating': null };
    clock.advance(MIN);
    const request = periods.createReprocess({ scopeIds: ['p1'], start: t(0), end: t(2 * H), reason: 'm1.large price corrected', requestedBy: { userId: 'admin', userName: 'admin', projectId: null } });
    const run = await processor.rateNow();
    expect([run.periods, run.reprocesses]).toEqual([2, 1]);
    expect(periods.reprocess(request.id)).toMatchObject({ state: 'done', currentTime: t(H), completedAt: clock.now() });
    expect(periods.period(t(H))).toMatchObject({ state: 'rated', generation: 2, scope: ['p1'], reprocessId: request.id });

    const after = await rows(0, 2 * H);
    expect(after.filter((r) => r.project_id === 'p1').map(view)).toEqual([
      ['p1', hh(0), hh(H), 'instance', 'vm-1', '1.0000', '0.050000000'],
      ['p1', hh(0), hh(H), 'volume.size', 'vol-1', '5.0000', '0.000500000'],
      ['p1', hh(H), hh(90 * MIN), 'instance', 'vm-1', '0.5000', '0.025000000'],
      ['p1', hh(H), hh(2 * H), 'volume.size', 'vol-1', '10.0000', '0.001000000'],
      ['p1', hh(90 * MIN), hh(2 * H), 'instance', 'vm-1', '0.5000', '0.050000000'],
    ]);
    expect(after.filter((r) => r.project_id === 'p1').every((r) => r.rated_at > (before[0] as RatedUsageRow).rated_at)).toBe(true);
    // Outside the scope: the very rows of the first rating.
    expect(after.filter((r) => r.project_id !== 'p1')).toEqual(p2Before);
  });

  it('never rates the open period, nor one whose data may still arrive', async () => {
    const clock = new ManualClock(T + H + 9 * MIN);
    const periods = open(clock);
    const processor = processorWith(clock, periods, { current: PRICES });
    expect((await processor.rateNow(t(10 * H))).periods).toBe(0);
    clock.set(T + H + 10 * MIN);
    expect((await processor.rateNow()).periods).toBe(1);
    expect(periods.lastPeriod()?.periodEnd).toEqual(t(H));
  });

  it('starts from the earliest usage in the data when no first period is configured', async () => {
    const clock = new ManualClock(T + H + 30 * MIN);
    const periods = open(clock);
    const processor = createRatingProcessor({ services }, { store, periods, rater: () => priceList(PRICES), clock, logger: silentLogger() });
    await processor.rateNow();
    expect(periods.firstPeriod()?.periodStart).toEqual(t(0));
  });
});
