import type { FastifyInstance } from 'fastify';
import { CumulusError, type Logger } from '../../core/index.ts';
import { forbidden } from '../errors.ts';
import type { KeystoneService } from '../keystone/service.ts';
import { contextFromRequest } from '../request-context.ts';
import { errorResponse, hostParams, hostsResponse, instancesResponse, statsResponse } from './schema.ts';
import type { HypervisorSimulator } from './simulator.ts';

/** Our own control-plane admin API (not an OpenStack one). Experimental: paths and fields may change. */
export const ADMIN_API_PREFIX = '/cloud-admin/v1';

type HostRoute = { Params: { host: string } };

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse };

/**
 * The hypervisor simulator's admin API under /cloud-admin/v1, admin tokens only:
 * `GET /hosts`, `GET /hosts/{host}/instances` (the inspector's view of the running domains
 * now), `GET /hosts/{host}/stats` (hardware stats and nova-compute's CPU monitor metrics).
 * Errors answer `{"error": {"code", "status", "message"}}` with our error codes.
 */
export function registerHypervisorRoutes(app: FastifyInstance, simulator: HypervisorSimulator, keystone: KeystoneService, logger: Logger): void {
  app.register(
    async (admin) => {
      admin.setErrorHandler((err, _request, reply) => {
        const validation = (err as { validation?: unknown }).validation !== undefined;
        const status = err instanceof CumulusError ? err.httpStatus : validation ? 400 : ((err as { statusCode?: number }).statusCode ?? 500);
        const code = err instanceof CumulusError ? err.code : status === 400 ? 'CUMULUS_CLOUD_BAD_REQUEST' : 'CUMULUS_CLOUD_INTERNAL';
        const message = status >= 500 ? 'The server has either erred or is incapable of performing the requested operation.' : (err as Error).message;
        if (status >= 500) logger.error({ err }, 'cloud-admin: request failed');
        return reply.code(status).send({ error: { code, status, message } });
      });
      admin.setNotFoundHandler((request, reply) =>
        reply.code(404).send({ error: { code: 'CUMULUS_CLOUD_NOT_FOUND', status: 404, message: `No route ${request.method} ${request.url} in the cloud admin API.` } }),
      );
      // Authentication and the admin check come before routing errors, so nothing leaks to non-admins.
      admin.addHook('onRequest', async (request) => {
        const context = contextFromRequest(keystone, request);
        if (!context.isAdmin) throw forbidden('The cloud admin API needs a token with the admin role.');
        request.cloudContext = context;
      });

      admin.get('/hosts', { schema: { response: { 200: hostsResponse, ...errors } } }, async () => ({ hosts: simulator.hosts() }));
      admin.get<HostRoute>('/hosts/:host/instances', { schema: { params: hostParams, response: { 200: instancesResponse, ...errors } } }, async (request) =>
        simulator.inspectHost(request.params.host),
      );
      admin.get<HostRoute>('/hosts/:host/stats', { schema: { params: hostParams, response: { 200: statsResponse, ...errors } } }, async (request) =>
        simulator.hostStats(request.params.host),
      );
    },
    { prefix: ADMIN_API_PREFIX },
  );
}
