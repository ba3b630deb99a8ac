import type { ArithmeticOperator } from '../python.ts';
import type { Replacement } from './replacement.ts';

/** A literal operand of arithmetic: NUMBER (int), FLOAT, or a one-field name read as a string. */
export interface Literal {
  kind: 'literal';
  value: string | number;
  /** jsonpath-rw-ext keeps Python's int/float distinction: `'ab' * 2` repeats, `'ab' * 2.0` fails. */
  float: boolean;
}

export interface FilterExpression {
  target: JsonPath;
  /** null: the target merely has to match. */
  op: string | null;
  value: string | number | boolean | null;
  valueKind: 'id' | 'int' | 'float' | 'bool' | null;
}

export type BinaryKind = 'child' | 'descendants' | 'where' | 'union' | 'intersect';

interface Binary<K extends BinaryKind> {
  kind: K;
  left: JsonPath;
  right: JsonPath;
}

/** The parse tree, one node per jsonpath-rw / jsonpath-rw-ext class. */
export type JsonPath =
  | { kind: 'root' }
  | { kind: 'this' }
  | { kind: 'parent' }
  | { kind: 'fields'; names: readonly string[] }
  | { kind: 'index'; index: number }
  | { kind: 'slice'; start: number | null; end: number | null }
  | Binary<'child'>
  | Binary<'descendants'>
  | Binary<'where'>
  | Binary<'union'>
  | Binary<'intersect'>
  | { kind: 'operation'; op: ArithmeticOperator; left: JsonPath | Literal; right: JsonPath | Literal }
  | { kind: 'filter'; expressions: readonly FilterExpression[] }
  | { kind: 'sorted'; by: ReadonlyArray<{ path: JsonPath; reverse: boolean }> | null }
  | { kind: 'len' }
  | { kind: 'split'; separator: string; segment: number; maxSplit: number; text: string }
  | { kind: 'sub'; pattern: string; template: string; regex: RegExp; replacement: Replacement; text: string };
