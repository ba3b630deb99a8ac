import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openTempStore, type TempStore } from '../../test/support/temp-store.ts';
import { InProcessStream, ManualClock, TOPICS, TelemetryRegistry, openStateDatabase, silentLogger, type Event, type StateDatabase } from '../../core/index.ts';
import {
  createAlarmStore,
  insertMetric,
  parseAlarm,
  parseArchivePolicy,
  resourceUuid,
  selectAlarmHistory,
  writeMeasures,
  writeResourceRevision,
  type AlarmHistoryRow,
  type AlarmStore,
  type ClickHouseDriver,
} from '../../storage/index.ts';
import type { AlarmTransition, TransitionSink } from '../contracts.ts';
import { createAlarmEvaluator, type AlarmEvaluator } from './index.ts';

// Rollups and check results expire on the engine's own clock: the data sits just before real time.
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 1_800_000;
const at = (offsetS: number) => new Date(NOW + offsetS * 1000);
const chTime = (date: Date, digits: number) => date.toISOString().replace('T', ' ').replace('Z', '').padEnd(19 + 1 + digits, '0');
const owner = { project_id: 'p1', user_id: 'u1' };
const policy = parseArchivePolicy({ name: 'evaluator-test', back_window: 0, aggregation_methods: ['mean', 'max', 'min', 'sum', 'count', 'last'], definition: [{ granularity: 60, points: 1440 }] });
const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** A sink that keeps what it is told, or refuses while `failures` lasts (a receiver down). */
class RecordingSink implements TransitionSink {
  received: AlarmTransition[] = [];
  failures = 0;
  async notify(transitions: readonly AlarmTransition[]): Promise<void> {
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('notifier unavailable');
    }
    this.received.push(...structuredClone(transitions));
  }
}

let temp: TempStore;
let store: ClickHouseDriver;
const dirs: string[] = [];

