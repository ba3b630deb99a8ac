import { CumulusError, type Clock, type Logger, type StateDatabase } from '../../core/index.ts';
import type { KeystoneService } from '../keystone/service.ts';
import type { Notifier, RequestContext } from '../notifier.ts';
import { newRequestId } from '../request-context.ts';
import { canSeeNetwork, owns } from './access.ts';
import type { NeutronConfig } from './config.ts';
import { CoreApi } from './core.ts';
import { httpBadRequest, networkAmbiguous, networkNotFound, policyNotAuthorized, resourceNotFound } from './errors.ts';
import { NeutronEvents } from './events.ts';
import { isObject } from './input.ts';
import { L3Api } from './l3.ts';
import { DEVICE_OWNER, type FloatingIpRecord, type NetworkRecord, type PortRecord } from './records.ts';
import { SecurityGroupApi } from './security-groups.ts';
import { NeutronStore, type FixedIpRequest, type StandardTable } from './store.ts';
import { portView } from './views.ts';

/** Neutron's limits on tags (neutron/extensions/tagging.py). */
export const MAX_TAG_LENGTH = 255;
export const MAX_TAGS_PER_RESOURCE = 50;

/** Collections that take tags: URL path segment -> table and the name tag notifications use. */
const TAGGABLE: Record<string, { table: StandardTable; objResource: string }> = {
  networks: { table: 'neutron_networks', objResource: 'networks' },
  subnets: { table: 'neutron_subnets', objResource: 'subnets' },
  ports: { table: 'neutron_ports', objResource: 'ports' },
  routers: { table: 'neutron_routers', objResource: 'routers' },
  floatingips: { table: 'neutron_floating_ips', objResource: 'floatingips' },
  'security-groups': { table: 'neutron_security_groups', objResource: 'security_groups' },
};

/** What Nova asks for when it plugs a server into a network. */
export interface ComputePortRequest {
  networkId: string;
  projectId: string;
  deviceId: string;
  deviceOwner?: string;
  /** binding:host_id, the compute host the server landed on. */
  hostId?: string;
  securityGroups?: string[];
  fixedIps?: FixedIpRequest[];
  /** The request Nova acts for; by default the project itself (no user, not admin). */
  context?: RequestContext;
}

/**
 * Neutron: the core API (networks, subnets, ports), the L3 plugin (routers, floating IPs)
 * and security groups over one store, plus what Nova and the composition need.
 */
export class NeutronService {
  readonly core: CoreApi;
  readonly l3: L3Api;
  readonly securityGroups: SecurityGroupApi;
  private readonly store: NeutronStore;
  private readonly events: NeutronEvents;

  constructor(
    db: StateDatabase,
    notifier: Notifier,
    clock: Clock,
    private readonly keystone: KeystoneService,
    private readonly config: NeutronConfig,
    private readonly logger: Logger,
  ) {
    this.store = new NeutronStore(db, clock);
    this.events = new NeutronEvents(notifier, config.host);
    this.core = new CoreApi(this.store, this.events, config);
    this.l3 = new L3Api(this.store, this.events, this.core);
    this.securityGroups = new SecurityGroupApi(this.store, this.events);
  }

  // --- for Nova ------------------------------------------------------------------------

  /** A request context for work done on a project's behalf without a user's token. */
  private projectContext(projectId: string | null, admin = false): RequestContext {
    return { requestId: newRequestId(), userId: null, userName: null, projectId, projectName: null, domainId: null, roles: admin ? ['admin'] : ['member'], isAdmin: admin, remoteAddress: null };
  }

  /**
   * The network `--network NAME|ID` means for a project (null: any project): by id first,
   * then by name among the networks the project may use. 404 when none, 409 when the
   * name is ambiguous.
   */
  findNetwork(idOrName: string, projectId: string | null): NetworkRecord {
    const context = this.projectContext(projectId, projectId === null);
    const visible = this.store.networks().filter((n) => canSeeNetwork(context, n));
    const byId = visible.find((n) => n.id === idOrName);
    if (byId) return byId;
    const byName = visible.filter((n) => n.name === idOrName);
    if (byName.length > 1) throw networkAmbiguous(idOrName);
    const found = byName[0];
    if (!found) throw networkNotFound(idOrName);
    return found;
  }

