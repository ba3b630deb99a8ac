import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatform, type Platform, type PlatformOptions } from '../../cli/platform.ts';
import { loadConfig, silentLogger } from '../../core/index.ts';
import { login, type Session } from './openstack-http.ts';

/** A caller of the API with its token, plus PUT/PATCH and raw requests the tiny Session lacks. */
export interface Caller extends Session {
  readonly userId: string;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
}

/**
 * The API's three standard callers: the cloud admin, and two members of two different
 * projects ("alpha" and "beta"), each logged in through the platform's own Keystone.
 */
export interface ApiTenants {
  readonly platform: Platform;
  readonly url: string;
  readonly admin: Caller;
  readonly alpha: Caller;
  readonly beta: Caller;
  stop(): Promise<void>;
}

function caller(baseUrl: string, session: Session, userId: string): Caller {
  const request = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${baseUrl}${path}`, {
      method,
      headers: { 'x-auth-token': session.token, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' || body instanceof Uint8Array ? (body as string) : JSON.stringify(body) }),
    });
  return { ...session, userId, request };
}

async function tokenUserId(baseUrl: string, token: string): Promise<string> {
  const res = await fetch(`${baseUrl}/identity/v3/auth/tokens`, { headers: { 'x-auth-token': token, 'x-subject-token': token } });
  const body = (await res.json()) as { token: { user: { id: string } } };
  return body.token.user.id;
}

/** Creates a project and a member user of it (through Keystone's API, as an operator would). */
export async function createProjectMember(url: string, admin: Session, project: string, user: string, role = 'member'): Promise<Caller> {
  const post = async (path: string, body: unknown) => {
    const res = await admin.post(path, body);
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, { id: string }>>;
  };
  const projectId = (await post('/identity/v3/projects', { project: { name: project, domain_id: 'default' } })).project!.id;
  const password = `${user}-password-1`;
  const userId = (await post('/identity/v3/users', { user: { name: user, password, domain_id: 'default', default_project_id: projectId } })).user!.id;
  const roles = (await (await admin.get('/identity/v3/roles')).json()) as { roles: Array<{ id: string; name: string }> };
  const roleId = roles.roles.find((r) => r.name === role)?.id;
  if (!roleId) throw new Error(`no role ${role}`);
  const assign = await fetch(`${url}/identity/v3/projects/${projectId}/users/${userId}/roles/${roleId}`, { method: 'PUT', headers: { 'x-auth-token': admin.token } });
  if (assign.status !== 204) throw new Error(`role assignment: ${assign.status}`);
  const session = await login(url, user, password, project);
  return caller(url, session, userId);
}

/** The whole platform on its embedded default (chDB in a temp folder) with the three callers. */
export async function startApiTenants(overrides: Record<string, unknown> = {}, options: PlatformOptions = {}): Promise<ApiTenants> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cumulus-api-'));
  const config = loadConfig({ env: {}, overrides: { port: 0, dataDir, logLevel: 'silent', ...overrides } });
  const platform = await startPlatform(config, { logger: silentLogger(), buildDelayMs: 10, periodicTasks: false, computePollster: false, ...options });
  try {
    const adminSession = await login(platform.url, 'admin', platform.adminPassword, 'admin');
    const admin = caller(platform.url, adminSession, await tokenUserId(platform.url, adminSession.token));
    const suffix = Date.now().toString(36);
    const alpha = await createProjectMember(platform.url, adminSession, `alpha-${suffix}`, `alice-${suffix}`);
    const beta = await createProjectMember(platform.url, adminSession, `beta-${suffix}`, `bob-${suffix}`);
    return {
      platform,
      url: platform.url,
      admin,
      alpha,
      beta,
      async stop() {
        await platform.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await platform.stop();
    throw err;
  }
}
