/**
 * Prometheus remote write (protocol 1.0): the body is a snappy-compressed (block format,
 * not framed) protobuf `prometheus.WriteRequest`. Decoded without I/O. Stable.
 *
 * Only the fields Cumulus stores are declared (series labels and float samples); the
 * others a newer Prometheus sends (metadata, exemplars, native histograms) are skipped by
 * the decoder as unknown fields.
 */
import protobuf from 'protobufjs';
import { uncompressSync } from 'snappy';

export interface RemoteSample {
  readonly value: number;
  readonly timestampMs: number;
}

export interface RemoteSeries {
  /** Labels by name (`__name__` included); a name given twice keeps its last value. */
  readonly labels: Readonly<Record<string, string>>;
  readonly samples: readonly RemoteSample[];
}

/** The largest body once uncompressed: remote write sends batches of a few MB at most. */
export const MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024;

export class RemoteWriteError extends Error {
  constructor(
    /** What was wrong: `body` (compression, protobuf) or `timeseries[i]...`. */
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'RemoteWriteError';
  }
}

/** The message types of prometheus/prompb/remote.proto and types.proto that carry samples. */
export const REMOTE_WRITE_PROTO = {
  nested: {
    prometheus: {
      nested: {
        WriteRequest: { fields: { timeseries: { rule: 'repeated', type: 'TimeSeries', id: 1 } } },
        TimeSeries: { fields: { labels: { rule: 'repeated', type: 'Label', id: 1 }, samples: { rule: 'repeated', type: 'Sample', id: 2 } } },
        Label: { fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        Sample: { fields: { value: { type: 'double', id: 1 }, timestamp: { type: 'int64', id: 2 } } },
      },
    },
  },
};

export const WRITE_REQUEST = protobuf.Root.fromJSON(REMOTE_WRITE_PROTO).lookupType('prometheus.WriteRequest');

/** The uncompressed length snappy's block format starts with (a little-endian base-128 varint), or null when unreadable. */
export function snappyLength(body: Uint8Array): number | null {
  let length = 0;
  for (let i = 0, shift = 0; i < Math.min(body.length, 5); i++, shift += 7) {
    const byte = body[i] as number;
    length += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return length;
  }
  return null;
}

interface DecodedRequest {
  timeseries?: Array<{ labels?: Array<{ name?: string; value?: string }>; samples?: Array<{ value?: number; timestamp?: number }> }>;
}

/** The series of a remote-write body; RemoteWriteError naming what is wrong otherwise. */
export function decodeRemoteWrite(body: Uint8Array, maxBytes = MAX_UNCOMPRESSED_BYTES): RemoteSeries[] {
  // 1. the announced size first, so a small body cannot make us allocate gigabytes.
  const length = snappyLength(body);
  if (length === null) throw new RemoteWriteError('body', 'expected a snappy-compressed (block format) body, got no length preamble');
  if (length > maxBytes) throw new RemoteWriteError('body', `expected at most ${maxBytes} bytes once uncompressed, the body announces ${length}`);
  // 2. snappy
  let raw: Buffer;
  try {
    raw = uncompressSync(body, { asBuffer: true }) as Buffer;
  } catch (err) {
    throw new RemoteWriteError('body', `expected a snappy-compressed (block format) body: ${(err as Error).message}`);
  }
  // 3. protobuf
  let decoded: DecodedRequest;
  try {
    decoded = WRITE_REQUEST.toObject(WRITE_REQUEST.decode(raw), { longs: Number, arrays: true }) as DecodedRequest;
  } catch (err) {
    throw new RemoteWriteError('body', `expected a protobuf prometheus.WriteRequest: ${(err as Error).message}`);
  }
  return (decoded.timeseries ?? []).map((series, i) => {
    const labels: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const label of series.labels ?? []) {
      if (!label.name) throw new RemoteWriteError(`timeseries[${i}].labels`, `timeseries[${i}] has a label without a name`);
      labels[label.name] = label.value ?? '';
    }
    // proto3 leaves zero values out: a missing value or timestamp is 0.
    const samples = (series.samples ?? []).map((s) => ({ value: s.value ?? 0, timestampMs: s.timestamp ?? 0 }));
    return { labels, samples };
  });
}
