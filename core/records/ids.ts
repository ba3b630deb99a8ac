import { hash } from 'node:crypto';

/** The namespace of every id Cumulus derives; fixed forever, or ids change meaning. */
export const CUMULUS_ID_NAMESPACE = '6d3c8f2e-3a51-4a0e-9a3b-0c9b1f6a4e11';

const NAMESPACE_BYTES = Buffer.from(CUMULUS_ID_NAMESPACE.replace(/-/g, ''), 'hex');
/** The namespace then the name, written in one buffer kept between calls (one-shot hashing, no hash object per id). */
let scratch = Buffer.alloc(1024);
NAMESPACE_BYTES.copy(scratch);

/**
 * A stable UUID (version 5, RFC 4122: SHA-1 of namespace and name) for the given parts:
 * the same parts always give the same id. Hashed here directly, as it runs per sample.
 */
export function deriveId(...parts: readonly string[]): string {
  const name = parts.join('\u001f');
  const needed = NAMESPACE_BYTES.length + name.length * 3 <= scratch.length ? 0 : NAMESPACE_BYTES.length + Buffer.byteLength(name, 'utf8');
  if (needed > scratch.length) {
    scratch = Buffer.alloc(needed * 2);
    NAMESPACE_BYTES.copy(scratch);
  }
  const written = scratch.write(name, NAMESPACE_BYTES.length, 'utf8');
  const digest = hash('sha1', scratch.subarray(0, NAMESPACE_BYTES.length + written), 'buffer');
  digest[6] = ((digest[6] as number) & 0x0f) | 0x50;
  digest[8] = ((digest[8] as number) & 0x3f) | 0x80;
  const hex = digest.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A sample's id from the message it came from: one message may give several samples
 * (several meters, or several resources through a lookup), so name and resource count too.
 */
export function sampleId(messageId: string, name: string, resourceId: string): string {
  return deriveId('sample', messageId, name, resourceId);
}

/** A metric's id from its resource and name, as Ceilometer's Gnocchi publisher pairs them. */
export function metricId(resourceId: string, name: string): string {
  return deriveId('metric', resourceId, name);
}
