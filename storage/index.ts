/**
 * Storage: the one way Cumulus reaches ClickHouse. Embedded chDB by default, a ClickHouse
 * server over HTTP when `clickhouseUrl` (CLICKHOUSE_URL) is set; same SQL and bound
 * `{name:Type}` parameters for both, and the same answers: both drivers pin
 * `session_timezone = UTC`, ISO-8601 timestamps on insert (`date_time_input_format =
 * best_effort`) and 64-bit integers as JSON strings (`count()` reads back as "3"), and every
 * insert is synchronous and deduplicated by its token, materialized views included.
 *
 * The chDB HTTP endpoint (./chdb-http-endpoint.ts) is test tooling and deliberately not
 * exported here.
 */
import type { ClickHouseDriver } from './driver.ts';
import { createChdbDriver } from './chdb-driver.ts';
import { createHttpDriver } from './http-driver.ts';

export type { BoundQuery, ClickHouseDriver, InsertOptions } from './driver.ts';
export type { ChdbDriverConfig } from './chdb-driver.ts';
export type { HttpDriverConfig } from './http-driver.ts';
export { createChdbDriver } from './chdb-driver.ts';
export { createHttpDriver } from './http-driver.ts';

export interface StorageConfig {
  /** ClickHouse HTTP URL (CLICKHOUSE_URL); when set (non-empty) the http driver is used. */
  readonly clickhouseUrl?: string;
  /** chDB data directory, used when no URL is set. */
  readonly dataDir: string;
  readonly clickhouseUser?: string;
  readonly clickhousePassword?: string;
  readonly clickhouseDatabase?: string;
  /** Per-request timeout of the http driver, in milliseconds. */
  readonly requestTimeoutMs?: number;
}

/** The http driver when a URL is configured, else embedded chDB at `dataDir`. */
export function createDriver(config: StorageConfig): ClickHouseDriver {
  const url = config.clickhouseUrl?.trim();
  if (url !== undefined && url !== '') {
    return createHttpDriver({
      url,
      ...(config.clickhouseUser !== undefined ? { username: config.clickhouseUser } : {}),
      ...(config.clickhousePassword !== undefined ? { password: config.clickhousePassword } : {}),
      ...(config.clickhouseDatabase !== undefined ? { database: config.clickhouseDatabase } : {}),
      ...(config.requestTimeoutMs !== undefined ? { requestTimeoutMs: config.requestTimeoutMs } : {}),
    });
  }
  return createChdbDriver({ dataDir: config.dataDir });
}

// Schema, query builders and the archive-policy model shared by the pipeline and the API.
export * from './schema/index.ts';
export * from './queries/index.ts';
export * from './queries/rating-usage.ts';
export * from './archive-policies.ts';
export * from './resource-types.ts';
export * from './resource-type-store.ts';
export * from './resource-ids.ts';
export * from './resource-writes.ts';
export * from './policy-store.ts';
export * from './back-window.ts';
export * from './measure-writes.ts';
export { insertMeasureRows, insertMeasureRuns, computeRollupRows, computeRollups, type MeasureRowInput, type MeasureRun, type MeasureInsertOptions } from './measure-insert.ts';
export { RollupColumns, type RollupRow, type RollupWriteObserver } from './rollup-rows.ts';
export type { NativeBlock, NativeColumn, NativeColumnType } from './native-block.ts';
export * from './metric-writes.ts';
export * from './rating/index.ts';
export * from './alarms/index.ts';
export * from './queries/alarm-history.ts';
export * from './hot-rollups.ts';
export * from './queries/rollup-states.ts';
