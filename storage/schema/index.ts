export { migrate } from './migrate.ts';
export { MIGRATIONS, DEDUP_WINDOW, type Migration } from './migrations.ts';
