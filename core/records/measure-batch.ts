import { createHmac, timingSafeEqual } from 'node:crypto';
import { SAMPLE_TYPES, type Sample, type SampleType } from './types.ts';

/**
 * A measure batch: many measures of one or more metrics in one signed stream record, for
 * the sources that produce measures in bulk (the simulator's history, backfills, remote
 * writes, pollsters flushing a cycle). A sample record costs a JSON parse, a canonical
 * re-serialization and an HMAC per measure; a batch costs them once
 * (docs/archive-policies.md, "Ingestion speed").
 *
 * Two wire formats on topic `cumulus.measure-batches`; the reader takes both.
 *
 * Binary (format 2, what encodeMeasureBatch writes unless told otherwise): the numbers as
 * the machine holds them, so the reader parses only the small header.
 *   bytes 0-3   "CMB" then 0x02
 *   bytes 4-35  HMAC-SHA256 of every byte from 36 on, with the metering secret (raw, 32 bytes)
 *   bytes 36-39 H, the header's length in bytes (UInt32, little-endian)
 *   next H      the header, UTF-8 JSON: {"id":UUID,"series":[{ATTRIBUTES...,"count":n},...]}
 *   the rest    per series in header order: its n times (Int64 Unix microseconds), then its
 *               n values (Float64), all little-endian; nothing after the last series
 *
 * JSON (format 1): exactly {"v":1,"sig":"<HMAC-SHA256 of PAYLOAD, 64 lower-case hex>","batch":PAYLOAD}
 * where PAYLOAD is the batch's JSON.
 *
 * Either way the signature covers the bytes as sent: the reader checks it before parsing
 * anything and never re-serializes.
 */

/** What one series' measures share: every attribute but time and value. */
export interface MeasureSeriesAttributes {
  /** Meter name, e.g. `cpu_util`; with resource_id it names the metric. */
  name: string;
  type: SampleType;
  unit: string;
  resource_id: string;
  project_id: string | null;
  user_id: string | null;
  /** Where the measures come from, e.g. `openstack`. */
  source: string;
  /** The resource's attributes when these measures were taken (the resource index reads them at the series' first time). */
  resource_metadata: Record<string, unknown>;
}

/** The consecutive measures of one metric that share every attribute but time and value. */
export interface MeasureSeries extends MeasureSeriesAttributes {
  /** Unix time of each measure, in microseconds (safe integers). */
  timestamps: readonly number[] | Float64Array;
  /** The value of each measure, same length as timestamps. */
  volumes: readonly number[] | Float64Array;
}

export interface MeasureBatch {
  /** A UUID naming the batch: its measures' sample id (ties at one time break on it). */
  id: string;
  series: MeasureSeries[];
}

/** A series as the reader gives it: its numbers in typed arrays, whichever format carried them. */
export interface DecodedMeasureSeries extends MeasureSeriesAttributes {
  timestamps: Float64Array;
  volumes: Float64Array;
}

export interface DecodedMeasureBatch {
  id: string;
  series: DecodedMeasureSeries[];
}

/** `binary` (format 2, the default) or `json` (format 1, for producers that can only write text). */
export type MeasureBatchFormat = 'binary' | 'json';

export interface MeasureBatchRefusal {
  code: 'CUMULUS_PIPELINE_MALFORMED_BATCH' | 'CUMULUS_PIPELINE_BAD_SIGNATURE';
  reason: string;
}

const HEAD = Buffer.from('{"v":1,"sig":"');
const MIDDLE = Buffer.from('","batch":');
const SIG_HEX = 64;
const PAYLOAD_START = HEAD.length + SIG_HEX + MIDDLE.length;
const BINARY_MAGIC = Buffer.from([0x43, 0x4d, 0x42, 0x02]);
const BINARY_SIGNED_FROM = BINARY_MAGIC.length + 32;
const BINARY_HEADER_FROM = BINARY_SIGNED_FROM + 4;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Microseconds of 9999-12-31: a larger number is not a time a ClickHouse DateTime64(6) holds. */
const MAX_MICROS = 253_402_300_799_999_999;
const TWO_32 = 0x1_0000_0000;
/** The high word of an Int64 time must stay below this: the time is then a safe integer (below 2^53). */
const SAFE_HIGH_WORD = 0x20_0000;

const hmac = (secret: string, payload: Buffer): Buffer => createHmac('sha256', secret).update(payload).digest();

