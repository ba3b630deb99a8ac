import type { FastifyReply, FastifyRequest } from 'fastify';
import { invalidApiVersionString, unsupportedApiVersion } from './errors.ts';

/** The block-storage microversions we answer (python-cinderclient 9.x speaks 3.0 .. 3.70). */
export const MIN_MICROVERSION = '3.0';
export const MAX_MICROVERSION = '3.70';

/** Microversions whose behaviour we model (cinder/api/microversions.py). */
export const MV = {
  GROUP_VOLUME: 13,
  GROUP_SNAPSHOTS: 14,
  BACKUP_PROJECT: 18,
  VOLUME_DETAIL_PROVIDER_ID: 21,
  BACKUP_METADATA: 43,
  SUPPORT_COUNT_INFO: 45,
  VOLUME_SHARED_TARGETS_AND_SERVICE_FIELDS: 48,
  SNAPSHOT_LIST_USER_ID: 41,
  BACKUP_USER_ID: 56,
  VOLUME_CLUSTER_NAME: 61,
  VOLUME_TYPE_ID_IN_VOLUME_DETAIL: 63,
  USE_QUOTA: 65,
  SNAPSHOT_IN_USE: 66,
  SHARED_TARGETS_TRISTATE: 69,
} as const;

export interface Microversion {
  major: number;
  minor: number;
}

const parse = (text: string): Microversion | null => {
  const match = /^(\d+)\.(\d+)$/.exec(text.trim());
  return match ? { major: Number(match[1]), minor: Number(match[2]) } : null;
};

const MIN = parse(MIN_MICROVERSION) as Microversion;
const MAX = parse(MAX_MICROVERSION) as Microversion;

export const atLeast = (v: Microversion, minor: number) => v.major > 3 || (v.major === 3 && v.minor >= minor);

/**
 * The microversion a request asks for in `OpenStack-API-Version: volume 3.x` (Cinder
 * reads no legacy header), echoed back with `Vary` as cinder's wsgi layer does. No
 * header means 3.0; out of range answers 406, a malformed version 400.
 */
export function negotiate(request: FastifyRequest, reply: FastifyReply): Microversion {
  const header = request.headers['openstack-api-version'];
  const text = Array.isArray(header) ? header.join(',') : header;
  let asked: string | undefined;
  if (text) {
    for (const part of text.split(',')) {
      const match = /^\s*volume\s+(\S+)\s*$/i.exec(part);
      if (match) asked = match[1];
    }
  }
  let version = MIN;
  if (asked && asked.toLowerCase() === 'latest') version = MAX;
  else if (asked) {
    const parsed = parse(asked);
    if (!parsed) throw invalidApiVersionString(asked);
    const below = parsed.major < MIN.major || (parsed.major === MIN.major && parsed.minor < MIN.minor);
    const above = parsed.major > MAX.major || (parsed.major === MAX.major && parsed.minor > MAX.minor);
    if (below || above) throw unsupportedApiVersion(asked, MIN_MICROVERSION, MAX_MICROVERSION);
    version = parsed;
  }
  reply.header('OpenStack-API-Version', `volume ${version.major}.${version.minor}`);
  reply.header('Vary', 'OpenStack-API-Version');
  return version;
}
