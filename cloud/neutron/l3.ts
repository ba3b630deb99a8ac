import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../notifier.ts';
import { canSeeNetwork, ownerFor, owns } from './access.ts';
import { cidrContains, cidrsOverlap, normalizeIp, parseCidr, parseIp } from './cidr.ts';
import type { CoreApi, View } from './core.ts';
import {
  badRequest,
  externalGatewayForFloatingIpNotFound,
  floatingIpNotFound,
  floatingIpPortAlreadyAssociated,
  httpBadRequest,
  networkNotFound,
  NeutronApiError,
  policyNotAuthorized,
  portNotFound,
  routerExternalGatewayInUseByFloatingIp,
  routerInterfaceInUseByFloatingIp,
  routerInterfaceNotFound,
  routerInterfaceNotFoundForSubnet,
  routerInUse,
  routerNotFound,
} from './errors.ts';
import type { NeutronEvents } from './events.ts';
import { checkAttributes, isObject, optBoolean, optNullableUuid, optObjectList, optString, optStringList, optUuid, requestedProject, required, resourceBody, type Body } from './input.ts';
import { DEVICE_OWNER, type FloatingIpRecord, type PortRecord, type RouterRecord } from './records.ts';
import type { FixedIpRequest, NeutronStore } from './store.ts';
import { floatingIpView, routerView } from './views.ts';

const set = (...keys: string[]) => new Set(keys);
const STANDARD_READ_ONLY = ['id', 'status', 'created_at', 'updated_at', 'revision_number', 'tags', 'project_id', 'tenant_id'];
const ROUTER_CREATE = set('name', 'admin_state_up', 'description', 'external_gateway_info', 'project_id', 'tenant_id', 'distributed', 'ha', 'availability_zone_hints', 'flavor_id');
const ROUTER_UPDATE = set('name', 'admin_state_up', 'description', 'external_gateway_info', 'routes', 'distributed', 'ha');
const ROUTER_READ_ONLY = set(...STANDARD_READ_ONLY, 'availability_zones', 'availability_zone_hints', 'flavor_id', 'routes');
const FIP_CREATE = set('floating_network_id', 'port_id', 'fixed_ip_address', 'floating_ip_address', 'subnet_id', 'description', 'project_id', 'tenant_id', 'qos_policy_id');
const FIP_UPDATE = set('port_id', 'fixed_ip_address', 'description', 'qos_policy_id');
const FIP_READ_ONLY = set(...STANDARD_READ_ONLY, 'floating_network_id', 'floating_ip_address', 'router_id', 'subnet_id', 'port_details');

/** `external_gateway_info` as asked: undefined leaves it, null clears it. */
interface GatewayRequest {
  networkId: string;
  enableSnat: boolean | undefined;
  fixedIps: FixedIpRequest[] | null;
}

/** The answer to add/remove_router_interface (l3_db _make_router_interface_info). */
export interface RouterInterfaceInfo {
  id: string;
  tenant_id: string;
  project_id: string;
  port_id: string;
  network_id: string;
  subnet_id: string;
  subnet_ids: string[];
}

/** Neutron's L3 service plugin: routers with gateways and interfaces, floating IPs. */
export class L3Api {
  constructor(
    private readonly store: NeutronStore,
    private readonly events: NeutronEvents,
    private readonly core: CoreApi,
  ) {}

  // --- routers -------------------------------------------------------------------------

  visibleRouter(id: string, context: RequestContext): RouterRecord {
    const router = this.store.router(id);
    if (!router || !owns(context, router.project_id)) throw routerNotFound(id);
    return router;
  }

  routerView(router: RouterRecord, context: RequestContext): View {
    return routerView(router, context.isAdmin);
  }

  listRouters(context: RequestContext): View[] {
    return this.store
      .routers()
      .filter((r) => owns(context, r.project_id))
      .map((r) => this.routerView(r, context));
  }

  showRouter(id: string, context: RequestContext): View {
    return this.routerView(this.visibleRouter(id, context), context);
  }

