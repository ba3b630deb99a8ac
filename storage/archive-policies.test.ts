import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { GNOCCHI_REQUIRED, gnocchiUnavailable, runGnocchi } from '../test/support/gnocchi-carbonara.ts';
import {
  ALL_AGGREGATION_METHODS,
  ArchivePolicyResolver,
  BUILTIN_ARCHIVE_POLICIES,
  DEFAULT_ARCHIVE_POLICY_RULES,
  GNOCCHI_DEFAULT_METHODS,
  fnmatchRegExp,
  parseAggregationMethod,
  parseArchivePolicy,
  parseTimespan,
  resolveAggregationMethods,
  type ArchivePolicy,
  type ArchivePolicyRule,
} from './archive-policies.ts';

const unavailable = gnocchiUnavailable();
if (unavailable && !GNOCCHI_REQUIRED) process.stdout.write(`storage/archive-policies.test.ts: real Gnocchi cross-checks skipped: ${unavailable}\n`);
const withGnocchi = it.skipIf(unavailable !== null && !GNOCCHI_REQUIRED);
const CEILOMETER_RESOURCES = '/usr/lib/python3/dist-packages/ceilometer/publisher/data/gnocchi_resources.yaml';

const DAY = 86_400;
const invalid = expect.objectContaining({ code: 'CUMULUS_PIPELINE_ARCHIVE_POLICY_INVALID', httpStatus: 400 });

describe('aggregation methods', () => {
  it("accepts Gnocchi's set exactly: the basic nine, 1pct..99pct, and rate: of each", () => {
    expect(ALL_AGGREGATION_METHODS).toHaveLength((9 + 99) * 2);
    for (const ok of ['mean', 'median', 'first', '1pct', '95pct', '99pct', 'rate:last', 'rate:50pct']) expect(parseAggregationMethod(ok), ok).toBeDefined();
    // p95, 99.9pct and 0pct are not Gnocchi's spelling; neither is a leading zero or 100pct.
    for (const bad of ['p95', 'p99.9', '99.9pct', '0pct', '05pct', '100pct', 'rate:rate:mean', 'rate:', 'avg', 'Mean', '']) expect(parseAggregationMethod(bad), bad).toBeUndefined();
    expect(parseAggregationMethod('rate:95pct')).toEqual({ name: 'rate:95pct', rate: true, base: 'percentile', percentile: 95 });
  });

  it('resolves * and the +m / -m entries against the defaults', () => {
    expect(resolveAggregationMethods(['-std', '-count', '+rate:mean'])).toEqual(['mean', 'min', 'max', 'sum', 'rate:mean']);
    expect(resolveAggregationMethods([])).toEqual([...GNOCCHI_DEFAULT_METHODS]);
    expect(resolveAggregationMethods(['last', '95pct'])).toEqual(['last', '95pct']);
    expect(resolveAggregationMethods(['mean', '+max', '-min'])).toEqual(['mean', 'max']);
    expect(resolveAggregationMethods(['*', '-mean'])).toHaveLength(ALL_AGGREGATION_METHODS.length - 1);
    expect(resolveAggregationMethods(['+median'], ['mean'])).toEqual(['mean', 'median']);
    for (const bad of ['+*', '-', 'p95', '+p95', 7]) expect(() => resolveAggregationMethods([bad]), String(bad)).toThrow(invalid);
  });

  withGnocchi("resolves like Gnocchi's ArchivePolicy for lists made of one kind (Gnocchi keeps a mixed list's +/- strings, we apply them)", () => {
    expect(unavailable, 'CI needs real Gnocchi (python3-gnocchi) as the reference').toBeNull();
    const lists = [['-std', '-count', '+rate:mean'], [], ['last', '95pct'], ['*', '-mean', '-rate:mean'], ['+median'], ['-mean'], ['rate:mean', 'mean', 'mean']];
    const theirs = runGnocchi<{ results: Array<{ aggregation_methods: string[] } | string> }>({
      mode: 'policy',
      default_methods: [...GNOCCHI_DEFAULT_METHODS],
      bodies: lists.map((aggregation_methods) => ({ name: 'x', definition: [{ granularity: 60, points: 1 }], aggregation_methods })),
    }).results;
    lists.forEach((list, i) => expect([...resolveAggregationMethods(list)].sort(), JSON.stringify(list)).toEqual((theirs[i] as { aggregation_methods: string[] }).aggregation_methods));
  });
});

