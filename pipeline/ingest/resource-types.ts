/**
 * Which Gnocchi resource type a meter's resource is, which of the sample's
 * resource_metadata become its attributes, and which events create, update or end
 * resources: Ceilometer 19's publisher/data/gnocchi_resources.yaml, as data.
 * The types themselves (their attribute schemas) are in storage/resource-types.ts.
 */

/** A path into resource_metadata: `['flavor', 'id']` reads `resource_metadata.flavor.id`. */
export type MetadataPath = readonly string[];

export interface ResourceTypeMapping {
  type: string;
  /**
   * attribute -> where its value is, alternatives in order: the first one present and not
   * null wins (Ceilometer's `resource_metadata.(instance_host|host)`).
   */
  sources: Readonly<Record<string, readonly MetadataPath[]>>;
  /**
   * attribute -> one top-level metadata key among its sources. Deprecated: only the
   * sample writer's own indexMetrics reads it, until it hands indexing to resource-index.ts.
   */
  attributes: Readonly<Record<string, string>>;
}

export type ResourceEventOperation = 'create' | 'update' | 'delete';

export interface ResourceEventRule {
  type: string;
  /** Event type patterns (fnmatch), per operation. */
  create: readonly string[];
  update: readonly string[];
  delete: readonly string[];
  /** resource field or attribute -> the trait holding it; `id` is required. */
  attributes: Readonly<Record<string, string>>;
  /** Resources ended or updated with this one: type -> its attribute holding this resource's id. */
  associated: Readonly<Record<string, string>>;
}

interface Definition {
  type: string;
  metrics: readonly string[];
  /** Meters Ceilometer files under a policy other than its default (ceilometer-low). */
  policies?: Readonly<Record<string, string>>;
  attributes?: Readonly<Record<string, readonly string[]>>;
  events?: Omit<ResourceEventRule, 'type'>;
}

/** Alternatives as dotted paths: `from('instance_host', 'host')`. */
const from = (...paths: string[]): readonly string[] => paths;
const RATE = 'ceilometer-low-rate';
const rate = (...names: string[]) => Object.fromEntries(names.map((n) => [n, RATE]));

const NETWORK_METERS = ['network.outgoing.packets', 'network.incoming.packets', 'network.outgoing.packets.drop', 'network.incoming.packets.drop', 'network.outgoing.packets.error', 'network.incoming.packets.error', 'network.outgoing.bytes', 'network.incoming.bytes'];
const DISK_RATE_METERS = ['disk.device.read.requests', 'disk.device.write.requests', 'disk.device.read.bytes', 'disk.device.write.bytes'];

