import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_METERS_FILE, loadMeterDefinitions, parseMeterDefinitions } from './definitions.ts';
import { MeterDefinitionError } from './errors.ts';

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

const valid: Record<string, unknown> = { name: 'cpu', event_type: 'compute\\.metrics\\.update', type: 'cumulative', unit: 'ns', volume: '$.payload.cpu', resource_id: '$.payload.id' };
const yamlOf = (...meters: Array<Record<string, unknown>>) => `metric:\n${meters.map((m) => `  - ${JSON.stringify(m)}\n`).join('')}`;

describe('parseMeterDefinitions', () => {
  it('loads the shipped file: Ceilometer 19\'s meters, and instance', () => {
    const defs = loadMeterDefinitions(DEFAULT_METERS_FILE);
    expect(defs).toHaveLength(39);
    expect(defs.slice(0, 6).map((d) => d.name)).toEqual(['instance', 'vcpus', 'memory', 'disk.root.size', 'disk.ephemeral.size', 'compute.instance.booting.time']);
    expect(defs.filter((d) => d.lookup).map((d) => d.lookup)).toEqual([
      ['name', 'unit', 'volume'],
      ['name', 'unit', 'volume'],
    ]);
  });

  it('reads YAML as PyYAML does: merge keys and aliases', () => {
    const [, second] = parseMeterDefinitions(
      `metric:
  - {name: a, event_type: e, type: gauge, unit: u, volume: 1, resource_id: $.payload.id, metadata: &meta {x: $.payload.x}}
  - name: b
    event_type: e
    type: gauge
    unit: u
    volume: 1
    resource_id: $.payload.id
    metadata:
      <<: *meta
      y: $.payload.y
`,
      'merge.yaml',
    );
    expect(second?.metadata.map(([k, f]) => [k, f.source])).toEqual([
      ['x', '$.payload.x'],
      ['y', '$.payload.y'],
    ]);
  });

  it.each(['name', 'event_type', 'type', 'unit', 'volume', 'resource_id'])('refuses a meter without %s, naming the meter and the field', (field) => {
    const { [field]: _dropped, ...meter } = valid;
    const err = definitionError(yamlOf(meter));
    expect(err.message).toContain(`"${field}"`);
    expect(err.message).toContain('test-meters.yaml');
    if (field !== 'name') expect(err.message).toContain('(cpu)');
  });

  it('counts a zero volume as missing, as Ceilometer does', () => {
    expect(definitionError(yamlOf({ ...valid, volume: 0 })).message).toContain('"volume"');
  });

  it('refuses an unknown type unless a lookup supplies it', () => {
    const err = definitionError(yamlOf({ ...valid, type: 'counter' }));
    expect(err.message).toContain('(cpu)');
    expect(err.message).toMatch(/gauge, delta, cumulative/);
    expect(parseMeterDefinitions(yamlOf({ ...valid, type: '$.payload.t', lookup: ['type'] }), 'x.yaml')).toHaveLength(1);
  });

  it('refuses an event_type that is not a regular expression, naming the meter', () => {
    const err = definitionError(yamlOf({ ...valid, event_type: 'compute.(instance' }));
    expect(err.message).toContain('(cpu)');
    expect(err.message).toContain('compute.(instance');
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['metadata that is not a mapping', { metadata: ['host'] }, /metadata must be a mapping/],
    ['a jsonpath that does not parse', { volume: '$.payload.x / 2' }, /volume: jsonpath/],
    ['a float literal (neither an int nor a jsonpath)', { volume: 1.5 }, /volume: expected a jsonpath/],
    ['a null metadata entry', { metadata: { host: null } }, /metadata.host/],
    ['a field mapping without fields', { volume: { plugin: 'timedelta' } }, /needs "fields"/],
    ['an unknown plugin', { volume: { fields: '$.payload.a', plugin: 'magic' } }, /no plugin named "magic"/],
    ['a plugin without a name', { volume: { fields: '$.payload.a', plugin: { parameters: {} } } }, /without a name/],
    ['a literal in a lookup definition', { name: '$.payload.n', lookup: ['name'], volume: 1 }, /literal value cannot be used/],
    ['a single-value plugin in a lookup definition', { name: '$.payload.n', lookup: 'name', volume: { fields: ['$.payload.a', '$.payload.b'], plugin: 'timedelta' } }, /cannot give the several values/],
    ['an unknown named operator', { resource_id: '$.payload.id.`upper`' }, /unknown named operator/],
    ['a bad split()', { resource_id: '$.payload.id.`split(#,0,1)`' }, /is not valid/],
  ])('refuses %s, naming the meter and the field', (_what, change, pattern) => {
    const err = definitionError(yamlOf({ ...valid, ...change }));
    expect(err.message).toContain('(');
    expect(err.message).toMatch(pattern);
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
});

describe('loadMeterDefinitions', () => {
  it('refuses a missing file with the definition code', () => {
    expect(() => loadMeterDefinitions('/nonexistent/meters.yaml')).toThrow(expect.objectContaining({ code: 'CUMULUS_COLLECTOR_METER_DEFINITION_INVALID' }));
  });

  it('reads a directory like Ceilometer\'s meters.d: *.yaml in name order, the first definition of a name winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meters-d-'));
    try {
      writeFileSync(join(dir, '20-extra.yaml'), yamlOf({ ...valid, unit: 'from-20' }, { ...valid, name: 'other' }));
      writeFileSync(join(dir, '10-base.yaml'), yamlOf({ ...valid, unit: 'from-10' }));
      writeFileSync(join(dir, 'notes.txt'), 'not definitions');
      const defs = loadMeterDefinitions(dir);
      expect(defs.map((d) => [d.name, d.unit])).toEqual([
        ['cpu', 'from-10'],
        ['other', 'ns'],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
