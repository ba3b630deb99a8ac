import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, ManualClock, openStateDatabase, type StateDatabase } from '../../core/index.ts';
import type { Alarm, AlarmSeverity, AlarmState } from '../../storage/index.ts';
import { openTempStore, type TempStore } from '../../test/support/temp-store.ts';
import type { AlarmTransition } from '../contracts.ts';
import { outboxEntries } from '../receivers/outbox.ts';
import { startCaptureServer, type CaptureServer } from '../../test/support/capture-server.ts';
import { parseRoutingConfig } from './config.ts';
import { createNotifier, type Notifier } from './notifier.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
// Near the real time: alert_deliveries has a TTL on `at`, so rows stamped months ago vanish at the next merge.
const T0 = Math.floor(Date.now() / H) * H;
const iso = (ms: number) => new Date(ms).toISOString();

let temp: TempStore;
let http: CaptureServer;
let dir: string;
let logText = '';
const open: { notifier: Notifier; db: StateDatabase }[] = [];

beforeAll(async () => {
  temp = await openTempStore('cumulus-notifier-');
  http = await startCaptureServer();
  dir = mkdtempSync(join(tmpdir(), 'cumulus-notifier-state-'));
});
afterAll(async () => {
  await http.close();
  await temp.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.notifier.stop();
    if (o.db.open) o.db.close();
  }
  http.requests.splice(0);
});

let fileSeq = 0;
const logger = createLogger({ level: 'info', destination: new Writable({ write: (chunk: Buffer, _enc, done) => ((logText += chunk.toString('utf8')), done()) }) });

function routing(prefix: string, extra: Record<string, unknown> = {}) {
  return parseRoutingConfig({
    global: { external_url: 'https://cumulus.example' },
    route: {
      receiver: 'team',
      group_by: ['alarm_name'],
      routes: [
        { matchers: ['severity="critical"'], receiver: 'pager', continue: true },
        { matchers: ['alarm_name=~".+"'], receiver: 'team' },
      ],
    },
    receivers: [
      { name: 'team', webhook_configs: [{ url: http.url(`/${prefix}/team/s3cr3t-path`) }] },
      { name: 'pager', pagerduty_configs: [{ routing_key: 'PDKEY-0123456789', url: http.url(`/${prefix}/pd`) }] },
    ],
    inhibit_rules: [{ source_matchers: ['check="region"'], target_matchers: ['service=~".+"'], equal: ['region'] }],
    delivery: { initial_backoff: '1s', max_backoff: '10s', timeout: '2s' },
    ...extra,
  });
}

function start(prefix: string, options: { path?: string; extra?: Record<string, unknown> } = {}) {
  const clock = new ManualClock(T0);
  const db = openStateDatabase(options.path ?? join(dir, `state-${fileSeq++}.sqlite`));
  const notifier = createNotifier(routing(prefix, options.extra), { db, store: temp.store, clock, logger, random: () => 0.5 });
  open.push({ notifier, db });
  return { clock, db, notifier };
}

function alarm(id: string, name: string, severity: AlarmSeverity, state: AlarmState, over: Partial<Alarm> = {}): Alarm {
  return {
    alarm_id: id,
    name,
    description: `${name} alarm`,
    type: 'log',
    enabled: true,
    severity,
    repeat_actions: false,
    time_constraints: [],
    alarm_actions: [],
    ok_actions: [],
    insufficient_data_actions: [],
    project_id: 'p1',
    user_id: 'u1',
    rule: { service: 'nova', comparison_operator: 'gt', threshold: 5, window: 60 },
    state,
    state_reason: `now ${state}`,
    state_timestamp: new Date(T0).toISOString(),
    timestamp: new Date(T0).toISOString(),
    ...over,
  };
}

const transition = (a: Alarm, previous: AlarmState, clock: ManualClock, labels?: Record<string, string>): AlarmTransition => ({
  alarm: a,
  previous,
  reason: `Transition to ${a.state}`,
  reasonData: { type: 'threshold', disposition: 'outside', count: 1 },
  timestamp: clock.now().toISOString(),
  ...(labels ? { labels } : {}),
});

