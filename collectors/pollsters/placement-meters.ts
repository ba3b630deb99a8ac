/**
 * The Placement meters (Cumulus's own; Ceilometer has none): per resource provider and
 * resource class, the inventory fields and the allocated amount, named
 * `placement.<class>.<field>` with the class in lower case (`placement.vcpu.total`,
 * `placement.memory_mb.used`, ...). All gauges: they are the state at the poll's instant.
 * Experimental, as the names may still change before capacity planning is stable.
 */
import { sampleId, signSample, type Sample } from '../../core/index.ts';
import type { PlacementInventory, ProviderDetail, ProviderSummary } from './placement-source.ts';

/** The resource classes capacity planning reads, with the unit of their amounts. */
export const PLACEMENT_RESOURCE_CLASSES = [
  { resourceClass: 'VCPU', meter: 'vcpu', unit: 'vcpu' },
  { resourceClass: 'MEMORY_MB', meter: 'memory_mb', unit: 'MB' },
  { resourceClass: 'DISK_GB', meter: 'disk_gb', unit: 'GB' },
] as const;

/** Inventory fields sampled per class; `allocation_ratio` has no unit of its own. */
const INVENTORY_FIELDS: ReadonlyArray<{ field: keyof PlacementInventory; unitless?: boolean }> = [
  { field: 'total' },
  { field: 'reserved' },
  { field: 'allocation_ratio', unitless: true },
  { field: 'min_unit' },
  { field: 'max_unit' },
];

export interface PlacementMeterInfo {
  name: string;
  unit: string;
}

/** Every meter a poll emits per provider (when the provider has that class's inventory), in emission order. */
export const PLACEMENT_METERS: readonly PlacementMeterInfo[] = PLACEMENT_RESOURCE_CLASSES.flatMap(({ meter, unit }) => [
  ...INVENTORY_FIELDS.map(({ field, unitless }) => ({ name: `placement.${meter}.${field}`, unit: unitless ? 'ratio' : unit })),
  { name: `placement.${meter}.used`, unit },
]);

/** A provider's metadata on every sample: what the resource_provider resource type's attributes come from. */
export function providerMetadata(provider: ProviderSummary, detail: ProviderDetail, availabilityZone: string | null): Record<string, unknown> {
  return {
    name: provider.name,
    // The compute node's provider is named after the hypervisor host (nova's nodename).
    host: provider.name,
    availability_zone: availabilityZone,
    // Sorted and comma-joined: a Gnocchi attribute is a scalar, and the order must not make a new revision.
    aggregates: [...detail.aggregates].sort().join(','),
  };
}

/**
 * One provider's samples at one poll: signed as the pipeline verifies them, ids derived
 * from `placement:<provider uuid>:<instant>`, meter and resource, so a re-sent poll keeps
 * its ids. Readings that are not finite numbers are left out and counted in `skipped`.
 */
export function providerSamples(
  provider: ProviderSummary,
  detail: ProviderDetail,
  availabilityZone: string | null,
  stamp: { atMs: number; source: string; secret: string },
): { samples: Sample[]; skipped: number } {
  const instant = new Date(stamp.atMs).toISOString();
  const messageId = `placement:${provider.uuid}:${instant}`;
  const metadata = providerMetadata(provider, detail, availabilityZone);
  const samples: Sample[] = [];
  let skipped = 0;
  const add = (name: string, unit: string, volume: unknown) => {
    if (typeof volume !== 'number' || !Number.isFinite(volume)) {
      skipped += 1;
      return;
    }
    samples.push(
      signSample(
        {
          id: sampleId(messageId, name, provider.uuid),
          name,
          type: 'gauge',
          unit,
          volume,
          user_id: null,
          project_id: null,
          resource_id: provider.uuid,
          timestamp: instant.replace('Z', '+00:00'),
          resource_metadata: metadata,
          source: stamp.source,
          message_id: messageId,
        },
        stamp.secret,
      ),
    );
  };
  for (const { resourceClass, meter, unit } of PLACEMENT_RESOURCE_CLASSES) {
    const inventory = detail.inventories[resourceClass];
    // No inventory of this class (a provider without disk, say): nothing to plan with, no samples.
    if (!inventory) continue;
    for (const { field, unitless } of INVENTORY_FIELDS) add(`placement.${meter}.${field}`, unitless ? 'ratio' : unit, inventory[field]);
    // Placement lists every inventoried class in usages; an absent one means nothing allocated.
    add(`placement.${meter}.used`, unit, detail.usages[resourceClass] ?? 0);
  }
  return { samples, skipped };
}
