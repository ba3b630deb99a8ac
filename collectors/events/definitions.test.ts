import { describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_DEFINITIONS_FILE, DEFAULT_TRAITS, loadEventDefinitions, matchesEventType, parseEventDefinitions } from './definitions.ts';
import { JsonPathEvaluationError } from '../meters/jsonpath/index.ts';
import { EventDefinitionError } from './errors.ts';

const parse = (text: string) => parseEventDefinitions(text, 'test.yaml');

function refusal(text: string): EventDefinitionError {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof EventDefinitionError) return err;
    throw err;
  }
  throw new Error('the definitions were accepted');
}

describe('parseEventDefinitions', () => {
  it('loads the shipped definitions', () => {
    const definitions = loadEventDefinitions(DEFAULT_EVENT_DEFINITIONS_FILE);
    expect(definitions.length).toBeGreaterThan(40);
    const create = definitions.find((d) => d.eventTypes.includes('compute.instance.create.end'));
    expect(create?.traits.map((t) => t.name)).toEqual(expect.arrayContaining(['host', 'vcpus', 'launched_at', 'availability_zone']));
  });

  it('puts the default traits first, replaced in place by a trait of the same name', () => {
    const [definition] = parse(`
- event_type: a.*
  traits:
    extra: {fields: payload.x}
    user_id: {fields: payload.owner}
`);
    expect(definition?.traits.map((t) => t.name)).toEqual([...Object.keys(DEFAULT_TRAITS), 'extra']);
    expect(definition?.traits.find((t) => t.name === 'user_id')?.fields).toBe('payload.owner');
    expect(definition?.traits.find((t) => t.name === 'project_id')?.fields).toBe('(payload.tenant_id)|(ctxt.project_id)');
  });

  it('reads YAML merges and the short forms: a bare path, a list of paths, a type in any case, a plugin by name', () => {
    const [, second] = parse(`
- event_type: a.*
  traits: &base
    one: payload.one
    two: {fields: [payload.two, payload.deux], type: INT}
- event_type: a.b
  traits:
    <<: *base
    three: {fields: payload.three, plugin: timedelta, type: float}
`);
    expect(second?.traits.filter((t) => !(t.name in DEFAULT_TRAITS)).map((t) => [t.name, t.type, t.fields])).toEqual([
      ['one', 'string', 'payload.one'],
      ['two', 'int', '(payload.two)|(payload.deux)'],
      ['three', 'float', 'payload.three'],
    ]);
  });

  it("reads fields in Ceilometer's path dialect, and gives plugins the dotted path of each match", () => {
    const [definition] = parse(`
- event_type: a
  traits:
    arch: {fields: "payload.image_meta.'org.openstack__1__architecture'"}
    host: {fields: "publisher_id.\`split(., 1, 1)\`"}
    image_id: {fields: "payload.glance_metadata[?key=image_id].value"}
    owner: {fields: [payload.nothing, payload.missing, ctxt.user_id]}
    server: {fields: "payload.volume_attachment[0].server_id"}
    flags: {type: int, fields: [payload.state, payload.vcpus], plugin: {name: bitfield, parameters: {flags: [{path: payload.state, bit: 0, value: active}, {path: payload.vcpus, bit: 2}]}}}
`);
    const body = {
      publisher_id: 'compute.cmp-01.example',
      ctxt: { user_id: 'u1' },
      payload: {
        nothing: null,
        state: 'active',
        vcpus: 2,
        image_meta: { 'org.openstack__1__architecture': 'x86_64', org: { openstack__1__architecture: 'wrong' } },
        glance_metadata: [
          { key: 'os_distro', value: 'ubuntu' },
          { key: 'image_id', value: 'img-1' },
        ],
        volume_attachment: null,
      },
    };
    const read = (name: string) => definition?.traits.find((t) => t.name === name)?.read(body);
    expect(read('arch')).toBe('x86_64');
    expect(read('host')).toBe('cmp-01.example');
    expect(read('image_id')).toBe('img-1');
    expect(read('owner')).toBe('u1');
    expect(read('flags')).toBe(5);
    // jsonpath_rw raises on an index into None: the converter fails the notification, as Ceilometer does.
    expect(() => read('server')).toThrow(JsonPathEvaluationError);
  });

  it('matches shell wildcards, with ! exclusions; only exclusions means everything else', () => {
    const [listed, excludedOnly] = parse(`
- event_type: ['*.start', '*.end', '!scheduler.*']
  traits: {}
- event_type: '!image.*'
  traits: {}
`);
    expect(matchesEventType(listed!, 'compute.instance.create.start')).toBe(true);
    expect(matchesEventType(listed!, 'scheduler.run_instance.start')).toBe(false);
    expect(matchesEventType(listed!, 'compute.instance.exists')).toBe(false);
    expect(listed?.isCatchAll).toBe(false);
    expect(matchesEventType(excludedOnly!, 'volume.create.end')).toBe(true);
    expect(matchesEventType(excludedOnly!, 'image.upload')).toBe(false);
    expect(excludedOnly?.isCatchAll).toBe(false);
    expect(parse(`- {event_type: '*', traits: {}}`)[0]?.isCatchAll).toBe(true);
  });

  it.each([
    ['- [1, 2]', 'definitions[0]', null, /must be a mapping/],
    ['- traits: {}', 'definitions[0]', 'event_type', /no event_type/],
    ['- event_type: 5\n  traits: {}', 'definitions[0]', 'event_type', /event_type must be text/],
    ['- event_type: a\n', 'definitions[0] (event_type "a")', 'traits', /no traits/],
    ['- event_type: a\n  traits: null', 'definitions[0] (event_type "a")', 'traits', /traits must be a mapping/],
    ['- event_type: a\n  traits: {x: {type: int}}', 'definitions[0] (event_type "a")', 'traits.x.fields', /trait "x" has no fields/],
    ['- event_type: a\n  traits: {x: {fields: p, type: bool}}', 'definitions[0] (event_type "a")', 'traits.x.type', /type must be one of text, int, float, datetime, got "bool"/],
    ['- event_type: a\n  traits: {x: {fields: "payload.a b"}}', 'definitions[0] (event_type "a")', 'traits.x.fields', /fields "payload.a b" is not a valid path/],
    ['- event_type: a\n  traits: {x: {fields: []}}', 'definitions[0] (event_type "a")', 'traits.x.fields', /empty list/],
    ['- event_type: a\n  traits: {x: {fields: {a: 1}}}', 'definitions[0] (event_type "a")', 'traits.x.fields', /must be a path/],
    ['- event_type: a\n  traits: {x: {fields: p, plugin: {parameters: {}}}}', 'definitions[0] (event_type "a")', 'traits.x.plugin', /without a name/],
    ['- event_type: a\n  traits: {x: {fields: p, plugin: magic}}', 'definitions[0] (event_type "a")', 'traits.x.plugin', /no plugin named "magic"/],
    ['- event_type: a\n  traits: {}\n- event_type: [b, 3]\n  traits: {}', 'definitions[1]', 'event_type', /event_type must be text/],
  ])('refuses %j naming the definition and the field', (text, definition, field, message) => {
    const err = refusal(text);
    expect(err.code).toBe('CUMULUS_COLLECTOR_EVENT_DEFINITION_INVALID');
    expect(err.message).toContain(`test.yaml: ${definition}`);
    expect(err.message).toMatch(message);
    expect(err.field).toBe(field);
    expect(err.origin).toBe('test.yaml');
  });

  it('refuses what is not a list of definitions, and bad YAML', () => {
    expect(refusal('').message).toMatch(/expected a list of event definitions/);
    expect(refusal('event_type: a').message).toMatch(/expected a list/);
    expect(refusal('- event_type: [a\n').message).toMatch(/not valid YAML/);
  });

  it('names the file it cannot read', () => {
    expect(() => loadEventDefinitions('/nonexistent/event_definitions.yaml')).toThrow(expect.objectContaining({ code: 'CUMULUS_COLLECTOR_EVENT_DEFINITION_INVALID', message: expect.stringContaining('/nonexistent/event_definitions.yaml') }));
  });
});
