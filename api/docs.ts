import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/** The tags that group the OpenAPI document; a route without one of them is not an API route (the control plane's are not). */
export const API_TAGS = [
  { name: 'metric', description: 'Gnocchi v1 compatible metrics, measures, archive policies, resources and aggregates (/metric/v1)' },
  { name: 'ingest', description: 'InfluxDB line protocol and Prometheus remote write into the archive policies' },
  { name: 'event', description: 'Panko v2 compatible events, event types and traits (/event/v2)' },
  { name: 'audit', description: 'CADF audit records: the 7 Ws, compliance reports, SIEM export' },
  { name: 'log', description: "The control plane's service logs and request correlation (/log/v1)" },
  { name: 'rating', description: 'CloudKitty compatible rating rules (hashmap), quotes, reports, dataframes and reprocessing; statements and running costs (/rating)' },
  { name: 'alarm', description: 'Aodh v2 compatible alarm definitions, state and history, plus log and outage alarms (/alarming/v2)' },
  { name: 'capacity', description: 'Capacity planning: hypervisor capacity from Placement, forecasts, exhaustion, flavor fit and what-if (/capacity/v1)' },
  { name: 'health', description: 'Liveness and versions (no token)' },
] as const;

/**
 * Registers the OpenAPI document (built from the routes' JSON schemas, so what is validated
 * is what is documented) at /docs/json and its browsable form at /docs. Must be registered
 * before the API's route families so it sees them.
 */
export function registerApiDocs(app: FastifyInstance): void {
  app.register(swagger, {
    hideUntagged: true,
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Cumulus API',
        description: 'Metering, monitoring and audit for OpenStack clouds. Every route but health and versions needs a Keystone token in X-Auth-Token.',
        version: '1.0.0',
      },
      tags: API_TAGS.map((t) => ({ ...t })),
      components: { securitySchemes: { keystoneToken: { type: 'apiKey', in: 'header', name: 'X-Auth-Token' } } },
    },
  });
  app.register(swaggerUi, { routePrefix: '/docs' });
}
