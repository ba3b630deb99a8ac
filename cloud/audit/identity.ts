import { hostname } from 'node:os';
import type { FastifyRequest } from 'fastify';
import type { Clock, Logger } from '../../core/index.ts';
import { deriveId, errorMessage } from '../../core/index.ts';
import type { Notifier, RequestContext } from '../notifier.ts';
import {
  ACCOUNT_USER,
  CADF_EVENT_TYPE_URI,
  EVENT_TYPE_ACTIVITY,
  SERVICE_SECURITY,
  UNKNOWN,
  cadfId,
  cadfTimestamp,
  resourceUuid,
  type CadfEvent,
  type CadfReason,
  type CadfResource,
} from './cadf.ts';

/** Keystone's control exchange. */
export const IDENTITY_EXCHANGE = 'keystone';
export const IDENTITY_AUTHENTICATE_EVENT = 'identity.authenticate';

/** keystone.notifications.CADF_TYPE_MAP: the target typeURI of each identity resource. */
export const IDENTITY_CADF_TYPES: Readonly<Record<string, string>> = {
  group: 'data/security/group',
  project: 'data/security/project',
  role: 'data/security/role',
  user: 'data/security/account/user',
  domain: 'data/security/domain',
  region: 'data/security/region',
  endpoint: 'data/security/endpoint',
  service: 'data/security/service',
  policy: 'data/security/policy',
};

export interface IdentityNotifyOptions {
  clock: Clock;
  /** Keystone's is `identity.<host>` (default_publisher_id, else the host name). */
  publisherId?: string;
  /** The observer's id: the identity service's id in the catalog. */
  observerId?: string;
  /** Defaults to `keystone`. */
  exchange?: string;
  /** Where a notification the bus refused is reported: like Keystone, it never fails the API call. */
  logger?: Logger;
}

/** What Keystone's build_audit_initiator reads from the HTTP request. Only the agent header is kept. */
export interface AuditRequestInfo {
  requestId: string;
  globalRequestId?: string | null;
  address: string | null;
  agent: string | null;
  /** The caller of an authenticated request (none on POST /v3/auth/tokens). */
  caller?: { userId: string; userName?: string | null; projectId?: string | null; domainId?: string | null } | null;
}

/**
 * One password authentication, as Keystone audits it. `user` is the account the request
 * resolved to (whether or not the password matched); `null` when no such user exists,
 * then `named` says what the request asked for.
 */
export type AuthenticationAttempt = {
  request: AuditRequestInfo;
} & (
  | { outcome: 'success' | 'failure'; user: { id: string; name: string } }
  | { outcome: 'failure'; user: null; named: { userId?: string; userName?: string; domainId?: string | null; domainName?: string | null } }
);

/** The audit view of a fastify request: id, client address and agent, and the caller if the request context has one. */
export function auditRequestInfo(request: FastifyRequest): AuditRequestInfo {
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
  };
  const context = request.cloudContext;
  return {
    requestId: String(request.id),
    globalRequestId: header('x-openstack-request-id'),
    address: request.ip,
    agent: header('user-agent'),
    caller: context?.userId ? { userId: context.userId, userName: context.userName, projectId: context.projectId, domainId: context.domainId } : null,
  };
}

/**
 * The user a password authentication request names (`auth.identity.password.user`),
 * without its password: what the failed-authentication event reports for an unknown user.
 */
export function namedUser(auth: unknown): { userId?: string; userName?: string; domainId?: string | null; domainName?: string | null } | undefined {
  const identity = (auth as { identity?: { methods?: unknown; password?: { user?: Record<string, unknown> } } } | undefined)?.identity;
  if (!Array.isArray(identity?.methods) || !identity.methods.includes('password')) return undefined;
  const user = identity.password?.user;
  if (!user || typeof user !== 'object') return undefined;
  const domain = user.domain as { id?: unknown; name?: unknown } | undefined;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    ...(text(user.id) !== undefined ? { userId: text(user.id) } : {}),
    ...(text(user.name) !== undefined ? { userName: text(user.name) } : {}),
    domainId: text(domain?.id) ?? null,
    domainName: text(domain?.name) ?? null,
  };
}

