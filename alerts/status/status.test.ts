import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../../test/support/temp-store.ts';
import { ManualClock } from '../../core/index.ts';
import { CHECK_RESULTS_TABLE, type BuiltinAlarmRecord, type CheckResultRow } from '../checks/index.ts';
import { registerStatusRoutes } from './routes.ts';
import { serviceStatus, type StatusReport } from './status.ts';

// Recent: check_results keep 90 days (TTL).
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const row = (check: string, service: string, secondsAgo: number, ok: boolean, fields: Partial<CheckResultRow> = {}): CheckResultRow => ({
  check_name: check,
  at: iso(T0 - secondsAgo * 1000),
  service,
  region: 'RegionOne',
  host: '',
  ok: ok ? 1 : 0,
  latency_ms: 10 + secondsAgo,
  error: ok ? '' : `${check} broke`,
  ...fields,
});

let temp: TempStore;
let app: FastifyInstance;
const clock = new ManualClock(T0);
let alarms: BuiltinAlarmRecord[] = [];

beforeAll(async () => {
  temp = await openTempStore('cumulus-status-');
  await temp.store.insert(CHECK_RESULTS_TABLE, [
    // identity: all good; p50 of 10, 11, 12 is 11.
    row('keystone-token-issue', 'identity', 0, true),
    row('keystone-token-issue', 'identity', 1, true),
    row('keystone-token-issue', 'identity', 2, true),
    // compute: the flavor list failed once a minute ago, passes now -> warning.
    row('nova-flavor-list', 'compute', 60, false),
    row('nova-flavor-list', 'compute', 0, true),
    // block storage: the latest volume cycle failed -> failed.
    row('cinder-volume-create-delete', 'block-storage', 30, true),
    row('cinder-volume-create-delete', 'block-storage', 5, false),
    // image: glance-api down on one of three controllers -> warning.
    ...['ctl-1', 'ctl-2', 'ctl-3'].map((h) => row('process:glance-api', 'image', 3, h !== 'ctl-2', { host: h })),
    // network: neutron-server down on all -> failed, even though an older run was fine.
    ...['ctl-1', 'ctl-2', 'ctl-3'].map((h) => row('process:neutron-server', 'network', 60, true, { host: h })),
    ...['ctl-1', 'ctl-2', 'ctl-3'].map((h) => row('process:neutron-server', 'network', 2, false, { host: h })),
    // A failure long before the window does not count.
    row('endpoint-get:placement', 'placement', 3_000, false),
    row('endpoint-get:placement', 'placement', 1, true),
  ]);
  app = Fastify();
  registerStatusRoutes(app, {
    store: temp.store,
    clock,
    builtinStates: () => alarms,
    preHandler: async (request, reply) => {
      if (request.headers['x-auth-token'] !== 'valid') return reply.code(401).send({ error: { code: 401, message: 'Authentication required' } });
      return undefined;
    },
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await temp.close();
});

const byService = (report: StatusReport) => Object.fromEntries(report.services.map((s) => [s.service, s]));

describe('service status', () => {
  it('grades each service from its latest results and the window', async () => {
    const report = await serviceStatus({ store: temp.store, clock });
    const s = byService(report);
    expect(Object.fromEntries(report.services.map((x) => [x.service, x.status]))).toEqual({
      'block-storage': 'failed',
      compute: 'warning',
      identity: 'good',
      image: 'warning',
      network: 'failed',
      placement: 'good',
    });
    expect(report.overall).toBe('failed');
    expect(s.identity!.checks[0]).toMatchObject({ check: 'keystone-token-issue', runs: 3, failures: 0, latency_p50_ms: 11, last: { ok: true, at: iso(T0), latency_ms: 10 }, last_failure: null });
    expect(s.compute!.reasons[0]).toMatch(/nova-flavor-list failed 1 of 2 runs in the last 300 s \(last: nova-flavor-list broke\)/);
    expect(s.compute!.checks[0]).toMatchObject({ last_failure: iso(T0 - 60_000), last_error: 'nova-flavor-list broke' });
    expect(s['block-storage']!.reasons[0]).toMatch(/failed its latest run: cinder-volume-create-delete broke/);
    expect(s.image!.reasons).toEqual(['process:glance-api down on ctl-2 (1 of 3)']);
    expect(s.image!.checks[0]!.hosts.map((h) => [h.host, h.ok])).toEqual([['ctl-1', true], ['ctl-2', false], ['ctl-3', true]]);
    expect(s.network!.reasons).toEqual(['process:neutron-server down on all 3 hosts']);
  });

  it('a wider window sees older failures; an active built-in alarm raises its service', async () => {
    const wide = byService(await serviceStatus({ store: temp.store, clock }, { windowSeconds: 3_600 }));
    expect(wide.placement!.status).toBe('warning');
    alarms = [
      { key: 'brute-force:203.0.113.9', kind: 'brute-force', state: 'alarm', severity: 'critical', reason: '25 failed authentications from 203.0.113.9', reasonData: {}, labels: { service: 'identity' }, stateTimestamp: iso(T0 - 5_000), timestamp: iso(T0) },
      { key: 'short-outage:x', kind: 'short-outage', state: 'ok', severity: 'moderate', reason: 'passed', reasonData: {}, labels: { service: 'placement' }, stateTimestamp: iso(T0), timestamp: iso(T0) },
    ];
    const s = byService(await serviceStatus({ store: temp.store, clock, builtinStates: () => alarms }));
    expect(s.identity).toMatchObject({ status: 'failed', alarms: [{ key: 'brute-force:203.0.113.9', severity: 'critical', since: iso(T0 - 5_000) }] });
    expect(s.placement!.status).toBe('good');
    alarms = [];
  });
});

describe('status routes', () => {
  it('need a token', async () => {
    expect((await app.inject({ url: '/v2/status' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/v2/status.html' })).statusCode).toBe(401);
  });

  it('GET /v2/status answers the report; a bad window is refused', async () => {
    const res = await app.inject({ url: '/v2/status?window=600', headers: { 'x-auth-token': 'valid' } });
    expect(res.statusCode).toBe(200);
    const body = res.json() as StatusReport;
    expect(body).toMatchObject({ window_seconds: 600, overall: 'failed', generated_at: iso(T0) });
    expect(byService(body).image).toMatchObject({ status: 'warning', checks: [{ check: 'process:glance-api', hosts: [{ host: 'ctl-1', ok: true }, { host: 'ctl-2', ok: false, error: 'process:glance-api broke' }, { host: 'ctl-3', ok: true }] }] });
    expect((await app.inject({ url: '/v2/status?window=1', headers: { 'x-auth-token': 'valid' } })).statusCode).toBe(400);
  });

  it('GET /v2/status.html is a self-contained page with coloured states, escaping what it shows', async () => {
    await temp.store.insert(CHECK_RESULTS_TABLE, [row('endpoint-get:metric', 'metric', 0, false, { error: '<script>alert(1)</script>' })]);
    const res = await app.inject({ url: '/v2/status.html', headers: { 'x-auth-token': 'valid' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toMatch(/<title>Cumulus service status: failed<\/title>/);
    expect(res.body).toMatch(/<th scope="row">image<\/th><td class="state" style="background:#f0ad00;color:#1a1a1a">warning<\/td>/);
    expect(res.body).toMatch(/<th scope="row">identity<\/th><td class="state" style="background:#1e7e34;color:#ffffff">good<\/td>/);
    expect(res.body).not.toMatch(/<script>/);
    expect(res.body).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(res.body).not.toMatch(/(src|href)=/);
  });
});
