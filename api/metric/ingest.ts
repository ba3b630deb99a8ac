import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';

/** /v1/influxdb and /v1/prometheus: other ways in for controllers host metrics. */
export function registerIngestRoutes(_instance: FastifyInstance, _context: ApiContext): void {
  // Routes come with their issue work.
}
