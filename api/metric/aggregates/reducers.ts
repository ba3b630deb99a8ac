/**
 * The number crunching of the operations: reductions across series or windows (Gnocchi's
 * AGG_MAP: numpy's nan-aware functions, std and var over the population) and the
 * element-wise operators.
 * NaN is an absent value throughout. Experimental.
 */
import type { BinaryOperator, Reducer } from './grammar.ts';

const present = (values: ArrayLike<number>): number[] => {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isNaN(v)) out.push(v);
  }
  return out;
};

const total = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** numpy's linear interpolation between the closest ranks (its default percentile method). */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return lo === hi ? a : a + (b - a) * (pos - lo);
}

const sortedAsc = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);

function populationVariance(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const mean = total(xs) / xs.length;
  return xs.reduce((acc, x) => acc + (x - mean) ** 2, 0) / xs.length;
}

/** numpy.nanmean & co.: absent values are left out; with none present, NaN (nansum: 0, count: 0). */
export const REDUCE: Readonly<Record<Reducer, (values: ArrayLike<number>) => number>> = {
  mean: (values) => {
    const xs = present(values);
    return xs.length === 0 ? Number.NaN : total(xs) / xs.length;
  },
  median: (values) => quantile(sortedAsc(present(values)), 0.5),
  std: (values) => Math.sqrt(populationVariance(present(values))),
  var: (values) => populationVariance(present(values)),
  min: (values) => {
    const xs = present(values);
    return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => (b < a ? b : a));
  },
  max: (values) => {
    const xs = present(values);
    return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => (b > a ? b : a));
  },
  sum: (values) => total(present(values)),
  count: (values) => present(values).length,
};

/** `rate:mean` -> { rate: true, reducer: 'mean' }. */
export function splitRate(method: string): { rate: boolean; base: string } {
  return method.startsWith('rate:') ? { rate: true, base: method.slice(5) } : { rate: false, base: method };
}

/** numpy.mod: the remainder takes the divisor's sign; x mod 0 is NaN. */
function pythonMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && b < 0 !== r < 0 ? r + b : r;
}

/** numpy.fmax: the larger, ignoring an absent (NaN) side. */
const fmax = (a: number, b: number) => (Number.isNaN(a) ? b : Number.isNaN(b) ? a : Math.max(a, b));

/** numpy.clip with a bound that may be absent: max(a, lo) then min(., hi); NaN stays NaN. */
export function clip(a: number, lo: number | undefined, hi: number | undefined): number {
  if (Number.isNaN(a)) return a;
  let v = a;
  if (lo !== undefined && !Number.isNaN(lo) && v < lo) v = lo;
  if (hi !== undefined && !Number.isNaN(hi) && v > hi) v = hi;
  return v;
}

const bool = (b: boolean) => (b ? 1 : 0);

/** The element-wise binary operators; comparisons give 1 or 0 (numpy's booleans as numbers). */
export const BINARY: Readonly<Record<BinaryOperator, (a: number, b: number) => number>> = (() => {
  const eq = (a: number, b: number) => bool(a === b);
  const ne = (a: number, b: number) => bool(a !== b);
  const lt = (a: number, b: number) => bool(a < b);
  const gt = (a: number, b: number) => bool(a > b);
  const le = (a: number, b: number) => bool(a <= b);
  const ge = (a: number, b: number) => bool(a >= b);
  const add = (a: number, b: number) => a + b;
  const sub = (a: number, b: number) => a - b;
  const mul = (a: number, b: number) => a * b;
  const div = (a: number, b: number) => a / b;
  const pow = (a: number, b: number) => a ** b;
  return {
    '=': eq, '==': eq, eq,
    '<': lt, lt,
    '>': gt, gt,
    '<=': le, '≤': le, le,
    '>=': ge, '≥': ge, ge,
    '!=': ne, '≠': ne, ne,
    '%': pythonMod, mod: pythonMod,
    '+': add, add,
    '-': sub, sub,
    '*': mul, '×': mul, mul,
    '/': div, '÷': div, div,
    '**': pow, '^': pow, pow,
    clip_min: (a, b) => clip(a, b, undefined),
    clip_max: (a, b) => clip(a, undefined, b),
    max: fmax,
  };
})();

/** The element-wise unary operators (rateofchange and rateofchangesec work on whole series, elsewhere). */
export const UNARY: Readonly<Record<'abs' | 'absolute' | 'neg' | 'negative' | 'cos' | 'sin' | 'tan' | 'floor' | 'ceil', (a: number) => number>> = {
  abs: Math.abs,
  absolute: Math.abs,
  neg: (a) => -a,
  negative: (a) => -a,
  cos: Math.cos,
  sin: Math.sin,
  tan: Math.tan,
  floor: Math.floor,
  ceil: Math.ceil,
};
