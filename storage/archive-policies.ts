/**
 * Archive policies as Gnocchi 4.4 defines them (gnocchi/archive_policy.py and the REST
 * validation in gnocchi/rest/api.py), plus the rules that pick a metric's policy.
 * The pipeline writes under a policy and the API reports it, so the model lives in storage/.
 * Stable API; docs/archive-policies.md lists where we differ from Gnocchi and why.
 */
import { CumulusError } from '../core/index.ts';

/** One level of an archive policy: a bucket width and how many buckets are kept. */
export interface ArchivePolicyLevel {
  /** Seconds (whole: buckets are DateTime seconds). */
  granularity: number;
  points: number;
}

export interface ArchivePolicy {
  name: string;
  /** Blocks (of the coarsest granularity) before the newest one that late measures may still land in. */
  back_window: number;
  aggregation_methods: readonly string[];
  definition: readonly ArchivePolicyLevel[];
}

export interface ArchivePolicyRule {
  name: string;
  /** A metric name pattern with Python fnmatch syntax (`*`, `?`, `[seq]`, `[!seq]`), case-sensitive. */
  metric_pattern: string;
  archive_policy_name: string;
}

/** What the API accepts to create a policy (Gnocchi's POST /v1/archive_policy body); validated at run time. */
export interface ArchivePolicyInput {
  name?: unknown;
  back_window?: unknown;
  aggregation_methods?: unknown;
  definition?: unknown;
}

/** One definition item as the API accepts it: any two of granularity, points, timespan. */
export interface ArchivePolicyLevelInput {
  granularity?: unknown;
  points?: unknown;
  timespan?: unknown;
}

export type ArchivePolicyErrorCode =
  | 'CUMULUS_PIPELINE_ARCHIVE_POLICY_INVALID'
  | 'CUMULUS_PIPELINE_ARCHIVE_POLICY_NOT_FOUND'
  | 'CUMULUS_PIPELINE_ARCHIVE_POLICY_EXISTS'
  | 'CUMULUS_PIPELINE_ARCHIVE_POLICY_IN_USE'
  | 'CUMULUS_PIPELINE_ARCHIVE_POLICY_CHANGE_UNSUPPORTED'
  | 'CUMULUS_PIPELINE_ARCHIVE_POLICY_NO_RULE_MATCH'
  | 'CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_INVALID'
  | 'CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_NOT_FOUND'
  | 'CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_EXISTS'
  | 'CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_CHANGE_UNSUPPORTED';

/** HTTP statuses as Gnocchi answers each case (an in-use policy is a 400 there, not a 409). */
const STATUS: Record<ArchivePolicyErrorCode, number> = {
  CUMULUS_PIPELINE_ARCHIVE_POLICY_INVALID: 400,
  CUMULUS_PIPELINE_ARCHIVE_POLICY_NOT_FOUND: 404,
  CUMULUS_PIPELINE_ARCHIVE_POLICY_EXISTS: 409,
  CUMULUS_PIPELINE_ARCHIVE_POLICY_IN_USE: 400,
  CUMULUS_PIPELINE_ARCHIVE_POLICY_CHANGE_UNSUPPORTED: 400,
  CUMULUS_PIPELINE_ARCHIVE_POLICY_NO_RULE_MATCH: 400,
  CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_INVALID: 400,
  CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_NOT_FOUND: 404,
  CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_EXISTS: 409,
  CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_CHANGE_UNSUPPORTED: 400,
};

export class ArchivePolicyError extends CumulusError {
  declare readonly code: ArchivePolicyErrorCode;

  constructor(code: ArchivePolicyErrorCode, message: string, cause?: unknown) {
    super(code, message, { httpStatus: STATUS[code], cause });
    this.name = 'ArchivePolicyError';
  }
}

const invalid = (message: string) => new ArchivePolicyError('CUMULUS_PIPELINE_ARCHIVE_POLICY_INVALID', message);
const shown = (value: unknown): string => {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'nothing';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
};

