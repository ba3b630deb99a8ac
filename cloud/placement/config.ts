/**
 * Placement's fixed settings and Nova's resource-tracker defaults. Stable: the numbers are
 * OpenStack's own, so capacity computed here matches a real deployment's.
 */

/** The microversions we serve: all of Placement's, 1.0 (Newton) to 1.39 (Yoga, still the newest). */
export const MIN_MICROVERSION = '1.0';
export const MAX_MICROVERSION = '1.39';

/** Placement's column limits (placement/db/constants.py): inventory integers are 32-bit signed. */
export const MAX_INT = 2_147_483_647;
/** allocation_ratio is a single-precision float column in Placement. */
export const SQL_SP_FLOAT_MAX = 3.40282e38;

/** Custom resource classes get database ids from here; standard ones sit below. */
export const MIN_CUSTOM_RESOURCE_CLASS_ID = 10_000;

/**
 * The project and user Placement records for consumers written before microversion 1.8
 * (placement.conf `incomplete_consumer_project_id` / `incomplete_consumer_user_id` defaults).
 */
export const INCOMPLETE_CONSUMER_ID = '00000000-0000-0000-0000-000000000000';

/**
 * Nova's defaults for a new compute node (nova/conf/compute.py, since 2023.1 "Antelope"):
 * `initial_cpu_allocation_ratio` 4.0 (it was 16.0 until Zed), `initial_ram_allocation_ratio`
 * 1.0 (was 1.5), `initial_disk_allocation_ratio` 1.0, `reserved_host_memory_mb` 512,
 * `reserved_host_disk_mb` 0, `reserved_host_cpus` 0.
 */
export const DEFAULT_CPU_ALLOCATION_RATIO = 4.0;
export const DEFAULT_RAM_ALLOCATION_RATIO = 1.0;
export const DEFAULT_DISK_ALLOCATION_RATIO = 1.0;
export const DEFAULT_RESERVED_HOST_MEMORY_MB = 512;
export const DEFAULT_RESERVED_HOST_DISK_MB = 0;
export const DEFAULT_RESERVED_HOST_CPUS = 0;
