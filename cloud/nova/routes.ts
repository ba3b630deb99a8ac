import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { CumulusError } from '../../core/index.ts';
import { badRequest, forbidden, novaErrorBody } from '../errors.ts';
import type { KeystoneService } from '../keystone/service.ts';
import { contextFromRequest } from '../request-context.ts';
import { registerNovaExtensionRoutes } from './extension-routes.ts';
import { MAX_MICROVERSION, MIN_MICROVERSION, atLeast, negotiate, type Microversion } from './microversion.ts';
import { serverStatus, type Flavor, type NovaService, type Server } from './service.ts';

/** Nova's `networks`: "auto", "none", or a list of `{uuid}` / `{port}` (ports are not modelled: refused). */
function requestedNetworks(value: unknown): string[] | 'auto' | 'none' | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === 'auto' || value === 'none') return value;
  if (!Array.isArray(value)) throw badRequest(`Invalid input for field/attribute networks. Value: ${JSON.stringify(value)}. It must be "auto", "none" or a list of {"uuid": ...}`);
  return value.map((entry: unknown) => {
    const uuid = (entry as { uuid?: unknown } | null)?.uuid;
    if (typeof uuid !== 'string' || uuid === '') throw badRequest(`Invalid input for field/attribute networks: each entry needs a network "uuid"; got ${JSON.stringify(entry)}`);
    return uuid;
  });
}

const isoSeconds = (iso: string | null) => (iso ? `${iso.slice(0, 19)}Z` : null);

