/**
 * /capacity/v1 on the whole platform: servers of known flavors booted through Nova's API,
 * Placement polled by hand, the samples drained into the store, then the hosts, summary,
 * flavor fit, what-if and RBAC checked against hand-computed numbers; a forecast over
 * synthetic history with a known trend must find the exhaustion date it implies.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpPlacementSource } from '../collectors/pollsters/placement-http-source.ts';
import { createInProcessPlacementSource } from '../collectors/pollsters/placement-source.ts';
import { readUsageHistory } from '../api/capacity/data.ts';
import { DEFAULT_COMPUTE_HOSTS } from '../cloud/config.ts';
import { deriveId, silentLogger, systemClock, TelemetryRegistry } from '../core/index.ts';
import { insertMeasureRows, type ArchivePolicy } from '../storage/index.ts';
import { createCapacityReportJob } from '../cli/capacity-report-job.ts';
import { startApiTenants, type ApiTenants, type Caller } from './support/api-tenants.ts';
import { eventually } from './support/openstack-http.ts';

type Json = Record<string, unknown>;
type Triple = { vcpu: number; memory_mb: number; disk_gb: number };

const SMALL = { name: 'cap.small', vcpus: 1, ram: 2048, disk: 10 };
const LARGE = { name: 'cap.large', vcpus: 4, ram: 8192, disk: 40 };
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** The synthetic history's policy: hourly buckets kept 400 days. */
const HOURLY_400_DAYS: ArchivePolicy = { name: 'synthetic-hourly', back_window: 0, aggregation_methods: ['mean'], definition: [{ granularity: 3600, points: 400 * 24 }] };

/**
 * One default host by hand: Placement's inventory is VCPU 64 (ratio 4, reserved 0),
 * MEMORY_MB 262144 (ratio 1, reserved 512), DISK_GB 2000 (ratio 1, reserved 0); the model
 * keeps 20% for the OS first, then subtracts the reservation, then applies the ratio.
 */
const HOST = DEFAULT_COMPUTE_HOSTS[0] as { vcpus: number; memoryMb: number; diskGb: number };
const PLANNED: Triple = {
  vcpu: Math.floor(HOST.vcpus * 0.8 * 4), // 204
  memory_mb: Math.floor(HOST.memoryMb * 0.8 - 512), // 209203
  disk_gb: Math.floor(HOST.diskGb * 0.8), // 1600
};
const PLACEMENT: Triple = { vcpu: HOST.vcpus * 4, memory_mb: HOST.memoryMb - 512, disk_gb: HOST.diskGb };

