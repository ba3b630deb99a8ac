import type { FastifyRequest } from 'fastify';
import { CumulusError, type TokenInfo, type TokenVerifier } from '../core/index.ts';
import { ApiError } from './errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's identity, set by the auth hook of every protected route family. */
    identity?: TokenInfo;
  }
}

export const TOKEN_CACHE_TTL_MS = 5_000;

/**
 * Verifies X-Auth-Token through the TokenVerifier contract, with a short cache so a burst
 * of requests costs one verification; a revoked token stops working within the TTL.
 */
export class TokenAuthenticator {
  private readonly cache = new Map<string, { info: TokenInfo; until: number }>();

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly nowMs: () => number,
    private readonly ttlMs = TOKEN_CACHE_TTL_MS,
  ) {}

  async authenticate(request: FastifyRequest): Promise<TokenInfo> {
    const header = request.headers['x-auth-token'];
    const token = Array.isArray(header) ? header[0] : header;
    if (!token) throw new ApiError('CUMULUS_AUTH_TOKEN_MISSING', 401, 'Authentication required: send a Keystone token in the X-Auth-Token header.');
    const now = this.nowMs();
    const cached = this.cache.get(token);
    if (cached && cached.until > now && cached.info.expiresAt.getTime() > now) return cached.info;
    try {
      const info = await this.verifier.verify(token);
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(token, { info, until: now + this.ttlMs });
      return info;
    } catch (err) {
      this.cache.delete(token);
      if (err instanceof CumulusError && err.httpStatus === 401) throw new ApiError('CUMULUS_AUTH_TOKEN_INVALID', 401, 'Authentication required: the X-Auth-Token is invalid, expired or revoked.');
      throw err;
    }
  }
}
