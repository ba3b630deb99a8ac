import { describe, expect, it } from 'vitest';
import { PluginConfigError, createTraitPlugin } from './plugins.ts';
import { PyFloat } from './python-values.ts';

describe('trait plugins', () => {
  it('split: str() of each value, split, one segment (negative counts from the end)', () => {
    expect(createTraitPlugin('split', { segment: 1, max_split: 1 })([['publisher_id', 'compute.cmp-01.example']])).toEqual(['cmp-01.example']);
    expect(createTraitPlugin('split', { separator: '-', segment: -1 })([['p', 'a-b-c']])).toEqual(['c']);
    expect(createTraitPlugin('split', {})([['p', 12.5]])).toEqual(['12']);
    expect(createTraitPlugin('split', { segment: 3 })([['p', 'a.b']])).toEqual([null]);
  });

  it('bitfield: flags set by path, with or without a value to match; always a value', () => {
    const plugin = createTraitPlugin('bitfield', {
      initial_bitfield: 256,
      flags: [
        { path: 'payload.state', bit: 0, value: 'active' },
        { path: 'payload.vcpus', bit: '1' },
        { path: 'payload.missing', bit: 2 },
        { path: 'payload.vcpus', bit: 3, value: 1.0 },
      ],
    });
    expect(
      plugin([
        ['payload.state', 'active'],
        ['payload.vcpus', true],
      ]),
    ).toEqual([256 + 1 + 2 + 8]);
    expect(plugin([])).toEqual([256]);
  });

  it('timedelta: seconds between exactly two timestamps, as a float', () => {
    const plugin = createTraitPlugin('timedelta', {});
    const [value] = plugin([
      ['payload.created_at', '2026-03-02 09:14:58.120000+00:00'],
      ['payload.launched_at', '2026-03-02T10:15:07.4+01:00'],
    ]);
    expect(value).toEqual(new PyFloat(9.28));
    expect(plugin([['payload.created_at', '2026-03-02']])).toEqual([null]);
    expect(plugin([['a', 'x'], ['b', '2026-03-02']])).toEqual([null]);
  });

  it.each([
    ['nope', {}, /no plugin named "nope"/],
    ['split', { separator: '' }, /separator/],
    ['split', { segment: '1' }, /segment must be a whole number/],
    ['split', { sep: '.' }, /no parameter "sep"/],
    ['bitfield', { flags: {} }, /flags must be a list/],
    ['bitfield', { flags: [{ bit: 1 }] }, /path/],
    ['bitfield', { flags: [{ path: 'a', bit: 'x' }] }, /bit number/],
    ['timedelta', { x: 1 }, /takes none/],
  ])('%s with %j is refused', (name, parameters, message) => {
    expect(() => createTraitPlugin(name, parameters)).toThrow(PluginConfigError);
    expect(() => createTraitPlugin(name, parameters)).toThrow(message);
  });
});
