import { describe, expect, it } from 'vitest';
import { deriveId, metricId, sampleId } from './ids.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('derived ids', () => {
  it('gives the same UUIDv5 for the same parts', () => {
    expect(deriveId('a', 'b')).toBe(deriveId('a', 'b'));
    expect(deriveId('a', 'b')).toMatch(UUID);
    expect(sampleId('msg-1', 'vcpus', 'res-1')).toBe(sampleId('msg-1', 'vcpus', 'res-1'));
    expect(metricId('res-1', 'cpu')).toBe(metricId('res-1', 'cpu'));
  });

  it('is stable across releases (the namespace never changes)', () => {
    // Pinned: if this changes, every stored sample id changes meaning.
    expect(sampleId('msg-1', 'vcpus', 'res-1')).toBe('9c9224e5-be74-5509-85b1-a24a86be953d');
    expect(metricId('res-1', 'cpu')).toBe('6ded2e2d-6427-5851-a51f-9f1d18156d01');
  });

  it('differs when any part differs', () => {
    const ids = new Set([
      sampleId('msg-1', 'vcpus', 'res-1'),
      sampleId('msg-2', 'vcpus', 'res-1'),
      sampleId('msg-1', 'memory', 'res-1'),
      sampleId('msg-1', 'vcpus', 'res-2'),
      metricId('res-1', 'vcpus'),
      deriveId('a', 'b'),
      deriveId('b', 'a'),
    ]);
    expect(ids.size).toBe(7);
  });

  it('does not collide when parts are split differently', () => {
    expect(deriveId('ab', 'c')).not.toBe(deriveId('a', 'bc'));
    expect(deriveId('a.b', 'c')).not.toBe(deriveId('a', 'b.c'));
    expect(sampleId('m', 'n', 'r')).not.toBe(metricId('m', 'n'));
  });
});
