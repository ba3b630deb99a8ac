import type { Clock } from '../../core/index.ts';
import { login, type CloudSession, type Credentials } from './cloud-client.ts';

/** Re-login this long before Keystone's expiry (counted on our clock from when the token came). */
export const TOKEN_REFRESH_MARGIN_MS = 60_000;

/** A project-scoped session reused until shortly before its token expires. */
export interface SessionCache {
  get(signal?: AbortSignal): Promise<CloudSession>;
  /** Forgets the session if it is still the current one (an API answered 401). */
  invalidate(session: CloudSession): void;
}

/**
 * Why cache: the transactions must measure their own service, not Keystone each time;
 * the token-issue check measures Keystone. Concurrent callers share one login.
 */
export function createSessionCache(fetchImpl: typeof fetch, authUrl: string, credentials: Credentials, clock: Clock): SessionCache {
  let held: { session: CloudSession; refreshAtMs: number } | null = null;
  let pending: Promise<CloudSession> | null = null;
  return {
    async get(signal) {
      if (held && clock.nowMs() < held.refreshAtMs) return held.session;
      pending ??= login(fetchImpl, authUrl, credentials, { step: `login as ${credentials.username}`, ...(signal === undefined ? {} : { signal }) })
        .then((session) => {
          const lifetime = Number.isFinite(session.lifetimeMs) && session.lifetimeMs > 0 ? session.lifetimeMs : TOKEN_REFRESH_MARGIN_MS * 2;
          held = { session, refreshAtMs: clock.nowMs() + Math.max(lifetime - TOKEN_REFRESH_MARGIN_MS, lifetime / 2) };
          return session;
        })
        .finally(() => {
          pending = null;
        });
      return pending;
    },
    invalidate(session) {
      if (held?.session.token === session.token) held = null;
    },
  };
}