/** In the file's order: an event type matching two definitions goes to the first, as in Ceilometer. */
const DEFINITIONS: readonly Definition[] = [
  {
    type: 'identity',
    metrics: [
      'identity.authenticate.success', 'identity.authenticate.pending', 'identity.authenticate.failure',
      'identity.user.created', 'identity.user.deleted', 'identity.user.updated',
      'identity.group.created', 'identity.group.deleted', 'identity.group.updated',
      'identity.role.created', 'identity.role.deleted', 'identity.role.updated',
      'identity.project.created', 'identity.project.deleted', 'identity.project.updated',
      'identity.trust.created', 'identity.trust.deleted',
      'identity.role_assignment.created', 'identity.role_assignment.deleted',
    ],
  },
  {
    type: 'ceph_account',
    metrics: ['radosgw.objects', 'radosgw.objects.size', 'radosgw.objects.containers', 'radosgw.api.request', 'radosgw.containers.objects', 'radosgw.containers.objects.size'],
  },
  {
    type: 'instance',
    metrics: [
      'memory', 'memory.usage', 'memory.resident', 'memory.swap.in', 'memory.swap.out', 'memory.bandwidth.total', 'memory.bandwidth.local',
      'vcpus', 'cpu', 'cpu_l3_cache', 'disk.root.size', 'disk.ephemeral.size', 'disk.latency', 'disk.iops', 'disk.capacity', 'disk.allocation', 'disk.usage',
      'compute.instance.booting.time', 'perf.cpu.cycles', 'perf.instructions', 'perf.cache.references', 'perf.cache.misses',
    ],
    policies: rate('cpu'),
    attributes: {
      host: from('instance_host', 'host'),
      image_ref: from('image_ref'),
      launched_at: from('launched_at'),
      created_at: from('created_at'),
      deleted_at: from('deleted_at'),
      display_name: from('display_name'),
      flavor_id: from('instance_flavor_id', 'flavor.id', 'flavor_id'),
      flavor_name: from('instance_type', 'flavor.name', 'flavor_name'),
      server_group: from('user_metadata.server_group'),
    },
    events: {
      create: ['compute.instance.create.end'],
      update: [],
      delete: ['compute.instance.delete.start'],
      attributes: { id: 'instance_id', display_name: 'display_name', host: 'host', availability_zone: 'availability_zone', flavor_id: 'instance_type_id', flavor_name: 'instance_type', user_id: 'user_id', project_id: 'project_id' },
      associated: { instance_network_interface: 'instance_id', instance_disk: 'instance_id' },
    },
  },
  {
    type: 'instance_network_interface',
    metrics: NETWORK_METERS,
    policies: rate(...NETWORK_METERS),
    attributes: { name: from('vnic_name'), instance_id: from('instance_id') },
  },
  {
    type: 'instance_disk',
    metrics: [...DISK_RATE_METERS, 'disk.device.latency', 'disk.device.read.latency', 'disk.device.write.latency', 'disk.device.iops', 'disk.device.capacity', 'disk.device.allocation', 'disk.device.usage'],
    policies: rate(...DISK_RATE_METERS),
    attributes: { name: from('disk_name'), instance_id: from('instance_id') },
  },
  {
    type: 'image',
    metrics: ['image.size', 'image.download', 'image.serve'],
    attributes: { name: from('name'), container_format: from('container_format'), disk_format: from('disk_format') },
    events: { create: [], update: [], delete: ['image.delete'], attributes: { id: 'resource_id' }, associated: {} },
  },
  {
    type: 'ipmi',
    metrics: [
      'hardware.ipmi.node.power', 'hardware.ipmi.node.temperature', 'hardware.ipmi.node.inlet_temperature', 'hardware.ipmi.node.outlet_temperature',
      'hardware.ipmi.node.fan', 'hardware.ipmi.node.current', 'hardware.ipmi.node.voltage', 'hardware.ipmi.node.airflow', 'hardware.ipmi.node.cups',
      'hardware.ipmi.node.cpu_util', 'hardware.ipmi.node.mem_util', 'hardware.ipmi.node.io_util',
    ],
  },
  {
    type: 'ipmi_sensor',
    metrics: ['hardware.ipmi.power', 'hardware.ipmi.temperature', 'hardware.ipmi.current', 'hardware.ipmi.voltage'],
    attributes: { node: from('node') },
  },
  {
    // Floating IPs are `network` resources in Ceilometer's mapping (ip.floating), ended by floatingip.delete.end.
    type: 'network',
    metrics: ['bandwidth', 'ip.floating'],
    events: { create: [], update: [], delete: ['floatingip.delete.end'], attributes: { id: 'resource_id' }, associated: {} },
  },
  {
    type: 'stack',
    metrics: ['stack.create', 'stack.update', 'stack.delete', 'stack.resume', 'stack.suspend'],
  },
  {
    type: 'swift_account',
    metrics: ['storage.objects.incoming.bytes', 'storage.objects.outgoing.bytes', 'storage.objects.size', 'storage.objects', 'storage.objects.containers', 'storage.containers.objects', 'storage.containers.objects.size'],
  },
  {
    type: 'volume',
    metrics: [
      'volume', 'volume.size', 'snapshot.size', 'volume.snapshot.size', 'volume.backup.size', 'backup.size',
      'volume.manage_existing.start', 'volume.manage_existing.end', 'volume.manage_existing_snapshot.start', 'volume.manage_existing_snapshot.end',
    ],
    attributes: { display_name: from('display_name', 'name'), volume_type: from('volume_type'), image_id: from('image_id'), instance_id: from('instance_id') },
    events: {
      create: [],
      update: ['volume.transfer.accept.end', 'snapshot.transfer.accept.end'],
      delete: ['volume.delete.end', 'snapshot.delete.end'],
      attributes: { id: 'resource_id', project_id: 'project_id' },
      associated: {},
    },
  },
  {
    type: 'volume_provider',
    metrics: ['volume.provider.capacity.total', 'volume.provider.capacity.free', 'volume.provider.capacity.allocated', 'volume.provider.capacity.provisioned', 'volume.provider.capacity.virtual_free'],
  },
  {
    type: 'volume_provider_pool',
    metrics: ['volume.provider.pool.capacity.total', 'volume.provider.pool.capacity.free', 'volume.provider.pool.capacity.allocated', 'volume.provider.pool.capacity.provisioned', 'volume.provider.pool.capacity.virtual_free'],
    attributes: { provider: from('provider') },
  },
  {
    type: 'nova_compute',
    metrics: [
      'compute.node.cpu.frequency', 'compute.node.cpu.idle.percent', 'compute.node.cpu.idle.time', 'compute.node.cpu.iowait.percent', 'compute.node.cpu.iowait.time',
      'compute.node.cpu.kernel.percent', 'compute.node.cpu.kernel.time', 'compute.node.cpu.percent', 'compute.node.cpu.user.percent', 'compute.node.cpu.user.time',
    ],
    attributes: { host_name: from('host') },
  },
  {
    type: 'manila_share',
    metrics: ['manila.share.size'],
    attributes: { name: from('name'), host: from('host'), status: from('status'), availability_zone: from('availability_zone'), protocol: from('protocol') },
  },
  { type: 'switch', metrics: ['switch', 'switch.ports'], attributes: { controller: from('controller') } },
  {
    type: 'switch_port',
    metrics: [
      'switch.port', 'switch.port.uptime', 'switch.port.receive.packets', 'switch.port.transmit.packets', 'switch.port.receive.bytes', 'switch.port.transmit.bytes',
      'switch.port.receive.drops', 'switch.port.transmit.drops', 'switch.port.receive.errors', 'switch.port.transmit.errors', 'switch.port.receive.frame_error',
      'switch.port.receive.overrun_error', 'switch.port.receive.crc_error', 'switch.port.collision.count',
    ],
    attributes: { switch: from('switch'), port_number_on_switch: from('port_number_on_switch'), neutron_port_id: from('neutron_port_id'), controller: from('controller') },
  },
  {
    type: 'port',
    metrics: ['port', 'port.uptime', 'port.receive.packets', 'port.transmit.packets', 'port.receive.bytes', 'port.transmit.bytes', 'port.receive.drops', 'port.receive.errors'],
    attributes: { controller: from('controller') },
  },
  { type: 'switch_table', metrics: ['switch.table.active.entries'], attributes: { controller: from('controller'), switch: from('switch') } },
];

