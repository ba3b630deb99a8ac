import { createHmac, timingSafeEqual } from 'node:crypto';
import { SAMPLE_TYPES, type Sample, type SampleType } from './types.ts';

/**
 * A measure batch: many measures of one or more metrics in one signed stream record, for
 * the sources that produce measures in bulk (the simulator's history, backfills, remote
 * writes, pollsters flushing a cycle). A sample record costs a JSON parse, a canonical
 * re-serialization and an HMAC per measure; a batch costs them once, and its measures are
 * plain number arrays (docs/archive-policies.md, "Ingestion speed").
 *
 * Wire format (topic `cumulus.measure-batches`), exactly these bytes:
 *   {"v":1,"sig":"<HMAC-SHA256 of PAYLOAD with the metering secret, 64 lower-case hex>","batch":PAYLOAD}
 * where PAYLOAD is the batch's JSON. The signature covers the payload's bytes as sent, so
 * the reader checks it before parsing and never re-serializes anything.
 */

/** The consecutive measures of one metric that share every attribute but time and value. */
export interface MeasureSeries {
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
  /** Unix time of each measure, in microseconds (safe integers). */
  timestamps: number[];
  /** The value of each measure, same length as timestamps. */
  volumes: number[];
}

export interface MeasureBatch {
  /** A UUID naming the batch: its measures' sample id (ties at one time break on it). */
  id: string;
  series: MeasureSeries[];
}

export interface MeasureBatchRefusal {
  code: 'CUMULUS_PIPELINE_MALFORMED_BATCH' | 'CUMULUS_PIPELINE_BAD_SIGNATURE';
  reason: string;
}

const HEAD = Buffer.from('{"v":1,"sig":"');
const MIDDLE = Buffer.from('","batch":');
const SIG_HEX = 64;
const PAYLOAD_START = HEAD.length + SIG_HEX + MIDDLE.length;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Microseconds of 9999-12-31: a larger number is not a time a ClickHouse DateTime64(6) holds. */
const MAX_MICROS = 253_402_300_799_999_999;

const hmac = (secret: string, payload: Buffer): Buffer => createHmac('sha256', secret).update(payload).digest();

/** The record bytes of a batch, signed with the metering secret. */
export function encodeMeasureBatch(batch: MeasureBatch, secret: string): Buffer {
  const payload = Buffer.from(JSON.stringify(batch), 'utf8');
  return Buffer.concat([HEAD, Buffer.from(hmac(secret, payload).toString('hex'), 'latin1'), MIDDLE, payload, Buffer.from('}')]);
}

const malformed = (reason: string): MeasureBatchRefusal => ({ code: 'CUMULUS_PIPELINE_MALFORMED_BATCH', reason });

function checkSeries(s: unknown, i: number): string | null {
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
  const { timestamps, volumes } = series;
  if (!Array.isArray(timestamps) || timestamps.length === 0) return `series[${i}].timestamps must be a non-empty array of Unix microseconds`;
  if (!Array.isArray(volumes) || volumes.length !== timestamps.length) return `series[${i}].volumes must be an array as long as timestamps (${timestamps.length})`;
  for (let j = 0; j < timestamps.length; j++) {
    const t = timestamps[j];
    if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0 || t > MAX_MICROS) return `series[${i}].timestamps[${j}] must be Unix microseconds (a whole number from 0 to ${MAX_MICROS}), got ${JSON.stringify(t)}`;
    const v = volumes[j];
    if (typeof v !== 'number' || !Number.isFinite(v)) return `series[${i}].volumes[${j}] must be a finite number, got ${JSON.stringify(v)}`;
  }
  return null;
}

/**
 * Checks one record is a well-formed batch with a valid signature, then parses it. The
 * signature is checked first, on the payload bytes, so a forged record is never parsed.
 */
export function decodeMeasureBatch(value: Buffer, secret: string): MeasureBatch | MeasureBatchRefusal {
  if (value.length < PAYLOAD_START + 3 || !value.subarray(0, HEAD.length).equals(HEAD) || !value.subarray(HEAD.length + SIG_HEX, PAYLOAD_START).equals(MIDDLE) || value[value.length - 1] !== 0x7d) {
    return malformed(`record is not a measure batch: expected {"v":1,"sig":"<64 hex>","batch":{...}}, got ${JSON.stringify(value.subarray(0, 40).toString('utf8'))}...`);
  }
  const sig = value.subarray(HEAD.length, HEAD.length + SIG_HEX).toString('latin1');
  if (!/^[0-9a-f]{64}$/.test(sig)) return malformed('sig must be 64 lower-case hex digits');
  const payload = value.subarray(PAYLOAD_START, value.length - 1);
  if (!timingSafeEqual(Buffer.from(sig, 'hex'), hmac(secret, payload))) return { code: 'CUMULUS_PIPELINE_BAD_SIGNATURE', reason: 'measure batch has a forged signature, or was signed with another metering secret' };
  let batch: unknown;
  try {
    batch = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return malformed(`batch is not JSON: ${(err as Error).message}`);
  }
  if (batch === null || typeof batch !== 'object') return malformed('batch must be a JSON object');
  const { id, series } = batch as Partial<MeasureBatch>;
  if (typeof id !== 'string' || !UUID.test(id)) return malformed(`id must be a UUID, got ${JSON.stringify(id)}`);
  if (!Array.isArray(series) || series.length === 0) return malformed(`batch ${id}: series must be a non-empty array`);
  for (let i = 0; i < series.length; i++) {
    const problem = checkSeries(series[i], i);
    if (problem !== null) return malformed(`batch ${id}: ${problem}`);
  }
  return batch as MeasureBatch;
}

export function isMeasureBatchRefusal(result: MeasureBatch | MeasureBatchRefusal): result is MeasureBatchRefusal {
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
  const series = new Map<string, MeasureSeries>();
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
