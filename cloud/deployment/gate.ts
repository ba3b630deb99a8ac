import { setTimeout as sleepFor } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { ConfigError } from '../../core/index.ts';
import { keystoneErrorBody, novaErrorBody } from '../errors.ts';
import type { Deployment } from './deployment.ts';
import type { ApiRoute } from './model.ts';
import { PROCESS_SPECS } from './topology.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * How the fault gate routed the request: the controller whose replica served it, or
     * why none did. The access log can log on that host, and skip a request the API
     * process never saw.
     */
    deploymentRoute?: ApiRoute;
  }
}

/** One API behind the load balancer: its path prefix on the one server and the process serving it. Experimental. */
export interface GatedApi {
  prefix: string;
  process: string;
}

/** The catalog's APIs and their processes. Swift has no process in the model: it is never gated. */
export const DEFAULT_GATED_APIS: readonly GatedApi[] = [
  { prefix: '/identity', process: 'keystone' },
  { prefix: '/compute', process: 'nova-api' },
  { prefix: '/image', process: 'glance-api' },
  { prefix: '/volume', process: 'cinder-api' },
  { prefix: '/network', process: 'neutron-server' },
  { prefix: '/placement', process: 'placement-api' },
  { prefix: '/heat-api', process: 'heat-api' },
];

export interface FaultGateOptions {
  /** Waits out injected latency; tests pass a recorder. Default: a real timer. */
  sleep?: (ms: number) => Promise<void>;
}

/** haproxy's built-in 503 page (errorfile 503), which clients see when a backend has no server. */
export const HAPROXY_503_BODY = '<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n';

/**
 * What an API answers when the database is gone under it: the service's own 500. Nova
 * and Keystone answer in their shapes; the others in Keystone's generic one.
 */
function databaseErrorBody(process: string): object {
  if (process === 'nova-api') {
    return novaErrorBody(500, "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.\n<class 'oslo_db.exception.DBConnectionError'>");
  }
  return keystoneErrorBody(500, 'An unexpected error prevented the server from fulfilling your request.');
}

/**
 * The load balancer in front of the APIs, as the deployment model has it: a request under
 * a gated prefix answers haproxy's 503 when no replica of the API (or no haproxy) is up,
 * the service's 500 when its database is gone, and otherwise waits out the latency of
 * the replica that serves it (and of the VIP's haproxy and the database node). Register
 * it after the audit middleware (so the CADF response records the 503) and before the
 * services' routes. Experimental.
 */
export function registerFaultGate(app: FastifyInstance, deployment: Deployment, apis: readonly GatedApi[] = DEFAULT_GATED_APIS, options: FaultGateOptions = {}): void {
  apis.forEach((api, index) => {
    if (typeof api.prefix !== 'string' || !/^\/[^?#]*[^/?#]$/.test(api.prefix)) throw new ConfigError(`fault gate apis[${index}].prefix must be a path like /compute (leading slash, no trailing slash); got ${JSON.stringify(api.prefix)}`);
    if (!PROCESS_SPECS.has(api.process)) throw new ConfigError(`fault gate apis[${index}].process must be a process of the deployment, e.g. nova-api; got ${JSON.stringify(api.process)}`);
  });
  // Longest prefix first, so a nested prefix wins over its parent.
  const sorted = [...apis].sort((a, b) => b.prefix.length - a.prefix.length);
  const sleep = options.sleep ?? ((ms: number) => sleepFor(ms).then(() => undefined));

  app.addHook('onRequest', async (request, reply) => {
    const api = sorted.find((a) => request.url === a.prefix || (request.url.startsWith(a.prefix) && '/?'.includes(request.url.charAt(a.prefix.length))));
    if (!api) return;
    const route = deployment.route(api.process);
    request.deploymentRoute = route;
    if (route.kind === 'unavailable') {
      return reply.code(503).header('content-type', 'text/html').header('cache-control', 'no-cache').send(HAPROXY_503_BODY);
    }
    if (route.latencyMs > 0) await sleep(route.latencyMs);
    if (route.kind === 'database') return reply.code(500).send(databaseErrorBody(api.process));
    return undefined;
  });
}