const attributesOf = (s: MeasureSeriesAttributes): MeasureSeriesAttributes => ({
  name: s.name,
  type: s.type,
  unit: s.unit,
  resource_id: s.resource_id,
  project_id: s.project_id,
  user_id: s.user_id,
  source: s.source,
  resource_metadata: s.resource_metadata,
});

/** The record bytes of a batch, signed with the metering secret. */
export function encodeMeasureBatch(batch: MeasureBatch, secret: string, format: MeasureBatchFormat = 'binary'): Buffer {
  if (format === 'json') {
    const plain = { id: batch.id, series: batch.series.map((s) => ({ ...attributesOf(s), timestamps: Array.from(s.timestamps), volumes: Array.from(s.volumes) })) };
    const payload = Buffer.from(JSON.stringify(plain), 'utf8');
    return Buffer.concat([HEAD, Buffer.from(hmac(secret, payload).toString('hex'), 'latin1'), MIDDLE, payload, Buffer.from('}')]);
  }
  const header = Buffer.from(JSON.stringify({ id: batch.id, series: batch.series.map((s) => ({ ...attributesOf(s), count: s.timestamps.length })) }), 'utf8');
  let measures = 0;
  for (const s of batch.series) {
    if (s.volumes.length !== s.timestamps.length) throw new RangeError(`series ${s.resource_id}/${s.name}: ${s.volumes.length} volumes for ${s.timestamps.length} timestamps`);
    measures += s.timestamps.length;
  }
  // The numbers in memory of their own (aligned), then copied once into the record.
  const numbers = new ArrayBuffer(measures * 16);
  const words = new Uint32Array(numbers);
  const floats = new Float64Array(numbers);
  let at = 0;
  for (const s of batch.series) {
    const n = s.timestamps.length;
    for (let j = 0; j < n; j++) {
      const t = s.timestamps[j] as number;
      const high = Math.floor(t / TWO_32);
      words[(at + j) * 2] = t - high * TWO_32;
      words[(at + j) * 2 + 1] = high;
    }
    floats.set(s.volumes, at + n);
    at += 2 * n;
  }
  const record = Buffer.allocUnsafe(BINARY_HEADER_FROM + header.length + numbers.byteLength);
  BINARY_MAGIC.copy(record, 0);
  record.writeUInt32LE(header.length, BINARY_SIGNED_FROM);
  header.copy(record, BINARY_HEADER_FROM);
  record.set(new Uint8Array(numbers), BINARY_HEADER_FROM + header.length);
  hmac(secret, record.subarray(BINARY_SIGNED_FROM)).copy(record, BINARY_MAGIC.length);
  return record;
}

const malformed = (reason: string): MeasureBatchRefusal => ({ code: 'CUMULUS_PIPELINE_MALFORMED_BATCH', reason });

/** What is wrong with one series' attributes, or null. */
function checkAttributes(s: unknown, i: number): string | null {
  if (s === null || typeof s !== 'object') return `series[${i}] must be an object`;
  const series = s as Partial<MeasureSeries>;
  if (typeof series.name !== 'string' || series.name === '') return `series[${i}].name must be a non-empty string`;
  if (!SAMPLE_TYPES.includes(series.type as SampleType)) return `series[${i}].type must be one of ${SAMPLE_TYPES.join(', ')}, got ${JSON.stringify(series.type)}`;
  if (typeof series.unit !== 'string') return `series[${i}].unit must be a string`;
  if (typeof series.resource_id !== 'string' || series.resource_id === '') return `series[${i}].resource_id must be a non-empty string`;
  if (series.project_id !== null && typeof series.project_id !== 'string') return `series[${i}].project_id must be a string or null`;
  if (series.user_id !== null && typeof series.user_id !== 'string') return `series[${i}].user_id must be a string or null`;
  if (typeof series.source !== 'string') return `series[${i}].source must be a string`;
  if (series.resource_metadata === null || typeof series.resource_metadata !== 'object' || Array.isArray(series.resource_metadata)) return `series[${i}].resource_metadata must be an object`;
  return null;
}

/** What is wrong with a format-1 series (attributes, then its two arrays), or null. */
function checkJsonSeries(s: unknown, i: number): string | null {
  const problem = checkAttributes(s, i);
  if (problem !== null) return problem;
  const { timestamps, volumes } = s as Partial<MeasureSeries>;
  if (!Array.isArray(timestamps) || timestamps.length === 0) return `series[${i}].timestamps must be a non-empty array of Unix microseconds`;
  if (!Array.isArray(volumes) || volumes.length !== timestamps.length) return `series[${i}].volumes must be an array as long as timestamps (${timestamps.length})`;
  for (let j = 0; j < timestamps.length; j++) {
    const t: unknown = timestamps[j];
    if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0 || t > MAX_MICROS) return `series[${i}].timestamps[${j}] must be Unix microseconds (a whole number from 0 to ${MAX_MICROS}), got ${JSON.stringify(t)}`;
    const v: unknown = volumes[j];
    if (typeof v !== 'number' || !Number.isFinite(v)) return `series[${i}].volumes[${j}] must be a finite number, got ${JSON.stringify(v)}`;
  }
  return null;
}

