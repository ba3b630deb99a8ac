/**
 * Python's semantics for the JSON values a notification carries, where Ceilometer's
 * meter processing depends on them (truthiness, ==, ordering, arithmetic, float(),
 * int(), str(), re). JSON gives JavaScript one number type: an integral number counts
 * as a Python int, any other as a float (so `1.0` in a payload reads as the int 1).
 */

/** Python raised TypeError: jsonpath-rw-ext's arithmetic swallows it, other callers do not. */
export class PythonTypeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PythonTypeError';
  }
}

/** Python raised something else that Ceilometer does not catch (ValueError, IndexError, ZeroDivisionError...). */
export class PythonRuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PythonRuntimeError';
  }
}

type Dict = Record<string, unknown>;

export const isDict = (value: unknown): value is Dict => value !== null && typeof value === 'object' && !Array.isArray(value);
const isNumber = (value: unknown): value is number | boolean => typeof value === 'number' || typeof value === 'boolean';
const isInt = (value: unknown): boolean => typeof value === 'boolean' || (typeof value === 'number' && Number.isInteger(value));
const num = (value: number | boolean): number => (typeof value === 'boolean' ? (value ? 1 : 0) : value);

/** The Python type name, for error messages. */
export function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string') return 'str';
  return Array.isArray(value) ? 'list' : 'dict';
}

/** `bool(value)`: None, False, 0, '', [] and {} are false. */
export function truthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') {
    // A dict is truthy when it has a key: found without listing them all (this runs per sample).
    for (const key in value) if (Object.hasOwn(value, key)) return true;
    return false;
  }
  return true;
}

/** `a == b`: numbers and booleans compare by value (True == 1), containers deeply, other mixes are unequal. */
export function pyEquals(a: unknown, b: unknown): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (isNumber(a) && isNumber(b)) return num(a) === num(b);
  if (typeof a === 'string' || typeof b === 'string' || a === null || b === null) return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => pyEquals(item, b[i]));
  }
  if (isDict(a) && isDict(b)) {
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((key) => Object.hasOwn(b, key) && pyEquals(a[key], b[key]));
  }
  return false;
}

/** Python compares str by code point; JavaScript's `<` compares UTF-16 units. */
function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i] as string).codePointAt(0)! - (y[i] as string).codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** Python 3 ordering; TypeError between unorderable types (str < int, dict < dict, None < ...). */
export function pyCompare(a: unknown, b: unknown): number {
  if (isNumber(a) && isNumber(b)) return num(a) - num(b);
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (!pyEquals(a[i], b[i])) return pyCompare(a[i], b[i]);
    }
    return a.length - b.length;
  }
  throw new PythonTypeError(`'<' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
}

function repeat<T>(items: readonly T[] | string, times: number): T[] | string {
  const n = Math.max(0, times);
  if (typeof items === 'string') return items.repeat(n);
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(...items);
  return out;
}

export type ArithmeticOperator = '+' | '-' | '*' | '/';

/** `a <op> b` as Python evaluates it on JSON values; TypeError where Python raises it. */
function unsupported(op: ArithmeticOperator, a: unknown, b: unknown): never {
  throw new PythonTypeError(`unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
}

export function pyArithmetic(op: ArithmeticOperator, a: unknown, b: unknown): unknown {
  if (isNumber(a) && isNumber(b)) {
    const x = num(a);
    const y = num(b);
    if (op === '+') return x + y;
    if (op === '-') return x - y;
    if (op === '*') return x * y;
    if (y === 0) throw new PythonRuntimeError('division by zero');
    return x / y;
  }
  if (op === '+') {
    if (typeof a === 'string' && typeof b === 'string') return a + b;
    if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
    return unsupported(op, a, b);
  }
  if (op === '*') {
    if ((typeof a === 'string' || Array.isArray(a)) && isInt(b)) return repeat(a as string | unknown[], num(b as number | boolean));
    if (isInt(a) && (typeof b === 'string' || Array.isArray(b))) return repeat(b as string | unknown[], num(a as number | boolean));
  }
  return unsupported(op, a, b);
}

const DIGITS = String.raw`\d(?:_?\d)*`;
const FLOAT_TEXT = new RegExp(String.raw`^[+-]?(?:(?:${DIGITS}(?:\.(?:${DIGITS})?)?|\.${DIGITS})(?:[eE][+-]?${DIGITS})?|inf(?:inity)?|nan)$`, 'i');
const INT_TEXT = new RegExp(`^[+-]?${DIGITS}$`);

/** `float(text)`, or undefined where Python raises ValueError. */
export function pyFloat(text: string): number | undefined {
  const trimmed = text.trim();
  if (!FLOAT_TEXT.test(trimmed)) return undefined;
  const lower = trimmed.toLowerCase().replace(/_/g, '');
  const sign = lower.startsWith('-') ? -1 : 1;
  const bare = lower.replace(/^[+-]/, '');
  if (bare.startsWith('inf')) return sign * Infinity;
  if (bare === 'nan') return NaN;
  return Number(lower);
}

/**
 * `int(value)` as jsonpath-rw-ext's filter applies it to the compared field: undefined
 * where Python raises ValueError (the element is skipped), TypeError for containers.
 */