type AmBody = { status: string; alerts: { status: string; labels: Record<string, string> }[] };
const amBodies = (path: string) => http.bodies(path) as AmBody[];
const alarmsIn = (b: AmBody) => b.alerts.map((a) => `${a.labels.alarm_id}:${a.status}`);

async function deliveries(ids: string[]) {
  return temp.store.query<{ notification_id: string; attempt: number; status: string; http_status: number; target: string; kind: string; error: string; receiver: string }>({
    sql: 'SELECT notification_id, attempt, status, http_status, target, kind, error, receiver FROM alert_deliveries WHERE has({ids:Array(String)}, notification_id) ORDER BY notification_id, attempt',
    params: { ids },
  });
}

describe('notifier: grouping and timers', () => {
  it('waits group_wait, batches by group_interval, repeats after repeat_interval, and sends resolved', async () => {
    const { clock, notifier } = start('timers');
    const path = '/timers/team/s3cr3t-path';
    await notifier.notify([transition(alarm('a1', 'cpu', 'low', 'alarm'), 'ok', clock)]);
    clock.advance(29 * S);
    await notifier.tick();
    expect(amBodies(path)).toHaveLength(0);
    clock.advance(1 * S);
    await notifier.tick();
    expect(amBodies(path).map(alarmsIn)).toEqual([['a1:firing']]);

    clock.advance(1 * S);
    await notifier.notify([transition(alarm('a2', 'cpu', 'low', 'alarm'), 'ok', clock)]);
    clock.set(T0 + 30 * S + 5 * M - 1);
    await notifier.tick();
    expect(amBodies(path)).toHaveLength(1);
    clock.set(T0 + 30 * S + 5 * M);
    await notifier.tick();
    expect(amBodies(path).map(alarmsIn)[1]).toEqual(['a1:firing', 'a2:firing']);

    // Nothing new: the next group_interval sends nothing; repeat_interval (4h after the last send) does.
    clock.set(T0 + 30 * S + 10 * M);
    await notifier.tick();
    expect(amBodies(path)).toHaveLength(2);
    clock.set(T0 + 30 * S + 5 * M + 4 * H - 5 * M);
    await notifier.tick();
    expect(amBodies(path)).toHaveLength(2);
    clock.set(T0 + 30 * S + 5 * M + 4 * H);
    await notifier.tick();
    expect(amBodies(path).map(alarmsIn)[2]).toEqual(['a1:firing', 'a2:firing']);

    // a1 resolves: the next flush tells (send_resolved defaults to true), the group still fires.
    clock.advance(1 * M);
    await notifier.notify([transition(alarm('a1', 'cpu', 'low', 'ok'), 'alarm', clock)]);
    clock.set(T0 + 30 * S + 10 * M + 4 * H);
    await notifier.tick();
    const fourth = amBodies(path)[3]!;
    expect(fourth.status).toBe('firing');
    expect(alarmsIn(fourth)).toEqual(['a2:firing', 'a1:resolved']);
    clock.advance(1 * M);
    await notifier.notify([transition(alarm('a2', 'cpu', 'low', 'ok'), 'alarm', clock)]);
    clock.advance(4 * M);
    await notifier.tick();
    expect(amBodies(path)[4]).toMatchObject({ status: 'resolved' });
    expect(alarmsIn(amBodies(path)[4]!)).toEqual(['a2:resolved']);
    // The group is gone: nothing more, ever.
    clock.advance(5 * H);
    await notifier.tick();
    expect(amBodies(path)).toHaveLength(5);
  });

  it('send_resolved: false says nothing when the group resolves; a new firing of the same alarm is news again', async () => {
    const extra = { receivers: [{ name: 'team', webhook_configs: [{ url: http.url('/quiet/team'), send_resolved: false }] }, { name: 'pager' }] };
    const { clock, notifier } = start('quiet', { extra });
    await notifier.notify([transition(alarm('q1', 'disk', 'low', 'alarm'), 'ok', clock)]);
    clock.advance(30 * S);
    await notifier.tick();
    await notifier.notify([transition(alarm('q1', 'disk', 'low', 'ok'), 'alarm', clock)]);
    clock.advance(5 * M);
    await notifier.tick();
    expect(amBodies('/quiet/team').map(alarmsIn)).toEqual([['q1:firing']]);
    await notifier.notify([transition(alarm('q1', 'disk', 'low', 'alarm'), 'ok', clock)]);
    clock.advance(30 * S);
    await notifier.tick();
    expect(amBodies('/quiet/team').map(alarmsIn)).toEqual([['q1:firing'], ['q1:firing']]);
  });

  it('routes critical alarms to PagerDuty too (continue), with one dedup_key per group; insufficient data does not page', async () => {
    const { clock, notifier } = start('pd');
    await notifier.notify([transition(alarm('c1', 'api down', 'critical', 'alarm'), 'ok', clock), transition(alarm('i1', 'api latency', 'critical', 'insufficient data'), 'ok', clock)]);
    clock.advance(30 * S);
    await notifier.tick();
    const pd = http.bodies('/pd/pd') as { event_action: string; dedup_key: string; routing_key: string; payload: { custom_details: { alarms: { alarm_id: string }[] } } }[];
    expect(pd.map((b) => [b.event_action, b.payload.custom_details.alarms.map((a) => a.alarm_id)])).toEqual([['trigger', ['c1']]]);
    expect(amBodies('/pd/team/s3cr3t-path').map(alarmsIn).sort()).toEqual([['c1:firing'], ['i1:firing']]);
    await notifier.notify([transition(alarm('c1', 'api down', 'critical', 'ok'), 'alarm', clock)]);
    clock.advance(5 * M);
    await notifier.tick();
    const after = http.bodies('/pd/pd') as { event_action: string; dedup_key: string }[];
    expect(after[1]).toEqual({ routing_key: 'PDKEY-0123456789', event_action: 'resolve', dedup_key: after[0]!.dedup_key });
  });

  it('forget() resolves the alerts of deleted alarms, so the incident closes instead of repeating', async () => {
    const { clock, notifier } = start('forget');
    await notifier.notify([transition(alarm('d1', 'deleted later', 'critical', 'alarm'), 'ok', clock)]);
    clock.advance(30 * S);
    await notifier.tick();
    expect(notifier.forget(['d1', 'unknown'])).toBe(1);
    expect(notifier.alert('d1')).toMatchObject({ status: 'resolved' });
    clock.advance(5 * M);
    await notifier.tick();
    const pd = http.bodies('/forget/pd') as { event_action: string }[];
    expect(pd.map((b) => b.event_action)).toEqual(['trigger', 'resolve']);
    const team = amBodies('/forget/team/s3cr3t-path');
    expect(team.map(alarmsIn)).toEqual([['d1:firing'], ['d1:resolved']]);
    clock.advance(5 * H);
    await notifier.tick();
    expect(http.bodies('/forget/pd')).toHaveLength(2);
  });
});