/** The batch's id and series list, checked (shared by both formats). */
function checkBatch(batch: unknown): { id: string; series: unknown[] } | MeasureBatchRefusal {
  if (batch === null || typeof batch !== 'object' || Array.isArray(batch)) return malformed('batch must be a JSON object');
  const { id, series } = batch as { id?: unknown; series?: unknown };
  if (typeof id !== 'string' || !UUID.test(id)) return malformed(`id must be a UUID, got ${JSON.stringify(id)}`);
  if (!Array.isArray(series) || series.length === 0) return malformed(`batch ${id}: series must be a non-empty array`);
  return { id, series };
}

function decodeJson(value: Buffer, secret: string): DecodedMeasureBatch | MeasureBatchRefusal {
  if (value.length < PAYLOAD_START + 3 || !value.subarray(HEAD.length + SIG_HEX, PAYLOAD_START).equals(MIDDLE) || value[value.length - 1] !== 0x7d) {
    return malformed(`record is not a measure batch: expected {"v":1,"sig":"<64 hex>","batch":{...}}, got ${JSON.stringify(value.subarray(0, 40).toString('utf8'))}...`);
  }
  const sig = value.subarray(HEAD.length, HEAD.length + SIG_HEX).toString('latin1');
  if (!/^[0-9a-f]{64}$/.test(sig)) return malformed('sig must be 64 lower-case hex digits');
  const payload = value.subarray(PAYLOAD_START, value.length - 1);
  if (!timingSafeEqual(Buffer.from(sig, 'hex'), hmac(secret, payload))) return forged();
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return malformed(`batch is not JSON: ${(err as Error).message}`);
  }
  const batch = checkBatch(parsed);
  if (isMeasureBatchRefusal(batch)) return batch;
  const series: DecodedMeasureSeries[] = [];
  for (let i = 0; i < batch.series.length; i++) {
    const problem = checkJsonSeries(batch.series[i], i);
    if (problem !== null) return malformed(`batch ${batch.id}: ${problem}`);
    const s = batch.series[i] as MeasureSeries;
    series.push({ ...attributesOf(s), timestamps: Float64Array.from(s.timestamps), volumes: Float64Array.from(s.volumes) });
  }
  return { id: batch.id, series };
}

const forged = (): MeasureBatchRefusal => ({ code: 'CUMULUS_PIPELINE_BAD_SIGNATURE', reason: 'measure batch has a forged signature, or was signed with another metering secret' });

