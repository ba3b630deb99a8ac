import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';

/** CloudKitty's /v1/report/total, /v1/report/summary, /v2/summary and /v2/dataframes. */
export function registerReportRoutes(_instance: FastifyInstance, _context: ApiContext): void {
  // Routes come with their issue work.
}
