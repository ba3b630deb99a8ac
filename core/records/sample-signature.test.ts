import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { computeSampleSignature, SampleSigner, signSample, verifySampleSignature } from './sample-signature.ts';
import type { Sample } from './types.ts';

const SECRET = 'metering-secret-0123456789';

const unsigned = (): Omit<Sample, 'message_signature'> => ({
  id: '5b0f4c3e-8d1a-5b1e-9b7e-0a1b2c3d4e5f',
  name: 'vcpus',
  type: 'gauge',
  unit: 'vcpu',
  volume: 2,
  user_id: 'u-1',
  project_id: 'p-1',
  resource_id: 'r-1',
  timestamp: '2026-01-02T03:04:05.123456+00:00',
  resource_metadata: { host: 'compute-1', flavor: { name: 'm1.small', ram: 2048 }, tags: ['a', 'b'] },
  source: 'openstack',
  message_id: 'm-1',
});

describe('sample signatures', () => {
  it('signs with a 64-hex HMAC that verifies with the same secret', () => {
    const sample = signSample(unsigned(), SECRET);
    expect(sample.message_signature).toMatch(/^[0-9a-f]{64}$/);
    expect(verifySampleSignature(sample, SECRET)).toBe(true);
  });

  it('is deterministic and ignores an existing signature when computing', () => {
    const sample = signSample(unsigned(), SECRET);
    expect(computeSampleSignature(sample, SECRET)).toBe(sample.message_signature);
    expect(signSample(unsigned(), SECRET).message_signature).toBe(sample.message_signature);
  });

  it('does not depend on key order, at any depth', () => {
    const sample = signSample(unsigned(), SECRET);
    const reordered = JSON.parse(
      JSON.stringify({
        message_signature: sample.message_signature,
        resource_metadata: { tags: ['a', 'b'], flavor: { ram: 2048, name: 'm1.small' }, host: 'compute-1' },
        message_id: sample.message_id,
        source: sample.source,
        timestamp: sample.timestamp,
        resource_id: sample.resource_id,
        project_id: sample.project_id,
        user_id: sample.user_id,
        volume: sample.volume,
        unit: sample.unit,
        type: sample.type,
        name: sample.name,
        id: sample.id,
      }),
    ) as Sample;
    expect(verifySampleSignature(reordered, SECRET)).toBe(true);
  });

  it('survives a JSON round trip (what the stream does to it)', () => {
    const sample = signSample(unsigned(), SECRET);
    expect(verifySampleSignature(JSON.parse(JSON.stringify(sample)) as Sample, SECRET)).toBe(true);
  });

  it.each<[string, (s: Sample) => void]>([
    ['volume', (s) => void (s.volume = 3)],
    ['name', (s) => void (s.name = 'memory')],
    ['project_id', (s) => void (s.project_id = 'p-2')],
    ['user_id to null', (s) => void (s.user_id = null)],
    ['timestamp', (s) => void (s.timestamp = '2026-01-02T03:04:06.123456+00:00')],
    ['a nested metadata value', (s) => void ((s.resource_metadata.flavor as { ram: number }).ram = 4096)],
    ['a metadata list element', (s) => void ((s.resource_metadata.tags as string[])[1] = 'c')],
    ['an added metadata key', (s) => void (s.resource_metadata.extra = 1)],
    ['a removed metadata key', (s) => void delete s.resource_metadata.host],
    ['list order', (s) => void (s.resource_metadata.tags = ['b', 'a'])],
    ['volume type (string for number)', (s) => void ((s as unknown as { volume: string }).volume = '2')],
  ])('breaks when %s changes', (_what, change) => {
    const sample = structuredClone(signSample(unsigned(), SECRET));
    change(sample);
    expect(verifySampleSignature(sample, SECRET)).toBe(false);
  });

  it('fails with another secret', () => {
    const sample = signSample(unsigned(), SECRET);
    expect(verifySampleSignature(sample, 'another-secret-0123456789')).toBe(false);
  });

  it.each<[string, unknown]>([
    ['missing', undefined],
    ['empty', ''],
    ['too short', 'abc123'],
    ['not hex', 'z'.repeat(64)],
    ['upper-case hex of the right value', 'UPPER'],
    ['a number', 42],
    ['65 hex characters', 'a'.repeat(65)],
    ['63 hex characters', 'a'.repeat(63)],
    ['64 characters ending in a non-ASCII one', `${'a'.repeat(63)}é`],
    ['64 characters with a space', `${'a'.repeat(32)} ${'a'.repeat(31)}`],
    ['64 characters with a hex letter past f', `${'a'.repeat(63)}g`],
  ])('fails for a %s signature', (_what, signature) => {
    const sample = signSample(unsigned(), SECRET) as unknown as Record<string, unknown>;
    sample.message_signature = signature === 'UPPER' ? (sample.message_signature as string).toUpperCase() : signature;
    if (signature === undefined) delete sample.message_signature;
    expect(verifySampleSignature(sample as unknown as Sample, SECRET)).toBe(false);
  });

  it('fails for a well-formed but forged signature', () => {
    const sample = signSample(unsigned(), SECRET);
    const forged = { ...sample, message_signature: computeSampleSignature({ ...sample, volume: 99 }, SECRET) };
    expect(verifySampleSignature(forged, SECRET)).toBe(false);
  });

  /**
   * The definition, computed the plain way: node's HMAC over JSON.stringify with keys
   * sorted at every depth, resource_metadata replaced by the SHA-256 of its own sorted JSON.
   */
  const reference = (sample: Record<string, unknown>, secret: string): string => {
    const sorted = (v: unknown): unknown =>
      v === null || typeof v !== 'object' ? v : Array.isArray(v) ? v.map(sorted) : Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]));
    const { message_signature: _dropped, ...fields } = sample;
    const metadata = createHash('sha256').update(JSON.stringify(sorted(fields.resource_metadata))).digest('hex');
    return createHmac('sha256', secret).update(JSON.stringify(sorted({ ...fields, resource_metadata: `sha256:${metadata}` }))).digest('hex');
  };

  it.each<[string, string, (s: Omit<Sample, 'message_signature'>) => void]>([
    ['plain fields', SECRET, () => undefined],
    ['a secret longer than the SHA-256 block', 'k'.repeat(100), () => undefined],
    ['non-ASCII, quotes, control characters and a lone surrogate', SECRET, (s) => void (s.resource_metadata = { 'clé "x"': 'café\n\u0001 \\ \ud800', emoji: '☁️🚀', n: -0.5e-7, big: 1e21 })],
    ['metadata of 100 KiB', SECRET, (s) => void (s.resource_metadata = { blob: 'ü'.repeat(40_000), list: Array.from({ length: 2000 }, (_, i) => ({ i })) })],
    ['a resource id beyond the kept buffer (4 KiB)', SECRET, (s) => void (s.resource_id = 'r'.repeat(10_000))],
  ])('gives exactly HMAC-SHA256 of the sorted JSON: %s', (_what, secret, change) => {
    const fields = unsigned();
    change(fields);
    const signer = new SampleSigner(secret);
    expect(signer.compute(fields)).toBe(reference(fields as unknown as Record<string, unknown>, secret));
    // again, from the kept forms
    expect(signer.compute({ ...fields, volume: 7 })).toBe(reference({ ...fields, volume: 7 } as unknown as Record<string, unknown>, secret));
  });

  it('verifies the metadata as it is now, even when the signer kept its earlier form', () => {
    const signer = new SampleSigner(SECRET);
    const sample = signer.sign(unsigned());
    sample.resource_metadata.host = 'compute-9';
    expect(signer.verify(sample)).toBe(false);
  });
});