beforeAll(async () => {
  temp = await openTempStore('cumulus-evaluator-');
  store = temp.store;
});
afterAll(async () => {
  await temp?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Setup {
  path: string;
  db: StateDatabase;
  clock: ManualClock;
  alarms: AlarmStore;
  sink: RecordingSink;
  telemetry: TelemetryRegistry;
  evaluator(memberId?: string, extra?: { sink?: TransitionSink; db?: StateDatabase; schedule?: string; stream?: InProcessStream }): AlarmEvaluator;
  create(body: Record<string, unknown>, by?: { project_id: string; user_id: string }): string;
}

function setup(): Setup {
  const dir = mkdtempSync(join(tmpdir(), 'cumulus-evaluator-state-'));
  dirs.push(dir);
  const path = join(dir, 'state.sqlite');
  const db = openStateDatabase(path);
  const clock = new ManualClock(NOW);
  const alarms = createAlarmStore(db, { clock });
  const sink = new RecordingSink();
  const telemetry = new TelemetryRegistry();
  return {
    path,
    db,
    clock,
    alarms,
    sink,
    telemetry,
    evaluator: (memberId = 'm1', extra = {}) => {
      const onDb = extra.db ?? db;
      return createAlarmEvaluator(
        { memberId, ...(extra.schedule ? { schedule: extra.schedule } : {}) },
        { alarms: onDb === db ? alarms : createAlarmStore(onDb, { clock }), db: onDb, store, sink: extra.sink ?? sink, clock, logger: silentLogger(), telemetry: telemetry.component(`alarm-evaluator:${memberId}`), ...(extra.stream ? { stream: extra.stream } : {}) },
      );
    },
    create: (body, by = owner) => alarms.create(parseAlarm({ name: unique('alarm'), ...body }, by), by).alarm.alarm_id,
  };
}

async function resource(id: string, projectId: string): Promise<void> {
  const micros = (NOW - 86_400_000) * 1000;
  await writeResourceRevision(store, { current: { id, type: 'generic', project_id: projectId, user_id: 'u1', started_at: micros, ended_at: null, revision_start: micros, generation: 0, attributes: {} } }, `test:${id}`);
}

/** A metric of `resourceId` with measures at NOW + offset seconds; returns its id. */
async function metric(resourceId: string, name: string, points: Array<[number, number]>, projectId = 'p1'): Promise<string> {
  const id = randomUUID();
  await insertMetric(store, { id, name, resource_id: resourceId, project_id: projectId, user_id: 'u1', unit: '', archive_policy_name: policy.name, created_at: at(-86_400) });
  const result = await writeMeasures(store, { metric: { id }, policy, measures: points.map(([s, value]) => ({ timestamp: at(s), value })), now: at(0) });
  expect(result.refused).toEqual([]);
  return id;
}

/** Per 60 s bucket (oldest first) the mean of the points in it: the expected series, computed here. */
function bucketMeans(points: Array<[number, number]>, fromS: number): number[] {
  const buckets = new Map<number, number[]>();
  for (const [s, v] of points) {
    const b = Math.floor(s / 60) * 60;
    if (b >= fromS) buckets.set(b, [...(buckets.get(b) ?? []), v]);
  }
  return [...buckets.entries()].sort(([a], [b]) => a - b).map(([, vs]) => vs.reduce((x, y) => x + y, 0) / vs.length);
}

async function checkResult(check: string, offsetS: number, ok: boolean, extra: { service?: string; region?: string; host?: string; error?: string } = {}): Promise<void> {
  await store.insert('check_results', [{ check_name: check, at: chTime(at(offsetS), 3), service: extra.service ?? 'keystone', region: extra.region ?? 'RegionOne', host: extra.host ?? 'ctl-1', ok: ok ? 1 : 0, latency_ms: 12.5, error: extra.error ?? '' }]);
}

const outage = (check: string, extra: Record<string, unknown> = {}) => ({ type: 'outage', outage_rule: { check, comparison_operator: 'ge', threshold: 2, window: 300 }, ...extra });
/** A check with two failures in the last 300 s: its outage alarm (ge 2) breaches. */
async function failingCheck(): Promise<string> {
  const check = unique('chk');
  await checkResult(check, -200, false);
  await checkResult(check, -100, false);
  return check;
}
const history = (alarmId: string) => store.query<AlarmHistoryRow>(selectAlarmHistory({ alarmId, onBehalfOf: null }));

describe('alarm evaluator (chDB + SQLite)', () => {
  it('gnocchi_resources_threshold: breach, mixed points, ok, missing metric, then no data; by stored id or Gnocchi UUID', async () => {
    const s = setup();
    const rid = unique('host'); // not a UUID: Gnocchi shows it as a UUIDv5
    await resource(rid, 'p1');
    const points: Array<[number, number]> = [[-295, 10], [-235, 50], [-175, 90], [-115, 95], [-55, 98], [-30, 100]];
    await metric(rid, 'cpu_util', points);
    const rule = (extra: Record<string, unknown>) => ({ type: 'gnocchi_resources_threshold', gnocchi_resources_threshold_rule: { metric: 'cpu_util', resource_id: rid, resource_type: 'generic', aggregation_method: 'mean', granularity: 60, comparison_operator: 'gt', threshold: 80, evaluation_periods: 3, ...extra } });
    const breach = s.create(rule({}));
    const byUuid = s.create(rule({ resource_id: resourceUuid(rid) }));
    const mixed = s.create(rule({ evaluation_periods: 5 }));
    const inside = s.create(rule({ comparison_operator: 'lt' }));
    const missing = s.create(rule({ metric: 'no_such_metric' }));
    const last3 = bucketMeans(points, -240).slice(-3);
    const last5 = bucketMeans(points, -360).slice(-5);
    expect(last3).toEqual([90, 95, 99]);

    const round = await s.evaluator().evaluateNow();
    expect(round.failed).toEqual([]);
    expect(new Set(round.evaluated)).toEqual(new Set([breach, byUuid, mixed, inside, missing]));
    const byId = Object.fromEntries(round.transitions.map((t) => [t.alarm.alarm_id, t]));
    const mostRecent = `${last3[2]}.0`;
    expect(byId[breach]).toMatchObject({ previous: 'insufficient data', alarm: { state: 'alarm' }, reason: `Transition to alarm due to 3 samples outside threshold, most recent: ${mostRecent}`, reasonData: { type: 'threshold', disposition: 'outside', count: 3, most_recent: last3[2] } });
    expect(byId[byUuid]).toMatchObject({ alarm: { state: 'alarm' } });
    // Five points, two of them inside: mixed, trending alarm; an unknown alarm takes the trend.
    const outside5 = last5.filter((v) => v > 80).length;
    expect(byId[mixed]).toMatchObject({ alarm: { state: 'alarm' }, reason: `Transition to alarm due to ${outside5} samples outside threshold, most recent: ${mostRecent}` });
    expect(byId[inside]).toMatchObject({ alarm: { state: 'ok' }, reason: `Transition to ok due to 3 samples inside threshold, most recent: ${mostRecent}` });
    // Missing metric: insufficient data, which it already is: nothing to announce.
    expect(byId[missing]).toBeUndefined();
    expect(s.alarms.find(missing)?.state_reason).toBe('Not evaluated yet');
    expect(s.sink.received.map((t) => t.alarm.alarm_id).sort()).toEqual([breach, byUuid, mixed, inside].sort());
    expect(s.alarms.find(breach)).toMatchObject({ state: 'alarm', state_reason: `Transition to alarm due to 3 samples outside threshold, most recent: ${mostRecent}` });

    // The history row is in ClickHouse with the reason and the data that caused it.
    const [row] = await history(breach);
    expect(row).toMatchObject({ type: 'state transition', reason: `Transition to alarm due to 3 samples outside threshold, most recent: ${mostRecent}`, user_id: '', on_behalf_of: 'p1' });
    expect(JSON.parse(row!.detail)).toMatchObject({ state: 'alarm', reason_data: { type: 'threshold', disposition: 'outside', count: 3, most_recent: last3[2] } });

    // Ten minutes on without measures: no datapoint in the window.
    s.clock.advance(600_000);
    const later = await s.evaluator().evaluateNow();
    expect(later.transitions.find((t) => t.alarm.alarm_id === breach)).toMatchObject({ previous: 'alarm', alarm: { state: 'insufficient data' }, reason: 'No datapoint for granularity 60', reasonData: { disposition: 'unknown', count: 3, most_recent: null } });
  });

  it('gnocchi_aggregation_by_metrics_threshold and by_resources_threshold aggregate across metrics', async () => {
    const s = setup();
    const a: Array<[number, number]> = [[-170, 1], [-110, 2], [-50, 3]];
    const b: Array<[number, number]> = [[-165, 5], [-105, 1], [-45, 7]];
    const ma = await metric(unique('r'), 'load', a);
    const mb = await metric(unique('r'), 'load', b);
    const byMetrics = (method: string, op: string, threshold: number, metrics = [ma, mb]) => ({ type: 'gnocchi_aggregation_by_metrics_threshold', gnocchi_aggregation_by_metrics_threshold_rule: { metrics, aggregation_method: method, granularity: 60, comparison_operator: op, threshold, evaluation_periods: 3 } });
    const maxes = a.map(([, v], i) => Math.max(v, b[i]![1]));
    const means = a.map(([, v], i) => (v + b[i]![1]) / 2);
    const maxAlarm = s.create(byMetrics('max', 'gt', 4));
    const meanAlarm = s.create(byMetrics('mean', 'lt', 6));
    const missing = s.create(byMetrics('mean', 'lt', 6, [ma, randomUUID()]));

    const project = unique('proj');
    const [r1, r2, r3] = [unique('res'), unique('res'), unique('res')];
    await resource(r1, project);
    await resource(r2, project);
    await resource(r3, 'someone-else');
    const m1: Array<[number, number]> = [[-110, 60], [-50, 70]];
    const m2: Array<[number, number]> = [[-110, 50], [-50, 20]];
    await metric(r1, 'memory.usage', m1, project);
    await metric(r2, 'memory.usage', m2, project);
    await metric(r3, 'memory.usage', [[-110, 1000], [-50, 1000]], 'someone-else');
    const sums = m1.map(([, v], i) => v + m2[i]![1]);
    const byResources = s.create({ type: 'gnocchi_aggregation_by_resources_threshold', gnocchi_aggregation_by_resources_threshold_rule: { metric: 'memory.usage', resource_type: 'generic', query: JSON.stringify({ '=': { project_id: project } }), aggregation_method: 'sum', granularity: 60, comparison_operator: 'gt', threshold: 100, evaluation_periods: 2 } });

    const round = await s.evaluator().evaluateNow();
    expect(round.failed).toEqual([]);
    const byId = Object.fromEntries(round.transitions.map((t) => [t.alarm.alarm_id, t]));
    // max per bucket [5, 2, 7] against > 4: mixed, trending alarm (the newest breaches).
    expect(byId[maxAlarm]).toMatchObject({ alarm: { state: 'alarm' }, reason: `Transition to alarm due to ${maxes.filter((v) => v > 4).length} samples outside threshold, most recent: ${maxes[2]}.0` });
    expect(byId[meanAlarm]).toMatchObject({ alarm: { state: 'alarm' }, reasonData: { count: 3, most_recent: means[2] } });
    expect(byId[missing]).toBeUndefined();
    // Only the project's two resources count: sums [110, 90] against > 100: mixed, trending ok.
    expect(byId[byResources]).toMatchObject({ alarm: { state: 'ok' }, reason: `Transition to ok due to ${sums.filter((v) => v <= 100).length} samples inside threshold, most recent: ${sums[1]}.0` });
  });

  it('log alarms count matching lines over their window', async () => {
    const s = setup();
    const service = unique('svc');
    const line = (offsetS: number, level: string, message: string) => ({ id: randomUUID(), timestamp: chTime(at(offsetS), 6), service, host: 'h1', pid: 42, level, logger: 'x', request_id: null, user_id: null, project_id: null, message });
    await store.insert('logs', [
      line(-250, 'ERROR', 'database connection lost'),
      line(-100, 'ERROR', 'Database connection lost again'),
      line(-20, 'CRITICAL', 'connection lost: giving up'),
      line(-30, 'WARNING', 'connection lost, retrying'),
      line(-400, 'ERROR', 'connection lost (before the window)'),
      line(-10, 'ERROR', 'disk full'),
    ]);
    const log = (level: string, threshold: number) => ({ type: 'log', log_rule: { service, level, text: 'connection lost', comparison_operator: 'gt', threshold, window: 300 } });
    // As /log/v1 reads them: exactly this level, the text contained case-insensitively.
    const errors = s.create(log('ERROR', 1));
    const critical = s.create(log('CRITICAL', 0));
    const calm = s.create(log('ERROR', 5));
    const round = await s.evaluator().evaluateNow();
    const byId = Object.fromEntries(round.transitions.map((t) => [t.alarm.alarm_id, t]));
    expect(byId[errors]).toMatchObject({ alarm: { state: 'alarm' }, reason: 'Transition to alarm due to 1 samples outside threshold, most recent: 2', reasonData: { most_recent: 2, window: 300 } });
    expect(byId[critical]).toMatchObject({ alarm: { state: 'alarm' }, reasonData: { most_recent: 1 } });
    expect(byId[calm]).toMatchObject({ alarm: { state: 'ok' }, reason: 'Transition to ok due to 1 samples inside threshold, most recent: 2' });
  });

  it('outage alarms count check failures, label the transition, and are unknown without results', async () => {
    const s = setup();
    const check = unique('chk');
    await checkResult(check, -500, false);
    await checkResult(check, -250, true);
    await checkResult(check, -200, false, { error: 'timeout', host: 'ctl-1' });
    await checkResult(check, -100, false, { error: 'HTTP 503', host: 'ctl-2', region: 'RegionTwo' });
    await checkResult(check, -50, true, { host: 'ctl-3' });
    const breach = s.create(outage(check));
    const calm = s.create({ type: 'outage', outage_rule: { check, comparison_operator: 'gt', threshold: 2, window: 300 } });
    const silent = s.create(outage(unique('never-ran')), owner);
    const round = await s.evaluator().evaluateNow();
    const byId = Object.fromEntries(round.transitions.map((t) => [t.alarm.alarm_id, t]));
    expect(byId[breach]).toMatchObject({
      alarm: { state: 'alarm' },
      reason: 'Transition to alarm due to 1 samples outside threshold, most recent: 2',
      reasonData: { type: 'threshold', count: 1, most_recent: 2, runs: 4, window: 300, last_error: 'HTTP 503' },
      labels: { check, service: 'keystone', region: 'RegionTwo', host: 'ctl-2' },
    });
    expect(byId[calm]).toMatchObject({ alarm: { state: 'ok' } });
    expect(byId[silent]).toBeUndefined();
    expect(s.alarms.find(silent)?.state).toBe('insufficient data');
  });

  it('composite: and/or of sub-rules with Aodh insufficient-data handling', async () => {
    const s = setup();
    const check = await failingCheck();
    const failing = { type: 'outage', check, comparison_operator: 'ge', threshold: 2, window: 300 };
    const unknown = { type: 'outage', check: unique('never-ran'), comparison_operator: 'ge', threshold: 2, window: 300 };
    const fine = { type: 'outage', check, comparison_operator: 'gt', threshold: 5, window: 300 };
    const orAlarm = s.create({ type: 'composite', composite_rule: { or: [unknown, failing] } });
    const andUnknown = s.create({ type: 'composite', composite_rule: { and: [failing, unknown] } });
    // failing and (fine or unknown): the unknown rule could still make it hold, so neither alarm nor ok.
    const undecided = s.create({ type: 'composite', composite_rule: { and: [failing, { or: [fine, unknown] }] } });
    const andOk = s.create({ type: 'composite', composite_rule: { and: [{ or: [fine, unknown] }, fine] } });
    const round = await s.evaluator().evaluateNow();
    const byId = Object.fromEntries(round.transitions.map((t) => [t.alarm.alarm_id, t]));
    expect(byId[orAlarm]).toMatchObject({ alarm: { state: 'alarm' }, reason: 'Composite rule alarm with composition form: (rule1 or rule2) transition to alarm, due to rules: rule2 outside their threshold.', labels: { check } });
    expect(byId[andUnknown]).toBeUndefined();
    expect(byId[undecided]).toBeUndefined();
    expect(byId[andOk]).toMatchObject({ alarm: { state: 'ok' }, reason: 'Composite rule alarm with composition form: ((rule1 or rule2) and rule3) transition to ok, due to rules: rule1, rule3 inside their threshold.' });
  });

  it('time constraints (with a time zone) and enabled decide what is evaluated', async () => {
    const s = setup();
    const check = await failingCheck();
    // NOW is half past an hour; in Tokyo (UTC+9, no DST) that hour is:
    const tokyoHour = (new Date(NOW).getUTCHours() + 9) % 24;
    const open = s.create(outage(check, { time_constraints: [{ name: 'tokyo', start: `0 ${tokyoHour} * * *`, duration: 3600, timezone: 'Asia/Tokyo' }] }));
    const closed = s.create(outage(check, { time_constraints: [{ name: 'later', start: `0 ${(tokyoHour + 2) % 24} * * *`, duration: 3600, timezone: 'Asia/Tokyo' }] }));
    const disabled = s.create(outage(check, { enabled: false }));
    const round = await s.evaluator().evaluateNow();
    expect(round.evaluated).toEqual([open]);
    expect(round.skipped).toEqual([{ alarmId: closed, why: 'outside time constraints' }]);
    expect(round.transitions.map((t) => t.alarm.alarm_id)).toEqual([open]);
    expect(s.alarms.find(closed)?.state).toBe('insufficient data');
    expect(s.alarms.find(disabled)?.state).toBe('insufficient data');
    expect(s.telemetry.snapshots()).toEqual([expect.objectContaining({ component: 'alarm-evaluator:m1', accepted: 1, dropped: 1, refused: 0, batches: 1 })]);
  });

  it('repeat_actions re-announces the state every round without new history; without it, once', async () => {
    const s = setup();
    const check = await failingCheck();
    const repeating = s.create(outage(check, { repeat_actions: true }));
    const once = s.create(outage(check));
    const evaluator = s.evaluator();
    expect((await evaluator.evaluateNow()).transitions.map((t) => t.alarm.alarm_id).sort()).toEqual([repeating, once].sort());
    s.clock.advance(10_000);
    const second = await evaluator.evaluateNow();
    expect(second.transitions).toEqual([expect.objectContaining({ previous: 'alarm', alarm: expect.objectContaining({ alarm_id: repeating, state: 'alarm' }), reason: 'Remaining as alarm due to 1 samples outside threshold, most recent: 2' })]);
    expect(s.sink.received.filter((t) => t.alarm.alarm_id === repeating)).toHaveLength(2);
    expect(s.sink.received.filter((t) => t.alarm.alarm_id === once)).toHaveLength(1);
    expect(await history(repeating)).toHaveLength(1);
  });

  it('event alarms fire from the in-process stream (own consumer group), per project, once unless repeat_actions', async () => {
    const s = setup();
    const stream = new InProcessStream(1, silentLogger(), () => s.clock.nowMs());
    await stream.start();
    const rule = { event_type: 'compute.instance.*', query: [{ field: 'traits.state', op: 'eq', value: 'active' }] };
    const watched = s.create({ type: 'event', event_rule: rule });
    const otherProject = s.create({ type: 'event', event_rule: rule }, { project_id: 'p2', user_id: 'u2' });
    const volumes = s.create({ type: 'event', event_rule: { event_type: 'volume.*' } });
    const repeating = s.create({ type: 'event', event_rule: rule, repeat_actions: true });
    const evaluator = s.evaluator('m1', { stream, schedule: '0 0 1 1 *' });
    await evaluator.start();
    const event = (id: string, state: string): Event => ({ message_id: id, event_type: 'compute.instance.create.end', generated: at(0).toISOString(), traits: [{ name: 'project_id', type: 'string', value: 'p1' }, { name: 'state', type: 'string', value: state }], raw: {} });
    await stream.send(TOPICS.events, [{ key: 'i1', value: Buffer.from(JSON.stringify(event('e0', 'building'))) }, { key: 'i1', value: Buffer.from(JSON.stringify(event('e1', 'active'))) }]);
    await vi.waitFor(() => expect(s.sink.received).toHaveLength(2), { timeout: 5000, interval: 20 });
    expect(s.sink.received.map((t) => t.alarm.alarm_id).sort()).toEqual([watched, repeating].sort());
    expect(s.sink.received.find((t) => t.alarm.alarm_id === watched)).toMatchObject({
      previous: 'insufficient data',
      reason: 'Event <id=e1,event_type=compute.instance.create.end> hits the query <query=[{"field": "traits.state", "op": "eq", "type": "", "value": "active"}]>.',
      reasonData: { type: 'event', event: { message_id: 'e1' } },
    });
    await evaluator.stop();
    await stream.stop();
    // Another matching event: the fired alarm stays quiet; the repeating one fires again and is recorded again.
    const again = await s.evaluator().evaluateEvents([event('e2', 'active')]);
    expect(again.map((t) => [t.alarm.alarm_id, t.previous])).toEqual([[repeating, 'alarm']]);
    expect(await history(repeating)).toHaveLength(2);
    expect(s.alarms.find(otherProject)?.state).toBe('insufficient data');
    expect(s.alarms.find(volumes)?.state).toBe('insufficient data');
  });

  it('state and pending notifications survive a new evaluator instance on the same database', async () => {
    const s = setup();
    const check = await failingCheck();
    const alarmId = s.create(outage(check));
    const down = new RecordingSink();
    down.failures = 1;
    const first = s.evaluator('m1', { sink: down });
    const round = await first.evaluateNow();
    expect(round).toMatchObject({ delivered: 0, pending: 1 });
    await first.stop();
    s.db.close();

    const db = openStateDatabase(s.path);
    s.clock.advance(10_000);
    const second = s.evaluator('m2', { db });
    const next = await second.evaluateNow();
    // The transition committed before the restart is delivered; the alarm is not re-announced.
    expect(next).toMatchObject({ evaluated: [alarmId], transitions: [], delivered: 1, pending: 0 });
    expect(s.sink.received).toEqual([expect.objectContaining({ previous: 'insufficient data', timestamp: at(0).toISOString(), alarm: expect.objectContaining({ alarm_id: alarmId, state: 'alarm' }) })]);
    expect(createAlarmStore(db).find(alarmId)?.state).toBe('alarm');
    expect(await history(alarmId)).toHaveLength(1);
    db.close();
  });

  it('two instances on one SQLite file split the alarms; a stopped or silent member hands its alarms over', async () => {
    const s = setup();
    const ids = Array.from({ length: 12 }, () => s.create(outage(unique('never-ran'))));
    const all = [...ids].sort();
    const a = s.evaluator('member-a');
    const b = s.evaluator('member-b', { db: openStateDatabase(s.path) });
    const roundOf = async (...evaluators: AlarmEvaluator[]) => {
      const rounds = [];
      for (const e of evaluators) rounds.push(await e.evaluateNow());
      return rounds.map((r) => r.evaluated);
    };
    const expectExactlyOnce = (lists: string[][]) => {
      expect(lists.flat().sort()).toEqual(all);
    };

    // Round 1: b joins after a has evaluated everything; b's claims find them done.
    expectExactlyOnce(await roundOf(a, b));
    s.clock.advance(10_000);
    const [ofA, ofB] = await roundOf(a, b);
    expectExactlyOnce([ofA!, ofB!]);
    expect(ofA!.length).toBeGreaterThan(0);
    expect(ofB!.length).toBeGreaterThan(0);

    // b stops cleanly: a takes everything at its next round.
    await b.stop();
    s.clock.advance(10_000);
    expectExactlyOnce(await roundOf(a));

    // c joins, then goes silent (a crash): until its lease ends a evaluates its own share only.
    const c = s.evaluator('member-c', { db: openStateDatabase(s.path) });
    s.clock.advance(10_000);
    await roundOf(c, a);
    s.clock.advance(10_000);
    const [shareA, shareC] = await roundOf(a, c);
    expectExactlyOnce([shareA!, shareC!]);
    s.clock.advance(10_000);
    expect((await roundOf(a))[0]).toEqual(shareA);
    s.clock.advance(30_000);
    expectExactlyOnce(await roundOf(a));
  });

  it('runs rounds on its node-cron schedule once started; stop is idempotent and safe before start', async () => {
    const s = setup();
    const check = await failingCheck();
    const alarmId = s.create(outage(check));
    const evaluator = s.evaluator('m1', { schedule: '* * * * * *' });
    await evaluator.stop();
    await evaluator.start();
    await vi.waitFor(() => expect(s.sink.received.map((t) => t.alarm.alarm_id)).toEqual([alarmId]), { timeout: 5000, interval: 50 });
    await evaluator.stop();
    await evaluator.stop();
  });

  it('a failing sink keeps the notification pending and it goes first at the next round', async () => {
    const s = setup();
    const check = await failingCheck();
    const alarmId = s.create(outage(check));
    s.sink.failures = 1;
    const evaluator = s.evaluator();
    const first = await evaluator.evaluateNow();
    expect(first).toMatchObject({ delivered: 0, pending: 1 });
    expect(first.transitions).toHaveLength(1);
    expect(s.alarms.find(alarmId)?.state).toBe('alarm');
    expect(await history(alarmId)).toHaveLength(1);
    s.clock.advance(10_000);
    const second = await evaluator.evaluateNow();
    expect(second).toMatchObject({ transitions: [], delivered: 1, pending: 0 });
    expect(s.sink.received).toEqual([expect.objectContaining({ alarm: expect.objectContaining({ alarm_id: alarmId }), timestamp: at(0).toISOString() })]);
    expect(await history(alarmId)).toHaveLength(1);
  });
});
