import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CumulusError } from '../../core/index.ts';
import { badRequest, keystoneErrorBody, notFound } from '../errors.ts';
import type { KeystoneService } from '../keystone/service.ts';
import type { RequestContext } from '../notifier.ts';
import { contextFromRequest } from '../request-context.ts';
import { cinderErrorBody, malformedUrl } from './errors.ts';
import { MAX_MICROVERSION, MIN_MICROVERSION, MV, atLeast, negotiate, type Microversion } from './microversion.ts';
import type { CinderService } from './service.ts';
import { parseBool } from './validation.ts';
import {
  backupDetailView,
  backupSummaryView,
  nextLink,
  snapshotView,
  volumeDetailView,
  volumeSummaryView,
  volumeTypeView,
  type ViewScope,
} from './views.ts';

/** Cinder's osapi_max_limit: no page is longer, whatever limit asks. */
const MAX_PAGE = 1000;
/** When the microversion range last changed (cinder's api_version_request.UPDATED for 3.70). */
const VERSION_UPDATED = '2022-08-31T00:00:00Z';

type Json = Record<string, unknown>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The volume microversion negotiated for this request (set by Cinder's preHandler). */
    volumeMicroversion?: Microversion;
  }
}

const objectOf = (value: unknown): Json | undefined => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined);

/** The one object a body must carry under `key`, or Cinder's schema refusal. */
function member(body: unknown, key: string): Json {
  const inner = objectOf(objectOf(body)?.[key]);
  if (!inner) throw badRequest(`Invalid input for field/attribute ${key}. Value: None. '${key}' is a required property`);
  return inner;
}

const queryOf = (request: FastifyRequest) => request.query as Record<string, string | undefined>;
const param = (request: FastifyRequest, name: string) => (request.params as Record<string, string>)[name] as string;
const truthy = (value: string | undefined) => value !== undefined && parseBool(value) === true;

/** A page of a newest-first list: after `marker`, at most `limit` (and never more than MAX_PAGE) items. */
function page<T extends { id: string }>(items: readonly T[], query: Record<string, string | undefined>): { items: T[]; full: boolean } {
  let start = 0;
  if (query.marker !== undefined) {
    const index = items.findIndex((item) => item.id === query.marker);
    if (index < 0) throw notFound(`Marker ${query.marker} could not be found.`);
    start = index + 1;
  }
  let limit = MAX_PAGE;
  if (query.limit !== undefined) {
    if (!/^\d+$/.test(query.limit)) throw badRequest('Invalid input received: limit param must be an integer');
    limit = Math.min(Number(query.limit), MAX_PAGE);
    if (limit < 0) throw badRequest('Invalid input received: limit param must be positive');
  }
  const slice = items.slice(start, start + limit);
  return { items: slice, full: slice.length > 0 && slice.length === limit && start + limit < items.length };
}

/** The query minus what paging and scoping consume, for a next link that keeps the filters. */
const keptQuery = (query: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[0] !== 'marker'));

/** Cinder's metadata filter value is a Python dict literal, e.g. `{'tier': 'gold'}`. */
function metadataFilter(value: string | undefined): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed = JSON.parse(value.replace(/'/g, '"')) as unknown;
    const map = objectOf(parsed);
    if (!map) throw new Error('not a map');
    return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, String(v)]));
  } catch {
    throw badRequest(`Invalid input received: Invalid metadata filter ${value}`);
  }
}

/**
 * Cinder v3 under /volume: the versions documents, then the API under
 * /volume/v3/{project_id} (the catalog's URL) and, as since microversion 3.67, under
 * /volume/v3 without the project.
 */
