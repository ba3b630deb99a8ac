import { v5 as uuidv5 } from 'uuid';

/** The namespace of every id Cumulus derives; fixed forever, or ids change meaning. */
export const CUMULUS_ID_NAMESPACE = '6d3c8f2e-3a51-4a0e-9a3b-0c9b1f6a4e11';

/** A stable UUID for the given parts: the same parts always give the same id. */
export function deriveId(...parts: readonly string[]): string {
  return uuidv5(parts.join('\u001f'), CUMULUS_ID_NAMESPACE);
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
