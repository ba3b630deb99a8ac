/**
 * What the Placement pollster reads: per resource provider (a compute node), its
 * inventories and usages from Placement and its availability zone from Nova. Shaped like
 * Placement's own JSON (field names as in GET /resource_providers/{uuid}/inventories).
 * The collectors never import cloud/: the composition root hands in a source, over HTTP
 * (placement-http-source.ts) or in-process (closures over the control plane). Experimental.
 */

/** One inventory record, in Placement's field names. */
export interface PlacementInventory {
  total: number;
  reserved: number;
  min_unit: number;
  max_unit: number;
  step_size: number;
  allocation_ratio: number;
}

export interface ProviderSummary {
  uuid: string;
  name: string;
}

/** One provider's state now: what the meters are built from. */
export interface ProviderDetail {
  /** By resource class (`VCPU`, `MEMORY_MB`, `DISK_GB`, ...). */
  inventories: Record<string, PlacementInventory>;
  /** Allocated amount by resource class (classes with no allocation may be absent). */
  usages: Record<string, number>;
  /** Placement aggregate UUIDs. */
  aggregates: string[];
}

/**
 * The pollster's one input. Every call reads the state now; a rejection means that part
 * could not be read this time (the provider list, one provider, or the zones).
 */
export interface PlacementSource {
  providers(): Promise<ProviderSummary[]>;
  provider(uuid: string): Promise<ProviderDetail>;
  /** Compute host name -> availability zone (Nova's view); a provider is matched by its name. */
  availabilityZones(): Promise<Record<string, string>>;
}

type MaybePromise<T> = T | Promise<T>;

/** Closures the composition root builds over the Placement and Nova services in this process. */
export interface InProcessPlacementReaders {
  providers(): MaybePromise<ProviderSummary[]>;
  inventories(uuid: string): MaybePromise<Record<string, PlacementInventory>>;
  usages(uuid: string): MaybePromise<Record<string, number>>;
  aggregates(uuid: string): MaybePromise<string[]>;
  availabilityZones(): MaybePromise<Record<string, string>>;
}

/** The embedded-mode source: a closure that throws becomes a rejection, as an HTTP failure would. */
export function createInProcessPlacementSource(readers: InProcessPlacementReaders): PlacementSource {
  return {
    providers: async () => readers.providers(),
    provider: async (uuid) => {
      const [inventories, usages, aggregates] = await Promise.all([readers.inventories(uuid), readers.usages(uuid), readers.aggregates(uuid)]);
      return { inventories, usages, aggregates };
    },
    availabilityZones: async () => readers.availabilityZones(),
  };
}