function mappingOf(definition: Pick<Definition, 'type' | 'attributes'>): ResourceTypeMapping {
  const sources: Record<string, MetadataPath[]> = {};
  const attributes: Record<string, string> = {};
  for (const [attribute, paths] of Object.entries(definition.attributes ?? {})) {
    sources[attribute] = paths.map((p) => p.split('.'));
    // The attribute's own name first: the key the sample writer has always read.
    const topLevel = paths.includes(attribute) ? attribute : paths.find((p) => !p.includes('.'));
    if (topLevel !== undefined) attributes[attribute] = topLevel;
  }
  return { type: definition.type, sources, attributes };
}

const MAPPINGS = new Map(DEFINITIONS.map((d) => [d.type, mappingOf(d)]));

/**
 * Cumulus's own: the Placement pollster's `placement.*` meters (collectors/pollsters/
 * placement-meters.ts) on `resource_provider` resources. Kept out of DEFINITIONS, which is
 * Ceilometer's file exactly, so it is filed by prefix. Archive policy: the default rule's
 * ceilometer-low is enough, because capacity history is read from the raw measures (kept
 * at least 400 days, migration 2), not from the policy's rollups.
 */
const RESOURCE_PROVIDER: ResourceTypeMapping = mappingOf({ type: 'resource_provider', attributes: { name: from('name', 'host'), availability_zone: from('availability_zone'), aggregates: from('aggregates') } });
const mapping = (type: string) => MAPPINGS.get(type) as ResourceTypeMapping;
const GENERIC: ResourceTypeMapping = mappingOf({ type: 'generic' });