function decodeBinary(value: Buffer, secret: string): DecodedMeasureBatch | MeasureBatchRefusal {
  if (value.length < BINARY_HEADER_FROM) return malformed(`binary measure batch is ${value.length} bytes, shorter than its fixed start (${BINARY_HEADER_FROM} bytes: magic, signature, header length)`);
  if (!timingSafeEqual(value.subarray(BINARY_MAGIC.length, BINARY_SIGNED_FROM), hmac(secret, value.subarray(BINARY_SIGNED_FROM)))) return forged();
  const headerLength = value.readUInt32LE(BINARY_SIGNED_FROM);
  const numbersFrom = BINARY_HEADER_FROM + headerLength;
  if (numbersFrom > value.length) return malformed(`binary measure batch: its header is said to be ${headerLength} bytes, but only ${value.length - BINARY_HEADER_FROM} follow`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.subarray(BINARY_HEADER_FROM, numbersFrom).toString('utf8'));
  } catch (err) {
    return malformed(`binary measure batch: the header is not JSON: ${(err as Error).message}`);
  }
  const batch = checkBatch(parsed);
  if (isMeasureBatchRefusal(batch)) return batch;
  let measures = 0;
  for (let i = 0; i < batch.series.length; i++) {
    const problem = checkAttributes(batch.series[i], i);
    if (problem !== null) return malformed(`batch ${batch.id}: ${problem}`);
    const count = (batch.series[i] as { count?: unknown }).count;
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1) return malformed(`batch ${batch.id}: series[${i}].count must be a whole number >= 1, got ${JSON.stringify(count)}`);
    measures += count;
  }
  const numberBytes = value.length - numbersFrom;
  if (numberBytes !== measures * 16) return malformed(`batch ${batch.id}: the series count ${measures} measures, which take ${measures * 16} bytes (8 for the time, 8 for the value), but ${numberBytes} bytes follow the header`);
  // One aligned copy of the numbers; the values are read in place, the times converted in place.
  const numbers = new ArrayBuffer(numberBytes);
  new Uint8Array(numbers).set(value.subarray(numbersFrom));
  const series: DecodedMeasureSeries[] = [];
  let at = 0;
  for (let i = 0; i < batch.series.length; i++) {
    const s = batch.series[i] as MeasureSeriesAttributes & { count: number };
    const n = s.count;
    const words = new Uint32Array(numbers, at, 2 * n);
    const timestamps = new Float64Array(numbers, at, n);
    for (let j = 0; j < n; j++) {
      const low = words[2 * j] as number;
      const high = words[2 * j + 1] as number;
      if (high >= SAFE_HIGH_WORD) {
        const signed = new DataView(numbers).getBigInt64(at + j * 8, true);
        return malformed(`batch ${batch.id}: series[${i}].timestamps[${j}] must be Unix microseconds (a whole number from 0 to ${Number.MAX_SAFE_INTEGER}), got ${signed}`);
      }
      timestamps[j] = high * TWO_32 + low;
    }
    const volumes = new Float64Array(numbers, at + n * 8, n);
    for (let j = 0; j < n; j++) if (!Number.isFinite(volumes[j] as number)) return malformed(`batch ${batch.id}: series[${i}].volumes[${j}] must be a finite number, got ${volumes[j]}`);
    series.push({ ...attributesOf(s), timestamps, volumes });
    at += n * 16;
  }
  return { id: batch.id, series };
}

/**
 * Checks one record is a well-formed batch of either format with a valid signature, then
 * reads it. The signature is checked first, on the bytes as sent, so a forged record is
 * never parsed.
 */
export function decodeMeasureBatch(value: Buffer, secret: string): DecodedMeasureBatch | MeasureBatchRefusal {
  if (value.length >= BINARY_MAGIC.length && value.subarray(0, BINARY_MAGIC.length).equals(BINARY_MAGIC)) return decodeBinary(value, secret);
  if (value.length >= HEAD.length && value.subarray(0, HEAD.length).equals(HEAD)) return decodeJson(value, secret);
  return malformed(
    `record is not a measure batch: expected the binary format (bytes "CMB" 0x02) or {"v":1,"sig":"<64 hex>","batch":{...}}, got ${JSON.stringify(value.subarray(0, 40).toString('utf8'))}...`,
  );
}

export function isMeasureBatchRefusal<T extends object>(result: T | MeasureBatchRefusal): result is MeasureBatchRefusal {
  return (result as MeasureBatchRefusal).code !== undefined;
}

/** Unix microseconds of an ISO 8601 time, keeping the fraction's microseconds (Date.parse keeps milliseconds). */
export function microsOfIso(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`not an ISO 8601 time: ${JSON.stringify(iso)}`);
  const fraction = /\.(\d+)/.exec(iso)?.[1] ?? '';
  const micros = fraction.length > 3 ? Number(fraction.slice(3, 6).padEnd(3, '0')) : 0;
  return ms * 1000 + micros;
}

/**
 * Samples as one batch: a series per metric and set of attributes (resource, name, type,
 * unit, owners, source, metadata), its measures in the samples' order. What a producer that
 * gathers many samples at once (a poll cycle) publishes instead of one record per sample.
 */
export function samplesAsMeasureBatch(samples: readonly Sample[], id: string): MeasureBatch {
  const series = new Map<string, MeasureSeriesAttributes & { timestamps: number[]; volumes: number[] }>();
  for (const s of samples) {
    const metadata = JSON.stringify(s.resource_metadata);
    const key = JSON.stringify([s.resource_id, s.name, s.type, s.unit, s.project_id, s.user_id, s.source, metadata]);
    let one = series.get(key);
    if (one === undefined) {
      one = { name: s.name, type: s.type, unit: s.unit, resource_id: s.resource_id, project_id: s.project_id, user_id: s.user_id, source: s.source, resource_metadata: s.resource_metadata, timestamps: [], volumes: [] };
      series.set(key, one);
    }
    one.timestamps.push(microsOfIso(s.timestamp));
    one.volumes.push(s.volume);
  }
  return { id, series: [...series.values()] };
}
