/** The Placement pollster over both sources: what it reads, the samples it signs and sends, and how failures stay local. */
import { describe, expect, it } from 'vitest';
import { ManualClock, TelemetryRegistry, TOPICS, silentLogger, verifySampleSignature, type Sample } from '../../core/index.ts';
import { createHttpPlacementSource, PLACEMENT_MICROVERSION } from './placement-http-source.ts';
import { PLACEMENT_METERS } from './placement-meters.ts';
import { createPlacementPollster } from './placement-pollster.ts';
import { createInProcessPlacementSource, type InProcessPlacementReaders, type PlacementInventory } from './placement-source.ts';
import { RecordingStream } from './test-stream.ts';

const SECRET = 'placement-test-metering-secret';
const AT = Date.parse('2026-03-04T05:06:07.890Z');
const RP1 = '11111111-2222-4333-8444-555555555555';
const RP2 = '66666666-7777-4888-9999-000000000000';
const AGG_B = 'bbbbbbbb-0000-4000-8000-000000000000';
const AGG_A = 'aaaaaaaa-0000-4000-8000-000000000000';

const inv = (total: number, reserved: number, ratio: number): PlacementInventory => ({ total, reserved, min_unit: 1, max_unit: total, step_size: 1, allocation_ratio: ratio });

/** Two compute nodes as Placement and Nova would describe them; compute-2 has no disk inventory. */
function readers(overrides: Partial<InProcessPlacementReaders> = {}): InProcessPlacementReaders {
  const inventories: Record<string, Record<string, PlacementInventory>> = {
    [RP1]: { VCPU: inv(64, 0, 4), MEMORY_MB: inv(262144, 512, 1), DISK_GB: inv(2000, 0, 1) },
    [RP2]: { VCPU: inv(32, 2, 16), MEMORY_MB: inv(131072, 512, 1.5) },
  };
  return {
    providers: () => [
      { uuid: RP1, name: 'compute-1' },
      { uuid: RP2, name: 'compute-2' },
    ],
    inventories: (uuid) => inventories[uuid] ?? {},
    usages: (uuid): Record<string, number> => (uuid === RP1 ? { VCPU: 6, MEMORY_MB: 12288, DISK_GB: 120 } : { VCPU: 0, MEMORY_MB: 0 }),
    aggregates: (uuid) => (uuid === RP1 ? [AGG_B, AGG_A] : []),
    availabilityZones: () => ({ 'compute-1': 'az-east', 'compute-2': 'az-west' }),
    ...overrides,
  };
}

function pollsterOver(r: InProcessPlacementReaders) {
  const stream = new RecordingStream();
  const telemetry = new TelemetryRegistry().component('collector.pollster.placement');
  const pollster = createPlacementPollster({ meteringSecret: SECRET }, { source: createInProcessPlacementSource(r), stream, clock: new ManualClock(AT), logger: silentLogger(), telemetry });
  return { pollster, stream, telemetry };
}

const byName = (samples: Sample[], resourceId: string) => Object.fromEntries(samples.filter((s) => s.resource_id === resourceId).map((s) => [s.name, s.volume]));