/** The identity service's id as buildCatalog derives it, so observer and catalog agree. */
export const IDENTITY_SERVICE_ID = deriveId('service', 'identity');

/** Keystone's "diaper defense": a notification that cannot be sent is logged, never raised. */
async function send(notifier: Notifier, options: IdentityNotifyOptions, message: Parameters<Notifier['notify']>[0]): Promise<void> {
  try {
    await notifier.notify(message);
  } catch (err) {
    options.logger?.warn({ err: errorMessage(err), eventType: message.eventType }, 'identity notification not published');
  }
}

const resolve = (options: IdentityNotifyOptions) => ({
  exchange: options.exchange ?? IDENTITY_EXCHANGE,
  publisherId: options.publisherId ?? `identity.${hostname()}`,
  observer: { id: options.observerId ?? IDENTITY_SERVICE_ID, typeURI: SERVICE_SECURITY } satisfies CadfResource,
});

/** Keystone publishes with an empty context; ours carries the request id so the two sides can be joined. */
function contextOf(request: AuditRequestInfo | undefined): RequestContext {
  return {
    requestId: request?.requestId ?? '',
    userId: request?.caller?.userId ?? null,
    userName: request?.caller?.userName ?? null,
    projectId: request?.caller?.projectId ?? null,
    projectName: null,
    domainId: request?.caller?.domainId ?? null,
    roles: [],
    isAdmin: false,
    remoteAddress: request?.address ?? null,
  };
}

/**
 * build_audit_initiator, then _add_username_to_initiator: keys in Keystone's order. The
 * id is the user's when known (resource_uuid), else a fresh one, as pycadf generates it.
 */
function initiatorOf(request: AuditRequestInfo, user: { id: string; name?: string | null } | null, extra: Record<string, unknown> = {}): CadfResource {
  const caller = request.caller ?? null;
  return {
    id: user ? resourceUuid(user.id) : caller ? resourceUuid(caller.userId) : cadfId(),
    typeURI: ACCOUNT_USER,
    // flask's str(user_agent) is '' when the header is missing.
    host: { ...(request.address !== null ? { address: request.address } : {}), agent: request.agent ?? '' },
    ...(caller ? { user_id: caller.userId } : {}),
    ...(caller?.projectId ? { project_id: caller.projectId } : {}),
    ...(caller?.domainId ? { domain_id: caller.domainId } : {}),
    request_id: request.requestId,
    ...(request.globalRequestId ? { global_request_id: request.globalRequestId } : {}),
    ...extra,
    ...(user ? { user_id: user.id } : {}),
    ...(user?.name ? { name: user.name, username: user.name } : caller?.userName ? { name: caller.userName, username: caller.userName } : {}),
  };
}

/**
 * Keystone's `identity.authenticate` CADF notification, sent for every password
 * authentication: action `authenticate`, outcome success or failure, the user as
 * initiator (with the client's address and agent), a `service/security/account/user`
 * target and the identity service as observer. An unknown user gives Keystone's
 * user-not-found form: a fresh initiator id, the name asked for, and reason 404.
 * Never pass a password: nothing here has a place for one. Never rejects. Stable.
 */
