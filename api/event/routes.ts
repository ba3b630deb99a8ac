import type { FastifyInstance } from 'fastify';
import type { TraitType } from '../../core/index.ts';
import { selectEvent, selectEvents, selectEventTypes, selectTraitDescriptions, selectTraitValues, type EventRow, type TraitValueRow } from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { callerOf, rejectUnknownQueryFields, requireToken, TOKEN_SECURITY, useErrorStyle } from '../http.ts';
import { PANKO_TRAIT_TYPES, pankoEvent, pankoTraitFromRow, pankoTraitType } from './format.ts';
import { DEFAULT_EVENT_LIMIT, invalidInput, MAX_EVENT_LIMIT, parseEventFilter, parseEventSort, type PankoQueryString } from './query.ts';

/** The most values /event_types/{type}/traits/{name} returns (Panko has no bound; we keep one). */
export const MAX_TRAIT_VALUES = 10_000;

const tags = ['event'];
const NAME = { type: 'string', minLength: 1, maxLength: 255 } as const;
const LIST = (items: object, description: string) => ({ type: 'array', items, maxItems: 50, description });

const TRAIT = {
  type: 'object',
  properties: { name: { type: 'string' }, type: { type: 'string', enum: [...PANKO_TRAIT_TYPES] }, value: { type: 'string' } },
} as const;
const EVENT = {
  type: 'object',
  properties: {
    message_id: { type: 'string' },
    event_type: { type: 'string' },
    generated: { type: 'string', description: 'naive ISO 8601, UTC' },
    traits: { type: 'array', items: TRAIT },
    raw: { type: 'object', additionalProperties: true },
  },
} as const;