describe('capacity API', { timeout: 120_000 }, () => {
  let t: ApiTenants;
  let admin: Caller;
  const serverHosts: Array<{ flavor: typeof SMALL; host: string }> = [];

  const send = async (who: Caller, method: string, path: string, body?: unknown) => {
    const res = await who.request(method, path, body);
    const text = await res.text();
    return { status: res.status, body: (text === '' ? null : JSON.parse(text)) as Json };
  };
  const ok = async (who: Caller, method: string, path: string, body?: unknown) => {
    const res = await send(who, method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };

  beforeAll(async () => {
    t = await startApiTenants({}, { placementPollster: false });
    admin = t.admin;
    const flavorIds: Record<string, string> = {};
    for (const f of [SMALL, LARGE]) flavorIds[f.name] = ((await ok(admin, 'POST', '/compute/v2.1/flavors', { flavor: { name: f.name, vcpus: f.vcpus, ram: f.ram, disk: f.disk } })).flavor as Json).id as string;
    for (const [i, f] of [SMALL, SMALL, LARGE].entries()) {
      const server = (await ok(admin, 'POST', '/compute/v2.1/servers', { server: { name: `cap-${i}`, flavorRef: flavorIds[f.name], imageRef: 'cirros', networks: 'auto' } })).server as Json;
      const active = await eventually(async () => {
        const s = (await ok(admin, 'GET', `/compute/v2.1/servers/${server.id as string}`)).server as Json;
        return s.status === 'ACTIVE' ? s : undefined;
      }, `cap-${i} ACTIVE`);
      serverHosts.push({ flavor: f, host: active['OS-EXT-SRV-ATTR:host'] as string });
    }
    // The compute pollster too (its timer is off here): the hosts' measured CPU use.
    await t.platform.pollster?.poll();
    const report = await t.platform.placementPollster?.poll();
    expect(report).toMatchObject({ providers: DEFAULT_COMPUTE_HOSTS.length, failedProviders: [], unsent: 0, zonesRead: true });
    await t.platform.drain();
  });

  afterAll(async () => {
    await t?.stop();
  });

  /** What the servers hold per host, by hand from their flavors. */
  const usedOn = (host: string): Triple =>
    serverHosts.filter((s) => s.host === host).reduce((sum, s) => ({ vcpu: sum.vcpu + s.flavor.vcpus, memory_mb: sum.memory_mb + s.flavor.ram, disk_gb: sum.disk_gb + s.flavor.disk }), { vcpu: 0, memory_mb: 0, disk_gb: 0 });

  it("reads Placement the same over HTTP as in-process (the HTTP source's parsing against the real APIs)", async () => {
    const http = createHttpPlacementSource(
      { authUrl: `${t.url}/identity/v3`, placementUrl: `${t.url}/placement`, computeUrl: `${t.url}/compute/v2.1`, username: 'admin', password: t.platform.adminPassword },
      { clock: systemClock, logger: silentLogger() },
    );
    const placement = t.platform.cloud.placement;
    const local = createInProcessPlacementSource({
      providers: () => placement.providers().map(({ uuid, name }) => ({ uuid, name })),
      inventories: (uuid) => placement.getInventories(uuid).inventories,
      usages: (uuid) => placement.providerUsages(uuid).usages,
      aggregates: (uuid) => placement.providerAggregates(uuid).aggregates,
      availabilityZones: async () => Object.fromEntries((await t.platform.cloud.hypervisor.hosts()).map((h) => [h.name, h.availability_zone])),
    });
    const providers = await http.providers();
    expect(providers).toEqual(await local.providers());
    for (const p of providers) expect(await http.provider(p.uuid)).toEqual(await local.provider(p.uuid));
    const zones = await http.availabilityZones();
    for (const h of DEFAULT_COMPUTE_HOSTS) expect(zones[h.name]).toBe(h.availabilityZone);
  });

  it('lists every hypervisor with its Placement inventory, planning capacity, used and free', async () => {
    const body = await ok(admin, 'GET', '/capacity/v1/hosts');
    const hosts = body.hosts as Json[];
    expect(hosts.map((h) => h.name)).toEqual(DEFAULT_COMPUTE_HOSTS.map((h) => h.name));
    for (const host of hosts) {
      const used = usedOn(host.name as string);
      expect(host.availability_zone).toBe('nova');
      expect(host.aggregates).toEqual([deriveId('placement', 'aggregate', 'nova')]);
      expect((host.inventories as Record<string, Json>).vcpu).toMatchObject({ total: 64, reserved: 0, allocation_ratio: 4, used: used.vcpu });
      expect((host.inventories as Record<string, Json>).memory_mb).toMatchObject({ total: HOST.memoryMb, reserved: 512, allocation_ratio: 1 });
      expect(host.capacity).toEqual(PLANNED);
      expect(host.placement_capacity).toEqual(PLACEMENT);
      expect(host.used).toEqual(used);
      expect(host.free).toEqual({ vcpu: PLANNED.vcpu - used.vcpu, memory_mb: PLANNED.memory_mb - used.memory_mb, disk_gb: PLANNED.disk_gb - used.disk_gb });
      expect(host.max_unit).toEqual({ vcpu: Math.floor(64 * 0.8), memory_mb: PLANNED.memory_mb, disk_gb: PLANNED.disk_gb });
      const cpuPercent = (host.measured as { cpu_percent: number | null }).cpu_percent;
      expect(cpuPercent).not.toBeNull();
      expect(cpuPercent as number).toBeGreaterThanOrEqual(0);
      expect(cpuPercent as number).toBeLessThanOrEqual(100);
    }
  });

  it('sums the hosts per availability zone, per aggregate and for the cloud', async () => {
    const n = DEFAULT_COMPUTE_HOSTS.length;
    const used = { vcpu: 2 * SMALL.vcpus + LARGE.vcpus, memory_mb: 2 * SMALL.ram + LARGE.ram, disk_gb: 2 * SMALL.disk + LARGE.disk };
    const expected = {
      hosts: n,
      capacity: { vcpu: n * PLANNED.vcpu, memory_mb: n * PLANNED.memory_mb, disk_gb: n * PLANNED.disk_gb },
      used,
      free: { vcpu: n * PLANNED.vcpu - used.vcpu, memory_mb: n * PLANNED.memory_mb - used.memory_mb, disk_gb: n * PLANNED.disk_gb - used.disk_gb },
      utilisation: { vcpu: used.vcpu / (n * PLANNED.vcpu), memory_mb: used.memory_mb / (n * PLANNED.memory_mb), disk_gb: used.disk_gb / (n * PLANNED.disk_gb) },
    };
    expect(await ok(admin, 'GET', '/capacity/v1/summary?group_by=cloud')).toEqual({ group_by: 'cloud', groups: [{ name: 'cloud', ...expected }] });
    expect(await ok(admin, 'GET', '/capacity/v1/summary?group_by=availability_zone')).toEqual({ group_by: 'availability_zone', groups: [{ name: 'nova', ...expected }] });
    expect(await ok(admin, 'GET', '/capacity/v1/summary?group_by=aggregate')).toEqual({ group_by: 'aggregate', groups: [{ name: deriveId('placement', 'aggregate', 'nova'), ...expected }] });
    expect((await send(admin, 'GET', '/capacity/v1/summary?group_by=rack')).status).toBe(400);
  });

  it('counts how many of each flavor still fit, now and in the coming months', async () => {
    const flavor = (f: typeof SMALL) => `${f.name}:${f.vcpus}:${f.ram}:${f.disk}`;
    const body = await ok(admin, 'GET', `/capacity/v1/flavor-fit?flavor=${flavor(SMALL)}&flavor=${flavor(LARGE)}&months=2`);
    // Per host: the scarcest resource's free room over the flavor's size, floored; memory runs out first here.
    const fit = (f: typeof SMALL) =>
      DEFAULT_COMPUTE_HOSTS.reduce((sum, h) => {
        const used = usedOn(h.name);
        return sum + Math.min(Math.floor((PLANNED.vcpu - used.vcpu) / f.vcpus), Math.floor((PLANNED.memory_mb - used.memory_mb) / f.ram), Math.floor((PLANNED.disk_gb - used.disk_gb) / f.disk));
      }, 0);
    expect(body.now).toEqual([
      { flavor: SMALL.name, count: fit(SMALL), limited_by: 'memory_mb' },
      { flavor: LARGE.name, count: fit(LARGE), limited_by: 'memory_mb' },
    ]);
    // One poll is no history: the months keep today's use, and say why.
    const months = body.months as Json[];
    expect(months).toHaveLength(2);
    for (const m of months) expect((m.fits as Json[]).map((f) => f.count)).toEqual([fit(SMALL), fit(LARGE)]);
    expect((body.notes as string[]).length).toBe(3);
    // Without flavors named, the flavors running instances use are fitted.
    const observed = await ok(admin, 'GET', '/capacity/v1/flavor-fit?months=0');
    expect((observed.flavors as Json[]).map((f) => f.name).sort()).toEqual([LARGE.name, SMALL.name]);
    expect((observed.flavors as Json[]).find((f) => f.name === LARGE.name)).toMatchObject({ vcpu: LARGE.vcpus, memory_mb: LARGE.ram });
    // Growth needs two full hours of a project's instances; the current hour is not one yet.
    expect(await ok(admin, 'GET', '/capacity/v1/growth')).toEqual({ resource: 'vcpu', projects: [] });
  });

  it('answers what-if: added hosts and a changed overcommit ratio', async () => {
    const body = await ok(admin, 'POST', '/capacity/v1/what-if', { add_hosts: [{ count: 2, vcpus: 32, memory_mb: 131072, disk_gb: 1000 }], cpu_allocation_ratio: 2, flavors: [`${SMALL.name}:1:2048:10`] });
    const n = DEFAULT_COMPUTE_HOSTS.length;
    expect(body.hosts_added).toBe(2);
    expect((body.before as Json).capacity).toEqual({ vcpu: n * PLANNED.vcpu, memory_mb: n * PLANNED.memory_mb, disk_gb: n * PLANNED.disk_gb });
    // Ratio 2 everywhere; new hosts have no reservation and take the cloud's common ram/disk ratios (1).
    expect((body.after as Json).capacity).toEqual({
      vcpu: n * Math.floor(64 * 0.8 * 2) + 2 * Math.floor(32 * 0.8 * 2),
      memory_mb: n * PLANNED.memory_mb + 2 * Math.floor(131072 * 0.8),
      disk_gb: n * PLANNED.disk_gb + 2 * Math.floor(1000 * 0.8),
    });
    const fits = body.flavor_fit as { before: Json[]; after: Json[] };
    expect((fits.after[0] as Json).count).toBe(((fits.before[0] as Json).count as number) + 2 * Math.floor((131072 * 0.8) / 2048));
    expect((await send(admin, 'POST', '/capacity/v1/what-if', { add_hosts: [{ count: 0, vcpus: 1, memory_mb: 1, disk_gb: 1 }] })).status).toBe(400);
  });

  it('is for admins only: a project member gets 403, no token 401', async () => {
    for (const path of ['/capacity/v1/hosts', '/capacity/v1/summary', '/capacity/v1/exhaustion', '/capacity/v1/forecast?resource=vcpu']) {
      const res = await send(t.alpha, 'GET', path);
      expect(res.status, path).toBe(403);
      expect((res.body.error as Json).code).toBe('CUMULUS_API_FORBIDDEN');
    }
    expect((await send(t.alpha, 'POST', '/capacity/v1/what-if', {})).status).toBe(403);
    expect((await fetch(`${t.url}/capacity/v1/hosts`)).status).toBe(401);
  });

  it('documents every route under the capacity tag, behind a token', async () => {
    const doc = (await (await fetch(`${t.url}/docs/json`)).json()) as { paths: Record<string, Record<string, { tags?: string[]; security?: unknown }>> };
    const paths = Object.keys(doc.paths).filter((p) => p.startsWith('/capacity/'));
    expect(paths.sort()).toEqual(['/capacity/v1/exhaustion', '/capacity/v1/flavor-fit', '/capacity/v1/forecast', '/capacity/v1/growth', '/capacity/v1/hosts', '/capacity/v1/report', '/capacity/v1/summary', '/capacity/v1/what-if']);
    for (const path of paths) for (const op of Object.values(doc.paths[path]!)) expect(op).toMatchObject({ tags: ['capacity'], security: [{ keystoneToken: [] }] });
  });

  it('forecasts synthetic history with a known trend and finds the exhaustion date near the expected one', async () => {
    const host = DEFAULT_COMPUTE_HOSTS[0]?.name as string;
    const [metric] = await t.platform.store.query<{ id: string }>({
      sql: "SELECT m.id AS id FROM metrics AS m INNER JOIN (SELECT id FROM resources FINAL WHERE type = 'resource_provider' AND JSONExtractString(attributes, 'name') = {host:String}) AS r ON r.id = m.resource_id WHERE m.name = 'placement.vcpu.used'",
      params: { host },
    });
    expect(metric).toBeDefined();
    // 28 days of hourly points ending with the last full hour: 2.5 vCPU more a day, a small daily swing,
    // 154 at the end; the host's planning capacity is 204, so it runs out 20 days from now.
    const nowMs = Date.now();
    const lastHour = Math.floor(nowMs / HOUR_MS) * HOUR_MS - HOUR_MS;
    const points = 28 * 24;
    const rows = Array.from({ length: points }, (_, k) => {
      const at = lastHour - (points - 1 - k) * HOUR_MS;
      const daysBeforeEnd = (lastHour - at) / DAY_MS;
      const value = 154 - 2.5 * daysBeforeEnd + 3 * Math.sin((2 * Math.PI * (at % DAY_MS)) / DAY_MS);
      return { metricId: metric?.id as string, tsMicros: (at + 60_000) * 1000, value, sampleId: deriveId('synthetic', String(at)), policy: HOURLY_400_DAYS };
    });
    await insertMeasureRows(t.platform.store, rows, { dedupToken: randomUUID() });
    const body = await ok(admin, 'GET', `/capacity/v1/forecast?resource=vcpu&scope=host:${host}&horizon_days=40&history_days=28`);
    expect(body).toMatchObject({ resource: 'vcpu', scope: `host:${host}`, hosts: 1, capacity: PLANNED.vcpu, placement_capacity: PLACEMENT.vcpu });
    const exhaustion = body.exhaustion as Json;
    expect(exhaustion.status).toBe('within-horizon');
    const expectedMs = lastHour + ((204 - 154) / 2.5) * DAY_MS;
    expect(Math.abs(Date.parse(exhaustion.at as string) - expectedMs)).toBeLessThan(2 * DAY_MS);
    const trend = body.trend as Json;
    expect(trend.slope_per_day as number).toBeCloseTo(2.5, 0);
    expect(Math.abs(Date.parse(trend.at as string) - expectedMs)).toBeLessThan(2 * DAY_MS);
    // The same scope through /exhaustion; a scope with no hosts is 404, a bad scope 400.
    const all = await ok(admin, 'GET', `/capacity/v1/exhaustion?scope=host:${host}&horizon_days=40&history_days=28`);
    const vcpu = (all.resources as Json[]).find((r) => r.resource === 'vcpu') as Json;
    expect((vcpu.exhaustion as Json).status).toBe('within-horizon');
    expect((await send(admin, 'GET', '/capacity/v1/forecast?resource=vcpu&scope=az:nowhere')).status).toBe(404);
    expect((await send(admin, 'GET', '/capacity/v1/forecast?resource=vcpu&scope=rack-1')).status).toBe(400);
    // Memory and disk have only the current hour (left out): their exhaustion says why instead.
    const memory = (all.resources as Json[]).find((r) => r.resource === 'memory_mb') as Json;
    expect(memory).toMatchObject({ exhaustion: null, note: expect.stringContaining('at least 2') });
    expect((await send(admin, 'GET', `/capacity/v1/report?scope=host:${host}&history_days=28`)).status).toBe(400);

    // With flat memory and disk history as well, the planning report builds, as JSON, HTML and CSV.
    const flat = async (name: string, value: number) => {
      const [m] = await t.platform.store.query<{ id: string }>({
        sql: "SELECT m.id AS id FROM metrics AS m INNER JOIN (SELECT id FROM resources FINAL WHERE type = 'resource_provider' AND JSONExtractString(attributes, 'name') = {host:String}) AS r ON r.id = m.resource_id WHERE m.name = {name:String}",
        params: { host, name },
      });
      const rows = Array.from({ length: points }, (_, k) => {
        const at = lastHour - (points - 1 - k) * HOUR_MS;
        return { metricId: m?.id as string, tsMicros: (at + 60_000) * 1000, value: value + (k % 24), sampleId: deriveId('synthetic', name, String(at)), policy: HOURLY_400_DAYS };
      });
      await insertMeasureRows(t.platform.store, rows, { dedupToken: randomUUID() });
    };
    await flat('placement.memory_mb.used', 100_000);
    await flat('placement.disk_gb.used', 500);
    const report = await ok(admin, 'GET', `/capacity/v1/report?scope=host:${host}&history_days=28&horizon_days=40`);
    expect(report).toMatchObject({ scope: `host:${host}`, zones: [{ zone: 'nova', hosts: 1 }] });
    // Flavor fit covers the flavors the running instances use.
    expect(((report.flavorFit as Json).flavors as Json[]).map((f) => f.name).sort()).toEqual([LARGE.name, SMALL.name]);
    const sections = report.resources as Json[];
    expect(sections.map((r) => r.resource)).toEqual(['vcpus', 'memoryMb', 'diskGb']);
    expect((sections[0]?.exhaustion as Json).status).toBe('within-horizon');
    expect((sections[1]?.exhaustion as Json).status).toBe('not-within-horizon');
    const html = await admin.request('GET', `/capacity/v1/report?scope=host:${host}&history_days=28&format=html`);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(await html.text()).toContain('<svg');
    const csv = await admin.request('GET', `/capacity/v1/report?scope=host:${host}&history_days=28&format=csv`);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect((await csv.text()).split('\n').length).toBeGreaterThan(3);

    // `cumulus report capacity` fetches the same report from the running platform, as an operator would
    // (run asynchronously: the platform answers from this very process).
    const cli = (args: string[], env: Record<string, string>) =>
      new Promise<{ status: number; stderr: string }>((done) => {
        execFile('node', ['bin/cumulus.mjs', ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 }, (err, _stdout, stderr) => done({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }));
      });
    const dir = mkdtempSync(join(tmpdir(), 'cumulus-report-cli-'));
    try {
      const output = join(dir, 'capacity.html');
      const run = await cli(['report', 'capacity', '--format', 'html', '--output', output, '--url', t.url, '--scope', `host:${host}`, '--history-days', '28'], { OS_USERNAME: 'admin', OS_PASSWORD: t.platform.adminPassword, OS_PROJECT_NAME: 'admin', OS_AUTH_URL: `${t.url}/identity/v3` });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stderr).toContain(`wrote ${output}`);
      const page = readFileSync(output, 'utf8');
      expect(page).toContain('<svg');
      expect(page).toContain(`Capacity planning report: host:${host}`);
      // A wrong password is a clear error, not a stack.
      const refused = await cli(['report', 'capacity', '--output', join(dir, 'x.html'), '--url', t.url], { OS_USERNAME: 'admin', OS_PASSWORD: 'wrong-password', OS_PROJECT_NAME: 'admin' });
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(/Keystone at .* refused admin@admin \(401\); check the credentials/);
      // The monthly job writes the whole cloud's report into the data folder; here over the host's history.
      const job = createCapacityReportJob({ directory: join(dir, 'reports') }, { store: t.platform.store, clock: systemClock, logger: silentLogger(), telemetry: new TelemetryRegistry().component('capacity.report') });
      const files = await job.run();
      const day = new Date().toISOString().slice(0, 10);
      expect(files.slice(0, 2)).toEqual([join(dir, 'reports', `capacity-${day}.html`), join(dir, 'reports', `capacity-${day}.csv`)]);
      expect(readFileSync(files[0] as string, 'utf8')).toContain('Capacity planning report: cloud');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sums per hour the mean of each provider, so a provider polled often counts once', async () => {
    const metricOf = async (host: string) =>
      (
        await t.platform.store.query<{ id: string; rid: string }>({
          sql: "SELECT m.id AS id, m.resource_id AS rid FROM metrics AS m INNER JOIN (SELECT id FROM resources FINAL WHERE type = 'resource_provider' AND JSONExtractString(attributes, 'name') = {host:String}) AS r ON r.id = m.resource_id WHERE m.name = 'placement.memory_mb.used'",
          params: { host },
        })
      )[0] as { id: string; rid: string };
    const [second, third] = [await metricOf('compute-2'), await metricOf('compute-3')];
    // An hour 60 days back, outside every other test's data: three polls of compute-2, one of compute-3.
    const hour = Math.floor((Date.now() - 60 * DAY_MS) / HOUR_MS) * HOUR_MS;
    const row = (metricId: string, minute: number, value: number) => ({ metricId, tsMicros: (hour + minute * 60_000) * 1000, value, sampleId: deriveId('synthetic-mean', metricId, String(minute)), policy: HOURLY_400_DAYS });
    await insertMeasureRows(t.platform.store, [row(second.id, 5, 10), row(second.id, 25, 20), row(second.id, 45, 30), row(third.id, 30, 5)], { dedupToken: randomUUID() });
    const series = await readUsageHistory(t.platform.store, { resource: 'memory_mb', providerIds: null, fromMs: hour - HOUR_MS, toMs: hour + 2 * HOUR_MS });
    expect(series).toEqual({ startMs: hour - HOUR_MS, stepSeconds: 3600, values: [null, 20 + 5, null], members: [0, 2, 0] });
    const onlySecond = await readUsageHistory(t.platform.store, { resource: 'memory_mb', providerIds: [second.rid], fromMs: hour, toMs: hour + HOUR_MS });
    expect(onlySecond.values).toEqual([20]);
  });
});
