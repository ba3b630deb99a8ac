import { describe, expect, it } from 'vitest';
import { verifySampleSignature, type Sample } from '../../core/index.ts';
import { MalformedNotificationError, type Notification } from '../notifications/envelope.ts';
import { DEFAULT_METERS_FILE, loadMeterDefinitions, parseMeterDefinitions } from './definitions.ts';
import { MeterDefinitionError } from './errors.ts';
import { MeterMapper } from './mapper.ts';

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
    context: { request_id: 'req-1', user_id: USER, project_id: PROJECT },
    payload: {
      tenant_id: PROJECT,
      user_id: USER,
      instance_id: INSTANCE,
      display_name: 'web-1',
      reservation_id: 'r-1a2b3c4d',
      hostname: 'web-1',
      instance_type: 'm1.small',
      instance_type_id: '2',
      instance_flavor_id: '2',
      memory_mb: 2048,
      disk_gb: 20,
      root_gb: 20,
      ephemeral_gb: 0,
      vcpus: 1,
      host: 'compute-2',
      node: 'compute-2',
      availability_zone: 'nova',
      state: 'active',
      state_description: '',
      created_at: '2026-01-02 03:04:00.000000+00:00',
      launched_at: '2026-01-02 03:04:05.000000+00:00',
      terminated_at: '',
      deleted_at: '',
      image_ref_url: `/image/v2/images/${IMAGE}`,
      image_meta: { base_image_ref: IMAGE, min_disk: '20' },
      metadata: {},
      fixed_ips: [],
      ...payload,
    },
    ...overrides,
  };
}

const defaultMapper = () => new MeterMapper(loadMeterDefinitions(DEFAULT_METERS_FILE), SECRET);
const byName = (samples: Sample[]) => Object.fromEntries(samples.map((s) => [s.name, s]));

