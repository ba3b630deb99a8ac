import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CumulusError } from '../../core/index.ts';
import { keystoneErrorBody } from '../errors.ts';
import type { KeystoneService } from '../keystone/service.ts';
import type { RequestContext } from '../notifier.ts';
import { contextFromRequest } from '../request-context.ts';
import { parseIp } from './cidr.ts';
import type { View } from './core.ts';
import { extensionNotFound, neutronErrorBody, NeutronApiError, resourceNotFound, webobType } from './errors.ts';
import { NEUTRON_EXTENSIONS } from './extensions.ts';
import { applyListQuery, parseListQuery, selectFields, type CollectionSpec } from './list-query.ts';
import type { NeutronService } from './service.ts';

const STANDARD = ['id', 'tenant_id', 'project_id', 'description', 'created_at', 'updated_at', 'revision_number'];
const spec = (...keys: string[]): CollectionSpec => ({ filterable: new Set([...STANDARD, ...keys]) });

/** Attributes each collection filters and sorts on (the attributes Neutron lets a filter name). */
const NETWORKS = spec(
  'name',
  'admin_state_up',
  'mtu',
  'status',
  'subnets',
  'shared',
  'port_security_enabled',
  'router:external',
  'is_default',
  'availability_zone_hints',
  'qos_policy_id',
  'provider:network_type',
  'provider:physical_network',
  'provider:segmentation_id',
);
const SUBNETS = spec('name', 'network_id', 'ip_version', 'cidr', 'gateway_ip', 'enable_dhcp', 'ipv6_ra_mode', 'ipv6_address_mode', 'subnetpool_id', 'segment_id', 'dns_nameservers', 'router:external');
const ROUTERS = spec('name', 'admin_state_up', 'status', 'distributed', 'ha', 'flavor_id');
const FLOATING_IPS = spec('floating_ip_address', 'floating_network_id', 'router_id', 'port_id', 'fixed_ip_address', 'status', 'qos_policy_id');
const SECURITY_GROUPS = spec('name', 'stateful', 'shared');
const SECURITY_GROUP_RULES = spec('security_group_id', 'direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max', 'remote_ip_prefix', 'remote_group_id', 'remote_address_group_id', 'normalized_cidr', 'belongs_to_default_sg');
const PORTS: CollectionSpec = {
  ...spec('name', 'network_id', 'mac_address', 'admin_state_up', 'status', 'device_id', 'device_owner', 'security_groups', 'port_security_enabled', 'binding:host_id', 'binding:vnic_type', 'ip_allocation'),
  special: {
    // fixed_ips=ip_address=10.0.0.5, fixed_ips=subnet_id=<id>, fixed_ips=ip_address_substr=10.0: every key given must match one address.
    fixed_ips: (view, wanted) => {
      const addresses = (view.fixed_ips ?? []) as Array<{ subnet_id: string; ip_address: string }>;
      const wants = new Map<string, string[]>();
      for (const item of wanted) {
        const [key, ...rest] = item.split('=');
        wants.set(key ?? '', [...(wants.get(key ?? '') ?? []), rest.join('=')]);
      }
      return [...wants].every(([key, values]) =>
        addresses.some((a) => {
          if (key === 'ip_address') return values.some((v) => parseIp(v) !== null && a.ip_address === v);
          if (key === 'subnet_id') return values.includes(a.subnet_id);
          if (key === 'ip_address_substr') return values.some((v) => a.ip_address.includes(v));
          return false;
        }),
      );
    },
  },
};

type IdParams = { id: string };

/**
 * Neutron v2.0 under /network: the versions document, then /v2.0 with networks, subnets,
 * ports, routers (and their interface actions), floating IPs, security groups and rules,
 * tags and extensions. Errors render as Neutron's `{"NeutronError": {...}}`, except a
 * missing or bad token, which keystonemiddleware answers in Keystone's shape.
 */
