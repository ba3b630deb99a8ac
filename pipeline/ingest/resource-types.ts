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
  attributes: { host: 'host', image_ref: 'image_ref', display_name: 'display_name', flavor_id: 'flavor_id', flavor_name: 'flavor_name', launched_at: 'launched_at' },
};

const BY_METRIC: Readonly<Record<string, ResourceTypeMapping>> = {
  instance: INSTANCE,
  vcpus: INSTANCE,
  memory: INSTANCE,
  'memory.usage': INSTANCE,
  cpu: INSTANCE,
};

const GENERIC: ResourceTypeMapping = { type: 'generic', attributes: {} };

export function resourceTypeFor(metricName: string): ResourceTypeMapping {
  return BY_METRIC[metricName] ?? GENERIC;
}
