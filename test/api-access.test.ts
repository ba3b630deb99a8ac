import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessPolicy, loadAccessPolicy, PolicyRuleError } from '../api/index.ts';
import type { TokenInfo } from '../core/index.ts';
import { startApiTenants, type ApiTenants } from './support/api-tenants.ts';

const token = (roles: string[], projectId: string | null = 'p1'): TokenInfo => ({ userId: 'u1', userName: 'u', domainId: 'default', projectId, projectName: 'p', roles, expiresAt: new Date(Date.now() + 60_000) });

describe('access policy (oslo.policy subset)', () => {
  it('gives admins every project and members their own', () => {
    const policy = new AccessPolicy();
    expect(policy.readableProject('metric', token(['admin']))).toBeNull();
    expect(policy.readableProject('metric', token(['member']))).toBe('p1');
    expect(() => policy.readableProject('metric', token(['member'], null))).toThrow(/project-scoped/);
    expect(policy.allows('metric:write', token(['member']), { project_id: 'p2' })).toBe(false);
    expect(policy.allows('metric:write', token(['member']), { project_id: 'p1' })).toBe(true);
    expect(policy.allows('archive_policy:write', token(['member']))).toBe(false);
  });

  it('parses and, or, not, parentheses, @ and !', () => {
    const policy = new AccessPolicy({ a: 'role:x and (role:y or not role:z)', b: '@', c: '!', d: 'rule:a or user_id:%(owner)s' });
    expect(policy.allows('a', token(['x', 'y']))).toBe(true);
    expect(policy.allows('a', token(['x', 'z']))).toBe(false);
    expect(policy.allows('a', token(['x']))).toBe(true);
    expect(policy.allows('b', token([]))).toBe(true);
    expect(policy.allows('c', token(['admin']))).toBe(false);
    expect(policy.allows('d', token([]), { owner: 'u1' })).toBe(true);
    expect(policy.allows('d', token([]), { owner: 'u2' })).toBe(false);
  });

  it('refuses bad rules by name at load time', () => {
    expect(() => new AccessPolicy({ a: 'rule:missing' })).toThrow(/'a'.*rule:missing/);
    expect(() => new AccessPolicy({ a: 'rule:b', b: 'rule:a' })).toThrow(PolicyRuleError);
    expect(() => new AccessPolicy({ a: 'role:x and (role:y' })).toThrow(/not closed/);
    expect(() => new AccessPolicy({ a: 'color:red' })).toThrow(/not a token field/);
  });

  it("loads an operator's YAML over the defaults", () => {
    const dir = mkdtempSync(join(tmpdir(), 'cumulus-policy-'));
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, '"metric:list_all": "role:admin or role:reader"\n');
    const policy = loadAccessPolicy(file);
    expect(policy.readableProject('metric', token(['reader']))).toBeNull();
    expect(policy.readableProject('event', token(['reader']))).toBe('p1');
    writeFileSync(file, '"metric:read": 3\n');
    expect(() => loadAccessPolicy(file)).toThrow(/metric:read/);
  });
});

describe('the API server: tokens, OpenAPI document, validation', () => {
  let tenants: ApiTenants;
  beforeAll(async () => {
    tenants = await startApiTenants();
  }, 60_000);
  afterAll(async () => tenants?.stop());

  it('answers 401 without a token or with a bad one, and serves health without', async () => {
    expect((await fetch(`${tenants.url}/metric/v1/metric`)).status).toBe(401);
    const bad = await fetch(`${tenants.url}/metric/v1/metric`, { headers: { 'x-auth-token': 'not-a-token' } });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { description: string }).description).toMatch(/X-Auth-Token/);
    expect((await fetch(`${tenants.url}/metric/`)).status).toBe(200);
    expect((await fetch(`${tenants.url}/healthz`)).status).toBe(200);
  });

  it('stops accepting a token once Keystone revoked it', async () => {
    const { login } = await import('./support/openstack-http.ts');
    const session = await login(tenants.url, 'admin', tenants.platform.adminPassword, 'admin');
    expect((await session.get('/metric/v1/archive_policy')).status).toBe(200);
    const revoke = await fetch(`${tenants.url}/identity/v3/auth/tokens`, { method: 'DELETE', headers: { 'x-auth-token': tenants.admin.token, 'x-subject-token': session.token } });
    expect(revoke.status).toBe(204);
    // The authenticator caches a verified token for a few seconds at most.
    await new Promise((r) => setTimeout(r, 5_100));
    expect((await session.get('/metric/v1/archive_policy')).status).toBe(401);
  });

  it('serves an OpenAPI document of the API routes (not the control plane) at /docs', async () => {
    const doc = (await (await fetch(`${tenants.url}/docs/json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/metric/v1/metric', '/metric/v1/archive_policy']));
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/identity') || p.startsWith('/compute'))).toBe(false);
    expect((await fetch(`${tenants.url}/docs`, { redirect: 'manual' })).status).toBeLessThan(400);
  });

  it('names the bad field in a 400', async () => {
    const res = await tenants.admin.get('/metric/v1/metric?limit=100000');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { description: string }).description).toMatch(/querystring\.limit/);
  });
});
