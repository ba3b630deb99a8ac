import type { FastifyInstance, FastifyReply } from 'fastify';
import { ConfigError, errorMessage } from '../../core/index.ts';
import { SAFE_NAME } from './config.ts';
import type { LogContext } from './format.ts';
import { ACCESS_LOG_STYLES, API_PROCESSES, type AccessLogStyle } from './service-lines.ts';
import type { ServiceLogWriter } from './writer.ts';

/** One API whose requests go to its process's log. Stable. */
export interface AccessLogObserver {
  /** Path prefix on the one API server, e.g. /compute. */
  prefix: string;
  /** The project, e.g. nova: picks the defaults below. */
  name: string;
  /** The API process, which names the file: default nova-api, glance-api, cinder-api, neutron-server, placement-api, else `<name>-api`. */
  process?: string;
  /** Default: the writer's apiHost. */
  host?: string;
  /** Default: how the project's API logs (nova: `nova`, glance: `eventlet`, cinder and neutron: `oslo-service`, placement: `placement`). */
  style?: AccessLogStyle;
}

interface ResolvedAccessObserver {
  prefix: string;
  process: string;
  host: string;
  style: AccessLogStyle;
}

// oslo.middleware's request_id keeps a caller's global request id only in this form.
const GLOBAL_REQUEST_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function resolve(observers: readonly AccessLogObserver[], apiHost: string): ResolvedAccessObserver[] {
  return observers
    .map((observer, index) => {
      const field = (name: string) => `access log observers[${index}].${name}`;
      if (typeof observer.prefix !== 'string' || !/^\/[^?#]*[^/?#]$/.test(observer.prefix)) {
        throw new ConfigError(`${field('prefix')} must be a path like /compute (leading slash, no trailing slash); got ${JSON.stringify(observer.prefix)}`);
      }
      if (typeof observer.name !== 'string' || observer.name === '') throw new ConfigError(`${field('name')} must be a project name such as nova; got ${JSON.stringify(observer.name)}`);
      const defaults = Object.hasOwn(API_PROCESSES, observer.name) ? API_PROCESSES[observer.name] : undefined;
      const process = observer.process ?? defaults?.process ?? `${observer.name}-api`;
      const host = observer.host ?? apiHost;
      const style = observer.style ?? defaults?.style ?? 'oslo-service';
      if (!SAFE_NAME.test(process)) throw new ConfigError(`${field('process')} must be one word of letters, digits, '.', '_' or '-' (it names the log file); got ${JSON.stringify(process)}`);
      if (!SAFE_NAME.test(host)) throw new ConfigError(`${field('host')} must be a host name of letters, digits, '.', '_' or '-'; got ${JSON.stringify(host)}`);
      if (!ACCESS_LOG_STYLES.includes(style)) throw new ConfigError(`${field('style')} must be one of ${ACCESS_LOG_STYLES.join(', ')}; got ${JSON.stringify(style)}`);
      return { prefix: observer.prefix, process, host, style };
    })
    .sort((a, b) => b.prefix.length - a.prefix.length);
}

function header(source: Readonly<Record<string, string | number | readonly string[] | undefined>>, name: string): string | undefined {
  const value = source[name];
  if (Array.isArray(value)) return value[0] === undefined ? undefined : String(value[0]);
  return value === undefined ? undefined : String(value);
}

/** `OpenStack-API-Version: compute 2.79` (or Nova's legacy header): the microversion the response used. */
function microversionOf(reply: FastifyReply): string | null {
  const headers = reply.getHeaders();
  const modern = header(headers, 'openstack-api-version');
  if (modern) return modern.trim().split(/\s+/)[1] ?? null;
  return header(headers, 'x-openstack-nova-api-version') ?? null;
}

/**
 * Writes the access line each API process writes for every request under its prefix,
 * into that process's log, in the request's context (`[-]` when the request carried no
 * valid token, as the service then has no context either). Stable.
 */
export function registerAccessLog(app: FastifyInstance, writer: ServiceLogWriter, observers: readonly AccessLogObserver[]): void {
  const resolved = resolve(observers, writer.config.apiHost);
  const observerOf = (url: string) => resolved.find((o) => url === o.prefix || (url.startsWith(o.prefix) && '/?'.includes(url.charAt(o.prefix.length))));

  app.addHook('onResponse', async (request, reply) => {
    const observer = observerOf(request.url);
    if (!observer) return;
    // haproxy answered alone (cloud/deployment's fault gate): the API process never saw the request.
    if (request.deploymentRoute?.kind === 'unavailable') return;
    // eventlet served each API at its own port's root; uwsgi apps see SCRIPT_NAME + PATH_INFO.
    const eventletStyle = observer.style === 'nova' || observer.style === 'oslo-service' || observer.style === 'eventlet';
    const below = request.url.slice(observer.prefix.length);
    const uri = eventletStyle ? (below.startsWith('/') ? below : `/${below}`) : request.url;
    const contentLength = Number(header(reply.getHeaders(), 'content-length') ?? 0);
    const cloud = request.cloudContext;
    const globalRequestId = header(request.headers, 'x-openstack-request-id');
    const context: LogContext | null = cloud
      ? { ...cloud, globalRequestId: globalRequestId !== undefined && GLOBAL_REQUEST_ID.test(globalRequestId) ? globalRequestId : null }
      : null;
    try {
      writer.access(
        observer.host,
        observer.process,
        observer.style,
        {
          clientIp: request.ip,
          method: request.method,
          uri,
          httpVersion: request.raw.httpVersion || '1.1',
          status: reply.statusCode,
          length: Number.isFinite(contentLength) ? contentLength : 0,
          seconds: reply.elapsedTime / 1000,
          microversion: microversionOf(reply),
          time: writer.now(),
        },
        context,
      );
    } catch (err) {
      // A log line that cannot be written never fails the request it describes.
      request.log.warn({ err: errorMessage(err), process: observer.process }, 'access log line not written');
    }
  });
}
