/**
 * Aodh's two alarm searches, applied to stored alarms in memory (a project's alarms are
 * few; values are compared, never spliced into SQL):
 * - the simple one of GET /v2/alarms (`q.field/q.op/q.value`: only `eq`, only Aodh's fields);
 * - the complex one of POST /v2/query/alarms (aodh/api/controllers/v2/query.py): a JSON
 *   filter of `=, !=, <, <=, =<, >, >=, =>, in` leaves under `and`/`or`/`not`, `orderby`
 *   and `limit`. Stable API.
 */
import { AlarmError, type Alarm } from './model.ts';

/** Aodh's ALARM_QUERY_FIELDS_ALLOWED. */
export const ALARM_SIMPLE_QUERY_FIELDS = ['all_projects', 'user_id', 'project_id', 'type', 'name', 'enabled', 'state', 'severity', 'timestamp', 'repeat_actions'] as const;
/** Fields a complex query compares (Aodh's Alarm model columns; `tenant` and `user` are Aodh's aliases). */
export const ALARM_COMPLEX_QUERY_FIELDS = ['alarm_id', 'name', 'description', 'type', 'enabled', 'state', 'state_reason', 'severity', 'repeat_actions', 'project_id', 'user_id', 'timestamp', 'state_timestamp'] as const;
/** Fields a complex history query compares (Aodh's AlarmChange). */
export const ALARM_HISTORY_QUERY_FIELDS = ['event_id', 'alarm_id', 'type', 'detail', 'user_id', 'project_id', 'on_behalf_of', 'severity', 'timestamp'] as const;
const FIELD_ALIASES: Record<string, string> = { tenant: 'project_id', user: 'user_id' };
const SIMPLE_OPS = ['=', '!=', '<', '>', '<=', '=<', '>=', '=>', 'in'] as const;
const TIME_FIELDS = new Set(['timestamp', 'state_timestamp']);

const invalid = (message: string) => new AlarmError('INVALID', message);
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export interface SimpleQuery {
  field: string;
  op: string;
  value: string;
  type?: string;
}

/** Parses WSME's boolean text (Aodh's get_query_value(..., 'boolean')). */
function boolText(value: string, field: string): boolean {
  if (/^(true|1|yes|on)$/i.test(value)) return true;
  if (/^(false|0|no|off)$/i.test(value)) return false;
  throw invalid(`q.value: ${field} expects a boolean (true or false), got ${JSON.stringify(value)}`);
}

/** Aodh's checks on `q`: known fields, `eq` only. Returns whether all_projects was asked for and the filters left. */
export function parseSimpleQuery(queries: readonly SimpleQuery[]): { allProjects: boolean; filters: SimpleQuery[] } {
  const unknown = queries.find((q) => !(ALARM_SIMPLE_QUERY_FIELDS as readonly string[]).includes(q.field));
  if (unknown) throw invalid(`Invalid input for field/attribute field. Value: '${unknown.field}'. only fields ${ALARM_SIMPLE_QUERY_FIELDS.join(', ')} are allowed`);
  const badOp = queries.find((q) => q.op !== 'eq');
  if (badOp) throw invalid(`Invalid input for field/attribute op. Value: '${badOp.op}'. only operations eq are allowed`);
  const all = queries.find((q) => q.field === 'all_projects');
  for (const q of queries) if (q.field === 'enabled' || q.field === 'repeat_actions') boolText(q.value, q.field);
  return { allProjects: all ? boolText(all.value, 'all_projects') : false, filters: queries.filter((q) => q.field !== 'all_projects') };
}

export function matchesSimpleQuery(alarm: Alarm, filters: readonly SimpleQuery[]): boolean {
  return filters.every((q) => {
    const actual = (alarm as unknown as Record<string, unknown>)[q.field];
    if (typeof actual === 'boolean') return actual === boolText(q.value, q.field);
    if (TIME_FIELDS.has(q.field)) return Date.parse(String(actual)) === Date.parse(q.value);
    return String(actual) === q.value;
  });
}

/** A validated filter tree: `{and: [...]}`, `{or: [...]}`, `{not: {...}}` or `{op: {field: value}}` (op lower case, `=<`/`=>` folded). */
export type ComplexFilter = Record<string, unknown>;
type Filter = ComplexFilter;

export interface ComplexQuery {
  filter: Filter | null;
  orderby: Array<{ field: string; dir: 'asc' | 'desc' }>;
  limit: number | null;
}

function jsonText(value: unknown, field: string): unknown {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new AlarmError('INVALID', `${field}: expected JSON text, got ${JSON.stringify(value)}`, { cause: err });
  }
}

function fieldName(name: string, where: string, fields: readonly string[]): string {
  const lower = name.toLowerCase();
  const field = FIELD_ALIASES[lower] ?? lower;
  if (!fields.includes(field)) throw invalid(`Filter expression not valid: ${where} names '${name}', expected one of ${fields.join(', ')}`);
  return field;
}

