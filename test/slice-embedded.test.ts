import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from '../cli/platform.ts';
import { loadConfig, silentLogger } from '../core/index.ts';
import { login } from './support/openstack-http.ts';
import { runSlice } from './support/slice.ts';

/** The whole platform in one process on its embedded default: in-process bus and stream, chDB. */
describe('foundation slice, embedded (in-process bus and stream, chDB)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cumulus-slice-'));
  let platform: Platform;

  beforeAll(async () => {
    const config = loadConfig({ env: {}, overrides: { port: 0, dataDir, logLevel: 'silent' } });
    expect(config.bus.kind).toBe('memory');
    expect(config.stream.kind).toBe('memory');
    platform = await startPlatform(config, { logger: silentLogger(), buildDelayMs: 10 });
  });

  afterAll(async () => {
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('turns a server created through the compute API into measures under its archive policy', async () => {
    const { serverId, admin, measures } = await runSlice(platform, () => platform.drain());
    // ceilometer-low: one 300 s point per 5 minutes, the mean of the bucket's measures.
    expect(measures.vcpus).toHaveLength(1);
    expect(measures.vcpus[0]?.[1]).toBe(300);
    expect(measures.vcpus[0]?.[2]).toBe(4);
    expect(measures.memory[0]?.[2]).toBe(8192);
    expect(measures.instance[0]?.[2]).toBe(1);
    const bucket = Date.parse(measures.vcpus[0]?.[0] as string);
    expect(bucket % 300_000).toBe(0);

    const resource = (await (await admin.get(`/metric/v1/resource/instance/${serverId}`)).json()) as { type: string; project_id: string; metrics: Record<string, string>; display_name: string };
    expect(resource.type).toBe('instance');
    expect(resource.project_id).toBe(admin.projectId);
    expect(resource.display_name).toBe('slice-vm');
    expect(Object.keys(resource.metrics)).toEqual(expect.arrayContaining(['instance', 'memory', 'vcpus']));

    const byId = (await (await admin.get(`/metric/v1/metric/${resource.metrics.vcpus}/measures?aggregation=mean&granularity=300`)).json()) as unknown[];
    expect(byId).toEqual(measures.vcpus);
  });

  it('counts a deleted server once more in its bucket (delete.end is an instance sample too)', async () => {
    const { serverId, admin } = await runSlice(platform, () => platform.drain());
    expect((await admin.del(`/compute/v2.1/servers/${serverId}`)).status).toBe(204);
    await platform.drain();
    const rows = await platform.store.query<{ n: string }>({
      sql: "SELECT count() AS n FROM measures WHERE metric_id = (SELECT id FROM metrics FINAL WHERE resource_id = {rid:String} AND name = 'vcpus')",
      params: { rid: serverId },
    });
    // create.end, delete.start and delete.end each carry vcpus; create.start is excluded by the meter's regex.
    expect(Number(rows[0]?.n)).toBe(3);
  });

  it('refuses the metric API without a token, and hides one project\'s metrics from another', async () => {
    const { serverId, admin } = await runSlice(platform, () => platform.drain());
    const anonymous = await fetch(`${platform.url}/metric/v1/metric`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { description: string }).description).toMatch(/X-Auth-Token/);

    const project = platform.cloud.keystone.createProject({ name: `other-${Date.now()}` });
    const user = platform.cloud.keystone.createUser({ name: `bob-${Date.now()}`, password: 'bob-password-1', defaultProjectId: project.id });
    platform.cloud.keystone.assignProjectRole(user.id, project.id, 'member');
    const bob = await login(platform.url, user.name, 'bob-password-1', project.name);
    expect((await bob.get(`/metric/v1/resource/instance/${serverId}`)).status).toBe(404);
    const adminMetrics = (await (await admin.get(`/metric/v1/metric?resource_id=${serverId}`)).json()) as Array<{ id: string; name: string }>;
    expect(adminMetrics.map((m) => m.name)).toEqual(expect.arrayContaining(['instance', 'memory', 'vcpus']));
    expect((await bob.get(`/metric/v1/metric/${adminMetrics[0]?.id}`)).status).toBe(404);
    expect((await (await bob.get('/metric/v1/metric')).json()) as unknown[]).toEqual([]);
  });

  it('keeps its data across a restart', async () => {
    const { serverId } = await runSlice(platform, () => platform.drain());
    const password = platform.adminPassword;
    await platform.stop();
    const config = loadConfig({ env: {}, overrides: { port: 0, dataDir, logLevel: 'silent' } });
    platform = await startPlatform(config, { logger: silentLogger(), buildDelayMs: 10 });
    expect(platform.adminPassword).toBe(password);
    const admin = await login(platform.url, 'admin', platform.adminPassword, 'admin');
    expect((await admin.get(`/compute/v2.1/servers/${serverId}`)).status).toBe(200);
    const points = (await (await admin.get(`/metric/v1/resource/instance/${serverId}/metric/vcpus/measures`)).json()) as unknown[];
    expect(points).toHaveLength(1);
  });
});
