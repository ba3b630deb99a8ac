/**
 * ClickHouse's Native format, written from JavaScript for the columns the measure path
 * inserts: a block is its column and row counts, then each column's name, type and values
 * one after the other. The engine reads it without parsing text, which is why the measure
 * insert uses it (docs/archive-policies.md, "Ingestion speed"). Only the types below are
 * written; each one's layout is what the engine itself writes (checked in the tests by
 * reading blocks back through chDB):
 * - UInt32, UInt64, Float64, DateTime (UInt32 seconds), DateTime64(6) (Int64 microseconds):
 *   little-endian fixed width;
 * - UUID: the high then the low 64 bits, each little-endian (not the text's byte order);
 * - Array(UInt32): every row's end offset (UInt64, cumulative), then all the elements;
 * - Tuple(DateTime64(6, 'UTC'), Float64): the tuple's element columns one after the other
 *   (every time, then every value).
 */

export type NativeColumnType =
  | 'UInt32'
  | 'UInt64'
  | 'Float64'
  | "DateTime('UTC')"
  | "DateTime64(6, 'UTC')"
  | 'UUID'
  | 'Array(UInt32)'
  | "Tuple(DateTime64(6, 'UTC'), Float64)";

export interface NativeColumn {
  readonly name: string;
  readonly type: NativeColumnType;
  /** The column's values in Native layout (see the column builders), in one or several pieces. */
  readonly data: Buffer | readonly Buffer[];
}

/** A block to insert: the columns (all of `rows` values) and, for the INSERT, their names. */
export interface NativeBlock {
  readonly rows: number;
  readonly columns: readonly NativeColumn[];
}

function varUInt(n: number): Buffer {
  const out: number[] = [];
  let rest = n;
  do {
    let byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    out.push(byte);
  } while (rest > 0);
  return Buffer.from(out);
}

function lengthPrefixed(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([varUInt(bytes.length), bytes]);
}

/** The bytes of a block as INSERT ... FORMAT Native reads them, in pieces (to write out without copying them together). */
export function nativeBlockPieces(block: NativeBlock): Buffer[] {
  const parts: Buffer[] = [varUInt(block.columns.length), varUInt(block.rows)];
  for (const column of block.columns) {
    parts.push(lengthPrefixed(column.name), lengthPrefixed(column.type));
    if (Buffer.isBuffer(column.data)) parts.push(column.data);
    else parts.push(...(column.data as readonly Buffer[]));
  }
  return parts;
}

/** The `(a, b, c)` column list of an INSERT of the block. */
export function nativeColumnList(block: NativeBlock): string {
  return `(${block.columns.map((c) => c.name).join(', ')})`;
}

/** The `a Type, b Type` structure of the block, for table functions reading it (file, input). */
export function nativeStructure(block: NativeBlock): string {
  return block.columns.map((c) => `${c.name} ${c.type}`).join(', ');
}

const HEX = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUID_CACHE_LIMIT = 200_000;
const uuidBytes = new Map<string, Buffer>();

/** The 16 bytes ClickHouse stores for a UUID text; cached, as the same metric ids repeat in every block. */
export function uuidNative(id: string): Buffer {
  let bytes = uuidBytes.get(id);
  if (bytes !== undefined) return bytes;
  if (!HEX.test(id)) throw new RangeError(`not a UUID: ${JSON.stringify(id)}`);
  const hex = id.replace(/-/g, '');
  const raw = Buffer.from(hex, 'hex');
  bytes = Buffer.alloc(16);
  // Each 64-bit half little-endian: reverse the bytes within each half.
  for (let i = 0; i < 8; i++) {
    bytes[i] = raw[7 - i] as number;
    bytes[8 + i] = raw[15 - i] as number;
  }
  if (uuidBytes.size >= UUID_CACHE_LIMIT) uuidBytes.clear();
  uuidBytes.set(id, bytes);
  return bytes;
}

