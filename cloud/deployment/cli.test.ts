import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runCloudCommand, runDeploymentCommand, runFaultCommand, type CliIo } from './cli.ts';
import { ADMIN_PASSWORD, platformHarness, type PlatformHarness } from './test-harness.ts';

function capture(): CliIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: (text: string) => void (io.out += text),
    stderr: (text: string) => void (io.err += text),
  };
  return io;
}

const envOf = (h: PlatformHarness, user = 'admin', password = ADMIN_PASSWORD, project = 'admin') => {
  const { port } = h.app.server.address() as AddressInfo;
  return { OS_AUTH_URL: `http://127.0.0.1:${port}/identity/v3`, OS_USERNAME: user, OS_PASSWORD: password, OS_PROJECT_NAME: project, OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default' };
};

describe('cumulus cloud fault / deployment', () => {
  it('stops mysqld over the admin API with a Keystone token, then lists the trail and the deployment', async () => {
    const h = await platformHarness({ listen: true });
    const env = envOf(h);
    const io = capture();
    expect(await runFaultCommand(['stop', '--host', 'controller-1', '--process', 'mysqld'], env, io)).toBe(0);
    expect(io.err).toBe('');
    const pid = h.deployment.process('controller-1', 'mysqld')?.pid;
    expect(io.out).toMatch(/^stop mysqld on controller-1: done at 2026-11-24T17:00:00\.000Z by admin\/admin \(fault [0-9a-f-]{36}\)\n/);
    expect(io.out).toContain(`controller-1  mysqld   running  stopped  ${pid}`);
    expect(io.out).toMatch(/Services not at full strength:\nSERVICE\s+RUNNING\s+SLOWED\s+STATUS\s+REASON\nmysqld\s+2\/3\s+0\s+degraded\n/);
    // The trail says the CLI did it, and who held the token.
    expect(h.deployment.faults()[0]?.actor).toMatchObject({ userName: 'admin', projectName: 'admin', via: 'cli' });

    const slow = capture();
    expect(await runFaultCommand(['slow', '--host', 'controller-2', '--process', 'nova-api', '--latency-ms', '300', '--json'], env, slow)).toBe(0);
    expect(JSON.parse(slow.out).fault).toMatchObject({ action: 'slow', latency_ms: 300 });

    const list = capture();
    expect(await runFaultCommand(['list', '--limit', '5'], env, list)).toBe(0);
    const rows = list.out.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^AT\s+ACTION\s+HOST\s+PROCESS\s+BY\s+VIA\s+ID$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/).slice(1, 6))).toEqual([
      ['slow', 'controller-2', 'nova-api', 'admin/admin', 'cli'],
      ['stop', 'controller-1', 'mysqld', 'admin/admin', 'cli'],
    ]);

    const listing = capture();
    expect(await runCloudCommand(['deployment'], env, listing)).toBe(0);
    expect(listing.out).toMatch(/^HOST\s+ROLE\s+HOST STATE\s+PROCESS\s+STATE\s+PID\s+RESTARTS\s+LATENCY\s+STARTED\n/);
    expect(listing.out).toMatch(/\ncontroller-1\s+controller\s+up\s+mysqld\s+stopped\s+\d+\s+0\s+-\s+2026-11-24T17:00:00\.000Z\n/);
    expect(listing.out).toMatch(/\ncontroller-2\s+controller\s+up\s+nova-api\s+slowed\s+\d+\s+0\s+300ms\s+/);
    expect(listing.out).toMatch(/\nstorage-1\s+storage\s+up\s+cinder-volume\s+running\s+/);
  });

  it('reports what the server refuses (exit 1) and usage mistakes (exit 2)', async () => {
    const h = await platformHarness({ listen: true });
    const env = envOf(h);
    const conflict = capture();
    expect(await runFaultCommand(['start', '--host', 'controller-1', '--process', 'mysqld'], env, conflict)).toBe(1);
    expect(conflict.err).toBe('cumulus: start on controller-1 failed (HTTP 409): CUMULUS_DEPLOYMENT_STATE_CONFLICT: cannot start mysqld on controller-1: it is running; start needs it stopped or killed\n');

    const missing = capture();
    expect(await runFaultCommand(['stop', '--host', 'controller-1'], env, missing)).toBe(1);
    expect(missing.err).toContain('(HTTP 400): CUMULUS_DEPLOYMENT_FIELD_INVALID: process must be the name of a process on controller-1 for stop');

    // A member: Keystone gives bob a token, the admin API refuses it.
    const project = h.cloud.keystone.createProject({ name: 'bob-project' });
    const bob = h.cloud.keystone.createUser({ name: 'bob', password: 'bob-password', defaultProjectId: project.id });
    h.cloud.keystone.assignProjectRole(bob.id, project.id, 'member');
    const forbidden = capture();
    expect(await runDeploymentCommand([], envOf(h, 'bob', 'bob-password', 'bob-project'), forbidden)).toBe(1);
    expect(forbidden.err).toBe('cumulus: reading the deployment failed (HTTP 403): CUMULUS_DEPLOYMENT_FORBIDDEN: the deployment admin API needs the admin role\n');

    const badPassword = capture();
    expect(await runDeploymentCommand([], envOf(h, 'admin', 'wrong'), badPassword)).toBe(1);
    expect(badPassword.err).toMatch(/^cumulus: authentication failed \(HTTP 401\): /);

    for (const [argv, message] of [
      [['explode', '--host', 'controller-1'], 'action must be one of stop, kill, start, restart, slow, fail-host, recover-host or list; got "explode"'],
      [['stop', '--process', 'mysqld'], '--host is required'],
      [['slow', '--host', 'controller-1', '--process', 'mysqld', '--latency-ms', 'lots'], '--latency-ms must be a whole number of milliseconds; got "lots"'],
      [['stop', '--host', 'controller-1', '--bogus'], "Unknown option '--bogus'"],
    ] as const) {
      const io = capture();
      expect(await runFaultCommand([...argv], env, io)).toBe(2);
      expect(io.err).toContain(message);
      expect(io.err).toContain('cumulus cloud fault <action> --host HOST');
    }
    const noCredentials = capture();
    expect(await runDeploymentCommand([], { CUMULUS_URL: 'http://127.0.0.1:1' }, noCredentials)).toBe(2);
    expect(noCredentials.err).toContain('set OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME (or OS_TOKEN) to authenticate');
    const unknown = capture();
    expect(await runCloudCommand(['nothing'], env, unknown)).toBe(2);
    expect(h.deployment.faults()).toEqual([]);
  });

  it('uses OS_TOKEN and --url when given, as the openstack CLI does', async () => {
    const h = await platformHarness({ listen: true });
    const { OS_AUTH_URL } = envOf(h);
    const io = capture();
    expect(await runFaultCommand(['fail-host', '--host', 'compute-2', '--url', OS_AUTH_URL.replace('/identity/v3', '')], { OS_TOKEN: h.adminToken }, io)).toBe(0);
    expect(io.out).toMatch(/^fail-host compute-2: done at /);
    expect(h.deployment.hosts().find((x) => x.name === 'compute-2')?.state).toBe('down');
  });
});