describe('Placement pollster', () => {
  it('sends one signed batch per provider: inventory fields and usage per class, keyed by provider uuid', async () => {
    const { pollster, stream, telemetry } = pollsterOver(readers());
    const report = await pollster.poll();
    expect(report).toEqual({ timestamp: new Date(AT).toISOString(), providers: 2, published: 18 + 12, failedProviders: [], unsent: 0, zonesRead: true });
    expect(stream.sends.map((s) => s.topic)).toEqual([TOPICS.samples, TOPICS.samples]);
    for (const send of stream.sends) expect(new Set(send.records.map((r) => r.key)).size).toBe(1);
    const samples = stream.samples();
    expect(samples.every((s) => verifySampleSignature(s, SECRET))).toBe(true);
    expect(samples.every((s) => s.type === 'gauge' && s.project_id === null && s.user_id === null && s.timestamp === '2026-03-04T05:06:07.890+00:00')).toBe(true);
    expect(byName(samples, RP1)).toEqual({
      'placement.vcpu.total': 64, 'placement.vcpu.reserved': 0, 'placement.vcpu.allocation_ratio': 4, 'placement.vcpu.min_unit': 1, 'placement.vcpu.max_unit': 64, 'placement.vcpu.used': 6,
      'placement.memory_mb.total': 262144, 'placement.memory_mb.reserved': 512, 'placement.memory_mb.allocation_ratio': 1, 'placement.memory_mb.min_unit': 1, 'placement.memory_mb.max_unit': 262144, 'placement.memory_mb.used': 12288,
      'placement.disk_gb.total': 2000, 'placement.disk_gb.reserved': 0, 'placement.disk_gb.allocation_ratio': 1, 'placement.disk_gb.min_unit': 1, 'placement.disk_gb.max_unit': 2000, 'placement.disk_gb.used': 120,
    });
    // No disk inventory on compute-2: no disk meters, and a ratio above 1 comes through as is.
    expect(Object.keys(byName(samples, RP2)).filter((n) => n.startsWith('placement.disk_gb.'))).toEqual([]);
    expect(byName(samples, RP2)['placement.memory_mb.allocation_ratio']).toBe(1.5);
    const first = samples.find((s) => s.resource_id === RP1) as Sample;
    expect(first.resource_metadata).toEqual({ name: 'compute-1', host: 'compute-1', availability_zone: 'az-east', aggregates: `${AGG_A},${AGG_B}` });
    expect(samples.find((s) => s.name === 'placement.memory_mb.total')?.unit).toBe('MB');
    expect(samples.find((s) => s.name === 'placement.vcpu.allocation_ratio')?.unit).toBe('ratio');
    // Every meter emitted is a documented one, and a second poll at the same instant keeps the ids.
    expect(samples.every((s) => PLACEMENT_METERS.some((m) => m.name === s.name && m.unit === s.unit))).toBe(true);
    const again = pollsterOver(readers());
    await again.pollster.poll();
    expect(again.stream.samples().map((s) => s.id)).toEqual(samples.map((s) => s.id));
    expect(telemetry.snapshot()).toMatchObject({ accepted: 30, refused: 0, dropped: 0 });
  });

  it('keeps polling the other providers when one fails, and labels no zone when Nova cannot be read', async () => {
    const { pollster, stream, telemetry } = pollsterOver(
      readers({
        usages: (uuid) => {
          if (uuid === RP2) throw new Error('placement answered 503');
          return { VCPU: 1 };
        },
        availabilityZones: () => Promise.reject(new Error('nova is down')),
      }),
    );
    const report = await pollster.poll();
    expect(report.failedProviders).toEqual([RP2]);
    expect(report.zonesRead).toBe(false);
    const samples = stream.samples();
    expect(new Set(samples.map((s) => s.resource_id))).toEqual(new Set([RP1]));
    expect(samples.every((s) => s.resource_metadata.availability_zone === null)).toBe(true);
    // Classes missing from usages count as nothing allocated.
    expect(byName(samples, RP1)['placement.memory_mb.used']).toBe(0);
    expect(telemetry.snapshot()).toMatchObject({ refused: 1 });
  });

  it('counts a batch the stream refuses as unsent, and a provider list it cannot read as `*`', async () => {
    const refusing = pollsterOver(readers());
    refusing.stream.refuseNext = 1;
    const report = await refusing.pollster.poll();
    expect(report.unsent + report.published).toBe(30);
    expect(report.unsent).toBeGreaterThan(0);
    const broken = pollsterOver(readers({ providers: () => Promise.reject(new Error('no placement')) }));
    expect((await broken.pollster.poll()).failedProviders).toEqual(['*']);
    expect(broken.stream.sends).toEqual([]);
  });

  it('refuses a short metering secret and an interval out of range, naming the key', () => {
    const deps = { source: createInProcessPlacementSource(readers()), stream: new RecordingStream(), clock: new ManualClock(AT), logger: silentLogger(), telemetry: new TelemetryRegistry().component('x') };
    expect(() => createPlacementPollster({ meteringSecret: 'short' }, deps)).toThrow(/pollsters\.placement\.meteringSecret/);
    expect(() => createPlacementPollster({ meteringSecret: SECRET, intervalMs: 10 }, deps)).toThrow(/pollsters\.placement\.intervalMs/);
  });
});