  interfacePorts(routerId: string): PortRecord[] {
    return this.store.ports({ deviceId: routerId, deviceOwner: DEVICE_OWNER.ROUTER_INTERFACE });
  }

  private gatewayRequest(input: Body, context: RequestContext, action: 'create' | 'update'): GatewayRequest | null | undefined {
    const info = input.external_gateway_info;
    if (info === undefined) return undefined;
    if (info === null || (isObject(info) && Object.keys(info).length === 0)) return null;
    if (!isObject(info)) throw httpBadRequest(`Invalid input for external_gateway_info. Reason: '${JSON.stringify(info)}' is not a dictionary.`);
    const networkId = optUuid(info, 'network_id');
    if (networkId === undefined) throw httpBadRequest("Invalid input for external_gateway_info. Reason: Validation of dictionary's keys failed. Expected keys: {'network_id'} Provided keys: {}.");
    const enableSnat = optBoolean(info, 'enable_snat');
    if (enableSnat !== undefined && !context.isAdmin) throw policyNotAuthorized(`rule:${action}_router and rule:${action}_router:external_gateway_info:enable_snat`);
    const fixed = optObjectList(info, 'external_fixed_ips');
    if (fixed !== undefined && !context.isAdmin) throw policyNotAuthorized(`rule:${action}_router and rule:${action}_router:external_gateway_info:external_fixed_ips`);
    const fixedIps = fixed?.map((entry) => {
      const request: FixedIpRequest = {};
      const subnetId = optUuid(entry, 'subnet_id');
      if (subnetId !== undefined) request.subnet_id = subnetId;
      if (entry.ip_address !== undefined) {
        if (!parseIp(entry.ip_address)) throw httpBadRequest(`Invalid input for external_fixed_ips. Reason: '${String(entry.ip_address)}' is not a valid IP address.`);
        request.ip_address = String(entry.ip_address);
      }
      return request;
    });
    return { networkId, enableSnat, fixedIps: fixedIps ?? null };
  }

  /**
   * Applies a gateway change inside the caller's transaction and returns the router
   * columns to write. A gateway serving floating IPs cannot go away.
   */
  private applyGateway(routerId: string, current: RouterRecord | null, request: GatewayRequest | null): { gw_port_id: string | null; enable_snat: boolean } {
    const keepsNetwork = current?.gateway && request && current.gateway.network_id === request.networkId && request.fixedIps === null;
    if (keepsNetwork) return { gw_port_id: current.gw_port_id, enable_snat: request.enableSnat ?? current.enable_snat };
    if (current?.gateway) {
      if (this.store.floatingIps({ routerId }).length > 0) throw routerExternalGatewayInUseByFloatingIp(routerId, current.gateway.network_id);
      // The router row lets go of its gateway port before the port is deleted (foreign key).
      this.store.update('neutron_routers', routerId, { gw_port_id: null });
      this.core.removePort(current.gw_port_id as string);
    }
    if (!request) return { gw_port_id: null, enable_snat: current?.enable_snat ?? true };
    const network = this.store.network(request.networkId);
    if (!network) throw networkNotFound(request.networkId);
    if (!network.router_external) throw badRequest('router', `Network ${request.networkId} is not an external network`);
    for (const ip of request.fixedIps ?? []) {
      const normalized = ip.ip_address === undefined ? null : normalizeIp(ip.ip_address);
      if (normalized && this.store.subnets(network.id).some((s) => s.gateway_ip === normalized)) throw badRequest('router', `External IP ${normalized} is the same as the gateway IP`);
    }
    // The gateway port belongs to no project: it is never shown to the router's owner.
    const port = this.core.insertPort({ networkId: network.id, projectId: '', deviceId: routerId, deviceOwner: DEVICE_OWNER.ROUTER_GATEWAY, fixedIps: request.fixedIps });
    return { gw_port_id: port.id, enable_snat: request.enableSnat ?? true };
  }

