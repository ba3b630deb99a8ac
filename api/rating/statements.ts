import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';

/** Statements per project and domain per month (JSON, CSV, HTML, PDF), running costs, cost by application. */
export function registerStatementRoutes(_instance: FastifyInstance, _context: ApiContext): void {
  // Routes come with their issue work.
}
