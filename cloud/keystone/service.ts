import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Clock, StateDatabase, ProjectDirectory, TokenInfo, TokenVerifier } from '../../core/index.ts';
import { CumulusError } from '../../core/index.ts';
import { badRequest, conflict, notFound, unauthorized } from '../errors.ts';
import { hashPassword, verifyPassword } from './password.ts';

export const DEFAULT_DOMAIN_ID = 'default';
export const DEFAULT_DOMAIN_NAME = 'Default';
export const BUILTIN_ROLES = ['admin', 'member', 'reader'] as const;

export interface Named {
  id: string;
  name: string;
}

export interface IssuedToken {
  id: string;
  userId: string;
  userName: string;
  domain: Named;
  project: (Named & { domain: Named }) | null;
  scopeDomain: Named | null;
  roles: Named[];
  methods: string[];
  auditId: string;
  issuedAt: Date;
  expiresAt: Date;
}

interface UserRow {
  id: string;
  name: string;
  domain_id: string;
  password_hash: string;
  enabled: number;
}

/** Reference to a user, project or domain in an auth request: by id, or by name within a domain. */
interface Ref {
  id?: string;
  name?: string;
  domain?: { id?: string; name?: string };
}

export interface AuthRequest {
  identity: { methods: string[]; password?: { user: Ref & { password?: string } }; token?: { id?: string } };
  scope?: { project?: Ref; domain?: { id?: string; name?: string }; system?: unknown } | 'unscoped';
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Keystone's identity, resource and token logic on SQLite. Tokens are random bearer
 * strings stored only as SHA-256 hashes, so a leaked database does not leak live tokens.
 */
export class KeystoneService implements TokenVerifier, ProjectDirectory {
  constructor(
    private readonly db: StateDatabase,
    private readonly clock: Clock,
    private readonly tokenTtlMs: number,
  ) {}

  /** Creates the Default domain, the admin and service projects, the built-in roles and the admin user. */
  bootstrap(adminPassword: string): void {
    this.db.transaction(() => {
      this.db.prepare('INSERT OR IGNORE INTO domains (id, name, description) VALUES (?, ?, ?)').run(DEFAULT_DOMAIN_ID, DEFAULT_DOMAIN_NAME, 'The default domain');
      for (const role of BUILTIN_ROLES) this.db.prepare('INSERT OR IGNORE INTO roles (id, name) VALUES (?, ?)').run(randomUUID().replace(/-/g, ''), role);
      for (const project of ['admin', 'service']) {
        this.db.prepare('INSERT OR IGNORE INTO projects (id, name, domain_id, description) VALUES (?, ?, ?, ?)').run(randomUUID().replace(/-/g, ''), project, DEFAULT_DOMAIN_ID, `Bootstrap project ${project}`);
      }
      const existing = this.findUser({ name: 'admin', domain: { id: DEFAULT_DOMAIN_ID } });
      if (existing) {
        if (!verifyPassword(adminPassword, existing.password_hash)) this.db.prepare('UPDATE users SET password_hash = ? WHERE id = ?').run(hashPassword(adminPassword), existing.id);
      } else {
        const adminProject = this.findProject({ name: 'admin', domain: { id: DEFAULT_DOMAIN_ID } }) as Named;
        const user = this.createUser({ name: 'admin', password: adminPassword, domainId: DEFAULT_DOMAIN_ID, defaultProjectId: adminProject.id });
        this.assignProjectRole(user.id, adminProject.id, 'admin');
      }
    })();
  }

  createProject(input: { name: string; domainId?: string; description?: string }): Named & { domain_id: string } {
    const domainId = input.domainId ?? DEFAULT_DOMAIN_ID;
    if (!this.db.prepare('SELECT 1 FROM domains WHERE id = ?').get(domainId)) throw notFound(`Could not find domain: ${domainId}.`);
    if (this.findProject({ name: input.name, domain: { id: domainId } })) throw conflict(`Conflict occurred attempting to store project - it is not permitted to have two projects with the same name in the same domain : ${input.name}.`);
    const id = randomUUID().replace(/-/g, '');
    this.db.prepare('INSERT INTO projects (id, name, domain_id, description) VALUES (?, ?, ?, ?)').run(id, input.name, domainId, input.description ?? '');
    return { id, name: input.name, domain_id: domainId };
  }

