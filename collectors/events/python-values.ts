/**
 * The few Python value semantics Ceilometer's event converter and trait plugins lean on:
 * `str()`, `int()`, `float()`, `==` and `str.split`, applied to JSON values. Events must come out as Ceilometer
 * makes them from the same notification, so these follow CPython, not JavaScript.
 *
 * One thing JSON.parse loses cannot be recovered: whether a number was written `3` or
 * `3.0`. An integral number is taken as a Python int here (docs/events.md).
 */

/** A value Ceilometer holds as a Python float whatever it looks like (a trait plugin's result). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** Why a value could not be converted: Python would raise (ValueError, TypeError) here. Internal: the converter rewraps it. */
export class PythonValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PythonValueError';
  }
}

/** What str.strip() removes: Python's whitespace set, which JavaScript's trim() does not match exactly. */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

export function pyStrip(text: string): string {
  return text.replace(PY_STRIP, '');
}

export function isDict(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof PyFloat);
}

/** repr() of a float: the shortest round-trip digits, exponent form outside 1e-4 <= |x| < 1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() without an argument gives the shortest digits that round-trip, as repr does.
  const [mantissa = '', exponentText = '0'] = x.toExponential().split('e');
  const exponent = Number(exponentText);
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  if (exponent < -4 || exponent >= 16) {
    const body = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${body}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  if (exponent >= digits.length - 1) return `${sign}${digits}${'0'.repeat(exponent - digits.length + 1)}.0`;
  return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
}

function pyNumberStr(x: number): string {
  if (!Number.isInteger(x)) return pyFloatRepr(x);
  // Beyond 2^53 the digits JavaScript prints are rounded; BigInt prints the double's exact value, as Python's int would.
  return Math.abs(x) < Number.MAX_SAFE_INTEGER ? String(x === 0 ? 0 : x) : BigInt(x).toString();
}

const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** repr() of a str: single quotes unless the text has one and no double quote, escapes as CPython writes them. */
export function pyStrRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch !== ' ' && NOT_PRINTABLE.test(ch)) {
      const code = ch.codePointAt(0) ?? 0;
      out += code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : code < 0x10000 ? `\\u${code.toString(16).padStart(4, '0')}` : `\\U${code.toString(16).padStart(8, '0')}`;
    } else out += ch;
  }
  return out + quote;
}

export function pyRepr(value: unknown): string {
  return typeof value === 'string' ? pyStrRepr(value) : pyStr(value);
}

/** str() of a JSON value (or a PyFloat). */
export function pyStr(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return pyNumberStr(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === null || value === undefined) return 'None';
  if (value instanceof PyFloat) return pyFloatRepr(value.value);
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([key, item]) => `${pyStrRepr(key)}: ${pyRepr(item)}`)
      .join(', ')}}`;
  }
  return String(value);
}

/** text[:limit] in code points. */
export function pyTruncate(text: string, limit: number): string {
  if (text.length <= limit) return text;
  return Array.from(text).slice(0, limit).join('');
}

function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (value instanceof PyFloat) return 'float';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'dict';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  return 'str';
}

const INT_LITERAL = /^[+-]?[0-9]+(?:_[0-9]+)*$/;
const FLOAT_LITERAL = /^[+-]?(?:(?:[0-9](?:_?[0-9])*)?\.[0-9](?:_?[0-9])*|[0-9](?:_?[0-9])*\.?)(?:[eE][+-]?[0-9](?:_?[0-9])*)?$/;
const FLOAT_SPECIAL = /^[+-]?(?:inf|infinity|nan)$/i;

/** int(value); raises where Python raises: `int("3.0")`, `int("")`, `int([])`. */
export function pyInt(value: unknown): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return Math.trunc(value) + 0;
  if (value instanceof PyFloat) {
    if (!Number.isFinite(value.value)) throw new PythonValueError(`cannot convert float ${pyFloatRepr(value.value)} to integer`);
    return Math.trunc(value.value) + 0;
  }
  if (typeof value === 'string') {
    const text = pyStrip(value);
    if (!INT_LITERAL.test(text)) throw new PythonValueError(`invalid literal for int() with base 10: ${pyStrRepr(value)}`);
    // A Python int has no negative zero.
    return Number(text.replace(/_/g, '')) + 0;
  }
  throw new PythonValueError(`int() argument must be a string or a number, not '${typeName(value)}'`);
}

/** float(value); a result that is not finite raises too, since JSON (and so an event) cannot carry it. */
export function pyFloat(value: unknown): number {
  let result: number;
  if (typeof value === 'boolean') result = value ? 1 : 0;
  else if (typeof value === 'number') result = value;
  else if (value instanceof PyFloat) result = value.value;
  else if (typeof value === 'string') {
    const text = pyStrip(value);
    if (FLOAT_LITERAL.test(text)) result = Number(text.replace(/_/g, ''));
    else if (FLOAT_SPECIAL.test(text)) result = text.toLowerCase().includes('nan') ? NaN : text.startsWith('-') ? -Infinity : Infinity;
    else throw new PythonValueError(`could not convert string to float: ${pyStrRepr(value)}`);
  } else throw new PythonValueError(`float() argument must be a string or a real number, not '${typeName(value)}'`);
  if (!Number.isFinite(result)) throw new PythonValueError(`float value ${pyFloatRepr(result)} is not finite; an event cannot carry it`);
  return result;
}

function numeric(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof PyFloat) return value.value;
  return null;
}

/** Python's `==` on JSON values: True == 1, 1 == 1.0, lists and dicts compared deeply. */
export function pyEquals(a: unknown, b: unknown): boolean {
  const x = numeric(a);
  const y = numeric(b);
  if (x !== null || y !== null) return x !== null && y !== null && x === y;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a === null || b === null || a === undefined || b === undefined) return (a ?? null) === (b ?? null);
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

/** str.split(separator, maxsplit): at most `maxSplit` cuts from the left (all when negative). */
export function pySplit(text: string, separator: string, maxSplit: number): string[] {
  if (maxSplit < 0) return text.split(separator);
  const parts: string[] = [];
  let start = 0;
  while (parts.length < maxSplit) {
    const at = text.indexOf(separator, start);
    if (at < 0) break;
    parts.push(text.slice(start, at));
    start = at + separator.length;
  }
  parts.push(text.slice(start));
  return parts;
}

/** sequence[index] with Python's negative indices; undefined when out of range. */
export function pyIndex<T>(items: readonly T[], index: number): T | undefined {
  const at = index < 0 ? items.length + index : index;
  return at >= 0 && at < items.length ? items[at] : undefined;
}