export function registerNeutronRoutes(app: FastifyInstance, neutron: NeutronService, keystone: KeystoneService, settings: { publicUrl: string }): void {
  const base = `${settings.publicUrl.replace(/\/+$/, '')}/network`;

  app.register(
    async (network) => {
      network.setErrorHandler((err, request, reply) => {
        if (err instanceof NeutronApiError) return reply.code(err.httpStatus).send(neutronErrorBody(err.neutronType, err.message));
        const status = err instanceof CumulusError ? err.httpStatus : ((err as { statusCode?: number }).statusCode ?? 500);
        if (status === 401) return reply.code(401).header('www-authenticate', `Keystone uri="${settings.publicUrl.replace(/\/+$/, '')}/identity"`).send(keystoneErrorBody(401, (err as Error).message));
        if (status >= 500) {
          request.log.error({ err }, 'neutron: request failed');
          return reply.code(500).send(neutronErrorBody('HTTPInternalServerError', 'Request Failed: internal server error while processing your request.'));
        }
        return reply.code(status).send(neutronErrorBody(webobType(status), (err as Error).message));
      });
      network.setNotFoundHandler((_request, reply) => reply.code(404).send(neutronErrorBody('HTTPNotFound', resourceNotFound().message)));
      network.addHook('onRequest', async (request, reply) => {
        reply.header('x-openstack-request-id', String(request.id));
      });

      const versions = () => ({ versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ href: `${base}/v2.0/`, rel: 'self' }] }] });
      network.get('/', async () => versions());

      network.register(
        async (v2) => {
          v2.addHook('preHandler', async (request) => {
            request.cloudContext = contextFromRequest(keystone, request);
          });
          const ctx = (request: FastifyRequest): RequestContext => request.cloudContext as RequestContext;
          const params = (request: FastifyRequest) => request.params as IdParams;

          /** A list answer: filtered, sorted, paged (with a next link, as Neutron's pagination), fields selected. */
          const list = (collection: string, path: string, views: View[], request: FastifyRequest, collectionSpec: CollectionSpec) => {
            const query = parseListQuery(request.query);
            const { page, more } = applyListQuery(views, query, collectionSpec);
            const answer: Record<string, unknown> = { [collection]: page.map((view) => selectFields(view, query.fields)) };
            const last = page[page.length - 1];
            if (more && last) {
              const next = new URLSearchParams();
              for (const [key, value] of Object.entries((request.query ?? {}) as Record<string, unknown>)) {
                if (key === 'marker') continue;
                for (const item of Array.isArray(value) ? value : [value]) next.append(key, String(item));
              }
              next.append('marker', String(last.id));
              answer[`${collection}_links`] = [{ rel: 'next', href: `${base}/v2.0/${path}?${next.toString()}` }];
            }
            return answer;
          };
          const show = (resource: string, view: View, request: FastifyRequest) => ({ [resource]: selectFields(view, parseListQuery(request.query).fields) });
          const created = (reply: FastifyReply, resource: string, view: View) => reply.code(201).send({ [resource]: view });
          const deleted = (reply: FastifyReply) => reply.code(204).send();

          const resources = [
            ['network', 'networks'],
            ['subnet', 'subnets'],
            ['port', 'ports'],
            ['router', 'routers'],
            ['floatingip', 'floatingips'],
            ['security_group', 'security-groups'],
            ['security_group_rule', 'security-group-rules'],
          ] as const;
          v2.get('/', async () => ({
            resources: resources.map(([name, path]) => ({ name, collection: path.replace(/-/g, '_'), links: [{ href: `${base}/v2.0/${path}`, rel: 'self' }] })),
          }));

          v2.get('/extensions', async () => ({ extensions: NEUTRON_EXTENSIONS }));
          v2.get('/extensions/:id', async (request) => {
            const found = NEUTRON_EXTENSIONS.find((e) => e.alias === params(request).id);
            if (!found) throw extensionNotFound(params(request).id);
            return { extension: found };
          });

          // Networks
          v2.get('/networks', async (request) => list('networks', 'networks', neutron.core.listNetworks(ctx(request)), request, NETWORKS));
          v2.get('/networks/:id', async (request) => show('network', neutron.core.showNetwork(params(request).id, ctx(request)), request));
          v2.post('/networks', async (request, reply) => created(reply, 'network', await neutron.core.createNetwork(request.body, ctx(request))));
          v2.put('/networks/:id', async (request) => ({ network: await neutron.core.updateNetwork(params(request).id, request.body, ctx(request)) }));
          v2.delete('/networks/:id', async (request, reply) => {
            await neutron.core.deleteNetwork(params(request).id, ctx(request));
            return deleted(reply);
          });

          // Subnets
          v2.get('/subnets', async (request) => list('subnets', 'subnets', neutron.core.listSubnets(ctx(request)), request, SUBNETS));
          v2.get('/subnets/:id', async (request) => show('subnet', neutron.core.showSubnet(params(request).id, ctx(request)), request));
          v2.post('/subnets', async (request, reply) => created(reply, 'subnet', await neutron.core.createSubnet(request.body, ctx(request))));
          v2.put('/subnets/:id', async (request) => ({ subnet: await neutron.core.updateSubnet(params(request).id, request.body, ctx(request)) }));
          v2.delete('/subnets/:id', async (request, reply) => {
            await neutron.core.deleteSubnet(params(request).id, ctx(request));
            return deleted(reply);
          });

          // Ports
          v2.get('/ports', async (request) => list('ports', 'ports', neutron.core.listPorts(ctx(request)), request, PORTS));
          v2.get('/ports/:id', async (request) => show('port', neutron.core.showPort(params(request).id, ctx(request)), request));
          v2.post('/ports', async (request, reply) => created(reply, 'port', await neutron.core.createPort(request.body, ctx(request))));
          v2.put('/ports/:id', async (request) => ({ port: await neutron.core.updatePort(params(request).id, request.body, ctx(request)) }));
          v2.delete('/ports/:id', async (request, reply) => {
            await neutron.core.deletePort(params(request).id, ctx(request));
            return deleted(reply);
          });

          // Routers
          v2.get('/routers', async (request) => list('routers', 'routers', neutron.l3.listRouters(ctx(request)), request, ROUTERS));
          v2.get('/routers/:id', async (request) => show('router', neutron.l3.showRouter(params(request).id, ctx(request)), request));
          v2.post('/routers', async (request, reply) => created(reply, 'router', await neutron.l3.createRouter(request.body, ctx(request))));
          v2.put('/routers/:id', async (request) => ({ router: await neutron.l3.updateRouter(params(request).id, request.body, ctx(request)) }));
          v2.delete('/routers/:id', async (request, reply) => {
            await neutron.l3.deleteRouter(params(request).id, ctx(request));
            return deleted(reply);
          });
          v2.put('/routers/:id/add_router_interface', async (request) => neutron.l3.addRouterInterface(params(request).id, request.body, ctx(request)));
          v2.put('/routers/:id/remove_router_interface', async (request) => neutron.l3.removeRouterInterface(params(request).id, request.body, ctx(request)));

          // Floating IPs
          v2.get('/floatingips', async (request) => list('floatingips', 'floatingips', neutron.l3.listFloatingIps(ctx(request)), request, FLOATING_IPS));
          v2.get('/floatingips/:id', async (request) => show('floatingip', neutron.l3.showFloatingIp(params(request).id, ctx(request)), request));
          v2.post('/floatingips', async (request, reply) => created(reply, 'floatingip', await neutron.l3.createFloatingIp(request.body, ctx(request))));
          v2.put('/floatingips/:id', async (request) => ({ floatingip: await neutron.l3.updateFloatingIp(params(request).id, request.body, ctx(request)) }));
          v2.delete('/floatingips/:id', async (request, reply) => {
            await neutron.l3.deleteFloatingIp(params(request).id, ctx(request));
            return deleted(reply);
          });

          // Security groups and rules
          v2.get('/security-groups', async (request) => {
            const query = parseListQuery(request.query);
            const projects = [...(query.filters.get('project_id') ?? []), ...(query.filters.get('tenant_id') ?? [])];
            return list('security_groups', 'security-groups', neutron.securityGroups.listGroups(ctx(request), projects), request, SECURITY_GROUPS);
          });
          v2.get('/security-groups/:id', async (request) => show('security_group', neutron.securityGroups.showGroup(params(request).id, ctx(request)), request));
          v2.post('/security-groups', async (request, reply) => created(reply, 'security_group', await neutron.securityGroups.createGroup(request.body, ctx(request))));
          v2.put('/security-groups/:id', async (request) => ({ security_group: await neutron.securityGroups.updateGroup(params(request).id, request.body, ctx(request)) }));
          v2.delete('/security-groups/:id', async (request, reply) => {
            await neutron.securityGroups.deleteGroup(params(request).id, ctx(request));
            return deleted(reply);
          });
          v2.get('/security-group-rules', async (request) => list('security_group_rules', 'security-group-rules', neutron.securityGroups.listRules(ctx(request)), request, SECURITY_GROUP_RULES));
          v2.get('/security-group-rules/:id', async (request) => show('security_group_rule', neutron.securityGroups.showRule(params(request).id, ctx(request)), request));
          v2.post('/security-group-rules', async (request, reply) => created(reply, 'security_group_rule', await neutron.securityGroups.createRule(request.body, ctx(request))));
          v2.delete('/security-group-rules/:id', async (request, reply) => {
            await neutron.securityGroups.deleteRule(params(request).id, ctx(request));
            return deleted(reply);
          });

          // Tags, on every collection that has them (standard-attr-tag).
          type TagParams = { collection: string; id: string; tag: string };
          const tagParams = (request: FastifyRequest) => request.params as TagParams;
          v2.get('/:collection/:id/tags', async (request) => ({ tags: neutron.getTags(tagParams(request).collection, tagParams(request).id, ctx(request)) }));
          v2.get('/:collection/:id/tags/:tag', async (request, reply) => {
            const { collection, id, tag } = tagParams(request);
            if (!neutron.hasTag(collection, id, tag, ctx(request))) throw resourceNotFound();
            return reply.code(204).send();
          });
          v2.put('/:collection/:id/tags', async (request) => ({ tags: await neutron.replaceTags(tagParams(request).collection, tagParams(request).id, request.body, ctx(request)) }));
          v2.put('/:collection/:id/tags/:tag', async (request, reply) => {
            const { collection, id, tag } = tagParams(request);
            await neutron.addTag(collection, id, tag, ctx(request));
            return reply.code(201).send();
          });
          v2.delete('/:collection/:id/tags', async (request, reply) => {
            await neutron.removeAllTags(tagParams(request).collection, tagParams(request).id, ctx(request));
            return deleted(reply);
          });
          v2.delete('/:collection/:id/tags/:tag', async (request, reply) => {
            const { collection, id, tag } = tagParams(request);
            await neutron.removeTag(collection, id, tag, ctx(request));
            return deleted(reply);
          });
        },
        { prefix: '/v2.0' },
      );
    },
    { prefix: '/network' },
  );
}