/** Validates a filter tree and rewrites it to lower-case operators and canonical field names. */
function validateFilter(node: unknown, where: string, fields: readonly string[], depth = 0): Filter {
  if (depth > 32) throw invalid(`Filter expression not valid: ${where} is nested too deeply`);
  if (!isObject(node) || Object.keys(node).length !== 1) throw invalid(`Filter expression not valid: ${where} must be an object with exactly one operator, got ${JSON.stringify(node)}`);
  const [rawOp, operand] = Object.entries(node)[0]!;
  const op = rawOp.toLowerCase();
  if (op === 'and' || op === 'or') {
    if (!Array.isArray(operand) || operand.length === 0) throw invalid(`Filter expression not valid: ${where}.${rawOp} must be a non-empty list`);
    return { [op]: operand.map((sub, i) => validateFilter(sub, `${where}.${rawOp}[${i}]`, fields, depth + 1)) };
  }
  if (op === 'not') return { not: validateFilter(operand, `${where}.not`, fields, depth + 1) };
  if (!(SIMPLE_OPS as readonly string[]).includes(op)) throw invalid(`Filter expression not valid: ${where} has operator '${rawOp}', expected one of and, or, not, ${SIMPLE_OPS.join(', ')}`);
  if (!isObject(operand) || Object.keys(operand).length !== 1) throw invalid(`Filter expression not valid: ${where}.${rawOp} must name exactly one field`);
  const [rawField, value] = Object.entries(operand)[0]!;
  const field = fieldName(rawField, `${where}.${rawOp}`, fields);
  const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  if (op === 'in' ? !Array.isArray(value) || value.length === 0 || !value.every(scalar) : !scalar(value)) {
    throw invalid(`Filter expression not valid: ${where}.${rawOp}.${rawField} expects ${op === 'in' ? 'a non-empty list of values' : 'a string, number or boolean'}, got ${JSON.stringify(value)}`);
  }
  if (TIME_FIELDS.has(field) && (op === 'in' ? (value as unknown[]) : [value]).some((v) => Number.isNaN(Date.parse(String(v))))) throw invalid(`Filter expression not valid: ${where}.${rawOp}.${rawField} expects an ISO 8601 time, got ${JSON.stringify(value)}`);
  return { [op === '=<' ? '<=' : op === '=>' ? '>=' : op]: { [field]: value } };
}

/** Parses Aodh's ComplexQuery body ({filter, orderby, limit}; filter and orderby as JSON text) on `fields` (default: the alarm's). */
export function parseComplexQuery(body: unknown, fields: readonly string[] = ALARM_COMPLEX_QUERY_FIELDS): ComplexQuery {
  const input = isObject(body) ? body : {};
  const extra = Object.keys(input).filter((k) => !['filter', 'orderby', 'limit'].includes(k));
  if (extra.length > 0) throw invalid(`query: unknown field${extra.length > 1 ? 's' : ''} ${extra.join(', ')} (expected filter, orderby, limit)`);
  const filterValue = jsonText(input.filter, 'filter');
  const orderValue = jsonText(input.orderby, 'orderby') ?? [];
  if (!Array.isArray(orderValue)) throw invalid(`Order-by expression not valid: expected a list such as [{"name": "asc"}], got ${JSON.stringify(orderValue)}`);
  const orderby = orderValue.map((item, i) => {
    if (!isObject(item) || Object.keys(item).length !== 1) throw invalid(`Order-by expression not valid: orderby[${i}] must be one {field: "asc"|"desc"}`);
    const [field, dir] = Object.entries(item)[0]!;
    const direction = typeof dir === 'string' ? dir.toLowerCase() : '';
    if (direction !== 'asc' && direction !== 'desc') throw invalid(`Order-by expression not valid: orderby[${i}].${field} must be "asc" or "desc", got ${JSON.stringify(dir)}`);
    return { field: fieldName(field, `orderby[${i}]`, fields), dir: direction as 'asc' | 'desc' };
  });
  const limit = input.limit === undefined || input.limit === null ? null : Number(input.limit);
  if (limit !== null && (!Number.isInteger(limit) || limit <= 0)) throw invalid(`Limit must be positive, got ${JSON.stringify(input.limit)}`);
  return { filter: filterValue === undefined ? null : validateFilter(filterValue, 'filter', fields), orderby, limit };
}

function compare(actual: unknown, expected: unknown, field: string): number {
  if (TIME_FIELDS.has(field)) return Date.parse(String(actual)) - Date.parse(String(expected));
  if (typeof actual === 'boolean') return Number(actual) - Number(typeof expected === 'string' ? /^true$/i.test(expected) : Boolean(expected));
  const a = String(actual);
  const b = String(expected);
  return a < b ? -1 : a > b ? 1 : 0;
}

function matches(alarm: Alarm, node: Filter): boolean {
  const [op, operand] = Object.entries(node)[0]!;
  if (op === 'and') return (operand as Filter[]).every((sub) => matches(alarm, sub));
  if (op === 'or') return (operand as Filter[]).some((sub) => matches(alarm, sub));
  if (op === 'not') return !matches(alarm, operand as Filter);
  const [field, expected] = Object.entries(operand as Record<string, unknown>)[0]!;
  const actual = (alarm as unknown as Record<string, unknown>)[field];
  if (op === 'in') return (expected as unknown[]).some((v) => compare(actual, v, field) === 0);
  const c = compare(actual, expected, field);
  return op === '=' ? c === 0 : op === '!=' ? c !== 0 : op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
}

/** The alarms the query selects, ordered (default: newest change first, as Aodh) and limited. */
export function runComplexQuery(alarms: readonly Alarm[], query: ComplexQuery): Alarm[] {
  const selected = query.filter ? alarms.filter((a) => matches(a, query.filter!)) : [...alarms];
  const order = query.orderby.length > 0 ? query.orderby : [{ field: 'timestamp', dir: 'desc' as const }];
  selected.sort((x, y) => {
    for (const { field, dir } of order) {
      const c = compare((x as unknown as Record<string, unknown>)[field], (y as unknown as Record<string, unknown>)[field], field);
      if (c !== 0) return dir === 'asc' ? c : -c;
    }
    return 0;
  });
  return query.limit === null ? selected : selected.slice(0, query.limit);
}
