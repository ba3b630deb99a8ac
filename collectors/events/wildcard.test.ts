import { describe, expect, it } from 'vitest';
import { wildcardToRegExp } from './wildcard.ts';

// Each case is what Python's fnmatch.fnmatch(name, pattern) answers.
describe('wildcardToRegExp', () => {
  it.each([
    ['compute.instance.create.end', 'compute.instance.*', true],
    ['compute.instance', 'compute.instance.*', false],
    ['audit.http.response', '*http.*', true],
    ['a.b', 'a?b', true],
    ['ab', 'a*b*', true],
    ['ab', 'a**b', true],
    ['x', '[!a]', true],
    ['a', '[!a]', false],
    [']', '[]]', true],
    ['-', '[a-]', true],
    ['b', '[z-a]', false],
    ['[', '[', true],
    ['^', '[^]', true],
    ['c', '[a-c]', true],
    ['x', '[a-c-x]', true],
    ['identity.OS-TRUST:trust.created', 'identity.OS-TRUST:trust.*', true],
    ['volume.create.end', 'volume.create.*', true],
    ['volume.create.end\n', 'volume.create.end', false],
    ['a\nb', 'a*b', true],
  ])('%j against %j is %s', (name, pattern, expected) => {
    expect(wildcardToRegExp(pattern).test(name)).toBe(expected);
  });
});