  createUser(input: { name: string; password: string; domainId?: string; defaultProjectId?: string; email?: string }): Named & { domain_id: string } {
    const domainId = input.domainId ?? DEFAULT_DOMAIN_ID;
    if (this.findUser({ name: input.name, domain: { id: domainId } })) throw conflict(`Conflict occurred attempting to store user - Duplicate entry found with name ${input.name} at domain ID ${domainId}.`);
    const id = randomUUID().replace(/-/g, '');
    this.db
      .prepare('INSERT INTO users (id, name, domain_id, password_hash, default_project_id, email) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, input.name, domainId, hashPassword(input.password), input.defaultProjectId ?? null, input.email ?? null);
    return { id, name: input.name, domain_id: domainId };
  }

  assignProjectRole(userId: string, projectId: string, roleName: string): void {
    const role = this.db.prepare('SELECT id FROM roles WHERE name = ? OR id = ?').get(roleName, roleName) as { id: string } | undefined;
    if (!role) throw notFound(`Could not find role: ${roleName}.`);
    this.db.prepare('INSERT OR IGNORE INTO role_assignments (user_id, role_id, project_id) VALUES (?, ?, ?)').run(userId, role.id, projectId);
  }

  listProjects(): Array<Named & { domain_id: string; description: string; enabled: boolean }> {
    return (this.db.prepare('SELECT id, name, domain_id, description, enabled FROM projects ORDER BY name').all() as Array<Named & { domain_id: string; description: string; enabled: number }>).map((p) => ({ ...p, enabled: p.enabled === 1 }));
  }

  async projectsOfDomain(domainId: string): Promise<string[] | null> {
    if (this.db.prepare('SELECT 1 FROM domains WHERE id = ? OR name = ?').get(domainId, domainId) === undefined) return null;
    return (this.db.prepare('SELECT p.id FROM projects p JOIN domains d ON d.id = p.domain_id WHERE d.id = ? OR d.name = ? ORDER BY p.id').all(domainId, domainId) as Array<{ id: string }>).map((r) => r.id);
  }

  listUsers(): Array<Named & { domain_id: string; enabled: boolean; default_project_id: string | null; email: string | null }> {
    return (this.db.prepare('SELECT id, name, domain_id, enabled, default_project_id, email FROM users ORDER BY name').all() as Array<Named & { domain_id: string; enabled: number; default_project_id: string | null; email: string | null }>).map((u) => ({ ...u, enabled: u.enabled === 1 }));
  }

  listDomains(): Array<Named & { description: string; enabled: boolean }> {
    return (this.db.prepare('SELECT id, name, description, enabled FROM domains ORDER BY name').all() as Array<Named & { description: string; enabled: number }>).map((d) => ({ ...d, enabled: d.enabled === 1 }));
  }

  /** Project role assignments, optionally for one user or project (GET /v3/role_assignments). */
  roleAssignments(filter: { userId?: string; projectId?: string }): Array<{ userId: string; projectId: string; roleId: string; roleName: string }> {
    return this.db
      .prepare(
        `SELECT a.user_id AS userId, a.project_id AS projectId, r.id AS roleId, r.name AS roleName FROM role_assignments a JOIN roles r ON r.id = a.role_id
         WHERE a.project_id IS NOT NULL AND (? IS NULL OR a.user_id = ?) AND (? IS NULL OR a.project_id = ?) ORDER BY a.project_id, a.user_id, r.name`,
      )
      .all(filter.userId ?? null, filter.userId ?? null, filter.projectId ?? null, filter.projectId ?? null) as Array<{ userId: string; projectId: string; roleId: string; roleName: string }>;
  }

  listRoles(): Named[] {
    return this.db.prepare('SELECT id, name FROM roles ORDER BY name').all() as Named[];
  }

  projectName(projectId: string): string | null {
    return (this.db.prepare('SELECT name FROM projects WHERE id = ?').get(projectId) as { name: string } | undefined)?.name ?? null;
  }

  /** The user an auth request names (by id, or by name in a domain), for auditing a refused login. */
  resolveUser(ref: { id?: string; name?: string; domain?: { id?: string; name?: string } }): (Named & { enabled: boolean }) | undefined {
    const row = this.findUser(ref);
    return row ? { id: row.id, name: row.name, enabled: row.enabled === 1 } : undefined;
  }

  private domainOf(ref: { id?: string; name?: string } | undefined): Named | undefined {
    if (!ref) return undefined;
    return (ref.id !== undefined
      ? this.db.prepare('SELECT id, name FROM domains WHERE id = ?').get(ref.id)
      : this.db.prepare('SELECT id, name FROM domains WHERE name = ?').get(ref.name ?? '')) as Named | undefined;
  }

  private findUser(ref: Ref): UserRow | undefined {
    if (ref.id !== undefined) return this.db.prepare('SELECT * FROM users WHERE id = ?').get(ref.id) as UserRow | undefined;
    const domain = this.domainOf(ref.domain);
    if (!domain || ref.name === undefined) return undefined;
    return this.db.prepare('SELECT * FROM users WHERE name = ? AND domain_id = ?').get(ref.name, domain.id) as UserRow | undefined;
  }

  private findProject(ref: Ref): (Named & { domain_id: string; enabled: number }) | undefined {
    if (ref.id !== undefined) return this.db.prepare('SELECT id, name, domain_id, enabled FROM projects WHERE id = ?').get(ref.id) as (Named & { domain_id: string; enabled: number }) | undefined;
    const domain = this.domainOf(ref.domain);
    if (!domain || ref.name === undefined) return undefined;
    return this.db.prepare('SELECT id, name, domain_id, enabled FROM projects WHERE name = ? AND domain_id = ?').get(ref.name, domain.id) as (Named & { domain_id: string; enabled: number }) | undefined;
  }

  private rolesOn(userId: string, target: { projectId?: string; domainId?: string }): Named[] {
    return this.db
      .prepare(
        `SELECT r.id, r.name FROM role_assignments a JOIN roles r ON r.id = a.role_id
         WHERE a.user_id = ? AND ((? IS NOT NULL AND a.project_id = ?) OR (? IS NOT NULL AND a.domain_id = ?)) ORDER BY r.name`,
      )
      .all(userId, target.projectId ?? null, target.projectId ?? null, target.domainId ?? null, target.domainId ?? null) as Named[];
  }

  /**
   * POST /v3/auth/tokens. Throws 401 for bad credentials without saying which part was
   * wrong (as Keystone does), 401 for a scope the user has no role on, 400 for a
   * malformed request.
   */
  authenticate(auth: AuthRequest): IssuedToken {
    const methods = auth?.identity?.methods;
    if (!Array.isArray(methods) || methods.length === 0) throw badRequest('auth.identity.methods must be a non-empty list, e.g. ["password"].');
    let user: UserRow | undefined;
    if (methods.includes('password')) {
      const given = auth.identity.password?.user;
      if (!given || typeof given.password !== 'string') throw badRequest('auth.identity.password.user.password is required.');
      if (given.id === undefined && (given.name === undefined || given.domain === undefined)) throw badRequest('auth.identity.password.user needs an id, or a name and a domain.');
      user = this.findUser(given);
      if (!user || user.enabled !== 1 || !verifyPassword(given.password, user.password_hash)) throw unauthorized('The request you have made requires authentication.');
    } else if (methods.includes('token')) {
      const existing = this.lookup(auth.identity.token?.id ?? '');
      if (!existing) throw unauthorized('The request you have made requires authentication.');
      user = this.findUser({ id: existing.userId });
    } else {
      throw unauthorized(`Attempted to authenticate with an unsupported method: ${methods.join(', ')}.`);
    }
    if (!user) throw unauthorized();

    let projectId: string | null = null;
    let domainScopeId: string | null = null;
    const scope = auth.scope;
    if (scope && scope !== 'unscoped' && scope.project) {
      const project = this.findProject(scope.project);
      if (!project || project.enabled !== 1) throw unauthorized(`The request you have made requires authentication.`);
      projectId = project.id;
    } else if (scope && scope !== 'unscoped' && scope.domain) {
      const domain = this.domainOf(scope.domain);
      if (!domain) throw unauthorized();
      domainScopeId = domain.id;
    } else if (!scope) {
      const defaultProject = (this.db.prepare('SELECT default_project_id FROM users WHERE id = ?').get(user.id) as { default_project_id: string | null }).default_project_id;
      if (defaultProject && this.rolesOn(user.id, { projectId: defaultProject }).length > 0) projectId = defaultProject;
    }
    if ((projectId || domainScopeId) && this.rolesOn(user.id, { projectId: projectId ?? undefined, domainId: domainScopeId ?? undefined }).length === 0) {
      throw unauthorized(`User ${user.id} has no access to ${projectId ? `project ${projectId}` : `domain ${domainScopeId}`}.`);
    }

    const id = randomBytes(32).toString('base64url');
    const issuedAt = this.clock.nowMs();
    const auditId = randomBytes(16).toString('base64url').slice(0, 22);
    this.db
      .prepare('INSERT INTO tokens (id_hash, user_id, project_id, domain_id, methods, audit_id, issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(hashToken(id), user.id, projectId, domainScopeId, JSON.stringify(methods), auditId, issuedAt, issuedAt + this.tokenTtlMs);
    this.db.prepare('DELETE FROM tokens WHERE expires_at < ?').run(issuedAt - this.tokenTtlMs);
    return this.lookup(id) as IssuedToken;
  }

  /** The token's scope and roles, or undefined when it is unknown, expired or revoked. */
  lookup(tokenId: string): IssuedToken | undefined {
    if (!tokenId) return undefined;
    const row = this.db.prepare('SELECT * FROM tokens WHERE id_hash = ?').get(hashToken(tokenId)) as
      | { user_id: string; project_id: string | null; domain_id: string | null; methods: string; audit_id: string; issued_at: number; expires_at: number; revoked: number }
      | undefined;
    if (!row || row.revoked === 1 || row.expires_at <= this.clock.nowMs()) return undefined;
    const user = this.findUser({ id: row.user_id });
    if (!user || user.enabled !== 1) return undefined;
    const domain = this.domainOf({ id: user.domain_id }) as Named;
    const projectRow = row.project_id ? this.findProject({ id: row.project_id }) : undefined;
    return {
      id: tokenId,
      userId: user.id,
      userName: user.name,
      domain,
      project: projectRow ? { id: projectRow.id, name: projectRow.name, domain: this.domainOf({ id: projectRow.domain_id }) as Named } : null,
      scopeDomain: row.domain_id ? (this.domainOf({ id: row.domain_id }) ?? null) : null,
      roles: row.project_id || row.domain_id ? this.rolesOn(user.id, { projectId: row.project_id ?? undefined, domainId: row.domain_id ?? undefined }) : [],
      methods: JSON.parse(row.methods) as string[],
      auditId: row.audit_id,
      issuedAt: new Date(row.issued_at),
      expiresAt: new Date(row.expires_at),
    };
  }

  revoke(tokenId: string): boolean {
    return this.db.prepare('UPDATE tokens SET revoked = 1 WHERE id_hash = ? AND revoked = 0').run(hashToken(tokenId)).changes > 0;
  }

  async verify(token: string): Promise<TokenInfo> {
    const issued = this.lookup(token);
    if (!issued) throw new CumulusError('CUMULUS_AUTH_TOKEN_INVALID', 'The request you have made requires authentication: the X-Auth-Token is missing, expired or revoked; get a new one with POST /identity/v3/auth/tokens.', { httpStatus: 401 });
    return {
      userId: issued.userId,
      userName: issued.userName,
      domainId: issued.domain.id,
      projectId: issued.project?.id ?? null,
      projectName: issued.project?.name ?? null,
      roles: issued.roles.map((r) => r.name),
      expiresAt: issued.expiresAt,
    };
  }
}
