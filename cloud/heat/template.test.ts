import { describe, expect, it } from 'vitest';
import { UNRESOLVED, resolveFunctions, type FunctionScope } from './functions.ts';
import { shortId } from './service.ts';
import { creationOrder, parameterStrings, parseTemplate, resolveParameters } from './template.ts';

const STACK = { id: '11111111-2222-4333-8444-555555555555', name: 'web', projectId: 'p1' };

const APP = `
heat_template_version: 2018-08-31
description: A web tier
parameters:
  flavor: {type: string, default: m1.small}
  count: {type: number}
  zones: {type: comma_delimited_list, default: "a, b"}
  debug: {type: boolean, default: "yes"}
  extra: {type: json, default: {"k": [1, 2]}}
  secret: {type: string, hidden: true, default: s3cr3t}
resources:
  server:
    type: OS::Nova::Server
    properties:
      flavor: {get_param: flavor}
      metadata: {password: {get_attr: [password, value]}}
    depends_on: volume
  password:
    type: OS::Heat::RandomString
  volume:
    type: OS::Heat::None
outputs:
  name:
    value: {get_attr: [server, name]}
`;

describe('parseTemplate', () => {
  it('reads a HOT YAML string: sections, parameters, resources and a creation order with dependencies first', () => {
    const template = parseTemplate(APP);
    expect(template.version).toBe('2018-08-31');
    expect(template.description).toBe('A web tier');
    expect(Object.keys(template.parameters)).toEqual(['flavor', 'count', 'zones', 'debug', 'extra', 'secret']);
    expect(template.resources.get('server')?.requires).toEqual(['volume', 'password']);
    expect(template.order).toEqual(['password', 'volume', 'server']);
    expect(template.outputs.name?.description).toBe('No description given');
  });

  it('takes JSON text and already parsed objects alike, and defaults the description', () => {
    const json = JSON.stringify({ heat_template_version: '2016-10-14', resources: { a: { type: 'OS::Heat::None' } } });
    expect(parseTemplate(json).order).toEqual(['a']);
    const parsed = parseTemplate({ heat_template_version: 'wallaby', resources: {} });
    expect(parsed.description).toBe('No description');
    expect(parsed.order).toEqual([]);
  });

  it.each([
    ['not a mapping', '- a\n- b', 'HTTPBadRequest', 'The template is not a JSON object or YAML mapping.'],
    ['no version', 'resources: {}', 'HTTPBadRequest', 'Template not in valid format: Template format version not found.'],
    ['an unknown version', 'heat_template_version: 2099-01-01', 'InvalidTemplateVersion', 'The template version is invalid: "heat_template_version: 2099-01-01"'],
    ['a CFN template', 'AWSTemplateFormatVersion: 2010-09-09', 'NotSupported', 'AWSTemplateFormatVersion'],
    ['an unknown section', 'heat_template_version: 2015-04-30\nwhatever: {}', 'InvalidTemplateSection', 'The template section is invalid: whatever'],
    ['a parameter without type', 'heat_template_version: 2015-04-30\nparameters: {p: {default: 1}}', 'StackValidationFailed', 'Missing parameter type for parameter: p'],
    ['a resource without type', 'heat_template_version: 2015-04-30\nresources: {a: {properties: {}}}', 'StackValidationFailed', 'missing "type"'],
    ['an unknown resource keyword', 'heat_template_version: 2015-04-30\nresources: {a: {type: X::Y, propertys: {}}}', 'StackValidationFailed', '"propertys" is not a valid keyword inside a resource definition'],
    ['a reference to no resource', 'heat_template_version: 2015-04-30\nresources: {a: {type: OS::Heat::None, properties: {x: {get_resource: b}}}}', 'InvalidTemplateReference', 'The specified reference "b" (in a) is incorrect.'],
    ['a dependency cycle', 'heat_template_version: 2015-04-30\nresources: {a: {type: OS::Heat::None, depends_on: b}, b: {type: OS::Heat::None, depends_on: a}}', 'CircularDependencyException', 'Circular Dependency Found'],
    ['broken YAML', 'heat_template_version: [', 'HTTPBadRequest', 'Template not in valid format'],
  ])('refuses %s (%s)', (_what, text, type, message) => {
    expect(() => parseTemplate(text)).toThrow(expect.objectContaining({ heatType: type, httpStatus: 400, message: expect.stringContaining(message) }));
  });
});

