/**
 * Resource ids as Gnocchi shows them. The index keeps the id a resource was created with
 * (what samples carry: Cumulus derives metric ids from it); Gnocchi's API shows a UUID:
 * the id itself when it is one, else a UUIDv5 of it (`original_resource_id` keeps the
 * text). Stable API: clients store these ids.
 */
import { createHash } from 'node:crypto';
import { normalizeUuid } from './resource-types.ts';

/** Gnocchi's namespace for transformed resource ids (gnocchi/utils.py); fixed forever. */
export const GNOCCHI_RESOURCE_ID_NAMESPACE = '0a7a15ff-aa13-4ac2-897c-9bdf30ce175b';
/** Gnocchi refuses longer ids that are not UUIDs ("transformable resource id >255"). */
export const MAX_TRANSFORMABLE_ID_LENGTH = 255;

const NAMESPACE_BYTES = Buffer.from(GNOCCHI_RESOURCE_ID_NAMESPACE.replace(/-/g, ''), 'hex');

/**
 * The UUID Gnocchi shows for a resource id: a UUID in any form Python reads, lower-case
 * with dashes; any other text, Gnocchi's UUIDv5 of it with no creator (`id + "\0" + "\0"`),
 * so the same text always gives the same UUID, whoever asks.
 */
export function resourceUuid(id: string): string {
  const uuid = normalizeUuid(id);
  if (uuid !== null) return uuid;
  const digest = createHash('sha1').update(NAMESPACE_BYTES).update(`${id}\u0000\u0000`, 'utf8').digest();
  digest[6] = ((digest[6] as number) & 0x0f) | 0x50;
  digest[8] = ((digest[8] as number) & 0x3f) | 0x80;
  const hex = digest.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
