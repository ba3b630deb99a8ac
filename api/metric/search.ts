import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';

/** /v1/search/resource/<type> and /v1/search/metric. */
export function registerSearchRoutes(_instance: FastifyInstance, _context: ApiContext): void {
  // Routes come with their issue work.
}
