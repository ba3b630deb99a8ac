import { describe, expect, it } from 'vitest';
import { GNOCCHI_REQUIRED } from '../../../test/support/gnocchi-carbonara.ts';
import { gnocchiOperations, gnocchiOperationsUnavailable, type GnocchiOperationsRequest, type GnocchiPoint } from '../../../test/support/gnocchi-operations.ts';
import { DescribedApiError } from '../../errors.ts';
import { extractReferences, parseOperations } from './grammar.ts';
import { processSeries, type Fill, type Point, type ProcessOptions, type ProcessResult } from './processor.ts';

type Series = Record<string, Record<number, Array<[number, number]>>>;

/** Runs `operations` over named series (name -> granularity -> points), each read with `mean`. */
function run(operations: unknown, series: Series, options: ProcessOptions = { fill: 'dropna' }): ProcessResult {
  const tree = parseOperations(operations);
  const refs = extractReferences(tree);
  const inputs = refs.flatMap((ref, reference) => Object.entries(series[ref.name] ?? {}).map(([g, points]) => ({ reference, granularity: Number(g), points })));
  return processSeries(tree, refs.map((r) => [r.name, r.aggregation] as const), inputs, options);
}

function refusal(f: () => unknown): Record<string, unknown> {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(DescribedApiError);
    return (err as DescribedApiError).description as Record<string, unknown>;
  }
  throw new Error('expected a refusal');
}

