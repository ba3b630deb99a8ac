import { describe, expect, it } from 'vitest';
import type { UsageEventRow, UsageLifetimeRow, UsageMeasureRow, UsageRevisionRow } from '../../storage/index.ts';
import { loadServiceDefinitions, parseServiceDefinitions, type ServiceDefinition } from './services.ts';
import { extractFrames } from './usage.ts';

// The period rated in every case: [10:00, 11:00) on a fixed day, in seconds.
const DAY = Date.UTC(2026, 10, 2) / 1000;
const at = (hh: number, mm = 0, ss = 0) => DAY + hh * 3600 + mm * 60 + ss;
const PERIOD = { start: new Date(at(10) * 1000), end: new Date(at(11) * 1000) };
const iso = (s: number) => new Date(s * 1000).toISOString();

const defaults = loadServiceDefinitions();
const service = (name: string): ServiceDefinition => defaults.services.find((s) => s.name === name) as ServiceDefinition;

const revision = (id: string, over: Partial<Omit<UsageRevisionRow, 'attributes'>> & { attributes?: string | Record<string, unknown> }): UsageRevisionRow => ({
  id,
  type: 'instance',
  project_id: 'p1',
  user_id: 'u1',
  started_s: at(9),
  ended_s: null,
  revision_start_s: at(9),
  revision_end_s: null,
  ...over,
  ended_us: over.ended_us ?? (over.ended_s == null ? null : String(over.ended_s * 1_000_000)),
  revision_end_us: over.revision_end_us ?? (over.revision_end_s == null ? null : String(over.revision_end_s * 1_000_000)),
  attributes: typeof over.attributes === 'string' ? over.attributes : JSON.stringify(over.attributes ?? {}),
});
const measure = (resource_id: string, name: string, at_s: number, value: string): UsageMeasureRow => ({ resource_id, name, at_s, at_us: String(at_s * 1_000_000), value });
const event = (resource_id: string, event_type: string, atS: number, payload: unknown, traits: Record<string, string> = {}): UsageEventRow => ({
  resource_id,
  event_type,
  at_us: String(BigInt(atS) * 1_000_000n),
  message_id: `${resource_id}-${atS}`,
  traits_string: traits,
  traits_int: {},
  payload: JSON.stringify(payload),
});
const small = { flavor_id: 'f-small', flavor_name: 'm1.small', image_ref: 'img-1', display_name: 'web-1', host: 'compute-1' };
const large = { ...small, flavor_id: 'f-large', flavor_name: 'm1.large' };

