import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';

/** CloudKitty's /v2/task/reprocesses: explicit, audited re-rating of past periods. */
export function registerReprocessRoutes(_instance: FastifyInstance, _context: ApiContext): void {
  // Routes come with their issue work.
}