// ---------------------------------------------------------------------------------------
// Aggregation methods

/** Gnocchi's basic methods; each also exists as `rate:<method>`, and `1pct`..`99pct` too. */
export const BASIC_AGGREGATION_METHODS = ['mean', 'sum', 'last', 'max', 'min', 'std', 'median', 'first', 'count'] as const;
export type BasicAggregationMethod = (typeof BASIC_AGGREGATION_METHODS)[number];

/** Gnocchi's `[archive_policy] default_aggregation_methods` default. */
export const GNOCCHI_DEFAULT_METHODS = ['mean', 'min', 'max', 'sum', 'std', 'count'] as const;

/** Percentiles as Gnocchi spells them: a whole 1..99 without leading zero, then `pct`. */
const PERCENTILE = /^([1-9][0-9]?)pct$/;

/** A method taken apart: `rate:95pct` is `{ rate: true, base: 'percentile', percentile: 95 }`. */
export interface ParsedAggregationMethod {
  readonly name: string;
  readonly rate: boolean;
  readonly base: BasicAggregationMethod | 'percentile';
  /** 1..99 when base is `percentile`. */
  readonly percentile?: number;
}

export function parseAggregationMethod(name: string): ParsedAggregationMethod | undefined {
  const rate = name.startsWith('rate:');
  const inner = rate ? name.slice(5) : name;
  if ((BASIC_AGGREGATION_METHODS as readonly string[]).includes(inner)) return { name, rate, base: inner as BasicAggregationMethod };
  const pct = PERCENTILE.exec(inner);
  if (pct) return { name, rate, base: 'percentile', percentile: Number(pct[1]) };
  return undefined;
}

export const isAggregationMethod = (name: string): boolean => parseAggregationMethod(name) !== undefined;

/** Every method Gnocchi accepts, in a stable order: basic, percentiles, then the rate: of each. */
export const ALL_AGGREGATION_METHODS: readonly string[] = (() => {
  const plain = [...BASIC_AGGREGATION_METHODS, ...Array.from({ length: 99 }, (_, i) => `${i + 1}pct`)];
  return [...plain, ...plain.map((m) => `rate:${m}`)];
})();

/**
 * Resolves a policy's `aggregation_methods` list as Gnocchi does: `*` means every method;
 * a list made only of `+m` / `-m` entries (or an empty one) starts from `defaults`;
 * otherwise the plain entries are the base; then each `-m` removes and each `+m` adds.
 */
export function resolveAggregationMethods(entries: readonly unknown[], defaults: readonly string[] = GNOCCHI_DEFAULT_METHODS): string[] {
  entries.forEach((entry, i) => {
    const ok = typeof entry === 'string' && (entry === '*' || isAggregationMethod(entry.startsWith('+') || entry.startsWith('-') ? entry.slice(1) : entry));
    if (!ok) throw invalid(`aggregation_methods[${i}]: expected a method (${BASIC_AGGREGATION_METHODS.join(', ')}, 1pct..99pct, rate:<any of those>), '*', or one prefixed with + or -; got ${shown(entry)}`);
  });
  const list = entries as readonly string[];
  const relative = (e: string) => e.startsWith('+') || e.startsWith('-');
  let base: string[];
  if (list.includes('*')) base = [...ALL_AGGREGATION_METHODS];
  else if (list.every(relative)) base = [...defaults];
  // Gnocchi keeps the literal "+m"/"-m" strings in a mixed list's result (a bug); we apply them only.
  else base = list.filter((e) => !relative(e) && e !== '*');
  const result = new Set(base);
  for (const entry of list) {
    if (entry.startsWith('-')) result.delete(entry.slice(1));
    else if (entry.startsWith('+')) result.add(entry.slice(1));
  }
  return [...result];
}

// ---------------------------------------------------------------------------------------
// Timespans

const WEEK = 604_800;
const DAY = 86_400;
const HOUR = 3600;
const MINUTE = 60;