describe('usage extraction', () => {
  it('splits a resize mid-period into two frames that partition the period, each with its flavor, vCPUs and RAM', () => {
    const rows = [
      revision('vm-1', { revision_start_s: at(9), revision_end_s: at(10, 30), attributes: small }),
      revision('vm-1', { revision_start_s: at(10, 30), attributes: large }),
    ];
    const measures = [measure('vm-1', 'memory', at(9), '2048'), measure('vm-1', 'memory', at(10, 30), '8192'), measure('vm-1', 'vcpus', at(9), '1'), measure('vm-1', 'vcpus', at(10, 30), '4')];
    const events = [event('vm-1', 'compute.instance.create.end', at(9), { metadata: { 'metering.stack': 'stack-7' } }, { os_distro: 'rhel' })];
    const frames = extractFrames(service('instance'), PERIOD, { revisions: rows, measures, events });
    expect(frames.map((f) => [iso(f.periodStart.getTime() / 1000), iso(f.periodEnd.getTime() / 1000), f.quantity, f.unit, f.metadata, f.groupby])).toEqual([
      [
        iso(at(10)),
        iso(at(10, 30)),
        '0.500000000',
        'instance-hour',
        { flavor_id: 'f-small', flavor_name: 'm1.small', vcpus: '1', ram: '2048', image_id: 'img-1', os_distro: 'rhel', display_name: 'web-1' },
        { id: 'vm-1', project_id: 'p1', user_id: 'u1', stack_id: 'stack-7' },
      ],
      [
        iso(at(10, 30)),
        iso(at(11)),
        '0.500000000',
        'instance-hour',
        { flavor_id: 'f-large', flavor_name: 'm1.large', vcpus: '4', ram: '8192', image_id: 'img-1', os_distro: 'rhel', display_name: 'web-1' },
        { id: 'vm-1', project_id: 'p1', user_id: 'u1', stack_id: 'stack-7' },
      ],
    ]);
    expect(frames.every((f) => f.service === 'instance' && f.resourceId === 'vm-1' && f.resourceType === 'instance')).toBe(true);
  });

  it('rates only the time a resource existed, rounding the quantity to 9 places half-even', () => {
    // Created 10:20:00, ended 10:45:00: 25 minutes = 0.41666... hours.
    const rows = [
      revision('vm-2', { started_s: at(10, 20), revision_start_s: at(10, 20), revision_end_s: at(10, 45), attributes: small }),
      revision('vm-2', { started_s: at(10, 20), ended_s: at(10, 45), revision_start_s: at(10, 45), attributes: small }),
    ];
    const [frame, ...rest] = extractFrames(service('instance'), PERIOD, { revisions: rows });
    expect(rest).toEqual([]);
    expect([iso(frame!.periodStart.getTime() / 1000), iso(frame!.periodEnd.getTime() / 1000), frame!.quantity]).toEqual([iso(at(10)), iso(at(11)), '0.416666667']);
    // Gone before the period, or born after it: nothing.
    const gone = [revision('vm-3', { ended_s: at(9, 30), revision_start_s: at(9, 30) })];
    const later = [revision('vm-4', { started_s: at(11), revision_start_s: at(11) })];
    expect(extractFrames(service('instance'), PERIOD, { revisions: [...gone, ...later] })).toEqual([]);
  });

  it('merges revisions that change nothing the frame carries (a host move) into one frame', () => {
    const rows = [
      revision('vm-5', { revision_start_s: at(9), revision_end_s: at(10, 10), attributes: small }),
      revision('vm-5', { revision_start_s: at(10, 10), attributes: { ...small, host: 'compute-2' } }),
    ];
    const frames = extractFrames(service('instance'), PERIOD, { revisions: rows });
    expect(frames.map((f) => [f.quantity, f.periodStart.getTime() / 1000 - at(10), f.periodEnd.getTime() / 1000 - at(10)])).toEqual([['1.000000000', 0, 3600]]);
  });

  it('weights a gauge by time: a volume extended from 10 to 20 GiB at 10:15 is 10 x 0.25 + 20 x 0.75 = 17.5 GiB-hours', () => {
    const rows = [revision('vol-1', { type: 'volume', attributes: { volume_type: 'ssd', display_name: 'data' } })];
    const measures = [measure('vol-1', 'volume.size', at(9), '10'), measure('vol-1', 'volume.size', at(10, 15), '20')];
    const [frame] = extractFrames(service('volume.size'), PERIOD, { revisions: rows, measures });
    expect([frame?.quantity, frame?.unit, frame?.metadata]).toEqual(['17.500000000', 'GiB-hour', { volume_type: 'ssd', display_name: 'data' }]);
    // Before its first measure a gauge counts 0: created 10:00, first size known at 10:30.
    const late = [revision('vol-2', { type: 'volume', started_s: at(10), revision_start_s: at(10) })];
    const [partial] = extractFrames(service('volume.size'), PERIOD, { revisions: late, measures: [measure('vol-2', 'volume.size', at(10, 30), '8')] });
    expect(partial?.quantity).toBe('4.000000000');
  });

  it('splits frames by owner when a volume is transferred mid-period', () => {
    const rows = [
      revision('vol-3', { type: 'volume', project_id: 'p1', revision_end_s: at(10, 30) }),
      revision('vol-3', { type: 'volume', project_id: 'p2', user_id: 'u2', revision_start_s: at(10, 30) }),
    ];
    const frames = extractFrames(service('volume.size'), PERIOD, { revisions: rows, measures: [measure('vol-3', 'volume.size', at(9), '4')] });
    expect(frames.map((f) => [f.projectId, f.userId, f.quantity, f.groupby.project_id])).toEqual([
      ['p1', 'u1', '2.000000000', 'p1'],
      ['p2', 'u2', '2.000000000', 'p2'],
    ]);
  });

  it('rates floating IPs for the time they are allocated, attached or not, from their create and delete events', () => {
    const lifetimes: UsageLifetimeRow[] = [
      { resource_id: 'fip-held', project_id: 'p1', user_id: 'u1', started_s: at(10, 40), ended_s: null },
      { resource_id: 'fip-released', project_id: 'p1', user_id: 'u1', started_s: at(8), ended_s: at(10, 10) },
      { resource_id: 'fip-old', project_id: 'p1', user_id: 'u1', started_s: at(8), ended_s: at(9) },
    ];
    const events = [
      event('fip-held', 'floatingip.create.end', at(10, 40), { floatingip: { floating_ip_address: '172.24.4.9', port_id: null } }),
      event('fip-released', 'floatingip.create.end', at(8), { floatingip: { floating_ip_address: '172.24.4.3' } }),
      // Attached at 10:05 (an update): still the same allocation, the same frame.
      event('fip-released', 'floatingip.update.end', at(10, 5), { floatingip: { floating_ip_address: '172.24.4.3', port_id: 'port-1' } }),
    ];
    const frames = extractFrames(service('ip.floating'), PERIOD, { lifetimes, events });
    expect(frames.map((f) => [f.resourceId, f.resourceType, f.quantity, f.unit, f.metadata.floating_ip_address])).toEqual([
      ['fip-held', 'network', '0.333333333', 'ip-hour', '172.24.4.9'],
      ['fip-released', 'network', '0.166666667', 'ip-hour', '172.24.4.3'],
    ]);
  });

  it('converts image bytes to GiB-hours with the factor, and reads tags from the resource metadata', () => {
    const definitions = parseServiceDefinitions({
      services: {
        'image.size': { resource_type: 'image', gauge: 'image.size', factor: '1/1073741824', unit: 'GiB-hour', events: ['image.%'], metadata: { os_distro: 'payload:properties/os_distro' } },
        'volume.size': { resource_type: 'volume', gauge: 'volume.size', unit: 'GiB-hour', events: ['volume.%'] },
      },
      tags: ['team'],
    });
    const [image, volume] = definitions.services as [ServiceDefinition, ServiceDefinition];
    const rows = [revision('img-1', { type: 'image', started_s: at(10, 30), revision_start_s: at(10, 30) })];
    const [frame] = extractFrames(image, PERIOD, { revisions: rows, measures: [measure('img-1', 'image.size', at(10, 30), '2147483648')], events: [event('img-1', 'image.upload', at(10, 30), { properties: { os_distro: 'windows' } })] }, definitions.tags);
    expect([frame?.quantity, frame?.metadata]).toEqual(['1.000000000', { os_distro: 'windows' }]);
    // Cinder's metadata is a list of {key, value}; Nova's a mapping. Both give the tag.
    const volumes = [revision('vol-9', { type: 'volume' })];
    const [tagged] = extractFrames(volume, PERIOD, { revisions: volumes, measures: [measure('vol-9', 'volume.size', at(9), '1')], events: [event('vol-9', 'volume.create.end', at(9), { metadata: [{ key: 'metering.team', value: 'blue' }] })] }, definitions.tags);
    expect(tagged?.groupby).toEqual({ id: 'vol-9', project_id: 'p1', user_id: 'u1', 'tag:team': 'blue' });
  });

  it('reads metadata as it was during each part: an event after the part does not reach back', () => {
    const rows = [revision('vm-6', { revision_end_s: at(10, 30), attributes: small }), revision('vm-6', { revision_start_s: at(10, 30), attributes: large })];
    const events = [event('vm-6', 'compute.instance.create.end', at(9), {}, { os_distro: 'ubuntu' }), event('vm-6', 'compute.instance.rebuild.end', at(10, 30), {}, { os_distro: 'rhel' })];
    const frames = extractFrames(service('instance'), PERIOD, { revisions: rows, events });
    expect(frames.map((f) => f.metadata.os_distro)).toEqual(['ubuntu', 'rhel']);
  });

  it('gives the same frames whatever order the rows came in', () => {
    const rows = [revision('b', { attributes: small }), revision('a', { revision_end_s: at(10, 30), attributes: small }), revision('a', { revision_start_s: at(10, 30), attributes: large })];
    const once = extractFrames(service('instance'), PERIOD, { revisions: rows });
    const again = extractFrames(service('instance'), PERIOD, { revisions: [...rows].reverse() });
    expect(again).toEqual(once);
    expect(once.map((f) => f.resourceId)).toEqual(['a', 'a', 'b']);
  });
});

