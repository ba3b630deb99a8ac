import { describe, expect, it } from 'vitest';
import { ManualClock, silentLogger } from '../../core/index.ts';
import { Notifier } from '../notifier.ts';
import { NOW, call, createFlavor, createServer, harness, until, type Harness, type Json } from '../nova/test-harness.ts';
import { createDeployment } from './deployment.ts';
import { novaHostState } from './test-harness.ts';

async function hostOf(h: Harness, token: string, flavorId: string, name: string): Promise<string> {
  const created = await createServer(h, token, flavorId, name);
  let host: string | null = null;
  await until(() => {
    const row = h.db.prepare('SELECT host FROM servers WHERE id = ?').get(created.id) as { host: string | null } | undefined;
    host = row?.host ?? null;
    return host !== null;
  }, `a host for ${name}`);
  return host as unknown as string;
}

describe('faults and the Nova scheduler', () => {
  it('schedules elsewhere while a compute host is failed or its nova-compute is down, and back after', async () => {
    const h = await harness();
    const clock = new ManualClock(NOW);
    // Without a log writer: the model still changes and Nova still hears of it.
    const deployment = createDeployment({ computeHosts: ['compute-1', 'compute-2'] }, { db: h.db, clock, notifier: new Notifier(h.bus, clock), logger: silentLogger(), computeHostState: novaHostState(h.db) });
    await deployment.start();
    const flavor = await createFlavor(h);
    const id = flavor.id as string;
    // compute-2 has the more free RAM: the scheduler's first choice.
    expect(await hostOf(h, h.alice.token, id, 'a')).toBe('compute-2');

    await deployment.apply({ action: 'fail-host', host: 'compute-2' });
    const hypervisors = await call(h, 'GET', '/os-hypervisors/detail', h.adminToken);
    expect(hypervisors.body.hypervisors.map((x: Json) => `${x.hypervisor_hostname}:${x.state}`)).toEqual(['compute-1:up', 'compute-2:down']);
    expect(await hostOf(h, h.alice.token, id, 'b')).toBe('compute-1');
    expect(await hostOf(h, h.alice.token, id, 'c')).toBe('compute-1');

    await deployment.apply({ action: 'recover-host', host: 'compute-2' });
    expect(await hostOf(h, h.alice.token, id, 'd')).toBe('compute-2');

    await deployment.apply({ action: 'kill', host: 'compute-2', process: 'nova-compute' });
    expect(await hostOf(h, h.alice.token, id, 'e')).toBe('compute-1');
    // libvirtd or the OVS agent going does not take the host out of the scheduler's view here.
    await deployment.apply({ action: 'start', host: 'compute-2', process: 'nova-compute' });
    await deployment.apply({ action: 'stop', host: 'compute-2', process: 'neutron-openvswitch-agent' });
    expect(await hostOf(h, h.alice.token, id, 'f')).toBe('compute-2');
    await deployment.stop();
  });
});
