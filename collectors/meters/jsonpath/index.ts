import type { JsonPath } from './ast.ts';
import { compileValues } from './compile.ts';
import { find, raisedAs, rootMatch, type Match } from './evaluate.ts';
import { parseJsonPath } from './parser.ts';

export type { JsonPath, FilterExpression, Literal } from './ast.ts';
export { JsonPathEvaluationError, JsonPathSyntaxError } from './errors.ts';
export { matchPath, type Match } from './evaluate.ts';
export { parseJsonPath } from './parser.ts';

/** A jsonpath compiled once, evaluated per notification. */
export interface CompiledPath {
  readonly source: string;
  readonly tree: JsonPath;
  /** Every match with its path (what Ceilometer's plugins receive). */
  find(root: unknown): Match[];
  /** Every value, None included (Ceilometer's `return_all_values`). */
  values(root: unknown): readonly unknown[];
  /** The first value that is not None, or undefined (Ceilometer's Definition.parse). */
  first(root: unknown): unknown;
}

/** `$.a.b`, `a.b` and `$['a'].b` are walks through dicts; null when the path is anything richer. */
function plainKeys(tree: JsonPath): string[] | null {
  if (tree.kind === 'root') return [];
  if (tree.kind === 'fields') return tree.names.length === 1 && tree.names[0] !== '*' ? [tree.names[0] as string] : null;
  if (tree.kind !== 'child') return null;
  const left = plainKeys(tree.left);
  const right = tree.right.kind === 'fields' ? plainKeys(tree.right) : null;
  return left && right ? [...left, ...right] : null;
}

const MISSING = Symbol('missing');

function walk(keys: readonly string[], root: unknown): unknown {
  let node = root;
  for (const key of keys) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, key)) return MISSING;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * Parses a jsonpath with jsonpath-rw-ext's grammar. Plain dotted paths (`$.payload.size`,
 * most of any meters.yaml) become direct property walks, which keeps mapping fast;
 * anything richer runs through the full evaluator.
 */
export function compileJsonPath(source: string): CompiledPath {
  const tree = parseJsonPath(source);
  const findAll = (root: unknown) => raisedAs(source, () => find(tree, rootMatch(root)));
  const keys = plainKeys(tree);
  if (keys) {
    return {
      source,
      tree,
      find: findAll,
      values: (root) => {
        const value = walk(keys, root);
        return value === MISSING ? [] : [value];
      },
      first: (root) => {
        const value = walk(keys, root);
        return value === MISSING || value === null ? undefined : value;
      },
    };
  }
  const compiled = compileValues(tree);
  const values = compiled ? (root: unknown) => raisedAs(source, () => compiled(root)) : (root: unknown) => findAll(root).map((m) => m.value);
  return {
    source,
    tree,
    find: findAll,
    values,
    first: (root) => {
      for (const value of values(root)) if (value !== null && value !== undefined) return value;
      return undefined;
    },
  };
}
