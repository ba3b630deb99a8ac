import { expect } from 'vitest';
import type { Platform } from '../../cli/platform.ts';
import { eventually, login, type Session } from './openstack-http.ts';

type Measures = Array<[string, number, number]>;

export interface SliceResult {
  serverId: string;
  admin: Session;
  measures: Record<'instance' | 'vcpus' | 'memory', Measures>;
}

/**
 * The foundation slice, the same through any transports: a flavor and a server created
 * through the compute API; the collector's samples reach the store under the metric's
 * archive policy; the metric API returns the aggregated points.
 */
export async function runSlice(platform: Platform, waitForStore: () => Promise<void>): Promise<SliceResult> {
  const admin = await login(platform.url, 'admin', platform.adminPassword, 'admin');
  const flavorRes = await admin.post('/compute/v2.1/flavors', { flavor: { name: `m1.slice-${Date.now()}`, vcpus: 4, ram: 8192, disk: 40 } });
  expect(flavorRes.status).toBe(200);
  const flavor = ((await flavorRes.json()) as { flavor: { id: string } }).flavor;

  const createRes = await admin.post('/compute/v2.1/servers', { server: { name: 'slice-vm', flavorRef: flavor.id, imageRef: 'cirros' } });
  expect(createRes.status).toBe(202);
  const serverId = ((await createRes.json()) as { server: { id: string } }).server.id;
  await eventually(async () => {
    const show = (await (await admin.get(`/compute/v2.1/servers/${serverId}`)).json()) as { server: { status: string } };
    return show.server.status === 'ACTIVE' ? true : undefined;
  }, 'the server to become ACTIVE');
  await waitForStore();

  const measures = {} as SliceResult['measures'];
  for (const name of ['instance', 'vcpus', 'memory'] as const) {
    measures[name] = await eventually(async () => {
      const res = await admin.get(`/metric/v1/resource/instance/${serverId}/metric/${name}/measures`);
      if (res.status !== 200) return undefined;
      const points = (await res.json()) as Measures;
      return points.length > 0 ? points : undefined;
    }, `measures of ${name}`);
  }
  return { serverId, admin, measures };
}