const EVENTS_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    'q.field': LIST({ type: 'string', minLength: 1, maxLength: 255 }, 'event_type, message_id, start_timestamp, end_timestamp, project_id, user_id, all_tenants, or a trait name'),
    'q.op': LIST({ type: 'string', enum: ['', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'] }, 'one per q.field, or none (eq)'),
    'q.value': LIST({ type: 'string', maxLength: 4096 }, 'one per q.field'),
    'q.type': LIST({ type: 'string', enum: ['', ...PANKO_TRAIT_TYPES] }, 'the trait type, one per q.field, or none (string)'),
    limit: { type: 'integer', minimum: 1, maximum: MAX_EVENT_LIMIT, description: `default ${DEFAULT_EVENT_LIMIT}` },
    sort: LIST({ type: 'string', maxLength: 64 }, 'key[:dir]: generated or message_id, asc or desc (default generated:asc, message_id:asc)'),
    marker: { type: 'string', maxLength: 255, description: 'message id of the last event of the previous page' },
  },
} as const;

const eventNotFound = (id: string) => new ApiError('CUMULUS_API_EVENT_NOT_FOUND', 404, `Event ${id} Not Found`);

/**
 * Panko v2 compatible events under /event (the catalog's `event` endpoint), so
 * python-pankoclient and Panko's API users work unchanged; errors are WSME's
 * `{"error_message": {"faultcode", "faultstring", "debuginfo"}}`.
 *
 * Where we differ from Panko, on purpose: a member sees their project's events (Panko
 * also requires the user_id trait to be theirs); an admin sees every project's without
 * `all_tenants=True` (accepted and ignored); members may list event types and traits,
 * of their project's events (Panko refuses them with 401); `q` is read from the query
 * string only (Panko also reads it from a GET body).
 */
export function registerEventRoutes(app: FastifyInstance, context: ApiContext): void {
  app.register(
    async (event) => {
      useErrorStyle(event, 'wsme');
      event.get('/', { schema: { tags: ['health'], summary: 'Event API versions (no token)' } }, async (request) => {
        const base = `${request.protocol}://${request.host}/event`;
        return {
          versions: {
            values: [
              {
                id: 'v2',
                links: [
                  { href: `${base}/v2`, rel: 'self' },
                  { href: 'https://docs.openstack.org/', rel: 'describedby', type: 'text/html' },
                ],
                'media-types': [
                  { base: 'application/json', type: 'application/vnd.openstack.telemetry-v2+json' },
                  { base: 'application/xml', type: 'application/vnd.openstack.telemetry-v2+xml' },
                ],
                status: 'stable',
                updated: '2013-02-13T00:00:00Z',
              },
            ],
          },
        };
      });
      event.register(
        async (v2) => {
          requireToken(v2, context.auth);
          rejectUnknownQueryFields(v2);
          registerV2(v2, context);
        },
        { prefix: '/v2' },
      );
    },
    { prefix: '/event' },
  );
}

function registerV2(v2: FastifyInstance, context: ApiContext): void {
  const readable = (request: Parameters<typeof callerOf>[0]) => context.access.readableProject('event', callerOf(request));

  v2.get(
    '/events',
    {
      schema: {
        tags,
        summary: 'List events matching the q filters, a page at a time',
        security: TOKEN_SECURITY,
        querystring: EVENTS_QUERY,
        response: { 200: { type: 'array', items: EVENT } },
      },
    },
    async (request) => {
      const query = request.query as PankoQueryString;
      const projectId = readable(request);
      const filter = parseEventFilter(query);
      const sort = parseEventSort(query.sort);
      let after: { generated: string; messageId: string } | undefined;
      if (query.marker !== undefined) {
        // Panko pages from the marker event's own sort values; it must be one the caller sees.
        const marker = (await context.store.query<EventRow>(selectEvent(query.marker, projectId)))[0];
        if (marker === undefined) throw invalidInput('marker', query.marker, `Marker ${query.marker} not found.`);
        after = { generated: marker.generated, messageId: marker.message_id };
      }
      const rows = await context.store.query<EventRow>(
        selectEvents({
          projectId,
          ...(filter.project !== undefined ? { project: filter.project } : {}),
          ...(filter.eventType !== undefined ? { eventTypes: [filter.eventType] } : {}),
          ...(filter.messageId !== undefined ? { messageId: filter.messageId } : {}),
          ...(filter.start !== undefined ? { start: filter.start } : {}),
          ...(filter.end !== undefined ? { end: filter.end, endInclusive: true } : {}),
          traits: filter.traits,
          limit: query.limit ?? DEFAULT_EVENT_LIMIT,
          sort,
          ...(after !== undefined ? { after } : {}),
        }),
      );
      return rows.map(pankoEvent);
    },
  );

  v2.get(
    '/events/:message_id',
    {
      schema: {
        tags,
        summary: 'Show one event by message id',
        security: TOKEN_SECURITY,
        params: { type: 'object', properties: { message_id: NAME }, required: ['message_id'] },
        response: { 200: EVENT },
      },
    },
    async (request) => {
      const { message_id: messageId } = request.params as { message_id: string };
      const row = (await context.store.query<EventRow>(selectEvent(messageId, readable(request))))[0];
      if (row === undefined) throw eventNotFound(messageId);
      return pankoEvent(row);
    },
  );

  v2.get(
    '/event_types',
    { schema: { tags, summary: 'List the event types stored', security: TOKEN_SECURITY, response: { 200: { type: 'array', items: { type: 'string' } } } } },
    async (request) => (await context.store.query<{ event_type: string }>(selectEventTypes(readable(request)))).map((r) => r.event_type),
  );

  v2.get(
    '/event_types/:event_type',
    {
      schema: {
        tags,
        summary: 'Unused by Panko: always 404',
        security: TOKEN_SECURITY,
        params: { type: 'object', properties: { event_type: NAME }, required: ['event_type'] },
      },
    },
    async () => {
      throw new ApiError('CUMULUS_API_NOT_FOUND', 404, 'The resource could not be found.');
    },
  );

  v2.get(
    '/event_types/:event_type/traits',
    {
      schema: {
        tags,
        summary: 'The traits (name and type) events of one type carry',
        security: TOKEN_SECURITY,
        params: { type: 'object', properties: { event_type: NAME }, required: ['event_type'] },
        response: { 200: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, type: { type: 'string' } } } } },
      },
    },
    async (request) => {
      const { event_type: eventType } = request.params as { event_type: string };
      const rows = await context.store.query<{ name: string; type: TraitType }>(selectTraitDescriptions(eventType, readable(request)));
      return rows.map((r) => ({ name: r.name, type: pankoTraitType(r.type) }));
    },
  );

  v2.get(
    '/event_types/:event_type/traits/:trait_name',
    {
      schema: {
        tags,
        summary: `Every value of one trait in the events of one type (at most ${MAX_TRAIT_VALUES})`,
        security: TOKEN_SECURITY,
        params: { type: 'object', properties: { event_type: NAME, trait_name: NAME }, required: ['event_type', 'trait_name'] },
        response: { 200: { type: 'array', items: TRAIT } },
      },
    },
    async (request) => {
      const { event_type: eventType, trait_name: traitName } = request.params as { event_type: string; trait_name: string };
      const rows = await context.store.query<TraitValueRow>(selectTraitValues(eventType, traitName, readable(request), MAX_TRAIT_VALUES));
      return rows.map(pankoTraitFromRow);
    },
  );

  v2.get(
    '/capabilities',
    { schema: { tags, summary: "Panko's flattened capabilities of the API and the event store", security: TOKEN_SECURITY } },
    async () => ({ api: { 'events:query:simple': true }, event_storage: { 'storage:production_ready': true } }),
  );
}
