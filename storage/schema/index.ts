export { migrate } from './migrate.ts';
export { MIGRATIONS, DEDUP_WINDOW, type Migration } from './migrations.ts';
export { DEFAULT_RETENTION_DAYS, MAX_RETENTION_DAYS } from './migrations/004-events-audit-logs-rated-usage.ts';
export * from './cluster.ts';
