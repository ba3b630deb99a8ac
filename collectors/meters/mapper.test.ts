import { describe, expect, it } from 'vitest';
import { verifySampleSignature, type Sample } from '../../core/index.ts';
import { MalformedNotificationError, type Notification } from '../notifications/envelope.ts';
import { DEFAULT_METERS_FILE, loadMeterDefinitions, parseMeterDefinitions } from './definitions.ts';
import { MAPPING_ERROR_CODES } from './errors.ts';
import { MeterMapper, type DroppedSample, type MeterMapperOptions } from './mapper.ts';

const SECRET = 'metering-secret-for-tests-0123';
const INSTANCE = '3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const PROJECT = 'b7f3a1c2d4e5f60718293a4b5c6d7e8f';
const USER = 'e1d2c3b4a5968778695a4b3c2d1e0f9a';
const IMAGE = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

/** A compute.instance.* notification shaped like nova's legacy payload (info_from_instance). */
function novaNotification(eventType: string, overrides: Partial<Notification> = {}, payload: Record<string, unknown> = {}): Notification {
  return {
    message_id: '0c6e1a4e-8f0b-4a53-9b5f-2f6a3d1c7e90',
    publisher_id: 'compute.compute-2',
    event_type: eventType,
    priority: 'INFO',
    timestamp: '2026-01-02 03:04:05.123456',
    context: { request_id: 'req-1', user_id: 'context-user', user: 'context-user', project_id: 'context-project', tenant: 'context-project' },
    payload: {
      tenant_id: PROJECT,
      user_id: USER,
      instance_id: INSTANCE,
      display_name: 'web-1',
      hostname: 'web-1',
      instance_type: 'm1.small',
      instance_flavor_id: '2',
      memory_mb: 2048,
      disk_gb: 20,
      root_gb: 20,
      ephemeral_gb: 0,
      vcpus: 1,
      host: 'compute-2',
      state: 'active',
      created_at: '2026-01-02 03:04:00+00:00',
      launched_at: '2026-01-02T03:04:05.000000',
      deleted_at: '',
      image_meta: { base_image_ref: IMAGE, min_disk: '20' },
      metadata: { 'metering.stack': 'stack-1', role: 'web' },
      ...payload,
    },
    ...overrides,
  };
}

const mapperWith = (options: MeterMapperOptions = {}) => new MeterMapper(loadMeterDefinitions(DEFAULT_METERS_FILE), SECRET, options);
const byName = (samples: Sample[]) => Object.fromEntries(samples.map((s) => [s.name, s])) as Record<string, Sample>;
const names = (samples: Sample[]) => samples.map((s) => s.name);
const refusal = (map: () => unknown): MalformedNotificationError => {
  try {
    map();
  } catch (err) {
    expect(err).toBeInstanceOf(MalformedNotificationError);
    return err as MalformedNotificationError;
  }
  throw new Error('expected the notification to be refused');
};
const custom = (yaml: string, options: MeterMapperOptions = {}) => new MeterMapper(parseMeterDefinitions(yaml, 'test.yaml'), SECRET, options);
const message = (eventType: string, payload: Record<string, unknown>, extra: Partial<Notification> = {}): Notification => ({
  message_id: 'm-1',
  publisher_id: 'svc.host-1',
  event_type: eventType,
  priority: 'INFO',
  timestamp: '2026-01-02T03:04:05Z',
  context: {},
  payload,
  ...extra,
});