describe('timespans', () => {
  const values = ['5 minutes', '1 hour', '365 days', '1h30m', '1:30', '2 days, 3:04:05', '1.5h', '0.1m 1s', '1.0001m', '1.2.3s', '1:02:03:04', ':22', '1w 2d', '3 weeks', '  300  ', '1e3', '1_000', 'abc', '-5m', '1.5 seconds', '5 mins', '2hrs', '1 wk', '1/2', '5 Minutes', '1.2 minutes', 'inf', 'nan', '0', 300, 0.5, -1, '', '+5m'];

  it('reads seconds and pytimeparse strings', () => {
    expect(parseTimespan('5 minutes')).toBe(300);
    expect(parseTimespan('2 days, 3:04:05')).toBe(2 * DAY + 3 * 3600 + 4 * 60 + 5);
    expect(parseTimespan('1:30')).toBe(90);
    expect(parseTimespan(' 1e3 ')).toBe(1000);
    for (const bad of ['abc', '-5m', '0', 'inf', 'nan', '', true, null, {}]) expect(() => parseTimespan(bad), String(bad)).toThrow();
  });

  withGnocchi("parses every form exactly as Gnocchi's utils.to_timespan", () => {
    expect(unavailable, 'CI needs real Gnocchi (python3-gnocchi) as the reference').toBeNull();
    const theirs = runGnocchi<{ results: Array<number | string> }>({ mode: 'timespan', values }).results;
    values.forEach((value, i) => {
      const reference = theirs[i];
      if (typeof reference === 'string') expect(() => parseTimespan(value), `${JSON.stringify(value)}: Gnocchi says ${reference}`).toThrow();
      else expect(parseTimespan(value), JSON.stringify(value)).toBe(reference);
    });
  });
});

