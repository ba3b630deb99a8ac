import { randomBytes } from 'node:crypto';
import { Transform, pipeline, type Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CumulusError } from '../../core/index.ts';
import type { KeystoneService } from '../keystone/service.ts';
import type { RequestContext } from '../notifier.ts';
import { contextFromRequest } from '../request-context.ts';
import {
  DEFAULT_STORAGE_POLICY,
  LISTING_LIMIT,
  MAX_ACCOUNT_NAME_BYTES,
  MAX_CONTAINER_NAME_BYTES,
  MAX_META_COUNT,
  MAX_META_NAME_LENGTH,
  MAX_META_OVERALL_SIZE,
  MAX_META_VALUE_LENGTH,
  MAX_OBJECT_NAME_BYTES,
  RESELLER_ADMIN_ROLE,
  SWIFT_PREFIX,
  type SwiftConfig,
} from './config.ts';
import { SwiftApiError, accountForbidden, accountNotFound, badRequest, lengthRequired, methodNotAllowed, objectTooLarge, preconditionFailed, swiftErrorBody } from './errors.ts';
import { parseListingQuery, type ListingQuery, type Subdir } from './listing.ts';
import { metadataChange, metadataHeaders, type Metadata, type MetadataLevel } from './metadata.ts';
import type { RequestNotifier } from './notifications.ts';
import { parseSwiftPath, type SwiftPath } from './request-path.ts';
import type { AccountInfo, SwiftService } from './service.ts';
import type { ContainerRow, ObjectRow } from './store.ts';
import { lastModified, listingTime, xTimestamp } from './timestamps.ts';

/** What the hooks learn about one request, for the handler and for its notification. */
interface RequestState {
  transId: string;
  /** Decoded PATH_INFO as swift-proxy would see it (`/v1/...`), even when it fails validation. */
  pathInfo: string;
  path: SwiftPath | null;
  context: RequestContext | null;
  bytesIn: number;
  bytesOut: number;
}

const TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
const HTML_CONTENT_TYPE = 'text/html; charset=UTF-8';

const header = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};
const truthy = (value: string | undefined) => value !== undefined && ['true', '1', 'yes', 'on', 't', 'y'].includes(value.trim().toLowerCase());

/** swift's transaction id: `tx` + 21 hex digits + `-` + the time in hex seconds. */
function newTransId(nowMs: number): string {
  return `tx${randomBytes(11).toString('hex').slice(0, 21)}-${Math.floor(nowMs / 1000).toString(16).padStart(10, '0')}`;
}

/** Reads `<container>/<object>` (X-Copy-From, Destination), with or without its leading slash. */
function parseCopyPath(value: string, headerName: string): { container: string; object: string } {
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    throw preconditionFailed('Invalid UTF8 or contains NULL');
  }
  const trimmed = decoded.startsWith('/') ? decoded.slice(1) : decoded;
  const slash = trimmed.indexOf('/');
  if (slash <= 0 || slash === trimmed.length - 1) throw preconditionFailed(`${headerName} header must be of the form <container name>/<object name>`);
  return { container: trimmed.slice(0, slash), object: trimmed.slice(slash + 1) };
}

/**
 * Swift's API under /object-storage: `/v1/AUTH_<project>[/<container>[/<object>]]`,
 * plus the unauthenticated `/info`. Requests go through what a stock proxy pipeline
 * does: authtoken (401 without a valid token), keystoneauth (403 on another project's
 * account unless admin or ResellerAdmin), ceilometermiddleware (one
 * objectstore.http.request per authenticated request), then the proxy itself.
 */
