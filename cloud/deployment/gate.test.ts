import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { BusDelivery } from '../../core/index.ts';
import { until } from '../nova/test-harness.ts';
import { HAPROXY_503_BODY, registerFaultGate } from './gate.ts';
import { deploymentHarness, platformHarness, type PlatformHarness } from './test-harness.ts';

const CONTROLLERS = ['controller-1', 'controller-2', 'controller-3'];

async function get(h: PlatformHarness, url: string, token = h.adminToken) {
  const response = await h.app.inject({ method: 'GET', url, headers: { 'x-auth-token': token } });
  return { status: response.statusCode, body: response.body, headers: response.headers };
}

describe('registerFaultGate', () => {
  it('keeps an API up with one of three replicas down (HA degradation) and answers 503 with all three down', async () => {
    const h = await platformHarness();
    const audited: Array<{ outcome: string; reason?: { reasonCode: string } }> = [];
    const handle = await h.bus.subscribe(
      { queue: 'test.audit', bindings: [{ exchange: 'nova', routingKey: 'notifications.*' }], batchSize: 100, batchWaitMs: 1 },
      {
        async consume(batch: readonly BusDelivery[]) {
          for (const d of batch) {
            const message = JSON.parse((JSON.parse(d.body.toString()) as { 'oslo.message': string })['oslo.message']) as { event_type: string; payload: { outcome: string; reason?: { reasonCode: string } } };
            if (message.event_type === 'audit.http.response') audited.push(message.payload);
          }
        },
      },
    );
    expect((await get(h, '/compute/v2.1/flavors')).status).toBe(200);

    await h.deployment.apply({ action: 'kill', host: 'controller-2', process: 'nova-api' });
    // haproxy's roundrobin over the two left: every request is served.
    for (let i = 0; i < 6; i++) expect((await get(h, '/compute/v2.1/flavors')).status).toBe(200);
    expect(h.deployment.serviceHealth().find((s) => s.process === 'nova-api')).toMatchObject({ running: 2, status: 'degraded' });

    await h.deployment.apply({ action: 'stop', host: 'controller-1', process: 'nova-api' });
    await h.deployment.apply({ action: 'stop', host: 'controller-3', process: 'nova-api' });
    const down = await get(h, '/compute/v2.1/flavors');
    expect(down.status).toBe(503);
    expect(down.body).toBe(HAPROXY_503_BODY);
    expect(down.headers['content-type']).toMatch(/^text\/html/);
    expect((await get(h, '/compute')).status).toBe(503);
    // Other APIs and paths that only share the prefix's letters are untouched.
    expect((await get(h, '/image/v2/images')).status).toBe(200);
    expect((await h.app.inject({ method: 'GET', url: '/identity/v3' })).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'GET', url: '/computer' })).statusCode).toBe(404);
    expect(h.deployment.serviceHealth().find((s) => s.process === 'nova-api')).toMatchObject({ running: 0, status: 'down' });
    // The audit middleware runs before the gate: the outage is in the CADF trail as failed responses.
    await until(() => audited.some((e) => e.outcome === 'failure' && e.reason?.reasonCode === '503'), 'the audit.http.response of the 503');
    // The last server out leaves haproxy with an empty backend.
    expect((await h.lines('controller-1', 'haproxy.log')).slice(-2).map((l) => l.replace(/^.*?: /, ''))).toEqual([
      'Server nova_api_back/controller-3 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
      'backend nova_api_back has no server available!',
    ]);

    await h.deployment.apply({ action: 'start', host: 'controller-3', process: 'nova-api' });
    expect((await get(h, '/compute/v2.1/flavors')).status).toBe(200);
    await handle.close();
  });

  it('answers 503 on every API when no haproxy holds the VIP', async () => {
    const h = await platformHarness();
    for (const host of CONTROLLERS.slice(0, 2)) await h.deployment.apply({ action: 'stop', host, process: 'haproxy' });
    expect((await get(h, '/compute/v2.1/flavors')).status).toBe(200);
    await h.deployment.apply({ action: 'kill', host: 'controller-3', process: 'haproxy' });
    for (const url of ['/compute/v2.1/flavors', '/image/v2/images', '/placement/resource_providers', '/identity/v3']) expect((await get(h, url)).status).toBe(503);
  });

  it("answers the service's own 500 when its database is gone", async () => {
    const h = await platformHarness();
    for (const host of CONTROLLERS) await h.deployment.apply({ action: 'stop', host, process: 'mysqld' });
    const compute = await get(h, '/compute/v2.1/flavors');
    expect(compute.status).toBe(500);
    expect(JSON.parse(compute.body)).toEqual({ computeFault: { code: 500, message: expect.stringContaining("<class 'oslo_db.exception.DBConnectionError'>") } });
    const identity = await h.app.inject({ method: 'POST', url: '/identity/v3/auth/tokens', payload: { auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: 'admin-password-1' } } } } } });
    expect(identity.statusCode).toBe(500);
    expect(JSON.parse(identity.body)).toMatchObject({ error: { code: 500, title: 'Internal Server Error' } });
  });

  it('waits out the latency of the replica that serves: one slowed of three is one request in three', async () => {
    const h = await deploymentHarness();
    const slept: number[] = [];
    const app = Fastify();
    registerFaultGate(app, h.deployment, undefined, { sleep: async (ms) => void slept.push(ms) });
    app.get('/placement/resource_providers', async () => ({ resource_providers: [] }));
    app.get('/heat-api/', async () => ({ versions: [] }));
    await app.ready();
    const get = async (url: string) => (await app.inject({ method: 'GET', url })).statusCode;

    await h.deployment.apply({ action: 'slow', host: 'controller-2', process: 'placement-api', latencyMs: 400 });
    for (let i = 0; i < 6; i++) expect(await get('/placement/resource_providers')).toBe(200);
    expect(slept).toEqual([400, 400]);

    slept.length = 0;
    for (const host of ['controller-1', 'controller-3']) await h.deployment.apply({ action: 'slow', host, process: 'placement-api', latencyMs: 400 });
    // A slowed database node adds to every query the API makes; so does the VIP's haproxy.
    await h.deployment.apply({ action: 'slow', host: 'controller-1', process: 'mysqld', latencyMs: 50 });
    await h.deployment.apply({ action: 'slow', host: 'controller-1', process: 'haproxy', latencyMs: 7 });
    for (let i = 0; i < 3; i++) await get('/placement/resource_providers');
    expect(slept).toEqual([457, 457, 457]);
    // heat-api has no database of its own: only the haproxy's latency.
    slept.length = 0;
    expect(await get('/heat-api/')).toBe(200);
    expect(slept).toEqual([7]);
    await app.close();
  });

  it('adds real latency with the default timer', async () => {
    const h = await platformHarness();
    await h.deployment.apply({ action: 'slow', host: 'controller-1', process: 'haproxy', latencyMs: 60 });
    const started = performance.now();
    expect((await get(h, '/compute/v2.1/flavors')).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('refuses a malformed API list with a config error', async () => {
    const h = await platformHarness();
    expect(() => registerFaultGate(Fastify(), h.deployment, [{ prefix: '/compute/', process: 'nova-api' }])).toThrow(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID' }));
    expect(() => registerFaultGate(Fastify(), h.deployment, [{ prefix: '/compute', process: 'nova-apii' }])).toThrow(/process must be a process of the deployment/);
  });
});
