import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireToken } from '../http.ts';
import { registerHashmapRoutes } from './hashmap.ts';
import { registerQuoteRoutes } from './quote.ts';
import { registerReportRoutes } from './reports.ts';
import { registerReprocessRoutes } from './reprocess.ts';
import { registerStatementRoutes } from './statements.ts';

/**
 * CloudKitty-compatible rating under /rating (the catalog's `rating` endpoint): v1 and v2
 * routes as python-cloudkittyclient calls them, plus our statements and running costs.
 */
export function registerRatingRoutes(app: FastifyInstance, context: ApiContext): void {
  app.register(
    async (rating) => {
      rating.register(async (versioned) => {
        requireToken(versioned, context.auth);
        registerHashmapRoutes(versioned, context);
        registerQuoteRoutes(versioned, context);
        registerReportRoutes(versioned, context);
        registerReprocessRoutes(versioned, context);
        registerStatementRoutes(versioned, context);
      });
    },
    { prefix: '/rating' },
  );
}
