import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger, ManualClock, openStateDatabase, silentLogger } from '../core/index.ts';
import type { AlarmTransition, TransitionSink } from '../alerts/contracts.ts';
import { CHECK_RESULTS_TABLE, createBuiltinRules, createProber, fastChecksOf, type BuiltinRules, type Prober, type ProberOptions } from '../alerts/checks/index.ts';
import { serviceStatus, type StatusReport } from '../alerts/status/index.ts';
import { startApiTenants, type ApiTenants } from './support/api-tenants.ts';
import { eventually, login } from './support/openstack-http.ts';

/**
 * The prober against the real control plane (the whole platform, embedded): it sets up its
 * monitoring project, runs every transaction as that user, records each run; a fault
 * injected through the deployment model's admin API shows as failed rows, built-in alarms
 * and a status of warning, then failed, then recovery.
 */

class RecordingSink implements TransitionSink {
  readonly received: AlarmTransition[] = [];
  async notify(transitions: readonly AlarmTransition[]): Promise<void> {
    this.received.push(...transitions);
  }
}

const CONTROLLERS = ['controller-1', 'controller-2', 'controller-3'];
const MONITORING_PASSWORD = 'probe-password-1';

let tenants: ApiTenants;
let prober: Prober;
let rules: BuiltinRules;
const sink = new RecordingSink();
const clock = new ManualClock(Date.now());

const statusOf = async () => serviceStatus({ store: tenants.platform.store, clock, builtinStates: () => rules.states() }, { windowSeconds: 60 });
const byService = (report: StatusReport) => Object.fromEntries(report.services.map((s) => [s.service, s]));

/** One second later on the prober's clock, every due check runs; resolves when their rows are written. */
async function secondPasses(): Promise<void> {
  clock.advance(1_000);
  await prober.tick();
}

async function fault(host: string, process: string, action: 'stop' | 'start'): Promise<void> {
  const res = await tenants.admin.request('POST', '/cloud-admin/v1/faults', { host, process, action });
  expect(res.status, await res.clone().text()).toBe(201);
}

/** Every check every second: the short-outage rule watches them all. Short waits: the platform builds in 10 ms. */
const proberOptions = (): ProberOptions => ({
  authUrl: `${tenants.url}/identity/v3`,
  deploymentUrl: `${tenants.url}/cloud-admin/v1`,
  admin: { username: 'admin', password: tenants.platform.adminPassword, projectName: 'admin' },
  monitoring: { password: MONITORING_PASSWORD },
  intervalsMs: { 'token-issue': 1_000, 'flavor-list': 1_000, 'endpoint-get': 1_000, 'process-health': 1_000, 'volume-cycle': 1_000, 'server-cycle': 1_000 },
  timeoutsMs: { 'volume-cycle': 10_000, 'server-cycle': 10_000 },
  pollIntervalMs: 20,
  tickMs: 0,
  flushIntervalMs: 0,
});

beforeAll(async () => {
  tenants = await startApiTenants();
  prober = createProber(proberOptions(), { store: tenants.platform.store, clock, logger: silentLogger() });
  rules = createBuiltinRules(
    {
      evaluationIntervalMs: 0,
      bruteForce: { failures: 20, windowSeconds: 300 },
      shortOutage: { checks: fastChecksOf(prober) },
    },
    { store: tenants.platform.store, stateDb: openStateDatabase(':memory:'), sink, clock, logger: silentLogger() },
  );
  await prober.start();
}, 120_000);

afterAll(async () => {
  await prober?.stop();
  await rules?.stop();
  await tenants?.stop();
});

