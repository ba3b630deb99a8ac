import { isDict, pyLen, PythonRuntimeError, PythonTypeError } from '../python.ts';
import type { JsonPath, Literal } from './ast.ts';
import { JsonPathEvaluationError } from './errors.ts';
import { expressionHolds, fail, indexInto, operate, presentKeys, sliceOf, sortedOf, splitOf, subOf, type OperandValues } from './semantics.ts';

/**
 * jsonpath-rw's DatumInContext: a value, the step that reached it, and the datum it was
 * reached from (null at a root). `step` is what Ceilometer's plugins see as the path.
 */
export interface Match {
  value: unknown;
  step: string;
  context: Match | null;
}

export const rootMatch = (value: unknown): Match => ({ value, step: '$', context: null });
const detached = (value: unknown): Match => ({ value, step: '`this`', context: null });

/** The dotted path of a match, as Ceilometer's Definition._get_path joins it (`payload.items.[0]`). */
export function matchPath(match: Match): string {
  const steps: string[] = [];
  for (let m: Match | null = match; m && m.context; m = m.context) steps.push(m.step);
  return steps.reverse().join('.');
}

function operand(node: JsonPath | Literal, datum: Match): OperandValues {
  return node.kind === 'literal' ? { literal: node } : { values: find(node, datum).map((m) => m.value) };
}

function descendants(node: Extract<JsonPath, { kind: 'descendants' }>, datum: Match): Match[] {
  const recurse = (d: Match): Match[] => {
    const out = find(node.right, d);
    const value = d.value;
    if (Array.isArray(value)) value.forEach((item, i) => out.push(...recurse({ value: item, step: `[${i}]`, context: d })));
    else if (isDict(value)) for (const key of Object.keys(value)) out.push(...recurse({ value: value[key], step: key, context: d }));
    return out;
  };
  return find(node.left, datum).flatMap(recurse);
}

/** jsonpath-rw's `find()`: every match of the path from the given datum, with its path. */
export function find(node: JsonPath, datum: Match): Match[] {
  switch (node.kind) {
    case 'root': {
      let top = datum;
      while (top.context) top = top.context;
      return [rootMatch(top.value)];
    }
    case 'this':
      return [datum];
    case 'parent':
      return datum.context ? [datum.context] : fail('`parent` of a root');
    case 'fields': {
      const value = datum.value as Record<string, unknown>;
      return presentKeys(value, node.names).map((key) => ({ value: value[key], step: key, context: datum }));
    }
    case 'index': {
      const hit = indexInto(datum.value, node.index);
      return hit ? [{ value: hit.found, step: `[${node.index}]`, context: datum }] : [];
    }
    case 'slice': {
      const { items, wrapped, from, to } = sliceOf(datum.value, node.start, node.end);
      const holder: Match = wrapped ? { value: items, step: datum.step, context: datum.context } : datum;
      const out: Match[] = [];
      for (let i = from; i < to; i++) out.push({ value: items[i], step: `[${i}]`, context: holder });
      return out;
    }
    case 'child': {
      const out: Match[] = [];
      for (const left of find(node.left, datum)) for (const right of find(node.right, left)) out.push(right);
      return out;
    }
    case 'descendants':
      return descendants(node, datum);
    case 'where':
      return find(node.left, datum).filter((m) => find(node.right, m).length > 0);
    case 'union':
      return [...find(node.left, datum), ...find(node.right, datum)];
    case 'intersect':
      return fail('`&` (intersection) is not implemented by jsonpath-rw');
    case 'operation':
      return operate(node.op, operand(node.left, datum), operand(node.right, datum)).map(detached);
    case 'filter': {
      const value = datum.value;
      if (!Array.isArray(value)) return [];
      const out: Match[] = [];
      value.forEach((element, i) => {
        // Every expression is evaluated (no short cut): an error in a later one still raises.
        const held = node.expressions.map((e) => expressionHolds(e, find(e.target, detached(element)).map((m) => m.value)));
        if (held.every(Boolean)) out.push({ value: element, step: `[${i}]`, context: datum });
      });
      return out;
    }
    case 'sorted':
      return [
        detached(
          sortedOf(datum.value, node.by, (path, item) => {
            const found = find(path, detached(item));
            return found.length === 1 ? found[0] : undefined;
          }),
        ),
      ];
    case 'len': {
      const length = pyLen(datum.value);
      return length === undefined ? [] : [{ value: length, step: '`len`', context: null }];
    }
    case 'split':
      return splitOf(node, datum.value).map(detached);
    case 'sub':
      return subOf(node, datum.value).map(detached);
  }
}

/** Turns what Python would have raised into the one error the mapper refuses a notification for. */
export function raisedAs<T>(source: string, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof JsonPathEvaluationError) throw err;
    if (err instanceof PythonTypeError || err instanceof PythonRuntimeError || (err instanceof Error && err.name === 'PythonRegexError')) {
      throw new JsonPathEvaluationError(`${source}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}
