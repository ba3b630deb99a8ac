import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock, openStateDatabase, type StateDatabase } from '../../core/index.ts';
import { createReprocessStore, type ReprocessInput } from './reprocess-store.ts';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 1);
const hour = (n: number) => new Date(T0 + n * H);
const admin = { userId: 'u-admin', userName: 'admin', projectId: 'p-admin' };

describe('reprocess store (SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cumulus-reprocess-store-'));
  const opened: StateDatabase[] = [];
  let n = 0;
  const open = () => {
    const db = openStateDatabase(join(dir, `state-${++n}.sqlite`));
    opened.push(db);
    return db;
  };
  afterAll(() => {
    for (const db of opened) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A store whose hours 0..count-1 are rated. */
  const rated = (count: number) => {
    const clock = new ManualClock(hour(count + 1));
    const store = createReprocessStore(open(), { clock });
    for (let i = 0; i < count; i++) {
      const state = store.beginPeriod(hour(i), hour(i + 1), clock.now());
      store.completePeriod(state.periodStart, state.generation, 3, clock.now());
    }
    return { store, clock };
  };
  const refusal = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      const e = err as { code: string; httpStatus: number; field?: string; message: string };
      return { code: e.code, status: e.httpStatus, field: e.field, message: e.message };
    }
    throw new Error('expected a refusal');
  };
  const request = (over: Partial<ReprocessInput> = {}): ReprocessInput => ({ scopeIds: ['p1'], start: hour(0), end: hour(2), reason: 'price fix', requestedBy: admin, ...over });

  it('begins a period once, resumes it pending as it was begun, and completes it', () => {
    const clock = new ManualClock(hour(5));
    const store = createReprocessStore(open(), { clock });
    const first = store.beginPeriod(hour(0), hour(1), new Date(T0 + 5 * H));
    expect(first).toMatchObject({ state: 'pending', generation: 1, ratedAt: new Date(T0 + 5 * H), scope: null, reprocessId: null, frames: null });
    // A second begin (a resumed run, later) changes nothing: same generation, same rated_at.
    clock.advance(60_000);
    expect(store.beginPeriod(hour(0), hour(1), clock.now())).toEqual(first);
    expect(store.pendingPeriods().map((p) => p.periodStart)).toEqual([hour(0)]);
    const done = store.completePeriod(hour(0), 1, 7, clock.now());
    expect(done).toMatchObject({ state: 'rated', generation: 1, frames: 7 });
    expect(store.pendingPeriods()).toEqual([]);
    expect(store.lastPeriod()?.periodEnd).toEqual(hour(1));
    expect(refusal(() => store.completePeriod(hour(0), 2, 1, clock.now()))).toMatchObject({ code: 'CUMULUS_RATING_STATE_CONFLICT' });
  });

  it('records a reprocess with who asked, when and why, and re-rates with a newer rated_at each generation', () => {
    const { store, clock } = rated(3);
    const created = store.createReprocess(request({ scopeIds: ['p2', 'p1', 'p1'] }));
    expect(created).toMatchObject({ id: 1, scopeIds: ['p1', 'p2'], start: hour(0), end: hour(2), reason: 'price fix', requestedBy: admin, requestedAt: clock.now(), state: 'pending', currentTime: null, completedAt: null });
    const before = store.period(hour(0))!;
    // The clock has not moved: the new generation's rated_at is still later than the old one's.
    const regen = store.beginRegeneration(hour(0), created.id, before.ratedAt)!;
    expect(regen).toMatchObject({ state: 'pending', generation: 2, scope: ['p1', 'p2'], reprocessId: 1 });
    expect(regen.ratedAt.getTime()).toBe(before.ratedAt.getTime() + 1);
    // Resuming the same request's generation returns it unchanged; another request may not take it over.
    expect(store.beginRegeneration(hour(0), created.id, clock.now())).toEqual(regen);
    store.completePeriod(hour(0), 2, 2, clock.now());
    expect(store.reprocess(1)).toMatchObject({ state: 'running', currentTime: hour(0) });
    expect(store.beginRegeneration(hour(9), created.id, clock.now())).toBeUndefined();
    expect(store.finishReprocess(1, clock.now())).toMatchObject({ state: 'done', completedAt: clock.now() });
    expect(store.openReprocesses()).toEqual([]);
  });

  it('refuses what CloudKitty refuses, naming the field', () => {
    const { store } = rated(3);
    expect(refusal(() => store.createReprocess(request({ reason: '  ' })))).toMatchObject({ code: 'CUMULUS_RATING_REPROCESS_INVALID', status: 400, field: 'reason' });
    expect(refusal(() => store.createReprocess(request({ scopeIds: ['ALL', 'p1'] })))).toMatchObject({ field: 'scope_ids', message: expect.stringContaining('cannot be combined') });
    expect(refusal(() => store.createReprocess(request({ scopeIds: [] })))).toMatchObject({ field: 'scope_ids' });
    expect(refusal(() => store.createReprocess(request({ start: hour(2), end: hour(1) })))).toMatchObject({ field: 'end_reprocess_time', message: expect.stringContaining('after start_reprocess_time') });
    expect(refusal(() => store.createReprocess(request({ start: new Date(T0 + 60_000) })))).toMatchObject({
      field: 'start_reprocess_time',
      message: expect.stringContaining(`a valid time window near the provided one is [${hour(0).toISOString()}, ${hour(2).toISOString()})`),
    });
    expect(refusal(() => store.createReprocess(request({ end: hour(4) })))).toMatchObject({ field: 'end_reprocess_time', message: expect.stringContaining(`at or before the end of the last rated period ${hour(3).toISOString()}`) });
    expect(refusal(() => store.createReprocess(request({ start: hour(-1) })))).toMatchObject({ field: 'start_reprocess_time' });
    // An open request blocks an overlapping one for a shared scope, and ALL overlaps everyone.
    store.createReprocess(request());
    expect(refusal(() => store.createReprocess(request({ start: hour(1), end: hour(3), scopeIds: ['p3', 'p1'] })))).toMatchObject({ field: 'scope_ids', message: expect.stringContaining('request 1') });
    expect(refusal(() => store.createReprocess(request({ scopeIds: ['ALL'] })))).toMatchObject({ field: 'scope_ids' });
    expect(store.createReprocess(request({ scopeIds: ['p2'] })).id).toBe(2);
    expect(store.createReprocess(request({ start: hour(2), end: hour(3) })).id).toBe(3);
    expect(refusal(() => createReprocessStore(open()).createReprocess(request()))).toMatchObject({ field: 'end_reprocess_time', message: expect.stringContaining('no period has been rated yet') });
  });

  it('lists requests newest first by default, filtered by scope with ALL requests included; ids are data', () => {
    const { store, clock } = rated(4);
    store.createReprocess(request({ scopeIds: ["p1' OR 1=1 --"] }));
    clock.advance(1000);
    store.createReprocess(request({ scopeIds: ['ALL'], start: hour(2), end: hour(3) }));
    clock.advance(1000);
    store.createReprocess(request({ scopeIds: ['p2'], start: hour(3), end: hour(4) }));
    expect(store.listReprocesses().map((r) => r.id)).toEqual([3, 2, 1]);
    expect(store.listReprocesses({ order: 'asc' }).map((r) => r.id)).toEqual([1, 2, 3]);
    expect(store.listReprocesses({ scopeIds: ['p2'] }).map((r) => r.id)).toEqual([3, 2]);
    expect(store.listReprocesses({ scopeIds: ["p1' OR 1=1 --"] }).map((r) => [r.id, r.scopeIds])).toEqual([
      [2, null],
      [1, ["p1' OR 1=1 --"]],
    ]);
  });

  it('refuses a period that does not divide a day', () => {
    expect(refusal(() => createReprocessStore(open(), { periodSeconds: 7000 }))).toMatchObject({ code: 'CUMULUS_CONFIG_INVALID' });
  });
});
