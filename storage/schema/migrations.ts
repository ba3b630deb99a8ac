import { METRICS_MEASURES_ROLLUPS } from './migrations/001-metrics-measures-rollups.ts';
import { MEASURES_RETENTION } from './migrations/002-measures-retention.ts';
import { RESOURCE_HISTORY } from './migrations/003-resource-history.ts';
import { EVENTS_AUDIT_LOGS_RATED_USAGE } from './migrations/004-events-audit-logs-rated-usage.ts';
import { METRIC_DELETION_MEASURE_REFUSALS } from './migrations/005-metric-deletion-measure-refusals.ts';
import { ALARM_HISTORY } from './migrations/006-alarm-history.ts';
import { ALERT_DELIVERIES } from './migrations/007-alert-deliveries.ts';
import { SYNTHETIC_CHECKS } from './migrations/008-synthetic-checks.ts';
import { ROLLUPS_WRITTEN_BY_WRITERS } from './migrations/009-rollups-written-by-writers.ts';
import type { Migration } from './migrations/types.ts';

export { DEDUP_WINDOW, type Migration } from './migrations/types.ts';

/** Every migration, in the order they apply (ids ascending; one file each in ./migrations/). */
export const MIGRATIONS: readonly Migration[] = [METRICS_MEASURES_ROLLUPS, MEASURES_RETENTION, EVENTS_AUDIT_LOGS_RATED_USAGE, RESOURCE_HISTORY, METRIC_DELETION_MEASURE_REFUSALS, ALARM_HISTORY, ALERT_DELIVERIES, SYNTHETIC_CHECKS, ROLLUPS_WRITTEN_BY_WRITERS].sort((a, b) => a.id - b.id);