  /**
   * The port Nova creates for a server (device_owner compute:nova): fixed IPs from the
   * network's subnets, a MAC, the project's default security group. Emits
   * port.create.start/end as the API call Nova makes would.
   */
  async createPort(request: ComputePortRequest): Promise<PortRecord> {
    const context = request.context ?? this.projectContext(request.projectId);
    const network = this.store.network(request.networkId);
    if (!network || !(context.isAdmin || network.project_id === request.projectId || network.shared)) throw networkNotFound(request.networkId);
    const body = {
      port: {
        network_id: request.networkId,
        project_id: request.projectId,
        device_id: request.deviceId,
        device_owner: request.deviceOwner ?? DEVICE_OWNER.COMPUTE,
        admin_state_up: true,
        ...(request.hostId ? { 'binding:host_id': request.hostId } : {}),
        ...(request.securityGroups ? { security_groups: request.securityGroups } : {}),
        ...(request.fixedIps ? { fixed_ips: request.fixedIps } : {}),
      },
    };
    await this.events.createStart('port', body, context);
    const port = this.store.tx(() =>
      this.core.insertPort({
        networkId: network.id,
        projectId: request.projectId,
        deviceId: request.deviceId,
        deviceOwner: request.deviceOwner ?? DEVICE_OWNER.COMPUTE,
        hostId: request.hostId,
        securityGroups: request.securityGroups ?? null,
        fixedIps: request.fixedIps ?? null,
      }),
    );
    await this.events.createEnd('port', portView(port, context.isAdmin), context);
    return port;
  }

  portsOfDevice(deviceId: string): PortRecord[] {
    return this.store.ports({ deviceId });
  }

  /** Floating IPs associated with the device's ports (Nova shows them in `addresses`). */
  floatingIpsOfDevice(deviceId: string): FloatingIpRecord[] {
    return this.portsOfDevice(deviceId).flatMap((port) => this.store.floatingIps({ portId: port.id }));
  }

  /**
   * Deletes the device's ports (server deletion), emitting port.delete.start/end for each.
   * Floating IPs on them are disassociated and stay allocated. Returns how many went.
   */
  async deletePortsOfDevice(deviceId: string, context?: RequestContext): Promise<number> {
    const ports = this.portsOfDevice(deviceId).filter((p) => !p.device_owner.startsWith('network:'));
    for (const port of ports) {
      const acting = context ?? this.projectContext(port.project_id);
      await this.events.deleteStart('port', port.id, acting);
      this.core.removePort(port.id);
      await this.events.deleteEnd('port', port.id, portView(port, acting.isAdmin), acting);
    }
    return ports.length;
  }

  // --- tags ----------------------------------------------------------------------------

  private taggable(collection: string, id: string, context: RequestContext, write: boolean): { table: StandardTable; objResource: string; tags: string[] } {
    const spec = TAGGABLE[collection];
    if (!spec) throw resourceNotFound();
    const record = (() => {
      switch (collection) {
        case 'networks':
          return this.core.visibleNetwork(id, context);
        case 'subnets':
          return this.core.visibleSubnet(id, context);
        case 'ports':
          return this.core.visiblePort(id, context);
        case 'routers':
          return this.l3.visibleRouter(id, context);
        case 'floatingips':
          return this.l3.visibleFloatingIp(id, context);
        default:
          return this.securityGroups.visibleGroup(id, context);
      }
    })();
    if (write && !owns(context, record.project_id)) throw policyNotAuthorized(`rule:update_${spec.objResource.replace(/s$/, '')}:tags`);
    return { ...spec, tags: record.tags };
  }

  private static checkTags(tags: readonly string[]): void {
    for (const tag of tags) {
      if (tag.length === 0 || tag.length > MAX_TAG_LENGTH) throw httpBadRequest(`Invalid input for operation: '${tag}' exceeds maximum length of ${MAX_TAG_LENGTH}.`);
    }
    if (tags.length > MAX_TAGS_PER_RESOURCE) throw httpBadRequest(`Invalid input for operation: The number of tags exceed the per-resource limit: ${MAX_TAGS_PER_RESOURCE}.`);
  }

  getTags(collection: string, id: string, context: RequestContext): string[] {
    return this.taggable(collection, id, context, false).tags;
  }

  hasTag(collection: string, id: string, tag: string, context: RequestContext): boolean {
    return this.taggable(collection, id, context, false).tags.includes(tag);
  }

  /** PUT .../tags: replaces all tags (tag.update.start/end). */
  async replaceTags(collection: string, id: string, body: unknown, context: RequestContext): Promise<string[]> {
    if (!isObject(body) || !Array.isArray(body.tags) || body.tags.some((t) => typeof t !== 'string')) throw httpBadRequest('Invalid input for operation: Invalid tags body.');
    const tags = [...new Set(body.tags as string[])];
    NeutronService.checkTags(tags);
    const target = this.taggable(collection, id, context, true);
    const payload = { obj_resource: target.objResource, obj_resource_id: id, tags };
    await this.events.emit('tag.update.start', payload, context);
    this.store.update(target.table, id, { tags });
    await this.events.emit('tag.update.end', payload, context);
    return tags;
  }