function definitionError(yaml: string): MeterDefinitionError {
  try {
    parseMeterDefinitions(yaml, 'test-meters.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(MeterDefinitionError);
    expect((err as MeterDefinitionError).code).toBe('CUMULUS_COLLECTOR_METER_DEFINITION_INVALID');
    return err as MeterDefinitionError;
  }
  throw new Error('expected parseMeterDefinitions to throw');
}

describe('MeterMapper with the shipped meters.yaml', () => {
  it('maps compute.instance.create.end to exactly instance, vcpus and memory', () => {
    const samples = defaultMapper().map(novaNotification('compute.instance.create.end'));
    expect(samples.map((s) => s.name).sort()).toEqual(['instance', 'memory', 'vcpus']);
    const { instance, vcpus, memory } = byName(samples) as Record<string, Sample>;

    const metadata = {
      host: 'compute-2',
      flavor_id: '2',
      flavor_name: 'm1.small',
      display_name: 'web-1',
      image_ref: IMAGE,
      launched_at: '2026-01-02 03:04:05.000000+00:00',
      created_at: '2026-01-02 03:04:00.000000+00:00',
      deleted_at: '',
      state: 'active',
      event_type: 'compute.instance.create.end',
    };
    const common = {
      user_id: USER,
      project_id: PROJECT,
      resource_id: INSTANCE,
      timestamp: '2026-01-02T03:04:05.123456+00:00',
      source: 'openstack',
      message_id: '0c6e1a4e-8f0b-4a53-9b5f-2f6a3d1c7e90',
      resource_metadata: metadata,
    };
    expect(instance).toMatchObject({ ...common, name: 'instance', type: 'gauge', unit: 'instance', volume: 1 });
    expect(vcpus).toMatchObject({ ...common, name: 'vcpus', type: 'gauge', unit: 'vcpu', volume: 1 });
    expect(memory).toMatchObject({ ...common, name: 'memory', type: 'gauge', unit: 'MB', volume: 2048 });
    expect(instance?.resource_metadata).toEqual(metadata);
  });

  it.each([['compute.instance.create.start'], ['compute.instance.update'], ['compute.instance.update.end'], ['image.upload'], ['scheduler.select_destinations.end']])(
    'gives no samples for %s',
    (eventType) => {
      expect(defaultMapper().map(novaNotification(eventType))).toEqual([]);
    },
  );

  it.each([['compute.instance.delete.end'], ['compute.instance.exists'], ['compute.instance.create.error']])('meters %s', (eventType) => {
    expect(defaultMapper().map(novaNotification(eventType)).map((s) => s.name).sort()).toEqual(['instance', 'memory', 'vcpus']);
  });

  it('gives the same sample ids for the same message, and distinct ids across meters', () => {
    const first = defaultMapper().map(novaNotification('compute.instance.create.end'));
    const second = defaultMapper().map(novaNotification('compute.instance.create.end'));
    expect(second.map((s) => s.id)).toEqual(first.map((s) => s.id));
    expect(new Set(first.map((s) => s.id)).size).toBe(3);
    const other = defaultMapper().map(novaNotification('compute.instance.create.end', { message_id: 'another-message' }));
    for (const id of other.map((s) => s.id)) expect(first.map((s) => s.id)).not.toContain(id);
  });

  it('signs every sample with the metering secret', () => {
    for (const sample of defaultMapper().map(novaNotification('compute.instance.create.end'))) {
      expect(verifySampleSignature(sample, SECRET)).toBe(true);
      expect(verifySampleSignature(sample, 'not-the-metering-secret')).toBe(false);
    }
  });

  it('falls back to the publisher for host when the payload has none', () => {
    const samples = defaultMapper().map(novaNotification('compute.instance.create.end', {}, { host: undefined }));
    expect(samples[0]?.resource_metadata.host).toBe('compute.compute-2');
  });

  it('accepts a volume given as a numeric string', () => {
    const samples = defaultMapper().map(novaNotification('compute.instance.create.end', {}, { vcpus: '4' }));
    expect(byName(samples).vcpus?.volume).toBe(4);
  });

  it.each<[string, Record<string, unknown>]>([
    ['missing', { vcpus: undefined }],
    ['null', { vcpus: null }],
    ['not a number', { vcpus: 'two' }],
    ['an empty string', { vcpus: '' }],
  ])('refuses the whole message when a volume is %s (CUMULUS_COLLECTOR_MISSING_FIELD)', (_what, payload) => {
    const map = () => defaultMapper().map(novaNotification('compute.instance.create.end', {}, payload));
    expect(map).toThrow(MalformedNotificationError);
    expect(map).toThrow(/vcpus/);
    try {
      map();
    } catch (err) {
      expect((err as MalformedNotificationError).code).toBe('CUMULUS_COLLECTOR_MISSING_FIELD');
    }
  });

  it('refuses a message without a resource id (CUMULUS_COLLECTOR_MISSING_FIELD)', () => {
    expect(() => defaultMapper().map(novaNotification('compute.instance.create.end', {}, { instance_id: undefined }))).toThrow(
      expect.objectContaining({ code: 'CUMULUS_COLLECTOR_MISSING_FIELD' }),
    );
  });

  it('refuses an unreadable timestamp with CUMULUS_COLLECTOR_BAD_TIMESTAMP', () => {
    expect(() => defaultMapper().map(novaNotification('compute.instance.create.end', { timestamp: 'yesterday' }))).toThrow(
      expect.objectContaining({ code: 'CUMULUS_COLLECTOR_BAD_TIMESTAMP' }),
    );
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
  const mapper = () => new MeterMapper(parseMeterDefinitions(volumeYaml, 'volumes.yaml'), SECRET, 'cinder-test');
  const volumeNotification = (eventType: string): Notification => ({
    message_id: 'm-vol',
    publisher_id: 'volume.host1',
    event_type: eventType,
    priority: 'INFO',
    timestamp: '2026-01-02T03:04:05Z',
    context: {},
    payload: { volume_id: 'v-1', tenant_id: 'p-1', size: 10, availability_zone: 'nova', attachments: [{ server_id: 's-1' }] },
  });

  it('uses a literal volume, a list of event_type patterns and a richer jsonpath', () => {
    const samples = mapper().map(volumeNotification('volume.create.end'));
    expect(samples.map((s) => [s.name, s.volume, s.unit])).toEqual([
      ['volume.size', 10, 'GB'],
      ['volume', 1, 'volume'],
    ]);
    const volume = byName(samples).volume as Sample;
    expect(volume.resource_metadata).toMatchObject({ zone: 'nova', first_attachment: 's-1', event_type: 'volume.create.end', host: 'volume.host1' });
    expect(volume.source).toBe('cinder-test');
    expect(volume.user_id).toBeNull();
    expect(volume.project_id).toBeNull();
    expect(volume.timestamp).toBe('2026-01-02T03:04:05+00:00');
  });

  it('matches every pattern of a list', () => {
    expect(mapper().map(volumeNotification('volume.resize.end')).map((s) => s.name)).toEqual(['volume.size']);
  });

  it('anchors patterns at the start of the event type', () => {
    expect(mapper().map(volumeNotification('xvolume.create.end'))).toEqual([]);
    expect(mapper().map(volumeNotification('snapshot.volume.create.end'))).toEqual([]);
    // Anchored at the start only, as Python's re.match: a longer event type still matches.
    expect(mapper().map(volumeNotification('volume.create.start')).map((s) => s.name)).toEqual(['volume']);
  });

  it('anchors every branch of an alternation', () => {
    const defs = parseMeterDefinitions(
      `metric:\n  - {name: m, event_type: 'a\\.end|b\\.end', type: delta, unit: x, volume: 1, resource_id: $.payload.id}\n`,
      'alt.yaml',
    );
    const m = new MeterMapper(defs, SECRET);
    const n = (eventType: string): Notification => ({ ...volumeNotification(eventType), payload: { id: 'r' } });
    expect(m.map(n('b.end'))).toHaveLength(1);
    expect(m.map(n('xb.end'))).toEqual([]);
  });
});

describe('parseMeterDefinitions', () => {
  const valid: Record<string, unknown> = { name: 'cpu', event_type: 'compute\\.metrics\\.update', type: 'cumulative', unit: 'ns', volume: '$.payload.cpu', resource_id: '$.payload.id' };
  const yamlOf = (meter: Record<string, unknown>) => `metric:\n  - ${JSON.stringify(meter)}\n`;

  it('parses the shipped file', () => {
    const defs = loadMeterDefinitions(DEFAULT_METERS_FILE);
    expect(defs.map((d) => d.name)).toEqual(['instance', 'vcpus', 'memory']);
  });

  it.each(['name', 'event_type', 'type', 'unit', 'volume', 'resource_id'])('refuses a meter without %s, naming the meter and the field', (field) => {
    const { [field]: _dropped, ...meter } = valid;
    const err = definitionError(yamlOf(meter));
    expect(err.message).toContain(`"${field}"`);
    expect(err.message).toContain('test-meters.yaml');
    if (field !== 'name') expect(err.message).toContain('(cpu)');
  });

  it('refuses an unknown type, naming the meter', () => {
    const err = definitionError(yamlOf({ ...valid, type: 'counter' }));
    expect(err.message).toContain('(cpu)');
    expect(err.message).toContain('counter');
    expect(err.message).toMatch(/gauge, delta, cumulative/);
  });

  it('refuses an event_type that is not a regular expression, naming the meter', () => {
    const err = definitionError(yamlOf({ ...valid, event_type: 'compute.(instance' }));
    expect(err.message).toContain('(cpu)');
    expect(err.message).toContain('compute.(instance');
  });

  it('refuses metadata that is not a mapping', () => {
    const err = definitionError(yamlOf({ ...valid, metadata: ['host'] }));
    expect(err.message).toContain('(cpu)');
    expect(err.message).toContain('metadata');
  });

  it.each([['meters: []\n'], ['metric: {name: cpu}\n'], ['- name: cpu\n'], ['']])('refuses %j: not a metric list', (text) => {
    expect(definitionError(text).message).toContain('metric:');
  });

  it('refuses a list entry that is not a mapping', () => {
    expect(definitionError('metric:\n  - cpu\n').message).toContain('metric[0]');
  });

  it('refuses text that is not YAML', () => {
    definitionError('metric: [\n');
  });

  it('refuses a missing file with the same code', () => {
    expect(() => loadMeterDefinitions('/nonexistent/meters.yaml')).toThrow(expect.objectContaining({ code: 'CUMULUS_COLLECTOR_METER_DEFINITION_INVALID' }));
  });
});