export async function emitIdentityAuthenticate(notifier: Notifier, attempt: AuthenticationAttempt, options: IdentityNotifyOptions): Promise<CadfEvent> {
  const { exchange, publisherId, observer } = resolve(options);
  let initiator: CadfResource;
  let reason: CadfReason | undefined;
  if (attempt.user) {
    initiator = initiatorOf(attempt.request, attempt.user);
  } else {
    const { named } = attempt;
    const asked = named.userName !== undefined ? { user_name: named.userName } : { user_id: named.userId ?? UNKNOWN };
    initiator = initiatorOf(attempt.request, null, { ...asked, domain_id: named.domainId ?? null, domain_name: named.domainName ?? null });
    // Keystone builds this Reason(str(UserNotFound), str(code)): the message is the type.
    reason = { reasonType: `Could not find user: ${named.userName ?? named.userId ?? UNKNOWN}.`, reasonCode: '404' };
  }
  const event: CadfEvent = {
    typeURI: CADF_EVENT_TYPE_URI,
    eventType: EVENT_TYPE_ACTIVITY,
    id: cadfId(),
    eventTime: cadfTimestamp(options.clock.now()),
    action: 'authenticate',
    outcome: attempt.outcome,
    observer,
    initiator,
    target: { id: cadfId(), typeURI: ACCOUNT_USER },
    ...(reason ? { reason } : {}),
  };
  await send(notifier, options, { exchange, publisherId, eventType: IDENTITY_AUTHENTICATE_EVENT, priority: 'INFO', payload: event, context: contextOf(attempt.request) });
  return event;
}

export type IdentityOperation = 'created' | 'updated' | 'deleted' | 'disabled';

export interface IdentityResourceChange {
  operation: IdentityOperation;
  /** project, user, role, domain, group... */
  resourceType: string;
  resourceId: string;
  request?: AuditRequestInfo;
}

/**
 * Keystone's notification for a changed identity resource, `identity.<type>.<operation>`.
 * `basic` (notification_format = basic): payload `{"resource_info": <id>}`. `cadf`
 * (Keystone's default format): a CADF event with action `<operation>.<type>`, the
 * resource as target and `resource_info` as an extra key. Stable.
 */
export async function emitIdentityResourceChange(
  notifier: Notifier,
  change: IdentityResourceChange,
  options: IdentityNotifyOptions & { format?: 'basic' | 'cadf' },
): Promise<Record<string, unknown>> {
  const { exchange, publisherId, observer } = resolve(options);
  const eventType = `identity.${change.resourceType}.${change.operation}`;
  let payload: Record<string, unknown>;
  if ((options.format ?? 'basic') === 'basic') {
    payload = { resource_info: change.resourceId };
  } else {
    const request = change.request ?? { requestId: '', address: null, agent: null };
    payload = {
      typeURI: CADF_EVENT_TYPE_URI,
      eventType: EVENT_TYPE_ACTIVITY,
      id: cadfId(),
      eventTime: cadfTimestamp(options.clock.now()),
      action: `${change.operation}.${change.resourceType}`,
      outcome: 'success',
      observer,
      initiator: initiatorOf(request, null),
      target: { id: change.resourceId, typeURI: Object.hasOwn(IDENTITY_CADF_TYPES, change.resourceType) ? IDENTITY_CADF_TYPES[change.resourceType] : UNKNOWN },
      resource_info: change.resourceId,
    } satisfies CadfEvent;
  }
  await send(notifier, options, { exchange, publisherId, eventType, priority: 'INFO', payload, context: contextOf(change.request) });
  return payload;
}

/** `identity.project.created`, for Keystone's POST /v3/projects. */
export function emitProjectCreated(notifier: Notifier, projectId: string, options: IdentityNotifyOptions & { format?: 'basic' | 'cadf'; request?: AuditRequestInfo }): Promise<Record<string, unknown>> {
  return emitIdentityResourceChange(notifier, { operation: 'created', resourceType: 'project', resourceId: projectId, request: options.request }, options);
}

/** `identity.user.created`, for Keystone's POST /v3/users. */
export function emitUserCreated(notifier: Notifier, userId: string, options: IdentityNotifyOptions & { format?: 'basic' | 'cadf'; request?: AuditRequestInfo }): Promise<Record<string, unknown>> {
  return emitIdentityResourceChange(notifier, { operation: 'created', resourceType: 'user', resourceId: userId, request: options.request }, options);
}
