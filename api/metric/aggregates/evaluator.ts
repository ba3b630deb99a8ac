/**
 * Evaluates an operations tree over one granularity's grid of series (Gnocchi's
 * operations.evaluate): the grid is one column per metric reference and one row per bucket
 * time, NaN where a series has no value. Operators keep Gnocchi's rules: combining two
 * series needs the same times and granularity and marks the result aggregated; `aggregate`
 * reduces the columns to one; `rolling` and `resample` work per column. Experimental.
 */
import { describeOperation, type BinaryOperator, type MetricReference, type OperationNode, type Reducer } from './grammar.ts';
import { unaggregable, type LookupKey } from './errors.ts';
import { resampleSeries } from '../measure-series.ts';
import { BINARY, clip, REDUCE, splitRate, UNARY } from './reducers.ts';

/** The grid the tree starts from. */
export interface Frame {
  /** Seconds. */
  readonly granularity: number;
  /** Bucket starts (unix seconds), ascending. */
  readonly times: readonly number[];
  /** One column per lookup key, each as long as `times`. */
  readonly columns: readonly Float64Array[];
  /** Per column: the (name, aggregation) a metric node selects it by. */
  readonly keys: readonly LookupKey[];
}

export interface SeriesValue {
  readonly kind: 'series';
  readonly granularity: number;
  readonly times: readonly number[];
  readonly columns: readonly Float64Array[];
  /** Whether the result is one aggregated series rather than one per reference. */
  readonly aggregated: boolean;
}

export interface ScalarValue {
  readonly kind: 'scalar';
  readonly value: number;
}

export type Value = SeriesValue | ScalarValue;

const sameTimes = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((t, i) => t === b[i]);

function mapColumns(columns: readonly Float64Array[], f: (v: number) => number): Float64Array[] {
  return columns.map((column) => column.map(f));
}

/** numpy.diff along time: one row fewer. */
function diffColumns(columns: readonly Float64Array[]): Float64Array[] {
  return columns.map((column) => {
    const out = new Float64Array(Math.max(0, column.length - 1));
    for (let i = 1; i < column.length; i++) out[i - 1] = (column[i] as number) - (column[i - 1] as number);
    return out;
  });
}

function reducer(method: string): { rate: boolean; reduce: (values: ArrayLike<number>) => number } {
  const { rate, base } = splitRate(method);
  return { rate, reduce: REDUCE[base as Reducer] };
}

class Evaluation {
  constructor(
    private readonly frame: Frame,
    private readonly references: readonly LookupKey[],
  ) {}

  private fail(reason: string): never {
    throw unaggregable(this.references, reason);
  }

  private series(node: OperationNode, what: string): SeriesValue {
    const value = this.evaluate(node);
    if (value.kind === 'scalar') return this.fail(`${what} expects a time series, got the number ${value.value} (${describeOperation(node)})`);
    return value;
  }

  evaluate(node: OperationNode): Value {
    switch (node.op) {
      case 'number':
        return { kind: 'scalar', value: node.value };
      case 'metric':
        return this.metric(node.references, node.list);
      case 'aggregate':
        return this.aggregate(node.method, this.series(node.operand, 'aggregate'));
      case 'rolling':
        return this.rolling(node.method, node.window, this.series(node.operand, 'rolling'));
      case 'resample':
        return this.resample(node.method, node.sampling, this.series(node.operand, 'resample'));
      case 'unary':
        return this.unary(node.name, node.operand);
      case 'binary':
        return this.combine([node.left, node.right], (vs) => BINARY[node.name as BinaryOperator](vs[0] as number, vs[1] as number));
      case 'clip':
        return this.combine(node.max ? [node.operand, node.min, node.max] : [node.operand, node.min], (vs) => clip(vs[0] as number, vs[1], vs[2]));
    }
  }

  /** The grid's columns this node names, in the grid's order. */
  private metric(references: readonly MetricReference[], list: boolean): SeriesValue {
    const wanted = list ? references : references.slice(0, 1);
    const columns = this.frame.columns.filter((_, i) => {
      const [name, aggregation] = this.frame.keys[i] as LookupKey;
      return wanted.some((r) => r.name === name && r.aggregation === aggregation);
    });
    return { kind: 'series', granularity: this.frame.granularity, times: this.frame.times, columns, aggregated: false };
  }

  private aggregate(method: string, input: SeriesValue): SeriesValue {
    const { rate, reduce } = reducer(method);
    const column = new Float64Array(input.times.length);
    const row: number[] = new Array(input.columns.length);
    for (let t = 0; t < input.times.length; t++) {
      for (let c = 0; c < input.columns.length; c++) row[c] = (input.columns[c] as Float64Array)[t] as number;
      column[t] = reduce(row);
    }
    if (!rate) return { ...input, columns: [column], aggregated: true };
    return { ...input, times: input.times.slice(1), columns: diffColumns([column]), aggregated: true };
  }