/** Python's float() text: optional sign, digits with single underscores, fraction, exponent. */
const PY_FLOAT = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const PY_FLOAT_SPECIAL = /^[+-]?(?:inf|infinity|nan)$/i;

// pytimeparse 1.1.5's grammar (what Gnocchi parses timespan strings with), rewritten.
const NUM = '[\\d.]+';
const SEP = '\\s*(?:[,/]\\s*)?';
const part = (group: string, units: string, sep = true) => `(?:(?<${group}>${NUM})\\s*(?:${units})${sep ? SEP : ''})?`;
const WEEKS = part('weeks', 'w|wks?|weeks?');
const DAYS = part('days', 'd|dys?|days?');
const TIMESPAN_FORMATS: readonly RegExp[] = [
  new RegExp(`^\\s*${WEEKS}\\s*${DAYS}\\s*${part('hours', 'h|hrs?|hours?')}\\s*${part('mins', 'm|mins?|minutes?')}\\s*${part('secs', 's|secs?|seconds?', false)}\\s*$`, 'i'),
  /^\s*(?<mins>\d{1,2}):(?<secs>\d{2}(?:\.\d+)?)\s*$/i,
  new RegExp(`^\\s*${WEEKS}\\s*${DAYS}\\s*(?<hours>\\d+):(?<mins>\\d{2}):(?<secs>\\d{2}(?:\\.\\d+)?)\\s*$`, 'i'),
  /^\s*(?<days>\d+):(?<hours>\d{2}):(?<mins>\d{2}):(?<secs>\d{2}(?:\.\d+)?)\s*$/i,
  /^\s*:(?<secs>\d{2}(?:\.\d+)?)\s*$/i,
];
const MULTIPLIER: Record<string, number> = { weeks: WEEK, days: DAY, hours: HOUR, mins: MINUTE, secs: 1 };

function parseTimespanText(text: string): number | undefined {
  const signed = /^\s*(?<sign>[+-])?\s*(?<rest>.*)$/s.exec(text);
  const sign = signed?.groups?.sign === '-' ? -1 : 1;
  const rest = signed?.groups?.rest ?? '';
  for (const format of TIMESPAN_FORMATS) {
    const match = format.exec(rest);
    if (!match || match[0].trim() === '') continue;
    const parts = Object.entries(match.groups ?? {}).filter((e): e is [string, string] => e[1] !== undefined);
    const numbers = parts.map(([k, v]) => [k, Number(v)] as const);
    // "1.2.3" matches [\d.]+ but is no number: Python's float() raises, so the timespan is refused.
    if (numbers.some(([, n]) => Number.isNaN(n))) return undefined;
    const isDigits = (v: string) => /^\d+$/.test(v);
    const secs = match.groups?.secs;
    if (parts.every(([, v]) => isDigits(v))) return sign * numbers.reduce((sum, [k, n]) => sum + MULTIPLIER[k]! * n, 0);
    // pytimeparse truncates the non-second parts when the seconds are whole (or absent).
    if (secs === undefined || isDigits(secs)) return sign * (Math.trunc(numbers.filter(([k]) => k !== 'secs').reduce((sum, [k, n]) => sum + MULTIPLIER[k]! * n, 0)) + (secs ? Number(secs) : 0));
    return sign * numbers.reduce((sum, [k, n]) => sum + MULTIPLIER[k]! * n, 0);
  }
  return undefined;
}

/** A timespan in nanoseconds, truncated as Gnocchi keeps it (int(seconds * 10e8)); throws a plain Error with the reason. */
function timespanNs(value: unknown): bigint {
  let seconds: number | undefined;
  if (typeof value === 'number') seconds = value;
  else if (typeof value === 'string') {
    const text = value.trim();
    if (PY_FLOAT.test(text)) seconds = Number(text.replace(/_/g, ''));
    else if (PY_FLOAT_SPECIAL.test(text)) seconds = Number.NaN;
    else seconds = parseTimespanText(value);
  }
  if (seconds === undefined) throw new Error(`expected seconds or a timespan such as "5 minutes" or "1 day", got ${shown(value)}`);
  if (!Number.isFinite(seconds)) throw new Error(`expected a finite timespan, got ${shown(value)}`);
  const ns = BigInt(Math.trunc(seconds * 1e9));
  if (ns <= 0n) throw new Error(`expected a positive timespan, got ${shown(value)}`);
  return ns;
}

