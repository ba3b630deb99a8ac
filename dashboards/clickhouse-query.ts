import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/dashboard';
import { clickhouseRef } from './datasources.ts';

/**
 * How the ClickHouse plugin shapes a result (its `queryType`), and the frame format
 * its backend (sqlds) is asked for (`format`): the plugin maps table -> 1, logs -> 2,
 * timeSeries -> 0 (grafana/clickhouse-datasource src/data/utils.ts
 * mapQueryTypeToGrafanaFormat). A time series result may be "long" (time, label, value):
 * the backend pivots it to one series per label.
 */
export const CLICKHOUSE_RESULT = {
  timeSeries: { queryType: 'timeSeries', format: 0 },
  table: { queryType: 'table', format: 1 },
  logs: { queryType: 'logs', format: 2 },
} as const;

export type ClickHouseResult = keyof typeof CLICKHOUSE_RESULT;

/** The plugin's SQL-editor query model (CHSqlQuery), as stored in a panel's targets. */
export interface ClickHouseQuery {
  refId?: string;
  hide?: boolean;
  datasource?: DataSourceRef;
  editorType: 'sql';
  queryType: (typeof CLICKHOUSE_RESULT)[ClickHouseResult]['queryType'];
  format: (typeof CLICKHOUSE_RESULT)[ClickHouseResult]['format'];
  rawSql: string;
  /** Marks this as a Dataquery variant for the SDK's builders; not serialised (a function). */
  _implementsDataqueryVariant(): void;
}

/**
 * The SDK ships no ClickHouse query type, so this is one, built the way the SDK's README
 * shows for third-party plugins. `rawSql` uses the plugin's macros ($__timeFilter(col),
 * $__timeInterval(col), $__fromTime, $__toTime) and dashboard variables.
 */
export class ClickHouseQueryBuilder implements Builder<Dataquery> {
  private readonly internal: ClickHouseQuery;

  constructor(result: ClickHouseResult, rawSql: string) {
    this.internal = {
      datasource: clickhouseRef,
      editorType: 'sql',
      ...CLICKHOUSE_RESULT[result],
      rawSql: dedent(rawSql),
      _implementsDataqueryVariant() {},
    };
  }

  refId(refId: string): this {
    this.internal.refId = refId;
    return this;
  }

  hide(hide: boolean): this {
    this.internal.hide = hide;
    return this;
  }

  build(): ClickHouseQuery {
    return this.internal;
  }
}

export const timeSeriesSql = (sql: string) => new ClickHouseQueryBuilder('timeSeries', sql);
export const tableSql = (sql: string) => new ClickHouseQueryBuilder('table', sql);
export const logsSql = (sql: string) => new ClickHouseQueryBuilder('logs', sql);

/**
 * Strips the indentation of a template literal's first line from every line, so the SQL
 * reads well in Grafana's editor (fragments spliced in keep their own relative indentation).
 */
export function dedent(text: string): string {
  const lines = text.replace(/^\s*\n/, '').replace(/\s+$/, '').split('\n');
  const indent = (lines[0] ?? '').length - (lines[0] ?? '').trimStart().length;
  return lines.map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length))).join('\n');
}
