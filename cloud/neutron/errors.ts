import { CloudApiError } from '../errors.ts';

/**
 * A Neutron refusal: the exception class name Neutron puts in `NeutronError.type`, its
 * HTTP status and neutron-lib's message text, so clients that parse either keep working.
 */
export class NeutronApiError extends CloudApiError {
  readonly neutronType: string;

  constructor(neutronType: string, httpStatus: number, message: string) {
    super(`CUMULUS_NEUTRON_${neutronType.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`, httpStatus, message);
    this.name = 'NeutronApiError';
    this.neutronType = neutronType;
  }
}

/** Neutron's error body (neutron/api/v2/resource.py). */
export function neutronErrorBody(type: string, message: string): { NeutronError: { type: string; message: string; detail: string } } {
  return { NeutronError: { type, message, detail: '' } };
}

/** The webob exception name Neutron reports when no NeutronException applies. */
export function webobType(status: number): string {
  const names: Record<number, string> = {
    400: 'HTTPBadRequest',
    401: 'HTTPUnauthorized',
    403: 'HTTPForbidden',
    404: 'HTTPNotFound',
    405: 'HTTPMethodNotAllowed',
    409: 'HTTPConflict',
    412: 'HTTPPreconditionFailed',
    413: 'HTTPRequestEntityTooLarge',
    415: 'HTTPUnsupportedMediaType',
  };
  return names[status] ?? 'HTTPInternalServerError';
}

// Not found (404); messages from neutron_lib/exceptions.
export const networkNotFound = (id: string) => new NeutronApiError('NetworkNotFound', 404, `Network ${id} could not be found.`);
export const subnetNotFound = (id: string) => new NeutronApiError('SubnetNotFound', 404, `Subnet ${id} could not be found.`);
export const portNotFound = (id: string) => new NeutronApiError('PortNotFound', 404, `Port ${id} could not be found.`);
export const routerNotFound = (id: string) => new NeutronApiError('RouterNotFound', 404, `Router ${id} could not be found`);
export const floatingIpNotFound = (id: string) => new NeutronApiError('FloatingIPNotFound', 404, `Floating IP ${id} could not be found`);
export const securityGroupNotFound = (id: string) => new NeutronApiError('SecurityGroupNotFound', 404, `Security group ${id} does not exist`);
export const securityGroupRuleNotFound = (id: string) => new NeutronApiError('SecurityGroupRuleNotFound', 404, `Security group rule ${id} does not exist`);
export const extensionNotFound = (alias: string) => new NeutronApiError('HTTPNotFound', 404, `Extension with alias ${alias} does not exist`);
export const resourceNotFound = () => new NeutronApiError('HTTPNotFound', 404, 'The resource could not be found.');
export const routerInterfaceNotFoundForSubnet = (routerId: string, subnetId: string) =>
  new NeutronApiError('RouterInterfaceNotFoundForSubnet', 404, `Router ${routerId} has no interface on subnet ${subnetId}`);
export const routerInterfaceNotFound = (routerId: string, portId: string) => new NeutronApiError('RouterInterfaceNotFound', 404, `Router ${routerId} does not have an interface with id ${portId}`);
/** 404: the CLI's `server add floating ip` skips a port on this error and tries the next. */
export const externalGatewayForFloatingIpNotFound = (externalNetworkId: string, subnetId: string, portId: string) =>
  new NeutronApiError(
    'ExternalGatewayForFloatingIPNotFound',
    404,
    `External network ${externalNetworkId} is not reachable from subnet ${subnetId}.  Therefore, cannot associate Port ${portId} with a Floating IP.`,
  );

// Bad request (400).
export const invalidInput = (message: string) => new NeutronApiError('InvalidInput', 400, `Invalid input for operation: ${message}.`);
export const badRequest = (resource: string, message: string) => new NeutronApiError('BadRequest', 400, `Bad ${resource} request: ${message}.`);
/** Malformed bodies and attributes, as Neutron's attribute validation reports them. */
export const httpBadRequest = (message: string) => new NeutronApiError('HTTPBadRequest', 400, message);
export const invalidAllocationPool = (pool: string) => new NeutronApiError('InvalidAllocationPool', 400, `The allocation pool ${pool} is not valid.`);
export const outOfBoundsAllocationPool = (pool: string, cidr: string) => new NeutronApiError('OutOfBoundsAllocationPool', 400, `The allocation pool ${pool} spans beyond the subnet cidr ${cidr}.`);