/**
 * A timespan as Gnocchi's API takes it (utils.to_timespan): a number of seconds, a string
 * Python's float() reads, or a pytimeparse string (`5 minutes`, `1h30m`, `1:30`, `2 days, 3:04:05`).
 * Returns seconds; refuses what is not positive. Throws a plain Error with the reason.
 */
export const parseTimespan = (value: unknown): number => Number(timespanNs(value)) / 1e9;

/** Python's int() as voluptuous.Coerce(int) applies it: numbers truncate, strings must be whole. */
function coerceInt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === 'string' && /^\s*[+-]?\d(?:_?\d)*\s*$/.test(value)) return Number(value.trim().replace(/_/g, ''));
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Definitions and policies

/** Retentions are stored as UInt32 seconds and added to DateTime('UTC') buckets, which end in 2106. */
export const MAX_RETENTION_SECONDS = 2 ** 31 - 1;

const NS = 1_000_000_000n;

/**
 * One definition item as Gnocchi's ArchivePolicyItem reads it: any two of granularity,
 * points and timespan (all three must agree); a missing timespan is granularity x points,
 * missing points are timespan / granularity rounded down, a missing granularity is
 * timespan / points. Cumulus also needs whole-second granularities and a bounded retention.
 */
export function parseArchivePolicyLevel(item: unknown, field = 'definition[0]'): ArchivePolicyLevel {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalid(`${field}: expected an object with two of granularity, points, timespan; got ${shown(item)}`);
  const input = item as Record<string, unknown>;
  const extra = Object.keys(input).filter((k) => !['granularity', 'points', 'timespan'].includes(k));
  if (extra.length > 0) throw invalid(`${field}: expected only granularity, points and timespan; got also ${extra.join(', ')}`);
  const timespanOf = (key: 'granularity' | 'timespan'): bigint | undefined => {
    if (input[key] === undefined || input[key] === null) return undefined;
    try {
      return timespanNs(input[key]);
    } catch (err) {
      throw invalid(`${field}.${key}: ${(err as Error).message}`);
    }
  };
  let granularity = timespanOf('granularity');
  let timespan = timespanOf('timespan');
  let points: number | undefined;
  if (input.points !== undefined && input.points !== null) {
    points = typeof input.points === 'boolean' ? undefined : coerceInt(input.points);
    if (points === undefined || points < 1) throw invalid(`${field}.points: expected a whole number >= 1, got ${shown(input.points)}`);
  }
  if (granularity !== undefined && points !== undefined && timespan !== undefined && timespan !== granularity * BigInt(points)) {
    throw invalid(`${field}: timespan must equal granularity x points; got granularity ${Number(granularity) / 1e9} s x ${points} points = ${(Number(granularity) / 1e9) * points} s, timespan ${Number(timespan) / 1e9} s`);
  }
  if (granularity === undefined) {
    if (points === undefined || timespan === undefined) throw invalid(`${field}: expected at least two of granularity, points, timespan; got ${shown(item)}`);
    if (timespan % BigInt(points) !== 0n) throw invalid(`${field}: timespan / points must be a whole number of seconds (Cumulus buckets by the second); got ${Number(timespan) / 1e9} s / ${points}`);
    granularity = timespan / BigInt(points);
  }
  if (granularity % NS !== 0n) throw invalid(`${field}.granularity: expected a whole number of seconds (Cumulus buckets by the second), got ${Number(granularity) / 1e9} s`);
  if (points === undefined) {
    if (timespan === undefined) throw invalid(`${field}: expected points or timespan besides granularity (Cumulus expires every level, an unbounded one is not supported); got ${shown(item)}`);
    points = Number(timespan / granularity);
    if (points < 1) throw invalid(`${field}: timespan ${Number(timespan) / 1e9} s holds no bucket of granularity ${Number(granularity) / 1e9} s; expected timespan >= granularity`);
  }
  const seconds = Number(granularity / NS);
  if (seconds * points > MAX_RETENTION_SECONDS) throw invalid(`${field}: expected a retention (granularity x points) up to ${MAX_RETENTION_SECONDS} s (68 years), got ${seconds * points} s`);
  return { granularity: seconds, points };
}

