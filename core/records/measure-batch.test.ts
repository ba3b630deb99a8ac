import { createHmac, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeMeasureBatch, encodeMeasureBatch, isMeasureBatchRefusal, samplesAsMeasureBatch, type DecodedMeasureBatch, type MeasureBatch, type MeasureBatchRefusal } from './measure-batch.ts';

const SECRET = 'measure-batch-test-secret-0123456789';
const attributes = { name: 'cpu_util', type: 'gauge' as const, unit: '%', resource_id: 'vm-1', project_id: 'p1', user_id: null, source: 'openstack', resource_metadata: { flavor: { vcpus: 2 } } };

const batch = (): MeasureBatch => ({
  id: randomUUID(),
  series: [
    { ...attributes, timestamps: [1_700_000_000_000_001, 1_700_000_060_000_000], volumes: [0.5, -12.25] },
    { ...attributes, name: 'memory.usage', unit: 'MB', timestamps: [1_700_000_000_500_000], volumes: [2048] },
  ],
});

function decoded(value: Buffer): DecodedMeasureBatch {
  const out = decodeMeasureBatch(value, SECRET);
  if (isMeasureBatchRefusal(out)) throw new Error(`refused: ${out.reason}`);
  return out;
}

function refused(value: Buffer, secret = SECRET): MeasureBatchRefusal {
  const out = decodeMeasureBatch(value, secret);
  if (!isMeasureBatchRefusal(out)) throw new Error('expected a refusal');
  return out;
}

/** A binary record signed as the encoder signs, around any header and number bytes (to build malformed ones). */
function signedBinary(header: unknown, numbers: Buffer, headerLength?: number): Buffer {
  const head = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(headerLength ?? head.length);
  const signed = Buffer.concat([length, head, numbers]);
  return Buffer.concat([Buffer.from([0x43, 0x4d, 0x42, 0x02]), createHmac('sha256', SECRET).update(signed).digest(), signed]);
}

/** Times then values of one series, as the binary format lays them out. */
function numbersOf(times: readonly bigint[], values: readonly number[]): Buffer {
  const out = Buffer.alloc(16 * times.length);
  times.forEach((t, j) => out.writeBigInt64LE(t, j * 8));
  values.forEach((v, j) => out.writeDoubleLE(v, (times.length + j) * 8));
  return out;
}

describe('measure batch records', () => {
  it.each(['binary', 'json'] as const)('round-trips every attribute, time and value in the %s format', (format) => {
    const original = batch();
    const out = decoded(encodeMeasureBatch(original, SECRET, format));
    expect(out.id).toBe(original.id);
    expect(out.series.map((s) => ({ ...s, timestamps: Array.from(s.timestamps), volumes: Array.from(s.volumes) }))).toEqual(original.series);
    expect(out.series[0]?.timestamps).toBeInstanceOf(Float64Array);
  });

  it('writes the binary format by default: magic, signature, header, then 16 bytes per measure', () => {
    const original = batch();
    const value = encodeMeasureBatch(original, SECRET);
    expect([...value.subarray(0, 4)]).toEqual([0x43, 0x4d, 0x42, 0x02]);
    const headerLength = value.readUInt32LE(36);
    expect(JSON.parse(value.subarray(40, 40 + headerLength).toString()).series.map((s: { count: number }) => s.count)).toEqual([2, 1]);
    expect(value.length - 40 - headerLength).toBe(3 * 16);
    expect(value.readBigInt64LE(40 + headerLength)).toBe(1_700_000_000_000_001n);
    expect(value.readDoubleLE(40 + headerLength + 16 + 8)).toBe(-12.25);
  });

  it.each(['binary', 'json'] as const)('refuses a %s record signed with another secret, or changed after signing', (format) => {
    const value = encodeMeasureBatch(batch(), SECRET, format);
    expect(refused(value, 'another-secret-0123456789').code).toBe('CUMULUS_PIPELINE_BAD_SIGNATURE');
    const changed = Buffer.from(value);
    changed[changed.length - 2] = (changed[changed.length - 2] as number) ^ 1;
    expect(refused(changed).code).toBe('CUMULUS_PIPELINE_BAD_SIGNATURE');
  });

  it('names what is wrong with a signed but malformed binary record', () => {
    const id = randomUUID();
    const one = (extra: Record<string, unknown> = {}) => ({ id, series: [{ ...attributes, count: 1, ...extra }] });
    const cases: Array<[Buffer, string]> = [
      [Buffer.from([0x43, 0x4d, 0x42, 0x02, 1, 2]), 'shorter than its fixed start'],
      [signedBinary(one(), numbersOf([1n], [1]), 10_000), 'its header is said to be 10000 bytes'],
      [signedBinary('{"id":', numbersOf([1n], [1])), 'the header is not JSON'],
      [signedBinary({ id: 'not-a-uuid', series: [] }, Buffer.alloc(0)), 'id must be a UUID'],
      [signedBinary({ id, series: [] }, Buffer.alloc(0)), 'series must be a non-empty array'],
      [signedBinary(one({ type: 'histogram' }), numbersOf([1n], [1])), 'series[0].type must be one of'],
      [signedBinary(one({ count: 0 }), Buffer.alloc(0)), 'series[0].count must be a whole number >= 1, got 0'],
      [signedBinary(one({ count: 2 }), numbersOf([1n], [1])), 'the series count 2 measures, which take 32 bytes'],
      [signedBinary(one(), numbersOf([-5n], [1])), 'series[0].timestamps[0] must be Unix microseconds'],
      [signedBinary(one(), numbersOf([2n ** 53n], [1])), `got ${2n ** 53n}`],
      [signedBinary(one(), numbersOf([1n], [Number.NaN])), 'series[0].volumes[0] must be a finite number, got NaN'],
      [signedBinary(one(), numbersOf([1n], [Number.POSITIVE_INFINITY])), 'got Infinity'],
      [Buffer.from('{"samples":[]}'), 'record is not a measure batch'],
    ];
    for (const [value, reason] of cases) {
      const out = refused(value);
      expect(out.code, reason).toBe('CUMULUS_PIPELINE_MALFORMED_BATCH');
      expect(out.reason).toContain(reason);
    }
  });

  it('refuses series whose times and values differ in length before writing anything', () => {
    expect(() => encodeMeasureBatch({ id: randomUUID(), series: [{ ...attributes, timestamps: [1, 2], volumes: [1] }] }, SECRET)).toThrow(/1 volumes for 2 timestamps/);
  });

  it('groups samples into one series per metric and attributes', () => {
    const sample = (name: string, at: string, volume: number) => ({ id: randomUUID(), name, type: 'gauge' as const, unit: '%', volume, user_id: null, project_id: 'p1', resource_id: 'vm-1', timestamp: at, resource_metadata: {}, source: 'openstack', message_id: randomUUID(), message_signature: '' });
    const out = samplesAsMeasureBatch([sample('a', '2026-01-01T00:00:00.000123+00:00', 1), sample('b', '2026-01-01T00:00:00Z', 2), sample('a', '2026-01-01T00:01:00Z', 3)], randomUUID());
    expect(out.series.map((s) => [s.name, [...s.timestamps], [...s.volumes]])).toEqual([
      ['a', [Date.parse('2026-01-01T00:00:00Z') * 1000 + 123, Date.parse('2026-01-01T00:01:00Z') * 1000], [1, 3]],
      ['b', [Date.parse('2026-01-01T00:00:00Z') * 1000], [2]],
    ]);
  });
});
