import { describe, expect, it } from 'vitest';
import { createSwift } from './index.ts';
import { applyChange, checkMetadata, metadataChange, pythonTitle } from './metadata.ts';
import { guessContentType } from './content-type.ts';
import { lastModified, listingTime, xTimestamp } from './timestamps.ts';
import type { CloudServiceDeps } from '../service-module.ts';

describe('swift metadata headers', () => {
  it('title-cases names as Python\'s str.title() (what swob does to every header)', () => {
    expect(pythonTitle('color')).toBe('Color');
    expect(pythonTitle('my_key-name')).toBe('My_Key-Name');
    expect(pythonTitle('a1b')).toBe('A1B');
    expect(pythonTitle('ÉTÉ')).toBe('Été');
  });

  it('reads sets and removals, and an empty value removes', () => {
    const change = metadataChange({ 'x-container-meta-color': 'blue', 'x-remove-container-meta-size': 'x', 'x-container-meta-gone': '', 'x-object-meta-other': 'no' }, 'container');
    expect(change).toEqual({ set: { Color: 'blue' }, remove: ['Size', 'Gone'] });
    expect(applyChange({ Size: 'L', Gone: '1', Keep: 'k' }, change)).toEqual({ Keep: 'k', Color: 'blue' });
  });

  it('keeps swift\'s limits', () => {
    expect(() => checkMetadata({ ['n'.repeat(129)]: 'v' }, 'object')).toThrowError(expect.objectContaining({ code: 'CUMULUS_SWIFT_BAD_REQUEST' }) as Error);
    expect(() => checkMetadata({ n: 'v'.repeat(257) }, 'object')).toThrowError(/longer than 256/);
    expect(() => checkMetadata(Object.fromEntries(Array.from({ length: 91 }, (_, i) => [`k${i}`, 'v'])), 'object')).toThrowError(/max 90/);
    expect(() => checkMetadata(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v'.repeat(250)])), 'object')).toThrowError(/max 4096/);
  });
});

describe('swift renderings', () => {
  it('formats X-Timestamp, Last-Modified (rounded up) and listing times as swift does', () => {
    const ms = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    expect(xTimestamp(ms)).toBe('1767323045.67800');
    expect(lastModified(ms)).toBe('Fri, 02 Jan 2026 03:04:06 GMT');
    expect(lastModified(Date.UTC(2026, 0, 2, 3, 4, 5))).toBe('Fri, 02 Jan 2026 03:04:05 GMT');
    expect(listingTime(ms)).toBe('2026-01-02T03:04:05.678000');
  });

  it('guesses content types like mimetypes.guess_type', () => {
    expect(guessContentType('dir/a.TXT')).toBe('text/plain');
    expect(guessContentType('x.gz')).toBe('application/octet-stream');
    expect(guessContentType('x.tar.gz')).toBe('application/x-tar');
    expect(guessContentType('.bashrc')).toBe('application/octet-stream');
    expect(guessContentType('dir.v2/file')).toBe('application/octet-stream');
  });
});

describe('createSwift', () => {
  it('refuses a missing data directory, naming the field', () => {
    const deps = {} as CloudServiceDeps;
    expect(() => createSwift(deps, { dataDir: '' })).toThrowError(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID', message: expect.stringContaining('swift.dataDir') as string }) as Error);
    expect(() => createSwift(deps, { dataDir: '/tmp/x', maxObjectBytes: -1 })).toThrowError(/swift.maxObjectBytes/);
  });
});