describe('MeterMapper with the shipped meters.yaml: instances', () => {
  it('meters a built instance like Ceilometer: the instance meters, the disks and the booting time', () => {
    const samples = mapperWith().map(novaNotification('compute.instance.create.end'));
    expect(names(samples)).toEqual(['instance', 'vcpus', 'memory', 'disk.root.size', 'disk.ephemeral.size', 'compute.instance.booting.time']);
    const metadata = {
      host: 'compute-2',
      display_name: 'web-1',
      flavor_id: '2',
      flavor_name: 'm1.small',
      image_ref: IMAGE,
      created_at: '2026-01-02 03:04:00+00:00',
      launched_at: '2026-01-02T03:04:05.000000',
      user_metadata: { stack: 'stack-1' },
    };
    const common = { user_id: USER, project_id: PROJECT, resource_id: INSTANCE, timestamp: '2026-01-02T03:04:05.123456+00:00', source: 'openstack', message_id: '0c6e1a4e-8f0b-4a53-9b5f-2f6a3d1c7e90' };
    const s = byName(samples);
    expect(s.instance).toMatchObject({ ...common, type: 'gauge', unit: 'instance', volume: 1 });
    expect(s.vcpus).toMatchObject({ ...common, type: 'gauge', unit: 'vcpu', volume: 1 });
    expect(s.memory).toMatchObject({ ...common, type: 'gauge', unit: 'MB', volume: 2048 });
    expect(s['disk.root.size']).toMatchObject({ ...common, unit: 'GB', volume: 20 });
    expect(s['disk.ephemeral.size']).toMatchObject({ ...common, unit: 'GB', volume: 0 });
    // The booting time names no user: it comes from the request context.
    expect(s['compute.instance.booting.time']).toMatchObject({ ...common, user_id: 'context-user', unit: 'sec', volume: 5 });
    // Empty values (deleted_at: '') are left out, as Ceilometer keeps only truthy ones.
    for (const sample of samples) expect(sample.resource_metadata).toEqual(metadata);
  });

  it.each([['compute.instance.create.start'], ['compute.instance.update'], ['compute.instance.update.end'], ['scheduler.select_destinations.end']])('gives no samples for %s', (eventType) => {
    expect(mapperWith().map(novaNotification(eventType))).toEqual([]);
  });

  it.each([['compute.instance.delete.end'], ['compute.instance.exists'], ['compute.instance.power_off.end'], ['compute.instance.resize.confirm.end']])('meters %s with the five instance meters', (eventType) => {
    expect(names(mapperWith().map(novaNotification(eventType)))).toEqual(['instance', 'vcpus', 'memory', 'disk.root.size', 'disk.ephemeral.size']);
  });

  it.each([['ERROR'], ['WARN'], ['AUDIT'], ['DEBUG']])('meters only info and sample notifications, not %s (Ceilometer listens to those two)', (priority) => {
    expect(mapperWith().map(novaNotification('compute.instance.create.error', { priority }))).toEqual([]);
    expect(mapperWith().map(novaNotification('compute.instance.exists', { priority: 'sample' }))).toHaveLength(5);
  });

  it('gives the same sample ids for the same message, and distinct ids across meters', () => {
    const first = mapperWith().map(novaNotification('compute.instance.create.end'));
    const second = mapperWith().map(novaNotification('compute.instance.create.end'));
    expect(second.map((s) => s.id)).toEqual(first.map((s) => s.id));
    expect(new Set(first.map((s) => s.id)).size).toBe(first.length);
    const other = mapperWith().map(novaNotification('compute.instance.create.end', { message_id: 'another-message' }));
    for (const id of other.map((s) => s.id)) expect(first.map((s) => s.id)).not.toContain(id);
  });

  it('signs every sample with the metering secret', () => {
    for (const sample of mapperWith().map(novaNotification('compute.instance.create.end'))) {
      expect(verifySampleSignature(sample, SECRET)).toBe(true);
      expect(verifySampleSignature(sample, 'not-the-metering-secret')).toBe(false);
    }
  });

  it('accepts a volume given as a numeric string, as Python float() reads it', () => {
    const samples = byName(mapperWith().map(novaNotification('compute.instance.exists', {}, { vcpus: ' 4 ', memory_mb: '1_024', root_gb: '2e1' })));
    expect([samples.vcpus?.volume, samples.memory?.volume, samples['disk.root.size']?.volume]).toEqual([4, 1024, 20]);
  });

  it.each<[string, Record<string, unknown>]>([
    ['missing', { vcpus: undefined }],
    ['null', { vcpus: null }],
    ['not a number', { vcpus: 'two' }],
    ['an empty string', { vcpus: '' }],
    ['not finite', { vcpus: 'inf' }],
  ])('drops only the sample whose volume is %s, and says why', (_what, payload) => {
    const drops: DroppedSample[] = [];
    const samples = mapperWith({ onDrop: (d) => drops.push(d) }).map(novaNotification('compute.instance.exists', {}, payload));
    expect(names(samples)).toEqual(['instance', 'memory', 'disk.root.size', 'disk.ephemeral.size']);
    expect(drops).toEqual([{ meter: 'vcpus', message_id: '0c6e1a4e-8f0b-4a53-9b5f-2f6a3d1c7e90', event_type: 'compute.instance.exists', reason: expect.stringMatching(/volume/) }]);
  });

  it('refuses the whole notification when a volume is a mapping (CUMULUS_COLLECTOR_BAD_VOLUME), as Ceilometer loses it', () => {
    const err = refusal(() => mapperWith().map(novaNotification('compute.instance.exists', {}, { memory_mb: { mb: 1 } })));
    expect(err.code).toBe(MAPPING_ERROR_CODES.badVolume);
    expect(err.message).toContain('memory');
  });

  it('drops a sample without a resource id (Ceilometer would emit one with None)', () => {
    const drops: DroppedSample[] = [];
    expect(mapperWith({ onDrop: (d) => drops.push(d) }).map(novaNotification('compute.instance.exists', {}, { instance_id: undefined }))).toEqual([]);
    expect(drops.map((d) => d.reason)).toEqual(Array(5).fill('it has no resource_id'));
  });

  it('refuses an unreadable time with CUMULUS_COLLECTOR_BAD_TIMESTAMP, and writes times as Python does', () => {
    expect(refusal(() => mapperWith().map(novaNotification('compute.instance.exists', { timestamp: 'yesterday' }))).code).toBe(MAPPING_ERROR_CODES.badTimestamp);
    const at = (timestamp: string) => mapperWith().map(novaNotification('compute.instance.exists', { timestamp }))[0]?.timestamp;
    expect(at('2026-01-02 03:04:05.000000')).toBe('2026-01-02T03:04:05+00:00');
    expect(at('2026-01-02T03:04:05.5')).toBe('2026-01-02T03:04:05.500000+00:00');
    // Another zone: the same instant, in UTC.
    expect(at('2026-01-02T05:04:05+02:00')).toBe('2026-01-02T03:04:05+00:00');
  });

  it('takes user and project from the request context when the payload has none', () => {
    const s = mapperWith().map(novaNotification('compute.instance.exists', {}, { user_id: null, tenant_id: undefined }))[0] as Sample;
    expect([s.user_id, s.project_id]).toEqual(['context-user', 'context-project']);
    const strict = mapperWith({ contextFallback: false }).map(novaNotification('compute.instance.exists', {}, { user_id: null, tenant_id: undefined }))[0] as Sample;
    expect([strict.user_id, strict.project_id]).toEqual([null, null]);
  });

  it('copies metering.* user metadata, dots made underscores, long values cut, names metadata has left alone', () => {
    const user = { 'metering.stack': 's', 'metering.a.b': 'dotted', 'metering.long': 'é'.repeat(300), 'metering.host': 'shadowed', other: 'x' };
    const s = mapperWith().map(novaNotification('compute.instance.exists', {}, { metadata: user }))[0] as Sample;
    expect(s.resource_metadata.user_metadata).toEqual({ stack: 's', a_b: 'dotted', long: 'é'.repeat(256) });
    const reserved = mapperWith({ reservedMetadata: { namespaces: ['metering.'], keys: ['other'], maxLengthChars: 3 } }).map(novaNotification('compute.instance.exists', {}, { metadata: user }))[0] as Sample;
    expect(reserved.resource_metadata.user_metadata).toEqual({ stack: 's', a_b: 'dot', long: 'ééé', other: 'x' });
  });

  it('refuses user metadata that is not a mapping (CUMULUS_COLLECTOR_METER_FIELD_FAILED)', () => {
    expect(refusal(() => mapperWith().map(novaNotification('compute.instance.exists', {}, { metadata: ['metering.stack'] }))).code).toBe(MAPPING_ERROR_CODES.fieldFailed);
  });
});

