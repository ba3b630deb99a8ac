import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';

/** Panko v2 compatible events under /event/v2. */
export function registerEventRoutes(_instance: FastifyInstance, _context: ApiContext): void {
  // Routes come with their issue work.
}