  /** Neutron's OVN/L3 routers are neither distributed nor HA here; asking for either is refused. */
  private checkFlavor(input: Body, context: RequestContext, action: 'create' | 'update'): void {
    for (const key of ['distributed', 'ha'] as const) {
      const value = optBoolean(input, key);
      if (value === undefined) continue;
      if (!context.isAdmin) throw policyNotAuthorized(`rule:${action}_router and rule:${action}_router:${key}`);
      if (value) throw badRequest('router', `${key === 'ha' ? 'HA' : 'Distributed'} routers are not supported by this deployment`);
    }
  }

  async createRouter(body: unknown, context: RequestContext): Promise<View> {
    await this.events.createStart('router', body, context);
    const input = resourceBody(body, 'router');
    checkAttributes(input, ROUTER_CREATE, ROUTER_READ_ONLY, 'create');
    const projectId = ownerFor(context, requestedProject(input));
    this.checkFlavor(input, context, 'create');
    if (input.flavor_id !== undefined && input.flavor_id !== null) throw badRequest('router', 'Router flavors are not supported by this deployment');
    const gateway = this.gatewayRequest(input, context, 'create');
    const zones = optStringList(input, 'availability_zone_hints') ?? [];
    const id = randomUUID();
    const now = this.store.now();
    this.store.tx(() => {
      const gw = gateway ? this.applyGateway(id, null, gateway) : { gw_port_id: null, enable_snat: true };
      this.store.insert('neutron_routers', {
        id,
        name: optString(input, 'name') ?? '',
        project_id: projectId,
        description: optString(input, 'description') ?? '',
        admin_state_up: optBoolean(input, 'admin_state_up') ?? true,
        status: 'ACTIVE',
        gw_port_id: gw.gw_port_id,
        enable_snat: gw.enable_snat,
        availability_zone_hints: zones,
        revision_number: 1,
        created_at: now,
        updated_at: now,
      });
    });
    const view = this.routerView(this.store.router(id) as RouterRecord, context);
    await this.events.createEnd('router', view, context);
    return view;
  }

  private routes(input: Body, router: RouterRecord): RouterRecord['routes'] | undefined {
    const routes = optObjectList(input, 'routes');
    if (routes === undefined) return undefined;
    const connected = [...this.interfacePorts(router.id), ...(router.gw_port_id ? [this.store.port(router.gw_port_id)] : [])]
      .flatMap((p) => p?.fixed_ips ?? [])
      .flatMap((ip) => {
        const subnet = this.store.subnet(ip.subnet_id);
        const cidr = subnet ? parseCidr(subnet.cidr) : null;
        return cidr ? [cidr] : [];
      });
    return routes.map((route) => {
      const destination = parseCidr(route.destination);
      const nexthop = parseIp(route.nexthop);
      if (!destination || !nexthop) throw new NeutronApiError('InvalidRoutes', 400, `Invalid format for routes: ${JSON.stringify(route)}, the route is malformed`);
      if (!connected.some((cidr) => cidrContains(cidr, nexthop))) {
        throw new NeutronApiError('InvalidRoutes', 400, `Invalid format for routes: ${JSON.stringify(route)}, the nexthop is not connected with router`);
      }
      return { destination: String(route.destination), nexthop: String(route.nexthop) };
    });
  }

  async updateRouter(id: string, body: unknown, context: RequestContext): Promise<View> {
    await this.events.updateStart('router', id, body, context);
    const input = resourceBody(body, 'router');
    checkAttributes(input, ROUTER_UPDATE, ROUTER_READ_ONLY, 'update');
    const router = this.visibleRouter(id, context);
    this.checkFlavor(input, context, 'update');
    const gateway = this.gatewayRequest(input, context, 'update');
    const fields: Record<string, unknown> = {};
    for (const key of ['name', 'description'] as const) {
      const value = optString(input, key);
      if (value !== undefined) fields[key] = value;
    }
    const up = optBoolean(input, 'admin_state_up');
    if (up !== undefined) fields.admin_state_up = up;
    const routes = this.routes(input, router);
    if (routes !== undefined) fields.routes = routes;
    this.store.tx(() => {
      if (gateway !== undefined) Object.assign(fields, this.applyGateway(id, router, gateway));
      this.store.update('neutron_routers', id, fields);
    });
    const view = this.routerView(this.store.router(id) as RouterRecord, context);
    await this.events.updateEnd('router', view, context);
    return view;
  }