describe('policies', () => {
  const body = (definition: unknown[], extra: Record<string, unknown> = {}) => ({ name: 'p', definition, ...extra });

  it('derives the third of granularity, points, timespan from the other two', () => {
    expect(parseArchivePolicy(body([{ granularity: '5 minutes', timespan: '30 days' }])).definition).toEqual([{ granularity: 300, points: 8640 }]);
    expect(parseArchivePolicy(body([{ granularity: 60, points: 1440 }])).definition).toEqual([{ granularity: 60, points: 1440 }]);
    expect(parseArchivePolicy(body([{ points: 24, timespan: '1 day' }])).definition).toEqual([{ granularity: 3600, points: 24 }]);
    expect(parseArchivePolicy(body([{ granularity: 60, points: '10', timespan: 600 }])).definition).toEqual([{ granularity: 60, points: 10 }]);
    // A timespan that is not a multiple is rounded down to whole buckets, as Gnocchi does.
    expect(parseArchivePolicy(body([{ granularity: 60, timespan: 150 }])).definition).toEqual([{ granularity: 60, points: 2 }]);
    // points is coerced like Python's int(): a float truncates.
    expect(parseArchivePolicy(body([{ granularity: 60, points: 3.9 }])).definition).toEqual([{ granularity: 60, points: 3 }]);
  });

  it('defaults back_window to 0 and aggregation_methods to the defaults', () => {
    expect(parseArchivePolicy(body([{ granularity: 60, points: 1 }]))).toEqual({ name: 'p', back_window: 0, aggregation_methods: [...GNOCCHI_DEFAULT_METHODS], definition: [{ granularity: 60, points: 1 }] });
    expect(parseArchivePolicy(body([{ granularity: 60, points: 1 }]), ['mean']).aggregation_methods).toEqual(['mean']);
    expect(parseArchivePolicy(body([{ granularity: 60, points: 1 }], { back_window: '3' })).back_window).toBe(3);
  });

  it('refuses what Gnocchi refuses (and what Cumulus cannot store), saying what was expected and what came', () => {
    const cases: Array<[unknown, RegExp]> = [
      [body([{ granularity: 60, points: 10, timespan: 500 }]), /timespan must equal granularity x points.*60 s x 10 points = 600 s, timespan 500 s/],
      [body([{ granularity: 60 }]), /expected points or timespan besides granularity/],
      [body([{ points: 10 }]), /at least two of granularity, points, timespan/],
      [body([{ timespan: '1 day' }]), /at least two/],
      [body([{ granularity: 60, points: 0 }]), /points: expected a whole number >= 1, got 0/],
      [body([{ granularity: 60, points: 'ten' }]), /points: expected a whole number >= 1, got "ten"/],
      [body([{ granularity: -60, points: 1 }]), /granularity: expected a positive timespan, got -60/],
      [body([{ granularity: 'soon', points: 1 }]), /granularity: expected seconds or a timespan.*got "soon"/],
      [body([{ granularity: 60, timespan: 30 }]), /holds no bucket/],
      [body([{ granularity: 0.5, points: 10 }]), /whole number of seconds.*got 0.5 s/],
      [body([{ points: 7, timespan: 3600 }]), /timespan \/ points must be a whole number of seconds/],
      [body([{ granularity: 60, points: 1 }, { granularity: '1 minute', points: 5 }]), /each granularity once, got 60 s more than once/],
      [body([]), /definition: expected a non-empty list/],
      [{ name: 'p' }, /definition: expected a non-empty list.*got nothing/],
      [body([{ granularity: 60, points: 1, every: 2 }]), /expected only granularity, points and timespan; got also every/],
      [body([{ granularity: 1, points: 2 ** 31 }]), /retention .* up to 2147483647 s/],
      [body([{ granularity: 60, points: 1 }], { back_window: -1 }), /back_window: expected a whole number >= 0, got -1/],
      [body([{ granularity: 60, points: 1 }], { back_window: '1.5' }), /back_window/],
      [body([{ granularity: 60, points: 1 }], { aggregation_methods: ['p99'] }), /aggregation_methods\[0\].*got "p99"/],
      [body([{ granularity: 60, points: 1 }], { aggregation_methods: 'mean' }), /aggregation_methods: expected a list/],
      [body([{ granularity: 60, points: 1 }], { color: 'red' }), /got also color/],
      [{ name: '', definition: [{ granularity: 60, points: 1 }] }, /name: expected a string of 1 to 255 characters, got ""/],
      [{ name: 'x'.repeat(256), definition: [{ granularity: 60, points: 1 }] }, /name: expected a string of 1 to 255/],
      ['low', /expected an archive policy object/],
    ];
    for (const [input, message] of cases) expect(() => parseArchivePolicy(input), JSON.stringify(input).slice(0, 80)).toThrow(expect.objectContaining({ code: 'CUMULUS_PIPELINE_ARCHIVE_POLICY_INVALID', httpStatus: 400, message: expect.stringMatching(message) }));
  });

  withGnocchi('derives the same definitions as Gnocchi, and refuses the same ones (where Cumulus can store them)', () => {
    expect(unavailable, 'CI needs real Gnocchi (python3-gnocchi) as the reference').toBeNull();
    const definitions = [
      [{ granularity: '5 minutes', timespan: '30 days' }],
      [{ granularity: 60, points: 1440 }],
      [{ points: 24, timespan: '1 day' }],
      [{ granularity: 60, timespan: 150 }],
      [{ granularity: 60, points: 10, timespan: 500 }],
      [{ points: 10 }],
      [{ granularity: 60, timespan: 30 }],
      [{ granularity: 60, points: 1 }, { granularity: '1 minute', points: 5 }],
      [{ granularity: '1 hour', points: 2 }, { granularity: '1:00', timespan: '2h' }],
    ];
    const theirs = runGnocchi<{ results: Array<{ definition: Array<[number, number]> } | string> }>({ mode: 'policy', default_methods: [...GNOCCHI_DEFAULT_METHODS], bodies: definitions.map((definition) => ({ name: 'x', definition })) }).results;
    definitions.forEach((definition, i) => {
      const reference = theirs[i];
      if (typeof reference === 'string') expect(() => parseArchivePolicy({ name: 'x', definition }), `${JSON.stringify(definition)}: Gnocchi says ${reference}`).toThrow(invalid);
      else expect(parseArchivePolicy({ name: 'x', definition }).definition.map((l) => [l.granularity, l.points]), JSON.stringify(definition)).toEqual(reference?.definition);
    });
  });

  withGnocchi("has Gnocchi's default policies exactly (low, medium, high, bool)", () => {
    expect(unavailable, 'CI needs real Gnocchi (python3-gnocchi) as the reference').toBeNull();
    const theirs = runGnocchi<{ default_methods: string[]; policies: Array<{ name: string; back_window: number; definition: Array<[number, number]>; aggregation_methods: string[] }> }>({ mode: 'builtins' });
    expect(theirs.default_methods).toEqual([...GNOCCHI_DEFAULT_METHODS]);
    for (const reference of theirs.policies) {
      const ours = BUILTIN_ARCHIVE_POLICIES.find((p) => p.name === reference.name) as ArchivePolicy;
      expect(ours, reference.name).toBeDefined();
      expect({ back_window: ours.back_window, definition: ours.definition.map((l) => [l.granularity, l.points]), aggregation_methods: [...ours.aggregation_methods].sort() }, reference.name).toEqual({
        back_window: reference.back_window,
        definition: reference.definition,
        aggregation_methods: reference.aggregation_methods,
      });
    }
  });

  it.skipIf(!GNOCCHI_REQUIRED && unavailable !== null)("has Ceilometer's policies exactly as its Gnocchi publisher creates them", () => {
    const file = parseYaml(readFileSync(CEILOMETER_RESOURCES, 'utf8')) as { archive_policy_default: string; archive_policies: Array<Record<string, unknown>> };
    expect(file.archive_policies.map((p) => p.name)).toEqual(['ceilometer-low', 'ceilometer-low-rate', 'ceilometer-high', 'ceilometer-high-rate']);
    for (const body of file.archive_policies) expect(BUILTIN_ARCHIVE_POLICIES.find((p) => p.name === body.name), String(body.name)).toEqual(parseArchivePolicy(body));
    expect(DEFAULT_ARCHIVE_POLICY_RULES).toEqual([{ name: 'default', metric_pattern: '*', archive_policy_name: file.archive_policy_default }]);
  });
});