describe('MeterMapper with the shipped meters.yaml: the other services', () => {
  it('names identity meters after the outcome', () => {
    const login = (outcome: string) => mapperWith().map(message('identity.authenticate', { outcome, initiator: { id: 'u-1' } }));
    expect(login('success')).toMatchObject([{ name: 'identity.authenticate.success', type: 'delta', unit: 'user', volume: 1, resource_id: 'u-1', user_id: 'u-1' }]);
    expect(names(login('failure'))).toEqual(['identity.authenticate.failure']);
  });

  it('gives one swift sample per measurement (lookup), and none for a request without any', () => {
    const request = (measurements: unknown[]) => message('objectstore.http.request', { measurements, target: { id: 'acct' }, initiator: { id: 'u', project_id: 'p' } });
    const samples = mapperWith().map(
      request([
        { result: 10, metric: { name: 'storage.objects.outgoing.bytes', unit: 'B' } },
        { result: 20, metric: { name: 'storage.objects.incoming.bytes', unit: 'B' } },
      ]),
    );
    expect(samples.map((s) => [s.name, s.unit, s.volume, s.resource_id, s.user_id, s.project_id])).toEqual([
      ['storage.objects.outgoing.bytes', 'B', 10, 'acct', 'u', 'p'],
      ['storage.objects.incoming.bytes', 'B', 20, 'acct', 'u', 'p'],
    ]);
    expect(mapperWith().map(request([]))).toEqual([]);
  });

  it('gives nothing for a lookup whose fields do not line up, and says why', () => {
    const drops: DroppedSample[] = [];
    const bay = message('magnum.bay.metrics.update', { resource_id: 'bay', metrics: [{ name: 'a', value: 1, unit: '%' }, { name: 'b', value: 2 }] });
    expect(mapperWith({ onDrop: (d) => drops.push(d) }).map(bay)).toEqual([]);
    expect(drops[0]?.reason).toMatch(/1 of the 2 values .* "unit"/);
  });

  it('reads hypervisor metrics by filter, multiplies percentages, and uses each metric time', () => {
    const metric = (name: string, value: number) => ({ name, value, timestamp: '2026-01-02T03:00:00.000000', source: 'libvirt.LibvirtDriver' });
    const samples = byName(mapperWith().map(message('compute.metrics.update', { host: 'h', nodename: 'n', metrics: [metric('cpu.frequency', 2400), metric('cpu.percent', 0.07)] })));
    expect(Object.keys(samples)).toEqual(['compute.node.cpu.frequency', 'compute.node.cpu.percent']);
    expect(samples['compute.node.cpu.percent']).toMatchObject({ volume: 7.000000000000001, unit: 'percent', resource_id: 'h_n', timestamp: '2026-01-02T03:00:00+00:00' });
    expect(samples['compute.node.cpu.frequency']?.resource_metadata).toEqual({ source: 'libvirt.LibvirtDriver', event_type: 'compute.metrics.update', host: 'svc.host-1' });
  });

  it('uses the payload as metadata when a definition has none (plus event_type and host)', () => {
    const [s] = mapperWith().map(message('image.upload', { id: 'img', owner: 'p', size: 4096, name: 'cirros' }));
    expect(s).toMatchObject({ name: 'image.size', volume: 4096, project_id: 'p', resource_metadata: { id: 'img', owner: 'p', size: 4096, name: 'cirros', event_type: 'image.upload', host: 'svc.host-1' } });
  });

  it('reads the pool provider with split(), and the volume attachment from either column', () => {
    const pool = byName(mapperWith().map(message('capacity.pool', { name_to_id: 'h@lvm#pool', total: 1, free: 1, allocated: 0, provisioned: 0, virtual_free: 1 })));
    expect(pool['volume.provider.pool.capacity.total']?.resource_metadata).toEqual({ provider: 'h@lvm' });
    const attached = mapperWith().map(message('volume.attach.end', { volume_id: 'v', size: 1, volume_attachment: [{ instance_uuid: 'vm-1' }] }));
    expect(attached[0]?.resource_metadata).toEqual({ instance_id: 'vm-1' });
  });

  it('refuses a volume notification whose attachments are null (an index into None fails in Ceilometer too)', () => {
    expect(refusal(() => mapperWith().map(message('volume.create.end', { volume_id: 'v', size: 1, volume_attachment: null }))).code).toBe(MAPPING_ERROR_CODES.fieldFailed);
  });
});