describe('notifier: inhibition and silences', () => {
  it('a region outage inhibits the per-service alarms of that region only', async () => {
    const { clock, notifier } = start('inhibit');
    await notifier.notify([
      transition(alarm('r1', 'region r1 down', 'critical', 'alarm', { type: 'outage', rule: { check: 'region', window: 60, threshold: 1, comparison_operator: 'ge' } }), 'ok', clock, { region: 'r1' }),
      transition(alarm('s1', 'nova errors r1', 'critical', 'alarm'), 'ok', clock, { region: 'r1' }),
      transition(alarm('s2', 'nova errors r2', 'critical', 'alarm'), 'ok', clock, { region: 'r2' }),
    ]);
    clock.advance(30 * S);
    await notifier.tick();
    const sent = amBodies('/inhibit/team/s3cr3t-path').flatMap(alarmsIn).sort();
    expect(sent).toEqual(['r1:firing', 's2:firing']);
    const paged = (http.bodies('/inhibit/pd') as { payload: { custom_details: { alarms: { alarm_id: string }[] } } }[]).flatMap((b) => b.payload.custom_details.alarms.map((a) => a.alarm_id)).sort();
    expect(paged).toEqual(['r1', 's2']);
    // The outage ends: s1 is no longer inhibited and is sent at its group's next flush.
    await notifier.notify([transition(alarm('r1', 'region r1 down', 'critical', 'ok', { type: 'outage', rule: { check: 'region' } }), 'alarm', clock, { region: 'r1' })]);
    clock.advance(5 * M);
    await notifier.tick();
    expect(amBodies('/inhibit/team/s3cr3t-path').flatMap(alarmsIn)).toContain('s1:firing');
  });

  it('a silence mutes matching alarms while active; they are sent once it expires', async () => {
    const { clock, notifier } = start('silence');
    const silence = notifier.silences.upsert({ matchers: [{ name: 'service', value: 'nova', isRegex: false, isEqual: true }], startsAt: clock.now().toISOString(), endsAt: new Date(T0 + 1 * H).toISOString(), createdBy: 'ops', comment: 'nova upgrade' });
    expect(silence).toMatchObject({ status: { state: 'active' }, createdBy: 'ops', comment: 'nova upgrade', falsePositive: false });
    await notifier.notify([transition(alarm('n1', 'nova errors', 'low', 'alarm'), 'ok', clock), transition(alarm('g1', 'glance errors', 'low', 'alarm', { rule: { service: 'glance' } }), 'ok', clock)]);
    clock.advance(30 * S);
    await notifier.tick();
    expect(amBodies('/silence/team/s3cr3t-path').flatMap(alarmsIn)).toEqual(['g1:firing']);
    expect(notifier.silences.list({ labels: { service: 'nova' } }).map((s) => s.id)).toEqual([silence.id]);
    clock.set(T0 + 1 * H);
    expect(notifier.silences.get(silence.id).status.state).toBe('expired');
    await notifier.tick();
    expect(amBodies('/silence/team/s3cr3t-path').flatMap(alarmsIn)).toEqual(['g1:firing', 'n1:firing']);
  });

  it('refuses malformed silences with coded errors naming the field; expiring ends one now', () => {
    const { clock, notifier } = start('silence-errors');
    const base = { matchers: [{ name: 'service', value: 'nova', isRegex: false }], startsAt: iso(T0), endsAt: iso(T0 + H), createdBy: 'ops', comment: 'why' };
    const refused = (body: unknown, message: RegExp) => expect(() => notifier.silences.upsert(body)).toThrow(expect.objectContaining({ code: 'CUMULUS_SILENCE_INVALID', httpStatus: 400, message: expect.stringMatching(message) }));
    refused({ ...base, matchers: [] }, /^matchers: expected a non-empty list/);
    refused({ ...base, matchers: [{ name: 'service', value: '.*', isRegex: true }] }, /must not mute every alert/);
    refused({ ...base, matchers: [{ name: 'service', value: '(', isRegex: true }] }, /^matchers\[0\]: expected a valid regular expression/);
    refused({ ...base, endsAt: iso(T0 - H) }, /^endsAt: expected a time after startsAt/);
    refused({ ...base, comment: '' }, /^comment: expected a non-empty string/);
    refused({ ...base, startsAt: 'tomorrow' }, /^startsAt: expected an ISO 8601 time/);
    expect(() => notifier.silences.get('nope')).toThrow(expect.objectContaining({ code: 'CUMULUS_SILENCE_NOT_FOUND', httpStatus: 404 }));
    const s = notifier.silences.upsert(base);
    clock.advance(10 * M);
    expect(notifier.silences.expire(s.id)).toMatchObject({ endsAt: iso(T0 + 10 * M), status: { state: 'expired' } });
    expect(notifier.silences.upsert({ ...base, id: s.id }).id).not.toBe(s.id);
  });

  it('mark as false positive: silences the alarm, flags the silence and records it in the delivery log', async () => {
    const { clock, notifier } = start('fp');
    await notifier.notify([transition(alarm('f1', 'flappy', 'low', 'alarm'), 'ok', clock)]);
    clock.advance(30 * S);
    await notifier.tick();
    const silence = await notifier.markFalsePositive('f1', { createdBy: 'alice', comment: 'noisy check' });
    expect(silence).toMatchObject({ falsePositive: true, alarmId: 'f1', createdBy: 'alice', comment: 'noisy check', matchers: [{ name: 'alarm_id', value: 'f1', isRegex: false, isEqual: true }], endsAt: new Date(T0 + 30 * S + 7 * 24 * H).toISOString() });
    await notifier.notify([transition(alarm('f2', 'flappy', 'low', 'alarm'), 'ok', clock)]);
    clock.set(T0 + 30 * S + 4 * H);
    await notifier.tick();
    // The repeat is muted for f1; f2 is news.
    expect(amBodies('/fp/team/s3cr3t-path').map(alarmsIn)).toEqual([['f1:firing'], ['f2:firing']]);
    expect(await deliveries([silence.id])).toEqual([expect.objectContaining({ kind: 'false-positive', status: 'silenced', target: `silence:${silence.id}`, attempt: 0 })]);
  });
});

