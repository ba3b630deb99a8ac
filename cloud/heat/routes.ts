import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { KeystoneService } from '../keystone/service.ts';
import type { RequestContext } from '../notifier.ts';
import { contextFromRequest } from '../request-context.ts';
import { API_PREFIX } from './config.ts';
import { heatErrorBody, routeNotFound, tenantForbidden } from './errors.ts';
import { flag, parseCreateRequest, parseListQuery, parseResourceQuery, parseUpdateRequest } from './requests.ts';
import type { HeatService } from './service.ts';
import { resourceView, stackDetail, stackSummary, stackUrl } from './views.ts';

type Params = { tenant_id: string; stack_name: string; stack_id: string; resource_name: string; path: string };
type Query = Record<string, string | string[] | undefined>;

const params = (request: FastifyRequest) => request.params as Params;
const query = (request: FastifyRequest) => request.query as Query;

/** Sub-paths `/stacks/{name}/<path>` redirects to the stack's full URL (heat-api's stack_lookup_subpath). */
const LOOKUP_SUBPATHS = ['resources', 'events', 'template', 'actions', 'environment', 'files'] as const;

/** Heat's Stacks API v1 under /heat-api/v1/{tenant_id} (catalog type `orchestration`). */
export function registerHeatRoutes(app: FastifyInstance, heat: HeatService, keystone: KeystoneService, settings: { publicUrl: string }): void {
  const apiBase = `${settings.publicUrl.replace(/\/+$/, '')}${API_PREFIX}`;

  app.register(
    async (api) => {
      api.setErrorHandler((err, _request, reply) => {
        const { status, body } = heatErrorBody(err);
        return reply.code(status).send(body);
      });
      api.setNotFoundHandler((_request, reply) => {
        const { status, body } = heatErrorBody(routeNotFound());
        return reply.code(status).send(body);
      });
      api.addHook('onRequest', async (request, reply) => {
        reply.header('x-openstack-request-id', String(request.id));
      });

      const versions = async () => ({ versions: [{ status: 'CURRENT', id: 'v1.0', links: [{ href: `${apiBase}/v1/`, rel: 'self' }] }] });
      api.get('/', versions);

      api.register(
        async (v1) => {
          // Heat answers 403 when the URL's project is not the token's (util.registered_policy_enforce); admins act in any.
          v1.addHook('preHandler', async (request) => {
            const context = contextFromRequest(keystone, request);
            if (!context.isAdmin && context.projectId !== params(request).tenant_id) throw tenantForbidden();
            request.cloudContext = context;
          });
          const ctx = (request: FastifyRequest) => request.cloudContext as RequestContext;

          /** heat-api's lookup: 302 to the canonical URL, sub-path and query string kept. */
          const redirect = (request: FastifyRequest, reply: FastifyReply, subpath: string) => {
            const stack = heat.identify(params(request).stack_name, ctx(request));
            const search = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
            return reply.code(302).header('location', `${stackUrl(apiBase, stack)}${subpath ? `/${subpath}` : ''}${search}`).send();
          };

          /** views_common.get_collection_links: the same query with the marker moved to the page's last stack. */
          const nextPage = (request: FastifyRequest, marker: string) => {
            const search = new URLSearchParams();
            for (const [key, value] of Object.entries(query(request))) {
              if (key === 'marker' || value === undefined) continue;
              for (const item of Array.isArray(value) ? value : [value]) search.append(key, item);
            }
            search.set('marker', marker);
            return `${apiBase}/v1/${encodeURIComponent(params(request).tenant_id)}/stacks?${search.toString()}`;
          };

          v1.get('/stacks', async (request) => {
            const context = ctx(request);
            const filter = parseListQuery(query(request));
            if (filter.globalTenant && !context.isAdmin) throw tenantForbidden();
            const withCount = flag(query(request), 'with_count');
            const { stacks, count } = heat.listStacks(filter, context);
            const page = stacks.map((s) => stackSummary(apiBase, s, context.isAdmin));
            const last = stacks[stacks.length - 1];
            const links = filter.limit !== null && filter.limit > 0 && page.length === filter.limit && last ? [{ rel: 'next', href: nextPage(request, last.id) }] : [];
            return { stacks: page, ...(links.length > 0 ? { links } : {}), ...(withCount ? { count } : {}) };
          });
          v1.get('/stacks/detail', async (request) => {
            const context = ctx(request);
            const { stacks } = heat.listStacks(parseListQuery({}), context);
            return { stacks: stacks.map((s) => stackDetail(apiBase, s, heat)) };
          });
          v1.post('/stacks', async (request, reply) => {
            const stack = await heat.createStack(parseCreateRequest(request.body), ctx(request));
            const href = stackUrl(apiBase, stack);
            return reply.code(201).header('location', href).send({ stack: { id: stack.id, links: [{ href, rel: 'self' }] } });
          });

          for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const) {
            v1.route({ method, url: '/stacks/:stack_name', handler: async (request, reply) => redirect(request, reply, '') });
          }
          for (const subpath of LOOKUP_SUBPATHS) {
            v1.get(`/stacks/:stack_name/${subpath}`, async (request, reply) => redirect(request, reply, subpath));
          }

          v1.get('/stacks/:stack_name/:stack_id', async (request) => {
            const { stack_name, stack_id } = params(request);
            return { stack: stackDetail(apiBase, heat.getStack(stack_name, stack_id, ctx(request)), heat) };
          });
          for (const method of ['PUT', 'PATCH'] as const) {
            v1.route({
              method,
              url: '/stacks/:stack_name/:stack_id',
              handler: async (request, reply) => {
                const { stack_name, stack_id } = params(request);
                await heat.updateStack(stack_name, stack_id, parseUpdateRequest(request.body ?? {}, method === 'PATCH'), ctx(request));
                return reply.code(202).send();
              },
            });
          }
          v1.delete('/stacks/:stack_name/:stack_id', async (request, reply) => {
            const { stack_name, stack_id } = params(request);
            await heat.deleteStack(stack_name, stack_id, ctx(request));
            return reply.code(204).send();
          });
          v1.get('/stacks/:stack_name/:stack_id/template', async (request) => {
            const { stack_name, stack_id } = params(request);
            return heat.getStack(stack_name, stack_id, ctx(request)).template;
          });
          v1.get('/stacks/:stack_name/:stack_id/outputs', async (request) => {
            const { stack_name, stack_id } = params(request);
            const stack = heat.getStack(stack_name, stack_id, ctx(request));
            return { outputs: heat.outputs(stack).map(({ output_key, description }) => ({ output_key, description })) };
          });
          v1.get('/stacks/:stack_name/:stack_id/resources', async (request) => {
            const { stack_name, stack_id } = params(request);
            const filters = parseResourceQuery(query(request));
            const stack = heat.getStack(stack_name, stack_id, ctx(request));
            const all = heat.resources(stack);
            const matches = (wanted: string[], value: string | null) => wanted.length === 0 || (value !== null && wanted.includes(value));
            const shown = all.filter(
              (r) =>
                matches(filters.type, r.type) &&
                matches(filters.status, r.status) &&
                matches(filters.name, r.name) &&
                matches(filters.action, r.action) &&
                matches(filters.id, r.id) &&
                matches(filters.physical_resource_id, r.physical_resource_id),
            );
            return { resources: shown.map((r) => resourceView(apiBase, stack, r, all, false)) };
          });
          v1.get('/stacks/:stack_name/:stack_id/resources/:resource_name', async (request) => {
            const { stack_name, stack_id, resource_name } = params(request);
            const stack = heat.getStack(stack_name, stack_id, ctx(request));
            return { resource: resourceView(apiBase, stack, heat.resource(stack, resource_name), heat.resources(stack), true) };
          });
        },
        { prefix: '/v1/:tenant_id' },
      );
    },
    { prefix: API_PREFIX },
  );
}
