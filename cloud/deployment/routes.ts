import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { CumulusError } from '../../core/index.ts';
import type { KeystoneService } from '../keystone/service.ts';
import type { RequestContext } from '../notifier.ts';
import { contextFromRequest } from '../request-context.ts';
import { ADMIN_API_PREFIX, CLI_USER_AGENT, DEFAULT_TRAIL_LIMIT, MAX_LATENCY_MS, MAX_TRAIL_LIMIT } from './config.ts';
import type { Deployment } from './deployment.ts';
import { invalidField, notAdmin } from './errors.ts';
import { FAULT_ACTIONS, type DeployedHost, type FaultActor, type FaultRecord } from './model.ts';

const TITLES: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 503: 'Service Unavailable' };

/** Our own API's error body: the status, our stable code and what to fix. */
export function adminErrorBody(status: number, code: string, message: string): object {
  return { error: { code: status, title: TITLES[status] ?? 'Internal Server Error', cumulus_code: code, message } };
}

const FAULT_BODY_SCHEMA = {
  type: 'object',
  required: ['host', 'action'],
  properties: {
    host: { type: 'string', minLength: 1 },
    process: { type: ['string', 'null'] },
    action: { type: 'string', enum: [...FAULT_ACTIONS] },
    latency_ms: { type: ['integer', 'null'], minimum: 0, maximum: MAX_LATENCY_MS },
  },
} as const;

const EXPECTED: Readonly<Record<string, string>> = {
  host: 'a host name of the deployment',
  process: 'a process name',
  action: `one of ${FAULT_ACTIONS.join(', ')}`,
  latency_ms: `an integer from 0 to ${MAX_LATENCY_MS}`,
  limit: `an integer from 1 to ${MAX_TRAIL_LIMIT}`,
};

/** Turns ajv's first complaint into our error naming the field, with the value that came. */
function validationError(err: FastifyError, request: FastifyRequest): CumulusError {
  const issue = err.validation?.[0];
  const params = (issue?.params ?? {}) as { missingProperty?: string };
  const source = (err.validationContext === 'querystring' ? request.query : request.body) as Record<string, unknown> | null;
  const field = params.missingProperty ?? issue?.instancePath.replace(/^\//, '') ?? '';
  if (field === '') return invalidField('body', 'a JSON object with host and action', source);
  return invalidField(field, EXPECTED[field] ?? 'valid', source?.[field]);
}

export const hostView = (h: DeployedHost) => ({
  name: h.name,
  role: h.role,
  state: h.state,
  changed_at: h.changedAt,
  processes: h.processes.map((p) => ({
    name: p.name,
    state: p.state,
    down_reason: p.downReason,
    pid: p.pid,
    latency_ms: p.latencyMs,
    started_at: p.startedAt,
    stopped_at: p.stoppedAt,
    restart_count: p.restartCount,
  })),
});

export const faultView = (f: FaultRecord) => ({
  id: f.id,
  at: f.at,
  action: f.action,
  host: f.host,
  process: f.process,
  latency_ms: f.latencyMs,
  actor: {
    user_id: f.actor.userId,
    user_name: f.actor.userName,
    project_id: f.actor.projectId,
    project_name: f.actor.projectName,
    via: f.actor.via,
    request_id: f.actor.requestId,
    remote_address: f.actor.remoteAddress,
  },
  changes: f.changes,
});

function actorOf(context: RequestContext, request: FastifyRequest): FaultActor {
  const agent = request.headers['user-agent'];
  return {
    userId: context.userId,
    userName: context.userName,
    projectId: context.projectId,
    projectName: context.projectName,
    via: typeof agent === 'string' && agent.startsWith(CLI_USER_AGENT) ? 'cli' : 'api',
    requestId: context.requestId,
    remoteAddress: context.remoteAddress,
  };
}

/**
 * The deployment admin API (experimental, ours, not OpenStack's) under /cloud-admin/v1:
 * `GET /deployment` (hosts, processes, health), `POST /faults` (inject one) and
 * `GET /faults` (the trail). Admin tokens only. Never behind the fault gate: it is how
 * an operator gets the cloud back.
 */
export function registerDeploymentRoutes(app: FastifyInstance, deployment: Deployment, keystone: KeystoneService, options: { prefix?: string } = {}): void {
  app.register(
    async (admin) => {
      admin.setErrorHandler((err: FastifyError, request, reply) => {
        const known = err.validation ? validationError(err, request) : err instanceof CumulusError ? err : null;
        if (known) return reply.code(known.httpStatus).send(adminErrorBody(known.httpStatus, known.code, known.message));
        const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
        if (status >= 500) request.log.error({ err }, 'deployment admin API failure');
        return reply.code(status).send(adminErrorBody(status, status === 500 ? 'CUMULUS_DEPLOYMENT_INTERNAL' : 'CUMULUS_DEPLOYMENT_BAD_REQUEST', status === 500 ? 'the admin API failed; see its log' : err.message));
      });
      admin.addHook('onRequest', async (request, reply) => {
        reply.header('x-openstack-request-id', String(request.id));
        // Before validation: a caller without the admin role learns nothing about the body it sent.
        const context = contextFromRequest(keystone, request);
        if (!context.isAdmin) throw notAdmin();
        request.cloudContext = context;
      });

      admin.get('/deployment', async () => ({
        deployment: {
          hosts: deployment.hosts().map(hostView),
          services: deployment.serviceHealth(),
          database: deployment.databaseStatus(),
          messaging: deployment.messagingStatus(),
        },
      }));

      admin.get(
        '/faults',
        { schema: { querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: MAX_TRAIL_LIMIT }, host: { type: 'string', minLength: 1 } } } } },
        async (request) => {
          const query = request.query as { limit?: number; host?: string };
          return { faults: deployment.faults({ limit: query.limit ?? DEFAULT_TRAIL_LIMIT, host: query.host ?? null }).map(faultView) };
        },
      );

      admin.post('/faults', { schema: { body: FAULT_BODY_SCHEMA } }, async (request, reply) => {
        const body = request.body as { host: string; process?: string | null; action: FaultRecord['action']; latency_ms?: number | null };
        const record = await deployment.apply({ action: body.action, host: body.host, process: body.process ?? null, latencyMs: body.latency_ms ?? null }, actorOf(request.cloudContext as RequestContext, request));
        return reply.code(201).send({ fault: faultView(record), deployment: { services: deployment.serviceHealth() } });
      });
    },
    { prefix: options.prefix ?? ADMIN_API_PREFIX },
  );
}
