import { LISTING_LIMIT } from './config.ts';
import { preconditionFailed } from './errors.ts';
import type { ListingRange } from './store.ts';

export type ListingFormat = 'json' | 'plain';

/** A listing request's parameters, as swift's account and container servers read them. */
export interface ListingQuery {
  limit: number;
  marker: string;
  endMarker: string | null;
  prefix: string;
  delimiter: string | null;
  format: ListingFormat;
}

export interface Subdir {
  subdir: string;
}

const one = (value: unknown): string | undefined => (Array.isArray(value) ? one(value[0]) : typeof value === 'string' ? value : undefined);

/**
 * Reads limit, marker, end_marker, prefix, delimiter and format (or an Accept of
 * application/json). XML listings are not served: they fall back to plain text.
 */
export function parseListingQuery(query: Record<string, unknown>, accept: string | undefined): ListingQuery {
  const rawLimit = one(query.limit);
  let limit = LISTING_LIMIT;
  if (rawLimit !== undefined && rawLimit !== '') {
    if (!/^\d+$/.test(rawLimit)) throw preconditionFailed('Value of limit must be a positive integer');
    limit = Number(rawLimit);
    if (limit > LISTING_LIMIT) throw preconditionFailed(`Maximum limit is ${LISTING_LIMIT}`);
  }
  const delimiter = one(query.delimiter) || null;
  // Resuming past a subdir needs the character after the delimiter, as swift computes it.
  if (delimiter !== null && (delimiter.length > 1 || delimiter.charCodeAt(0) > 254)) throw preconditionFailed('Bad delimiter');
  const format = (one(query.format) ?? '').toLowerCase();
  const json = format === 'json' || (format === '' && (accept ?? '').split(',').some((t) => t.trim().split(';')[0] === 'application/json'));
  return {
    limit,
    marker: one(query.marker) ?? '',
    endMarker: one(query.end_marker) || null,
    prefix: one(query.prefix) ?? '',
    delimiter,
    format: json ? 'json' : 'plain',
  };
}

/**
 * One listing page, with swift's delimiter rollup: a name holding the delimiter after the
 * prefix is listed once as `{subdir: <prefix..delimiter>}`, and reading resumes past every
 * name under that subdir (at prefix part + the character after the delimiter). A subdir
 * equal to the marker is not listed again, so paging by the last entry's name or subdir works.
 */
export function listPage<T extends { name: string }>(query: ListingQuery, fetch: (range: ListingRange) => T[]): Array<T | Subdir> {
  const results: Array<T | Subdir> = [];
  let after = query.marker;
  let from = query.prefix;
  while (results.length < query.limit) {
    const requested = query.limit - results.length;
    const rows = fetch({ after, from, before: query.endMarker, prefix: query.prefix, limit: requested });
    if (rows.length === 0) break;
    let resumed = false;
    for (const row of rows) {
      if (query.delimiter !== null) {
        const rest = row.name.slice(query.prefix.length);
        const end = rest.indexOf(query.delimiter);
        if (end >= 0) {
          const subdir = query.prefix + rest.slice(0, end + 1);
          if (subdir !== query.marker) results.push({ subdir });
          from = query.prefix + rest.slice(0, end) + String.fromCharCode(query.delimiter.charCodeAt(0) + 1);
          resumed = true;
          break;
        }
      }
      results.push(row);
      after = row.name;
      if (results.length >= query.limit) break;
    }
    if (!resumed && rows.length < requested) break;
  }
  return results;
}
