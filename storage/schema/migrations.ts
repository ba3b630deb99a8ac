import { METRICS_MEASURES_ROLLUPS } from './migrations/001-metrics-measures-rollups.ts';
import type { Migration } from './migrations/types.ts';

export { DEDUP_WINDOW, type Migration } from './migrations/types.ts';

/** Every migration, in the order they apply (ids ascending; one file each in ./migrations/). */
export const MIGRATIONS: readonly Migration[] = [METRICS_MEASURES_ROLLUPS].sort((a, b) => a.id - b.id);
