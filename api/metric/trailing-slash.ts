import type { FastifyInstance, RouteHandlerMethod, RouteShorthandOptions } from 'fastify';

type Register = (url: string, options: RouteShorthandOptions, handler: RouteHandlerMethod) => void;

/**
 * GET, POST and DELETE registrars for a collection route that also answer at `url/`:
 * python-gnocchiclient asks for `v1/metric/`, `v1/archive_policy/`... (pecan, under
 * Gnocchi, ignores the slash). The twin is left out of the OpenAPI document.
 */
export function withTrailingSlash(instance: FastifyInstance): { get: Register; post: Register; delete: Register } {
  const twin = (options: RouteShorthandOptions): RouteShorthandOptions => ({ ...options, schema: { ...(options.schema ?? {}), hide: true } as RouteShorthandOptions['schema'] });
  return {
    get(url, options, handler) {
      instance.get(url, options, handler);
      instance.get(`${url}/`, twin(options), handler);
    },
    post(url, options, handler) {
      instance.post(url, options, handler);
      instance.post(`${url}/`, twin(options), handler);
    },
    delete(url, options, handler) {
      instance.delete(url, options, handler);
      instance.delete(`${url}/`, twin(options), handler);
    },
  };
}
