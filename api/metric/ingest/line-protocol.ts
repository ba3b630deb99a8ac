/**
 * InfluxDB line protocol (1.x, as Telegraf and the InfluxDB clients write it), parsed
 * without I/O: `measurement[,tag=value...] field=value[,field=value...] [timestamp]`, one
 * point per line. Stable.
 *
 * - Escapes: in the measurement, tag keys, tag values and field keys a backslash before a
 *   comma, space, `=` or backslash stands for that character; before anything else it is
 *   kept as written. Quotes there are ordinary characters (InfluxDB's rule).
 * - Field values: floats (`1`, `-1.5`, `2e-3`), integers (`12i`), unsigned (`12u`),
 *   booleans (`t`, `true`, `True`, `TRUE`, `f`, `false`...), and double-quoted strings with
 *   `\"` and `\\` escapes (a string may span lines).
 * - The timestamp is optional (the receiver stamps the point); its unit is the request's
 *   `precision`, nanoseconds by default.
 * - Blank lines and `#` comments are skipped; `\r\n` ends a line like `\n`.
 *
 * A malformed point stops the parse with a {@link LineProtocolError} that names the line
 * and column (both from 1) and what was expected there.
 */

export type FieldValue =
  | { readonly kind: 'float' | 'integer' | 'unsigned'; readonly value: number }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'string'; readonly value: string };

export interface LinePoint {
  readonly measurement: string;
  /** Tags by key (a key given twice keeps its last value). */
  readonly tags: Readonly<Record<string, string>>;
  /** Fields by key, at least one (a key given twice keeps its last value). */
  readonly fields: Readonly<Record<string, FieldValue>>;
  /** Nanoseconds since the epoch, or null when the line has no timestamp. */
  readonly timestampNs: bigint | null;
  /** The line the point starts on, from 1. */
  readonly line: number;
}

/** InfluxDB's `precision` values and the nanoseconds in one unit of each. */
export const PRECISION_NS: Readonly<Record<string, bigint>> = { n: 1n, ns: 1n, u: 1_000n, us: 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };
export type Precision = keyof typeof PRECISION_NS;

/** InfluxDB keeps times as signed 64-bit nanoseconds (1677-09-21 to 2262-04-11). */
const MIN_NS = -(2n ** 63n) + 2n;
const MAX_NS = 2n ** 63n - 1n;

export class LineProtocolError extends Error {
  constructor(
    readonly line: number,
    readonly column: number,
    readonly expected: string,
  ) {
    super(`line ${line}, column ${column}: ${expected}`);
    this.name = 'LineProtocolError';
  }
}

const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+i$/;
const UNSIGNED = /^\d+u$/;
const TRUE = new Set(['t', 'T', 'true', 'True', 'TRUE']);
const FALSE = new Set(['f', 'F', 'false', 'False', 'FALSE']);
const IDENTIFIER_ESCAPES = new Set([',', ' ', '=', '\\']);

/** A cursor over the whole body that knows its line and column. */
class Scanner {
  pos = 0;
  line = 1;
  lineStart = 0;
  constructor(readonly text: string) {}

  get column(): number {
    return this.pos - this.lineStart + 1;
  }
  peek(offset = 0): string | undefined {
    return this.text[this.pos + offset];
  }
  /** At the end of a line (or of the body): `\n`, `\r\n`, or nothing left. */
  atEol(): boolean {
    const ch = this.peek();
    return ch === undefined || ch === '\n' || (ch === '\r' && this.peek(1) === '\n');
  }
  /** Steps over one character, keeping count of lines. */
  advance(): string {
    const ch = this.text[this.pos++] as string;
    if (ch === '\n') {
      this.line++;
      this.lineStart = this.pos;
    }
    return ch;
  }
  skipToNextLine(): void {
    while (this.pos < this.text.length && this.peek() !== '\n') this.pos++;
    if (this.pos < this.text.length) this.advance();
  }
  skipBlanks(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }
  fail(expected: string, column = this.column): never {
    throw new LineProtocolError(this.line, column, expected);
  }
}

/**
 * An identifier up to the first unescaped character of `stops` (or the end of the line).
 * `equalsEnds`: whether an unescaped `=` ends it (keys) or is part of it (measurement, tag values).
 */
function identifier(s: Scanner, equalsEnds: boolean): string {
  let out = '';
  while (!s.atEol()) {
    const ch = s.peek() as string;
    if (ch === ',' || ch === ' ' || ch === '\t' || (equalsEnds && ch === '=')) break;
    if (ch === '\\' && IDENTIFIER_ESCAPES.has(s.peek(1) ?? '')) {
      s.advance();
      out += s.advance();
      continue;
    }
    out += s.advance();
  }
  return out;
}

