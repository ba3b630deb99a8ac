/**
 * The prober's view of a cloud: plain OpenStack REST over HTTP (Keystone password login,
 * the catalog, JSON calls), as any outside client has it. alerts/ never imports cloud/:
 * the prober must work the same against a real OpenStack.
 */
import { errorMessage } from '../../core/index.ts';
import { CHECK_ERROR_CODES, CheckFailure } from './errors.ts';

/** Password credentials scoped to a project (names, as clouds.yaml has them). */
export interface Credentials {
  username: string;
  password: string;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
}

/** One public endpoint of the Keystone catalog. */
export interface CatalogEndpoint {
  type: string;
  name: string;
  region: string;
  url: string;
}

/** A project-scoped token and what came with it. */
export interface CloudSession {
  token: string;
  userId: string;
  projectId: string;
  /** Public endpoints (all regions). */
  catalog: CatalogEndpoint[];
  /** How long Keystone lets the token live (expires_at - issued_at), ms; NaN when it did not say. */
  lifetimeMs: number;
}

export interface CallOptions {
  method?: string;
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** The answers that count as success (a list, or a test); anything else is a CheckFailure. Default: any 2xx. */
  expect?: readonly number[] | ((status: number) => boolean);
  signal?: AbortSignal;
}

export interface CallAnswer {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or null when the body is empty or not JSON. */
  body: unknown;
  text: string;
}

/** The `{"error": {"message"}}` / `{"badRequest": {"message"}}` of OpenStack APIs, or the start of the body. */
export function openstackMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as Record<string, { message?: unknown } | undefined>;
    for (const value of Object.values(parsed)) if (typeof value?.message === 'string') return value.message;
  } catch {
    // not JSON (haproxy's 503 page, a proxy's error): fall through to its text
  }
  return text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
}

/** One HTTP call as a named step of a transaction; refuses unexpected answers with what came. */
export async function call(fetchImpl: typeof fetch, step: string, url: string, options: CallOptions = {}): Promise<CallAnswer> {
  const method = options.method ?? 'GET';
  let response: Response;
  let text: string;
  try {
    response = await fetchImpl(url, {
      method,
      headers: {
        accept: 'application/json',
        ...(options.token === undefined ? {} : { 'x-auth-token': options.token }),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    text = await response.text();
  } catch (err) {
    if (options.signal?.aborted) throw new CheckFailure(CHECK_ERROR_CODES.timeout, step, `${method} ${url} did not answer in time`, { cause: err });
    throw new CheckFailure(CHECK_ERROR_CODES.stepFailed, step, `${method} ${url} could not be reached: ${errorMessage(err)}`, { cause: err });
  }
  const expect = options.expect;
  const ok = expect === undefined ? response.status >= 200 && response.status < 300 : typeof expect === 'function' ? expect(response.status) : expect.includes(response.status);
  if (!ok) {
    const expected = expect === undefined ? '2xx' : typeof expect === 'function' ? 'an answer below 500' : expect.join(' or ');
    throw new CheckFailure(CHECK_ERROR_CODES.stepFailed, step, `${method} ${url}: expected ${expected}, got ${response.status} (${openstackMessage(text)})`, { status: response.status });
  }
  let body: unknown = null;
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  return { status: response.status, headers: response.headers, body, text };
}

interface TokenBody {
  token?: {
    expires_at?: string;
    issued_at?: string;
    user?: { id?: string };
    project?: { id?: string };
    catalog?: Array<{ type?: string; name?: string; endpoints?: Array<{ interface?: string; region?: string; region_id?: string; url?: string }> }>;
  };
}

/** Keystone writes microseconds; Date.parse wants at most milliseconds everywhere. */
const keystoneTime = (value: string | undefined) => (value === undefined ? Number.NaN : Date.parse(value.replace(/(\.\d{3})\d+/, '$1')));

/** Password login scoped to the project (`POST /v3/auth/tokens`), with the catalog. */
export async function login(fetchImpl: typeof fetch, authUrl: string, credentials: Credentials, options: { step?: string; signal?: AbortSignal; noCatalog?: boolean } = {}): Promise<CloudSession> {
  const step = options.step ?? 'keystone login';
  const answer = await call(fetchImpl, step, `${authUrl}/auth/tokens${options.noCatalog ? '?nocatalog' : ''}`, {
    method: 'POST',
    expect: [201],
    body: {
      auth: {
        identity: { methods: ['password'], password: { user: { name: credentials.username, domain: { name: credentials.userDomainName }, password: credentials.password } } },
        scope: { project: { name: credentials.projectName, domain: { name: credentials.projectDomainName } } },
      },
    },
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const token = answer.headers.get('x-subject-token');
  const body = (answer.body ?? {}) as TokenBody;
  const userId = body.token?.user?.id;
  const projectId = body.token?.project?.id;
  if (!token || !userId || !projectId) throw new CheckFailure(CHECK_ERROR_CODES.stepFailed, step, `Keystone's answer at ${authUrl}/auth/tokens lacks the X-Subject-Token header, token.user.id or token.project.id`, { status: answer.status });
  const catalog: CatalogEndpoint[] = [];
  for (const service of body.token?.catalog ?? []) {
    for (const endpoint of service.endpoints ?? []) {
      if (endpoint.interface !== 'public' || !endpoint.url || !service.type) continue;
      catalog.push({ type: service.type, name: service.name ?? service.type, region: endpoint.region_id ?? endpoint.region ?? '', url: endpoint.url.replace(/\/+$/, '') });
    }
  }
  return { token, userId, projectId, catalog, lifetimeMs: keystoneTime(body.token?.expires_at) - keystoneTime(body.token?.issued_at) };
}

/** The first public endpoint of `type` (in `region` when given); undefined when the catalog has none. */
export function endpointOf(session: CloudSession, types: readonly string[], region: string | null): CatalogEndpoint | undefined {
  for (const type of types) {
    const found = session.catalog.find((e) => e.type === type && (region === null || e.region === region));
    if (found) return found;
  }
  return undefined;
}