/** A scripted Keystone + Placement + Nova over fetch: the HTTP source's requests and parsing. */
function scriptedApis(options: { badInventory?: boolean } = {}) {
  const requests: Array<{ url: string; headers: Record<string, string> }> = [];
  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const fetchImpl: typeof fetch = async (input, init) => {
    const url = String(input);
    requests.push({ url, headers: Object.fromEntries(Object.entries((init?.headers as Record<string, string>) ?? {})) });
    if (url.endsWith('/auth/tokens?nocatalog')) {
      return new Response(JSON.stringify({ token: { issued_at: '2026-03-04T05:00:00.000000Z', expires_at: '2026-03-04T06:00:00.000000Z' } }), { status: 201, headers: { 'x-subject-token': 'tok-1' } });
    }
    if (url === 'http://cloud.test/placement/resource_providers') return json({ resource_providers: [{ uuid: RP1, name: 'compute-1', generation: 3, links: [] }] });
    if (url.endsWith(`/resource_providers/${RP1}/inventories`)) {
      return json({ resource_provider_generation: 3, inventories: { VCPU: options.badInventory ? { total: 'many' } : inv(64, 0, 4), MEMORY_MB: inv(262144, 512, 1) } });
    }
    if (url.endsWith(`/resource_providers/${RP1}/usages`)) return json({ resource_provider_generation: 3, usages: { VCPU: 4, MEMORY_MB: 8192 } });
    if (url.endsWith(`/resource_providers/${RP1}/aggregates`)) return json({ resource_provider_generation: 3, aggregates: [AGG_A] });
    if (url === 'http://cloud.test/compute/v2.1/os-availability-zone/detail') {
      return json({ availabilityZoneInfo: [{ zoneName: 'internal', zoneState: { available: true }, hosts: { controller: {} } }, { zoneName: 'az-east', zoneState: { available: true }, hosts: { 'compute-1': {} } }, { zoneName: 'empty', zoneState: { available: true }, hosts: null }] });
    }
    if (url === 'http://cloud.test/compute/v2.1/os-hypervisors/detail') {
      return json({ hypervisors: [{ id: 1, hypervisor_hostname: 'compute-1.example.org', state: 'up', status: 'enabled', service: { host: 'compute-1', id: 7, disabled_reason: null } }] });
    }
    return json({ errors: [{ status: 404, detail: 'not found' }] }, 404);
  };
  return { requests, fetchImpl };
}

describe('Placement HTTP source', () => {
  const open = (apis: ReturnType<typeof scriptedApis>) =>
    createHttpPlacementSource(
      { authUrl: 'http://cloud.test/identity/v3', placementUrl: 'http://cloud.test/placement/', computeUrl: 'http://cloud.test/compute/v2.1', username: 'admin', password: 'admin-password' },
      { clock: new ManualClock(AT), logger: silentLogger(), fetch: apis.fetchImpl },
    );

  it('reads providers, inventories, usages and aggregates at its microversion, and the zones of hosts from Nova', async () => {
    const apis = scriptedApis();
    const source = open(apis);
    expect(await source.providers()).toEqual([{ uuid: RP1, name: 'compute-1' }]);
    expect(await source.provider(RP1)).toEqual({ inventories: { VCPU: inv(64, 0, 4), MEMORY_MB: inv(262144, 512, 1) }, usages: { VCPU: 4, MEMORY_MB: 8192 }, aggregates: [AGG_A] });
    // The zone of the service host, and of its hypervisor's node name (what the provider is named after).
    expect(await source.availabilityZones()).toEqual({ controller: 'internal', 'compute-1': 'az-east', 'compute-1.example.org': 'az-east' });
    const placementCalls = apis.requests.filter((r) => r.url.includes('/placement/'));
    expect(placementCalls.length).toBe(4);
    expect(placementCalls.every((r) => r.headers['openstack-api-version'] === `placement ${PLACEMENT_MICROVERSION}` && r.headers['x-auth-token'] === 'tok-1')).toBe(true);
    // One login for every call.
    expect(apis.requests.filter((r) => r.url.includes('/auth/tokens')).length).toBe(1);
  });

  it('refuses an answer of the wrong shape with its path, and a 404 as refused', async () => {
    const source = open(scriptedApis({ badInventory: true }));
    await expect(source.provider(RP1)).rejects.toMatchObject({ code: 'CUMULUS_POLLSTER_BAD_RESPONSE', message: expect.stringContaining('inventories.VCPU.total') });
    await expect(source.provider('no-such-provider')).rejects.toMatchObject({ code: 'CUMULUS_POLLSTER_SOURCE_REFUSED', status: 404 });
  });
});