describe('synthetic checks against the control plane', () => {
  it('sets up the monitoring project with tight quotas and runs every transaction as its user', async () => {
    const setup = prober.setup();
    expect(setup).not.toBeNull();
    const quotas = (await (await tenants.admin.get(`/compute/v2.1/os-quota-sets/${setup!.projectId}`)).json()) as { quota_set: Record<string, number> };
    expect(quotas.quota_set).toMatchObject({ instances: 2, cores: 2, ram: 2048 });
    const names = prober.checks().map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['keystone-token-issue', 'nova-flavor-list', 'cinder-volume-create-delete', 'nova-server-boot-delete', 'endpoint-get:identity', 'endpoint-get:compute', 'endpoint-get:block-storage', 'endpoint-get:image', 'endpoint-get:network', 'process-health']));

    await prober.tick();
    const rows = await tenants.platform.store.query<{ check_name: string; ok: number; error: string; host: string }>({ sql: `SELECT check_name, ok, error, host FROM ${CHECK_RESULTS_TABLE} ORDER BY check_name, host`, params: {} });
    expect(rows.filter((r) => r.ok === 0)).toEqual([]);
    expect(new Set(rows.map((r) => r.check_name))).toEqual(new Set([...names.filter((n) => n !== 'process-health'), ...rows.filter((r) => r.check_name.startsWith('process:')).map((r) => r.check_name)]));
    // Process health: one row per controller and process.
    expect(rows.filter((r) => r.check_name === 'process:nova-api').map((r) => r.host)).toEqual(CONTROLLERS);
    // The server and volume were deleted again: nothing left in the monitoring project.
    const servers = (await (await tenants.admin.get(`/compute/v2.1/servers/detail?all_tenants=1&project_id=${setup!.projectId}`)).json()) as { servers: Array<{ name: string }> };
    expect(servers.servers.filter((s) => s.name.startsWith('cumulus-probe-'))).toEqual([]);

    const status = await statusOf();
    expect(status.overall).toBe('good');
    expect(byService(status).compute!.checks.map((c) => c.check)).toEqual(expect.arrayContaining(['nova-flavor-list', 'nova-server-boot-delete', 'process:nova-api']));
    expect(await rules.evaluate()).toEqual([]);
  });

  it('nova-api down on one controller: warning; on all three: the flavor list fails, critical, failed; back up: recovered', async () => {
    await fault('controller-2', 'nova-api', 'stop');
    await secondPasses();
    let compute = byService(await statusOf()).compute!;
    expect(compute.status).toBe('warning');
    expect(compute.reasons).toContain('process:nova-api down on controller-2 (1 of 3)');
    // The load balancer still serves through the others: the transaction passes.
    expect(compute.checks.find((c) => c.check === 'nova-flavor-list')!.last.ok).toBe(true);
    const [warning] = await rules.evaluate();
    expect(warning).toMatchObject({ alarm: { name: 'builtin:service-health:nova-api', state: 'alarm', severity: 'moderate' }, labels: { service: 'compute' } });

    await fault('controller-1', 'nova-api', 'stop');
    await fault('controller-3', 'nova-api', 'stop');
    await secondPasses();
    compute = byService(await statusOf()).compute!;
    expect(compute.status).toBe('failed');
    const flavors = compute.checks.find((c) => c.check === 'nova-flavor-list')!;
    expect(flavors.last).toMatchObject({ ok: false, error: expect.stringMatching(/^list flavors: GET .*\/compute\/v2\.1\/flavors: expected 200, got 503 \(503 Service Unavailable No server is available/) });
    const fired = await rules.evaluate();
    expect(fired.map((t) => [t.alarm.name, t.alarm.state, t.alarm.severity])).toEqual(
      expect.arrayContaining([
        ['builtin:service-health:nova-api', 'alarm', 'critical'],
        ['builtin:short-outage:nova-flavor-list', 'alarm', 'moderate'],
      ]),
    );

    for (const host of CONTROLLERS) await fault(host, 'nova-api', 'start');
    await secondPasses();
    const recovered = await rules.evaluate();
    expect(recovered.map((t) => [t.alarm.name, t.alarm.state])).toEqual([['builtin:service-health:nova-api', 'ok']]);
    compute = byService(await statusOf()).compute!;
    // Passing again, but the outage is still in the window (and its short-outage alarms hold): warning, not good.
    expect(compute.checks.find((c) => c.check === 'nova-flavor-list')!.last.ok).toBe(true);
    expect(compute.status).toBe('warning');
    expect(compute.reasons.join('\n')).toMatch(/nova-flavor-list failed 1 of \d+ runs/);
    expect(compute.alarms.map((a) => a.key)).toContain('short-outage:nova-flavor-list');
  });

  it('twenty failed logins from one address raise a security alert with the address', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${tenants.url}/identity/v3/auth/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: `wrong-${i}` } } } } }),
      });
      expect(res.status).toBe(401);
    }
    await tenants.platform.drain();
    clock.set(Math.max(clock.nowMs(), Date.now()));
    const alert = await eventually(async () => (await rules.evaluate()).find((t) => t.labels?.category === 'security'), 'the brute-force alarm', 15_000, 200);
    expect(alert).toMatchObject({ alarm: { state: 'alarm', severity: 'critical', name: expect.stringMatching(/^builtin:brute-force:/) }, labels: { service: 'identity' } });
    expect(alert.reasonData).toMatchObject({ count: expect.any(Number), threshold: 20 });
    expect(alert.reason).toMatch(/failed authentications from \S+ in the last 300 s/);
  });

  it('a restart reuses the monitoring project and removes what a crashed run left behind', async () => {
    const setup = prober.setup()!;
    // A crashed run's server: booted as the monitoring user, named as the prober names its own.
    const monitoring = await login(tenants.url, 'cumulus-monitoring', MONITORING_PASSWORD, 'cumulus-monitoring');
    const boot = await monitoring.post('/compute/v2.1/servers', { server: { name: 'cumulus-probe-crashed', flavorRef: setup.flavorId, imageRef: '', networks: 'none' } });
    expect(boot.status, await boot.clone().text()).toBe(202);
    await prober.stop();

    prober = createProber(proberOptions(), { store: tenants.platform.store, clock, logger: silentLogger() });
    await prober.start();
    expect(prober.setup()).toEqual(setup);
    const projects = (await (await tenants.admin.get('/identity/v3/projects?name=cumulus-monitoring')).json()) as { projects: unknown[] };
    expect(projects.projects).toHaveLength(1);
    const servers = (await (await monitoring.get('/compute/v2.1/servers')).json()) as { servers: Array<{ name: string }> };
    expect(servers.servers.map((s) => s.name)).not.toContain('cumulus-probe-crashed');
  });

  it('a wrong monitoring password does not stop the platform: setup is refused with what to fix, and retried', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const wrong = createProber({ ...proberOptions(), monitoring: { password: 'not-the-password' } }, { store: tenants.platform.store, clock, logger: createLogger({ level: 'warn', destination }) });
    await wrong.start();
    expect(wrong.setup()).toBeNull();
    expect(wrong.checks()).toEqual([]);
    await wrong.tick();
    await wrong.stop();
    const failures = lines.map((l) => JSON.parse(l) as { msg: string; err?: string }).filter((l) => l.msg === 'prober: monitoring project setup failed; retrying');
    expect(failures.map((l) => l.err)).toEqual([
      'login as monitoring user: Keystone refused the configured password of the existing user cumulus-monitoring: set monitoring.password to its password, or delete the user so that the prober creates it',
    ]);
    // (Within the retry delay the tick did not try again: a wrong password must not look like brute force.)
    // The control plane's Cinder has no quota API: said once per setup, not an error.
    expect(lines.some((l) => l.includes('the block storage API has no os-quota-sets'))).toBe(true);
  });
});
