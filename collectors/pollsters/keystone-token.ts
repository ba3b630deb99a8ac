import { errorMessage, type Clock, type Logger } from '../../core/index.ts';
import type { HttpComputeSourceConfig } from './config.ts';
import { ComputeSourceError, POLLSTER_ERROR_CODES } from './errors.ts';
import { tokenAnswer } from './schema.ts';

export interface TokenCacheDeps {
  clock: Clock;
  fetch: typeof fetch;
  logger: Logger;
}

/** A project-scoped Keystone token, reused until shortly before it expires. */
export interface TokenCache {
  get(): Promise<string>;
  /** Forgets the token if it is still the current one (the API refused it: revoked, or expired early). */
  invalidate(token: string): void;
}

interface HeldToken {
  token: string;
  /** On our clock: when to stop using it. */
  refreshAtMs: number;
}

/** Keystone writes microseconds (`...05.678000Z`); Date.parse wants at most milliseconds everywhere. */
function keystoneTime(value: string): number {
  return Date.parse(value.replace(/(\.\d{3})\d+/, '$1'));
}

/** Keystone's `{"error": {"message"}}`, or the start of whatever else came. */
function keystoneMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === 'string') return parsed.error.message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.slice(0, 200);
}

/**
 * Password authentication (`POST /v3/auth/tokens`, project scope), the way OpenStack
 * clients log in. The token's lifetime is read as expires_at - issued_at and counted on
 * our clock from when it arrived, so a skew between Keystone's clock and ours neither
 * keeps a dead token nor refreshes on every call. Concurrent callers share one login.
 */
export function createTokenCache(config: HttpComputeSourceConfig, deps: TokenCacheDeps): TokenCache {
  let held: HeldToken | null = null;
  let pending: Promise<string> | null = null;
  const url = `${config.authUrl}/auth/tokens?nocatalog`;

  async function login(): Promise<HeldToken> {
    const body = {
      auth: {
        identity: { methods: ['password'], password: { user: { name: config.username, domain: { name: config.userDomainName }, password: config.password } } },
        scope: { project: { name: config.projectName, domain: { name: config.projectDomainName } } },
      },
    };
    let response: Response;
    let text: string;
    try {
      response = await deps.fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(config.requestTimeoutMs),
      });
      text = await response.text();
    } catch (err) {
      throw new ComputeSourceError(POLLSTER_ERROR_CODES.sourceUnavailable, `Keystone at ${url} could not be reached: ${errorMessage(err)}`, { cause: err });
    }
    if (response.status !== 201) {
      const code = response.status >= 500 ? POLLSTER_ERROR_CODES.sourceUnavailable : POLLSTER_ERROR_CODES.authFailed;
      throw new ComputeSourceError(code, `Keystone refused password authentication of user ${config.username} on project ${config.projectName}: expected 201, got ${response.status} (${keystoneMessage(text)})`, { status: response.status });
    }
    const token = response.headers.get('x-subject-token');
    let times: { issued: number; expires: number } | null = null;
    try {
      const parsed = tokenAnswer.parse(JSON.parse(text));
      times = { issued: keystoneTime(parsed.token.issued_at), expires: keystoneTime(parsed.token.expires_at) };
    } catch {
      times = null;
    }
    if (!token || !times || !Number.isFinite(times.issued) || !Number.isFinite(times.expires) || times.expires <= times.issued) {
      throw new ComputeSourceError(POLLSTER_ERROR_CODES.badResponse, `Keystone's token answer at ${url} lacks an X-Subject-Token header or valid issued_at/expires_at`, { status: response.status });
    }
    const lifetimeMs = times.expires - times.issued;
    // A lifetime shorter than the margin would mean "refresh at once": use half of it then.
    const usableMs = Math.max(lifetimeMs - config.tokenRefreshMarginMs, lifetimeMs / 2);
    deps.logger.debug({ user: config.username, project: config.projectName, lifetimeMs }, 'pollster: logged in to Keystone');
    return { token, refreshAtMs: deps.clock.nowMs() + usableMs };
  }

  return {
    async get() {
      if (held && deps.clock.nowMs() < held.refreshAtMs) return held.token;
      pending ??= login()
        .then((fresh) => {
          held = fresh;
          return fresh.token;
        })
        .finally(() => {
          pending = null;
        });
      return pending;
    },
    invalidate(token) {
      if (held?.token === token) held = null;
    },
  };
}
