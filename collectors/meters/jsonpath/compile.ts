import { isDict, pyLen } from '../python.ts';
import type { FilterExpression, JsonPath, Literal } from './ast.ts';
import { expressionHolds, fail, indexInto, operate, presentKeys, sliceOf, sortedOf, splitOf, subOf, type OperandValues } from './semantics.ts';

/** Evaluates from a value; `base` is what `$` means in the current scope (the message, or a filter's element). */
type Evaluate = (value: unknown, base: unknown) => readonly unknown[];

const NONE: readonly unknown[] = Object.freeze([]);

/**
 * Whether every `$` sits where it means the scope's base: first in the whole path, in an
 * operand of arithmetic or a union there, or first in a filter or sort expression. Elsewhere
 * (and for `parent`) the answer depends on the path walked, which only the matching
 * evaluator keeps.
 */
function rootsAtScopeStart(node: JsonPath | Literal, atStart: boolean): boolean {
  switch (node.kind) {
    case 'root':
      return atStart;
    case 'parent':
      return false;
    case 'child':
    case 'descendants':
    case 'where':
      return rootsAtScopeStart(node.left, atStart) && rootsAtScopeStart(node.right, false);
    case 'union':
    case 'intersect':
    case 'operation':
      return rootsAtScopeStart(node.left, atStart) && rootsAtScopeStart(node.right, atStart);
    case 'filter':
      return node.expressions.every((e) => rootsAtScopeStart(e.target, true));
    case 'sorted':
      return (node.by ?? []).every((b) => rootsAtScopeStart(b.path, true));
    default:
      return true;
  }
}

/** The key of a filter target that reads one field of the element (`@.name`, `name`), else null. */
function ownField(target: JsonPath): string | null {
  if (target.kind === 'child' && target.left.kind === 'this') return ownField(target.right);
  return target.kind === 'fields' && target.names.length === 1 && target.names[0] !== '*' ? (target.names[0] as string) : null;
}

/** One filter expression as a test of an element; `[?(@.name='x')]`, the usual form, without the general machinery. */
function test(expression: FilterExpression): (element: unknown) => boolean {
  const key = ownField(expression.target);
  const against = expression.value;
  // An equality with a quoted or bare name: Python's == between a string and anything is ===.
  if (key !== null && (expression.op === '=' || expression.op === '==') && expression.valueKind === 'id') {
    return (element) => isDict(element) && Object.hasOwn(element, key) && element[key] === against;
  }
  const target = build(expression.target);
  return (element) => expressionHolds(expression, target(element, element));
}

function build(node: JsonPath): Evaluate {
  switch (node.kind) {
    case 'root':
      return (_value, base) => [base];
    case 'this':
      return (value) => [value];
    case 'parent':
      return () => fail('`parent` needs the matching evaluator');
    case 'fields': {
      const [only] = node.names;
      if (node.names.length === 1 && only !== undefined && only !== '*') {
        return (value) => (isDict(value) && Object.hasOwn(value, only) ? [value[only]] : NONE);
      }
      return (value) => presentKeys(value, node.names).map((key) => (value as Record<string, unknown>)[key]);
    }
    case 'index':
      return (value) => {
        const hit = indexInto(value, node.index);
        return hit ? [hit.found] : NONE;
      };
    case 'slice':
      return (value) => {
        const { items, from, to } = sliceOf(value, node.start, node.end);
        return items.slice(from, to);
      };
    case 'child': {
      const left = build(node.left);
      const right = build(node.right);
      return (value, base) => {
        const lefts = left(value, base);
        if (lefts.length === 1) return right(lefts[0], base);
        const out: unknown[] = [];
        for (const l of lefts) for (const r of right(l, base)) out.push(r);
        return out;
      };
    }
    case 'descendants': {
      const left = build(node.left);
      const right = build(node.right);
      const recurse = (value: unknown, base: unknown, out: unknown[]): void => {
        out.push(...right(value, base));
        if (Array.isArray(value)) for (const item of value) recurse(item, base, out);
        else if (isDict(value)) for (const key of Object.keys(value)) recurse(value[key], base, out);
      };
      return (value, base) => {
        const out: unknown[] = [];
        for (const l of left(value, base)) recurse(l, base, out);
        return out;
      };
    }
    case 'where': {
      const left = build(node.left);
      const right = build(node.right);
      return (value, base) => left(value, base).filter((l) => right(l, base).length > 0);
    }
    case 'union': {
      const left = build(node.left);
      const right = build(node.right);
      return (value, base) => [...left(value, base), ...right(value, base)];
    }
    case 'intersect':
      return () => fail('`&` (intersection) is not implemented by jsonpath-rw');
    case 'operation': {
      const operand = (o: JsonPath | Literal): ((value: unknown, base: unknown) => OperandValues) => {
        if (o.kind === 'literal') {
          const literal = { literal: o };
          return () => literal;
        }
        const run = build(o);
        return (value, base) => ({ values: run(value, base) });
      };
      const left = operand(node.left);
      const right = operand(node.right);
      return (value, base) => operate(node.op, left(value, base), right(value, base));
    }
    case 'filter': {
      const tests = node.expressions.map(test);
      const [only] = tests;
      if (tests.length === 1 && only) {
        return (value) => {
          if (!Array.isArray(value)) return NONE;
          const out: unknown[] = [];
          for (const element of value) if (only(element)) out.push(element);
          return out;
        };
      }
      return (value) => {
        if (!Array.isArray(value)) return NONE;
        const out: unknown[] = [];
        for (const element of value) {
          // Every expression is evaluated (no short cut): an error in a later one still raises.
          let held = true;
          for (const t of tests) if (!t(element)) held = false;
          if (held) out.push(element);
        }
        return out;
      };
    }
    case 'sorted': {
      const by = node.by;
      const paths = new Map((by ?? []).map((b) => [b.path, build(b.path)] as const));
      const single = (path: JsonPath, item: unknown) => {
        const found = (paths.get(path) as Evaluate)(item, item);
        return found.length === 1 ? { value: found[0] } : undefined;
      };
      return (value) => [sortedOf(value, by, single)];
    }
    case 'len':
      return (value) => {
        const length = pyLen(value);
        return length === undefined ? NONE : [length];
      };
    case 'split':
      return (value) => splitOf(node, value);
    case 'sub':
      return (value) => subOf(node, value);
  }
}

/** The values a path finds, compiled to closures; null when only the matching evaluator can answer. */
export function compileValues(tree: JsonPath): ((root: unknown) => readonly unknown[]) | null {
  if (!rootsAtScopeStart(tree, true)) return null;
  const run = build(tree);
  return (root) => run(root, root);
}