/** A UUID's 16 stored bytes as four 32-bit words (for aligned writes into a column). */
const uuidWords = new Map<string, Uint32Array>();
function uuidAsWords(id: string): Uint32Array {
  let words = uuidWords.get(id);
  if (words === undefined) {
    const bytes = uuidNative(id);
    words = new Uint32Array(4);
    for (let i = 0; i < 4; i++) words[i] = bytes.readUInt32LE(i * 4);
    if (uuidWords.size >= UUID_CACHE_LIMIT) uuidWords.clear();
    uuidWords.set(id, words);
  }
  return words;
}

/**
 * A column builder: `rows` fixed-width values written by index, into memory of its own
 * (aligned, so 4- and 8-byte values go through typed-array views rather than byte writes;
 * this runs for every measure). Native is little-endian, as are the hosts this runs on.
 */
export class FixedColumn {
  readonly data: Buffer;
  private readonly u32: Uint32Array;
  private readonly f64: Float64Array | null;
  constructor(
    rows: number,
    readonly width: number,
  ) {
    const memory = new ArrayBuffer(rows * width);
    this.data = Buffer.from(memory);
    this.u32 = width % 4 === 0 ? new Uint32Array(memory) : new Uint32Array(0);
    this.f64 = width === 8 ? new Float64Array(memory) : null;
  }
  uint32(row: number, value: number): void {
    this.u32[row] = value;
  }
  /** A UInt64 or Int64 given as a safe integer (counts, microseconds). */
  int64(row: number, value: number): void {
    const high = Math.floor(value / 0x1_0000_0000);
    this.u32[row * 2] = value - high * 0x1_0000_0000;
    this.u32[row * 2 + 1] = high;
  }
  float64(row: number, value: number): void {
    (this.f64 as Float64Array)[row] = value;
  }
  /** The same UUID in `count` rows from `row` on (a run of one metric's measures). */
  uuidRun(row: number, count: number, id: string): void {
    const words = uuidAsWords(id);
    const w0 = words[0] as number;
    const w1 = words[1] as number;
    const w2 = words[2] as number;
    const w3 = words[3] as number;
    const u32 = this.u32;
    for (let at = row * 4, end = (row + count) * 4; at < end; at += 4) {
      u32[at] = w0;
      u32[at + 1] = w1;
      u32[at + 2] = w2;
      u32[at + 3] = w3;
    }
  }
  /** `values` (Float64) from `row` on: one copy when they are a Float64Array already. */
  float64s(row: number, values: ArrayLike<number>): void {
    const f64 = this.f64 as Float64Array;
    if (values instanceof Float64Array) f64.set(values, row);
    else for (let j = 0; j < values.length; j++) f64[row + j] = values[j] as number;
  }
  uuid(row: number, id: string): void {
    const words = uuidAsWords(id);
    const at = row * 4;
    this.u32[at] = words[0] as number;
    this.u32[at + 1] = words[1] as number;
    this.u32[at + 2] = words[2] as number;
    this.u32[at + 3] = words[3] as number;
  }
}

/** An Array(UInt32) column of runs of rows that share one array each: `[rows, array]` pairs. */
export function uint32ArrayColumnOfRuns(runs: ReadonlyArray<readonly [number, readonly number[]]>): readonly Buffer[] {
  let rows = 0;
  let total = 0;
  for (const [n, v] of runs) {
    rows += n;
    total += n * v.length;
  }
  const offsetsMemory = new ArrayBuffer(rows * 8);
  const offsets = new Uint32Array(offsetsMemory);
  const elements = new Uint32Array(total);
  let row = 0;
  let end = 0;
  for (const [n, v] of runs) {
    const width = v.length;
    // The run's elements: its array once, then doubled in place (native copies, not a loop per row).
    if (n > 0 && width > 0) {
      elements.set(v, end);
      for (let filled = width; filled < n * width; filled *= 2) elements.copyWithin(end + filled, end, end + Math.min(filled, n * width - filled));
    }
    // UInt64 offsets: the low word (the high one stays 0 below 2^32 elements).
    for (let i = 0; i < n; i++, row++) offsets[row * 2] = end + (i + 1) * width;
    end += n * width;
  }
  return [Buffer.from(offsetsMemory), Buffer.from(elements.buffer, elements.byteOffset, elements.byteLength)];
}
