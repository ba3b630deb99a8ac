import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startPlatform } from '../cli/platform.ts';
import { warp } from '../cli/simulate.ts';
import { WarpClock, loadConfig, silentLogger } from '../core/index.ts';
import { login } from './support/openstack-http.ts';

const DAY_MS = 86_400_000;

/** One simulated day through the whole embedded platform: tenants, time warp, pipeline, store. */
async function simulateDay(seed: number) {
  const dir = mkdtempSync(join(tmpdir(), 'cumulus-sim-'));
  const clock = new WarpClock();
  const config = loadConfig({ env: {}, overrides: { port: 0, dataDir: dir, logLevel: 'silent', adminPassword: 'sim-admin-password' } });
  const platform = await startPlatform(config, { clock, logger: silentLogger(), buildDelayMs: 0, periodicTasks: false, computePollster: false });
  return { dir, clock, platform, result: await warp(platform, clock, { days: 1, seed, tenants: 3 }, silentLogger()) };
}

describe('tenant simulator with time warp', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('builds a day of history through the pipeline, and the same seed plays the same day', async () => {
    const first = await simulateDay(11);
    dirs.push(first.dir);
    const { platform, result } = first;
    try {
      expect(result.summary.steps).toBe(96);
      expect(result.summary.serversCreated).toBeGreaterThan(5);
      expect(result.summary.failedLogins).toBeGreaterThanOrEqual(40);
      expect(result.summary.apiErrors).toBe(0);
      // The hours were rated as they went by (no prices are set: every frame is unpriced).
      expect(result.rating.periods).toBeGreaterThanOrEqual(22);
      expect([result.rating.frames, result.rating.unpriced > 0]).toEqual([0, true]);
      // Back on real time after the warp.
      expect(Math.abs(first.clock.nowMs() - Date.now())).toBeLessThan(1000);

      // The measures carry the simulated times: they span the day, not the few seconds it took.
      const span = await platform.store.query<{ first: string; last: string; n: string }>({ sql: 'SELECT toUnixTimestamp(min(ts)) AS first, toUnixTimestamp(max(ts)) AS last, count() AS n FROM measures' });
      const firstTs = Number(span[0]?.first) * 1000;
      const lastTs = Number(span[0]?.last) * 1000;
      expect(Number(span[0]?.n)).toBeGreaterThan(30);
      expect(lastTs - firstTs).toBeGreaterThan(0.8 * DAY_MS);
      expect(firstTs).toBeGreaterThanOrEqual(result.startMs - 1000);

      // The tenants' servers are visible to them through the compute API.
      const tenant = await login(platform.url, 'tenant01', 'tenant01-sim-11', 'tenant01-project');
      const servers = (await (await tenant.get('/compute/v2.1/servers/detail')).json()) as { servers: Array<{ status: string; tenant_id: string }> };
      expect(servers.servers.length).toBeGreaterThan(0);
      expect(servers.servers.every((s) => s.tenant_id === tenant.projectId)).toBe(true);
    } finally {
      await platform.stop();
    }

    const second = await simulateDay(11);
    dirs.push(second.dir);
    await second.platform.stop();
    expect(second.result.summary).toEqual(result.summary);
  }, 120_000);
});