describe('rules', () => {
  const rules: ArchivePolicyRule[] = [
    { name: 'default', metric_pattern: '*', archive_policy_name: 'low' },
    { name: 'b-disk', metric_pattern: 'disk.*', archive_policy_name: 'medium' },
    { name: 'a-disk', metric_pattern: 'disk.*', archive_policy_name: 'high' },
    { name: 'reads', metric_pattern: 'disk.read*', archive_policy_name: 'bool' },
    { name: 'short', metric_pattern: 'cpu', archive_policy_name: 'ceilometer-low-rate' },
    { name: 'set', metric_pattern: 'network.[io]*', archive_policy_name: 'ceilometer-high' },
    { name: 'not-set', metric_pattern: 'x[!a-c]?', archive_policy_name: 'ceilometer-high-rate' },
  ];
  const metrics = ['disk.read.bytes', 'disk.write.bytes', 'cpu', 'cpu_util', 'network.incoming.bytes', 'network.x', 'xd1', 'xa1', 'x[', 'memory', '', 'Disk.read'];

  it("tries rules as Gnocchi's indexer orders them (pattern descending, then name) with fnmatch patterns", () => {
    const resolver = new ArchivePolicyResolver(BUILTIN_ARCHIVE_POLICIES, rules);
    expect(resolver.rules().map((r) => r.name)).toEqual(['not-set', 'set', 'reads', 'a-disk', 'b-disk', 'short', 'default']);
    expect(metrics.map((name) => resolver.ruleFor(name)?.name)).toEqual(['reads', 'a-disk', 'short', 'default', 'set', 'default', 'not-set', 'default', 'default', 'default', 'default', 'default']);
    expect(resolver.forMetric('cpu').name).toBe('ceilometer-low-rate');
    expect(fnmatchRegExp('a[').test('a[')).toBe(true);
    expect(fnmatchRegExp('[z-a]').test('m')).toBe(false);
    expect(fnmatchRegExp('a.b').test('axb')).toBe(false);
  });

  withGnocchi('picks the same rule as Gnocchi (its order, Python fnmatch)', () => {
    expect(unavailable, 'CI needs real Gnocchi (python3-gnocchi) as the reference').toBeNull();
    const resolver = new ArchivePolicyResolver(BUILTIN_ARCHIVE_POLICIES, rules);
    const theirs = runGnocchi<{ results: Array<string | null> }>({ mode: 'rules', rules: rules.map((r) => [r.name, r.metric_pattern]), metrics }).results;
    expect(metrics.map((name) => resolver.ruleFor(name)?.name ?? null)).toEqual(theirs);
  });

  it('refuses a metric no rule matches, and a rule naming a missing policy, with codes', () => {
    const resolver = new ArchivePolicyResolver(BUILTIN_ARCHIVE_POLICIES, [{ name: 'only-cpu', metric_pattern: 'cpu*', archive_policy_name: 'low' }]);
    expect(() => resolver.forMetric('memory')).toThrow(expect.objectContaining({ code: 'CUMULUS_PIPELINE_ARCHIVE_POLICY_NO_RULE_MATCH', httpStatus: 400, message: expect.stringContaining('memory') }));
    expect(() => resolver.policy('nope')).toThrow(expect.objectContaining({ code: 'CUMULUS_PIPELINE_ARCHIVE_POLICY_NOT_FOUND', httpStatus: 404 }));
    expect(() => new ArchivePolicyResolver(BUILTIN_ARCHIVE_POLICIES, [{ name: 'r', metric_pattern: '*', archive_policy_name: 'nope' }])).toThrow(expect.objectContaining({ code: 'CUMULUS_PIPELINE_ARCHIVE_POLICY_NOT_FOUND' }));
  });

  it('answers from its cache until updated', () => {
    const resolver = new ArchivePolicyResolver(BUILTIN_ARCHIVE_POLICIES, DEFAULT_ARCHIVE_POLICY_RULES);
    expect(resolver.forMetric('cpu').name).toBe('ceilometer-low');
    resolver.update(BUILTIN_ARCHIVE_POLICIES, [...DEFAULT_ARCHIVE_POLICY_RULES, { name: 'cpu', metric_pattern: 'cpu', archive_policy_name: 'high' }]);
    expect(resolver.forMetric('cpu').name).toBe('high');
    expect(resolver.forMetric('memory').name).toBe('ceilometer-low');
  });
});
