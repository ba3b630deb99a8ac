/** A tiny OpenStack-style HTTP client for the cross-stage tests (fetch + Keystone token). */
export interface Session {
  token: string;
  projectId: string;
  get(path: string): Promise<Response>;
  post(path: string, body: unknown): Promise<Response>;
  del(path: string): Promise<Response>;
}

export async function login(baseUrl: string, user: string, password: string, project: string): Promise<Session> {
  const res = await fetch(`${baseUrl}/identity/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: user, domain: { name: 'Default' }, password } } },
        scope: { project: { name: project, domain: { name: 'Default' } } },
      },
    }),
  });
  if (res.status !== 201) throw new Error(`login as ${user} failed: ${res.status} ${await res.text()}`);
  const token = res.headers.get('x-subject-token') as string;
  const body = (await res.json()) as { token: { project: { id: string } } };
  const headers = { 'x-auth-token': token, 'content-type': 'application/json' };
  return {
    token,
    projectId: body.token.project.id,
    get: (path) => fetch(`${baseUrl}${path}`, { headers }),
    post: (path, payload) => fetch(`${baseUrl}${path}`, { method: 'POST', headers, body: JSON.stringify(payload) }),
    del: (path) => fetch(`${baseUrl}${path}`, { method: 'DELETE', headers }),
  };
}

/** Polls `probe` until it returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
