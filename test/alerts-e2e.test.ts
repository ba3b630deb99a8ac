import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRoutingConfig } from '../alerts/index.ts';
import { startPlatform, type Platform } from '../cli/platform.ts';
import { loadConfig, ManualClock, silentLogger, type CumulusConfig } from '../core/index.ts';
import { createProjectMember } from './support/api-tenants.ts';
import { startCaptureServer, type CaptureServer } from './support/capture-server.ts';
import { eventually, login, type Session } from './support/openstack-http.ts';

/**
 * Issue 8 end to end: a threshold breach driven through the control plane (a resize makes
 * an instance's vcpus cross the alarm's threshold) reaches a local Slack and PagerDuty
 * capture server in their wire formats, and resolves; then a receiver answering 500 is
 * retried across a restart of the whole platform and gets the notification exactly once.
 * The platform runs on a ManualClock; the evaluator and the notifier are driven by hand
 * (their schedules are off), so every step is deterministic.
 */

type Json = Record<string, unknown>;
const MIN = 60_000;
const BUCKET = 5 * MIN;
/** A 5-minute boundary an hour ago: the measures stay well inside the policies' retention (wall clock). */
const A = Math.floor(Date.now() / BUCKET) * BUCKET - 12 * BUCKET;
const SUFFIX = Date.now().toString(36);
const ROUTING_KEY = 'e2e0routing0key0000000000000000a';