export function registerCinderRoutes(app: FastifyInstance, service: CinderService, keystone: KeystoneService, settings: { publicUrl: string }): void {
  const publicUrl = settings.publicUrl.replace(/\/+$/, '');
  const base = `${publicUrl}/volume`;

  const versionDoc = () => ({
    id: 'v3.0',
    status: 'CURRENT',
    version: MAX_MICROVERSION,
    min_version: MIN_MICROVERSION,
    updated: VERSION_UPDATED,
    links: [
      { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
      { rel: 'self', href: `${base}/v3/` },
    ],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
  });

  app.register(
    async (volume) => {
      volume.setErrorHandler((err, request, reply) => {
        const code = (err as { code?: string }).code ?? '';
        let status = err instanceof CumulusError ? err.httpStatus : ((err as { statusCode?: number }).statusCode ?? 500);
        let message = status >= 500 ? 'The server has either erred or is incapable of performing the requested operation.' : (err as Error).message;
        // What the client is not told, the operator must be.
        if (status >= 500) request.log.error({ err }, 'cinder: request failed');
        // A body fastify could not parse: Cinder answers both cases with 400.
        if (code.startsWith('FST_ERR_CTP')) {
          status = 400;
          message = code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'Unsupported Content-Type' : 'Malformed request body';
        }
        // Keystonemiddleware, not Cinder, answers an unauthenticated request.
        if (status === 401) {
          reply.header('WWW-Authenticate', `Keystone uri="${publicUrl}/identity"`);
          return reply.code(401).send(keystoneErrorBody(401, 'The request you have made requires authentication.'));
        }
        return reply.code(status).send(cinderErrorBody(status, message));
      });
      volume.addHook('onRequest', async (request, reply) => {
        reply.header('x-openstack-request-id', String(request.id));
      });
      volume.setNotFoundHandler(async (_request, reply) => reply.code(404).send(cinderErrorBody(404, 'The resource could not be found.')));

      volume.get('/', async (_request, reply) => reply.code(300).send({ versions: [versionDoc()] }));
      // Cinder answers its version root with the same list (VersionsController.index).
      volume.get('/v3', async () => ({ versions: [versionDoc()] }));
      volume.get('/v3/', async () => ({ versions: [versionDoc()] }));

      const api = async (v3: FastifyInstance) => {
        v3.addHook('preHandler', async (request, reply) => {
          // 1. Authenticate (keystonemiddleware), 2. negotiate the microversion, 3. the URL's project must be the token's.
          request.cloudContext = contextFromRequest(keystone, request);
          request.volumeMicroversion = negotiate(request, reply);
          const urlProject = (request.params as Record<string, string | undefined>).project_id;
          if (urlProject !== undefined && urlProject !== request.cloudContext.projectId) throw malformedUrl();
        });
        registerApi(v3, service, base);
      };
      volume.register(api, { prefix: '/v3/:project_id' });
      volume.register(api, { prefix: '/v3' });
    },
    { prefix: '/volume' },
  );
}

function registerApi(v3: FastifyInstance, service: CinderService, base: string): void {
  const ctx = (request: FastifyRequest): RequestContext => request.cloudContext as RequestContext;
  const scopeOf = (request: FastifyRequest): ViewScope => ({
    base,
    urlProjectId: (request.params as Record<string, string | undefined>).project_id ?? null,
    context: ctx(request),
    mv: request.volumeMicroversion as Microversion,
  });
  const withCount = (request: FastifyRequest, total: number) =>
    atLeast(request.volumeMicroversion as Microversion, MV.SUPPORT_COUNT_INFO) && truthy(queryOf(request).with_count) ? { count: total } : {};

  // ---- availability zones ----------------------------------------------------------
  v3.get('/os-availability-zone', async () => ({ availabilityZoneInfo: [{ zoneName: service.availabilityZone, zoneState: { available: true } }] }));

  // ---- volume types ----------------------------------------------------------------
  v3.get('/types', async (request) => {
    const scope = scopeOf(request);
    return { volume_types: service.types.list(scope.context, queryOf(request).is_public).map((t) => volumeTypeView(t, service, scope)) };
  });
  v3.get('/types/:id', async (request) => {
    const scope = scopeOf(request);
    return { volume_type: volumeTypeView(service.types.get(param(request, 'id'), scope.context), service, scope) };
  });
  v3.post('/types', async (request) => {
    const scope = scopeOf(request);
    const input = member(request.body, 'volume_type');
    const type = service.types.create(
      { name: input.name, description: input.description, isPublic: input['os-volume-type-access:is_public'] ?? input.is_public, extraSpecs: input.extra_specs },
      scope.context,
    );
    return { volume_type: volumeTypeView(type, service, scope) };
  });
  v3.put('/types/:id', async (request) => {
    const scope = scopeOf(request);
    const input = member(request.body, 'volume_type');
    const type = service.types.update(param(request, 'id'), { name: input.name, description: input.description, isPublic: input.is_public }, scope.context);
    return { volume_type: volumeTypeView(type, service, scope) };
  });
  v3.delete('/types/:id', async (request, reply) => {
    service.types.delete(param(request, 'id'), ctx(request));
    return reply.code(202).send();
  });
  v3.get('/types/:id/os-volume-type-access', async (request) => {
    const id = param(request, 'id');
    return { volume_type_access: service.types.access(id, ctx(request)).map((project) => ({ volume_type_id: id, project_id: project })) };
  });
  v3.post('/types/:id/action', async (request, reply) => {
    const body = objectOf(request.body) ?? {};
    const [action] = Object.keys(body);
    if (action !== 'addProjectAccess' && action !== 'removeProjectAccess') throw badRequest(`There is no such action: ${action ?? 'None'}`);
    service.types.changeAccess(param(request, 'id'), objectOf(body[action])?.project, action === 'addProjectAccess', ctx(request));
    return reply.code(202).send();
  });
  v3.get('/types/:id/extra_specs', async (request) => {
    const context = ctx(request);
    return { extra_specs: service.types.visibleExtraSpecs(service.types.get(param(request, 'id'), context), context) };
  });
  v3.get('/types/:id/extra_specs/:key', async (request) => {
    const context = ctx(request);
    const specs = service.types.visibleExtraSpecs(service.types.get(param(request, 'id'), context), context);
    const key = param(request, 'key');
    if (!(key in specs)) throw notFound(`Volume Type ${param(request, 'id')} has no extra specs with key ${key}.`);
    return { [key]: specs[key] };
  });
  v3.post('/types/:id/extra_specs', async (request) => {
    const specs = objectOf(objectOf(request.body)?.extra_specs);
    if (!specs) throw badRequest("Invalid input for field/attribute extra_specs. Value: None. 'extra_specs' is a required property");
    return { extra_specs: service.types.setExtraSpecs(param(request, 'id'), specs, ctx(request)) };
  });
  v3.delete('/types/:id/extra_specs/:key', async (request, reply) => {
    service.types.unsetExtraSpec(param(request, 'id'), param(request, 'key'), ctx(request));
    return reply.code(202).send();
  });

  // ---- volumes ---------------------------------------------------------------------
  const listVolumes = (request: FastifyRequest) => {
    const query = queryOf(request);
    const all = service.listVolumes(
      {
        allTenants: truthy(query.all_tenants),
        projectId: query.project_id,
        name: query.name ?? query.display_name,
        status: query.status,
        bootable: query.bootable,
        availabilityZone: query.availability_zone,
        metadata: metadataFilter(query.metadata),
      },
      ctx(request),
    );
    return { all, ...page(all, query) };
  };
  v3.get('/volumes', async (request) => {
    const scope = scopeOf(request);
    const { all, items, full } = listVolumes(request);
    const last = items[items.length - 1];
    return {
      volumes: items.map((v) => volumeSummaryView(v, scope)),
      ...(full && last ? { volumes_links: nextLink(scope, 'volumes', keptQuery(queryOf(request)), last.id) } : {}),
      ...withCount(request, all.length),
    };
  });
  v3.get('/volumes/detail', async (request) => {
    const scope = scopeOf(request);
    const { all, items, full } = listVolumes(request);
    const last = items[items.length - 1];
    return {
      volumes: items.map((v) => volumeDetailView(v, service, scope)),
      ...(full && last ? { volumes_links: nextLink(scope, 'volumes/detail', keptQuery(queryOf(request)), last.id) } : {}),
      ...withCount(request, all.length),
    };
  });
  v3.get('/volumes/:id', async (request) => {
    const scope = scopeOf(request);
    return { volume: volumeDetailView(service.get(param(request, 'id'), scope.context.isAdmin ? null : (scope.context.projectId ?? '')), service, scope) };
  });
  v3.post('/volumes', async (request, reply) => {
    const scope = scopeOf(request);
    const input = member(request.body, 'volume');
    if (parseBool(input.multiattach) === true) {
      throw badRequest(
        'multiattach parameter has been removed. The default behavior is to use multiattach enabled volume types. Contact your administrator to create a multiattach enabled volume type and use it to create multiattach volumes.',
      );
    }
    const created = service.createVolume(
      {
        size: input.size,
        name: input.name ?? input.display_name,
        description: input.description ?? input.display_description,
        volumeType: input.volume_type,
        availabilityZone: input.availability_zone,
        metadata: input.metadata,
        imageRef: input.imageRef ?? input.image_id,
        snapshotId: input.snapshot_id,
        sourceVolid: input.source_volid,
      },
      scope.context,
    );
    return reply.code(202).send({ volume: volumeDetailView(created, service, scope) });
  });
  v3.put('/volumes/:id', async (request) => {
    const scope = scopeOf(request);
    const input = member(request.body, 'volume');
    const updated = await service.updateVolume(
      param(request, 'id'),
      {
        // cinderclient (and so `openstack volume set`) still sends the v1 names.
        name: 'name' in input ? input.name : input.display_name,
        description: 'description' in input ? input.description : input.display_description,
        metadata: input.metadata,
      },
      scope.context,
    );
    return { volume: volumeDetailView(updated, service, scope) };
  });
  v3.delete('/volumes/:id', async (request, reply) => {
    const query = queryOf(request);
    service.deleteVolume(param(request, 'id'), ctx(request), { cascade: truthy(query.cascade), force: truthy(query.force) });
    return reply.code(202).send();
  });

  // Volume metadata: POST merges, PUT replaces, one key at a time under /metadata/{key}.
  v3.get('/volumes/:id/metadata', async (request) => ({ metadata: service.volumeMetadata(param(request, 'id'), ctx(request)) }));
  v3.post('/volumes/:id/metadata', async (request) => ({ metadata: service.setVolumeMetadata(param(request, 'id'), member(request.body, 'metadata'), false, ctx(request)) }));
  v3.put('/volumes/:id/metadata', async (request) => ({ metadata: service.setVolumeMetadata(param(request, 'id'), member(request.body, 'metadata'), true, ctx(request)) }));
  v3.get('/volumes/:id/metadata/:key', async (request) => {
    const key = param(request, 'key');
    const metadata = service.volumeMetadata(param(request, 'id'), ctx(request));
    if (!(key in metadata)) throw notFound(`Volume ${param(request, 'id')} has no metadata with key ${key}.`);
    return { meta: { [key]: metadata[key] } };
  });
  v3.put('/volumes/:id/metadata/:key', async (request) => {
    const key = param(request, 'key');
    const meta = member(request.body, 'meta');
    if (Object.keys(meta).length !== 1 || !(key in meta)) throw badRequest('Request body and URI mismatch');
    const metadata = service.setVolumeMetadata(param(request, 'id'), meta, false, ctx(request));
    return { meta: { [key]: metadata[key] } };
  });
  v3.delete('/volumes/:id/metadata/:key', async (request, reply) => {
    service.deleteVolumeMetadataKey(param(request, 'id'), param(request, 'key'), ctx(request));
    return reply.code(200).send();
  });

  v3.post('/volumes/:id/action', async (request, reply) => volumeAction(request, reply, service, ctx(request)));

  // ---- snapshots -------------------------------------------------------------------
  const listSnapshots = (request: FastifyRequest) => {
    const query = queryOf(request);
    const all = service.snapshots.list(
      { allTenants: truthy(query.all_tenants), projectId: query.project_id, name: query.name ?? query.display_name, status: query.status, volumeId: query.volume_id },
      ctx(request),
    );
    return { all, ...page(all, query) };
  };
  for (const [path, detailed] of [['/snapshots', false], ['/snapshots/detail', true]] as const) {
    v3.get(path, async (request) => {
      const scope = scopeOf(request);
      const { all, items, full } = listSnapshots(request);
      const last = items[items.length - 1];
      return {
        // Cinder's snapshot summary is its detail view; only /detail adds the extended attributes.
        snapshots: items.map((s) => snapshotView(s, scope, detailed)),
        ...(full && last ? { snapshots_links: nextLink(scope, path.slice(1), keptQuery(queryOf(request)), last.id) } : {}),
        ...withCount(request, all.length),
      };
    });
  }
  v3.get('/snapshots/:id', async (request) => {
    const scope = scopeOf(request);
    return { snapshot: snapshotView(service.snapshots.get(param(request, 'id'), scope.context), scope, true) };
  });
  v3.post('/snapshots', async (request, reply) => {
    const scope = scopeOf(request);
    const input = member(request.body, 'snapshot');
    const snapshot = service.snapshots.create(
      { volumeId: input.volume_id, name: input.name ?? input.display_name, description: input.description ?? input.display_description, force: input.force, metadata: input.metadata },
      atLeast(scope.mv, MV.SNAPSHOT_IN_USE),
      scope.context,
    );
    return reply.code(202).send({ snapshot: snapshotView(snapshot, scope, false) });
  });
  v3.put('/snapshots/:id', async (request) => {
    const scope = scopeOf(request);
    const input = member(request.body, 'snapshot');
    const updated = await service.snapshots.update(
      param(request, 'id'),
      { name: 'name' in input ? input.name : input.display_name, description: 'description' in input ? input.description : input.display_description },
      scope.context,
    );
    return { snapshot: snapshotView(updated, scope, false) };
  });
  v3.delete('/snapshots/:id', async (request, reply) => {
    service.snapshots.delete(param(request, 'id'), ctx(request));
    return reply.code(202).send();
  });
  v3.get('/snapshots/:id/metadata', async (request) => ({ metadata: service.snapshots.get(param(request, 'id'), ctx(request)).metadata }));
  v3.post('/snapshots/:id/metadata', async (request) => ({ metadata: service.snapshots.setMetadata(param(request, 'id'), member(request.body, 'metadata'), false, ctx(request)) }));
  v3.put('/snapshots/:id/metadata', async (request) => ({ metadata: service.snapshots.setMetadata(param(request, 'id'), member(request.body, 'metadata'), true, ctx(request)) }));
  v3.delete('/snapshots/:id/metadata/:key', async (request, reply) => {
    service.snapshots.deleteMetadataKey(param(request, 'id'), param(request, 'key'), ctx(request));
    return reply.code(200).send();
  });
  v3.post('/snapshots/:id/action', async (request, reply) => {
    const [action] = Object.keys(objectOf(request.body) ?? {});
    if (action === 'os-force_delete') {
      service.snapshots.delete(param(request, 'id'), ctx(request), true);
      return reply.code(202).send();
    }
    throw badRequest(`There is no such action: ${action ?? 'None'}`);
  });

  // ---- backups ---------------------------------------------------------------------
  const listBackups = (request: FastifyRequest) => {
    const query = queryOf(request);
    const all = service.backups.list(
      { allTenants: truthy(query.all_tenants), projectId: query.project_id, name: query.name ?? query.display_name, status: query.status, volumeId: query.volume_id },
      ctx(request),
    );
    return { all, ...page(all, query) };
  };
  for (const [path, detailed] of [['/backups', false], ['/backups/detail', true]] as const) {
    v3.get(path, async (request) => {
      const scope = scopeOf(request);
      const { all, items, full } = listBackups(request);
      const last = items[items.length - 1];
      return {
        backups: items.map((b) => (detailed ? backupDetailView(b, service, scope) : backupSummaryView(b, scope))),
        ...(full && last ? { backups_links: nextLink(scope, path.slice(1), keptQuery(queryOf(request)), last.id) } : {}),
        ...withCount(request, all.length),
      };
    });
  }
  v3.get('/backups/:id', async (request) => {
    const scope = scopeOf(request);
    return { backup: backupDetailView(service.backups.get(param(request, 'id'), scope.context), service, scope) };
  });
  v3.post('/backups', async (request, reply) => {
    const scope = scopeOf(request);
    const input = member(request.body, 'backup');
    const backup = service.backups.create(
      {
        volumeId: input.volume_id,
        name: input.name,
        description: input.description,
        container: input.container,
        incremental: input.incremental,
        force: input.force,
        snapshotId: input.snapshot_id,
        metadata: input.metadata,
        availabilityZone: input.availability_zone,
      },
      scope.context,
    );
    return reply.code(202).send({ backup: backupSummaryView(backup, scope) });
  });
  v3.delete('/backups/:id', async (request, reply) => {
    service.backups.delete(param(request, 'id'), ctx(request));
    return reply.code(202).send();
  });
  v3.post('/backups/:id/action', async (request, reply) => {
    const [action] = Object.keys(objectOf(request.body) ?? {});
    if (action === 'os-force_delete') {
      service.backups.delete(param(request, 'id'), ctx(request), true);
      return reply.code(202).send();
    }
    throw badRequest(`There is no such action: ${action ?? 'None'}`);
  });
}

/** POST /volumes/{id}/action: one action per body, `{"os-<action>": {...}}`, answered with Cinder's status codes. */
async function volumeAction(request: FastifyRequest, reply: FastifyReply, service: CinderService, context: RequestContext): Promise<FastifyReply> {
  const body = objectOf(request.body);
  const keys = Object.keys(body ?? {});
  if (!body || keys.length !== 1) throw badRequest('Malformed request body');
  const action = keys[0] as string;
  const args = objectOf(body[action]) ?? {};
  const id = param(request, 'id');
  switch (action) {
    case 'os-extend':
      service.extendVolume(id, args.new_size, context);
      return reply.code(202).send();
    case 'os-reserve':
      service.reserve(id, context);
      return reply.code(202).send();
    case 'os-unreserve':
      service.unreserve(id, context);
      return reply.code(202).send();
    case 'os-begin_detaching':
      service.beginDetaching(id, context);
      return reply.code(202).send();
    case 'os-roll_detaching':
      service.rollDetaching(id, context);
      return reply.code(202).send();
    case 'os-attach': {
      if (typeof args.mountpoint !== 'string') throw badRequest(`Invalid input for field/attribute os-attach. Value: ${JSON.stringify(args)}. 'mountpoint' is a required property`);
      const instanceUuid = typeof args.instance_uuid === 'string' ? args.instance_uuid : null;
      const hostName = typeof args.host_name === 'string' ? args.host_name : null;
      if (!instanceUuid && !hostName) throw badRequest(`Invalid input for field/attribute os-attach. Value: ${JSON.stringify(args)}. 'instance_uuid' or 'host_name' is required`);
      await service.attachVolume(id, { instanceUuid, hostName, mountpoint: args.mountpoint, mode: typeof args.mode === 'string' ? args.mode : 'rw' }, context);
      return reply.code(202).send();
    }
    case 'os-detach':
      await service.detachVolume(id, typeof args.attachment_id === 'string' ? args.attachment_id : null, context);
      return reply.code(202).send();
    case 'os-initialize_connection':
      return reply.code(200).send({ connection_info: service.initializeConnection(id, args.connector, context) });
    case 'os-terminate_connection':
      // Nothing to tear down on a simulated target; the volume must still be visible.
      service.get(id, context.isAdmin ? null : (context.projectId ?? ''));
      return reply.code(202).send();
    case 'os-set_bootable':
      service.setBootable(id, args.bootable, context);
      return reply.code(200).send();
    case 'os-update_readonly_flag':
      service.updateReadonlyFlag(id, args.readonly, context);
      return reply.code(202).send();
    case 'os-retype':
      service.retype(id, args.new_type, context);
      return reply.code(202).send();
    case 'os-reset_status':
      service.resetStatus(id, { status: args.status, attachStatus: args.attach_status }, context);
      return reply.code(202).send();
    case 'os-force_delete':
      service.deleteVolume(id, context, { force: true });
      return reply.code(202).send();
    default:
      throw badRequest(`There is no such action: ${action}`);
  }
}
