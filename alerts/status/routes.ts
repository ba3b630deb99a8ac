import type { FastifyInstance, preHandlerHookHandler } from 'fastify';
import { renderStatusPage } from './page.ts';
import { DEFAULT_STATUS_WINDOW_SECONDS, MAX_STATUS_WINDOW_SECONDS, MIN_STATUS_WINDOW_SECONDS, SERVICE_STATES, serviceStatus, type StatusDeps } from './status.ts';

export interface StatusRouteDeps extends StatusDeps {
  /** Authentication (a valid Keystone token); runs before every status route. */
  preHandler: preHandlerHookHandler | preHandlerHookHandler[];
}

const QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: { window: { type: 'integer', minimum: MIN_STATUS_WINDOW_SECONDS, maximum: MAX_STATUS_WINDOW_SECONDS, description: `seconds to look back (default ${DEFAULT_STATUS_WINDOW_SECONDS})` } },
} as const;

const STATE = { type: 'string', enum: [...SERVICE_STATES] } as const;
const NULLABLE_STRING = { type: ['string', 'null'] } as const;
const CHECK = {
  type: 'object',
  properties: {
    check: { type: 'string' },
    last: { type: 'object', properties: { at: { type: 'string' }, ok: { type: 'boolean' }, latency_ms: { type: 'number' }, error: { type: 'string' } } },
    hosts: { type: 'array', items: { type: 'object', properties: { host: { type: 'string' }, ok: { type: 'boolean' }, at: { type: 'string' }, error: { type: 'string' } } } },
    runs: { type: 'integer' },
    failures: { type: 'integer' },
    latency_p50_ms: { type: ['number', 'null'] },
    last_failure: NULLABLE_STRING,
    last_error: NULLABLE_STRING,
  },
} as const;
const REPORT = {
  type: 'object',
  properties: {
    generated_at: { type: 'string' },
    window_seconds: { type: 'integer' },
    overall: STATE,
    services: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          service: { type: 'string' },
          status: STATE,
          reasons: { type: 'array', items: { type: 'string' } },
          checks: { type: 'array', items: CHECK },
          alarms: { type: 'array', items: { type: 'object', properties: { key: { type: 'string' }, kind: { type: 'string' }, severity: { type: 'string' }, reason: { type: 'string' }, since: { type: 'string' } } } },
        },
      },
    },
  },
} as const;

/**
 * GET /v2/status (JSON) and GET /v2/status.html (a page for people), mounted by the
 * caller under /alarming. Both need a valid token (the preHandler). Experimental (ours, not Aodh's).
 */
export function registerStatusRoutes(app: FastifyInstance, deps: StatusRouteDeps): void {
  const windowOf = (query: unknown) => (query as { window?: number }).window ?? DEFAULT_STATUS_WINDOW_SECONDS;
  app.get(
    '/v2/status',
    { preHandler: deps.preHandler, schema: { tags: ['status'], summary: 'Each service good, warning or failed, with the synthetic checks behind it', querystring: QUERY, response: { 200: REPORT } } },
    async (request) => serviceStatus(deps, { windowSeconds: windowOf(request.query) }),
  );
  app.get('/v2/status.html', { preHandler: deps.preHandler, schema: { tags: ['status'], summary: 'The status board as a page', querystring: QUERY } }, async (request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(renderStatusPage(await serviceStatus(deps, { windowSeconds: windowOf(request.query) }))),
  );
}
