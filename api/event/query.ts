import { EVENT_SORT_KEYS, TRAIT_OPERATORS, type EventSort, type TraitFilter, type TraitOperator } from '../../storage/index.ts';
import { ApiError } from '../errors.ts';
import { PANKO_TRAIT_TYPES, storedTraitType, type PankoTraitType } from './format.ts';

/**
 * Panko's event query: `q.field`, `q.op`, `q.value`, `q.type` lists (the n-th of each make
 * one filter), `limit`, `sort` (`key[:dir]`, repeatable) and `marker`. Pure: the routes
 * turn the result into a storage query.
 */

/** Panko's default `[api] default_api_return_limit`. */
export const DEFAULT_EVENT_LIMIT = 100;
/** The most events one page may ask for. */
export const MAX_EVENT_LIMIT = 10_000;

/** The query string as the route's schema has shaped it (repeatable keys are lists). */
export interface PankoQueryString {
  'q.field'?: string[];
  'q.op'?: string[];
  'q.value'?: string[];
  'q.type'?: string[];
  limit?: number;
  sort?: string[];
  marker?: string;
}

/** What the filters ask for, in storage terms; `start`/`end` are Panko's inclusive bounds. */
export interface PankoEventFilter {
  eventType?: string;
  messageId?: string;
  start?: Date;
  end?: Date;
  /** `project_id eq ...`: the event's project (its project_id trait, else tenant_id). */
  project?: string;
  traits: TraitFilter[];
}

const OPERATORS_TEXT = `(${['lt', 'le', 'eq', 'ne', 'ge', 'gt'].map((o) => `'${o}'`).join(', ')})`;
const TYPES_TEXT = `[${PANKO_TRAIT_TYPES.map((t) => `'${t}'`).join(', ')}]`;

const clientError = (message: string) => new ApiError('CUMULUS_API_INVALID_INPUT', 400, message);

/** WSME's InvalidInput wording: which field, which value, what was expected. */
export const invalidInput = (field: string, value: unknown, why: string) => clientError(`Invalid input for field/attribute ${field}. Value: '${String(value)}'. ${why}`);

/** Panko's isotime: ISO 8601 with or without a zone (naive is UTC); never epoch seconds. */
export function parseIsoTime(where: string, value: string): Date {
  const text = value.trim();
  const naive = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(text);
  const zoned = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(text);
  const date = naive ? new Date(`${text.replace(' ', 'T')}${text.length > 10 ? 'Z' : 'T00:00:00Z'}`) : zoned ? new Date(text.replace(' ', 'T')) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw clientError(`${where}: Unable to convert the value ${value} to the expected data type datetime.`);
  return date;
}

function checkTraitValue(where: string, type: PankoTraitType, value: string): string {
  const text = value.trim();
  const ok =
    type === 'string' ||
    (type === 'integer' && /^[+-]?\d+$/.test(text) && BigInt(text) <= 9_223_372_036_854_775_807n && BigInt(text) >= -9_223_372_036_854_775_808n) ||
    (type === 'float' && text !== '' && Number.isFinite(Number(text))) ||
    (type === 'datetime' && !Number.isNaN(parseIsoTime(where, value).getTime()));
  if (!ok) throw clientError(`${where}: Unable to convert the value ${value} to the expected data type ${type}.`);
  return type === 'string' ? value : text;
}

/**
 * An optional attribute of each filter. WSME pairs the lists by position: the n-th q.op
 * belongs to the n-th q.field, and filters past the end of a shorter list take the default.
 */
function column(query: PankoQueryString, key: 'q.op' | 'q.type', count: number): Array<string | undefined> {
  const list = query[key] ?? [];
  if (list.length > count) throw clientError(`querystring.${key} has ${list.length} entries for ${count} q.field: give at most one per filter`);
  return Array.from({ length: count }, (_, i) => list[i]);
}

/**
 * The filters of `q`, checked as Panko checks them: `event_type` and `message_id` take
 * only `eq`, `start_timestamp` only `ge`, `end_timestamp` only `le`; any other field is a
 * trait of `q.type` (string by default); the last of a repeated event field wins.
 * `all_tenants` is accepted and ignored: who sees which projects is the access policy's.
 */
export function parseEventFilter(query: PankoQueryString): PankoEventFilter {
  const fields = query['q.field'] ?? [];
  const values = query['q.value'] ?? [];
  if (values.length !== fields.length) throw clientError(`querystring.q.value has ${values.length} entries for ${fields.length} q.field: every filter needs a field and a value`);
  const ops = column(query, 'q.op', fields.length);
  const types = column(query, 'q.type', fields.length);
  const filter: PankoEventFilter = { traits: [] };
  fields.forEach((field, i) => {
    const value = values[i] as string;
    const op = ops[i] || 'eq';
    if (!(TRAIT_OPERATORS as readonly string[]).includes(op)) throw clientError(`querystring.q.op[${i}]: Operator ${op} is not supported. The supported operators are: ${OPERATORS_TEXT}`);
    const only = (allowed: string) => {
      if (op !== allowed) throw clientError(`querystring.q.op[${i}]: Operator ${op} is not supported. Only \`${allowed}' operator is available for field ${field}`);
    };
    switch (field) {
      case 'event_type':
        only('eq');
        filter.eventType = value;
        return;
      case 'message_id':
        only('eq');
        filter.messageId = value;
        return;
      case 'start_timestamp':
        only('ge');
        filter.start = parseIsoTime(`querystring.q.value[${i}] (start_timestamp)`, value);
        return;
      case 'end_timestamp':
        only('le');
        filter.end = parseIsoTime(`querystring.q.value[${i}] (end_timestamp)`, value);
        return;
      case 'all_tenants':
        return;
    }
    const type = types[i] || 'string';
    if (!(PANKO_TRAIT_TYPES as readonly string[]).includes(type)) throw clientError(`querystring.q.type[${i}]: The data type ${type} is not supported. The supported data type list is: ${TYPES_TEXT}`);
    const checked = checkTraitValue(`querystring.q.value[${i}]`, type as PankoTraitType, value);
    // The project column holds the project_id trait, else tenant_id: an equality reads it.
    if (field === 'project_id' && op === 'eq' && type === 'string') {
      filter.project = value;
      return;
    }
    filter.traits.push({ name: field, type: storedTraitType(type as PankoTraitType), op: op as TraitOperator, value: checked });
  });
  return filter;
}

/** Panko's `sort=key[:dir]` list; directions default to asc. */
export function parseEventSort(sort: readonly string[] | undefined): EventSort[] {
  return (sort ?? []).map((entry) => {
    const [key = '', dir = ''] = entry.split(/:(.*)/s);
    if (!(EVENT_SORT_KEYS as readonly string[]).includes(key)) {
      throw invalidInput(
        'sort',
        entry,
        `the sort parameter should be a pair of sort key and sort dir combined with ':', or only sort key specified and sort dir will be default 'asc', the supported sort keys are: ('message_id', 'generated')`,
      );
    }
    if (dir !== '' && dir !== 'asc' && dir !== 'desc') {
      throw invalidInput(
        'sort direction',
        entry,
        `the sort parameter should be a pair of sort key and sort dir combined with ':', or only sort key specified and sort dir will be default 'asc', the supported sort directions are: ('asc', 'desc')`,
      );
    }
    return { key: key as EventSort['key'], dir: (dir || 'asc') as EventSort['dir'] };
  });
}