  async deleteRouter(id: string, context: RequestContext): Promise<void> {
    await this.events.deleteStart('router', id, context);
    const router = this.visibleRouter(id, context);
    if (this.interfacePorts(id).length > 0) throw routerInUse(id);
    const view = this.routerView(router, context);
    this.store.tx(() => {
      this.store.delete('neutron_routers', id);
      if (router.gw_port_id) this.core.removePort(router.gw_port_id);
    });
    await this.events.deleteEnd('router', id, view, context);
  }

  private interfaceRequest(body: unknown): { subnetId: string | undefined; portId: string | undefined } {
    if (!isObject(body)) throw badRequest('router', 'Either subnet_id or port_id must be specified');
    const subnetId = optUuid(body, 'subnet_id');
    const portId = optUuid(body, 'port_id');
    if (subnetId === undefined && portId === undefined) throw badRequest('router', 'Either subnet_id or port_id must be specified');
    return { subnetId, portId };
  }

  /** A subnet joins a router once, and no two of its subnets overlap. */
  private checkNewInterfaceSubnets(router: RouterRecord, subnetIds: readonly string[]): void {
    const attached = this.interfacePorts(router.id).flatMap((p) => p.fixed_ips.map((ip) => ip.subnet_id));
    for (const subnetId of subnetIds) {
      if (attached.includes(subnetId)) throw badRequest('router', `Router already has a port on subnet ${subnetId}`);
      const subnet = this.store.subnet(subnetId);
      const cidr = subnet ? parseCidr(subnet.cidr) : null;
      for (const otherId of attached) {
        const other = this.store.subnet(otherId);
        const otherCidr = other ? parseCidr(other.cidr) : null;
        if (subnet && other && cidr && otherCidr && cidrsOverlap(cidr, otherCidr)) {
          throw badRequest('router', `Cidr ${subnet.cidr} of subnet ${subnetId} overlaps with cidr ${other.cidr} of subnet ${otherId}`);
        }
      }
    }
  }

  private interfaceInfo(router: RouterRecord, port: PortRecord, subnetIds: string[]): RouterInterfaceInfo {
    return {
      id: router.id,
      tenant_id: port.project_id,
      project_id: port.project_id,
      port_id: port.id,
      network_id: port.network_id,
      subnet_id: subnetIds[subnetIds.length - 1] ?? '',
      subnet_ids: subnetIds,
    };
  }

  /**
   * PUT /routers/{id}/add_router_interface: by subnet, a new port at the subnet's gateway
   * address; by port, an existing unattached port. Emits `router.interface.create` (the
   * API hook sends nothing for member actions).
   */
  async addRouterInterface(id: string, body: unknown, context: RequestContext): Promise<RouterInterfaceInfo> {
    const { subnetId, portId } = this.interfaceRequest(body);
    if (subnetId !== undefined && portId !== undefined) throw badRequest('router', 'Cannot specify both subnet-id and port-id');
    const router = this.visibleRouter(id, context);
    let port: PortRecord;
    if (subnetId !== undefined) {
      const subnet = this.core.visibleSubnet(subnetId, context);
      if (!subnet.gateway_ip) throw badRequest('router', 'Subnet for router interface must have a gateway IP');
      if (!owns(context, subnet.project_id)) throw badRequest('router', `Cannot add interface to router because subnet ${subnetId} is not owned by project making the request`);
      this.checkNewInterfaceSubnets(router, [subnetId]);
      port = this.store.tx(() =>
        this.core.insertPort({
          networkId: subnet.network_id,
          projectId: router.project_id,
          deviceId: router.id,
          deviceOwner: DEVICE_OWNER.ROUTER_INTERFACE,
          fixedIps: [{ subnet_id: subnet.id, ip_address: subnet.gateway_ip as string }],
        }),
      );
    } else {
      const existing = this.core.visiblePort(portId as string, context);
      if (existing.device_id !== '') {
        throw new NeutronApiError('PortInUse', 409, `Unable to complete operation on port ${existing.id} for network ${existing.network_id}. Port already has an attached device ${existing.device_id}.`);
      }
      if (existing.fixed_ips.length === 0) throw badRequest('router', 'Router port must have at least one fixed IP');
      this.checkNewInterfaceSubnets(
        router,
        existing.fixed_ips.map((ip) => ip.subnet_id),
      );
      this.store.tx(() => {
        this.store.setPortSecurityGroups(existing.id, []);
        this.store.update('neutron_ports', existing.id, { device_id: router.id, device_owner: DEVICE_OWNER.ROUTER_INTERFACE, status: existing.admin_state_up ? 'ACTIVE' : 'DOWN' });
      });
      port = this.store.port(existing.id) as PortRecord;
    }
    const info = this.interfaceInfo(router, port, port.fixed_ips.map((ip) => ip.subnet_id));
    await this.events.emit('router.interface.create', { router_interface: info }, context);
    return info;
  }

