import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../../test/support/temp-store.ts';
import { ManualClock, openStateDatabase, silentLogger, type StateDatabase } from '../../core/index.ts';
import type { AlarmTransition, TransitionSink } from '../contracts.ts';
import { BUILTIN_PROJECT_ID, createBuiltinRules, evaluateServiceHealth } from './builtin-rules.ts';
import { CHECK_RESULTS_TABLE, type CheckResultRow, type StoredCheckResult } from './queries.ts';

// Recent (an hour boundary six hours ago): check_results keep rows 90 days (TTL), older rows vanish.
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 6 * 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** A sink that records what it was handed, and can be told to refuse (as a notifier whose outbox is down). */
class RecordingSink implements TransitionSink {
  readonly received: AlarmTransition[] = [];
  refuse = false;
  async notify(transitions: readonly AlarmTransition[]): Promise<void> {
    if (this.refuse) throw new Error('outbox unavailable');
    this.received.push(...transitions);
  }
}

const result = (check: string, atMs: number, ok: boolean, fields: Partial<CheckResultRow> = {}): CheckResultRow => ({
  check_name: check,
  at: iso(atMs),
  service: 'compute',
  region: 'RegionOne',
  host: '',
  ok: ok ? 1 : 0,
  latency_ms: 12.5,
  error: ok ? '' : 'boom',
  ...fields,
});

let temp: TempStore;
beforeAll(async () => {
  temp = await openTempStore('cumulus-builtin-');
});
afterAll(async () => {
  await temp.close();
});

/** A fresh rules component over the shared store, with its own clock, state database and sink. */
function rules(db: StateDatabase = openStateDatabase(':memory:'), options: Parameters<typeof createBuiltinRules>[0] = {}, startMs = T0) {
  const clock = new ManualClock(startMs);
  const sink = new RecordingSink();
  const component = createBuiltinRules({ evaluationIntervalMs: 0, ...options }, { store: temp.store, stateDb: db, sink, clock, logger: silentLogger() });
  return { clock, sink, component, db };
}

describe('service health across controllers (pure)', () => {
  const row = (process: string, host: string, ok: boolean): StoredCheckResult => ({ ...result(`process:${process}`, T0, ok, { host, service: 'compute' }), ok: ok ? 1 : 0 });
  it('down on one of three is moderate, on all three critical, up everywhere ok; other checks are ignored', () => {
    const { findings } = evaluateServiceHealth([
      row('nova-api', 'ctl-1', true),
      row('nova-api', 'ctl-2', false),
      row('nova-api', 'ctl-3', true),
      row('keystone', 'ctl-1', false),
      row('keystone', 'ctl-2', false),
      row('keystone', 'ctl-3', false),
      row('glance-api', 'ctl-1', true),
      { ...row('x', 'ctl-1', false), check_name: 'nova-flavor-list' },
    ]);
    expect(findings.map((f) => [f.key, f.state, f.severity])).toEqual([
      ['service-health:glance-api', 'ok', 'moderate'],
      ['service-health:keystone', 'alarm', 'critical'],
      ['service-health:nova-api', 'alarm', 'moderate'],
    ]);
    expect(findings[2]!.reason).toMatch(/down on ctl-2 \(1 of 3 hosts\)/);
    expect(findings[2]!.reasonData).toMatchObject({ down_hosts: ['ctl-2'], hosts: ['ctl-1', 'ctl-2', 'ctl-3'] });
  });
});

