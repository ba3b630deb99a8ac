import { isDict, pyArithmetic, pyCompare, pyEquals, pyInt, pyLen, pySplit, pythonRegex, PythonTypeError, typeName } from '../python.ts';
import type { FilterExpression, JsonPath, Literal } from './ast.ts';
import { JsonPathEvaluationError } from './errors.ts';

/*
 * What each jsonpath-rw / jsonpath-rw-ext node does to values, shared by the evaluator that
 * keeps paths (for plugins) and the one that keeps values only (the mapper's usual case).
 */

export function fail(reason: string): never {
  throw new JsonPathEvaluationError(reason);
}

/** Fields: the keys of a dict that are there (`*`: all of them); nothing for anything else. */
export function presentKeys(value: unknown, names: readonly string[]): string[] {
  if (!isDict(value)) return [];
  if (names.includes('*')) return Object.keys(value);
  return names.filter((name) => Object.hasOwn(value, name));
}

/** Index: `len(v) > i` then `v[i]` with Python's negative indexes; raises where Python does. */
export function indexInto(value: unknown, i: number): { found: unknown } | null {
  const length = pyLen(value);
  if (length === undefined) return fail(`object of type '${typeName(value)}' has no len() (index [${i}])`);
  if (length <= i) return null;
  if (isDict(value)) return fail(`KeyError: ${i}`);
  const items = typeof value === 'string' ? [...value] : (value as unknown[]);
  const at = i < 0 ? items.length + i : i;
  if (at < 0) return fail(`IndexError: index [${i}] out of range`);
  return { found: items[at] };
}

/** Slice: jsonpath-rw slices a dict, an int or a string as a one-element list; raises on None and floats. */
export function sliceOf(value: unknown, start: number | null, end: number | null): { items: unknown[]; wrapped: boolean; from: number; to: number } {
  let items: unknown[];
  let wrapped = false;
  if (isDict(value) || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isInteger(value))) {
    items = [value];
    wrapped = true;
  } else if (Array.isArray(value)) {
    items = value;
  } else {
    return fail(`object of type '${typeName(value)}' has no len() (slice)`);
  }
  const n = items.length;
  return { items, wrapped, from: clamp(start, 0, n), to: clamp(end, n, n) };
}

/** A Python slice bound over n items. */
function clamp(bound: number | null, fallback: number, n: number): number {
  return bound === null ? fallback : bound < 0 ? Math.max(0, n + bound) : Math.min(bound, n);
}

export type OperandValues = { literal: Literal } | { values: readonly unknown[] };

/** jsonpath-rw-ext's Operation: element-wise, and any TypeError empties the whole result. */
type Operator = Extract<JsonPath, { kind: 'operation' }>['op'];

function apply(op: Operator, a: unknown, aFloat: boolean, b: unknown, bFloat: boolean): unknown {
  // JSON loses Python's int/float split; a FLOAT literal keeps it: 'ab' * 2.0 fails.
  if (op === '*' && ((aFloat && (typeof b === 'string' || Array.isArray(b))) || (bFloat && (typeof a === 'string' || Array.isArray(a))))) {
    throw new PythonTypeError("can't multiply sequence by non-int of type 'float'");
  }
  return pyArithmetic(op, a, b);
}

export function operate(op: Operator, left: OperandValues, right: OperandValues): unknown[] {
  const results: unknown[] = [];
  try {
    if ('values' in left && 'values' in right) {
      if (left.values.length === 0 || left.values.length !== right.values.length) return [];
      for (let i = 0; i < left.values.length; i++) results.push(apply(op, left.values[i], false, right.values[i], false));
    } else if ('values' in left && 'literal' in right) {
      for (const l of left.values) results.push(apply(op, l, false, right.literal.value, right.literal.float));
    } else if ('literal' in left && 'values' in right) {
      for (const r of right.values) results.push(apply(op, left.literal.value, left.literal.float, r, false));
    } else if ('literal' in left && 'literal' in right) {
      results.push(apply(op, left.literal.value, left.literal.float, right.literal.value, right.literal.float));
    }
  } catch (err) {
    if (err instanceof PythonTypeError) return [];
    throw err;
  }
  return results;
}