describe('resolveParameters', () => {
  const template = parseTemplate(APP);

  it('takes given values, then parameter_defaults, then template defaults, coerced to their types, plus the pseudo parameters', () => {
    const values = resolveParameters(template, { count: '3' }, { flavor: 'm1.large' }, STACK);
    expect(values).toEqual({
      'OS::stack_id': STACK.id,
      'OS::stack_name': 'web',
      'OS::project_id': 'p1',
      flavor: 'm1.large',
      count: 3,
      zones: ['a', 'b'],
      debug: true,
      extra: { k: [1, 2] },
      secret: 's3cr3t',
    });
    expect(parameterStrings(template, values)).toMatchObject({ count: '3', zones: 'a,b', debug: 'true', extra: '{"k":[1,2]}', secret: '******' });
  });

  it('refuses a missing, an unknown and an ill-typed parameter', () => {
    expect(() => resolveParameters(template, {}, {}, STACK)).toThrow(expect.objectContaining({ heatType: 'UserParameterMissing', message: 'The Parameter (count) was not provided.' }));
    expect(() => resolveParameters(template, { count: 1, colour: 'red' }, {}, STACK)).toThrow(expect.objectContaining({ heatType: 'UnknownUserParameter', message: 'The Parameter (colour) was not defined in template.' }));
    expect(() => resolveParameters(template, { count: 'many' }, {}, STACK)).toThrow(expect.objectContaining({ heatType: 'StackValidationFailed', message: expect.stringContaining("Parameter 'count' is invalid") }));
    expect(() => resolveParameters(template, { count: 1, debug: 'perhaps' }, {}, STACK)).toThrow(expect.objectContaining({ code: 'CUMULUS_HEAT_STACK_INVALID' }));
  });
});

describe('intrinsic functions', () => {
  const scope: FunctionScope = {
    param: (name) => ({ env: 'prod', ports: [80, 443], meta: { tier: { name: 'web' } } })[name],
    resourceId: (name) => `id-of-${name}`,
    attribute: (name, attribute) => `${attribute}-of-${name}`,
  };

  it('resolves get_param (with a path), get_resource, get_attr, list_join and str_replace, nested', () => {
    const value = {
      a: { get_param: 'env' },
      b: { get_param: ['meta', 'tier', 'name'] },
      c: { get_param: ['ports', 1] },
      d: { get_resource: 'db' },
      e: { get_attr: ['db', 'address'] },
      f: { list_join: ['-', ['x', { get_param: 'env' }], [{ get_resource: 'db' }]] },
      g: { str_replace: { template: 'http://$host:$port/$hostname', params: { $host: { get_attr: ['lb', 'ip'] }, $hostname: 'long', $port: 8080 } } },
      h: [{ unknown_function: 1 }],
    };
    expect(resolveFunctions(value, scope, 'x')).toEqual({
      a: 'prod',
      b: 'web',
      c: 443,
      d: 'id-of-db',
      e: 'address-of-db',
      f: 'x-prod-id-of-db',
      g: 'http://ip-of-lb:8080/long',
      h: [{ unknown_function: 1 }],
    });
  });

  it('leaves values that need resources unresolved while validating', () => {
    const validating: FunctionScope = { ...scope, resourceId: () => UNRESOLVED, attribute: () => UNRESOLVED };
    expect(resolveFunctions({ list_join: [',', [{ get_resource: 'a' }]] }, validating, 'x')).toBe(UNRESOLVED);
    expect(resolveFunctions({ get_param: 'env' }, validating, 'x')).toBe('prod');
  });

  it('refuses malformed arguments with the place in the template', () => {
    expect(() => resolveFunctions({ get_attr: 'db' }, scope, 'resources.s.properties.p')).toThrow(/resources\.s\.properties\.p\.get_attr: Arguments to "get_attr"/);
    expect(() => resolveFunctions({ list_join: [',', 'not-a-list'] }, scope, 'x')).toThrow(/must operate on a list/);
  });
});

describe('creationOrder and shortId', () => {
  it('keeps template order among independent resources', () => {
    const order = creationOrder(new Map([['c', { requires: ['a'] }], ['b', { requires: [] }], ['a', { requires: [] }]]));
    expect(order).toEqual(['b', 'a', 'c']);
  });

  it("derives Heat's 12-character short id from a v4 UUID's time field", () => {
    // Values computed with heat/common/short_id.py.
    expect(shortId('3b0a4d8e-6f1c-4e2a-9b7d-5c6e7f8a9b0c')).toBe('4ktpdq5qutmo');
    expect(shortId('00000000-0000-4000-8000-000000000000')).toBe('aaaaaaaaaaaa');
  });
});