export function pyInt(value: unknown): number | undefined {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return undefined;
    if (!Number.isFinite(value)) throw new PythonRuntimeError('cannot convert float infinity to integer');
    return Math.trunc(value);
  }
  if (typeof value === 'string') {
    const trimmed = value.trim();
    return INT_TEXT.test(trimmed) ? Number(trimmed.replace(/_/g, '')) : undefined;
  }
  throw new PythonTypeError(`int() argument must be a string, a bytes-like object or a real number, not '${typeName(value)}'`);
}

/** `repr(float)`: shortest round-trip digits, exponent form outside [1e-4, 1e16). */
function floatRepr(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  const [mantissa, exp] = value.toExponential().split('e') as [string, string];
  const exponent = Number(exp);
  if (exponent < -4 || exponent >= 16) {
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  const fixed = value.toFixed(Math.max(0, (mantissa.split('.')[1]?.length ?? 0) - exponent));
  return fixed.includes('.') ? fixed : `${fixed}.0`;
}

function strRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

/** `repr(value)` of a JSON value. */
export function pyRepr(value: unknown): string {
  if (typeof value === 'string') return strRepr(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (isDict(value)) return `{${Object.entries(value).map(([k, v]) => `${strRepr(k)}: ${pyRepr(v)}`).join(', ')}}`;
  return pyStr(value);
}

/** `str(value)` of a JSON value. */
export function pyStr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < 2 ** 53 ? String(value) : floatRepr(value);
  if (typeof value === 'string') return value;
  return pyRepr(value);
}

/** `str.split(sep, maxsplit)` with a given separator; maxsplit -1 means no limit. */
export function pySplit(text: string, separator: string, maxSplit: number): string[] {
  if (separator === '') throw new PythonRuntimeError('empty separator');
  const parts: string[] = [];
  let rest = text;
  while (maxSplit < 0 || parts.length < maxSplit) {
    const at = rest.indexOf(separator);
    if (at < 0) break;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + separator.length);
  }
  parts.push(rest);
  return parts;
}

/** `len(value)`, or undefined where Python raises TypeError. Strings count code points. */
export function pyLen(value: unknown): number | undefined {
  if (typeof value === 'string') return [...value].length;
  if (Array.isArray(value)) return value.length;
  if (isDict(value)) return Object.keys(value).length;
  return undefined;
}

/** Python's `sorted()` order on JSON values (TypeError for unorderable mixes). */
export function pySorted(values: readonly unknown[]): unknown[] {
  return [...values].sort(pyCompare);
}

/** Refused: a Python regular expression feature JavaScript cannot express the same way. */
export class PythonRegexError extends Error {
  constructor(pattern: string, reason: string) {
    super(`regular expression ${JSON.stringify(pattern)}: ${reason}`);
    this.name = 'PythonRegexError';
  }
}

const INLINE_FLAGS = /^\(\?([aiLmsux]+)\)/;

/**
 * A Python `re` pattern as a JavaScript RegExp with the same meaning for what notification
 * definitions use: `.` excludes only `\n`, `$` also matches before a final newline,
 * `(?P<name>...)`, `(?P=name)`, `\A`, `\Z` and leading inline flags (i, m, s). With
 * `anchored`, it matches only at the start, as `re.match` does.
 */
export function pythonRegex(pattern: string, anchored: boolean, global = false): RegExp {
  let source = pattern;
  let flags = global ? 'g' : '';
  const inline = INLINE_FLAGS.exec(source);
  let dotAll = false;
  let multiline = false;
  if (inline) {
    for (const flag of inline[1] as string) {
      if (flag === 'i') flags += flags.includes('i') ? '' : 'i';
      else if (flag === 's') dotAll = true;
      else if (flag === 'm') multiline = true;
      else if (flag !== 'u' && flag !== 'a') throw new PythonRegexError(pattern, `inline flag "${flag}" is not supported`);
    }
    source = source.slice(inline[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i] as string;
    if (ch === '\\') {
      const next = source[i + 1];
      if (next === undefined) throw new PythonRegexError(pattern, 'bad escape (end of pattern)');
      i++;
      if (!inClass && next === 'A') out += '(?<![\\s\\S])';
      else if (!inClass && next === 'Z') out += '(?![\\s\\S])';
      else out += `\\${next}`;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      out += ch;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += ch;
      // A `]` right after `[` or `[^` is a literal in Python.
      if (source[i + 1] === '^') out += source[++i];
      if (source[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (ch === '.') out += dotAll ? '[\\s\\S]' : '[^\\n]';
    else if (ch === '$') out += multiline ? '(?=\\n|(?![\\s\\S]))' : '(?=\\n?(?![\\s\\S]))';
    else if (ch === '^') out += multiline ? '(?<=^|\\n)' : '(?<![\\s\\S])';
    else if (source.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
    } else if (source.startsWith('(?P=', i)) {
      const end = source.indexOf(')', i);
      if (end < 0) throw new PythonRegexError(pattern, 'unterminated (?P=');
      out += `\\k<${source.slice(i + 4, end)}>`;
      i = end;
    } else if (source.startsWith('(?#', i)) {
      const end = source.indexOf(')', i);
      if (end < 0) throw new PythonRegexError(pattern, 'unterminated comment');
      i = end;
    } else if (source.startsWith('(?>', i) || /^[*+?}]\+/.test(source.slice(i))) {
      throw new PythonRegexError(pattern, 'atomic groups and possessive quantifiers are not supported');
    } else out += ch;
  }
  try {
    return new RegExp(anchored ? `^(?:${out})` : out, flags);
  } catch (err) {
    throw new PythonRegexError(pattern, (err as Error).message);
  }
}