describe('built-in rules over stored rows', () => {
  it('service health: warns, escalates, recovers, with one transition per change and none on repeats', async () => {
    const { clock, sink, component } = rules(undefined, { bruteForce: { enabled: false } }, T0 + 3_600_000);
    const base = T0 + 3_600_000;
    const health = (atMs: number, downOn: readonly string[]) =>
      temp.store.insert(CHECK_RESULTS_TABLE, ['ctl-1', 'ctl-2', 'ctl-3'].map((h) => result('process:cinder-api', atMs, !downOn.includes(h), { host: h, service: 'block-storage' })));

    await health(base - 1_000, []);
    expect(await component.evaluate()).toEqual([]);

    await health(base + 9_000, ['ctl-2']);
    clock.set(base + 10_000);
    const [warning] = await component.evaluate();
    expect(warning).toMatchObject({ previous: 'ok', alarm: { state: 'alarm', severity: 'moderate', project_id: BUILTIN_PROJECT_ID, name: 'builtin:service-health:cinder-api', type: 'outage' }, labels: { service: 'block-storage', process: 'cinder-api', category: 'availability' } });
    expect(await component.evaluate()).toEqual([]);

    await health(base + 19_000, ['ctl-1', 'ctl-2', 'ctl-3']);
    clock.set(base + 20_000);
    const [critical] = await component.evaluate();
    expect(critical).toMatchObject({ previous: 'alarm', alarm: { state: 'alarm', severity: 'critical', alarm_id: warning!.alarm.alarm_id } });
    expect(critical!.reason).toMatch(/down on all 3 hosts/);

    await health(base + 29_000, []);
    clock.set(base + 30_000);
    const [recovered] = await component.evaluate();
    expect(recovered).toMatchObject({ previous: 'alarm', alarm: { state: 'ok' }, timestamp: iso(base + 30_000) });

    // Stale rows (the prober stopped) decide nothing: the state stays as it was.
    clock.set(base + 30_000 + 10 * 60_000);
    expect(await component.evaluate()).toEqual([]);
    expect(component.states().find((s) => s.key === 'service-health:cinder-api')).toMatchObject({ state: 'ok' });
    expect(sink.received).toHaveLength(3);
  });

  it('brute force: 20 failures from one address within 60 s alarm with the address; fewer, or spread out, do not', async () => {
    const base = T0 + 2 * 3_600_000;
    const { clock, sink, component } = rules(undefined, { serviceHealth: { enabled: false } }, base);
    const failure = (n: number, address: string, atMs: number, action = 'authenticate', outcome = 'failure') => ({
      id: `00000000-0000-5000-8000-${String(n).padStart(12, '0')}`,
      event_time: iso(atMs),
      action,
      outcome,
      event_type: 'identity.authenticate',
      type_uri: 'http://schemas.dmtf.org/cloud/audit/1.0/event',
      initiator_id: 'u-x',
      initiator_type: 'service/security/account/user',
      initiator_name: 'admin',
      project_id: null,
      initiator_address: address,
      initiator_agent: 'curl',
      target_id: 'keystone',
      target_type: 'service/security/account/user',
      target_address: null,
      observer_id: 'keystone',
      observer_type: 'service/security',
      reason_code: '401',
      request_id: null,
      raw: '{}',
    });
    const rows = [
      // 203.0.113.9: 20 failures in 40 s -> alarm.
      ...Array.from({ length: 20 }, (_, i) => failure(100 + i, '203.0.113.9', base - 40_000 + i * 2_000)),
      // 198.51.100.4: 19 failures -> below the threshold.
      ...Array.from({ length: 19 }, (_, i) => failure(200 + i, '198.51.100.4', base - 30_000 + i * 1_000)),
      // 192.0.2.1: 25 failures, but spread over 5 minutes: at most 5 in any minute.
      ...Array.from({ length: 25 }, (_, i) => failure(300 + i, '192.0.2.1', base - 300_000 + i * 12_000 - 61_000)),
      // Successes and other actions do not count.
      ...Array.from({ length: 30 }, (_, i) => failure(400 + i, '10.1.1.1', base - 10_000, i % 2 === 0 ? 'authenticate' : 'read/list', i % 2 === 0 ? 'success' : 'failure')),
    ];
    await temp.store.insert('audit_records', rows);

    const transitions = await component.evaluate();
    expect(transitions).toHaveLength(1);
    expect(transitions[0]).toMatchObject({ previous: 'insufficient data', alarm: { state: 'alarm', severity: 'critical', type: 'event', name: 'builtin:brute-force:203.0.113.9' }, labels: { category: 'security', address: '203.0.113.9', service: 'identity' }, reasonData: { address: '203.0.113.9', count: 20, threshold: 20 } });
    expect(transitions[0]!.reason).toMatch(/20 failed authentications from 203\.0\.113\.9 in the last 60 s/);

    // A minute later the window holds none of them: back to ok.
    clock.set(base + 61_000);
    const cleared = await component.evaluate();
    expect(cleared).toMatchObject([{ previous: 'alarm', alarm: { state: 'ok', name: 'builtin:brute-force:203.0.113.9' } }]);
    expect(sink.received).toHaveLength(2);
  });

  it('a restart on the same state database does not fire what already fired; a refused notify is sent again', async () => {
    const base = T0 + 3 * 3_600_000;
    const db = openStateDatabase(':memory:');
    await temp.store.insert(CHECK_RESULTS_TABLE, [result('keystone-token-issue', base - 5_000, true, { service: 'identity' }), result('keystone-token-issue', base - 4_000, false, { service: 'identity', error: 'issue token: expected 201, got 503' })]);
    const first = rules(db, { serviceHealth: { enabled: false }, bruteForce: { enabled: false }, shortOutage: { checks: ['keystone-token-issue'] } }, base);
    first.sink.refuse = true;
    await expect(first.component.evaluate()).rejects.toThrow(/outbox unavailable/);
    expect(first.component.states()).toEqual([]);
    first.sink.refuse = false;
    const [fired] = await first.component.evaluate();
    expect(fired).toMatchObject({ previous: 'insufficient data', alarm: { state: 'alarm', severity: 'moderate' }, labels: { check: 'keystone-token-issue', service: 'identity' } });
    expect(fired!.reason).toMatch(/failed 1 of 2 runs in the last 60 s \(last: issue token: expected 201, got 503\)/);

    const second = rules(db, { serviceHealth: { enabled: false }, bruteForce: { enabled: false }, shortOutage: { checks: () => ['keystone-token-issue'] } }, base + 1_000);
    expect(await second.component.evaluate()).toEqual([]);
    // The one-second outage is over once a minute has no failure in it.
    second.clock.set(base + 57_000);
    expect(await second.component.evaluate()).toEqual([]);
    await temp.store.insert(CHECK_RESULTS_TABLE, [result('keystone-token-issue', base + 58_000, true, { service: 'identity' })]);
    second.clock.set(base + 60_000);
    expect(await second.component.evaluate()).toMatchObject([{ previous: 'alarm', alarm: { state: 'ok' } }]);
  });

  it('refuses bad settings naming the field', () => {
    expect(() => rules(undefined, { bruteForce: { failures: 0 } })).toThrow(expect.objectContaining({ code: 'CUMULUS_CHECK_CONFIG_INVALID', message: expect.stringMatching(/^bruteForce\.failures: expected a positive integer, got 0/) }));
  });
});
