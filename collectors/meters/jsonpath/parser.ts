import { pythonRegex, PythonRegexError, type ArithmeticOperator } from '../python.ts';
import type { BinaryKind, FilterExpression, JsonPath, Literal } from './ast.ts';
import { JsonPathSyntaxError } from './errors.ts';
import { tokenize, type Token, type TokenType } from './lexer.ts';
import { compileReplacement } from './replacement.ts';

/*
 * jsonpath-rw-ext's grammar is LALR(1) (PLY) with conflicts settled by its precedence
 * table; this is a Pratt parser that settles them the same way, which matters because
 * the results are surprising and Ceilometer's own meters.yaml depends on them:
 *  - arithmetic (+ - *) binds loosest of all and groups to the right, with no priority
 *    between operators: `$.a * 2 + 1` is `$.a * (2 + 1)`;
 *  - `|` binds tighter than `.`: `ctxt.user_id|ctxt.user` is `ctxt.(user_id|ctxt).user`;
 *  - a bracket applies to everything before it up to the last arithmetic operator:
 *    `a|b[0]` is `(a|b)[0]`.
 * The test suite checks parse trees against jsonpath-rw-ext itself.
 */

/** Left binding powers: higher binds tighter. */
const ARITHMETIC_BP = 1;
const BRACKET_BP = 2;
const BINARY: Partial<Record<TokenType, { bp: number; kind: BinaryKind }>> = {
  DOUBLEDOT: { bp: 5, kind: 'descendants' },
  '.': { bp: 6, kind: 'child' },
  '|': { bp: 7, kind: 'union' },
  '&': { bp: 8, kind: 'intersect' },
  WHERE: { bp: 9, kind: 'where' },
};
const ARITHMETIC = new Set<TokenType>(['+', '-', '*']);

// jsonpath-rw-ext matches these with re.match: a prefix match, `.` not crossing a newline.
const SPLIT = /^split\(([^\n]),\s+(\d+),\s+(\d+|-1)\)/;
const SUB = /^sub\(\/([^\n]*)\/,\s+([^\n]*)\)/;

type Operand = JsonPath | Literal;

class Parser {
  private position = 0;

  constructor(
    private readonly source: string,
    private readonly tokens: readonly Token[],
  ) {}

