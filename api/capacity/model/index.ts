/** api/capacity/model: pure capacity arithmetic and flavor fit (experimental; no I/O). */
export {
  DEFAULT_CAPACITY_FACTORS,
  DEFAULT_CPU_ALLOCATION_RATIO,
  DEFAULT_DISK_ALLOCATION_RATIO,
  DEFAULT_HYPERTHREADING_FACTOR,
  DEFAULT_OS_OVERHEAD_FRACTION,
  DEFAULT_RAM_ALLOCATION_RATIO,
  RESOURCE_KEYS,
  resolveCapacityFactors,
  type CapacityFactors,
  type CapacityFactorsInput,
  type ResourceKey,
  type Resources,
} from './config.ts';
export { DEFAULT_AVAILABILITY_ZONE, capacityReport, hostCapacity, totals, type CapacityReport, type CapacityTotals, type HostCapacity, type HostInventory } from './capacity.ts';
export { MAX_PACKED_INSTANCES, fitByMonth, fitEachFlavor, packMix, type Flavor, type FlavorFit, type FutureUse, type HostRoom, type MixShare, type MixedPacking, type MonthlyFit } from './flavor-fit.ts';
