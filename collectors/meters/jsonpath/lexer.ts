import { JsonPathSyntaxError } from './errors.ts';

export type TokenType =
  | 'ID'
  | 'NUMBER'
  | 'FLOAT'
  | 'BOOL'
  | 'NAMED_OPERATOR'
  | 'WHERE'
  | 'DOUBLEDOT'
  | 'FILTER_OP'
  | 'SORT_DIRECTION'
  | '$'
  | '.'
  | '['
  | ']'
  | '('
  | ')'
  | ','
  | ':'
  | '|'
  | '&'
  | '?'
  | '@'
  | '+'
  | '-'
  | '*'
  | '/';

export interface Token {
  type: TokenType;
  value: string | number | boolean;
  /** Offset in the source, for error messages. */
  at: number;
}

/**
 * The token rules of jsonpath-rw-ext's lexer, in the order its PLY lexer tries them
 * (rules defined as functions by line, then string rules longest first, then single-
 * character literals). The order decides real cases: `true` is a BOOL even as a field
 * name, `1.5` a FLOAT, and `/` a SORT_DIRECTION, never a division.
 */
const RULES: ReadonlyArray<readonly [RegExp, (text: string) => Omit<Token, 'at'>]> = [
  [/true|false/y, (t) => ({ type: 'BOOL', value: t === 'true' })],
  [/,?\s*(\/|\\)/y, (t) => ({ type: 'SORT_DIRECTION', value: t.slice(-1) })],
  [/@?[a-zA-Z_][a-zA-Z0-9_@-]*/y, (t) => ({ type: t === 'where' ? 'WHERE' : 'ID', value: t })],
  [/-?\d+\.\d+/y, (t) => ({ type: 'FLOAT', value: Number(t) })],
  [/-?\d+/y, (t) => ({ type: 'NUMBER', value: Number(t) })],
];
const STRING_RULES: ReadonlyArray<readonly [RegExp, TokenType]> = [
  [/==?|<=|>=|!=|<|>|~/y, 'FILTER_OP'],
  [/\.\./y, 'DOUBLEDOT'],
];
const LITERALS = new Set<string>(['*', '.', '[', ']', '(', ')', '$', ',', ':', '|', '&', '?', '@', '+', '/', '-']);
const QUOTES: Readonly<Record<string, TokenType>> = { "'": 'ID', '"': 'ID', '`': 'NAMED_OPERATOR' };

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  scan: while (at < source.length) {
    const ch = source[at] as string;
    if (ch === ' ' || ch === '\t') {
      at++;
      continue;
    }
    for (const [rule, make] of RULES) {
      rule.lastIndex = at;
      const match = rule.exec(source);
      if (match) {
        tokens.push({ ...make(match[0]), at });
        at += match[0].length;
        continue scan;
      }
    }
    // After the rules above: a newline followed by `/` is a SORT_DIRECTION there.
    if (ch === '\n') {
      at++;
      continue;
    }
    const quoteType = QUOTES[ch];
    if (quoteType) {
      // Inside quotes a backslash keeps the next character as it is (no \n or \t meaning).
      let value = '';
      let i = at + 1;
      for (;;) {
        const c = source[i];
        if (c === undefined) throw new JsonPathSyntaxError(source, at, 'unexpected end in a quoted string or named operator');
        if (c === ch) break;
        if (c === '\\') {
          const escaped = source[i + 1];
          if (escaped === undefined || escaped === '\n') throw new JsonPathSyntaxError(source, i, 'unexpected character after a backslash');
          value += escaped;
          i += 2;
          continue;
        }
        value += c;
        i++;
      }
      tokens.push({ type: quoteType, value, at });
      at = i + 1;
      continue;
    }
    for (const [rule, type] of STRING_RULES) {
      rule.lastIndex = at;
      const match = rule.exec(source);
      if (match) {
        tokens.push({ type, value: match[0], at });
        at += match[0].length;
        continue scan;
      }
    }
    if (LITERALS.has(ch)) {
      tokens.push({ type: ch as TokenType, value: ch, at });
      at++;
      continue;
    }
    throw new JsonPathSyntaxError(source, at, `unexpected character ${JSON.stringify(ch)}`);
  }
  return tokens;
}
