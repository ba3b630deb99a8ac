import type { FastifyReply, FastifyRequest } from 'fastify';
import { CloudApiError } from '../errors.ts';

export const MIN_MICROVERSION = '2.1';
export const MAX_MICROVERSION = '2.90';

export interface Microversion {
  major: number;
  minor: number;
}

const parse = (text: string): Microversion | null => {
  const match = /^(\d+)\.(\d+)$/.exec(text.trim());
  return match ? { major: Number(match[1]), minor: Number(match[2]) } : null;
};

export const atLeast = (v: Microversion, minor: number) => v.major > 2 || (v.major === 2 && v.minor >= minor);

/**
 * The microversion a request asks for (`OpenStack-API-Version: compute X.Y` or the
 * legacy `X-OpenStack-Nova-API-Version`), echoed in both headers as Nova does. Out of
 * range answers 406 like Nova.
 */
export function negotiate(request: FastifyRequest, reply: FastifyReply): Microversion {
  const modern = request.headers['openstack-api-version'];
  const legacy = request.headers['x-openstack-nova-api-version'];
  let asked: string | undefined;
  if (typeof modern === 'string') asked = /compute\s+(\S+)/i.exec(modern)?.[1];
  if (!asked && typeof legacy === 'string') asked = legacy;
  const max = parse(MAX_MICROVERSION) as Microversion;
  const min = parse(MIN_MICROVERSION) as Microversion;
  let version = min;
  if (asked && asked.toLowerCase() === 'latest') version = max;
  else if (asked) {
    const parsed = parse(asked);
    if (!parsed) throw new CloudApiError('CUMULUS_CLOUD_BAD_MICROVERSION', 400, `Invalid API version request string ${asked}.`);
    if (parsed.major !== 2 || parsed.minor < min.minor || parsed.minor > max.minor) {
      throw new CloudApiError('CUMULUS_CLOUD_BAD_MICROVERSION', 406, `Version ${asked} is not supported by the API. Minimum is ${MIN_MICROVERSION} and maximum is ${MAX_MICROVERSION}.`);
    }
    version = parsed;
  }
  const text = `${version.major}.${version.minor}`;
  reply.header('OpenStack-API-Version', `compute ${text}`);
  reply.header('X-OpenStack-Nova-API-Version', text);
  reply.header('Vary', 'OpenStack-API-Version, X-OpenStack-Nova-API-Version');
  return version;
}