export function registerSwiftRoutes(app: FastifyInstance, deps: { service: SwiftService; keystone: KeystoneService; notifications: RequestNotifier; config: SwiftConfig; nowMs: () => number }): void {
  const { service, keystone, notifications, config, nowMs } = deps;
  const states = new WeakMap<FastifyRequest, RequestState>();
  const stateOf = (request: FastifyRequest): RequestState => {
    let state = states.get(request);
    if (!state) {
      state = { transId: newTransId(nowMs()), pathInfo: '', path: null, context: null, bytesIn: 0, bytesOut: 0 };
      states.set(request, state);
    }
    return state;
  };
  const supportsCopy = app.supportedMethods.includes('COPY');

  app.register(
    async (swift) => {
      // Object bodies are bytes of any type, streamed to disk by the handler: no parser
      // reads them (nor applies the server's bodyLimit; max_file_size applies instead).
      swift.removeAllContentTypeParsers();
      swift.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

      swift.setErrorHandler((err, request, reply) => {
        const status = err instanceof CumulusError ? err.httpStatus : ((err as { statusCode?: number }).statusCode ?? 500);
        if (status >= 500) request.log.error({ err }, 'swift: request failed');
        const body = err instanceof SwiftApiError ? err.body : swiftErrorBody(status);
        reply.code(status).header('content-type', HTML_CONTENT_TYPE);
        return request.method === 'HEAD' ? reply.send() : reply.send(body);
      });
      swift.setNotFoundHandler((request, reply) => {
        reply.code(404).header('content-type', HTML_CONTENT_TYPE);
        return request.method === 'HEAD' ? reply.send() : reply.send(swiftErrorBody(404));
      });

      // authtoken, then keystoneauth, in the proxy pipeline's order.
      swift.addHook('onRequest', async (request, reply) => {
        const state = stateOf(request);
        reply.header('x-trans-id', state.transId).header('x-openstack-request-id', state.transId);
        if (!request.url.startsWith(`${SWIFT_PREFIX}/v1/`)) return;
        const rawPath = request.url.slice(SWIFT_PREFIX.length).split('?')[0] ?? '';
        try {
          state.pathInfo = decodeURIComponent(rawPath);
        } catch {
          state.pathInfo = rawPath;
        }
        state.context = contextFromRequest(keystone, request);
        state.path = parseSwiftPath(rawPath);
        const context = state.context;
        const mayAct = context.isAdmin || context.roles.includes(RESELLER_ADMIN_ROLE) || (state.path.projectId !== null && state.path.projectId === context.projectId);
        if (!mayAct) throw accountForbidden(state.path.account, context.projectId);
      });

      // ceilometermiddleware counts the response body bytes it passes on.
      swift.addHook('onSend', async (request, _reply, payload) => {
        if (request.method === 'HEAD') return payload;
        if (typeof payload === 'string') stateOf(request).bytesOut += Buffer.byteLength(payload);
        else if (Buffer.isBuffer(payload)) stateOf(request).bytesOut += payload.length;
        return payload;
      });

      // One notification per request that got past authtoken (the middleware sits after it).
      swift.addHook('onResponse', async (request, reply) => {
        const state = stateOf(request);
        if (!state.context) return;
        // A 5xx is the middleware's exception path: outcome failure, nothing counted as sent.
        const failed = reply.statusCode >= 500;
        await notifications.emit(
          {
            method: request.method,
            pathInfo: state.pathInfo,
            userId: state.context.userId,
            projectId: state.context.projectId,
            bytesReceived: state.bytesIn,
            bytesSent: failed ? 0 : state.bytesOut,
            outcome: failed ? 'failure' : 'success',
            timeMs: nowMs(),
          },
          state.context,
        );
      });

      swift.get('/info', async () => ({
        swift: {
          version: '2.30.0',
          max_file_size: config.maxObjectBytes,
          max_meta_name_length: MAX_META_NAME_LENGTH,
          max_meta_value_length: MAX_META_VALUE_LENGTH,
          max_meta_count: MAX_META_COUNT,
          max_meta_overall_size: MAX_META_OVERALL_SIZE,
          max_account_name_length: MAX_ACCOUNT_NAME_BYTES,
          max_container_name_length: MAX_CONTAINER_NAME_BYTES,
          max_object_name_length: MAX_OBJECT_NAME_BYTES,
          container_listing_limit: LISTING_LIMIT,
          account_listing_limit: LISTING_LIMIT,
          account_autocreate: true,
          allow_account_management: false,
          policies: [{ name: DEFAULT_STORAGE_POLICY, default: true }],
        },
        keystoneauth: {},
      }));

      swift.route({
        method: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', ...(supportsCopy ? ['COPY'] : [])],
        url: '/v1/*',
        exposeHeadRoute: false,
        handler: async (request, reply) => {
          const state = stateOf(request);
          const path = state.path as SwiftPath;
          const projectId = path.projectId;
          // Only an admin gets this far with an account lacking the reseller prefix; no such account exists.
          if (projectId === null) throw accountNotFound(path.account);
          if (path.container === null) return account(request, reply, projectId);
          if (path.object === null) return container(request, reply, projectId, path.container);
          return object(request, reply, state, projectId, path.container, path.object);
        },
      });
    },
    { prefix: SWIFT_PREFIX },
  );

  const accountHeaders = (info: AccountInfo): Record<string, string> => ({
    'X-Account-Container-Count': String(info.containerCount),
    'X-Account-Object-Count': String(info.objectCount),
    'X-Account-Bytes-Used': String(info.bytesUsed),
    ...(info.containerCount > 0
      ? {
          [`X-Account-Storage-Policy-${DEFAULT_STORAGE_POLICY}-Container-Count`]: String(info.containerCount),
          [`X-Account-Storage-Policy-${DEFAULT_STORAGE_POLICY}-Object-Count`]: String(info.objectCount),
          [`X-Account-Storage-Policy-${DEFAULT_STORAGE_POLICY}-Bytes-Used`]: String(info.bytesUsed),
        }
      : {}),
    'X-Timestamp': xTimestamp(info.createdAt),
    'X-Put-Timestamp': xTimestamp(info.createdAt),
    'Accept-Ranges': 'bytes',
  });

  const containerHeaders = (c: ContainerRow): Record<string, string> => ({
    'X-Container-Object-Count': String(c.objectCount),
    'X-Container-Bytes-Used': String(c.bytesUsed),
    'X-Timestamp': xTimestamp(c.createdAt),
    'X-Put-Timestamp': xTimestamp(c.updatedAt),
    'Last-Modified': lastModified(c.updatedAt),
    'X-Storage-Policy': c.storagePolicy,
    'Accept-Ranges': 'bytes',
    ...(c.readAcl !== null ? { 'X-Container-Read': c.readAcl } : {}),
    ...(c.writeAcl !== null ? { 'X-Container-Write': c.writeAcl } : {}),
  });

  const objectHeaders = (o: ObjectRow): Record<string, string> => ({
    'Content-Type': o.contentType,
    'Content-Length': String(o.bytes),
    Etag: o.etag,
    'Last-Modified': lastModified(o.timestamp),
    'X-Timestamp': xTimestamp(o.timestamp),
    'Accept-Ranges': 'bytes',
  });

  /**
   * Metadata headers go out with swift's title case (`X-Object-Meta-Color`): clients such
   * as openstackclient show properties named as the wire spells them, and fastify's
   * reply.header() would lower-case the names.
   */
  const withMetadata = (reply: FastifyReply, metadata: Metadata, level: MetadataLevel): FastifyReply => {
    for (const [name, value] of Object.entries(metadataHeaders(metadata, level))) reply.raw.setHeader(name, value);
    return reply;
  };

  /** Sends a listing as swift does: JSON always (even `[]`), plain text one name a line, 204 when empty. */
  const sendListing = (reply: FastifyReply, query: ListingQuery, entries: Array<ContainerRow | ObjectRow | Subdir>, toJson: (entry: ContainerRow | ObjectRow) => object) => {
    if (query.format === 'json') {
      return reply.code(200).header('content-type', JSON_CONTENT_TYPE).send(JSON.stringify(entries.map((e) => ('subdir' in e ? { subdir: e.subdir } : toJson(e)))));
    }
    if (entries.length === 0) return reply.code(204).header('content-type', TEXT_CONTENT_TYPE).send();
    return reply.code(200).header('content-type', TEXT_CONTENT_TYPE).send(entries.map((e) => `${'subdir' in e ? e.subdir : e.name}\n`).join(''));
  };

  const accepted = (reply: FastifyReply) => reply.code(202).header('content-type', HTML_CONTENT_TYPE).send(`<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>`);
  const created = (reply: FastifyReply) => reply.code(201).header('content-type', HTML_CONTENT_TYPE).header('content-length', '0').send();

  function account(request: FastifyRequest, reply: FastifyReply, projectId: string) {
    switch (request.method) {
      case 'HEAD': {
        const info = service.account(projectId);
        return withMetadata(reply.code(204).headers(accountHeaders(info)), info.metadata, 'account').send();
      }
      case 'GET': {
        const query = parseListingQuery(request.query as Record<string, unknown>, header(request, 'accept'));
        const entries = service.listContainers(projectId, query);
        const info = service.account(projectId);
        withMetadata(reply.headers(accountHeaders(info)), info.metadata, 'account');
        return sendListing(reply, query, entries, (e) => {
          const c = e as ContainerRow;
          return { name: c.name, count: c.objectCount, bytes: c.bytesUsed, last_modified: listingTime(c.updatedAt), storage_policy: c.storagePolicy };
        });
      }
      case 'POST':
        service.updateAccount(projectId, metadataChange(request.headers, 'account'));
        return reply.code(204).send();
      default:
        throw methodNotAllowed(request.method, 'account');
    }
  }

  /** X-Container-Read / X-Container-Write: set by value, dropped by an empty value or X-Remove-Container-*. */
  const acl = (request: FastifyRequest, name: 'read' | 'write'): string | null | undefined => {
    if (header(request, `x-remove-container-${name}`) !== undefined) return null;
    const value = header(request, `x-container-${name}`);
    if (value === undefined) return undefined;
    return value.trim() === '' ? null : value.trim();
  };

  function container(request: FastifyRequest, reply: FastifyReply, projectId: string, name: string) {
    switch (request.method) {
      case 'HEAD': {
        const found = service.container(projectId, name);
        return withMetadata(reply.code(204).headers(containerHeaders(found)), found.metadata, 'container').send();
      }
      case 'GET': {
        const query = parseListingQuery(request.query as Record<string, unknown>, header(request, 'accept'));
        const listing = service.listObjects(projectId, name, query);
        withMetadata(reply.headers(containerHeaders(listing.container)), listing.container.metadata, 'container');
        return sendListing(reply, query, listing.entries, (e) => {
          const o = e as ObjectRow;
          return { name: o.name, hash: o.etag, bytes: o.bytes, content_type: o.contentType, last_modified: listingTime(o.timestamp) };
        });
      }
      case 'PUT': {
        if (name.includes('/')) throw badRequest('Container name cannot contain slashes');
        const result = service.createContainer(projectId, name, {
          storagePolicy: header(request, 'x-storage-policy') ?? null,
          readAcl: acl(request, 'read'),
          writeAcl: acl(request, 'write'),
          metadata: metadataChange(request.headers, 'container'),
        });
        return result.created ? created(reply) : accepted(reply);
      }
      case 'POST':
        service.updateContainer(projectId, name, { readAcl: acl(request, 'read'), writeAcl: acl(request, 'write'), metadata: metadataChange(request.headers, 'container') });
        return reply.code(204).send();
      case 'DELETE':
        service.deleteContainer(projectId, name);
        return reply.code(204).send();
      default:
        throw methodNotAllowed(request.method, 'container');
    }
  }

  /** The request's Content-Type for the object, or null when swift would guess it from the name. */
  const requestContentType = (request: FastifyRequest): string | null => {
    if (truthy(header(request, 'x-detect-content-type'))) return null;
    const value = header(request, 'content-type');
    return value === undefined || value.trim() === '' ? null : value.trim();
  };

  async function object(request: FastifyRequest, reply: FastifyReply, state: RequestState, projectId: string, containerName: string, name: string) {
    switch (request.method) {
      case 'HEAD': {
        const found = service.object(projectId, containerName, name);
        return withMetadata(reply.code(200).headers(objectHeaders(found)), found.metadata, 'object').send();
      }
      case 'GET': {
        const { object: found, stream } = service.readObject(projectId, containerName, name);
        withMetadata(reply.code(200).headers(objectHeaders(found)), found.metadata, 'object');
        if (stream === null) return reply.send(Buffer.alloc(0));
        return reply.send(countSent(stream, state));
      }
      case 'PUT': {
        const copyFrom = header(request, 'x-copy-from');
        if (copyFrom !== undefined) {
          const source = parseCopyPath(copyFrom, 'X-Copy-From');
          return copied(reply, source.container, await copy(request, projectId, source, { container: containerName, object: name }));
        }
        const ifNoneMatch = header(request, 'if-none-match');
        if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') throw badRequest('If-None-Match only supports *');
        const contentLength = contentLengthOf(request, config.maxObjectBytes);
        const body = request.body as Readable | undefined;
        const stored = await service.putObject(projectId, containerName, name, body ?? null, {
          contentType: requestContentType(request),
          metadata: metadataChange(request.headers, 'object').set,
          expectedEtag: header(request, 'etag') ?? null,
          contentLength,
          ifNoneMatch: ifNoneMatch !== undefined,
          onBytes: (count) => {
            state.bytesIn += count;
          },
        });
        return created(reply.header('Etag', stored.etag).header('Last-Modified', lastModified(stored.timestamp)));
      }
      case 'COPY': {
        const destination = header(request, 'destination');
        if (destination === undefined) throw preconditionFailed('Destination header required');
        return copied(reply, containerName, await copy(request, projectId, { container: containerName, object: name }, parseCopyPath(destination, 'Destination')));
      }
      case 'POST': {
        service.updateObject(projectId, containerName, name, { contentType: requestContentType(request), metadata: metadataChange(request.headers, 'object').set });
        return accepted(reply);
      }
      case 'DELETE':
        service.deleteObject(projectId, containerName, name);
        return reply.code(204).send();
      default:
        throw methodNotAllowed(request.method, 'object');
    }
  }

  function copy(request: FastifyRequest, projectId: string, source: { container: string; object: string }, destination: { container: string; object: string }) {
    return service.copyObject(projectId, source, destination, {
      contentType: header(request, 'content-type')?.trim() || null,
      metadata: metadataChange(request.headers, 'object').set,
      freshMetadata: truthy(header(request, 'x-fresh-metadata')),
    });
  }

  function copied(reply: FastifyReply, sourceContainer: string, result: { object: ObjectRow; source: ObjectRow }) {
    return created(
      reply
        .header('Etag', result.object.etag)
        .header('Last-Modified', lastModified(result.object.timestamp))
        .header('X-Copied-From', `${encodeURIComponent(sourceContainer)}/${encodeURIComponent(result.source.name)}`)
        .header('X-Copied-From-Last-Modified', lastModified(result.source.timestamp)),
    );
  }
}

/** Content-Length of an object PUT: required unless chunked (411), capped by max_file_size (413). */
function contentLengthOf(request: FastifyRequest, maxBytes: number): number | null {
  const raw = header(request, 'content-length');
  const chunked = (header(request, 'transfer-encoding') ?? '').toLowerCase().includes('chunked');
  if (raw === undefined) {
    if (!chunked) throw lengthRequired();
    return null;
  }
  if (!/^\d+$/.test(raw.trim())) throw badRequest('Invalid Content-Length header value');
  const length = Number(raw.trim());
  if (length > maxBytes) throw objectTooLarge(maxBytes, length);
  return chunked ? null : length;
}

/** Counts the bytes of an object body as they go out, for the request's outgoing.bytes. */
function countSent(stream: Readable, state: RequestState): Readable {
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      state.bytesOut += chunk.length;
      callback(null, chunk);
    },
  });
  return pipeline(stream, counter, () => undefined);
}
