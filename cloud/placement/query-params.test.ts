import { describe, expect, it } from 'vitest';
import { PlacementError } from './errors.ts';
import { normalizeUuid, parseMemberOf, parseMemberOfParams, parseResources, parseTraitParams, parseTraits } from './query-params.ts';
import { ALLOCATION_1_38, POST_PROVIDER, PUT_AGGREGATES_1_19 } from './request-schemas.ts';
import { pyRepr, violation } from './schema.ts';

const AGG_A = 'a0000000-0000-4000-8000-00000000000a';
const AGG_B = 'b0000000-0000-4000-8000-00000000000b';

function message(work: () => unknown): string {
  try {
    work();
  } catch (err) {
    if (err instanceof PlacementError) return err.message;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('query string parameters, as Placement parses them', () => {
  it('reads resources=CLASS:AMOUNT lists and refuses malformed ones with its messages', () => {
    expect([...parseResources('VCPU:2,MEMORY_MB:1024')]).toEqual([['VCPU', 2], ['MEMORY_MB', 1024]]);
    expect(message(() => parseResources(''))).toBe('Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: empty string.');
    expect(message(() => parseResources('VCPU'))).toContain('Got: VCPU.');
    expect(message(() => parseResources('VCPU:two'))).toBe('Requested resource VCPU expected positive integer amount. Got: two.');
    expect(message(() => parseResources('VCPU:-1'))).toBe('Requested resource VCPU requires amount >= 1. Got: -1.');
  });

  it('reads required traits: forbidden from 1.22, in: from 1.39, repeated keys AND from 1.39', () => {
    expect(parseTraits('A,!B', true, false)).toEqual({ required: [['A']], forbidden: new Set(['B']) });
    expect(message(() => parseTraits('A,!B', false, false))).toContain('Expected \'required\' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: A,!B');
    expect(parseTraits('in:A,B', true, true)).toEqual({ required: [['A', 'B']], forbidden: new Set() });
    expect(message(() => parseTraits('in:A,B', true, false))).toContain('only supported since microversion 1.39');
    expect(parseTraitParams(['A', 'B'], true, false).required).toEqual([['B']]);
    expect(parseTraitParams(['A', 'in:B,C'], true, true).required).toEqual([['A'], ['B', 'C']]);
  });

  it('reads member_of: a UUID, in:, !, !in:; several keys from 1.24, forbidden from 1.32', () => {
    expect(parseMemberOf(`in:${AGG_A},${AGG_B}`)).toEqual({ required: [[AGG_A, AGG_B]], forbidden: new Set() });
    expect(parseMemberOf(`!in:${AGG_A},${AGG_B}`)).toEqual({ required: [], forbidden: new Set([AGG_A, AGG_B]) });
    expect(message(() => parseMemberOf(`${AGG_A},${AGG_B}`))).toContain("must be prefixed with the 'in:' or '!in:' keyword");
    expect(message(() => parseMemberOf('not-a-uuid'))).toContain("Expected 'member_of' parameter to contain valid UUID(s). Got: not-a-uuid");
    expect(message(() => parseMemberOfParams([AGG_A, AGG_B], '', false, false))).toBe('Multiple member_of parameters are not supported');
    expect(message(() => parseMemberOfParams([`!${AGG_A}`], '1', true, false))).toBe('Forbidden member_of1 parameters are not supported in the specified microversion');
  });

  it('normalizes UUIDs as oslo does', () => {
    expect(normalizeUuid('{A0000000000040008000000000000000}')).toBe('a0000000-0000-4000-8000-000000000000');
    expect(normalizeUuid('urn:uuid:a0000000-0000-4000-8000-000000000000')).toBe('a0000000-0000-4000-8000-000000000000');
    expect(normalizeUuid('a0000000-0000-4000-8000')).toBeNull();
  });
});

describe('request schemas, with python-jsonschema messages', () => {
  it('reports the first violation in jsonschema words', () => {
    expect(violation({}, POST_PROVIDER)).toBe("'name' is a required property");
    expect(violation({ name: 'x', extra: 1 }, POST_PROVIDER)).toBe("Additional properties are not allowed ('extra' was unexpected)");
    expect(violation({ name: 'x'.repeat(201) }, POST_PROVIDER)).toBe(`'${'x'.repeat(201)}' is too long`);
    expect(violation({ name: 'x', uuid: 'nope' }, POST_PROVIDER)).toBe("'nope' is not a 'uuid'");
    expect(violation({ aggregates: [AGG_A, AGG_A], resource_provider_generation: 1 }, PUT_AGGREGATES_1_19)).toBe(`['${AGG_A}', '${AGG_A}'] has non-unique elements`);
    expect(violation({ aggregates: [], resource_provider_generation: '1' }, PUT_AGGREGATES_1_19)).toBe("'1' is not of type 'integer'");
  });

  it('holds PUT /allocations at 1.38 to Placement rules', () => {
    const ok = { allocations: { [AGG_A]: { resources: { VCPU: 1 } } }, project_id: 'p', user_id: 'u', consumer_generation: null, consumer_type: 'INSTANCE' };
    expect(violation(ok, ALLOCATION_1_38)).toBeNull();
    expect(violation({ ...ok, allocations: {} }, ALLOCATION_1_38)).toBeNull();
    expect(violation({ ...ok, consumer_type: 'instance' }, ALLOCATION_1_38)).toBe("'instance' does not match '^[A-Z0-9_]+$'");
    expect(violation({ ...ok, allocations: { [AGG_A]: { resources: { VCPU: 0 } } } }, ALLOCATION_1_38)).toBe('0 is less than the minimum of 1');
    expect(violation({ ...ok, allocations: { nope: { resources: { VCPU: 1 } } } }, ALLOCATION_1_38)).toBe("'nope' does not match any of the regexes: '^[0-9a-fA-F-]{36}$'");
    const { consumer_type: _dropped, ...withoutType } = ok;
    expect(violation(withoutType, ALLOCATION_1_38)).toBe("'consumer_type' is a required property");
  });

  it('prints values as Python repr does', () => {
    expect(pyRepr({ a: [1, 'x', null, true] })).toBe("{'a': [1, 'x', None, True]}");
  });
});
