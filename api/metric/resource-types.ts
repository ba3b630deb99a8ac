import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';

/** /v1/resource_type. */
export function registerResourceTypeRoutes(_instance: FastifyInstance, _context: ApiContext): void {
  // Routes come with their issue work.
}
