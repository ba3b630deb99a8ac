import type { z } from 'zod';
import { errorMessage, type Clock, type Logger } from '../../core/index.ts';
import { resolveHttpComputeSourceConfig, type HttpComputeSourceOptions } from './config.ts';
import { ComputeSourceError, POLLSTER_ERROR_CODES } from './errors.ts';
import { createTokenCache } from './keystone-token.ts';
import { hostsAnswer, instancesAnswer, statsAnswer } from './schema.ts';
import type { ComputeSource } from './source.ts';

export interface HttpComputeSourceDeps {
  clock: Clock;
  logger: Logger;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
}

/** The admin API's `{"error": {"code", "message"}}`, or the start of whatever else came. */
function apiError(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    if (typeof parsed.error?.message === 'string') return `${String(parsed.error.code ?? '')} ${parsed.error.message}`.trim();
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.slice(0, 200);
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

/**
 * The services-mode source: the control plane's admin API over HTTP, with a Keystone
 * token (admin role) it logs in for and refreshes before expiry. A 401 (token revoked,
 * Keystone restarted) drops the token and retries the call once with a fresh one.
 */
export function createHttpComputeSource(options: HttpComputeSourceOptions, deps: HttpComputeSourceDeps): ComputeSource {
  const config = resolveHttpComputeSourceConfig(options);
  const fetchImpl = deps.fetch ?? globalThis.fetch;
  const tokens = createTokenCache(config, { clock: deps.clock, fetch: fetchImpl, logger: deps.logger });

  async function read<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    const url = `${config.adminUrl}${path}`;
    for (let attempt = 1; ; attempt++) {
      const token = await tokens.get();
      let response: Response;
      let text: string;
      try {
        response = await fetchImpl(url, { headers: { 'x-auth-token': token, accept: 'application/json' }, signal: AbortSignal.timeout(config.requestTimeoutMs) });
        text = await response.text();
      } catch (err) {
        throw new ComputeSourceError(POLLSTER_ERROR_CODES.sourceUnavailable, `GET ${url} failed: ${errorMessage(err)}`, { cause: err });
      }
      if (response.status === 401) {
        tokens.invalidate(token);
        if (attempt === 1) {
          deps.logger.debug({ url }, 'pollster: token refused, logging in again');
          continue;
        }
        throw new ComputeSourceError(POLLSTER_ERROR_CODES.authFailed, `GET ${url}: the admin API refused a fresh token too (401 ${apiError(text)})`, { status: 401 });
      }
      if (response.status !== 200) {
        const code = response.status >= 500 ? POLLSTER_ERROR_CODES.sourceUnavailable : POLLSTER_ERROR_CODES.sourceRefused;
        throw new ComputeSourceError(code, `GET ${url}: expected 200, got ${response.status} (${apiError(text)})`, { status: response.status });
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw new ComputeSourceError(POLLSTER_ERROR_CODES.badResponse, `GET ${url}: the answer is not JSON (${errorMessage(err)})`, { status: 200, cause: err });
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) throw new ComputeSourceError(POLLSTER_ERROR_CODES.badResponse, `GET ${url}: the answer is not what the admin API documents: ${describeIssues(parsed.error)}`, { status: 200 });
      return parsed.data;
    }
  }

  return {
    hosts: async () => (await read('/hosts', hostsAnswer)).hosts,
    instances: (host) => read(`/hosts/${encodeURIComponent(host)}/instances`, instancesAnswer),
    hostStats: (host) => read(`/hosts/${encodeURIComponent(host)}/stats`, statsAnswer),
  };
}
