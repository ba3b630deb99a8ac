import type { FastifyReply, FastifyRequest } from 'fastify';
import { MAX_MICROVERSION, MIN_MICROVERSION } from './config.ts';
import { PlacementError } from './errors.ts';

/** A requested Placement microversion, `1.minor`. */
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

/** True when the request's microversion is 1.minor or later (Placement's `want_version.matches((1, minor))`). */
export const atLeast = (v: Microversion, minor: number): boolean => v.major > 1 || (v.major === 1 && v.minor >= minor);

export const versionText = (v: Microversion): string => `${v.major}.${v.minor}`;

/**
 * A microversion outside what we serve: Placement answers 406 and, because no version was
 * settled, the error body carries min_version and max_version.
 */
export class MicroversionError extends PlacementError {
  constructor(
    httpStatus: 400 | 406,
    message: string,
  ) {
    super('CUMULUS_CLOUD_BAD_MICROVERSION', httpStatus, message);
    this.name = 'MicroversionError';
  }
}

/**
 * The microversion a request asks for in `OpenStack-API-Version: placement X.Y` (absent:
 * the minimum, 'latest': the maximum), echoed back as microversion_parse's middleware does.
 * Malformed is 400 and out of range 406, with its messages.
 */
export function negotiate(request: FastifyRequest, reply: FastifyReply): Microversion {
  const header = request.headers['openstack-api-version'];
  const values = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',');
  let asked: string | undefined;
  for (const value of values) {
    const match = /^\s*placement\s+(.*?)\s*$/i.exec(value);
    if (match) asked = match[1];
  }
  let version = MIN;
  if (asked !== undefined) {
    if (asked.toLowerCase() === 'latest') version = MAX;
    else {
      const parsed = parse(asked);
      if (!parsed) throw new MicroversionError(400, `Invalid microversion: invalid version string: ${asked}`);
      if (parsed.major !== 1 || parsed.minor < MIN.minor || parsed.minor > MAX.minor) {
        throw new MicroversionError(406, `Invalid microversion: Unacceptable version header: ${asked}`);
      }
      version = parsed;
    }
  }
  reply.header('OpenStack-API-Version', `placement ${versionText(version)}`);
  reply.header('Vary', 'openstack-api-version');
  return version;
}
