import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ADMIN_ROLE } from '../core/index.ts';
import { unauthorized } from './errors.ts';
import type { KeystoneService } from './keystone/service.ts';
import type { RequestContext } from './notifier.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the control plane's auth hook on every authenticated request. */
    cloudContext?: RequestContext;
  }
}

/** Request ids in OpenStack's form, echoed as `x-openstack-request-id`. */
export function newRequestId(): string {
  return `req-${randomUUID()}`;
}

/** Validates X-Auth-Token against our Keystone and builds the oslo request context. */
export function contextFromRequest(keystone: KeystoneService, request: FastifyRequest): RequestContext {
  const header = request.headers['x-auth-token'];
  const token = Array.isArray(header) ? header[0] : header;
  const issued = token ? keystone.lookup(token) : undefined;
  if (!issued) throw unauthorized('The request you have made requires authentication.');
  const roles = issued.roles.map((r) => r.name);
  return {
    requestId: String(request.id),
    userId: issued.userId,
    userName: issued.userName,
    projectId: issued.project?.id ?? null,
    projectName: issued.project?.name ?? null,
    domainId: issued.domain.id,
    roles,
    isAdmin: roles.includes(ADMIN_ROLE),
    remoteAddress: request.ip,
  };
}
