import type { FastifyInstance, FastifyReply } from 'fastify';
import { CumulusError } from '../../core/index.ts';
import { forbidden, keystoneErrorBody } from '../errors.ts';
import { contextFromRequest } from '../request-context.ts';
import { buildCatalog } from './catalog.ts';
import { auditRequestInfo, emitIdentityAuthenticate, emitProjectCreated, emitUserCreated, namedUser, type IdentityNotifyOptions } from '../audit/index.ts';
import type { Notifier } from '../notifier.ts';
import type { AuthRequest, IssuedToken, KeystoneService } from './service.ts';

const API_VERSION = 'v3.14';
const VERSION_UPDATED = '2020-04-07T00:00:00Z';

function versionDocument(base: string) {
  return {
    id: API_VERSION,
    status: 'stable',
    updated: VERSION_UPDATED,
    links: [{ rel: 'self', href: `${base}/identity/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

function tokenBody(token: IssuedToken, publicUrl: string, region: string, withCatalog: boolean) {
  return {
    token: {
      methods: token.methods,
      user: { id: token.userId, name: token.userName, domain: token.domain, password_expires_at: null },
      audit_ids: [token.auditId],
      expires_at: token.expiresAt.toISOString().replace('Z', '000Z'),
      issued_at: token.issuedAt.toISOString().replace('Z', '000Z'),
      ...(token.project ? { project: token.project, is_domain: false } : {}),
      ...(token.scopeDomain ? { domain: token.scopeDomain } : {}),
      ...(token.project || token.scopeDomain ? { roles: token.roles } : {}),
      ...(withCatalog && (token.project || token.scopeDomain) ? { catalog: buildCatalog(publicUrl, region, token.project?.id ?? null) } : {}),
    },
  };
}

/** Keystone v3 under /identity: version discovery, tokens, projects, users, roles. */
export function registerKeystoneRoutes(
  app: FastifyInstance,
  keystone: KeystoneService,
  settings: { publicUrl: string; region: string },
  audit?: IdentityNotifyOptions & { notifier: Notifier },
): void {
  const base = settings.publicUrl.replace(/\/+$/, '');
  const sendError = (reply: FastifyReply, err: unknown) => {
    const status = err instanceof CumulusError ? err.httpStatus : ((err as { statusCode?: number }).statusCode ?? 500);
    const message = err instanceof Error ? err.message : 'An unexpected error prevented the server from fulfilling your request.';
    return reply.code(status).send(keystoneErrorBody(status, status === 500 ? 'An unexpected error prevented the server from fulfilling your request.' : message));
  };

  app.register(
    async (identity) => {
      identity.setErrorHandler((err, _request, reply) => sendError(reply, err));
      identity.get('/', async (_request, reply) =>
        reply.code(300).send({ versions: { values: [versionDocument(base)] } }),
      );
      identity.get('/v3', async () => ({ version: versionDocument(base) }));
      identity.get('/v3/', async () => ({ version: versionDocument(base) }));

      identity.post('/v3/auth/tokens', async (request, reply) => {
        const body = request.body as { auth?: AuthRequest } | undefined;
        if (!body?.auth) return sendError(reply, new CumulusError('CUMULUS_CLOUD_BAD_REQUEST', "Expecting to find auth in request body, the server could not comply with the request since it is either malformed or otherwise incorrect.", { httpStatus: 400 }));
        const nocatalog = (request.query as Record<string, string>).nocatalog !== undefined;
        // Keystone audits password authentications (CADF identity.authenticate), success and failure.
        const named = namedUser(body.auth);
        let token: IssuedToken;
        try {
          token = keystone.authenticate(body.auth);
        } catch (err) {
          if (audit && named && err instanceof CumulusError && err.httpStatus === 401) {
            const user = keystone.resolveUser(body.auth.identity.password?.user ?? {});
            const base = { outcome: 'failure' as const, request: auditRequestInfo(request) };
            // Keystone refuses a disabled user before it audits.
            if (user?.enabled !== false) await emitIdentityAuthenticate(audit.notifier, user ? { ...base, user: { id: user.id, name: user.name } } : { ...base, user: null, named }, audit);
          }
          throw err;
        }
        if (audit && named) await emitIdentityAuthenticate(audit.notifier, { outcome: 'success', user: { id: token.userId, name: token.userName }, request: auditRequestInfo(request) }, audit);
        reply.header('X-Subject-Token', token.id);
        return reply.code(201).send(tokenBody(token, base, settings.region, !nocatalog));
      });

      identity.get('/v3/auth/tokens', async (request, reply) => {
        contextFromRequest(keystone, request);
        const subject = request.headers['x-subject-token'];
        const token = typeof subject === 'string' ? keystone.lookup(subject) : undefined;
        if (!token) return sendError(reply, new CumulusError('CUMULUS_CLOUD_NOT_FOUND', 'Could not find token.', { httpStatus: 404 }));
        reply.header('X-Subject-Token', token.id);
        return tokenBody(token, base, settings.region, (request.query as Record<string, string>).nocatalog === undefined);
      });

      identity.delete('/v3/auth/tokens', async (request, reply) => {
        contextFromRequest(keystone, request);
        const subject = request.headers['x-subject-token'];
        if (typeof subject !== 'string' || !keystone.revoke(subject)) return sendError(reply, new CumulusError('CUMULUS_CLOUD_NOT_FOUND', 'Could not find token.', { httpStatus: 404 }));
        return reply.code(204).send();
      });

      identity.get('/v3/auth/catalog', async (request) => {
        const context = contextFromRequest(keystone, request);
        return { catalog: buildCatalog(base, settings.region, context.projectId), links: { self: `${base}/identity/v3/auth/catalog` } };
      });

      const requireAdmin = (request: Parameters<typeof contextFromRequest>[1]) => {
        const context = contextFromRequest(keystone, request);
        if (!context.isAdmin) throw forbidden('You are not authorized to perform the requested action: admin role required.');
        return context;
      };

      identity.get('/v3/projects', async (request) => {
        requireAdmin(request);
        const projects = byNameFilter(keystone.listProjects(), request.query).map(projectView);
        return { projects, links: { self: `${base}/identity/v3/projects`, previous: null, next: null } };
      });

      identity.post('/v3/projects', async (request, reply) => {
        requireAdmin(request);
        const input = (request.body as { project?: { name?: string; domain_id?: string; description?: string } } | undefined)?.project;
        if (!input?.name) throw new CumulusError('CUMULUS_CLOUD_BAD_REQUEST', "Invalid input for field 'project': 'name' is a required property.", { httpStatus: 400 });
        const project = keystone.createProject({ name: input.name, domainId: input.domain_id, description: input.description });
        if (audit) await emitProjectCreated(audit.notifier, project.id, { ...audit, request: auditRequestInfo(request) });
        return reply.code(201).send({ project: { ...project, description: input.description ?? '', enabled: true, is_domain: false, parent_id: project.domain_id, tags: [], links: { self: `${base}/identity/v3/projects/${project.id}` } } });
      });

      identity.post('/v3/users', async (request, reply) => {
        requireAdmin(request);
        const input = (request.body as { user?: { name?: string; password?: string; domain_id?: string; default_project_id?: string; email?: string } } | undefined)?.user;
        if (!input?.name || !input.password) throw new CumulusError('CUMULUS_CLOUD_BAD_REQUEST', "Invalid input for field 'user': 'name' and 'password' are required.", { httpStatus: 400 });
        const user = keystone.createUser({ name: input.name, password: input.password, domainId: input.domain_id, defaultProjectId: input.default_project_id, email: input.email });
        if (audit) await emitUserCreated(audit.notifier, user.id, { ...audit, request: auditRequestInfo(request) });
        return reply.code(201).send({ user: { ...user, enabled: true, default_project_id: input.default_project_id ?? null, password_expires_at: null, options: {}, links: { self: `${base}/identity/v3/users/${user.id}` } } });
      });

      const link = (kind: string, id: string) => ({ self: `${base}/identity/v3/${kind}/${id}` });
      const listLinks = (kind: string) => ({ self: `${base}/identity/v3/${kind}`, previous: null, next: null });
      const byNameFilter = <T extends { name: string }>(items: T[], query: unknown) => {
        const name = (query as Record<string, string | undefined>).name;
        return name === undefined ? items : items.filter((item) => item.name === name);
      };
      const projectView = (p: ReturnType<KeystoneService['listProjects']>[number]) => ({ ...p, is_domain: false, parent_id: p.domain_id, tags: [], options: {}, links: link('projects', p.id) });
      const notFoundError = (kind: string, id: string) => new CumulusError('CUMULUS_CLOUD_NOT_FOUND', `Could not find ${kind}: ${id}.`, { httpStatus: 404 });

      identity.get('/v3/projects/:id', async (request) => {
        const context = contextFromRequest(keystone, request);
        const { id } = request.params as { id: string };
        const project = keystone.listProjects().find((p) => p.id === id);
        // A member may read their own project; anything else is admin-only, and hidden.
        if (!project || (!context.isAdmin && context.projectId !== id)) throw notFoundError('project', id);
        return { project: projectView(project) };
      });

      identity.get('/v3/users', async (request) => {
        requireAdmin(request);
        return { users: byNameFilter(keystone.listUsers(), request.query).map((u) => ({ ...u, password_expires_at: null, options: {}, links: link('users', u.id) })), links: listLinks('users') };
      });
      identity.get('/v3/users/:id', async (request) => {
        const context = contextFromRequest(keystone, request);
        const { id } = request.params as { id: string };
        const user = keystone.listUsers().find((u) => u.id === id);
        if (!user || (!context.isAdmin && context.userId !== id)) throw notFoundError('user', id);
        return { user: { ...user, password_expires_at: null, options: {}, links: link('users', user.id) } };
      });
      identity.get('/v3/domains', async (request) => {
        contextFromRequest(keystone, request);
        return { domains: byNameFilter(keystone.listDomains(), request.query).map((d) => ({ ...d, tags: [], options: {}, links: link('domains', d.id) })), links: listLinks('domains') };
      });
      identity.get('/v3/domains/:id', async (request) => {
        contextFromRequest(keystone, request);
        const { id } = request.params as { id: string };
        const domain = keystone.listDomains().find((d) => d.id === id);
        if (!domain) throw notFoundError('domain', id);
        return { domain: { ...domain, tags: [], options: {}, links: link('domains', domain.id) } };
      });
      identity.get('/v3/role_assignments', async (request) => {
        const context = contextFromRequest(keystone, request);
        const query = request.query as Record<string, string | undefined>;
        const filter = { userId: query['user.id'], projectId: query['scope.project.id'] };
        if (!context.isAdmin && filter.userId !== context.userId) throw forbidden('You are not authorized to perform the requested action: identity:list_role_assignments.');
        const names = query.include_names !== undefined;
        const users = names ? new Map(keystone.listUsers().map((u) => [u.id, u])) : null;
        const projects = names ? new Map(keystone.listProjects().map((p) => [p.id, p])) : null;
        return {
          role_assignments: keystone.roleAssignments(filter).map((a) => ({
            role: { id: a.roleId, ...(names ? { name: a.roleName } : {}) },
            user: { id: a.userId, ...(names ? { name: users?.get(a.userId)?.name, domain: { id: users?.get(a.userId)?.domain_id } } : {}) },
            scope: { project: { id: a.projectId, ...(names ? { name: projects?.get(a.projectId)?.name, domain: { id: projects?.get(a.projectId)?.domain_id } } : {}) } },
            links: { assignment: `${base}/identity/v3/projects/${a.projectId}/users/${a.userId}/roles/${a.roleId}` },
          })),
          links: listLinks('role_assignments'),
        };
      });

      identity.get('/v3/roles', async (request) => {
        contextFromRequest(keystone, request);
        return { roles: keystone.listRoles().map((r) => ({ ...r, domain_id: null, links: { self: `${base}/identity/v3/roles/${r.id}` } })), links: { self: `${base}/identity/v3/roles`, previous: null, next: null } };
      });

      identity.put('/v3/projects/:projectId/users/:userId/roles/:roleId', async (request, reply) => {
        requireAdmin(request);
        const params = request.params as { projectId: string; userId: string; roleId: string };
        keystone.assignProjectRole(params.userId, params.projectId, params.roleId);
        return reply.code(204).send();
      });
    },
    { prefix: '/identity' },
  );
}