describe('MeterMapper with custom definitions', () => {
  const volumeYaml = `
metric:
  - name: volume.size
    event_type:
      - 'volume\\.create\\.end'
      - 'volume\\.resize\\.end'
    type: gauge
    unit: GB
    volume: $.payload.size
    resource_id: $.payload.volume_id
    project_id: $.payload.tenant_id
  - name: volume
    event_type: 'volume\\.create'
    type: gauge
    unit: volume
    volume: 1
    resource_id: $.payload.volume_id
    metadata:
      zone: $.payload.availability_zone
      first_attachment: $.payload.attachments[0].server_id
`;
  const volumeNotification = (eventType: string) => message(eventType, { volume_id: 'v-1', tenant_id: 'p-1', size: 10, availability_zone: 'nova', attachments: [{ server_id: 's-1' }] });

  it('uses a literal volume, a list of event_type patterns and a richer jsonpath', () => {
    const samples = custom(volumeYaml, { source: 'cinder-test' }).map(volumeNotification('volume.create.end'));
    expect(samples.map((s) => [s.name, s.volume, s.unit])).toEqual([
      ['volume.size', 10, 'GB'],
      ['volume', 1, 'volume'],
    ]);
    const volume = byName(samples).volume as Sample;
    expect(volume.resource_metadata).toEqual({ zone: 'nova', first_attachment: 's-1' });
    expect(volume.source).toBe('cinder-test');
    expect(volume.user_id).toBeNull();
    expect(volume.project_id).toBeNull();
    expect(volume.timestamp).toBe('2026-01-02T03:04:05+00:00');
  });

  it('anchors patterns at the start of the event type only, as re.match does', () => {
    const mapper = custom(volumeYaml);
    expect(names(mapper.map(volumeNotification('volume.resize.end')))).toEqual(['volume.size']);
    expect(mapper.map(volumeNotification('xvolume.create.end'))).toEqual([]);
    expect(mapper.map(volumeNotification('snapshot.volume.create.end'))).toEqual([]);
    expect(names(mapper.map(volumeNotification('volume.create.start')))).toEqual(['volume']);
    const alternation = custom(`metric:\n  - {name: m, event_type: 'a\\.end|b\\.end', type: delta, unit: x, volume: 1, resource_id: $.payload.id}\n`);
    expect(alternation.map(message('b.end', { id: 'r' }))).toHaveLength(1);
    expect(alternation.map(message('xb.end', { id: 'r' }))).toEqual([]);
  });

  it('lets a later definition of a name replace an earlier one', () => {
    const mapper = custom(`metric:
  - {name: m, event_type: e, type: gauge, unit: first, volume: 1, resource_id: $.payload.id}
  - {name: m, event_type: e, type: gauge, unit: second, volume: 2, resource_id: $.payload.id}
`);
    expect(mapper.map(message('e', { id: 'r' })).map((s) => [s.unit, s.volume])).toEqual([['second', 2]]);
  });

  it('takes name, unit and type from the payload with lookup, one sample per value', () => {
    const mapper = custom(`metric:
  - name: $.payload.m[*].n
    type: $.payload.m[*].t
    unit: $.payload.m[*].u
    volume: $.payload.m[*].v
    lookup: [name, type, unit, volume]
    event_type: e
    resource_id: $.payload.id
`);
    const samples = mapper.map(message('e', { id: 'r', m: [{ n: 'a', t: 'gauge', u: 'x', v: 1 }, { n: 'a', t: 'delta', u: 'y', v: '2' }, { n: 'b', t: 'nope', u: 'z', v: 3 }] }));
    expect(samples.map((s) => [s.name, s.type, s.unit, s.volume])).toEqual([
      ['a', 'gauge', 'x', 1],
      ['a', 'delta', 'y', 2],
    ]);
    // Same name and resource twice in one message: the ids still differ.
    expect(new Set(samples.map((s) => s.id)).size).toBe(2);
  });

  it('runs the timedelta, split and bitfield plugins', () => {
    const mapper = custom(`metric:
  - name: span
    event_type: e
    type: gauge
    unit: s
    volume: {fields: [$.payload.end, $.payload.start], plugin: timedelta}
    resource_id: {fields: $.payload.name, plugin: {name: split, parameters: {separator: '/', segment: -1}}}
    metadata:
      flags:
        fields: [$.payload.a, $.payload.b]
        plugin: {name: bitfield, parameters: {initial_bitfield: 1, flags: [{path: payload.a, bit: 1}, {path: payload.b, bit: 2, value: 'on'}]}}
`);
    const [s] = mapper.map(message('e', { start: '2026-01-01T00:00:00', end: '2026-01-01 00:01:30.5+00:00', name: 'a/b/c', a: 0, b: 'on' }));
    expect(s).toMatchObject({ volume: 90.5, resource_id: 'c', resource_metadata: { flags: 7 } });
  });

  it('reads the request context and the envelope under Ceilometer\'s names (ctxt, publisher_id, metadata.message_id)', () => {
    const mapper = custom(`metric:
  - name: m
    event_type: e
    type: gauge
    unit: u
    volume: 1
    resource_id: $.metadata.message_id
    user_id: $.ctxt.user_name
    metadata: {by: $.publisher_id, at: $.metadata.timestamp, kind: $.event_type, gone: $.priority}
`);
    const [s] = mapper.map(message('e', {}, { context: { user_name: 'alice' } }));
    expect(s).toMatchObject({ resource_id: 'm-1', user_id: 'alice', resource_metadata: { by: 'svc.host-1', at: '2026-01-02T03:04:05Z', kind: 'e' } });
  });
});
