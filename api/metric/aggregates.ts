import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';

/** /v1/aggregates: the operations grammar across metrics and resources. */
export function registerAggregatesRoutes(_instance: FastifyInstance, _context: ApiContext): void {
  // Routes come with their issue work.
}
