import { describe, expect, it } from 'vitest';
import { listPage, parseListingQuery, type ListingQuery } from './listing.ts';
import type { ListingRange } from './store.ts';

/** The store's query on a sorted array, counting how often it ran. */
function source(names: string[]) {
  const sorted = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const calls: ListingRange[] = [];
  const fetch = (r: ListingRange) => {
    calls.push(r);
    return sorted
      .filter((n) => n > r.after && n >= r.from && (r.before === null || n < r.before) && n.startsWith(r.prefix))
      .slice(0, r.limit)
      .map((name) => ({ name }));
  };
  return { fetch, calls };
}

const query = (q: Record<string, string> = {}): ListingQuery => parseListingQuery(q, undefined);
const flat = (entries: Array<{ name: string } | { subdir: string }>) => entries.map((e) => ('subdir' in e ? `[${e.subdir}]` : e.name));

describe('listing', () => {
  it('rolls names up to one subdir per delimiter prefix, and resumes past it in one query', () => {
    const { fetch, calls } = source(['a', 'd/1', 'd/2', 'd/3', 'e', 'f/x/y']);
    expect(flat(listPage(query({ delimiter: '/' }), fetch))).toEqual(['a', '[d/]', 'e', '[f/]']);
    // a + d/1 (jump), e + f/x/y (jump), then nothing after f0.
    expect(calls.map((c) => c.from)).toEqual(['', 'd0', 'f0']);
  });

  it('does not list the marker\'s own subdir again when paging', () => {
    const { fetch } = source(['d/1', 'd/2', 'e']);
    expect(flat(listPage(query({ delimiter: '/', marker: 'd/' }), fetch))).toEqual(['e']);
  });

  it('honours limit, prefix and end_marker', () => {
    const { fetch } = source(['a1', 'a2', 'a3', 'b1']);
    expect(flat(listPage(query({ limit: '2' }), fetch))).toEqual(['a1', 'a2']);
    expect(flat(listPage(query({ prefix: 'a', end_marker: 'a3' }), fetch))).toEqual(['a1', 'a2']);
    expect(flat(listPage(query({ limit: '0' }), fetch))).toEqual([]);
  });

  it('reads swift\'s parameters and refuses bad ones with 412', () => {
    expect(parseListingQuery({}, 'application/json;q=0.9, text/plain').format).toBe('json');
    expect(parseListingQuery({ format: 'json' }, undefined)).toEqual({ limit: 10_000, marker: '', endMarker: null, prefix: '', delimiter: null, format: 'json' });
    expect(query({ format: 'xml' }).format).toBe('plain');
    const bad: Array<Record<string, string>> = [{ limit: '-1' }, { limit: 'ten' }, { limit: '10001' }, { delimiter: '//' }];
    for (const params of bad) {
      expect(() => query(params)).toThrowError(expect.objectContaining({ httpStatus: 412 }) as Error);
    }
  });
});