  parse(): JsonPath {
    const result = this.expression(0);
    const extra = this.peek();
    if (extra) throw this.error(extra, `unexpected ${describe(extra)}`);
    return this.path(result);
  }

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.position + offset];
  }

  private next(): Token {
    const token = this.tokens[this.position++];
    if (!token) throw new JsonPathSyntaxError(this.source, this.source.length, 'unexpected end of the path');
    return token;
  }

  private expect(type: TokenType): Token {
    const token = this.next();
    if (token.type !== type) throw this.error(token, `expected "${type}", got ${describe(token)}`);
    return token;
  }

  private error(token: Token, reason: string): JsonPathSyntaxError {
    return new JsonPathSyntaxError(this.source, token.at, reason);
  }

  private path(operand: Operand): JsonPath {
    if (operand.kind === 'literal') throw new JsonPathSyntaxError(this.source, 0, 'a number is not a path');
    return operand;
  }

  private expression(minBp: number): Operand {
    return this.infix(this.prefix(), minBp);
  }

  private infix(start: Operand, minBp: number): Operand {
    let left = start;
    for (;;) {
      const token = this.peek();
      if (!token) return left;
      // A leading number only exists as the left operand of arithmetic, whatever binds around it.
      if (left.kind === 'literal') {
        if (!ARITHMETIC.has(token.type)) throw this.error(token, `expected an arithmetic operator after a number, got ${describe(token)}`);
      } else if (ARITHMETIC.has(token.type)) {
        if (ARITHMETIC_BP <= minBp) return left;
      } else if (token.type === '[') {
        if (BRACKET_BP <= minBp) return left;
        this.next();
        left = this.bracket(left);
        continue;
      } else {
        const binary = BINARY[token.type];
        if (!binary || binary.bp <= minBp) return left;
        this.next();
        left = { kind: binary.kind, left, right: this.path(this.expression(binary.bp)) } as JsonPath;
        continue;
      }
      this.next();
      left = operation(token.value as ArithmeticOperator, left, this.operand(left));
    }
  }

  /** The right operand of arithmetic: a bare number where the grammar has one, else a whole expression. */
  private operand(left: Operand): Operand {
    const token = this.peek();
    const after = this.peek(1);
    if (token && (token.type === 'NUMBER' || token.type === 'FLOAT') && !(after && ARITHMETIC.has(after.type))) {
      const float = token.type === 'FLOAT';
      // The grammar pairs NUMBER with NUMBER and FLOAT with FLOAT; a path takes either.
      if (left.kind === 'literal' && left.float !== float) throw this.error(token, `unexpected ${describe(token)}`);
      this.next();
      return { kind: 'literal', value: token.value as number, float };
    }
    return this.path(this.expression(0));
  }

  private prefix(): Operand {
    const token = this.next();
    switch (token.type) {
      case '$':
        return { kind: 'root' };
      case '@':
        return { kind: 'this' };
      case '*':
        return { kind: 'fields', names: ['*'] };
      case 'ID':
        return { kind: 'fields', names: this.fieldNames(token) };
      case 'NUMBER':
      case 'FLOAT':
        return { kind: 'literal', value: token.value as number, float: token.type === 'FLOAT' };
      case 'NAMED_OPERATOR':
        return this.namedOperator(token);
      case '(': {
        const inner = this.path(this.expression(0));
        this.expect(')');
        return inner;
      }
      case '[':
        return this.bracketContent(false);
      default:
        throw this.error(token, `unexpected ${describe(token)}`);
    }
  }

  private fieldNames(first: Token): string[] {
    const names = [first.value as string];
    while (this.peek()?.type === ',') {
      this.next();
      names.push(this.expect('ID').value as string);
    }
    return names;
  }

  private namedOperator(token: Token): JsonPath {
    const name = token.value as string;
    if (name === 'len') return { kind: 'len' };
    if (name === 'sorted') return { kind: 'sorted', by: null };
    if (name.startsWith('split(')) {
      const m = SPLIT.exec(name);
      if (!m) throw this.error(token, `\`${name}\` is not valid: expected split(<char>, <segment>, <max split>)`);
      return { kind: 'split', separator: m[1] as string, segment: Number(m[2]), maxSplit: Number(m[3]), text: name };
    }
    if (name.startsWith('sub(')) {
      const m = SUB.exec(name);
      if (!m) throw this.error(token, `\`${name}\` is not valid: expected sub(/<regex>/, <replacement>)`);
      try {
        const pattern = (m[1] as string).trim();
        const template = (m[2] as string).trim();
        const regex = pythonRegex(pattern, false, true);
        return { kind: 'sub', pattern, template, regex, replacement: compileReplacement(template, regex), text: name };
      } catch (err) {
        if (err instanceof PythonRegexError || err instanceof SyntaxError) throw this.error(token, err.message);
        throw err;
      }
    }
    if (name === 'this') return { kind: 'this' };
    if (name === 'parent') return { kind: 'parent' };
    throw this.error(token, `unknown named operator \`${name}\``);
  }

  /** After `<path> [`: an index, slice, field list, filter or sort. */
  private bracket(left: JsonPath): JsonPath {
    return { kind: 'child', left, right: this.bracketContent(true) };
  }

  private bracketContent(afterPath: boolean): JsonPath {
    const token = this.next();
    let result: JsonPath;
    if (afterPath && token.type === '?') {
      result = { kind: 'filter', expressions: this.filterExpressions() };
    } else if (afterPath && token.type === 'SORT_DIRECTION') {
      const by: Array<{ path: JsonPath; reverse: boolean }> = [];
      let direction: Token | undefined = token;
      while (direction) {
        by.push({ path: this.path(this.expression(0)), reverse: direction.value !== '/' });
        direction = this.peek()?.type === 'SORT_DIRECTION' ? this.next() : undefined;
      }
      result = { kind: 'sorted', by };
    } else if (token.type === '*') {
      result = { kind: 'slice', start: null, end: null };
    } else if (token.type === 'NUMBER') {
      if (this.peek()?.type === ':') {
        this.next();
        result = { kind: 'slice', start: token.value as number, end: this.maybeInt() };
      } else {
        result = { kind: 'index', index: token.value as number };
      }
    } else if (token.type === ':') {
      result = { kind: 'slice', start: null, end: this.maybeInt() };
    } else if (token.type === 'ID') {
      result = { kind: 'fields', names: this.fieldNames(token) };
    } else {
      throw this.error(token, `unexpected ${describe(token)} in brackets`);
    }
    this.expect(']');
    return result;
  }

  private maybeInt(): number | null {
    return this.peek()?.type === 'NUMBER' ? (this.next().value as number) : null;
  }

  private filterExpressions(): FilterExpression[] {
    const expressions = this.filterTerm();
    while (this.peek()?.type === '&') {
      this.next();
      expressions.push(...this.filterTerm());
    }
    return expressions;
  }

  private filterTerm(): FilterExpression[] {
    if (this.peek()?.type !== '(') return [this.filterExpression(this.path(this.expression(0)))];
    this.next();
    const inner = this.filterExpressions();
    this.expect(')');
    // `(path)` is a parenthesised path, which may go on (`(a).b = 1`); anything else is a group.
    const only = inner[0];
    if (inner.length === 1 && only && only.op === null) return [this.filterExpression(this.path(this.infix(only.target, 0)))];
    return inner;
  }

  private filterExpression(target: JsonPath): FilterExpression {
    if (this.peek()?.type !== 'FILTER_OP') return { target, op: null, value: null, valueKind: null };
    const op = this.next().value as string;
    const token = this.next();
    const kinds: Partial<Record<TokenType, FilterExpression['valueKind']>> = { ID: 'id', NUMBER: 'int', FLOAT: 'float', BOOL: 'bool' };
    const valueKind = kinds[token.type];
    if (!valueKind) throw this.error(token, `expected a value after ${op}, got ${describe(token)}`);
    return { target, op, value: token.value, valueKind };
  }
}

function describe(token: Token): string {
  return `${token.type} ${JSON.stringify(token.value)}`;
}

/** jsonpath-rw-ext reads a one-field name beside an operator as a string: `'x.' + $.a`. */
function operation(op: ArithmeticOperator, left: Operand, right: Operand): JsonPath {
  const asString = (o: Operand): Operand => (o.kind === 'fields' && o.names.length === 1 ? { kind: 'literal', value: o.names[0] as string, float: false } : o);
  return { kind: 'operation', op, left: asString(left), right: asString(right) };
}

export function parseJsonPath(source: string): JsonPath {
  return new Parser(source, tokenize(source)).parse();
}