/** A definition list: at least one item, each granularity once. */
export function parseArchivePolicyDefinition(value: unknown): ArchivePolicyLevel[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid(`definition: expected a non-empty list of {granularity, points | timespan} items, got ${shown(value)}`);
  const levels = value.map((item, i) => parseArchivePolicyLevel(item, `definition[${i}]`));
  const seen = new Set<number>();
  for (const level of levels) {
    if (seen.has(level.granularity)) throw invalid(`definition: expected each granularity once, got ${level.granularity} s more than once`);
    seen.add(level.granularity);
  }
  return levels;
}

const NAME_MAX = 255;

export function parseName(value: unknown, field: string, code: ArchivePolicyErrorCode = 'CUMULUS_PIPELINE_ARCHIVE_POLICY_INVALID'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > NAME_MAX) throw new ArchivePolicyError(code, `${field}: expected a string of 1 to ${NAME_MAX} characters, got ${shown(value)}`);
  return value;
}

/**
 * A policy from an API body, validated as Gnocchi's POST /v1/archive_policy does: `name`
 * and `definition` required, `back_window` a whole number >= 0 (default 0),
 * `aggregation_methods` resolved against `defaults` (default: the defaults), nothing else.
 */
export function parseArchivePolicy(input: unknown, defaults: readonly string[] = GNOCCHI_DEFAULT_METHODS): ArchivePolicy {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid(`expected an archive policy object {name, back_window?, aggregation_methods?, definition}, got ${shown(input)}`);
  const body = input as Record<string, unknown>;
  const extra = Object.keys(body).filter((k) => !['name', 'back_window', 'aggregation_methods', 'definition'].includes(k));
  if (extra.length > 0) throw invalid(`expected only name, back_window, aggregation_methods and definition; got also ${extra.join(', ')}`);
  const name = parseName(body.name, 'name');
  let backWindow = 0;
  if (body.back_window !== undefined) {
    const coerced = typeof body.back_window === 'boolean' ? undefined : coerceInt(body.back_window);
    if (coerced === undefined || coerced < 0) throw invalid(`back_window: expected a whole number >= 0, got ${shown(body.back_window)}`);
    backWindow = coerced;
  }
  let methods: string[];
  if (body.aggregation_methods === undefined) methods = [...defaults];
  else if (!Array.isArray(body.aggregation_methods)) throw invalid(`aggregation_methods: expected a list, got ${shown(body.aggregation_methods)}`);
  else methods = resolveAggregationMethods(body.aggregation_methods, defaults);
  return { name, back_window: backWindow, aggregation_methods: methods, definition: parseArchivePolicyDefinition(body.definition) };
}

/** The largest granularity: Gnocchi's block size for the back window. */
export const maxBlockSize = (policy: ArchivePolicy): number => Math.max(...policy.definition.map((l) => l.granularity));

/** Whether any `rate:` method is kept (Gnocchi then keeps one more block of raw measures). */
export const hasRateMethod = (policy: ArchivePolicy): boolean => policy.aggregation_methods.some((m) => m.startsWith('rate:'));

// ---------------------------------------------------------------------------------------
// Built-ins

/**
 * Gnocchi's default policies (gnocchi/archive_policy.py DEFAULT_ARCHIVE_POLICIES; low,
 * medium and high take the configured default methods) and the ones Ceilometer's Gnocchi
 * publisher creates (ceilometer/publisher/data/gnocchi_resources.yaml), written in the
 * same terms their sources use and parsed like any API input.
 */