// Forbidden (403).
export const policyNotAuthorized = (rule: string) => new NeutronApiError('PolicyNotAuthorized', 403, `(${rule}) is disallowed by policy`);

// Conflict (409).
export const networkInUse = (id: string) => new NeutronApiError('NetworkInUse', 409, `Unable to complete operation on network ${id}. There are one or more ports still in use on the network.`);
export const subnetInUse = (id: string) => new NeutronApiError('SubnetInUse', 409, `Unable to complete operation on subnet ${id}: One or more ports have an IP allocation from this subnet.`);
export const routerInUse = (id: string) => new NeutronApiError('RouterInUse', 409, `Router ${id} still has ports`);
export const servicePortInUse = (portId: string, owner: string) =>
  new NeutronApiError('ServicePortInUse', 409, `Port ${portId} cannot be deleted directly via the port API: has device owner ${owner}.`);
export const ipAddressGenerationFailure = (networkId: string) => new NeutronApiError('IpAddressGenerationFailure', 409, `No more IP addresses available on network ${networkId}.`);
export const ipAddressAlreadyAllocated = (ip: string, subnetId: string) => new NeutronApiError('IpAddressAlreadyAllocated', 409, `IP address ${ip} already allocated in subnet ${subnetId}`);
export const macAddressInUse = (networkId: string, mac: string) =>
  new NeutronApiError('MacAddressInUse', 409, `Unable to complete operation for network ${networkId}. The mac address ${mac} is in use.`);
export const overlappingAllocationPools = (pool1: string, pool2: string, cidr: string) =>
  new NeutronApiError('OverlappingAllocationPools', 409, `Found overlapping allocation pools: ${pool1} ${pool2} for subnet ${cidr}.`);
export const gatewayConflictWithAllocationPools = (ip: string, pool: string) =>
  new NeutronApiError('GatewayConflictWithAllocationPools', 409, `Gateway ip ${ip} conflicts with allocation pool ${pool}.`);
export const routerInterfaceInUseByFloatingIp = (routerId: string, subnetId: string) =>
  new NeutronApiError('RouterInterfaceInUseByFloatingIP', 409, `Router interface for subnet ${subnetId} on router ${routerId} cannot be deleted, as it is required by one or more floating IPs.`);
export const routerExternalGatewayInUseByFloatingIp = (routerId: string, networkId: string) =>
  new NeutronApiError(
    'RouterExternalGatewayInUseByFloatingIp',
    409,
    `Gateway cannot be updated for router ${routerId}, since a gateway to external network ${networkId} is required by one or more floating IPs.`,
  );
export const floatingIpPortAlreadyAssociated = (address: string, fipId: string, portId: string, fixedIp: string, networkId: string) =>
  new NeutronApiError(
    'FloatingIPPortAlreadyAssociated',
    409,
    `Cannot associate floating IP ${address} (${fipId}) with port ${portId} using fixed IP ${fixedIp}, as that fixed IP already has a floating IP on external network ${networkId}.`,
  );
export const securityGroupInUse = (id: string) => new NeutronApiError('SecurityGroupInUse', 409, `Security Group ${id} in use.`);
export const securityGroupCannotRemoveDefault = () => new NeutronApiError('SecurityGroupCannotRemoveDefault', 409, 'Insufficient rights for removing default security group.');
export const securityGroupDefaultAlreadyExists = () => new NeutronApiError('SecurityGroupDefaultAlreadyExists', 409, 'Default security group already exists.');
export const securityGroupRuleExists = (ruleId: string) => new NeutronApiError('SecurityGroupRuleExists', 409, `Security group rule already exists. Rule id is ${ruleId}.`);
/** Nova's view of a network name matching more than one network (nova.exception.NetworkAmbiguous). */
export const networkAmbiguous = (name: string) => new NeutronApiError('NetworkAmbiguous', 409, `More than one possible network found. Specify network ID(s) to select which one(s) to connect to: ${name}.`);

