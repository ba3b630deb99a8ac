import { UNKNOWN } from './cadf.ts';

/**
 * What keystonemiddleware reads from a service's `api_audit_map.conf`: how paths name
 * resources and actions. The built-in maps carry the entries of pycadf's
 * etc/pycadf/<service>_api_audit_map.conf files.
 */
export interface AuditMap {
  /** `[service_endpoints]`: the CADF typeURI of the service, e.g. service/compute. */
  readonly serviceTypeURI: string;
  /**
   * `[path_keywords]`: a collection segment and the name of the item segment after it.
   * `None` is kept as the string it is in the .conf file: keystonemiddleware prints it.
   */
  readonly pathKeywords: Readonly<Record<string, string>>;
  /** `[custom_actions]`: a last path segment, or `segment/method`, and its CADF action. */
  readonly customActions: Readonly<Record<string, string>>;
}

const NOVA: AuditMap = {
  serviceTypeURI: 'service/compute',
  customActions: {
    enable: 'enable',
    disable: 'disable',
    delete: 'delete',
    startup: 'start/startup',
    shutdown: 'stop/shutdown',
    reboot: 'start/reboot',
    'os-migrations/get': 'read',
    'os-server-password/post': 'update',
  },
  pathKeywords: {
    add: 'None',
    action: 'None',
    enable: 'None',
    disable: 'None',
    'configure-project': 'None',
    defaults: 'None',
    delete: 'None',
    detail: 'None',
    diagnostics: 'None',
    entries: 'entry',
    extensions: 'alias',
    flavors: 'flavor',
    images: 'image',
    ips: 'label',
    limits: 'None',
    metadata: 'key',
    'os-agents': 'os-agent',
    'os-aggregates': 'os-aggregate',
    'os-availability-zone': 'None',
    'os-certificates': 'None',
    'os-cloudpipe': 'None',
    'os-fixed-ips': 'ip',
    'os-extra_specs': 'key',
    'os-flavor-access': 'None',
    'os-floating-ip-dns': 'domain',
    'os-floating-ips-bulk': 'host',
    'os-floating-ip-pools': 'None',
    'os-floating-ips': 'floating-ip',
    'os-hosts': 'host',
    'os-hypervisors': 'hypervisor',
    'os-instance-actions': 'instance-action',
    'os-keypairs': 'keypair',
    'os-migrations': 'None',
    'os-networks': 'network',
    'os-quota-sets': 'tenant',
    'os-security-groups': 'security_group',
    'os-security-group-rules': 'rule',
    'os-server-password': 'None',
    'os-services': 'None',
    'os-simple-tenant-usage': 'tenant',
    'os-virtual-interfaces': 'None',
    'os-volume_attachments': 'attachment',
    'os-volumes_boot': 'None',
    'os-volumes': 'volume',
    'os-volume-types': 'volume-type',
    'os-snapshots': 'snapshot',
    reboot: 'None',
    servers: 'server',
    shutdown: 'None',
    startup: 'None',
    statistics: 'None',
  },
};

const GLANCE: AuditMap = {
  serviceTypeURI: 'service/storage/image',
  customActions: {},
  pathKeywords: { detail: 'None', file: 'None', images: 'image', members: 'member', tags: 'tag' },
};

const CINDER: AuditMap = {
  serviceTypeURI: 'service/storage/block',
  customActions: {
    associate: 'update/associate',
    disassociate: 'update/disassociate',
    disassociate_all: 'update/disassociate_all',
    associations: 'read/list/associations',
  },
  pathKeywords: {
    defaults: 'None',
    detail: 'None',
    limits: 'None',
    'os-quota-specs': 'project',
    'qos-specs': 'qos-spec',
    snapshots: 'snapshot',
    types: 'type',
    volumes: 'volume',
  },
};

const NEUTRON: AuditMap = {
  serviceTypeURI: 'service/network',
  customActions: { add_router_interface: 'update/add', remove_router_interface: 'update/remove' },
  pathKeywords: {
    floatingips: 'ip',
    healthmonitors: 'healthmonitor',
    health_monitors: 'health_monitor',
    lb: 'None',
    members: 'member',
    'metering-labels': 'label',
    'metering-label-rules': 'rule',
    networks: 'network',
    pools: 'pool',
    ports: 'port',
    routers: 'router',
    quotas: 'quota',
    'security-groups': 'security-group',
    'security-group-rules': 'rule',
    subnets: 'subnet',
    vips: 'vip',
  },
};

const GNOCCHI: AuditMap = {
  serviceTypeURI: 'service/metric',
  customActions: {},
  pathKeywords: {
    metric: 'metric_id',
    measures: 'None',
    archive_policy: 'archive_policy_name',
    archive_policy_rule: 'archive_policy_rule_name',
    generic: 'generic_id',
    instance: 'instance_id',
    history: 'None',
    resource_type: 'resource_type_name',
    capabilities: 'None',
    status: 'None',
  },
};

