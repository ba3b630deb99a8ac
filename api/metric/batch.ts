import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';

/** /v1/batch/metrics/measures and /v1/batch/resources/metrics/measures. */
export function registerBatchRoutes(_instance: FastifyInstance, _context: ApiContext): void {
  // Routes come with their issue work.
}