const regexCache = new Map<string, RegExp>();

function compare(op: string, value: unknown, against: unknown): boolean {
  switch (op) {
    case '==':
    case '=':
      return pyEquals(value, against);
    case '!=':
      return !pyEquals(value, against);
    case '<':
      return pyCompare(value, against) < 0;
    case '<=':
      return pyCompare(value, against) <= 0;
    case '>':
      return pyCompare(value, against) > 0;
    case '>=':
      return pyCompare(value, against) >= 0;
    case '~': {
      if (typeof against !== 'string' || typeof value !== 'string') throw new PythonTypeError(`re.match() needs strings, got '${typeName(against)}' and '${typeName(value)}'`);
      let regex = regexCache.get(against);
      if (!regex) {
        regex = pythonRegex(against, true);
        if (regexCache.size > 1000) regexCache.clear();
        regexCache.set(against, regex);
      }
      return regex.test(value);
    }
    default:
      return fail(`unknown filter operator ${op}`);
  }
}

/** jsonpath-rw-ext's Expression: the target's values tested against the literal (int() first when it is an int). */
export function expressionHolds(expression: FilterExpression, targetValues: readonly unknown[]): boolean {
  if (targetValues.length === 0) return false;
  if (expression.op === null) return true;
  const coerce = expression.valueKind === 'int' || expression.valueKind === 'bool';
  for (let value of targetValues) {
    if (value === null || value === undefined) continue;
    if (coerce) {
      const converted = pyInt(value);
      if (converted === undefined) continue;
      value = converted;
    }
    if (compare(expression.op, value, expression.value)) return true;
  }
  return false;
}

/** SortedThis: a sorted copy of a list, or a dict's sorted keys; its callers fail on anything else. */
export function sortedOf(value: unknown, by: Extract<JsonPath, { kind: 'sorted' }>['by'], single: (path: JsonPath, item: unknown) => { value: unknown } | undefined): unknown[] {
  if ((isDict(value) && by) || (!isDict(value) && !Array.isArray(value))) return fail(`cannot sort a ${typeName(value)}`);
  const items = isDict(value) ? Object.keys(value) : [...(value as unknown[])];
  if (!by) return items.sort(pyCompare);
  return items.sort((a, b) => {
    for (const { path, reverse } of by) {
      const l = single(path, a);
      const r = single(path, b);
      if (!l || !r || pyEquals(l.value, r.value)) continue;
      return pyCompare(l.value, r.value) < 0 ? (reverse ? 1 : -1) : reverse ? -1 : 1;
    }
    return 0;
  });
}

/** `split(char, segment, max)`: nothing for a non-string or a missing segment. */
export function splitOf(node: Extract<JsonPath, { kind: 'split' }>, value: unknown): unknown[] {
  if (typeof value !== 'string') return [];
  const part = pySplit(value, node.separator, node.maxSplit)[node.segment];
  return part === undefined ? [] : [part];
}

/** `sub(/regex/, repl)`: nothing when nothing changed; raises on a non-string. */
export function subOf(node: Extract<JsonPath, { kind: 'sub' }>, value: unknown): unknown[] {
  if (typeof value !== 'string') return fail(`\`${node.text}\` on a ${typeName(value)}: expected string`);
  node.regex.lastIndex = 0;
  const replaced = value.replace(node.regex, (...args: unknown[]) => {
    const groups = typeof args[args.length - 1] === 'object' ? (args[args.length - 1] as Record<string, string>) : undefined;
    const captures = args.slice(0, groups ? -3 : -2) as string[];
    return node.replacement(Object.assign(captures, { index: 0, input: '', groups }) as unknown as RegExpExecArray);
  });
  return replaced === value ? [] : [replaced];
}