export function builtinArchivePolicies(defaults: readonly string[] = GNOCCHI_DEFAULT_METHODS): ArchivePolicy[] {
  const high = [
    { granularity: '1 second', timespan: '1 hour' },
    { granularity: '1 minute', timespan: '7 days' },
    { granularity: '1 hour', timespan: '365 days' },
  ];
  const ceilometerHigh = [
    { granularity: '1 second', timespan: '1 hour' },
    { granularity: '1 minute', timespan: '1 day' },
    { granularity: '1 hour', timespan: '365 days' },
  ];
  const bodies = [
    { name: 'bool', back_window: 3600, aggregation_methods: ['last'], definition: [{ granularity: '1 second', timespan: '365 days' }] },
    { name: 'low', back_window: 0, definition: [{ granularity: '5 minutes', timespan: '30 days' }] },
    { name: 'medium', back_window: 0, definition: high.slice(1) },
    { name: 'high', back_window: 0, definition: high },
    { name: 'ceilometer-low', back_window: 0, aggregation_methods: ['mean'], definition: [{ granularity: '5 minutes', timespan: '30 days' }] },
    { name: 'ceilometer-low-rate', back_window: 0, aggregation_methods: ['mean', 'rate:mean'], definition: [{ granularity: '5 minutes', timespan: '30 days' }] },
    { name: 'ceilometer-high', back_window: 0, aggregation_methods: ['mean'], definition: ceilometerHigh },
    { name: 'ceilometer-high-rate', back_window: 0, aggregation_methods: ['mean', 'rate:mean'], definition: ceilometerHigh },
  ];
  // low/medium/high take the defaults as a list, exactly as gnocchi-upgrade creates them.
  return bodies.map((body) => parseArchivePolicy(body, defaults));
}

export const BUILTIN_ARCHIVE_POLICIES: readonly ArchivePolicy[] = builtinArchivePolicies();

/**
 * The rule seeded on first open. Gnocchi's own default rule is `default: * -> low`;
 * Ceilometer gives every metric it creates `ceilometer-low` unless its resource file says
 * otherwise, so Cumulus (which stands in for both) seeds `* -> ceilometer-low`.
 */
export const DEFAULT_ARCHIVE_POLICY_RULES: readonly ArchivePolicyRule[] = [{ name: 'default', metric_pattern: '*', archive_policy_name: 'ceilometer-low' }];

// ---------------------------------------------------------------------------------------
// Rules

const codePoints = (s: string) => Array.from(s, (c) => c.codePointAt(0) as number);
function compareCodePoints(a: string, b: string): number {
  const x = codePoints(a);
  const y = codePoints(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return x.length - y.length;
}

/**
 * Gnocchi's rule order (indexer list_archive_policy_rules): metric_pattern descending,
 * then name ascending, compared by code point (SQLite's BINARY collation). The first rule
 * in this order whose pattern matches wins, so `disk.*` beats `*` because `d` > `*`.
 */
export const compareArchivePolicyRules = (a: ArchivePolicyRule, b: ArchivePolicyRule): number => compareCodePoints(b.metric_pattern, a.metric_pattern) || compareCodePoints(a.name, b.name);

const hex = (c: string) => `\\u{${(c.codePointAt(0) as number).toString(16)}}`;

/** Python's fnmatch syntax as a RegExp: `*`, `?`, `[seq]`, `[!seq]` with ranges; an unclosed `[` is literal. */
export function fnmatchRegExp(pattern: string): RegExp {
  const chars = Array.from(pattern);
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === '*') {
      if (!out.endsWith('.*')) out += '.*';
    } else if (c === '?') out += '.';
    else if (c === '[') {
      let j = i + 1;
      if (chars[j] === '!') j++;
      if (chars[j] === ']') j++;
      while (j < chars.length && chars[j] !== ']') j++;
      if (j >= chars.length) {
        out += hex('[');
        continue;
      }
      let body = chars.slice(i + 1, j);
      const negate = body[0] === '!';
      if (negate) body = body.slice(1);
      const items: string[] = [];
      for (let k = 0; k < body.length; k++) {
        const from = body[k] as string;
        if (body[k + 1] === '-' && k + 2 < body.length) {
          const to = body[k + 2] as string;
          // A reversed range matches nothing, as Python drops it.
          if ((from.codePointAt(0) as number) <= (to.codePointAt(0) as number)) items.push(`${hex(from)}-${hex(to)}`);
          k += 2;
        } else items.push(hex(from));
      }
      if (items.length === 0) out += negate ? '.' : '(?!)';
      else out += `[${negate ? '^' : ''}${items.join('')}]`;
      i = j;
    } else out += hex(c);
  }
  return new RegExp(`^${out}$`, 'su');
}