function quotedString(s: Scanner): string {
  const column = s.column;
  const line = s.line;
  s.advance(); // the opening quote
  let out = '';
  for (;;) {
    const ch = s.peek();
    if (ch === undefined) throw new LineProtocolError(line, column, 'a closing " for the string that starts here');
    if (ch === '"') {
      s.advance();
      return out;
    }
    if (ch === '\\' && (s.peek(1) === '"' || s.peek(1) === '\\')) {
      s.advance();
      out += s.advance();
      continue;
    }
    out += s.advance();
  }
}

function fieldValue(s: Scanner): FieldValue {
  if (s.peek() === '"') return { kind: 'string', value: quotedString(s) };
  const column = s.column;
  let token = '';
  while (!s.atEol() && s.peek() !== ',' && s.peek() !== ' ' && s.peek() !== '\t') token += s.advance();
  if (token === '') s.fail('a field value after "="', column);
  if (FLOAT.test(token)) {
    const value = Number(token);
    if (!Number.isFinite(value)) s.fail(`a finite number, got ${token}`, column);
    return { kind: 'float', value };
  }
  if (INTEGER.test(token)) return { kind: 'integer', value: Number(token.slice(0, -1)) };
  if (UNSIGNED.test(token)) return { kind: 'unsigned', value: Number(token.slice(0, -1)) };
  if (TRUE.has(token)) return { kind: 'boolean', value: true };
  if (FALSE.has(token)) return { kind: 'boolean', value: false };
  return s.fail(`a field value: a number (1.5), an integer (15i), an unsigned (15u), a boolean (true) or a "string"; got ${JSON.stringify(token.slice(0, 40))}`, column);
}

function timestamp(s: Scanner, unitNs: bigint): bigint {
  const column = s.column;
  let token = '';
  while (!s.atEol() && s.peek() !== ' ' && s.peek() !== '\t') token += s.advance();
  if (!/^-?\d{1,19}$/.test(token)) s.fail(`a timestamp (a whole number of the request's precision), got ${JSON.stringify(token.slice(0, 40))}`, column);
  const ns = BigInt(token) * unitNs;
  if (ns < MIN_NS || ns > MAX_NS) s.fail(`a timestamp between 1677-09-21 and 2262-04-11, got ${token}`, column);
  return ns;
}

function point(s: Scanner, unitNs: bigint): LinePoint {
  const line = s.line;
  // 1. measurement
  const measurementColumn = s.column;
  const measurement = identifier(s, false);
  if (measurement === '') s.fail('a measurement name', measurementColumn);
  // 2. tags, right after it
  const tags: Record<string, string> = Object.create(null) as Record<string, string>;
  while (s.peek() === ',') {
    s.advance();
    const keyColumn = s.column;
    const key = identifier(s, true);
    if (key === '') s.fail('a tag key after ","', keyColumn);
    if (s.peek() !== '=') s.fail(`"=" after the tag key ${JSON.stringify(key)}`);
    s.advance();
    const valueColumn = s.column;
    const value = identifier(s, false);
    if (value === '') s.fail(`a value for the tag ${JSON.stringify(key)}`, valueColumn);
    tags[key] = value;
  }
  // 3. fields, after a space
  if (s.atEol() || (s.peek() !== ' ' && s.peek() !== '\t')) s.fail('a space, then the fields (key=value)');
  s.skipBlanks();
  if (s.atEol()) s.fail('the fields (key=value) after the measurement and tags');
  const fields: Record<string, FieldValue> = Object.create(null) as Record<string, FieldValue>;
  for (;;) {
    const keyColumn = s.column;
    const key = identifier(s, true);
    if (key === '') s.fail('a field key', keyColumn);
    if (s.peek() !== '=') s.fail(`"=" after the field key ${JSON.stringify(key)}`);
    s.advance();
    fields[key] = fieldValue(s);
    if (s.peek() !== ',') break;
    s.advance();
  }
  // 4. the optional timestamp, then nothing but blanks
  s.skipBlanks();
  let ns: bigint | null = null;
  if (!s.atEol()) {
    ns = timestamp(s, unitNs);
    s.skipBlanks();
    if (!s.atEol()) s.fail('the end of the line after the timestamp');
  }
  return { measurement, tags, fields, timestampNs: ns, line };
}

/** Every point of a line-protocol body; throws LineProtocolError at the first malformed one. */
export function parseLineProtocol(text: string, precision: Precision = 'ns'): LinePoint[] {
  const unitNs = PRECISION_NS[precision];
  if (unitNs === undefined) throw new RangeError(`precision must be one of ${Object.keys(PRECISION_NS).join(', ')}, got ${JSON.stringify(precision)}`);
  const s = new Scanner(text);
  const points: LinePoint[] = [];
  while (s.pos < s.text.length) {
    s.skipBlanks();
    if (s.atEol() || s.peek() === '#') {
      s.skipToNextLine();
      continue;
    }
    points.push(point(s, unitNs));
    s.skipToNextLine();
  }
  return points;
}