/** Ours: pycadf ships no placement map (Placement does not run the audit filter upstream). */
const PLACEMENT: AuditMap = {
  serviceTypeURI: 'service/placement',
  customActions: {},
  pathKeywords: {
    resource_providers: 'resource_provider',
    inventories: 'resource_class',
    allocations: 'consumer',
    usages: 'None',
    aggregates: 'None',
    traits: 'trait',
    resource_classes: 'resource_class',
    allocation_candidates: 'None',
    reshaper: 'None',
  },
};

/** Built-in maps by catalog service type (the observer's `service`). */
export const BUILTIN_AUDIT_MAPS: Readonly<Record<string, AuditMap>> = {
  compute: NOVA,
  image: GLANCE,
  volume: CINDER,
  volumev3: CINDER,
  'block-storage': CINDER,
  network: NEUTRON,
  metric: GNOCCHI,
  placement: PLACEMENT,
};

/** A service keystonemiddleware has no [service_endpoints] entry for: target typeURI `unknown`. */
export const UNKNOWN_SERVICE_MAP: AuditMap = { serviceTypeURI: UNKNOWN, pathKeywords: {}, customActions: {} };

export function builtinAuditMap(serviceType: string): AuditMap {
  return Object.hasOwn(BUILTIN_AUDIT_MAPS, serviceType) ? (BUILTIN_AUDIT_MAPS[serviceType] as AuditMap) : UNKNOWN_SERVICE_MAP;
}

// Own-property lookups only: a path segment such as `constructor` must not hit Object.prototype.
const own = (table: Readonly<Record<string, string>>, key: string | null): string | undefined =>
  key !== null && Object.hasOwn(table, key) ? table[key] : undefined;

/** keystonemiddleware's _clean_path: `servers.json` names the same thing as `servers`. */
const cleanSegment = (segment: string) => (segment.endsWith('.json') ? segment.slice(0, -5) : segment);

/**
 * keystonemiddleware's get_action: custom actions first; then POST to `.../action` is
 * `update/<first key of the JSON body>` (`create` without one), POST to a collection
 * `create`, POST elsewhere `update`; GET of a collection `read/list`, other GET and HEAD
 * `read`; PUT and PATCH `update`; DELETE `delete`.
 * Only the body's first key is read, never a value.
 */
export function auditAction(method: string, path: string, body: unknown, map: AuditMap): string {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  const ending = cleanSegment(trimmed.slice(trimmed.lastIndexOf('/') + 1));
  const verb = method.toUpperCase();
  const custom = own(map.customActions, `${ending}/${verb.toLowerCase()}`) ?? own(map.customActions, ending);
  if (custom !== undefined) return custom;
  switch (verb) {
    case 'POST': {
      if (ending === 'action') {
        // A body that is not a non-empty JSON object names no action: keystonemiddleware says `create`.
        const first = body !== null && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body)[0] : undefined;
        return first === undefined ? 'create' : `update/${first}`;
      }
      return own(map.pathKeywords, ending) === undefined ? 'update' : 'create';
    }
    case 'GET':
      return own(map.pathKeywords, ending) === undefined ? 'read' : 'read/list';
    case 'PUT':
    case 'PATCH':
      return 'update';
    case 'DELETE':
      return 'delete';
    case 'HEAD':
      return 'read';
    default:
      return UNKNOWN;
  }
}

/**
 * keystonemiddleware's _build_typeURI: every collection keyword on the path, each
 * followed by its item name when a segment follows it, e.g. /v2.1/servers/<id>/action
 * gives service/compute/servers/server/action. A service without a map stays `unknown`.
 */
export function targetTypeURI(path: string, map: AuditMap): string {
  if (map.serviceTypeURI === UNKNOWN) return UNKNOWN;
  let typeURI = map.serviceTypeURI;
  let previous: string | null = null;
  for (const raw of path.split('/')) {
    const segment = cleanSegment(raw);
    const keyword = own(map.pathKeywords, segment);
    const itemName = own(map.pathKeywords, previous);
    if (keyword !== undefined) typeURI += `/${segment}`;
    else if (itemName !== undefined) typeURI += `/${itemName}`;
    previous = segment;
  }
  return typeURI;
}

/**
 * The id of the innermost resource the path names: the last non-empty segment that
 * follows a collection keyword (/servers/<id>/action gives <id>). Undefined for a
 * collection or a service-level path.
 */
export function targetResourceId(path: string, map: AuditMap): string | undefined {
  let found: string | undefined;
  let previous: string | null = null;
  for (const raw of path.split('/')) {
    const segment = cleanSegment(raw);
    if (segment !== '' && own(map.pathKeywords, segment) === undefined && own(map.pathKeywords, previous) !== undefined) found = decodeSegment(segment);
    previous = segment;
  }
  return found;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
