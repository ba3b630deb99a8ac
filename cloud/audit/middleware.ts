import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock, ComponentTelemetry, Logger } from '../../core/index.ts';
import { ConfigError, deriveId, errorMessage } from '../../core/index.ts';
import { CATALOG_SERVICES } from '../keystone/catalog.ts';
import type { IssuedToken, KeystoneService } from '../keystone/service.ts';
import type { Notifier, RequestContext } from '../notifier.ts';
import { auditAction, builtinAuditMap, targetResourceId, targetTypeURI, type AuditMap } from './audit-map.ts';
import {
  ACCOUNT_USER,
  CADF_EVENT_TYPE_URI,
  EVENT_TYPE_ACTIVITY,
  UNKNOWN,
  cadfId,
  cadfTimestamp,
  maskToken,
  outcomeOfStatus,
  type CadfEvent,
  type CadfResource,
} from './cadf.ts';

export const AUDIT_REQUEST_EVENT = 'audit.http.request';
export const AUDIT_RESPONSE_EVENT = 'audit.http.response';

/** One API the audit filter watches, as keystonemiddleware sits in that service's paste pipeline. Stable. */
export interface AuditObserver {
  /** Path prefix on the one API server, e.g. /compute. */
  prefix: string;
  /** Catalog service type, e.g. compute; picks the built-in audit map. */
  service: string;
  /** Catalog service name, e.g. nova: the target's name. */
  name: string;
  /** The service's oslo.messaging control exchange, e.g. nova. */
  exchange: string;
  /** Defaults to `name`. keystonemiddleware uses the process name (nova-api, uwsgi...). */
  publisherId?: string;
  /** Replaces the built-in map, like the `audit_map_file` option. */
  auditMap?: AuditMap;
  /** The service's endpoint URL for the target's addresses; default: publicUrl + its catalog path. */
  url?: string;
}

export interface AuditMiddlewareDeps {
  notifier: Notifier;
  keystone: KeystoneService;
  clock: Clock;
  observers: readonly AuditObserver[];
  /** Base URL of the API server (CloudConfig.publicUrl); default: the request's own host. */
  publicUrl?: string;
  /**
   * `resource` (default): the target id is the id of the resource the path names, else the
   * service's catalog id. `service-name` is what keystonemiddleware emits with a v3
   * catalog (it carries no endpoint ids): the service name, e.g. nova. Experimental.
   */
  targetIds?: 'resource' | 'service-name';
  /** Methods not audited, like the filter's `ignore_req_list`. */
  ignoreMethods?: readonly string[];
  logger?: Logger;
  /** accepted: events published; dropped: events the bus refused (the request goes on). */
  telemetry?: ComponentTelemetry;
}

interface ResolvedObserver extends AuditObserver {
  auditMap: AuditMap;
  publisherId: string;
  serviceId: string;
  catalogPath: string;
}

interface AuditState {
  observer: ResolvedObserver;
  /** The request as it arrived: the event both notifications carry, as keystonemiddleware reuses one event. */
  event: CadfEvent;
  /** The action waits for the body (POST .../action); until then `event.action` is a placeholder. */
  actionKnown: boolean;
  /** The path below the service prefix, without the query: what the audit map reads. */
  servicePath: string;
  /** oslo_context.get_admin_context(): the middleware's own context, shared by both notifications. */
  context: RequestContext;
  requestSent: boolean;
  responseSent: boolean;
}

const states = new WeakMap<FastifyRequest, AuditState>();