  async removeRouterInterface(id: string, body: unknown, context: RequestContext): Promise<RouterInterfaceInfo> {
    const { subnetId, portId } = this.interfaceRequest(body);
    const router = this.visibleRouter(id, context);
    const interfaces = this.interfacePorts(id);
    let port: PortRecord | undefined;
    if (portId !== undefined) {
      port = interfaces.find((p) => p.id === portId);
      if (!port) throw routerInterfaceNotFound(id, portId);
      if (subnetId !== undefined && !port.fixed_ips.some((ip) => ip.subnet_id === subnetId)) throw routerInterfaceNotFoundForSubnet(id, subnetId);
    } else {
      port = interfaces.find((p) => p.fixed_ips.some((ip) => ip.subnet_id === subnetId));
      if (!port) throw routerInterfaceNotFoundForSubnet(id, subnetId as string);
    }
    const subnetIds = port.fixed_ips.map((ip) => ip.subnet_id);
    for (const fip of this.store.floatingIps({ routerId: id })) {
      const internal = fip.port_id ? this.store.port(fip.port_id) : undefined;
      const used = internal?.fixed_ips.find((ip) => ip.ip_address === fip.fixed_ip_address && subnetIds.includes(ip.subnet_id));
      if (used) throw routerInterfaceInUseByFloatingIp(id, used.subnet_id);
    }
    const info = this.interfaceInfo(router, port, subnetIds);
    this.core.removePort(port.id);
    await this.events.emit('router.interface.delete', { router_interface: info }, context);
    return info;
  }

  // --- floating IPs --------------------------------------------------------------------

  visibleFloatingIp(id: string, context: RequestContext): FloatingIpRecord {
    const fip = this.store.floatingIp(id);
    if (!fip || !owns(context, fip.project_id)) throw floatingIpNotFound(id);
    return fip;
  }

  floatingIpView(fip: FloatingIpRecord): View {
    return floatingIpView(fip, fip.port_id ? (this.store.port(fip.port_id) ?? null) : null);
  }

  listFloatingIps(context: RequestContext): View[] {
    return this.store
      .floatingIps()
      .filter((f) => owns(context, f.project_id))
      .map((f) => this.floatingIpView(f));
  }

  showFloatingIp(id: string, context: RequestContext): View {
    return this.floatingIpView(this.visibleFloatingIp(id, context));
  }

  /**
   * The router that reaches the external network from the port's subnet: one with a
   * gateway there and an interface on the subnet, preferring the subnet's gateway
   * address (l3_db get_router_for_floatingip).
   */
  private routerFor(port: PortRecord, subnetId: string, externalNetworkId: string): string {
    const subnet = this.store.subnet(subnetId);
    let first: string | null = null;
    for (const routerPort of this.store.ports({ networkId: port.network_id, deviceOwner: DEVICE_OWNER.ROUTER_INTERFACE })) {
      const address = routerPort.fixed_ips.find((ip) => ip.subnet_id === subnetId);
      if (!address) continue;
      const router = this.store.router(routerPort.device_id);
      if (router?.gateway?.network_id !== externalNetworkId) continue;
      if (address.ip_address === subnet?.gateway_ip) return router.id;
      first ??= router.id;
    }
    if (first) return first;
    throw externalGatewayForFloatingIpNotFound(externalNetworkId, subnetId, port.id);
  }

