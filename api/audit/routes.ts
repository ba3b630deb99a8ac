import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';

/** CADF audit records, compliance reports and SIEM export. */
export function registerAuditRoutes(_instance: FastifyInstance, _context: ApiContext): void {
  // Routes come with their issue work.
}
