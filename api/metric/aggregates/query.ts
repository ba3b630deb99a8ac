/**
 * The query parameters the aggregates routes share, read as Gnocchi's validate_qs reads
 * them and refused in its words (`{cause: "Argument value error", detail: <field>, reason}`).
 * Experimental.
 */
import { argumentError, parseQueryTime, parseQueryTimespan } from '../../params.ts';
import { FILL_WORDS, type Fill } from './processor.ts';

export interface WindowQuery {
  start?: Date;
  stop?: Date;
  granularity?: number;
  neededOverlap?: number;
  fill?: Fill;
}

/** Python's float() of a finite decimal. */
const FLOAT = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

const given = (value: unknown): string | undefined => (value === undefined || value === null || value === '' ? undefined : String(value));

/** needed_overlap, start, stop, granularity and fill, each checked in Gnocchi's order. */
export function parseWindowQuery(query: Record<string, unknown>, now: Date): WindowQuery {
  const out: WindowQuery = {};
  const neededOverlap = given(query.needed_overlap);
  if (neededOverlap !== undefined) {
    if (!FLOAT.test(neededOverlap)) throw argumentError('needed_overlap', 'Must be a number', neededOverlap);
    out.neededOverlap = Number(neededOverlap.trim());
  }
  const start = parseQueryTime('start', query.start, now);
  if (start) out.start = start;
  const stop = parseQueryTime('stop', query.stop, now);
  if (stop) out.stop = stop;
  if (given(query.granularity) !== undefined) out.granularity = parseQueryTimespan('granularity', query.granularity);
  const fill = given(query.fill);
  if (fill !== undefined) {
    if (FLOAT.test(fill)) out.fill = Number(fill.trim());
    else if ((FILL_WORDS as readonly string[]).includes(fill)) out.fill = fill as Fill;
    else throw argumentError('fill', "Must be a float, 'dropna', 'null', 'ffill', 'bfill', 'full_ffill' or 'full_bfill'", fill);
  }
  return out;
}

/** groupby as Gnocchi takes it: repeated parameters, each once, sorted. */
export function parseGroupby(value: unknown): string[] {
  const list = value === undefined || value === null || value === '' ? [] : Array.isArray(value) ? value.map(String) : [String(value)];
  return [...new Set(list.filter((v) => v !== ''))].sort();
}

/** The querystring JSON schema of the window parameters (documented here; values are checked above). */
export const WINDOW_QUERY_PROPERTIES = {
  start: { type: 'string', maxLength: 100, description: 'Buckets from the one holding this time: ISO 8601, seconds since the epoch, or relative to now (-1 hour)' },
  stop: { type: 'string', maxLength: 100, description: 'Buckets before this time (the same forms as start)' },
  granularity: { type: 'string', maxLength: 100, description: 'Only this granularity (seconds or a timespan); without it, every granularity all the metrics have' },
  needed_overlap: { type: 'string', maxLength: 100, description: 'Without fill: the percent of buckets where every series must have a value (default 100)' },
  fill: { type: 'string', maxLength: 100, description: 'Missing values: a number, null, dropna, ffill, bfill, full_ffill or full_bfill' },
  refresh: { type: 'string', maxLength: 10, description: 'Accepted for compatibility: measures are processed as they arrive' },
} as const;