  /** What associating a floating IP with a port sets, checked as l3_db _get_assoc_data does. */
  private association(fip: { id: string; project_id: string; floating_network_id: string }, portId: string, fixedIp: string | undefined, context: RequestContext): { port_id: string; fixed_ip_address: string; router_id: string } {
    const port = this.store.port(portId);
    if (!port || !(owns(context, port.project_id) || context.isAdmin)) throw portNotFound(portId);
    if (port.project_id !== fip.project_id && !context.isAdmin) {
      throw badRequest('floatingip', `Cannot process floating IP association with Port ${portId}, since that port is owned by a different project`);
    }
    if (port.device_owner.startsWith('network:')) throw badRequest('floatingip', `Port ${portId} is unable to be assigned a floating IP`);
    let address: { subnet_id: string; ip_address: string };
    if (fixedIp !== undefined) {
      const ip = parseIp(fixedIp);
      if (!ip || ip.version !== 4) throw badRequest('floatingip', `Cannot process floating IP association with ${fixedIp}, since that is not an IPv4 address`);
      const match = port.fixed_ips.find((f) => f.ip_address === normalizeIp(fixedIp));
      if (!match) throw badRequest('floatingip', `Port ${portId} does not have fixed ip ${fixedIp}`);
      address = match;
    } else {
      const v4 = port.fixed_ips.filter((f) => parseIp(f.ip_address)?.version === 4);
      if (v4.length === 0) throw badRequest('floatingip', `Cannot add floating IP to port ${portId} that has no fixed IPv4 addresses`);
      if (v4.length > 1) throw badRequest('floatingip', `Port ${portId} has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP`);
      address = v4[0] as { subnet_id: string; ip_address: string };
    }
    const routerId = this.routerFor(port, address.subnet_id, fip.floating_network_id);
    const taken = this.store.floatingIps({ portId }).find((other) => other.id !== fip.id && other.fixed_ip_address === address.ip_address && other.floating_network_id === fip.floating_network_id);
    if (taken) throw floatingIpPortAlreadyAssociated(taken.floating_ip_address, taken.id, portId, address.ip_address, fip.floating_network_id);
    return { port_id: portId, fixed_ip_address: address.ip_address, router_id: routerId };
  }