describe('notifier: delivery', () => {
  it("posts Aodh's body to the alarm's own actions, once per transition, and logs log:// actions", async () => {
    const { clock, notifier, db } = start('aodh');
    const a = alarm('x1', 'cpu high', 'moderate', 'alarm', { alarm_actions: [http.url('/aodh/hook/s3cr3t?key=1')], ok_actions: ['log://'] });
    const t = transition(a, 'ok', clock);
    await notifier.notify([t]);
    await notifier.notify([t]);
    await notifier.tick();
    const posts = http.requests.filter((r) => r.path.startsWith('/aodh/hook'));
    expect(posts).toHaveLength(1);
    expect(JSON.parse(posts[0]!.body)).toEqual({ alarm_name: 'cpu high', alarm_id: 'x1', severity: 'moderate', previous: 'ok', current: 'alarm', reason: 'Transition to alarm', reason_data: { type: 'threshold', disposition: 'outside', count: 1 } });
    const id = posts[0]!.headers['x-cumulus-notification-id'] as string;
    expect(posts[0]!.headers['x-openstack-request-id']).toBe(`req-${id}`);
    expect(posts[0]!.headers['content-type']).toBe('application/json');
    const rows = await deliveries([id]);
    expect(rows).toEqual([expect.objectContaining({ status: 'delivered', http_status: 200, kind: 'aodh', receiver: 'alarm-actions', attempt: 1 })]);
    expect(rows[0]!.target).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\[redacted\]\?\[redacted\]$/);
    clock.advance(1 * M);
    await notifier.notify([transition({ ...a, state: 'ok' }, 'alarm', clock)]);
    await notifier.tick();
    expect(outboxEntries(db).map((e) => [e.kind, e.status])).toEqual([['aodh', 'delivered'], ['log', 'delivered']]);
    expect(logText).toContain('"action":"log"');
  });

  it('retries a 500 with backoff, delivers once, records every attempt; a 404 is not retried', async () => {
    const { clock, notifier } = start('retry');
    http.answer('/retry/hook', 500, 500);
    http.answer('/retry/gone', 404);
    await notifier.notify([transition(alarm('y1', 'mem', 'low', 'alarm', { alarm_actions: [http.url('/retry/hook'), http.url('/retry/gone')] }), 'ok', clock)]);
    await notifier.tick();
    const hook = () => http.requests.filter((r) => r.path === '/retry/hook');
    expect(hook().map((r) => r.status)).toEqual([500]);
    // Backoff 1 s doubling, half jittered (random pinned at 0.5): 750 ms, then 1500 ms.
    clock.advance(749);
    await notifier.tick();
    expect(hook()).toHaveLength(1);
    clock.advance(1);
    await notifier.tick();
    expect(hook().map((r) => r.status)).toEqual([500, 500]);
    clock.advance(1499);
    await notifier.tick();
    expect(hook()).toHaveLength(2);
    clock.advance(1);
    await notifier.tick();
    clock.advance(1 * H);
    await notifier.tick();
    expect(hook().map((r) => r.status)).toEqual([500, 500, 200]);
    expect(new Set(hook().map((r) => r.headers['x-cumulus-notification-id'])).size).toBe(1);
    const gone = http.requests.filter((r) => r.path === '/retry/gone');
    expect(gone).toHaveLength(1);
    const ids = [hook()[0]!.headers['x-cumulus-notification-id'] as string, gone[0]!.headers['x-cumulus-notification-id'] as string];
    const rows = await deliveries(ids);
    expect(rows.filter((r) => r.notification_id === ids[0]).map((r) => [r.attempt, r.status, r.http_status])).toEqual([[1, 'retrying', 500], [2, 'retrying', 500], [3, 'delivered', 200]]);
    expect(rows.filter((r) => r.notification_id === ids[1]).map((r) => [r.attempt, r.status, r.http_status])).toEqual([[1, 'failed', 404]]);
    expect(rows.find((r) => r.notification_id === ids[0])!.error).toBe('HTTP 500: receiver failure');
  });

  it('a notifier stopped mid-retry and re-created on the same SQLite file delivers exactly once; group timers survive', async () => {
    const path = join(dir, 'restart.sqlite');
    const first = start('restart', { path });
    http.answer('/restart/team/s3cr3t-path', 500);
    await first.notifier.notify([transition(alarm('z1', 'restart', 'low', 'alarm'), 'ok', first.clock)]);
    first.clock.advance(30 * S);
    await first.notifier.tick();
    first.clock.advance(1 * S);
    await first.notifier.notify([transition(alarm('z2', 'other group', 'low', 'alarm'), 'ok', first.clock)]);
    await first.notifier.stop();
    first.db.close();

    const second = start('restart', { path });
    second.clock.set(T0 + 31 * S);
    await second.notifier.tick();
    second.clock.set(T0 + 61 * S);
    await second.notifier.tick();
    second.clock.advance(6 * M);
    await second.notifier.tick();
    const team = http.requests.filter((r) => r.path === '/restart/team/s3cr3t-path');
    const bodies = team.map((r) => [r.status, alarmsIn(JSON.parse(r.body) as AmBody).join()]);
    expect(bodies).toEqual([[500, 'z1:firing'], [200, 'z1:firing'], [200, 'z2:firing']]);
    expect(team[0]!.headers['x-cumulus-notification-id']).toBe(team[1]!.headers['x-cumulus-notification-id']);
    const rows = await deliveries([team[0]!.headers['x-cumulus-notification-id'] as string]);
    expect(rows.map((r) => [r.attempt, r.status])).toEqual([[1, 'retrying'], [2, 'delivered']]);
  });

  it('retries network errors until max_age, then marks the notification failed', async () => {
    const closed = await startCaptureServer();
    const deadUrl = closed.url('/gone/s3cr3t');
    await closed.close();
    const { clock, notifier, db } = start('maxage', { extra: { delivery: { initial_backoff: '1s', max_backoff: '2s', max_age: '4s', timeout: '2s' } } });
    await notifier.notify([transition(alarm('m1', 'unreachable', 'low', 'alarm', { alarm_actions: [deadUrl] }), 'ok', clock)]);
    const statuses: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await notifier.drain();
      statuses.push(r.retrying > 0 ? 'retrying' : r.failed > 0 ? 'failed' : r.delivered > 0 ? 'delivered' : '-');
      clock.advance(2 * S);
    }
    // Attempts at 0 s, 2 s and 4 s; the next one (6 s or later) would exceed max_age 4 s.
    expect(statuses).toEqual(['retrying', 'retrying', 'failed', '-', '-', '-']);
    const [row] = outboxEntries(db);
    expect(row).toMatchObject({ status: 'failed', attempts: 3, lastHttpStatus: 0 });
    expect(row!.lastError).toMatch(/fetch failed.*gave up: older than 4000 ms/);
    expect(row!.lastError).not.toContain('s3cr3t');
  });

  it('start() runs the loop on its own; stop() is idempotent and safe before start()', async () => {
    const idle = start('idle');
    await idle.notifier.stop();
    await idle.notifier.stop();
    const { clock, notifier } = start('loop', { extra: { tick_interval: '10ms' } });
    await notifier.notify([transition(alarm('l1', 'looped', 'low', 'alarm', { alarm_actions: [http.url('/loop/hook')] }), 'ok', clock)]);
    await notifier.start();
    await expect.poll(() => http.requests.filter((r) => r.path === '/loop/hook').length, { timeout: 5000 }).toBe(1);
    await notifier.stop();
    await notifier.stop();
  });

  it('never writes a webhook path or routing key to the logs or the delivery log', async () => {
    const rows = await temp.store.query<{ target: string; error: string }>({ sql: 'SELECT target, error FROM alert_deliveries' });
    expect(rows.length).toBeGreaterThan(0);
    for (const text of [logText, JSON.stringify(rows)]) {
      expect(text).not.toContain('s3cr3t');
      expect(text).not.toContain('PDKEY-0123456789');
    }
  });
});