/** Nova v2.1 under /compute: versions, flavors, servers. */
export function registerNovaRoutes(app: FastifyInstance, nova: NovaService, keystone: KeystoneService, settings: { publicUrl: string }): void {
  const base = `${settings.publicUrl.replace(/\/+$/, '')}/compute`;
  const link = (kind: string, id: string) => [
    { rel: 'self', href: `${base}/v2.1/${kind}/${id}` },
    { rel: 'bookmark', href: `${base}/${kind}/${id}` },
  ];

  const flavorView = (f: Flavor, v: Microversion) => ({
    id: f.id,
    name: f.name,
    ram: f.ram_mb,
    disk: f.disk_gb,
    vcpus: f.vcpus,
    'OS-FLV-EXT-DATA:ephemeral': f.ephemeral_gb,
    'OS-FLV-DISABLED:disabled': false,
    swap: f.swap_mb === 0 ? (atLeast(v, 75) ? 0 : '') : f.swap_mb,
    rxtx_factor: f.rxtx_factor,
    'os-flavor-access:is_public': f.is_public,
    links: link('flavors', f.id),
    ...(atLeast(v, 55) ? { description: f.description } : {}),
    ...(atLeast(v, 61) ? { extra_specs: f.extra_specs } : {}),
  });

  const serverView = (s: Server, v: Microversion) => {
    const flavor = nova.flavorOf(s);
    return {
      id: s.id,
      name: s.name,
      status: serverStatus(s),
      tenant_id: s.project_id,
      user_id: s.user_id,
      metadata: s.metadata,
      hostId: s.host ? Buffer.from(`${s.project_id}${s.host}`).toString('hex').slice(0, 56) : '',
      image: s.image_ref ? { id: s.image_ref, links: [{ rel: 'bookmark', href: `${base}/images/${s.image_ref}` }] } : '',
      flavor: atLeast(v, 47)
        ? { vcpus: flavor.vcpus, ram: flavor.ram_mb, disk: flavor.disk_gb, ephemeral: flavor.ephemeral_gb, swap: flavor.swap_mb, original_name: flavor.name, extra_specs: flavor.extra_specs }
        : { id: flavor.id, links: [{ rel: 'bookmark', href: `${base}/flavors/${flavor.id}` }] },
      created: isoSeconds(s.created_at),
      updated: isoSeconds(s.updated_at),
      addresses: Object.fromEntries(
        Object.entries(nova.addressesOf(s.id)).map(([network, list]) => [network, list.map((a) => ({ version: a.version, addr: a.addr, 'OS-EXT-IPS:type': a.type, 'OS-EXT-IPS-MAC:mac_addr': a.mac }))]),
      ),
      accessIPv4: '',
      accessIPv6: '',
      links: link('servers', s.id),
      'OS-DCF:diskConfig': 'MANUAL',
      progress: serverStatus(s) === 'ACTIVE' ? 100 : 0,
      'OS-EXT-AZ:availability_zone': s.availability_zone ?? '',
      config_drive: '',
      key_name: s.key_name,
      'OS-SRV-USG:launched_at': s.launched_at ? s.launched_at.replace('Z', '') : null,
      'OS-SRV-USG:terminated_at': s.terminated_at ? s.terminated_at.replace('Z', '') : null,
      'OS-EXT-SRV-ATTR:host': s.host,
      'OS-EXT-SRV-ATTR:instance_name': `instance-${s.id.slice(0, 8)}`,
      'OS-EXT-SRV-ATTR:hypervisor_hostname': s.host,
      'OS-EXT-STS:task_state': s.task_state,
      'OS-EXT-STS:vm_state': s.vm_state,
      'OS-EXT-STS:power_state': s.power_state,
      'os-extended-volumes:volumes_attached': nova.volumeAttachments(s.id).map((a) => ({ id: a.volumeId, ...(atLeast(v, 3) ? { delete_on_termination: false } : {}) })),
      security_groups: [{ name: 'default' }],
      ...(s.fault ? { fault: s.fault } : {}),
    };
  };

  app.register(
    async (compute) => {
      compute.setErrorHandler((err, _request, reply) => {
        const status = err instanceof CumulusError ? err.httpStatus : ((err as { statusCode?: number }).statusCode ?? 500);
        const message = status >= 500 ? 'Unexpected API Error. Please report this at the operator.' : (err as Error).message;
        return reply.code(status).send(novaErrorBody(status, message));
      });
      compute.addHook('onRequest', async (request, reply) => {
        reply.header('x-openstack-request-id', String(request.id));
        reply.header('x-compute-request-id', String(request.id));
      });
      const versionDoc = () => ({
        id: 'v2.1',
        status: 'CURRENT',
        version: MAX_MICROVERSION,
        min_version: MIN_MICROVERSION,
        updated: '2013-07-23T11:33:21Z',
        links: [{ rel: 'self', href: `${base}/v2.1/` }],
        'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
      });
      compute.get('/', async () => ({ versions: [versionDoc()] }));
      compute.get('/v2.1', async () => ({ version: versionDoc() }));
      compute.get('/v2.1/', async () => ({ version: versionDoc() }));

      compute.register(
        async (v21) => {
          v21.addHook('preHandler', async (request, reply) => {
            request.cloudContext = contextFromRequest(keystone, request);
            (request as unknown as { microversion: Microversion }).microversion = negotiate(request, reply);
          });
          const mv = (request: unknown) => (request as { microversion: Microversion }).microversion;
          const ctx = (request: { cloudContext?: ReturnType<typeof contextFromRequest> }) => request.cloudContext as ReturnType<typeof contextFromRequest>;

          v21.get('/flavors', async (request) => ({ flavors: nova.listFlavors().map((f) => ({ id: f.id, name: f.name, links: link('flavors', f.id), ...(atLeast(mv(request), 55) ? { description: f.description } : {}) })) }));
          v21.get('/flavors/detail', async (request) => ({ flavors: nova.listFlavors().map((f) => flavorView(f, mv(request))) }));
          v21.get('/flavors/:id', async (request) => ({ flavor: flavorView(nova.getFlavor((request.params as { id: string }).id), mv(request)) }));
          v21.post('/flavors', async (request) => {
            if (!ctx(request).isAdmin) throw forbidden('Policy doesn\'t allow os_compute_api:os-flavor-manage:create to be performed.');
            const input = (request.body as { flavor?: Record<string, unknown> } | undefined)?.flavor;
            if (!input || typeof input.name !== 'string') throw badRequest("Invalid input for field/attribute flavor. Value: None. 'name' is a required property");
            for (const field of ['vcpus', 'ram', 'disk'] as const) {
              const value = Number(input[field]);
              if (!Number.isInteger(value) || value < (field === 'disk' ? 0 : 1)) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${String(input[field])}. It must be a whole number${field === 'disk' ? ' >= 0' : ' >= 1'}.`);
            }
            const flavor = nova.createFlavor({
              id: typeof input.id === 'string' ? input.id : null,
              name: input.name,
              vcpus: Number(input.vcpus),
              ram: Number(input.ram),
              disk: Number(input.disk),
              ephemeral: Number(input['OS-FLV-EXT-DATA:ephemeral'] ?? 0),
              swap: Number(input.swap ?? 0) || 0,
              rxtx_factor: Number(input.rxtx_factor ?? 1),
              is_public: input['os-flavor-access:is_public'] !== false,
              description: typeof input.description === 'string' ? input.description : null,
            });
            return { flavor: flavorView(flavor, mv(request)) };
          });
          v21.delete('/flavors/:id', async (request, reply) => {
            if (!ctx(request).isAdmin) throw forbidden('Policy doesn\'t allow os_compute_api:os-flavor-manage:delete to be performed.');
            nova.deleteFlavor((request.params as { id: string }).id);
            return reply.code(202).send();
          });

          const scopeOf = (request: { query: unknown; cloudContext?: ReturnType<typeof contextFromRequest> }) => {
            const context = ctx(request);
            const query = request.query as Record<string, string>;
            const allTenants = query.all_tenants !== undefined && query.all_tenants !== '0' && query.all_tenants !== 'false';
            if (allTenants && !context.isAdmin) throw forbidden('Policy doesn\'t allow os_compute_api:servers:index:get_all_tenants to be performed.');
            return allTenants ? (query.project_id ?? query.tenant_id ?? null) : context.projectId;
          };
          v21.get('/servers', async (request) => {
            const servers = nova.listServers({ projectId: scopeOf(request), name: (request.query as Record<string, string>).name });
            return { servers: servers.map((s) => ({ id: s.id, name: s.name, links: link('servers', s.id) })) };
          });
          v21.get('/servers/detail', async (request) => {
            const servers = nova.listServers({ projectId: scopeOf(request), name: (request.query as Record<string, string>).name });
            return { servers: servers.map((s) => serverView(s, mv(request))) };
          });
          v21.get('/servers/:id', async (request) => {
            const context = ctx(request);
            return { server: serverView(nova.getServer((request.params as { id: string }).id, context.isAdmin ? null : context.projectId), mv(request)) };
          });
          v21.post('/servers', async (request, reply) => {
            const input = (request.body as { server?: Record<string, unknown> } | undefined)?.server;
            if (!input) throw badRequest("Invalid input for field/attribute server. Value: None. 'server' is a required property");
            if (typeof input.name !== 'string') throw badRequest("Invalid input for field/attribute server. 'name' is a required property");
            if (typeof input.flavorRef !== 'string' && typeof input.flavorRef !== 'number') throw badRequest("Invalid input for field/attribute server. 'flavorRef' is a required property");
            const server = await nova.createServer(
              {
                name: input.name,
                flavorRef: String(input.flavorRef),
                imageRef: typeof input.imageRef === 'string' ? input.imageRef : '',
                availabilityZone: typeof input.availability_zone === 'string' ? input.availability_zone : null,
                metadata: (input.metadata as Record<string, string> | undefined) ?? {},
                networks: requestedNetworks(input.networks),
                keyName: typeof input.key_name === 'string' ? input.key_name : null,
              },
              ctx(request),
            );
            return reply.code(202).send({ server: { id: server.id, links: link('servers', server.id), 'OS-DCF:diskConfig': 'MANUAL', security_groups: [{ name: 'default' }], adminPass: randomBytes(9).toString('base64url') } });
          });
          v21.delete('/servers/:id', async (request, reply) => {
            await nova.deleteServer((request.params as { id: string }).id, ctx(request));
            return reply.code(204).send();
          });
          registerNovaExtensionRoutes(v21, { nova, ctx: (request) => ctx(request), mv: (request) => mv(request), nowMs: () => nova.nowMs(), base });
        },
        { prefix: '/v2.1' },
      );
    },
    { prefix: '/compute' },
  );
}
