import { describe, expect, it } from 'vitest';
import { until } from '../nova/test-harness.ts';
import { platformHarness, type PlatformHarness } from './test-harness.ts';

type Json = Record<string, any>;

async function admin(h: PlatformHarness, method: 'GET' | 'POST', path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}) {
  const response = await h.app.inject({
    method,
    url: `/cloud-admin/v1${path}`,
    headers: { ...(token ? { 'x-auth-token': token } : {}), ...headers },
    ...(body === undefined ? {} : { payload: body as Json }),
  });
  return { status: response.statusCode, body: JSON.parse(response.body) as Json, headers: response.headers };
}

describe('the deployment admin API', () => {
  it('lists hosts, processes and service health', async () => {
    const h = await platformHarness();
    const { status, body } = await admin(h, 'GET', '/deployment', h.adminToken);
    expect(status).toBe(200);
    expect(body.deployment.hosts.map((x: Json) => x.name)).toEqual(['controller-1', 'controller-2', 'controller-3', 'compute-1', 'compute-2', 'storage-1']);
    expect(body.deployment.hosts[0].processes[0]).toEqual({
      name: 'mysqld',
      state: 'running',
      down_reason: null,
      pid: expect.any(Number),
      latency_ms: 0,
      started_at: '2026-11-24T17:00:00.000Z',
      stopped_at: null,
      restart_count: 0,
    });
    expect(body.deployment.services.find((s: Json) => s.process === 'nova-api')).toEqual({ process: 'nova-api', role: 'controller', expected: 3, running: 3, slowed: 0, status: 'ok' });
    expect(body.deployment.database).toMatchObject({ available: true, running: 3 });
  });

  it('injects a fault for an admin, records who did it and makes the API answer 503', async () => {
    const h = await platformHarness();
    const faults = [];
    for (const host of ['controller-1', 'controller-2', 'controller-3']) {
      const response = await admin(h, 'POST', '/faults', h.adminToken, { host, process: 'nova-api', action: 'stop' }, { 'user-agent': 'python-requests/2.31' });
      expect(response.status).toBe(201);
      faults.push(response.body.fault);
    }
    expect(faults[2]).toMatchObject({
      action: 'stop',
      host: 'controller-3',
      process: 'nova-api',
      latency_ms: null,
      actor: { user_name: 'admin', project_name: 'admin', via: 'api', request_id: expect.any(String) },
      changes: [{ host: 'controller-3', process: 'nova-api', from: 'running', to: 'stopped', pid: expect.any(Number) }],
    });
    expect((await h.app.inject({ method: 'GET', url: '/compute/v2.1/flavors', headers: { 'x-auth-token': h.adminToken } })).statusCode).toBe(503);

    const trail = await admin(h, 'GET', '/faults?limit=2', h.adminToken);
    expect(trail.body.faults.map((f: Json) => f.host)).toEqual(['controller-3', 'controller-2']);
    expect((await admin(h, 'GET', '/faults?host=controller-1', h.adminToken)).body.faults).toHaveLength(1);
    await until(() => h.notifications.length === 3, 'three fault notifications');
    expect(h.notifications.map((n) => n.message.event_type)).toEqual(['cloud.fault.stop', 'cloud.fault.stop', 'cloud.fault.stop']);
    expect(h.notifications[0]?.message.payload).toMatchObject({ initiator: { name: 'admin', project_id: expect.any(String) }, requestPath: '/cloud-admin/v1/faults' });

    const slow = await admin(h, 'POST', '/faults', h.adminToken, { host: 'controller-1', process: 'glance-api', action: 'slow', latency_ms: 250 });
    expect(slow.body.fault).toMatchObject({ action: 'slow', latency_ms: 250, changes: [{ from: 'running', to: 'slowed' }] });
    expect(slow.body.deployment.services.find((s: Json) => s.process === 'glance-api')).toMatchObject({ slowed: 1, status: 'degraded' });
  });

  it('answers 403 to a non-admin and 401 without a token, before looking at the body', async () => {
    const h = await platformHarness();
    for (const [method, path] of [['GET', '/deployment'], ['GET', '/faults'], ['POST', '/faults']] as const) {
      const refused = await admin(h, method, path, h.member.token, method === 'POST' ? { nonsense: true } : undefined);
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({ error: { code: 403, title: 'Forbidden', cumulus_code: 'CUMULUS_DEPLOYMENT_FORBIDDEN', message: 'the deployment admin API needs the admin role' } });
      expect((await admin(h, method, path, null)).status).toBe(401);
    }
    expect(h.deployment.faults()).toEqual([]);
  });

  it('answers 400 naming the bad field, and 409 for a state the action does not apply to', async () => {
    const h = await platformHarness();
    const post = (body: unknown) => admin(h, 'POST', '/faults', h.adminToken, body);
    const cases: Array<[unknown, string, RegExp]> = [
      [{ host: 'controller-1', process: 'mysqld' }, 'CUMULUS_DEPLOYMENT_FIELD_INVALID', /^action must be one of stop, kill, start, restart, slow, fail-host, recover-host; got nothing$/],
      [{ host: 'controller-1', process: 'mysqld', action: 'explode' }, 'CUMULUS_DEPLOYMENT_FIELD_INVALID', /^action must be one of .*; got "explode"$/],
      [{ process: 'mysqld', action: 'stop' }, 'CUMULUS_DEPLOYMENT_FIELD_INVALID', /^host must be a host name of the deployment; got nothing$/],
      [{ host: 'controller-1', process: 'mysqld', action: 'slow', latency_ms: -5 }, 'CUMULUS_DEPLOYMENT_FIELD_INVALID', /^latency_ms must be an integer from 0 to 600000; got -5$/],
      [{ host: 'controller-1', process: 'mysqld', action: 'slow', latency_ms: 'fast' }, 'CUMULUS_DEPLOYMENT_FIELD_INVALID', /^latency_ms must be an integer/],
      [{ host: 'controller-1', process: 'mysqld', action: 'slow' }, 'CUMULUS_DEPLOYMENT_FIELD_INVALID', /^latency_ms must be an integer from 0 \(back to normal\)/],
      [{ host: 'controller-1', action: 'stop' }, 'CUMULUS_DEPLOYMENT_FIELD_INVALID', /^process must be the name of a process on controller-1 for stop/],
      [{ host: 'controller-7', process: 'mysqld', action: 'stop' }, 'CUMULUS_DEPLOYMENT_HOST_UNKNOWN', /^host must be one of the deployment's hosts \(controller-1, .*storage-1\); got "controller-7"$/],
      [{ host: 'compute-1', process: 'mysqld', action: 'stop' }, 'CUMULUS_DEPLOYMENT_PROCESS_UNKNOWN', /^process must be one that runs on compute-1/],
      [{ host: 'compute-1', process: 'nova-compute', action: 'fail-host' }, 'CUMULUS_DEPLOYMENT_FIELD_INVALID', /^process must be absent for fail-host/],
    ];
    for (const [body, code, message] of cases) {
      const response = await post(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error).toMatchObject({ code: 400, title: 'Bad Request', cumulus_code: code, message: expect.stringMatching(message) });
    }
    const conflict = await post({ host: 'compute-1', action: 'recover-host' });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toMatchObject({ cumulus_code: 'CUMULUS_DEPLOYMENT_STATE_CONFLICT', message: 'cannot recover-host host compute-1: it is up; recover-host needs it down' });
    expect((await admin(h, 'GET', '/faults?limit=0', h.adminToken)).body.error).toMatchObject({ cumulus_code: 'CUMULUS_DEPLOYMENT_FIELD_INVALID', message: expect.stringMatching(/^limit must be an integer from 1 to 1000; got 0$/) });
    expect(h.deployment.faults()).toEqual([]);
  });
});
