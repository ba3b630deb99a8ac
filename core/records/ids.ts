import { createHash } from 'node:crypto';

/** The namespace of every id Cumulus derives; fixed forever, or ids change meaning. */
export const CUMULUS_ID_NAMESPACE = '6d3c8f2e-3a51-4a0e-9a3b-0c9b1f6a4e11';

const NAMESPACE_BYTES = Buffer.from(CUMULUS_ID_NAMESPACE.replace(/-/g, ''), 'hex');

/**
 * A stable UUID (version 5, RFC 4122: SHA-1 of namespace and name) for the given parts:
 * the same parts always give the same id. Hashed here directly, as it runs per sample.
 */
export function deriveId(...parts: readonly string[]): string {
  const hash = createHash('sha1').update(NAMESPACE_BYTES).update(parts.join('\u001f'), 'utf8').digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.toString('hex', 0, 16);
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
