import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';

/** /v1/status and /v1/capabilities. */
export function registerStatusRoutes(_instance: FastifyInstance, _context: ApiContext): void {
  // Routes come with their issue work.
}
