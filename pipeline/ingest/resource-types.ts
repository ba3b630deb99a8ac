/**
 * Which Gnocchi resource type a meter's resource is, and which of the sample's
 * resource_metadata become its attributes (after Ceilometer's gnocchi_resources.yaml).
 */
export interface ResourceTypeMapping {
  type: string;
  attributes: Readonly<Record<string, string>>;
}

const INSTANCE: ResourceTypeMapping = {
  type: 'instance',
  attributes: { host: 'host', image_ref: 'image_ref', display_name: 'display_name', flavor_id: 'flavor_id', flavor_name: 'flavor_name', launched_at: 'launched_at', server_group: 'server_group' },
};
const INSTANCE_DISK: ResourceTypeMapping = { type: 'instance_disk', attributes: { name: 'disk_name', instance_id: 'instance_id' } };
const INSTANCE_NIC: ResourceTypeMapping = { type: 'instance_network_interface', attributes: { name: 'vnic_name', instance_id: 'instance_id' } };
const NOVA_COMPUTE: ResourceTypeMapping = { type: 'nova_compute', attributes: { host_name: 'host' } };
const VOLUME: ResourceTypeMapping = { type: 'volume', attributes: { display_name: 'display_name', volume_type: 'volume_type', availability_zone: 'availability_zone' } };
const IMAGE: ResourceTypeMapping = { type: 'image', attributes: { name: 'name', container_format: 'container_format', disk_format: 'disk_format' } };
const VOLUME_PROVIDER: ResourceTypeMapping = { type: 'volume_provider', attributes: {} };
const VOLUME_PROVIDER_POOL: ResourceTypeMapping = { type: 'volume_provider_pool', attributes: { provider: 'provider' } };
const IDENTITY: ResourceTypeMapping = { type: 'identity', attributes: {} };
const SWIFT_ACCOUNT: ResourceTypeMapping = { type: 'swift_account', attributes: {} };
const GENERIC: ResourceTypeMapping = { type: 'generic', attributes: {} };

const EXACT: Readonly<Record<string, ResourceTypeMapping>> = {
  instance: INSTANCE,
  vcpus: INSTANCE,
  memory: INSTANCE,
  cpu: INSTANCE,
  'memory.usage': INSTANCE,
  'memory.resident': INSTANCE,
  'memory.swap.in': INSTANCE,
  'memory.swap.out': INSTANCE,
  'disk.root.size': INSTANCE,
  'disk.ephemeral.size': INSTANCE,
  'compute.instance.booting.time': INSTANCE,
  'image.size': IMAGE,
  'image.download': IMAGE,
  'image.serve': IMAGE,
  volume: VOLUME,
  'volume.size': VOLUME,
  'snapshot.size': VOLUME,
  'backup.size': VOLUME,
};

const BY_PREFIX: ReadonlyArray<readonly [string, ResourceTypeMapping]> = [
  ['disk.device.', INSTANCE_DISK],
  ['network.incoming.', INSTANCE_NIC],
  ['network.outgoing.', INSTANCE_NIC],
  ['compute.node.', NOVA_COMPUTE],
  // Most specific first.
  ['volume.provider.pool.capacity.', VOLUME_PROVIDER_POOL],
  ['volume.provider.capacity.', VOLUME_PROVIDER],
  ['volume.', VOLUME],
  ['identity.authenticate.', IDENTITY],
  ['storage.objects', SWIFT_ACCOUNT],
];

export function resourceTypeFor(metricName: string): ResourceTypeMapping {
  return EXACT[metricName] ?? BY_PREFIX.find(([prefix]) => metricName.startsWith(prefix))?.[1] ?? GENERIC;
}