// oslo.middleware's request_id accepts a global request id only in this form.
const GLOBAL_REQUEST_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function resolveObservers(observers: readonly AuditObserver[]): ResolvedObserver[] {
  const seen = new Set<string>();
  return observers.map((observer, index) => {
    const field = (name: string) => `audit observers[${index}].${name}`;
    if (typeof observer.prefix !== 'string' || !/^\/[^?#]*[^/?#]$/.test(observer.prefix)) {
      throw new ConfigError(`${field('prefix')} must be a path like /compute (leading slash, no trailing slash); got ${JSON.stringify(observer.prefix)}`);
    }
    if (seen.has(observer.prefix)) throw new ConfigError(`${field('prefix')} ${observer.prefix} is observed twice; give each prefix one observer`);
    seen.add(observer.prefix);
    for (const key of ['service', 'name', 'exchange'] as const) {
      if (typeof observer[key] !== 'string' || observer[key].length === 0) throw new ConfigError(`${field(key)} must be a non-empty string; got ${JSON.stringify(observer[key])}`);
    }
    const catalogEntry = CATALOG_SERVICES.find((entry) => entry.type === observer.service);
    return {
      ...observer,
      auditMap: observer.auditMap ?? builtinAuditMap(observer.service),
      publisherId: observer.publisherId ?? observer.name,
      // The id buildCatalog gives the service, so audit targets and the catalog agree.
      serviceId: deriveId('service', observer.service),
      catalogPath: catalogEntry?.path ?? observer.prefix,
    };
  });
}

function headerValue(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function adminContext(): RequestContext {
  return {
    requestId: `req-${randomUUID()}`,
    userId: null,
    userName: null,
    projectId: null,
    projectName: null,
    domainId: null,
    roles: [],
    isAdmin: true,
    remoteAddress: null,
  };
}

/**
 * keystonemiddleware's audit filter on the one fastify server: for every request under an
 * observed prefix, a CADF event goes out as `audit.http.request` once the request has
 * arrived (outcome pending) and as `audit.http.response` once it has been answered
 * (success or failure by status, with the status as reason), on the service's control
 * exchange. Register it before the services' routes. Bodies and headers are never
 * copied: the token is masked, the user agent is the only header kept, and of a body
 * only the first key of a POST .../action names the action. Stable.
 */
export function registerAuditMiddleware(app: FastifyInstance, deps: AuditMiddlewareDeps): void {
  // Longest prefix first, so /volume/v3 would win over /volume.
  const observers = resolveObservers(deps.observers).sort((a, b) => b.prefix.length - a.prefix.length);
  const ignored = new Set((deps.ignoreMethods ?? []).map((m) => m.toUpperCase()));
  const publicBase = deps.publicUrl?.replace(/\/+$/, '');
  const targetIds = deps.targetIds ?? 'resource';

  const observerOf = (url: string): ResolvedObserver | undefined =>
    observers.find((o) => url === o.prefix || (url.startsWith(o.prefix) && '/?'.includes(url.charAt(o.prefix.length))));

  const publish = async (state: AuditState, eventType: string, payload: CadfEvent): Promise<void> => {
    try {
      await deps.notifier.notify({
        exchange: state.observer.exchange,
        publisherId: state.observer.publisherId,
        eventType,
        priority: 'INFO',
        payload,
        context: state.context,
      });
      deps.telemetry?.accepted();
    } catch (err) {
      // keystonemiddleware's _log_and_ignore_error: a lost audit event never fails the API call.
      deps.telemetry?.dropped();
      deps.logger?.warn({ err: errorMessage(err), eventType, exchange: state.observer.exchange }, 'audit notification not published');
    }
  };

  const initiatorOf = (request: FastifyRequest, issued: IssuedToken | undefined, token: string | undefined): CadfResource => {
    const agent = headerValue(request, 'user-agent');
    const globalRequestId = headerValue(request, 'x-openstack-request-id');
    return {
      id: issued?.userId ?? UNKNOWN,
      typeURI: ACCOUNT_USER,
      name: issued?.userName ?? UNKNOWN,
      // auth_token with delay_auth_decision marks a missing or bad token Invalid.
      credential: { token: maskToken(token ?? ''), identity_status: issued ? 'Confirmed' : 'Invalid' },
      host: { address: request.ip, ...(agent !== undefined ? { agent } : {}) },
      project_id: issued?.project?.id ?? UNKNOWN,
      request_id: String(request.id),
      ...(globalRequestId !== undefined && GLOBAL_REQUEST_ID.test(globalRequestId) ? { global_request_id: globalRequestId } : {}),
    };
  };

  const targetOf = (request: FastifyRequest, observer: ResolvedObserver, servicePath: string, projectId: string | null): CadfResource => {
    const base = observer.url ?? `${publicBase ?? `${request.protocol}://${request.host}`}${observer.catalogPath.replace('{project_id}', projectId ?? '')}`;
    const resourceId = targetIds === 'resource' ? targetResourceId(servicePath, observer.auditMap) : undefined;
    return {
      id: resourceId ?? (targetIds === 'resource' ? observer.serviceId : observer.name),
      typeURI: targetTypeURI(servicePath, observer.auditMap),
      name: observer.name,
      // One URL for all three: every interface of our catalog points at the one server.
      addresses: [
        { url: base, name: 'admin' },
        { url: base, name: 'private' },
        { url: base, name: 'public' },
      ],
    };
  };

  const settleAction = (state: AuditState, request: FastifyRequest, body: unknown): void => {
    if (state.actionKnown) return;
    state.actionKnown = true;
    state.event = { ...state.event, action: auditAction(request.method, state.servicePath, body, state.observer.auditMap) };
  };

  const sendRequestEvent = async (state: AuditState, request: FastifyRequest, body: unknown): Promise<void> => {
    if (state.requestSent) return;
    state.requestSent = true;
    settleAction(state, request, body);
    await publish(state, AUDIT_REQUEST_EVENT, state.event);
  };

  app.addHook('onRequest', async (request) => {
    if (ignored.has(request.method.toUpperCase())) return;
    const observer = observerOf(request.url);
    if (!observer) return;
    const pathOnly = request.url.split('?', 1)[0] as string;
    const servicePath = pathOnly.slice(observer.prefix.length) || '/';
    const token = headerValue(request, 'x-auth-token');
    const issued = token ? deps.keystone.lookup(token) : undefined;
    states.set(request, {
      observer,
      servicePath,
      context: adminContext(),
      actionKnown: false,
      requestSent: false,
      responseSent: false,
      // Key order follows pycadf's Event: the payload reads like keystonemiddleware's.
      event: {
        typeURI: CADF_EVENT_TYPE_URI,
        eventType: EVENT_TYPE_ACTIVITY,
        id: cadfId(),
        eventTime: cadfTimestamp(deps.clock.now()),
        action: UNKNOWN,
        outcome: 'pending',
        observer: { id: 'target' },
        initiator: initiatorOf(request, issued, token),
        target: targetOf(request, observer, servicePath, issued?.project?.id ?? null),
        requestPath: request.url,
        tags: [`correlation_id?value=${cadfId()}`],
      },
    });
  });

  // After body parsing: a POST .../action names its action by the body's first key.
  app.addHook('preValidation', async (request) => {
    const state = states.get(request);
    if (state) await sendRequestEvent(state, request, request.body);
  });

  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    const state = states.get(request);
    if (!state || state.responseSent) return;
    state.responseSent = true;
    // 1. The request event first, for requests refused before preValidation (a body that
    //    does not parse): consumers pair the two by event id and expect the request first.
    await sendRequestEvent(state, request, undefined);
    // 2. Then the same event, answered.
    const status = reply.statusCode;
    // A new object: the request event may still be on its way through the bus.
    const answered: CadfEvent = {
      ...state.event,
      outcome: outcomeOfStatus(status),
      reason: { reasonType: 'HTTP', reasonCode: String(status) },
      reporterchain: [{ role: 'modifier', reporterTime: cadfTimestamp(deps.clock.now()), reporter: { id: 'target' } }],
    };
    await publish(state, AUDIT_RESPONSE_EVENT, answered);
  });
}