  /**
   * POST /floatingips: an address from the external network's IPv4 subnets, held by a
   * port of the network (device_owner network:floatingip) for as long as the floating IP
   * exists. DOWN until associated, ACTIVE while associated.
   */
  async createFloatingIp(body: unknown, context: RequestContext): Promise<View> {
    await this.events.createStart('floatingip', body, context);
    const input = resourceBody(body, 'floatingip');
    checkAttributes(input, FIP_CREATE, FIP_READ_ONLY, 'create');
    if (input.qos_policy_id !== undefined && input.qos_policy_id !== null) throw badRequest('floatingip', 'QoS policies are not supported by this deployment');
    const networkId = required(optUuid(input, 'floating_network_id'), 'floating_network_id');
    const network = this.store.network(networkId);
    if (!network || !canSeeNetwork(context, network)) throw networkNotFound(networkId);
    if (!network.router_external) throw badRequest('floatingip', `Network ${networkId} is not a valid external network`);
    if (!this.store.subnets(networkId).some((s) => s.ip_version === 4)) throw badRequest('floatingip', `Network ${networkId} does not contain any IPv4 subnet`);
    const projectId = ownerFor(context, requestedProject(input));
    const address = optString(input, 'floating_ip_address');
    if (address !== undefined) {
      if (!context.isAdmin) throw policyNotAuthorized('rule:create_floatingip and rule:create_floatingip:floating_ip_address');
      if (parseIp(address)?.version !== 4) throw httpBadRequest(`Invalid input for floating_ip_address. Reason: '${address}' is not a valid IP address.`);
    }
    const subnetId = optUuid(input, 'subnet_id');
    const portId = optUuid(input, 'port_id');
    const fixedIp = optString(input, 'fixed_ip_address');
    const id = randomUUID();
    const association = portId === undefined ? null : this.association({ id, project_id: projectId, floating_network_id: networkId }, portId, fixedIp, context);
    const request: FixedIpRequest = {};
    if (subnetId !== undefined) request.subnet_id = subnetId;
    if (address !== undefined) request.ip_address = address;
    const now = this.store.now();
    this.store.tx(() => {
      // This port is never shown to the project: it only holds the address (project '').
      const port = this.core.insertPort({
        networkId,
        projectId: '',
        deviceId: id,
        deviceOwner: DEVICE_OWNER.FLOATING_IP,
        fixedIps: Object.keys(request).length > 0 ? [request] : null,
        ipVersions: [4],
        status: 'N/A',
      });
      this.store.insert('neutron_floating_ips', {
        id,
        project_id: projectId,
        description: optString(input, 'description') ?? '',
        floating_network_id: networkId,
        floating_ip_address: port.fixed_ips[0]?.ip_address ?? '',
        floating_port_id: port.id,
        port_id: association?.port_id ?? null,
        fixed_ip_address: association?.fixed_ip_address ?? null,
        router_id: association?.router_id ?? null,
        status: association ? 'ACTIVE' : 'DOWN',
        revision_number: 0,
        created_at: now,
        updated_at: now,
      });
    });
    const view = this.floatingIpView(this.store.floatingIp(id) as FloatingIpRecord);
    await this.events.createEnd('floatingip', view, context);
    return view;
  }

  /** PUT /floatingips/{id}: `port_id` associates (ACTIVE), `port_id: null` disassociates (DOWN). */
  async updateFloatingIp(id: string, body: unknown, context: RequestContext): Promise<View> {
    await this.events.updateStart('floatingip', id, body, context);
    const input = resourceBody(body, 'floatingip');
    checkAttributes(input, FIP_UPDATE, FIP_READ_ONLY, 'update');
    if (input.qos_policy_id !== undefined && input.qos_policy_id !== null) throw badRequest('floatingip', 'QoS policies are not supported by this deployment');
    const fip = this.visibleFloatingIp(id, context);
    const fields: Record<string, unknown> = {};
    const description = optString(input, 'description');
    if (description !== undefined) fields.description = description;
    const fixedIp = optString(input, 'fixed_ip_address');
    const portId = 'port_id' in input ? optNullableUuid(input, 'port_id') : fip.port_id;
    if (portId === null || portId === undefined) {
      if ('port_id' in input) Object.assign(fields, { port_id: null, fixed_ip_address: null, router_id: null, status: 'DOWN' });
    } else if ('port_id' in input || fixedIp !== undefined) {
      Object.assign(fields, this.association(fip, portId, fixedIp, context), { status: 'ACTIVE' });
    }
    this.store.update('neutron_floating_ips', id, fields);
    const view = this.floatingIpView(this.store.floatingIp(id) as FloatingIpRecord);
    await this.events.updateEnd('floatingip', view, context);
    return view;
  }

  /** DELETE /floatingips/{id}: releases the address (the billing stops here, not at disassociation). */
  async deleteFloatingIp(id: string, context: RequestContext): Promise<void> {
    await this.events.deleteStart('floatingip', id, context);
    const fip = this.visibleFloatingIp(id, context);
    const view = this.floatingIpView(fip);
    this.store.tx(() => {
      // The floating IP row goes first: it references its address port.
      this.store.delete('neutron_floating_ips', id);
      this.core.removePort(fip.floating_port_id);
    });
    await this.events.deleteEnd('floatingip', id, view, context);
  }
}
