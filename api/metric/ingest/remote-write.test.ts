import protobuf from 'protobufjs';
import { compressSync } from 'snappy';
import { describe, expect, it } from 'vitest';
import { decodeRemoteWrite, snappyLength } from './remote-write.ts';

// The test writes its own WriteRequest schema (field numbers from prometheus/prompb), with a
// field the decoder does not declare, so both sides are checked against the spec, not each other.
const SPEC = protobuf.parse(`
  syntax = "proto3";
  package prometheus;
  message WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
  message MetricMetadata { int32 type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
  message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
  message Label { string name = 1; string value = 2; }
  message Sample { double value = 1; int64 timestamp = 2; }
`).root.lookupType('prometheus.WriteRequest');

const encode = (request: object): Buffer => compressSync(Buffer.from(SPEC.encode(SPEC.fromObject(request)).finish()));

/** A RemoteWriteError whose message matches and whose field is `field`. */
const refused = (message: RegExp, field = 'body') => expect.objectContaining({ name: 'RemoteWriteError', field, message: expect.stringMatching(message) }) as unknown as Error;

describe('decodeRemoteWrite', () => {
  it('reads labels and samples, int64 millisecond timestamps included, and skips unknown fields', () => {
    const body = encode({
      timeseries: [
        {
          labels: [
            { name: '__name__', value: 'node_load1' },
            { name: 'job', value: 'node' },
            { name: 'instance', value: 'controller-1:9100' },
          ],
          samples: [
            { value: 0.25, timestamp: 1_700_000_000_123 },
            { value: -3.5e10, timestamp: 1_700_000_015_123 },
          ],
        },
        { labels: [{ name: '__name__', value: 'up' }], samples: [{ value: 0, timestamp: 0 }, { value: Number.NaN, timestamp: 5 }] },
      ],
      metadata: [{ type: 1, metric_family_name: 'node_load1', help: '1m load average.' }],
    });
    const series = decodeRemoteWrite(body);
    expect(series.map((s) => ({ labels: { ...s.labels }, samples: s.samples }))).toEqual([
      {
        labels: { __name__: 'node_load1', job: 'node', instance: 'controller-1:9100' },
        samples: [
          { value: 0.25, timestampMs: 1_700_000_000_123 },
          { value: -3.5e10, timestampMs: 1_700_000_015_123 },
        ],
      },
      { labels: { __name__: 'up' }, samples: [{ value: 0, timestampMs: 0 }, { value: Number.NaN, timestampMs: 5 }] },
    ]);
    expect(decodeRemoteWrite(encode({}))).toEqual([]);
  });

  it('refuses what is not snappy, not a WriteRequest, or announces too much', () => {
    expect(() => decodeRemoteWrite(Buffer.from('cpu,host=a v=1'))).toThrow(refused(/snappy/));
    expect(() => decodeRemoteWrite(Buffer.alloc(0))).toThrow(refused(/snappy/));
    expect(() => decodeRemoteWrite(compressSync(Buffer.from([0x0a, 0xff, 0xff, 0x03])))).toThrow(refused(/protobuf prometheus.WriteRequest/));
    const big = encode({ timeseries: [{ labels: [{ name: '__name__', value: 'x'.repeat(2000) }] }] });
    expect(() => decodeRemoteWrite(big, 1000)).toThrow(refused(/at most 1000 bytes/));
    expect(() => decodeRemoteWrite(encode({ timeseries: [{ labels: [{ name: '', value: 'v' }] }] }))).toThrow(refused(/label without a name/, 'timeseries[0].labels'));
  });

  it("reads snappy's length preamble", () => {
    expect(snappyLength(Uint8Array.from([0x05]))).toBe(5);
    expect(snappyLength(Uint8Array.from([0xfe, 0xff, 0x7f]))).toBe(2_097_150);
    expect(snappyLength(Uint8Array.from([0x80, 0x80]))).toBeNull();
    expect(snappyLength(compressSync(Buffer.alloc(300_000)))).toBe(300_000);
  });
});
