/**
 * The /v1/aggregates operations grammar (gnocchi/rest/aggregates/api.py and operations.py):
 * a tree written either as a parenthesised string, `(aggregate mean (metric (A mean) (B mean)))`,
 * or as the same tree in JSON lists, `["aggregate", "mean", ["metric", ["A", "mean"], ["B", "mean"]]]`.
 * The string form is read the way Gnocchi's pyparsing nestedExpr reads it (every leaf is text,
 * quoted strings stay whole, quotes included, and whatever follows the first complete
 * expression is ignored); both forms are then checked into a typed tree. Experimental.
 */
import { parseAggregationMethod, parseTimespan } from '../../../storage/index.ts';
import { invalidOperations, unparsableOperations, type LookupKey } from './errors.ts';

/** Across series (aggregate, rolling): Gnocchi's AGG_MAP, nan-aware numpy reductions, and rate: of each. */
export const REDUCERS = ['mean', 'median', 'std', 'min', 'max', 'sum', 'var', 'count'] as const;
export type Reducer = (typeof REDUCERS)[number];
export const REDUCER_METHODS: readonly string[] = [...REDUCERS, ...REDUCERS.map((m) => `rate:${m}`)];

/**
 * Within one series (resample): what carbonara computes per bucket, as newer Gnocchi lists
 * them (every reducer but var, plus first, last and percentiles; rate: of the reducers).
 */
export function isResampleMethod(method: string): boolean {
  const parsed = parseAggregationMethod(method);
  return parsed !== undefined && (!parsed.rate || (REDUCERS as readonly string[]).includes(parsed.base));
}

export const UNARY_OPERATORS = ['abs', 'absolute', 'neg', 'negative', 'cos', 'sin', 'tan', 'floor', 'ceil', 'rateofchange', 'rateofchangesec'] as const;
export type UnaryOperator = (typeof UNARY_OPERATORS)[number];

/** Gnocchi's binary operators, each with its aliases; `max` (numpy.fmax) comes from newer Gnocchi. */
export const BINARY_OPERATORS = [
  '=', '==', 'eq', '<', 'lt', '>', 'gt', '<=', '≤', 'le', '>=', '≥', 'ge', '!=', '≠', 'ne',
  '%', 'mod', '+', 'add', '-', 'sub', '*', '×', 'mul', '/', '÷', 'div', '**', '^', 'pow',
  'clip_min', 'clip_max', 'max',
] as const;
export type BinaryOperator = (typeof BINARY_OPERATORS)[number];

export interface MetricReference {
  /** A metric id, or with resources a metric name pattern (fnmatch). */
  readonly name: string;
  readonly aggregation: string;
}

export type OperationNode =
  | { readonly op: 'number'; readonly value: number }
  /** `list`: written `(metric (A m) (B m))` (selects any of them) rather than `(metric A m)`. */
  | { readonly op: 'metric'; readonly references: readonly MetricReference[]; readonly list: boolean }
  | { readonly op: 'aggregate'; readonly method: string; readonly operand: OperationNode }
  | { readonly op: 'resample'; readonly method: string; readonly sampling: number; readonly operand: OperationNode }
  | { readonly op: 'rolling'; readonly method: string; readonly window: number; readonly operand: OperationNode }
  | { readonly op: 'unary'; readonly name: UnaryOperator; readonly operand: OperationNode }
  | { readonly op: 'binary'; readonly name: BinaryOperator; readonly left: OperationNode; readonly right: OperationNode }
  | { readonly op: 'clip'; readonly operand: OperationNode; readonly min: OperationNode; readonly max?: OperationNode };

/** Bounds, so one request cannot build an unbounded tree. */
export const MAX_OPERATIONS_LENGTH = 64 * 1024;
export const MAX_OPERATION_DEPTH = 64;
export const MAX_OPERATION_NODES = 4096;

// ---------------------------------------------------------------------------------------
// The string form

type Raw = string | Raw[];

function position(text: string, at: number): string {
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const col = at - (before.lastIndexOf('\n') + 1) + 1;
  return `(at char ${at}), (line:${line}, col:${col})`;
}