  /** PUT .../tags/{tag}: adds one (tag.create.start/end). */
  async addTag(collection: string, id: string, tag: string, context: RequestContext): Promise<void> {
    NeutronService.checkTags([tag]);
    const target = this.taggable(collection, id, context, true);
    if (target.tags.includes(tag)) return;
    NeutronService.checkTags([...target.tags, tag]);
    const payload = { obj_resource: target.objResource, obj_resource_id: id, tags: [tag] };
    await this.events.emit('tag.create.start', payload, context);
    this.store.update(target.table, id, { tags: [...target.tags, tag] });
    await this.events.emit('tag.create.end', payload, context);
  }

  /** DELETE .../tags/{tag} (tag.delete.start/end); 404 when the tag is not there. */
  async removeTag(collection: string, id: string, tag: string, context: RequestContext): Promise<void> {
    const target = this.taggable(collection, id, context, true);
    if (!target.tags.includes(tag)) throw resourceNotFound();
    const payload = { obj_resource: target.objResource, obj_resource_id: id, tags: [tag] };
    await this.events.emit('tag.delete.start', payload, context);
    this.store.update(target.table, id, { tags: target.tags.filter((t) => t !== tag) });
    await this.events.emit('tag.delete.end', payload, context);
  }

  /** DELETE .../tags (tag.delete_all.start/end). */
  async removeAllTags(collection: string, id: string, context: RequestContext): Promise<void> {
    const target = this.taggable(collection, id, context, true);
    const payload = { obj_resource: target.objResource, obj_resource_id: id };
    await this.events.emit('tag.delete_all.start', payload, context);
    this.store.update(target.table, id, { tags: [] });
    await this.events.emit('tag.delete_all.end', payload, context);
  }

  // --- bootstrap -----------------------------------------------------------------------

  /**
   * The devstack layout, owned by the admin project: external network `public` (flat,
   * router:external) with its subnet, and, unless configured off, a shared `private`
   * network with a subnet and router `router1` joining it to `public`. Idempotent: each
   * piece is created only when missing, through the same calls (and notifications) an
   * operator's CLI would make. Needs Keystone's bootstrap to have run (the admin project).
   */
  async bootstrap(): Promise<void> {
    const adminProject = this.keystone.listProjects().find((p) => p.name === 'admin' && p.domain_id === 'default');
    if (!adminProject) throw new CumulusError('CUMULUS_NEUTRON_BOOTSTRAP_NO_ADMIN_PROJECT', "Neutron's bootstrap needs Keystone's admin project; run the Keystone bootstrap first.", { httpStatus: 500 });
    const context = this.projectContext(adminProject.id, true);
    const ownNetwork = (name: string) => this.store.networks().find((n) => n.name === name && n.project_id === adminProject.id);

    const publicSpec = this.config.publicNetwork;
    const publicId =
      ownNetwork(publicSpec.name)?.id ??
      String(
        (
          await this.core.createNetwork(
            {
              network: {
                name: publicSpec.name,
                'router:external': true,
                shared: false,
                is_default: true,
                'provider:network_type': 'flat',
                'provider:physical_network': publicSpec.physicalNetwork,
              },
            },
            context,
          )
        ).id,
      );
    if (this.store.subnets(publicId).length === 0) {
      await this.core.createSubnet({ subnet: { name: publicSpec.subnetName, network_id: publicId, cidr: publicSpec.cidr, ip_version: 4, gateway_ip: publicSpec.gatewayIp, enable_dhcp: false } }, context);
    }

    const privateSpec = this.config.privateNetwork;
    if (!privateSpec) return;
    const privateId = ownNetwork(privateSpec.name)?.id ?? String((await this.core.createNetwork({ network: { name: privateSpec.name, shared: true } }, context)).id);
    const privateSubnet =
      this.store.subnets(privateId)[0]?.id ??
      String((await this.core.createSubnet({ subnet: { name: privateSpec.subnetName, network_id: privateId, cidr: privateSpec.cidr, ip_version: 4 } }, context)).id);
    const routerId =
      this.store.routers().find((r) => r.name === privateSpec.routerName && r.project_id === adminProject.id)?.id ??
      String((await this.l3.createRouter({ router: { name: privateSpec.routerName, external_gateway_info: { network_id: publicId } } }, context)).id);
    if (!this.l3.interfacePorts(routerId).some((p) => p.fixed_ips.some((ip) => ip.subnet_id === privateSubnet))) {
      await this.l3.addRouterInterface(routerId, { subnet_id: privateSubnet }, context);
    }
    this.logger.info({ public: publicId, private: privateId, router: routerId }, 'neutron: bootstrap networks in place');
  }

}
