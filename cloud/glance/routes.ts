import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../../core/index.ts';
import { CumulusError } from '../../core/index.ts';
import { keystoneErrorBody } from '../errors.ts';
import type { KeystoneService } from '../keystone/service.ts';
import type { RequestContext } from '../notifier.ts';
import { contextFromRequest } from '../request-context.ts';
import { API_VERSIONS, IMPORT_METHODS } from './config.ts';
import { invalid, renderGlanceError, unsupportedMediaType } from './errors.ts';
import { PATCH_MEDIA_TYPES, parseImageCreate, parseImageList, parseImagePatch } from './requests.ts';
import { imageSchema, imagesSchema } from './schema.ts';
import { viewerOf, type GlanceService } from './service.ts';
import { digestStream, UploadedData } from './upload.ts';
import { imageView } from './view.ts';

type Params = { id: string; tag?: string };

/** Glance v2 under the catalog path /image: the versions document, images, image data, tags, schemas. */
export function registerGlanceRoutes(app: FastifyInstance, glance: GlanceService, keystone: KeystoneService, settings: { publicUrl: string; logger: Logger }): void {
  const root = settings.publicUrl.replace(/\/+$/, '');
  const base = `${root}/image`;
  const refuse = (request: FastifyRequest, reply: FastifyReply, status: number, message: string) => {
    const rendered = renderGlanceError(status, message, request.headers.accept);
    return reply.code(status).type(rendered.contentType).send(rendered.body);
  };
  const versions = () => ({ versions: API_VERSIONS.map((v) => ({ id: v.id, status: v.status, links: [{ rel: 'self', href: `${base}/v2/` }] })) });

  app.register(
    async (image) => {
      image.setErrorHandler((err, request, reply) => {
        const status = err instanceof CumulusError ? err.httpStatus : ((err as { statusCode?: number }).statusCode ?? 500);
        if (status === 401) {
          // keystonemiddleware's auth_token answers before glance does, in Keystone's shape.
          reply.header('WWW-Authenticate', `Keystone uri="${root}/identity"`);
          return reply.code(401).send(keystoneErrorBody(401, 'The request you have made requires authentication.'));
        }
        if (status >= 500) {
          settings.logger.error({ err, url: request.url }, 'glance: request failed');
          return refuse(request, reply, 500, 'The server has either erred or is incapable of performing the requested operation.');
        }
        const code = (err as { code?: string }).code;
        const message = code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'Malformed JSON in request body.' : (err as Error).message;
        return refuse(request, reply, status, message);
      });
      image.setNotFoundHandler((request, reply) => refuse(request, reply, 404, 'The resource could not be found.'));
      image.addHook('onRequest', async (request, reply) => {
        reply.header('x-openstack-request-id', String(request.id));
      });

      // Discovery: an unversioned or unknown-version request answers 300 with the choices, as glance's version negotiation does.
      image.get('/', async (_request, reply) => reply.code(300).send(versions()));
      image.get('/versions', async () => versions());

      image.register(
        async (v2root) => {
          // `/image/v2` itself lists the versions too, without a token, which helps clients given a versioned endpoint.
          v2root.get('/', async (_request, reply) => reply.code(300).send(versions()));
          v2root.register(api);
        },
        { prefix: '/v2' },
      );

      /** The authenticated API: every route below needs a valid X-Auth-Token. */
      async function api(v2: FastifyInstance): Promise<void> {
        // Image data is hashed as it streams in and never buffered: no body limit applies to it.
        v2.addContentTypeParser('application/octet-stream', async (_request: FastifyRequest, payload: AsyncIterable<Buffer>) => digestStream(payload));
        v2.addContentTypeParser(Object.keys(PATCH_MEDIA_TYPES), { parseAs: 'string' }, (_request, body, done) => {
          try {
            done(null, JSON.parse(String(body)) as unknown);
          } catch {
            done(invalid('Malformed JSON in request body.'), undefined);
          }
        });
        v2.addHook('onRequest', async (request) => {
          request.cloudContext = contextFromRequest(keystone, request);
        });
        const ctx = (request: FastifyRequest): RequestContext => request.cloudContext as RequestContext;
        const params = (request: FastifyRequest): Params => request.params as Params;

        v2.get('/schemas/image', async () => imageSchema());
        v2.get('/schemas/images', async () => imagesSchema());
        v2.get('/info/import', async () => ({ 'import-methods': { description: 'Import methods available.', type: 'array', value: [...IMPORT_METHODS] } }));

        v2.get('/images', async (request) => {
          const listing = glance.list(viewerOf(ctx(request)), parseImageList(request.query as Record<string, string | string[]>));
          // glance echoes the query (without marker) in `first` and adds the next marker to it in `next`.
          const query = new URLSearchParams(request.raw.url?.split('?')[1] ?? '');
          query.delete('marker');
          const body: Record<string, unknown> = { images: listing.images.map(imageView), first: query.size > 0 ? `/v2/images?${query}` : '/v2/images', schema: '/v2/schemas/images' };
          if (listing.nextMarker !== null) {
            query.set('marker', listing.nextMarker);
            body.next = `/v2/images?${query}`;
          }
          return body;
        });
        v2.post('/images', async (request, reply) => {
          const created = await glance.create(parseImageCreate(request.body), ctx(request));
          return reply.code(201).header('location', `${base}/v2/images/${created.id}`).send(imageView(created));
        });
        v2.get('/images/:id', async (request) => imageView(glance.show(params(request).id, viewerOf(ctx(request)))));
        v2.patch('/images/:id', async (request) => imageView(await glance.update(params(request).id, parseImagePatch(request.headers['content-type'], request.body), ctx(request))));
        v2.delete('/images/:id', async (request, reply) => {
          await glance.delete(params(request).id, ctx(request));
          return reply.code(204).send();
        });

        v2.put('/images/:id/file', async (request, reply) => {
          if (!(request.body instanceof UploadedData)) throw unsupportedMediaType(`Invalid content type ${request.headers['content-type'] ?? ''}`);
          await glance.upload(params(request).id, request.body, ctx(request));
          return reply.code(204).send();
        });
        // The bytes are not kept: glance answers 204 when the store has no data for an image, so do we.
        v2.get('/images/:id/file', async (request, reply) => {
          glance.show(params(request).id, viewerOf(ctx(request)));
          return reply.code(204).send();
        });

        v2.put('/images/:id/tags/:tag', async (request, reply) => {
          await glance.addTag(params(request).id, params(request).tag ?? '', ctx(request));
          return reply.code(204).send();
        });
        v2.delete('/images/:id/tags/:tag', async (request, reply) => {
          await glance.removeTag(params(request).id, params(request).tag ?? '', ctx(request));
          return reply.code(204).send();
        });
      }
    },
    { prefix: '/image' },
  );
}
