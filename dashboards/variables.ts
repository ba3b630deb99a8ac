import { CustomVariableBuilder, QueryVariableBuilder, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import { clickhouseRef } from './datasources.ts';
import { dedent } from './clickhouse-query.ts';

/**
 * The value a multi-value variable takes when "All" is picked. The plugin writes a
 * multi-value variable as 'a','b' (CHDatasource.format); a custom all-value is written
 * as is, so "All" becomes the one literal '__all__' instead of a list of every value
 * (which would be long, and empty when the table is). `inVariable` tests for it.
 */
export const ALL_VALUE = "'__all__'";

/** `column` matches the multi-value variable `name`, or the variable is "All". */
export function inVariable(column: string, name: string): string {
  return `(${ALL_VALUE} IN (\${${name}}) OR ${column} IN (\${${name}}))`;
}

/**
 * A multi-value ClickHouse query variable with "All". The query returns one column of
 * values; it uses no macro so it runs the same wherever Grafana evaluates it, and
 * refreshes with the time range so new projects appear.
 */
export function clickhouseVariable(name: string, label: string, sql: string): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(clickhouseRef)
    .query(dedent(sql))
    .definition(dedent(sql))
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue(ALL_VALUE)
    .current({ text: 'All', value: '$__all', selected: true });
}

/** A single-value variable with fixed choices; `values` are "label : value" pairs or plain values. */
export function customVariable(name: string, label: string, values: readonly string[], current: string): CustomVariableBuilder {
  return new CustomVariableBuilder(name)
    .label(label)
    .values(values.join(','))
    .current({ text: current, value: current, selected: true });
}
