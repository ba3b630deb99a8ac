import { httpBadRequest, invalidInput } from './errors.ts';

/**
 * Neutron's collection query: attribute filters (a repeated key means "any of"), `fields`,
 * sorting, limit/marker pagination and the tag filters. Applied to rendered views, so a
 * filter sees exactly what the caller would see.
 */
export interface ListQuery {
  filters: Map<string, string[]>;
  fields: string[] | null;
  sorts: Array<{ key: string; ascending: boolean }>;
  limit: number | null;
  marker: string | null;
  pageReverse: boolean;
}

export type View = Record<string, unknown>;

const CONTROL_KEYS = new Set(['fields', 'sort_key', 'sort_dir', 'limit', 'marker', 'page_reverse', 'tags', 'tags-any', 'not-tags', 'not-tags-any']);
const TAG_FILTERS = ['tags', 'tags-any', 'not-tags', 'not-tags-any'] as const;

const asList = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)]);

/** Neutron's convert_to_boolean. */
export function toBoolean(value: string): boolean {
  const lowered = value.toLowerCase();
  if (lowered === 'true' || lowered === '1') return true;
  if (lowered === 'false' || lowered === '0') return false;
  throw invalidInput(`'${value}' cannot be converted to boolean`);
}

export function parseListQuery(query: unknown): ListQuery {
  const params = (query ?? {}) as Record<string, unknown>;
  const filters = new Map<string, string[]>();
  for (const [key, value] of Object.entries(params)) {
    if (!CONTROL_KEYS.has(key)) filters.set(key, asList(value));
  }
  for (const key of TAG_FILTERS) {
    const values = asList(params[key]).flatMap((v) => v.split(',')).filter((v) => v !== '');
    if (values.length > 0) filters.set(key, values);
  }
  const sortKeys = asList(params.sort_key);
  const sortDirs = asList(params.sort_dir);
  if (sortDirs.length > 0 && sortDirs.length !== sortKeys.length) throw httpBadRequest('The number of sort_keys and sort_dirs must be same');
  for (const dir of sortDirs) if (dir !== 'asc' && dir !== 'desc') throw httpBadRequest(`Invalid sort direction: ${dir}; it must be asc or desc`);
  const limitText = asList(params.limit)[0];
  const limit = limitText === undefined ? null : Number(limitText);
  if (limit !== null && (!Number.isInteger(limit) || limit < 0)) throw invalidInput(`'${limitText}' should be non-negative`);
  const fields = asList(params.fields).flatMap((f) => f.split(',')).filter((f) => f !== '');
  return {
    filters,
    fields: fields.length > 0 ? fields : null,
    sorts: sortKeys.map((key, i) => ({ key, ascending: (sortDirs[i] ?? 'asc') === 'asc' })),
    limit: limit === 0 ? null : limit,
    marker: asList(params.marker)[0] ?? null,
    pageReverse: asList(params.page_reverse)[0] !== undefined && toBoolean(asList(params.page_reverse)[0] as string),
  };
}

/** Whether one attribute value matches any of the filter's values, typed by the attribute. */
function matchesValue(actual: unknown, wanted: readonly string[]): boolean {
  if (typeof actual === 'boolean') return wanted.some((w) => toBoolean(w) === actual);
  if (typeof actual === 'number') return wanted.some((w) => Number(w) === actual);
  if (actual === null || actual === undefined) return wanted.some((w) => w === '' || w === 'None');
  if (Array.isArray(actual)) return actual.some((item) => wanted.includes(String(item)));
  return wanted.includes(String(actual));
}

function matchesTags(view: View, key: (typeof TAG_FILTERS)[number], wanted: readonly string[]): boolean {
  const tags = new Set(Array.isArray(view.tags) ? view.tags.map(String) : []);
  switch (key) {
    case 'tags':
      return wanted.every((t) => tags.has(t));
    case 'tags-any':
      return wanted.some((t) => tags.has(t));
    case 'not-tags':
      return !wanted.every((t) => tags.has(t));
    case 'not-tags-any':
      return !wanted.some((t) => tags.has(t));
  }
}

export interface CollectionSpec {
  /** Attributes a filter may name (Neutron's filter-validation: any other is a 400). */
  filterable: ReadonlySet<string>;
  /** Filters that are not plain equality, e.g. a port's `fixed_ips=ip_address=10.0.0.5`. */
  special?: Record<string, (view: View, wanted: readonly string[]) => boolean>;
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return String(a) < String(b) ? -1 : 1;
}

/**
 * Filters, sorts and pages the views; returns the page and whether more follow (for the
 * `<collection>_links` next link). Field selection is left to the caller, after paging,
 * because the marker needs ids.
 */
export function applyListQuery(views: readonly View[], query: ListQuery, spec: CollectionSpec): { page: View[]; more: boolean } {
  for (const key of query.filters.keys()) {
    if (!(TAG_FILTERS as readonly string[]).includes(key) && !spec.filterable.has(key) && !spec.special?.[key]) {
      throw httpBadRequest(`[${key}] is invalid attribute for filtering`);
    }
  }
  for (const { key } of query.sorts) {
    if (!spec.filterable.has(key)) throw httpBadRequest(`${key} is invalid attribute for sort_key`);
  }
  let rows = views.filter((view) =>
    [...query.filters].every(([key, wanted]) => {
      if ((TAG_FILTERS as readonly string[]).includes(key)) return matchesTags(view, key as (typeof TAG_FILTERS)[number], wanted);
      const special = spec.special?.[key];
      if (special) return special(view, wanted);
      return key in view && matchesValue(view[key], wanted);
    }),
  );
  if (query.sorts.length > 0) {
    rows = [...rows].sort((a, b) => {
      for (const { key, ascending } of query.sorts) {
        const order = compare(a[key], b[key]);
        if (order !== 0) return ascending ? order : -order;
      }
      return compare(a.id, b.id);
    });
  }
  if (query.pageReverse) rows = [...rows].reverse();
  if (query.marker !== null) {
    const at = rows.findIndex((row) => row.id === query.marker);
    rows = at >= 0 ? rows.slice(at + 1) : rows;
  }
  if (query.limit === null) return { page: rows, more: false };
  return { page: rows.slice(0, query.limit), more: rows.length > query.limit };
}

/** `fields=` selection: only the named attributes, in the order the view has them. */
export function selectFields(view: View, fields: readonly string[] | null): View {
  if (!fields) return view;
  return Object.fromEntries(Object.entries(view).filter(([key]) => fields.includes(key)));
}