describe('service definitions', () => {
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return { code: (err as { code?: string }).code, message: (err as Error).message };
    }
    return undefined;
  };

  it('ships defaults for instances, volumes, floating IPs, images and object storage', () => {
    expect(defaults.services.map((s) => [s.name, s.resourceType, s.quantity.kind, s.unit])).toEqual([
      ['instance', 'instance', 'presence', 'instance-hour'],
      ['volume.size', 'volume', 'gauge', 'GiB-hour'],
      ['ip.floating', 'network', 'lifetime', 'ip-hour'],
      ['image.size', 'image', 'gauge', 'GiB-hour'],
      ['storage.objects.size', 'swift_account', 'gauge', 'GiB-hour'],
    ]);
    expect(service('image.size').factor.times(1073741824).toString()).toBe('1');
  });

  it('refuses malformed definitions, naming the service and the field', () => {
    const parse = (services: unknown, tags?: unknown) => code(() => parseServiceDefinitions({ services, ...(tags === undefined ? {} : { tags }) }, 'test.yaml'));
    expect(parse({ instance: { resource_type: 'instance', unit: 'h' } })).toEqual({ code: 'CUMULUS_RATING_SERVICES_INVALID', message: expect.stringContaining('test.yaml: services.instance: expected exactly one of presence, gauge, lifetime, got none') });
    expect(parse({ instance: { resource_type: 'instance', presence: 'instance', gauge: 'vcpus', unit: 'h' } })?.message).toContain('got presence and gauge');
    expect(parse({ instance: { resource_type: 'instance', presence: 'instance', unit: 'h', factor: '-1' } })?.message).toContain('services.instance.factor: expected a positive number or fraction');
    expect(parse({ instance: { resource_type: 'instance', presence: 'instance', unit: 'h', metadata: { vcpus: 'cpu:4' } } })?.message).toContain('services.instance.metadata.vcpus: expected attribute:<name>');
    expect(parse({ instance: { resource_type: 'instance', presence: 'instance', unit: 'h', metadata: { os: 'trait:os_distro' } } })?.message).toContain('services.instance.events: expected the event types');
    expect(parse({ instance: { resource_type: 'instance', presence: 'instance', unit: 'h', colour: 'red' } })?.message).toContain('unknown key(s) colour');
    expect(parse({ fip: { resource_type: 'network', lifetime: { create: [] }, unit: 'h' } })?.message).toContain('services.fip.lifetime.create: expected a non-empty list');
    expect(parse({ fip: { resource_type: 'network', presence: 'x', unit: 'h' } }, ['bad tag'])?.message).toContain('tags[0]');
  });
});