function found(text: string, at: number): string {
  if (at >= text.length) return 'end of text';
  const word = /^[^\s()]+/.exec(text.slice(at))?.[0] ?? (text[at] as string);
  return `'${word.length > 40 ? `${word.slice(0, 40)}...` : word}'`;
}

/** A quoted string (single or double, one line, backslash escapes) starting at `at`, or null. */
function quotedAt(text: string, at: number): string | null {
  const quote = text[at];
  if (quote !== '"' && quote !== "'") return null;
  for (let i = at + 1; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\n' || c === '\r') return null;
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === quote) {
      // A doubled quote is an escaped one, as pyparsing's quotedString reads it.
      if (text[i + 1] === quote) {
        i++;
        continue;
      }
      return text.slice(at, i + 1);
    }
  }
  return null;
}

const isSpace = (c: string | undefined) => c !== undefined && /\s/.test(c);

/**
 * Reads the first parenthesised expression of `text` into nested lists of words, as
 * `OneOrMore(nestedExpr()).parseString(text).asList()[0]` does in Gnocchi; what follows
 * it is ignored, as there.
 */
export function parseOperationsText(text: string): Raw[] {
  if (text.length > MAX_OPERATIONS_LENGTH) throw unparsableOperations(`Expected at most ${MAX_OPERATIONS_LENGTH} characters, got ${text.length}`);
  let at = 0;
  const skipSpace = () => {
    while (isSpace(text[at])) at++;
  };
  const list = (depth: number): Raw[] => {
    if (depth > MAX_OPERATION_DEPTH) throw unparsableOperations(`Expected at most ${MAX_OPERATION_DEPTH} nested parentheses, got more ${position(text, at)}`);
    at++; // the '('
    const items: Raw[] = [];
    for (;;) {
      skipSpace();
      if (at >= text.length) throw unparsableOperations(`Expected ')', found end of text  ${position(text, at)}`);
      const c = text[at] as string;
      if (c === ')') {
        at++;
        return items;
      }
      if (c === '(') {
        items.push(list(depth + 1));
        continue;
      }
      const quoted = quotedAt(text, at);
      if (quoted !== null) {
        items.push(quoted);
        at += quoted.length;
        continue;
      }
      let end = at;
      while (end < text.length && !isSpace(text[end]) && text[end] !== '(' && text[end] !== ')' && (end === at || quotedAt(text, end) === null)) end++;
      items.push(text.slice(at, end));
      at = end;
    }
  };
  skipSpace();
  if (text[at] !== '(') throw unparsableOperations(`Expected '(', found ${found(text, at)}  ${position(text, at)}`);
  return list(1);
}

// ---------------------------------------------------------------------------------------
// The tree

const SUFFIX = " for dictionary value @ data['operations']";

/** Gnocchi's wording first (clients match on it), then what was expected. */
function refuse(head: string, expected: string): never {
  throw invalidOperations(`${head}${SUFFIX}; expected ${expected}`);
}

function show(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 200 ? `${text.slice(0, 200)}...` : text;
  } catch {
    return String(value);
  }
}

const SIGNATURES: Record<string, string> = {
  metric: '(metric <id or name> <aggregation>) or (metric (<id or name> <aggregation>) ...)',
  aggregate: `(aggregate <${REDUCER_METHODS.join('|')}> <operation>)`,
  resample: '(resample <method> <granularity, whole seconds or a timespan> <operation>)',
  rolling: `(rolling <${REDUCER_METHODS.join('|')}> <window, a whole number >= 1> <operation>)`,
  clip: '(clip <operation> <min> [<max>])',
};

const signature = (op: string): string => {
  if (SIGNATURES[op]) return SIGNATURES[op];
  if ((UNARY_OPERATORS as readonly string[]).includes(op)) return `(${op} <operation>)`;
  return `(${op} <operation or number> <operation or number>)`;
};

/** Python's float() of a leaf: JSON numbers, and decimal text (the string form's leaves are all text). */
function leafNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/.test(value)) return Number(value.trim());
  return undefined;
}