async function send(base: string, who: Session, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json; text: string }> {
  const res = await fetch(`${base}${path}`, { method, headers: { 'x-auth-token': who.token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, text, body: (text.startsWith('{') ? JSON.parse(text) : {}) as Json };
}
async function ok(base: string, who: Session, method: string, path: string, body?: unknown): Promise<Json> {
  const res = await send(base, who, method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.body;
}

describe('a breach through the control plane reaches Slack and PagerDuty', { timeout: 300_000 }, () => {
  const clock = new ManualClock(A);
  let capture: CaptureServer;
  let platform: Platform;
  let dataDir = '';
  let admin: Session;
  let member: Session;
  let projectId = '';
  let serverId = '';
  let alarmId = '';
  const user = `erin-${SUFFIX}`;
  const project = `e2e-${SUFFIX}`;

  const step = async (ms: number) => {
    clock.set(ms);
    admin = await login(platform.url, 'admin', platform.adminPassword, 'admin');
    member = await login(platform.url, user, `${user}-password-1`, project);
  };
  const status = async () => {
    const res = await send(platform.url, member, 'GET', `/compute/v2.1/servers/${serverId}`);
    return (res.body.server as Json | undefined)?.status as string | undefined;
  };
  const until = async (wanted: string) => {
    await eventually(async () => ((await status()) === wanted ? true : undefined), `server ${wanted}`);
    await platform.drain();
  };
  const resize = async (flavor: string) => {
    expect((await send(platform.url, member, 'POST', `/compute/v2.1/servers/${serverId}/action`, { resize: { flavorRef: flavor } })).status).toBe(202);
    await until('VERIFY_RESIZE');
    expect((await send(platform.url, member, 'POST', `/compute/v2.1/servers/${serverId}/action`, { confirmResize: null })).status).toBeLessThan(300);
    await until('ACTIVE');
  };
  const evaluate = async () => {
    await platform.alerts.evaluator.evaluateNow();
    await platform.alerts.notifier.tick();
  };
  const alarmState = async () => (await ok(platform.url, member, 'GET', `/alarming/v2/alarms/${alarmId}`)).state;

  beforeAll(async () => {
    capture = await startCaptureServer();
    dataDir = mkdtempSync(join(tmpdir(), 'cumulus-alerts-e2e-'));
    const config: CumulusConfig = loadConfig({ env: {}, overrides: { port: 0, dataDir, logLevel: 'silent' } });
    const routing = parseRoutingConfig({
      global: { external_url: 'https://cumulus.example.test' },
      route: {
        receiver: 'ops-slack',
        group_by: ['alarm_name'],
        group_wait: '0s',
        group_interval: '1m',
        repeat_interval: '4h',
        routes: [
          { matchers: ['severity="critical"'], receiver: 'oncall', continue: true },
          { matchers: [], receiver: 'ops-slack' },
        ],
      },
      receivers: [
        { name: 'ops-slack', slack_configs: [{ api_url: capture.url('/slack/T000/B000/secret-path'), channel: '#ops' }] },
        { name: 'oncall', pagerduty_configs: [{ routing_key: ROUTING_KEY, url: capture.url('/pagerduty/v2/enqueue') }] },
      ],
    });
    platform = await startPlatform(config, { clock, logger: silentLogger(), buildDelayMs: 10, periodicTasks: false, computePollster: false, alerts: { routing, loops: false } });
    admin = await login(platform.url, 'admin', platform.adminPassword, 'admin');
    projectId = (await createProjectMember(platform.url, admin, project, user)).projectId;
    await step(A + 10_000);
    const flavor = async (name: string, vcpus: number) => ((await ok(platform.url, admin, 'POST', '/compute/v2.1/flavors', { flavor: { name, vcpus, ram: 512, disk: 1 } })).flavor as Json).id as string;
    const small = await flavor(`e2e-small-${SUFFIX}`, 1);
    const large = await flavor(`e2e-large-${SUFFIX}`, 4);
    serverId = ((await ok(platform.url, member, 'POST', '/compute/v2.1/servers', { server: { name: 'e2e-web', flavorRef: small, imageRef: 'cirros', networks: 'none' } })).server as Json).id as string;
    await until('ACTIVE');
    // Aodh's body, as `aodh alarm create --type gnocchi_resources_threshold ...` sends it.
    alarmId = (
      await ok(platform.url, member, 'POST', '/alarming/v2/alarms', {
        name: `vcpus-high-${SUFFIX}`,
        type: 'gnocchi_resources_threshold',
        severity: 'critical',
        gnocchi_resources_threshold_rule: { metric: 'vcpus', resource_id: serverId, resource_type: 'instance', comparison_operator: 'gt', threshold: 2, aggregation_method: 'mean', granularity: 300, evaluation_periods: 1 },
      })
    ).alarm_id as string;

    // Bucket [A, A+5m): one vcpu.
    await step(A + BUCKET + 30_000);
    await evaluate();
    expect(await alarmState()).toBe('ok');
    // Bucket [A+5m, A+10m): resized to four vcpus.
    await resize(large);
    await step(A + 2 * BUCKET + 30_000);
    await evaluate();
    expect(await alarmState()).toBe('alarm');
    // Bucket [A+10m, A+15m): resized back (its first notifications still carry four vcpus:
    // the mean stays above 2); bucket [A+15m, A+20m): stopped and started with one.
    await resize(small);
    await step(A + 3 * BUCKET + 30_000);
    await evaluate();
    expect(await alarmState()).toBe('alarm');
    for (const [action, wanted] of [['os-stop', 'SHUTOFF'], ['os-start', 'ACTIVE']] as const) {
      expect((await send(platform.url, member, 'POST', `/compute/v2.1/servers/${serverId}/action`, { [action]: null })).status).toBe(202);
      await until(wanted);
    }
    await step(A + 4 * BUCKET + 30_000);
    await evaluate();
    expect(await alarmState()).toBe('ok');
  }, 300_000);

  afterAll(async () => {
    await platform?.stop();
    await capture?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('pages PagerDuty with Events API v2: trigger, then resolve under the same dedup_key', () => {
    const events = capture.bodies('/pagerduty/v2/enqueue') as Json[];
    expect(events.map((e) => e.event_action)).toEqual(['trigger', 'resolve']);
    const [trigger, resolve] = events as [Json, Json];
    expect(trigger.routing_key).toBe(ROUTING_KEY);
    expect(trigger.dedup_key).toMatch(/^[0-9a-f]{64}$/);
    expect(resolve).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: trigger.dedup_key });
    const payload = trigger.payload as Json;
    expect(Object.keys(payload).sort()).toEqual(['class', 'component', 'custom_details', 'group', 'severity', 'source', 'summary', 'timestamp']);
    expect(payload).toMatchObject({ severity: 'critical', source: serverId, component: 'nova', group: projectId, class: 'gnocchi_resources_threshold' });
    expect(payload.summary).toMatch(new RegExp(`^\\[FIRING:1\\] vcpus-high-${SUFFIX} on nova: `));
    expect((payload.summary as string).length).toBeLessThanOrEqual(1024);
    expect(Date.parse(payload.timestamp as string)).toBe(A + 2 * BUCKET + 30_000);
    const details = payload.custom_details as Json;
    expect(details).toMatchObject({ firing: 1, resolved: 0 });
    expect((details.alarms as Json[])[0]).toMatchObject({ alarm_id: alarmId, previous: 'ok', current: 'alarm', severity: 'critical' });
    expect(trigger.links).toEqual([{ href: `https://cumulus.example.test/alarming/v2/alarms/${alarmId}`, text: `Alarm vcpus-high-${SUFFIX}` }]);
    for (const r of capture.requests.filter((q) => q.path === '/pagerduty/v2/enqueue')) expect(r.headers['content-type']).toMatch(/^application\/json/);
  });

  it('posts a Block Kit message to Slack when it fires, and another when it resolves', () => {
    const messages = capture.bodies('/slack/T000/B000/secret-path') as Json[];
    expect(messages).toHaveLength(2);
    const [firing, resolved] = messages as [Json, Json];
    expect(firing.channel).toBe('#ops');
    expect(firing.text).toBe(`[FIRING:1] vcpus-high-${SUFFIX} (service: nova, severity: critical)`);
    const blocks = firing.blocks as Json[];
    expect(blocks.map((b) => b.type)).toEqual(['header', 'section', 'divider', 'section', 'context']);
    expect(blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: `[FIRING:1] vcpus-high-${SUFFIX}`, emoji: true } });
    expect((blocks[1]?.fields as Json[]).map((f) => f.text)).toEqual(['*Service*\nnova', '*Severity*\ncritical', `*Project*\n${projectId}`, '*Alarms*\n1 firing, 0 insufficient data, 0 resolved']);
    const alarmText = ((blocks[3] as Json).text as Json).text as string;
    expect(alarmText).toContain(`<https://cumulus.example.test/alarming/v2/alarms/${alarmId}|vcpus-high-${SUFFIX}>`);
    expect(alarmText).toContain('ok → alarm');
    expect(((resolved.blocks as Json[])[0] as Json).text).toMatchObject({ text: `[RESOLVED] vcpus-high-${SUFFIX}` });
  });

  it('records every delivery without the webhook path or routing key', async () => {
    const rows = await platform.store.query<{ kind: string; status: string; target: string; http_status: number }>({ sql: 'SELECT kind, status, target, http_status FROM alert_deliveries ORDER BY at, kind' });
    expect(rows.map((r) => [r.kind, r.status, r.http_status])).toEqual([
      ['pagerduty', 'delivered', 200],
      ['slack', 'delivered', 200],
      ['pagerduty', 'delivered', 200],
      ['slack', 'delivered', 200],
    ]);
    for (const row of rows) {
      expect(row.target).not.toContain('secret-path');
      expect(row.target).not.toContain(ROUTING_KEY);
    }
  });

  it('serves silences and the status board under /alarming/v2, behind a Keystone token', async () => {
    const silence = { matchers: [{ name: 'alarm_name', value: `vcpus-high-${SUFFIX}`, isRegex: false, isEqual: true }, { name: 'project_id', value: projectId, isRegex: false, isEqual: true }], startsAt: new Date(A + 4 * BUCKET).toISOString(), endsAt: new Date(A + 8 * BUCKET).toISOString(), createdBy: user, comment: 'maintenance' };
    const created = await send(platform.url, member, 'POST', '/alarming/v2/silences', silence);
    expect(created.status, created.text).toBe(200);
    const listed = await send(platform.url, member, 'GET', '/alarming/v2/silences');
    expect((JSON.parse(listed.text) as Json[]).map((x) => x.id)).toEqual([created.body.silenceID]);
    // A member may not silence other projects' alerts.
    expect((await send(platform.url, member, 'POST', '/alarming/v2/silences', { ...silence, matchers: [silence.matchers[0]] })).status).toBe(403);
    const board = await send(platform.url, member, 'GET', '/alarming/v2/status');
    expect(board.status).toBe(200);
    expect(board.body).toMatchObject({ overall: expect.any(String), services: expect.any(Array) });
    expect((await fetch(`${platform.url}/alarming/v2/status`)).status).toBe(401);
  });

  it('keeps the history of each state change with its reason and data', async () => {
    const res = await send(platform.url, member, 'GET', `/alarming/v2/alarms/${alarmId}/history`);
    expect(res.status).toBe(200);
    const history = (JSON.parse(res.text) as Json[]).reverse();
    const transitions = history.filter((h) => h.type === 'state transition').map((h) => JSON.parse(h.detail as string) as Json);
    expect(transitions.map((t) => t.state)).toEqual(['ok', 'alarm', 'ok']);
    // The bucket's mean: the resize's first notifications still carry one vcpu, the later ones four.
    const reasonData = transitions[1]?.reason_data as Json;
    expect(reasonData).toMatchObject({ type: 'threshold', disposition: 'outside', count: 1 });
    expect(reasonData.most_recent as number).toBeGreaterThan(2);
    expect(reasonData.most_recent as number).toBeLessThan(4);
    expect(transitions[1]?.state_reason).toBe(`Transition to alarm due to 1 samples outside threshold, most recent: ${String(reasonData.most_recent)}`);
  });
});

describe('a receiver answering 500 gets the notification once, across a restart', { timeout: 300_000 }, () => {
  let capture: CaptureServer;
  let dataDir = '';
  let platform: Platform | undefined;

  afterAll(async () => {
    await platform?.stop();
    await capture?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('retries after the restart and delivers exactly once', async () => {
    capture = await startCaptureServer();
    capture.answer('/hook', 500);
    dataDir = mkdtempSync(join(tmpdir(), 'cumulus-alerts-restart-'));
    const config = loadConfig({ env: {}, overrides: { port: 0, dataDir, logLevel: 'silent' } });
    const routing = parseRoutingConfig({
      route: { receiver: 'hook', group_by: ['alarm_name'], group_wait: '0s' },
      receivers: [{ name: 'hook', webhook_configs: [{ url: capture.url('/hook') }] }],
      delivery: { initial_backoff: '5s', max_backoff: '1m' },
    });
    const start = (at: number) => startPlatform(config, { clock: new ManualClock(at), logger: silentLogger(), buildDelayMs: 10, periodicTasks: false, computePollster: false, alerts: { routing, loops: false } });

    // 1. A metric crosses its threshold; the evaluator alarms; the first delivery gets a 500.
    platform = await start(A + BUCKET + 30_000);
    const admin = await login(platform.url, 'admin', platform.adminPassword, 'admin');
    const metric = (await ok(platform.url, admin, 'POST', '/metric/v1/metric', { archive_policy_name: 'low', name: `load-${SUFFIX}` })).id as string;
    expect((await send(platform.url, admin, 'POST', `/metric/v1/metric/${metric}/measures`, [{ timestamp: new Date(A + 90_000).toISOString(), value: 12 }])).status).toBe(202);
    const alarm = (
      await ok(platform.url, admin, 'POST', '/alarming/v2/alarms', {
        name: `load-high-${SUFFIX}`,
        type: 'gnocchi_aggregation_by_metrics_threshold',
        gnocchi_aggregation_by_metrics_threshold_rule: { metrics: [metric], comparison_operator: 'gt', threshold: 10, aggregation_method: 'mean', granularity: 300, evaluation_periods: 1 },
      })
    ).alarm_id as string;
    await platform.alerts.evaluator.evaluateNow();
    await platform.alerts.notifier.tick();
    expect(capture.requests.filter((r) => r.path === '/hook').map((r) => r.status)).toEqual([500]);
    await platform.stop();
    platform = undefined;

    // 2. Cumulus restarts on the same data; past the backoff the outbox delivers it, once.
    platform = await start(A + BUCKET + 90_000);
    for (let i = 0; i < 3; i++) await platform.alerts.notifier.tick();
    const hooks = capture.requests.filter((r) => r.path === '/hook');
    expect(hooks.map((r) => r.status)).toEqual([500, 200]);
    expect(hooks[0]?.headers['x-cumulus-notification-id']).toBe(hooks[1]?.headers['x-cumulus-notification-id']);
    expect(hooks[0]?.body).toBe(hooks[1]?.body);
    const body = JSON.parse(hooks[1]?.body ?? '{}') as Json;
    expect(body).toMatchObject({ version: '4', status: 'firing', receiver: 'hook' });
    expect(((body.alerts as Json[])[0]?.labels as Json).alarm_id).toBe(alarm);
    const rows = await platform.store.query<{ attempt: number; status: string; http_status: number }>({
      sql: 'SELECT attempt, status, http_status FROM alert_deliveries WHERE notification_id = {id:String} ORDER BY attempt',
      params: { id: hooks[0]?.headers['x-cumulus-notification-id'] as string },
    });
    expect(rows.map((r) => [r.attempt, r.status, r.http_status])).toEqual([
      [1, 'retrying', 500],
      [2, 'delivered', 200],
    ]);
  });
});
