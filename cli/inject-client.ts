import type { FastifyInstance } from 'fastify';
import type { ApiClient } from '../cloud/simulator/index.ts';

/**
 * The simulator's way into the platform: fastify's in-process request injection, so every
 * simulated call goes through the real routes, hooks (auth, CADF audit, access logs) and
 * error handlers without a socket.
 */
export function injectClient(app: FastifyInstance): ApiClient {
  return {
    async request(request) {
      const headers: Record<string, string> = { 'user-agent': 'cumulus-simulator', ...request.headers };
      if (request.token) headers['x-auth-token'] = request.token;
      let payload: string | Buffer | undefined;
      if (request.data) {
        headers['content-type'] = 'application/octet-stream';
        payload = request.data;
      } else if (request.body !== undefined) {
        headers['content-type'] = 'application/json';
        payload = JSON.stringify(request.body);
      }
      const response = await app.inject({ method: request.method, url: request.path, headers, payload, remoteAddress: request.remoteAddress ?? '198.51.100.10' });
      let body: unknown = response.body;
      if ((response.headers['content-type'] ?? '').toString().includes('json') && response.body) {
        try {
          body = JSON.parse(response.body);
        } catch {
          body = response.body;
        }
      }
      return { status: response.statusCode, headers: response.headers as Record<string, string | string[] | undefined>, body };
    },
  };
}