/** voluptuous.Coerce(int): numbers truncate, text must be a whole number. */
function coerceInt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return Number(value.trim());
  return undefined;
}

interface Budget {
  nodes: number;
}

function metricNode(items: readonly unknown[]): OperationNode {
  const args = items.slice(1);
  const isPair = (v: unknown): v is [string, string] => Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string';
  if (args.length === 2 && typeof args[0] === 'string' && typeof args[1] === 'string') {
    return { op: 'metric', references: [{ name: args[0], aggregation: args[1] }], list: false };
  }
  if (args.length >= 1 && args.every(isPair)) {
    return { op: 'metric', references: (args as Array<[string, string]>).map(([name, aggregation]) => ({ name, aggregation })), list: true };
  }
  return refuse("'metric' operation invalid", `${SIGNATURES.metric}, got ${show(items)}`);
}

function operand(value: unknown, depth: number, budget: Budget): OperationNode {
  if (Array.isArray(value)) return operation(value, depth + 1, budget);
  const n = leafNumber(value);
  if (n === undefined) return refuse(`expected an operation or a number, got ${show(value)}`, 'a list such as (metric <id> mean) or a number');
  if (++budget.nodes > MAX_OPERATION_NODES) return refuse('operations too large', `at most ${MAX_OPERATION_NODES} operations and numbers`);
  return { op: 'number', value: n };
}

function operation(items: readonly unknown[], depth: number, budget: Budget): OperationNode {
  if (depth > MAX_OPERATION_DEPTH) return refuse('operations nested too deep', `at most ${MAX_OPERATION_DEPTH} levels`);
  if (++budget.nodes > MAX_OPERATION_NODES) return refuse('operations too large', `at most ${MAX_OPERATION_NODES} operations and numbers`);
  if (items.length === 0) return refuse('Operation must not be empty', 'an operation such as (metric <id> mean)');
  const head = items[0];
  if (typeof head !== 'string') return refuse(`'${show(head)}' operation invalid`, 'an operator name first: metric, aggregate, resample, rolling, clip, a unary or a binary operator');
  if (head === 'metric') {
    if (items.length < 2) return refuse('Operation need at least one argument', SIGNATURES.metric as string);
    return metricNode(items);
  }
  const bad = (): never => refuse(`'${head}' operation invalid`, `${signature(head)}, got ${show(items)}`);
  const next = (v: unknown) => operand(v, depth, budget);
  switch (head) {
    case 'aggregate': {
      if (items.length !== 3 || typeof items[1] !== 'string' || !REDUCER_METHODS.includes(items[1])) return bad();
      return { op: 'aggregate', method: items[1], operand: next(items[2]) };
    }
    case 'rolling': {
      const window = items.length === 4 ? coerceInt(items[2]) : undefined;
      if (window === undefined || window < 1 || typeof items[1] !== 'string' || !REDUCER_METHODS.includes(items[1])) return bad();
      return { op: 'rolling', method: items[1], window, operand: next(items[3]) };
    }
    case 'resample': {
      if (items.length !== 4 || typeof items[1] !== 'string' || !isResampleMethod(items[1])) return bad();
      let sampling: number;
      try {
        sampling = parseTimespan(items[2]);
      } catch {
        return bad();
      }
      // Buckets are whole seconds in the archive.
      if (!Number.isInteger(sampling)) return refuse(`'${head}' operation invalid`, `a whole number of seconds as the granularity, got ${show(items[2])}`);
      return { op: 'resample', method: items[1], sampling, operand: next(items[3]) };
    }
    case 'clip': {
      if (items.length !== 3 && items.length !== 4) return bad();
      return { op: 'clip', operand: next(items[1]), min: next(items[2]), ...(items.length === 4 ? { max: next(items[3]) } : {}) };
    }
    default:
      break;
  }
  if ((UNARY_OPERATORS as readonly string[]).includes(head)) {
    if (items.length !== 2) return bad();
    return { op: 'unary', name: head as UnaryOperator, operand: next(items[1]) };
  }
  if ((BINARY_OPERATORS as readonly string[]).includes(head)) {
    if (items.length !== 3) return bad();
    return { op: 'binary', name: head as BinaryOperator, left: next(items[1]), right: next(items[2]) };
  }
  return refuse(`'${head}' operation invalid`, 'an operator: metric, aggregate, resample, rolling, clip, rateofchange, abs, neg, cos, sin, tan, floor, ceil, or a binary operator (+ - * / ** % mod pow clip_min clip_max max = != < > <= >=)');
}

