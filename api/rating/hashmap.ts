import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';

/** CloudKitty's hashmap rating module: /v1/rating/modules and /v1/rating/module_config/hashmap/... (services, fields, mappings, thresholds, groups). */
export function registerHashmapRoutes(_instance: FastifyInstance, _context: ApiContext): void {
  // Routes come with their issue work.
}
