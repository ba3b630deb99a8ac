import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';

/** The control plane's service logs under /log/v1, and request correlation. */
export function registerLogRoutes(_instance: FastifyInstance, _context: ApiContext): void {
  // Routes come with their issue work.
}
