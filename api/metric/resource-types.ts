import type { FastifyInstance } from 'fastify';
import { resourceTypeView } from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { callerOf, TOKEN_SECURITY } from '../http.ts';
import { NO_OTHER_FIELDS } from '../params.ts';
import { acceptJsonBodies } from './json-body.ts';
import { withTrailingSlash } from './trailing-slash.ts';

const NAME_PARAMS = { type: 'object', properties: { name: { type: 'string', minLength: 1, maxLength: 255 } }, required: ['name'] } as const;

/** One attribute definition (the store checks each type's own options and says what is wrong). */
const ATTRIBUTE_DEFINITION = {
  type: 'object',
  required: ['type'],
  properties: {
    type: { type: 'string', enum: ['string', 'number', 'bool', 'uuid', 'datetime'] },
    required: { type: 'boolean', description: 'default true' },
    min_length: { type: 'integer' },
    max_length: { type: 'integer' },
    min: { type: 'number', nullable: true },
    max: { type: 'number', nullable: true },
    options: { type: 'object', properties: { fill: {} }, additionalProperties: NO_OTHER_FIELDS, description: 'PATCH only: {fill: value} existing resources take (needed for a required attribute)' },
  },
} as const;

/** /v1/resource_type: Gnocchi's resource types (everyone reads them; admins change them). */
export function registerResourceTypeRoutes(v1: FastifyInstance, context: ApiContext): void {
  v1.register(async (scope) => {
    acceptJsonBodies(scope);
    const tags = ['metric'];
    const name = (params: unknown) => (params as { name: string }).name;
    // gnocchiclient lists and creates types at `v1/resource_type/`.
    const collection = withTrailingSlash(scope);

    collection.get(
      '/resource_type',
      { schema: { tags, summary: 'List resource types', security: TOKEN_SECURITY } },
      async (request) => {
        context.access.enforce('resource_type:read', callerOf(request));
        return context.resourceTypes.list().map(resourceTypeView);
      },
    );

    scope.get('/resource_type/:name', { schema: { tags, summary: 'Show a resource type', security: TOKEN_SECURITY, params: NAME_PARAMS } }, async (request) => {
      context.access.enforce('resource_type:read', callerOf(request));
      return resourceTypeView(context.resourceTypes.get(name(request.params)));
    });

    collection.post(
      '/resource_type',
      {
        schema: {
          tags,
          summary: 'Create a resource type (201; 409 when the name is taken)',
          security: TOKEN_SECURITY,
          body: {
            type: 'object',
            required: ['name'],
            properties: { name: { type: 'string', minLength: 1, maxLength: 255 }, attributes: { type: 'object', additionalProperties: ATTRIBUTE_DEFINITION } },
            additionalProperties: NO_OTHER_FIELDS,
          },
        },
      },
      async (request, reply) => {
        context.access.enforce('resource_type:write', callerOf(request));
        const type = context.resourceTypes.create(request.body);
        const path = (request.url.split('?')[0] as string).replace(/\/$/, '');
        reply.code(201).header('location', `${request.protocol}://${request.host}${path}/${type.name}`);
        return resourceTypeView(type);
      },
    );

    scope.patch(
      '/resource_type/:name',
      {
        schema: {
          tags,
          summary: 'Add or remove attributes (a JSON patch; a new required attribute needs options.fill)',
          security: TOKEN_SECURITY,
          params: NAME_PARAMS,
          body: {
            type: 'array',
            items: {
              type: 'object',
              required: ['op', 'path'],
              properties: { op: { type: 'string', enum: ['add', 'remove'] }, path: { type: 'string', pattern: '^/attributes/' }, value: { type: 'object' } },
              additionalProperties: NO_OTHER_FIELDS,
            },
          },
        },
      },
      async (request) => {
        const identity = callerOf(request);
        // 404 before 403, as Gnocchi looks the type up first.
        context.resourceTypes.get(name(request.params));
        context.access.enforce('resource_type:write', identity);
        return resourceTypeView(context.resourceTypes.update(name(request.params), request.body));
      },
    );

    scope.delete('/resource_type/:name', { schema: { tags, summary: 'Delete a resource type (204; 400 while resources of it exist)', security: TOKEN_SECURITY, params: NAME_PARAMS } }, async (request, reply) => {
      const identity = callerOf(request);
      context.resourceTypes.get(name(request.params));
      context.access.enforce('resource_type:write', identity);
      await context.resourceTypes.delete(name(request.params));
      return reply.code(204).send();
    });
  });
}