const EXACT = new Map<string, ResourceTypeMapping>();
const POLICIES = new Map<string, string>();
for (const definition of DEFINITIONS) {
  for (const metric of definition.metrics) EXACT.set(metric, mapping(definition.type));
  for (const [metric, policy] of Object.entries(definition.policies ?? {})) POLICIES.set(metric, policy);
}

/**
 * Meters the file does not list but whose family it does (rates and per-device variants
 * Cumulus or older Ceilometers emit); Ceilometer itself drops them, Cumulus files them
 * where their family goes. Most specific first.
 */
const BY_PREFIX: ReadonlyArray<readonly [string, ResourceTypeMapping]> = [
  ['disk.device.', mapping('instance_disk')],
  ['network.incoming.', mapping('instance_network_interface')],
  ['network.outgoing.', mapping('instance_network_interface')],
  ['compute.node.', mapping('nova_compute')],
  ['volume.provider.pool.capacity.', mapping('volume_provider_pool')],
  ['volume.provider.capacity.', mapping('volume_provider')],
  ['volume.', mapping('volume')],
  ['identity.authenticate.', mapping('identity')],
  ['storage.objects', mapping('swift_account')],
  ['placement.', RESOURCE_PROVIDER],
];

/** The resource type of a meter's resource and where its attributes come from; `generic` when unknown. */
export function resourceTypeFor(metricName: string): ResourceTypeMapping {
  return EXACT.get(metricName) ?? BY_PREFIX.find(([prefix]) => metricName.startsWith(prefix))?.[1] ?? GENERIC;
}

/** The archive policy Ceilometer's file names for a meter (the rate ones), or undefined for its default. */
export function ceilometerArchivePolicyFor(metricName: string): string | undefined {
  return POLICIES.get(metricName);
}

/** Every meter the file lists, with its type: for tests and documentation. */
export function listedMeters(): ReadonlyArray<readonly [string, string]> {
  return [...EXACT.entries()].map(([metric, m]) => [metric, m.type] as const);
}

/** Reads one attribute: the first alternative present and not null, or undefined. */
export function metadataValue(metadata: Readonly<Record<string, unknown>>, alternatives: readonly MetadataPath[]): unknown {
  for (const path of alternatives) {
    let value: unknown = metadata;
    for (const key of path) {
      value = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
      if (value === undefined) break;
    }
    if (value !== undefined && value !== null) return value;
  }
  return undefined;
}

/** A sample's attributes for its type, as found (not yet checked against the type's schema). */
export function attributesFromMetadata(mapping: ResourceTypeMapping, metadata: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [attribute, alternatives] of Object.entries(mapping.sources)) {
    const value = metadataValue(metadata, alternatives);
    if (value !== undefined) out[attribute] = value;
  }
  return out;
}

const RULES: readonly ResourceEventRule[] = DEFINITIONS.flatMap((d) => (d.events ? [{ type: d.type, ...d.events }] : []));

/** Every event rule, in the file's order. */
export function resourceEventRules(): readonly ResourceEventRule[] {
  return RULES;
}

/** Python's fnmatch on POSIX: `*`, `?`, `[seq]`, `[!seq]`, case-sensitive. */
function fnmatch(name: string, pattern: string): boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i] as string;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) source += '\\[';
      else {
        let body = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        source += `[${body}]`;
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's').test(name);
}

/**
 * The rule and operation for an event type, as Ceilometer picks them: the first
 * definition with a matching pattern, its create patterns before delete before update.
 */
export function resourceEventFor(eventType: string): { rule: ResourceEventRule; operation: ResourceEventOperation } | undefined {
  for (const rule of RULES) {
    for (const operation of ['create', 'delete', 'update'] as const) {
      if (rule[operation].some((pattern) => fnmatch(eventType, pattern))) return { rule, operation };
    }
  }
  return undefined;
}
