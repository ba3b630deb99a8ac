import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, migrateState, openStateDatabase, type StateDatabase } from '../../core/index.ts';
import { CLOUD_MIGRATIONS } from '../state.ts';
import { KeystoneService, type AuthRequest } from './service.ts';

const TTL_MS = 60 * 60 * 1000;
const ADMIN_PASSWORD = 'admin-password-1';

const passwordAuth = (name: string, password: string, project?: string | { id: string }): AuthRequest => ({
  identity: { methods: ['password'], password: { user: { name, domain: { id: 'default' }, password } } },
  ...(project === undefined ? {} : { scope: { project: typeof project === 'string' ? { name: project, domain: { id: 'default' } } : project } }),
});

/** Runs `fn` expecting a CUMULUS_AUTH_TOKEN_INVALID 401 and returns its message. */
function unauthorizedMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toMatchObject({ code: 'CUMULUS_AUTH_TOKEN_INVALID', httpStatus: 401 });
    return (err as Error).message;
  }
  throw new Error('expected a 401');
}

describe('KeystoneService', () => {
  let db: StateDatabase;
  let clock: ManualClock;
  let keystone: KeystoneService;

  beforeEach(() => {
    db = openStateDatabase(':memory:');
    migrateState(db, 'cloud', CLOUD_MIGRATIONS);
    clock = new ManualClock(new Date('2026-01-02T03:00:00.000Z'));
    keystone = new KeystoneService(db, clock, TTL_MS);
    keystone.bootstrap(ADMIN_PASSWORD);
  });

  afterEach(() => db.close());

  const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;

  it('bootstraps the admin user with the admin role on project admin', () => {
    expect(keystone.listProjects().map((p) => p.name)).toEqual(['admin', 'service']);
    expect(keystone.listRoles().map((r) => r.name)).toEqual(['admin', 'member', 'reader']);
    const token = keystone.authenticate(passwordAuth('admin', ADMIN_PASSWORD, 'admin'));
    expect(token.userName).toBe('admin');
    expect(token.domain).toEqual({ id: 'default', name: 'Default' });
    expect(token.project).toMatchObject({ name: 'admin', domain: { id: 'default', name: 'Default' } });
    expect(token.roles.map((r) => r.name)).toEqual(['admin']);
  });

  it('issues a project-scoped token with roles, methods, audit id and expiry', () => {
    const token = keystone.authenticate(passwordAuth('admin', ADMIN_PASSWORD, 'admin'));
    expect(token.id).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(token.methods).toEqual(['password']);
    expect(token.auditId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(token.issuedAt.toISOString()).toBe('2026-01-02T03:00:00.000Z');
    expect(token.expiresAt.toISOString()).toBe('2026-01-02T04:00:00.000Z');
    expect(token.project?.id).toBe(keystone.listProjects().find((p) => p.name === 'admin')?.id);
    expect(keystone.lookup(token.id)).toEqual(token);
  });

  it('scopes to the default project when no scope is given', () => {
    const token = keystone.authenticate(passwordAuth('admin', ADMIN_PASSWORD));
    expect(token.project?.name).toBe('admin');
    expect(token.roles.map((r) => r.name)).toEqual(['admin']);
  });

  it('gives an unscoped token without roles when asked', () => {
    const token = keystone.authenticate({ ...passwordAuth('admin', ADMIN_PASSWORD), scope: 'unscoped' });
    expect(token.project).toBeNull();
    expect(token.roles).toEqual([]);
  });

  it('scopes by project id as well as by name', () => {
    const adminProject = keystone.listProjects().find((p) => p.name === 'admin') as { id: string };
    const token = keystone.authenticate(passwordAuth('admin', ADMIN_PASSWORD, { id: adminProject.id }));
    expect(token.project?.id).toBe(adminProject.id);
  });

  it('authenticates a user by id', () => {
    const user = keystone.createUser({ name: 'alice', password: 'alice-password' });
    const token = keystone.authenticate({ identity: { methods: ['password'], password: { user: { id: user.id, password: 'alice-password' } } }, scope: 'unscoped' });
    expect(token.userId).toBe(user.id);
  });

  it('refuses bad credentials with the same 401 whatever part was wrong', () => {
    const project = keystone.createProject({ name: 'demo' });
    const user = keystone.createUser({ name: 'alice', password: 'alice-password', defaultProjectId: project.id });
    keystone.assignProjectRole(user.id, project.id, 'member');
    db.prepare('UPDATE projects SET enabled = 0 WHERE id = ?').run(keystone.createProject({ name: 'disabled' }).id);
    keystone.assignProjectRole(user.id, (keystone.listProjects().find((p) => p.name === 'disabled') as { id: string }).id, 'member');

    const messages = [
      unauthorizedMessage(() => keystone.authenticate(passwordAuth('alice', 'wrong-password', 'demo'))),
      unauthorizedMessage(() => keystone.authenticate(passwordAuth('mallory', 'alice-password', 'demo'))),
      unauthorizedMessage(() => keystone.authenticate(passwordAuth('alice', 'alice-password', 'disabled'))),
      unauthorizedMessage(() => keystone.authenticate(passwordAuth('alice', 'alice-password', 'no-such-project'))),
    ];
    expect(new Set(messages).size).toBe(1);
    for (const message of messages) expect(message).not.toMatch(/password|user|mallory|alice|project|disabled/i);
  });

  it('refuses a disabled user', () => {
    const user = keystone.createUser({ name: 'bob', password: 'bob-password' });
    db.prepare('UPDATE users SET enabled = 0 WHERE id = ?').run(user.id);
    unauthorizedMessage(() => keystone.authenticate({ ...passwordAuth('bob', 'bob-password'), scope: 'unscoped' }));
  });

  it('does not let a user scope to a project they have no role on', () => {
    const demo = keystone.createProject({ name: 'demo' });
    const other = keystone.createProject({ name: 'other' });
    const user = keystone.createUser({ name: 'alice', password: 'alice-password' });
    keystone.assignProjectRole(user.id, demo.id, 'member');
    expect(keystone.authenticate(passwordAuth('alice', 'alice-password', 'demo')).roles.map((r) => r.name)).toEqual(['member']);
    unauthorizedMessage(() => keystone.authenticate(passwordAuth('alice', 'alice-password', 'other')));
    unauthorizedMessage(() => keystone.authenticate(passwordAuth('alice', 'alice-password', { id: other.id })));
  });

  it('gives an unscoped token when the default project carries no role', () => {
    const demo = keystone.createProject({ name: 'demo' });
    keystone.createUser({ name: 'carol', password: 'carol-password', defaultProjectId: demo.id });
    const token = keystone.authenticate(passwordAuth('carol', 'carol-password'));
    expect(token.project).toBeNull();
    expect(token.roles).toEqual([]);
  });

  it('rescopes with the token method', () => {
    const unscoped = keystone.authenticate({ ...passwordAuth('admin', ADMIN_PASSWORD), scope: 'unscoped' });
    const scoped = keystone.authenticate({ identity: { methods: ['token'], token: { id: unscoped.id } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } });
    expect(scoped.project?.name).toBe('admin');
    expect(scoped.userId).toBe(unscoped.userId);
    unauthorizedMessage(() => keystone.authenticate({ identity: { methods: ['token'], token: { id: 'not-a-token' } } }));
  });

  it.each<[string, unknown]>([
    ['no methods', { identity: { methods: [] } }],
    ['no identity', {}],
    ['no password', { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' } } } } }],
    ['a name without a domain', { identity: { methods: ['password'], password: { user: { name: 'admin', password: 'x' } } } }],
  ])('answers 400 CUMULUS_CLOUD_BAD_REQUEST for %s', (_what, auth) => {
    expect(() => keystone.authenticate(auth as AuthRequest)).toThrow(expect.objectContaining({ code: 'CUMULUS_CLOUD_BAD_REQUEST', httpStatus: 400 }));
  });

  it('expires tokens after the TTL', async () => {
    const token = keystone.authenticate(passwordAuth('admin', ADMIN_PASSWORD, 'admin'));
    clock.advance(TTL_MS - 1);
    expect(keystone.lookup(token.id)).toBeDefined();
    await expect(keystone.verify(token.id)).resolves.toMatchObject({ userName: 'admin' });
    clock.advance(1);
    expect(keystone.lookup(token.id)).toBeUndefined();
    await expect(keystone.verify(token.id)).rejects.toMatchObject({ code: 'CUMULUS_AUTH_TOKEN_INVALID', httpStatus: 401 });
  });

  it('revokes a token once', async () => {
    const token = keystone.authenticate(passwordAuth('admin', ADMIN_PASSWORD, 'admin'));
    const other = keystone.authenticate(passwordAuth('admin', ADMIN_PASSWORD, 'admin'));
    expect(keystone.revoke(token.id)).toBe(true);
    expect(keystone.revoke(token.id)).toBe(false);
    expect(keystone.revoke('never-issued')).toBe(false);
    await expect(keystone.verify(token.id)).rejects.toMatchObject({ code: 'CUMULUS_AUTH_TOKEN_INVALID' });
    await expect(keystone.verify(other.id)).resolves.toMatchObject({ userName: 'admin' });
  });

  it('verify() returns the TokenInfo the API stages use', async () => {
    const token = keystone.authenticate(passwordAuth('admin', ADMIN_PASSWORD, 'admin'));
    const info = await keystone.verify(token.id);
    expect(info).toEqual({
      userId: token.userId,
      userName: 'admin',
      domainId: 'default',
      projectId: token.project?.id,
      projectName: 'admin',
      roles: ['admin'],
      expiresAt: new Date('2026-01-02T04:00:00.000Z'),
    });
    await expect(keystone.verify('')).rejects.toMatchObject({ code: 'CUMULUS_AUTH_TOKEN_INVALID' });
    await expect(keystone.verify('garbage')).rejects.toMatchObject({ code: 'CUMULUS_AUTH_TOKEN_INVALID' });
  });

  it('stops honouring a token once its user is disabled', async () => {
    const user = keystone.createUser({ name: 'dave', password: 'dave-password' });
    const token = keystone.authenticate({ ...passwordAuth('dave', 'dave-password'), scope: 'unscoped' });
    db.prepare('UPDATE users SET enabled = 0 WHERE id = ?').run(user.id);
    await expect(keystone.verify(token.id)).rejects.toMatchObject({ code: 'CUMULUS_AUTH_TOKEN_INVALID' });
  });

  it('stores tokens only as hashes', () => {
    const token = keystone.authenticate(passwordAuth('admin', ADMIN_PASSWORD, 'admin'));
    const rows = db.prepare('SELECT * FROM tokens').all() as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(token.id);
    expect(rows[0]?.id_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('stores passwords only as hashes', () => {
    keystone.createUser({ name: 'erin', password: 'erin-secret-password' });
    expect(JSON.stringify(db.prepare('SELECT * FROM users').all())).not.toContain('erin-secret-password');
    expect(JSON.stringify(db.prepare('SELECT * FROM users').all())).not.toContain(ADMIN_PASSWORD);
  });

  it('is idempotent when bootstrapped twice, and updates the admin password when it changes', () => {
    const before = { users: count('users'), projects: count('projects'), roles: count('roles'), assignments: count('role_assignments'), domains: count('domains') };
    const adminId = keystone.authenticate(passwordAuth('admin', ADMIN_PASSWORD, 'admin')).userId;
    keystone.bootstrap(ADMIN_PASSWORD);
    expect({ users: count('users'), projects: count('projects'), roles: count('roles'), assignments: count('role_assignments'), domains: count('domains') }).toEqual(before);

    keystone.bootstrap('a-new-admin-password');
    expect({ users: count('users'), projects: count('projects'), roles: count('roles'), assignments: count('role_assignments'), domains: count('domains') }).toEqual(before);
    unauthorizedMessage(() => keystone.authenticate(passwordAuth('admin', ADMIN_PASSWORD, 'admin')));
    const token = keystone.authenticate(passwordAuth('admin', 'a-new-admin-password', 'admin'));
    expect(token.userId).toBe(adminId);
    expect(token.roles.map((r) => r.name)).toEqual(['admin']);
  });

  it('refuses duplicate projects and users with 409 CUMULUS_CLOUD_CONFLICT', () => {
    keystone.createProject({ name: 'demo' });
    expect(() => keystone.createProject({ name: 'demo' })).toThrow(expect.objectContaining({ code: 'CUMULUS_CLOUD_CONFLICT', httpStatus: 409 }));
    expect(() => keystone.createUser({ name: 'admin', password: 'whatever-password' })).toThrow(expect.objectContaining({ code: 'CUMULUS_CLOUD_CONFLICT' }));
  });

  it('answers 404 for an unknown role or domain', () => {
    const user = keystone.createUser({ name: 'frank', password: 'frank-password' });
    const project = keystone.createProject({ name: 'demo' });
    expect(() => keystone.assignProjectRole(user.id, project.id, 'superuser')).toThrow(expect.objectContaining({ code: 'CUMULUS_CLOUD_NOT_FOUND', httpStatus: 404 }));
    expect(() => keystone.createProject({ name: 'x', domainId: 'nope' })).toThrow(expect.objectContaining({ code: 'CUMULUS_CLOUD_NOT_FOUND' }));
  });

  it('names projects by id', () => {
    const project = keystone.createProject({ name: 'demo' });
    expect(keystone.projectName(project.id)).toBe('demo');
    expect(keystone.projectName('nope')).toBeNull();
  });
});