const close = (actual: readonly Point[], wanted: ReadonlyArray<readonly [number, number, number | null]>, label = '') => {
  expect(actual.map(([t, g]) => [t, g]), `${label} times`).toEqual(wanted.map(([t, g]) => [t, g]));
  wanted.forEach(([, , w], i) => {
    const got = (actual[i] as Point)[2];
    if (w === null) expect(got, `${label} #${i}`).toBeNull();
    else expect(Math.abs((got as number) - w), `${label} #${i}: got ${got}, want ${w}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(w)));
  });
};

const aggregatedOf = (r: ProcessResult) => {
  expect(r.kind).toBe('aggregated');
  return (r as { points: Point[] }).points;
};
const seriesOf = (r: ProcessResult) => {
  expect(r.kind).toBe('series');
  return (r as { perReference: Point[][] }).perReference;
};

// Gnocchi's functional test data (tests/functional/gabbits/aggregates-with-metric-ids.yaml):
// 2015-03-06 14:33:57, 14:34:12, 14:34:15, 14:35:12, 14:35:15, and their minutes.
const T = (h: number, m: number, s: number) => Date.UTC(2015, 2, 6, h, m, s) / 1000;
const SECONDS = [T(14, 33, 57), T(14, 34, 12), T(14, 34, 15), T(14, 35, 12), T(14, 35, 15)];
const MINUTES = [T(14, 33, 0), T(14, 34, 0), T(14, 35, 0)];
const GABBIT: Series = {
  m1: { 60: [[MINUTES[0]!, 43.1], [MINUTES[1]!, -2], [MINUTES[2]!, 10]], 1: SECONDS.map((t, i) => [t, [43.1, 12, -16, 9, 11][i]!]) },
  m2: { 60: [[MINUTES[0]!, 2], [MINUTES[1]!, 4.5], [MINUTES[2]!, 12.5]], 1: SECONDS.map((t, i) => [t, [2, 4, 5, 10, 15][i]!]) },
};
const at = (times: number[], g: number, values: number[]) => times.map((t, i) => [t, g, values[i]!] as const);

describe("the operations over Gnocchi's functional-test series", () => {
  it('aggregates two metrics per bucket, coarsest granularity first', () => {
    close(aggregatedOf(run('(aggregate mean (metric (m1 mean) (m2 mean)))', GABBIT)), [...at(MINUTES, 60, [22.55, 1.25, 11.25]), ...at(SECONDS, 1, [22.55, 8, -5.5, 9.5, 13])]);
  });

  it('takes the rate of the aggregate (rate:mean) and the rate of change of each series', () => {
    close(aggregatedOf(run('(aggregate rate:mean (metric (m1 mean) (m2 mean)))', GABBIT)), [...at(MINUTES.slice(1), 60, [-21.3, 10]), ...at(SECONDS.slice(1), 1, [-14.55, -13.5, 15, 3.5])]);
    const [m1] = seriesOf(run('(rateofchange (metric m1 mean))', GABBIT));
    close(m1!, [...at(MINUTES.slice(1), 60, [-45.1, 12]), ...at(SECONDS.slice(1), 1, [-31.1, -28, 25, 2])]);
  });

  it('applies arithmetic per series, and two series give one aggregated series', () => {
    const [m1, m2] = seriesOf(run('(+ (metric (m1 mean) (m2 mean)) 2.0)', GABBIT));
    close(m1!, [...at(MINUTES, 60, [45.1, 0, 12]), ...at(SECONDS, 1, [45.1, 14, -14, 11, 13])]);
    close(m2!, [...at(MINUTES, 60, [4, 6.5, 14.5]), ...at(SECONDS, 1, [4, 6, 7, 12, 17])]);
    close(aggregatedOf(run('(- (metric m1 mean) (metric m2 mean))', GABBIT)), [...at(MINUTES, 60, [41.1, -6.5, -2.5]), ...at(SECONDS, 1, [41.1, 8, -21, -1, -4])]);
    close(aggregatedOf(run('(negative (absolute (aggregate mean (metric (m1 mean) (m2 mean)))))', GABBIT)), [...at(MINUTES, 60, [-22.55, -1.25, -11.25]), ...at(SECONDS, 1, [-22.55, -8, -5.5, -9.5, -13])]);
  });

  it('resamples and rolls each series', () => {
    const one = { 1: GABBIT.m1![1]! };
    const two = { m1: one, m2: { 1: GABBIT.m2![1]! } };
    const [r1, r2] = seriesOf(run('(resample mean 60 (metric (m1 mean) (m2 mean)))', two));
    close(r1!, at(MINUTES, 60, [43.1, -2, 10]));
    close(r2!, at(MINUTES, 60, [2, 4.5, 12.5]));
    const [w1, w2] = seriesOf(run('(rolling mean 2 (metric (m1 mean) (m2 mean)))', two));
    close(w1!, at(SECONDS.slice(1), 1, [27.55, -2, -3.5, 10]));
    close(w2!, at(SECONDS.slice(1), 1, [3, 4.5, 7.5, 12.5]));
  });

  it('drops infinities with dropna and answers them as null with fill=null', () => {
    const cpu: Series = { a: { 300: [[T(14, 30, 0), 27.55]], 1: [[T(14, 33, 57), 43.1]] }, b: { 300: [[T(14, 30, 0), 15.5]], 1: [[T(14, 33, 57), 23]] } };
    expect(aggregatedOf(run('(/ (* 100 (aggregate mean (metric (a mean) (b mean)))) 0 )', cpu))).toEqual([]);
    expect(aggregatedOf(run('(/ (* 100 (aggregate mean (metric (a mean) (b mean)))) 0 )', cpu, { fill: 'null' }))).toEqual([
      [T(14, 30, 0), 300, null],
      [T(14, 33, 57), 1, null],
    ]);
  });
});

describe('fill and the overlap rule', () => {
  // a: minutes 0..3, b: minutes 2..5 (60 s buckets from t0).
  const t0 = 1_700_000_040;
  const m = (i: number) => t0 + i * 60;
  const data: Series = { a: { 60: [[m(0), 1], [m(1), 2], [m(2), 3], [m(3), 4]] }, b: { 60: [[m(2), 10], [m(3), 20], [m(4), 30], [m(5), 40]] } };
  const sum = (options: ProcessOptions) => aggregatedOf(run('(aggregate sum (metric (a mean) (b mean)))', data, options));

  it('without fill, keeps the overlapping span, and needs needed_overlap percent of it', () => {
    close(sum({ neededOverlap: 100 }), [[m(2), 60, 13], [m(3), 60, 24]]);
    // A start given: the span starts there (minutes 0..3; 2 of 4 overlap = 50%).
    expect(refusal(() => sum({ neededOverlap: 100, start: m(0) }))).toMatchObject({ cause: "Metrics can't being aggregated", reason: 'Less than 100.000000% of datapoints overlap in this timespan (50.00%)', detail: [['a', 'mean'], ['b', 'mean']] });
    close(sum({ neededOverlap: 50, start: m(0) }), [[m(0), 60, 1], [m(1), 60, 2], [m(2), 60, 13], [m(3), 60, 24]]);
    const apart: Series = { a: { 60: [[m(0), 1]] }, b: { 60: [[m(5), 2]] } };
    expect(refusal(() => run('(aggregate sum (metric (a mean) (b mean)))', apart, { neededOverlap: 100 })).reason).toBe('No overlap');
    close(aggregatedOf(run('(aggregate sum (metric (a mean) (b mean)))', apart, { neededOverlap: 0 })), [[m(0), 60, 1], [m(5), 60, 2]]);
  });

  it('fills with a number, keeps null, or drops', () => {
    close(sum({ fill: 0.5 }), [[m(0), 60, 1.5], [m(1), 60, 2.5], [m(2), 60, 13], [m(3), 60, 24], [m(4), 60, 30.5], [m(5), 60, 40.5]]);
    const [a, b] = seriesOf(run('(metric (a mean) (b mean))', data, { fill: 'null' }));
    expect(a!.map((p) => p[2])).toEqual([1, 2, 3, 4, null, null]);
    expect(b!.map((p) => p[2])).toEqual([null, null, 10, 20, 30, 40]);
    const [da, db] = seriesOf(run('(metric (a mean) (b mean))', data, { fill: 'dropna' }));
    expect(da!.map((p) => p[2])).toEqual([1, 2, 3, 4]);
    expect(db!.map((p) => p[2])).toEqual([10, 20, 30, 40]);
  });

  it('fills forward, backward and both ways within each series', () => {
    const values = (fill: Fill) => seriesOf(run('(metric (a mean) (b mean))', data, { fill })).map((points) => points.map((p) => p[2]));
    expect(values('ffill')).toEqual([[1, 2, 3, 4, 4, 4], [10, 20, 30, 40]]);
    expect(values('bfill')).toEqual([[1, 2, 3, 4], [10, 10, 10, 20, 30, 40]]);
    expect(values('full_ffill')).toEqual([[1, 2, 3, 4, 4, 4], [10, 10, 10, 20, 30, 40]]);
    expect(values('full_bfill')).toEqual([[1, 2, 3, 4, 4, 4], [10, 10, 10, 20, 30, 40]]);
    close(aggregatedOf(run('(aggregate mean (metric (a mean) (b mean)))', data, { fill: 'ffill' })), [[m(0), 60, 1], [m(1), 60, 2], [m(2), 60, 6.5], [m(3), 60, 12], [m(4), 60, 17], [m(5), 60, 22]]);
  });

  it('refuses a rolling window longer than the series, and series of different times', () => {
    expect(refusal(() => run('(rolling mean 7 (metric a mean))', data)).reason).toBe("Rolling window '7' is greater than serie length '4'");
    expect(refusal(() => run('(+ (metric a mean) (rateofchange (metric b mean)))', data)).reason).toMatch(/^Can't compute timeseries with different granularity \(metric a mean\) <> \(rateofchange \(metric b mean\)\)/);
    expect(refusal(() => run('(aggregate mean (+ (metric a mean) 1))', { a: { 60: [] } }, { neededOverlap: 100 })).reason).toBe('No overlap');
  });

  it('computes each operator as numpy does', () => {
    const one: Series = { a: { 60: [[m(0), -7], [m(1), 2.5], [m(2), 9]] } };
    const values = (ops: string) => seriesOf(run(ops, one))[0]!.map((p) => p[2]);
    expect(values('(% (metric a mean) 4)')).toEqual([1, 2.5, 1]);
    expect(values('(mod (metric a mean) -4)')).toEqual([-3, -1.5, -3]);
    expect(values('(** (metric a mean) 2)')).toEqual([49, 6.25, 81]);
    expect(values('(clip (metric a mean) 0 5)')).toEqual([0, 2.5, 5]);
    expect(values('(clip_min (metric a mean) 3)')).toEqual([3, 3, 9]);
    expect(values('(clip_max (metric a mean) 3)')).toEqual([-7, 2.5, 3]);
    expect(values('(>= (metric a mean) 2.5)')).toEqual([0, 1, 1]);
    expect(values('(floor (metric a mean))')).toEqual([-7, 2, 9]);
    expect(values('(ceil (metric a mean))')).toEqual([-7, 3, 9]);
    expect(values('(abs (metric a mean))')).toEqual([7, 2.5, 9]);
    expect(values('(rateofchangesec (metric a mean))')).toEqual([(2.5 + 7) / 60, (9 - 2.5) / 60]);
    expect(values('(rolling sum 2 (metric a mean))')).toEqual([-4.5, 11.5]);
    expect(values('(rolling rate:max 2 (metric a mean))')).toEqual([9 - 2.5]);
    expect(values('(resample max 120 (metric a mean))')).toEqual([2.5, 9]);
    expect(values('(resample rate:sum 120 (metric a mean))')).toEqual([9.5, 6.5]);
  });

  it('reduces across series like numpy nan-functions: std and var over the population, count of present values', () => {
    const three: Series = { a: { 60: [[m(0), 1], [m(1), 4]] }, b: { 60: [[m(0), 3]] }, c: { 60: [[m(0), 8], [m(1), 6]] } };
    const agg = (method: string) => aggregatedOf(run(`(aggregate ${method} (metric (a mean) (b mean) (c mean)))`, three, { fill: 'null' })).map((p) => p[2]);
    expect(agg('mean')).toEqual([4, 5]);
    expect(agg('median')).toEqual([3, 5]);
    expect(agg('var')).toEqual([(9 + 1 + 16) / 3, 1]);
    expect(agg('std')).toEqual([Math.sqrt(26 / 3), 1]);
    expect(agg('count')).toEqual([3, 2]);
    expect(agg('min')).toEqual([1, 4]);
    expect(agg('max')).toEqual([8, 6]);
    expect(agg('sum')).toEqual([12, 10]);
  });
});

const unavailable = gnocchiOperationsUnavailable();
if (unavailable && !GNOCCHI_REQUIRED) process.stdout.write(`api/metric/aggregates/processor.test.ts: real Gnocchi cross-checks skipped: ${unavailable}\n`);

describe.runIf(!unavailable || GNOCCHI_REQUIRED)('the evaluator against real Gnocchi 4.4', { timeout: 120_000 }, () => {
  it('has the reference', () => expect(unavailable).toBeNull());

  it('answers every operation and option the way gnocchi.rest.aggregates does', () => {
    const t0 = 1_700_000_000 - (1_700_000_000 % 3600);
    // Deterministic pseudo-random series at 60 s and 300 s, overlapping but not identical.
    let seed = 7;
    const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648) * 20 - 5;
    const make = (from: number, to: number, skip: number[] = []) => ({
      60: Array.from({ length: to - from }, (_, i) => from + i).filter((i) => !skip.includes(i)).map((i) => [t0 + i * 60, Math.round(rand() * 100) / 100] as [number, number]),
      300: Array.from({ length: Math.ceil((to - from) / 5) }, (_, i) => [t0 + (Math.floor(from / 5) + i) * 300, Math.round(rand() * 100) / 100] as [number, number]),
    });
    const series: Series = { a: make(0, 12), b: make(3, 15, [7]), c: make(2, 10, [4, 5]) };
    const full: Series = { a: make(0, 10), b: make(0, 10), c: make(0, 10) };
    const ops = [
      '(metric (a mean) (b mean) (c mean))',
      '(metric b mean)',
      ...['mean', 'median', 'std', 'var', 'min', 'max', 'sum', 'count', 'rate:mean', 'rate:max', 'rate:count'].map((m) => `(aggregate ${m} (metric (a mean) (b mean) (c mean)))`),
      '(+ (metric (a mean) (b mean)) 2.5)',
      '(- (metric a mean) (metric b mean))',
      '(* (metric a mean) (metric (b mean)))',
      '(/ (metric (a mean) (c mean)) 0)',
      '(/ (metric a mean) (metric c mean))',
      '(** (abs (metric a mean)) 0.5)',
      '(% (metric (a mean) (b mean)) 3)',
      '(mod (metric a mean) -3)',
      '(neg (floor (metric (a mean) (c mean))))',
      '(ceil (cos (sin (tan (metric a mean)))))',
      '(rateofchange (metric (a mean) (b mean)))',
      '(clip (metric (a mean) (b mean)) 0 5)',
      '(clip_min (metric a mean) 1)',
      '(clip_max (metric (a mean) (c mean)) 1)',
      ...['mean', 'max', 'sum', 'std', 'median', 'count', 'rate:mean'].map((m) => `(rolling ${m} 3 (metric (a mean) (b mean)))`),
      '(rolling mean 20 (metric a mean))',
      '(aggregate sum (rolling mean 2 (metric (a mean) (b mean) (c mean))))',
      '(- (aggregate max (metric (a mean) (b mean))) (aggregate min (metric (a mean) (b mean))))',
    ];
    // resample over grids with no holes (Gnocchi lets a hole's NaN spoil its bucket; Cumulus leaves it out).
    const resampleOps = ['mean', 'max', 'min', 'sum', 'median', 'count', 'std', 'rate:mean'].map((m) => `(resample ${m} 600 (metric (a mean) (b mean) (c mean)))`);
    resampleOps.push('(aggregate mean (resample mean 600 (metric (a mean) (b mean))))');
    const options: Array<Pick<GnocchiOperationsRequest, 'fill' | 'needed_overlap' | 'start' | 'stop'>> = [
      {},
      { fill: 'null' },
      { fill: 0 },
      { fill: 2.5 },
      { needed_overlap: 0 },
      { needed_overlap: 50 },
      { needed_overlap: 100 },
      { fill: 'dropna', start: t0 + 5 * 60 + 30, stop: t0 + 11 * 60 },
      { needed_overlap: 40, start: t0 + 60 },
    ];
    const cases: Array<{ ops: string; data: Series; option: (typeof options)[number] }> = [];
    for (const option of options) {
      for (const o of ops) cases.push({ ops: o, data: series, option });
      for (const o of resampleOps) cases.push({ ops: o, data: full, option });
    }
    const requests: GnocchiOperationsRequest[] = cases.map(({ ops: o, data, option }) => ({
      operations: o,
      series: extractReferences(parseOperations(o)).flatMap((ref) => Object.entries(data[ref.name] ?? {}).map(([g, points]) => ({ name: ref.name, method: ref.aggregation, granularity: Number(g), points }))),
      ...option,
    }));
    const answers = gnocchiOperations(requests);
    const kinds = { error: 0, aggregated: 0, series: 0 };
    for (const [i, { ops: o, data, option }] of cases.entries()) {
      const theirs = answers[i]!;
      const label = `${o} ${JSON.stringify(option)}`;
      const fill = option.fill ?? (option.needed_overlap === undefined ? 'dropna' : undefined);
      const opts: ProcessOptions = {
        ...(fill === undefined || fill === null ? {} : { fill }),
        ...(option.needed_overlap == null ? {} : { neededOverlap: option.needed_overlap }),
        ...(option.start == null ? {} : { start: option.start }),
        ...(option.stop == null ? {} : { stop: option.stop }),
      };
      let ours: ProcessResult | { error: string };
      try {
        ours = run(o, data, opts);
      } catch (err) {
        if (!(err instanceof DescribedApiError)) throw err;
        ours = { error: String((err.description as { reason?: string }).reason) };
      }
      if ('error' in theirs) {
        expect('error' in ours ? ours.error : ours, label).toEqual(expect.stringContaining(theirs.error.slice(0, 20)));
      } else if ('aggregated' in theirs) {
        expect('error' in ours ? ours.error : ours.kind, label).toBe('aggregated');
        close((ours as { points: Point[] }).points, theirs.aggregated, label);
      } else {
        expect('error' in ours ? ours.error : ours.kind, label).toBe('series');
        const refs = extractReferences(parseOperations(o));
        refs.forEach((ref, r) => close((ours as { perReference: Point[][] }).perReference[r]!, (theirs.series[ref.name]?.[ref.aggregation] ?? []) as GnocchiPoint[], `${label} ${ref.name}`));
      }
      kinds['error' in theirs ? 'error' : 'aggregated' in theirs ? 'aggregated' : 'series']++;
    }
    // The matrix reaches every kind of answer, mostly values.
    expect(kinds.error).toBeGreaterThan(20);
    expect(kinds.aggregated).toBeGreaterThan(100);
    expect(kinds.series).toBeGreaterThan(150);
  });
});