/** Bound on the per-metric-name cache; past it the cache restarts empty. */
const RESOLVER_CACHE_LIMIT = 100_000;

/**
 * Picks a metric's policy as Gnocchi does: the first rule, in Gnocchi's order (pattern
 * descending, then name), whose pattern fnmatches the metric name. Synchronous and cached
 * per metric name, since the pipeline asks once per sample; `update` swaps the whole set.
 */
export class ArchivePolicyResolver {
  private byName = new Map<string, ArchivePolicy>();
  private ordered: Array<{ rule: ArchivePolicyRule; regexp: RegExp }> = [];
  private readonly cache = new Map<string, ArchivePolicy>();

  constructor(policies: readonly ArchivePolicy[], rules: readonly ArchivePolicyRule[]) {
    this.update(policies, rules);
  }

  /** Replaces the policies and rules (all or nothing) and forgets every cached answer. */
  update(policies: readonly ArchivePolicy[], rules: readonly ArchivePolicyRule[]): void {
    const byName = new Map(policies.map((p) => [p.name, p]));
    for (const rule of rules) {
      if (!byName.has(rule.archive_policy_name)) throw new ArchivePolicyError('CUMULUS_PIPELINE_ARCHIVE_POLICY_NOT_FOUND', `archive policy rule ${rule.name} names archive policy ${rule.archive_policy_name}, which does not exist; known: ${[...byName.keys()].join(', ')}`);
    }
    this.byName = byName;
    this.ordered = [...rules].sort(compareArchivePolicyRules).map((rule) => ({ rule, regexp: fnmatchRegExp(rule.metric_pattern) }));
    this.cache.clear();
  }

  policy(name: string): ArchivePolicy {
    const found = this.byName.get(name);
    if (!found) throw new ArchivePolicyError('CUMULUS_PIPELINE_ARCHIVE_POLICY_NOT_FOUND', `Archive policy ${name} does not exist; known: ${[...this.byName.keys()].join(', ')}`);
    return found;
  }

  /** Every policy, by name. */
  policies(): ArchivePolicy[] {
    return [...this.byName.values()].sort((a, b) => compareCodePoints(a.name, b.name));
  }

  /** Every rule, in the order they are tried. */
  rules(): ArchivePolicyRule[] {
    return this.ordered.map((r) => r.rule);
  }

  /** The rule that picks `metricName`'s policy, or undefined when none matches. */
  ruleFor(metricName: string): ArchivePolicyRule | undefined {
    return this.ordered.find((r) => r.regexp.test(metricName))?.rule;
  }

  forMetric(metricName: string): ArchivePolicy {
    let policy = this.cache.get(metricName);
    if (!policy) {
      const rule = this.ruleFor(metricName);
      if (!rule) throw new ArchivePolicyError('CUMULUS_PIPELINE_ARCHIVE_POLICY_NO_RULE_MATCH', `No archive policy name specified and no archive policy rule found matching the metric name ${metricName}; expected a rule whose pattern matches it (e.g. pattern "*")`);
      policy = this.policy(rule.archive_policy_name);
      if (this.cache.size >= RESOLVER_CACHE_LIMIT) this.cache.clear();
      this.cache.set(metricName, policy);
    }
    return policy;
  }
}