/** The body's `operations` (string or JSON lists) as a checked tree; a 400 in Gnocchi's words otherwise. */
export function parseOperations(input: unknown): OperationNode {
  const tree: unknown = typeof input === 'string' ? parseOperationsText(input) : input;
  if (!Array.isArray(tree)) {
    const kind = tree === null ? 'null' : typeof tree === 'object' ? 'dict' : typeof tree;
    return refuse(`Expected a tuple/list, got a ${kind}`, 'a list such as ["metric", "<id>", "mean"] or a string such as "(metric <id> mean)"');
  }
  return operation(tree, 1, { nodes: 0 });
}

/** Every (metric, aggregation) the tree names, each once, in the order they appear (Gnocchi's ReferencesList). */
export function extractReferences(node: OperationNode): MetricReference[] {
  const out: MetricReference[] = [];
  const visit = (n: OperationNode): void => {
    switch (n.op) {
      case 'number':
        return;
      case 'metric':
        for (const ref of n.references) if (!out.some((r) => r.name === ref.name && r.aggregation === ref.aggregation)) out.push(ref);
        return;
      case 'binary':
        visit(n.left);
        visit(n.right);
        return;
      case 'clip':
        visit(n.operand);
        visit(n.min);
        if (n.max) visit(n.max);
        return;
      default:
        visit(n.operand);
    }
  };
  visit(node);
  return out;
}

/** The same tree with each metric reference's name passed through `rename` (e.g. to normalise ids). */
export function renameReferences(node: OperationNode, rename: (name: string) => string): OperationNode {
  switch (node.op) {
    case 'number':
      return node;
    case 'metric':
      return { ...node, references: node.references.map((r) => ({ name: rename(r.name), aggregation: r.aggregation })) };
    case 'binary':
      return { ...node, left: renameReferences(node.left, rename), right: renameReferences(node.right, rename) };
    case 'clip':
      return { ...node, operand: renameReferences(node.operand, rename), min: renameReferences(node.min, rename), ...(node.max ? { max: renameReferences(node.max, rename) } : {}) };
    default:
      return { ...node, operand: renameReferences(node.operand, rename) };
  }
}

/** The tree written back in the string form, for error messages. */
export function describeOperation(node: OperationNode): string {
  switch (node.op) {
    case 'number':
      return String(node.value);
    case 'metric':
      return node.list ? `(metric ${node.references.map((r) => `(${r.name} ${r.aggregation})`).join(' ')})` : `(metric ${node.references[0]?.name} ${node.references[0]?.aggregation})`;
    case 'aggregate':
      return `(aggregate ${node.method} ${describeOperation(node.operand)})`;
    case 'resample':
      return `(resample ${node.method} ${node.sampling} ${describeOperation(node.operand)})`;
    case 'rolling':
      return `(rolling ${node.method} ${node.window} ${describeOperation(node.operand)})`;
    case 'unary':
      return `(${node.name} ${describeOperation(node.operand)})`;
    case 'binary':
      return `(${node.name} ${describeOperation(node.left)} ${describeOperation(node.right)})`;
    case 'clip':
      return `(clip ${describeOperation(node.operand)} ${describeOperation(node.min)}${node.max ? ` ${describeOperation(node.max)}` : ''})`;
  }
}

/** The lookup keys as Gnocchi reports them in error details. */
export const lookupKeys = (refs: readonly MetricReference[]): LookupKey[] => refs.map((r) => [r.name, r.aggregation] as const);