  private rolling(method: string, window: number, input: SeriesValue): SeriesValue {
    if (window > input.times.length) this.fail(`Rolling window '${window}' is greater than serie length '${input.times.length}'`);
    const { rate, reduce } = reducer(method);
    const count = input.times.length - window + 1;
    let columns: Float64Array[] = input.columns.map((column) => {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = reduce(column.subarray(i, i + window));
      return out;
    });
    let times = input.times.slice(window - 1);
    if (rate) {
      columns = diffColumns(columns);
      times = times.slice(1);
    }
    return { ...input, times, columns };
  }

  /**
   * Per column, the values regrouped into buckets of `sampling` seconds with carbonara's
   * method (api/metric/measure-series.ts); rate: methods first take the differences
   * between consecutive values. Absent (NaN) cells are left out of their bucket; a bucket
   * holding none is NaN. The rows are the buckets of the input's times.
   */
  private resample(method: string, sampling: number, input: SeriesValue): SeriesValue {
    const step = (t: number) => Math.floor(t / sampling) * sampling;
    const times = [...new Set((splitRate(method).rate ? input.times.slice(1) : input.times).map(step))];
    const columns = input.columns.map((column) => {
      const points = input.times.map((t, i) => [t * 1000, Number.isNaN(column[i] as number) ? null : (column[i] as number)] as const);
      const resampled = new Map(resampleSeries(points, method, sampling).map(([ms, v]) => [ms / 1000, v ?? Number.NaN]));
      return Float64Array.from(times, (t) => resampled.get(t) ?? Number.NaN);
    });
    return { ...input, granularity: sampling, times, columns };
  }

  private unary(name: string, node: OperationNode): Value {
    const input = this.evaluate(node);
    if (name === 'rateofchange' || name === 'rateofchangesec') {
      if (input.kind === 'scalar') return this.fail(`${name} expects a time series, got the number ${input.value}`);
      if (name === 'rateofchange') return { ...input, times: input.times.slice(1), columns: diffColumns(input.columns) };
      // Newer Gnocchi's rateofchangesec: the change per second since the previous row; the first row has none.
      const columns = input.columns.map((column) =>
        column.map((v, i) => (i === 0 ? Number.NaN : (v - (column[i - 1] as number)) / ((input.times[i] as number) - (input.times[i - 1] as number)))),
      );
      return { ...input, columns };
    }
    const f = UNARY[name as keyof typeof UNARY];
    return input.kind === 'scalar' ? { kind: 'scalar', value: f(input.value) } : { ...input, columns: mapColumns(input.columns, f) };
  }

  /**
   * Element-wise over numbers and series (numpy broadcasting: a number, or a one-column
   * series, applies to every column). Series must share times and granularity; two or more
   * of them make the result aggregated, as in Gnocchi.
   */
  private combine(nodes: readonly OperationNode[], f: (values: ReadonlyArray<number | undefined>) => number): Value {
    const values = nodes.map((n) => this.evaluate(n));
    const series = values.filter((v): v is SeriesValue => v.kind === 'series');
    if (series.length === 0) return { kind: 'scalar', value: f(values.map((v) => (v as ScalarValue).value)) };
    const first = series[0] as SeriesValue;
    for (const other of series.slice(1)) {
      if (!sameTimes(first.times, other.times) || first.granularity !== other.granularity) {
        const shown = nodes.filter((_, i) => values[i]?.kind === 'series').map(describeOperation);
        this.fail(`Can't compute timeseries with different granularity ${shown.join(' <> ')}`);
      }
    }
    const widths = [...new Set(series.map((s) => s.columns.length).filter((w) => w !== 1))];
    if (widths.length > 1) this.fail(`Can't combine ${widths.join(' and ')} series element by element; expected the same number of series on each side, or one`);
    const width = widths[0] ?? 1;
    const columns: Float64Array[] = [];
    for (let c = 0; c < width; c++) {
      const column = new Float64Array(first.times.length);
      const args: Array<number | undefined> = new Array(values.length);
      for (let t = 0; t < first.times.length; t++) {
        for (let k = 0; k < values.length; k++) {
          const v = values[k] as Value;
          args[k] = v.kind === 'scalar' ? v.value : (v.columns[v.columns.length === 1 ? 0 : c] as Float64Array)[t];
        }
        column[t] = f(args);
      }
      columns.push(column);
    }
    const aggregated = series.length > 1 || series.some((s) => s.aggregated);
    return { kind: 'series', granularity: first.granularity, times: first.times, columns, aggregated };
  }
}

/** The tree's value over one grid; `references` are what error details list. */
export function evaluate(node: OperationNode, frame: Frame, references: readonly LookupKey[] = frame.keys): Value {
  return new Evaluation(frame, references).evaluate(node);
}
