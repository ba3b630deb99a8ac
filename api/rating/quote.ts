import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';

/** CloudKitty's /v1/rating/quote: the price of a resource before it is deployed. */
export function registerQuoteRoutes(_instance: FastifyInstance, _context: ApiContext): void {
  // Routes come with their issue work.
}
