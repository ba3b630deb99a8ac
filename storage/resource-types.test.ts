import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  BUILTIN_RESOURCE_TYPES,
  ResourceError,
  builtinResourceType,
  clickHouseTime,
  coerceAttributeValue,
  effectiveAttributes,
  isoFromMicros,
  normalizeUuid,
  parseAttributeDefinition,
  parseResourceTypeDefinition,
  parseTimestampMicros,
  resourceTypeView,
  validateAttributes,
  type ResourceType,
} from './resource-types.ts';

/** Debian's interpreter, which has Gnocchi 4.4 and Ceilometer 19 installed. */
const PYTHON = '/usr/bin/python3';

function runPython<T>(script: string, input: unknown): T {
  const result = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONWARNINGS: 'ignore' } });
  if (result.error) throw new Error(`cannot run ${PYTHON}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`python failed (${result.status}): ${result.stderr.slice(-3000)}`);
  return JSON.parse(result.stdout) as T;
}

/** Ceilometer's gnocchi_client types after every update operation, read from its source (no import: it needs a Gnocchi server). */
const CEILOMETER_TYPES = `
import ast, json, copy
tree = ast.parse(open('/usr/lib/python3/dist-packages/ceilometer/gnocchi_client.py').read())
values = {}
for node in tree.body:
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id in ('resources_initial', 'resources_update_operations'):
        values[node.targets[0].id] = ast.literal_eval(node.value)
types = copy.deepcopy(values['resources_initial'])
for op in values['resources_update_operations']:
    if op['type'] == 'create_resource_type':
        types.setdefault(op['resource_type'], op['data'][0]['attributes'])
    else:
        for patch in op['data']:
            name = patch['path'].replace('/attributes/', '')
            if patch['op'] == 'add':
                value = dict(patch['value']); value.pop('options', None)
                types[op['resource_type']][name] = value
            else:
                types[op['resource_type']].pop(name, None)
print(json.dumps(types))
`;

/** Gnocchi's own schema checks: type definitions (create and update form) and attribute values. */
const GNOCCHI_CHECKS = `
import json, sys, datetime, uuid, voluptuous
from gnocchi.indexer import sqlalchemy_base as base
from gnocchi import resource_type as rt
manager = base.RESOURCE_TYPE_SCHEMA_MANAGER
req = json.load(sys.stdin)
def plain(v):
    if isinstance(v, datetime.datetime): return v.isoformat()
    if isinstance(v, uuid.UUID): return str(v)
    return v
out = {'definitions': [], 'values': []}
for d in req['definitions']:
    try:
        body = manager.for_update(d['body']) if d['forUpdate'] else manager(d['body'])
        t = manager.resource_type_from_dict(body['name'], body['attributes'], 'active')
        out['definitions'].append({'ok': True, 'view': t.jsonify(), 'fills': {a.name: plain(a.fill) for a in t.attributes}})
    except (voluptuous.Error, rt.InvalidResourceAttribute) as e:
        out['definitions'].append({'ok': False, 'error': str(e)})
for v in req['values']:
    t = manager.resource_type_from_dict('t', manager({'name': 't', 'attributes': v['attributes']})['attributes'], 'active')
    try:
        got = voluptuous.Schema(t.schema, required=True)(v['value'])
        out['values'].append({'ok': True, 'value': {k: plain(x) for k, x in got.items()}})
    except voluptuous.Error as e:
        out['values'].append({'ok': False, 'error': str(e)})
print(json.dumps(out))
`;

describe('built-in resource types', () => {
  it('are exactly the types Ceilometer 19 creates in Gnocchi, plus generic', () => {
    const ceilometer = runPython<Record<string, Record<string, unknown>>>(CEILOMETER_TYPES, {});
    const ours = Object.fromEntries(BUILTIN_RESOURCE_TYPES.filter((t) => t.name !== 'generic' && t.name !== 'resource_provider').map((t) => [t.name, resourceTypeView(t).attributes]));
    // Gnocchi fills the schema defaults in (min/max for numbers); compare in its form.
    const withDefaults = Object.fromEntries(
      Object.entries(ceilometer).map(([name, attributes]) => [
        name,
        Object.fromEntries(Object.entries(attributes).map(([a, d]) => [a, (d as { type: string }).type === 'number' ? { min: null, max: null, ...(d as object) } : d])),
      ]),
    );
    expect(ours).toEqual(withDefaults);
    expect(builtinResourceType('generic')?.attributes).toEqual({});
    expect(builtinResourceType('instance')?.attributes.flavor_name).toMatchObject({ type: 'string', required: true, max_length: 255 });
  });
});

describe('type definitions, as Gnocchi checks them', () => {
  const cases: Array<{ body: unknown; forUpdate: boolean }> = [
    { body: { name: 'rack', attributes: { slot: { type: 'number', min: 1, max: 42 }, label: { type: 'string', min_length: 2, max_length: 8, required: false } } }, forUpdate: false },
    { body: { name: 'rack', attributes: { on: { type: 'bool' }, owner: { type: 'uuid', required: false }, since: { type: 'datetime' } } }, forUpdate: false },
    { body: { name: 'rack', attributes: {} }, forUpdate: false },
    { body: { name: 'rack', attributes: { label: { type: 'string', min_length: 9, max_length: 8 } } }, forUpdate: false },
    { body: { name: 'rack', attributes: { label: { type: 'string', max_length: 256 } } }, forUpdate: false },
    { body: { name: 'rack', attributes: { label: { type: 'string', max_length: 0 } } }, forUpdate: false },
    { body: { name: 'rack', attributes: { slot: { type: 'number', min: 5, max: 1 } } }, forUpdate: false },
    { body: { name: 'rack', attributes: { slot: { type: 'integer' } } }, forUpdate: false },
    { body: { name: 'rack', attributes: { slot: { type: 'bool', min_length: 1 } } }, forUpdate: false },
    { body: { name: 'rack', attributes: { project_id: { type: 'string' } } }, forUpdate: false },
    { body: { name: 'rack', attributes: { _x: { type: 'string' } } }, forUpdate: false },
    { body: { name: 'rack', attributes: { ['a'.repeat(64)]: { type: 'string' } } }, forUpdate: false },
    { body: { name: 'rack', attributes: { on: { type: 'bool', required: 'yes' } } }, forUpdate: false },
    // options: only in the update form; fill required for a required attribute, and typed.
    { body: { name: 'rack', attributes: { zone: { type: 'string', options: { fill: 'a' } } } }, forUpdate: false },
    { body: { name: 'rack', attributes: { zone: { type: 'string', options: { fill: 'a' } } } }, forUpdate: true },
    { body: { name: 'rack', attributes: { zone: { type: 'string' } } }, forUpdate: true },
    { body: { name: 'rack', attributes: { zone: { type: 'string', required: false } } }, forUpdate: true },
    { body: { name: 'rack', attributes: { zone: { type: 'string', options: { fill: 3 } } } }, forUpdate: true },
    { body: { name: 'rack', attributes: { owner: { type: 'uuid', options: { fill: '5A301761F2A44BA6B5CE5C2FD64C0C39' } } } }, forUpdate: true },
    { body: { name: 'rack', attributes: { since: { type: 'datetime', options: { fill: '2024-05-01T10:00:00Z' } } } }, forUpdate: true },
    { body: { name: 'rack', attributes: { slot: { type: 'number', max: 10, options: { fill: 11 } } } }, forUpdate: true },
  ];

  const ours = (c: { body: unknown; forUpdate: boolean }) => {
    try {
      if (!c.forUpdate) {
        const parsed = parseResourceTypeDefinition(c.body);
        return { ok: true, view: resourceTypeView({ ...parsed, state: 'active', generation: 0 }), fills: Object.fromEntries(Object.entries(parsed.attributes).map(([n, a]) => [n, a.fill ?? null])) };
      }
      const body = c.body as { name: string; attributes: Record<string, unknown> };
      const attributes = Object.fromEntries(Object.entries(body.attributes).map(([n, raw]) => [n, parseAttributeDefinition(n, raw, { forUpdate: true, since: 1 })]));
      return { ok: true, view: resourceTypeView({ name: body.name, state: 'active', generation: 1, attributes }), fills: Object.fromEntries(Object.entries(attributes).map(([n, a]) => [n, a.fill ?? null])) };
    } catch (err) {
      expect(err).toBeInstanceOf(ResourceError);
      expect((err as ResourceError).code).toBe('CUMULUS_PIPELINE_RESOURCE_TYPE_INVALID');
      expect((err as ResourceError).httpStatus).toBe(400);
      return { ok: false, error: (err as Error).message };
    }
  };

  it('accepts and refuses what Gnocchi 4.4 does, with the same defaults and fills', () => {
    const gnocchi = runPython<{ definitions: Array<{ ok: boolean; view?: unknown; fills?: unknown; error?: string }> }>(GNOCCHI_CHECKS, { definitions: cases, values: [] });
    cases.forEach((c, i) => {
      const theirs = gnocchi.definitions[i] as { ok: boolean; view?: unknown; fills?: unknown; error?: string };
      const mine = ours(c);
      expect({ case: i, ok: mine.ok }).toEqual({ case: i, ok: theirs.ok });
      if (theirs.ok) {
        expect(mine.view).toEqual(theirs.view);
        expect(mine.fills).toEqual(theirs.fills);
      }
    });
    // Sanity: the cases cover both outcomes.
    expect(gnocchi.definitions.filter((d) => d.ok).length).toBeGreaterThan(4);
    expect(gnocchi.definitions.filter((d) => !d.ok).length).toBeGreaterThan(8);
  });

  it('says what was expected and what came', () => {
    expect(() => parseResourceTypeDefinition({ name: 'rack', attributes: { slot: { type: 'integer' } } })).toThrow(/type: expected one of string, number, bool, uuid, datetime, got a string \("integer"\)/);
    expect(() => parseResourceTypeDefinition({ name: 'bad name', attributes: {} })).toThrow(/resource type name: expected .* got a string \("bad name"\)/);
    expect(() => parseAttributeDefinition('zone', { type: 'string' }, { forUpdate: true, since: 1 })).toThrow(/must not be empty if required=True/);
  });
});

describe('attribute values', () => {
  const values: Array<{ attributes: Record<string, unknown>; value: Record<string, unknown> }> = [
    { attributes: { s: { type: 'string', min_length: 1, max_length: 3 } }, value: { s: 'abc' } },
    { attributes: { s: { type: 'string', min_length: 1, max_length: 3 } }, value: { s: 'abcd' } },
    { attributes: { s: { type: 'string', min_length: 1, max_length: 3 } }, value: { s: '' } },
    { attributes: { s: { type: 'string', max_length: 3 } }, value: { s: 'ééé' } },
    { attributes: { s: { type: 'string' } }, value: { s: 7 } },
    { attributes: { s: { type: 'string' } }, value: {} },
    { attributes: { s: { type: 'string', required: false } }, value: {} },
    { attributes: { n: { type: 'number', min: 0, max: 10 } }, value: { n: 10 } },
    { attributes: { n: { type: 'number', min: 0, max: 10 } }, value: { n: 10.5 } },
    { attributes: { n: { type: 'number' } }, value: { n: '3' } },
    { attributes: { b: { type: 'bool' } }, value: { b: false } },
    { attributes: { b: { type: 'bool' } }, value: { b: 'true' } },
    { attributes: { u: { type: 'uuid' } }, value: { u: '{5A301761-F2A4-4BA6-B5CE-5C2FD64C0C39}' } },
    { attributes: { u: { type: 'uuid' } }, value: { u: 'urn:uuid:5a301761f2a44ba6b5ce5c2fd64c0c39' } },
    { attributes: { u: { type: 'uuid' } }, value: { u: 'not-a-uuid' } },
    { attributes: { d: { type: 'datetime' } }, value: { d: '2024-05-01T10:00:00.250Z' } },
    { attributes: { d: { type: 'datetime' } }, value: { d: '2024-05-01T12:00:00+02:00' } },
    { attributes: { d: { type: 'datetime' } }, value: { d: '2024-05-01' } },
    { attributes: { d: { type: 'datetime' } }, value: { d: 1714557600 } },
    { attributes: { d: { type: 'datetime' } }, value: { d: '1714557600.5' } },
    { attributes: { d: { type: 'datetime' } }, value: { d: '1969-12-31T00:00:00Z' } },
    { attributes: { d: { type: 'datetime' } }, value: { d: 'yesterday-ish' } },
    { attributes: { d: { type: 'datetime' } }, value: { d: '2024-13-01T00:00:00' } },
  ];

  it('are accepted, normalised and refused as Gnocchi 4.4 does', () => {
    const gnocchi = runPython<{ values: Array<{ ok: boolean; value?: Record<string, unknown> }> }>(GNOCCHI_CHECKS, { definitions: [], values });
    values.forEach((v, i) => {
      const type: ResourceType = { ...parseResourceTypeDefinition({ name: 't', attributes: v.attributes }), state: 'active', generation: 0 };
      const { error: _reason, ...theirs } = gnocchi.values[i] as { ok: boolean; value?: Record<string, unknown>; error?: string };
      let mine: { ok: boolean; value?: Record<string, unknown> };
      try {
        mine = { ok: true, value: validateAttributes(type, v.value) };
      } catch (err) {
        expect((err as ResourceError).httpStatus).toBe(400);
        mine = { ok: false };
      }
      expect({ case: i, ...mine }).toEqual({ case: i, ...theirs });
    });
  });

  it('refuses with typed errors naming the attribute, the expectation and the value', () => {
    const instance = builtinResourceType('instance') as ResourceType;
    const full = { flavor_id: '2', host: 'compute-1', display_name: 'vm', flavor_name: 'm1.small' };
    expect(validateAttributes(instance, { ...full, launched_at: '2024-05-01T10:00:00Z' })).toEqual({ ...full, launched_at: '2024-05-01T10:00:00+00:00' });
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return [(err as ResourceError).code, (err as ResourceError).httpStatus, (err as Error).message];
      }
      return null;
    };
    expect(code(() => validateAttributes(instance, { ...full, flavour: 'x' }))).toEqual(['CUMULUS_PIPELINE_RESOURCE_ATTRIBUTE_UNKNOWN', 400, expect.stringMatching(/^Resource type instance has no flavour attribute; expected one of flavor_id, /)]);
    expect(code(() => validateAttributes(instance, { host: 'h' }))).toEqual(['CUMULUS_PIPELINE_RESOURCE_ATTRIBUTE_REQUIRED', 400, expect.stringMatching(/^Attribute flavor_id of resource type instance is required: expected a string of 0 to 255 characters, got nothing/)]);
    expect(code(() => validateAttributes(instance, { host: 42 }, { partial: true }))).toEqual(['CUMULUS_PIPELINE_RESOURCE_ATTRIBUTE_INVALID', 400, 'Value a number (42) for attribute host on resource type instance is invalid: expected a string of 0 to 255 characters']);
    // A partial update checks only what it carries.
    expect(validateAttributes(instance, { image_ref: null }, { partial: true })).toEqual({ image_ref: null });
  });

  it('coerces observed values only where the meaning is plain', () => {
    const text = { type: 'string', required: true, min_length: 0, max_length: 5, since: 0 } as const;
    expect(coerceAttributeValue(text, 42)).toEqual({ ok: true, value: '42' });
    expect(coerceAttributeValue(text, 'toolong')).toMatchObject({ ok: false });
    expect(coerceAttributeValue(text, { a: 1 })).toMatchObject({ ok: false });
    expect(coerceAttributeValue({ type: 'number', required: true, min: null, max: null, since: 0 }, '2.5')).toEqual({ ok: true, value: 2.5 });
    expect(coerceAttributeValue({ type: 'bool', required: true, since: 0 }, 'TRUE')).toEqual({ ok: true, value: true });
    expect(coerceAttributeValue({ type: 'uuid', required: true, since: 0 }, 'instance-1')).toMatchObject({ ok: false, expected: 'a UUID' });
  });
});

describe('attribute generations and fills', () => {
  const type: ResourceType = {
    name: 'rack',
    state: 'active',
    generation: 2,
    attributes: {
      label: { type: 'string', required: true, min_length: 0, max_length: 255, since: 0 },
      zone: { type: 'string', required: true, min_length: 0, max_length: 255, since: 1, fill: 'z0' },
      tier: { type: 'number', required: false, min: null, max: null, since: 2 },
    },
  };

  it('reads rows written before an attribute existed as its fill, and never a stale value', () => {
    // Written at generation 0, with a `zone` from an earlier definition that was removed since.
    expect(effectiveAttributes(type, { label: 'a', zone: 'stale', gone: 1 }, 0)).toEqual({ label: 'a', zone: 'z0', tier: null });
    expect(effectiveAttributes(type, { label: 'a', zone: 'z9' }, 1)).toEqual({ label: 'a', zone: 'z9', tier: null });
    expect(effectiveAttributes(type, { label: 'a', tier: 3 }, 2)).toEqual({ label: 'a', zone: null, tier: 3 });
  });
});

describe('uuids and timestamps', () => {
  it('normalise as Python does', () => {
    expect(normalizeUuid('5A301761F2A44BA6B5CE5C2FD64C0C39')).toBe('5a301761-f2a4-4ba6-b5ce-5c2fd64c0c39');
    expect(normalizeUuid('5a301761-f2a4-4ba6-b5ce-5c2fd64c0c3')).toBeNull();
    expect(normalizeUuid(5)).toBeNull();
  });

  it('keep microseconds through ISO, ClickHouse text and back', () => {
    const micros = parseTimestampMicros('2024-05-01T10:00:00.123456Z') as number;
    expect(micros).toBe(Date.UTC(2024, 4, 1, 10) * 1000 + 123_456);
    expect(isoFromMicros(micros)).toBe('2024-05-01T10:00:00.123456+00:00');
    expect(clickHouseTime(micros)).toBe('2024-05-01 10:00:00.123456');
    expect(parseTimestampMicros(clickHouseTime(micros))).toBe(micros);
    expect(parseTimestampMicros('2024-05-01T12:00:00+0200')).toBe(Date.UTC(2024, 4, 1, 10) * 1000);
    expect(isoFromMicros(Date.UTC(2024, 4, 1) * 1000)).toBe('2024-05-01T00:00:00+00:00');
    expect(parseTimestampMicros('2024-02-30T00:00:00')).toBeNull();
    expect(parseTimestampMicros('soon')).toBeNull();
  });
});
