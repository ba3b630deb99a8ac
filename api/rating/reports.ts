import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TokenInfo } from '../../core/index.ts';
import {
  countRatedFrames,
  countRatedTotals,
  Money,
  selectRatedFrames,
  selectRatedProjects,
  selectRatedTotals,
  TIME_GROUP,
  TIME_GROUP_KEYS,
  type RatedFrameRow,
  type RatedTotalRow,
  type RatedUsageFilters,
} from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { ApiError, invalidParameter } from '../errors.ts';
import { callerOf, rejectUnknownQueryFields, TOKEN_SECURITY, useErrorStyle } from '../http.ts';
import { isoTime, parseBool } from '../params.ts';

/**
 * CloudKitty's reports on rated usage (`rated_usage`), as python-cloudkittyclient calls
 * them. Stable.
 *
 * - /v1/report/total, /v1/report/summary, /v1/report/tenants (WSME errors): a member reads
 *   their own project; `tenant_id` of another project or `all_tenants` answers 403 (whether
 *   or not it exists). An admin (`cost:list_all`) reads the project given in `tenant_id`,
 *   every project with `all_tenants=true`, and otherwise, as in CloudKitty, the project of
 *   their token. /tenants lists rated projects, for admins only.
 * - /v2/summary, /v2/dataframes (flask-restful errors `{message}`): admins read every
 *   project, members their own only; a filter on another project finds nothing (for
 *   dataframes, CloudKitty's 404 "No resource found", as for any empty answer).
 * - Periods: a frame counts when its period starts in [begin, end); both default to the
 *   current calendar month (UTC), as in CloudKitty.
 * - Money is exact: sums are Decimal in ClickHouse, and amounts are written into the JSON as
 *   the decimal's own digits (a JSON number, never passed through a binary float).
 */
export function registerReportRoutes(instance: FastifyInstance, context: ApiContext): void {
  instance.register(async (v1) => {
    useErrorStyle(v1, 'wsme');
    rejectUnknownQueryFields(v1);
    registerV1Routes(v1, context);
  });
  instance.register(async (v2) => {
    useErrorStyle(v2, 'flask');
    rejectUnknownQueryFields(v2);
    registerV2Routes(v2, context);
  });
}

/** Page sizes of /v2/summary and /v2/dataframes (CloudKitty's default; our ceiling). */
export const DEFAULT_REPORT_LIMIT = 100;
export const MAX_REPORT_LIMIT = 10_000;
/** At most this many grouping keys and filter terms in one request. */
export const MAX_GROUPBY_KEYS = 16;
export const MAX_FILTER_TERMS = 64;
/** /v1/report/summary has no pages: it answers every group, up to this many. */
export const V1_SUMMARY_MAX_GROUPS = 1_000_000;

// ---------------------------------------------------------------------------------------
// Exact JSON numbers

/** A JSON number written as given: the digits of a decimal, never rounded through a float. */
export class JsonNumber {
  readonly text: string;
  constructor(value: string) {
    const decimal = new Money(value);
    if (!decimal.isFinite()) throw new RangeError(`not a finite decimal: ${value}`);
    // Normal notation, no exponent and no trailing zeros: "0.300000000" -> "0.3".
    this.text = decimal.toFixed();
  }
}

/** JSON text of plain data in which JsonNumber values keep their exact digits. */
export function jsonText(value: unknown): string {
  if (value instanceof JsonNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : jsonText(item))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${members.map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const sendJson = (reply: FastifyReply, value: unknown): FastifyReply => reply.type('application/json; charset=utf-8').send(jsonText(value));

// ---------------------------------------------------------------------------------------
// Query parameters

/** A CloudKitty timestamp: ISO 8601 with `T` or a space, optional fraction and zone; naive is UTC. */
export function parseReportTime(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = isoTime(value);
  if (date === null) throw invalidParameter(name, 'an ISO 8601 timestamp (e.g. 2026-05-01T00:00:00Z; naive is UTC)', value);
  return date;
}

/** [begin, end): given, else the current calendar month (UTC) as CloudKitty defaults. */
export function reportPeriod(query: { begin?: string; end?: string }, now: Date): { begin: Date; end: Date } {
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const nextMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return { begin: parseReportTime('begin', query.begin) ?? monthStart, end: parseReportTime('end', query.end) ?? nextMonth };
}

/** The result keys a v2 summary adds itself; a grouping key may not take their names. */
const RESULT_COLUMNS = new Set(['begin', 'end', 'qty', 'rate']);

/**
 * /v2/summary's `groupby`: repeated and/or comma-separated (CloudKitty's MultiQueryParam),
 * duplicates dropped, each key non-empty.
 */
export function parseGroupby(values: readonly string[] | undefined): string[] {
  const keys: string[] = [];
  for (const key of (values ?? []).flatMap((value) => value.split(','))) {
    if (key === '') throw invalidParameter('groupby', 'comma-separated non-empty keys (type, project_id, user_id, id, time, time-d, time-w, time-m, time-y or a groupby key such as stack_id)', values);
    if (RESULT_COLUMNS.has(key)) throw invalidParameter('groupby', `a grouping key; "${key}" is a column of every result`, key);
    if (/^time-[^-]*$/.test(key) && !TIME_GROUP_KEYS.has(key)) throw invalidParameter('groupby', 'a time grouping among time, time-d, time-w, time-m, time-y', key);
    if (!keys.includes(key)) keys.push(key);
  }
  if (keys.length > MAX_GROUPBY_KEYS) throw invalidParameter('groupby', `at most ${MAX_GROUPBY_KEYS} keys`, keys.length);
  return keys;
}

/**
 * `filters`: `key:value` terms, repeated and/or comma-separated (CloudKitty's DictQueryParam).
 * A term splits at its last colon, so operator tag keys work (`tag:team:blue`); values
 * cannot hold a colon or a comma, as in CloudKitty. With `unique`, a key may come once
 * (/v2/dataframes); otherwise its values are alternatives (/v2/summary).
 */
export function parseReportFilters(values: readonly string[] | undefined, unique: boolean): Array<[string, string[]]> {
  const filters = new Map<string, string[]>();
  const terms = (values ?? []).flatMap((value) => value.split(','));
  if (terms.length > MAX_FILTER_TERMS) throw invalidParameter('filters', `at most ${MAX_FILTER_TERMS} key:value terms`, terms.length);
  for (const term of terms) {
    const colon = term.lastIndexOf(':');
    const key = term.slice(0, colon);
    const value = term.slice(colon + 1);
    if (colon <= 0 || value === '') throw invalidParameter('filters', 'comma-separated key:value terms (e.g. type:instance,project_id:abc)', term);
    const known = filters.get(key);
    if (known !== undefined && unique) throw invalidParameter('filters', `each key once; "${key}" is already given`, term);
    if (known === undefined) filters.set(key, [value]);
    else if (!known.includes(value)) known.push(value);
  }
  return [...filters];
}

/** `2026-05-01 10:00:00` (ClickHouse DateTime text, UTC) as a Date. */
const fromClickHouse = (text: string): Date => new Date(`${text.replace(' ', 'T')}Z`);

/** Python's datetime.isoformat() of a UTC time: `2026-05-01T10:00:00+00:00` (naive: no zone); microseconds only when not 0. */
export function pythonIsoformat(date: Date, naive = false): string {
  const iso = date.toISOString();
  const ms = date.getUTCMilliseconds();
  return `${iso.slice(0, 19)}${ms === 0 ? '' : `.${String(ms).padStart(3, '0')}000`}${naive ? '' : '+00:00'}`;
}

const TIME = (description: string) => ({ type: 'string', minLength: 1, maxLength: 64, description: `${description}: ISO 8601 (naive is UTC); default: the ${description === 'begin' ? 'start of the current month' : 'start of the next month'}` });
const KEY_LIST = (description: string) => ({ type: 'array', items: { type: 'string', maxLength: 1024 }, maxItems: MAX_FILTER_TERMS, description });
const PAGE_PROPERTIES = {
  offset: { type: 'integer', minimum: 0, description: 'index of the first result (default 0)' },
  limit: { type: 'integer', minimum: 1, maximum: MAX_REPORT_LIMIT, description: `results per page (default ${DEFAULT_REPORT_LIMIT})` },
} as const;
const DECIMAL = { type: 'number', description: 'exact: the decimal digits as stored, never rounded through a float' } as const;

// ---------------------------------------------------------------------------------------
// /v1/report

interface V1Query {
  begin?: string;
  end?: string;
  tenant_id?: string;
  service?: string;
  groupby?: string;
  all_tenants?: string;
}

/** The project a v1 report reads (null: every project), by CloudKitty's rules and our policy. */
function v1Scope(context: ApiContext, identity: TokenInfo, query: V1Query): string | null {
  const own = context.access.readableProject('cost', identity);
  const allTenants = parseBool('all_tenants', query.all_tenants, false);
  if (own === null) return allTenants ? null : (query.tenant_id ?? identity.projectId);
  if (allTenants) context.access.enforce('cost:list_all', identity, {});
  if (query.tenant_id !== undefined && query.tenant_id !== own) {
    // Refused whether or not the project exists: the answer does not tell.
    context.access.enforce('cost:read', identity, { project_id: query.tenant_id });
    return query.tenant_id;
  }
  return own;
}

const v1Filters = (scope: string | null, period: { begin: Date; end: Date }, service: string | undefined): RatedUsageFilters => ({
  scope,
  ...period,
  ...(service === undefined ? {} : { match: [['type', [service]]] }),
});

/** v1 summary `groupby`: CloudKitty reads tenant_id and res_type; anything else is refused here. */
function v1Groupby(value: string | undefined): string[] {
  const wanted = (value ?? '').split(',').filter((key) => key !== '');
  for (const key of wanted) if (key !== 'tenant_id' && key !== 'res_type') throw invalidParameter('groupby', 'tenant_id and/or res_type, comma-separated', key);
  // CloudKitty groups by the project first, then the type, whatever the order asked.
  return [...(wanted.includes('tenant_id') ? ['project_id'] : []), ...(wanted.includes('res_type') ? ['type'] : [])];
}

const V1_PROPERTIES = {
  begin: TIME('begin'),
  end: TIME('end'),
  tenant_id: { type: 'string', minLength: 1, maxLength: 255, description: 'the project; default: the token\'s (members: only their own)' },
  service: { type: 'string', minLength: 1, maxLength: 255, description: 'only this rated service (CloudKitty metric type: instance, volume.size, ...)' },
  all_tenants: { type: 'string', maxLength: 8, description: 'true: every project (admins only)' },
} as const;

const SUMMARY_ITEM = {
  type: 'object',
  properties: {
    begin: { type: 'string' },
    end: { type: 'string' },
    tenant_id: { type: 'string', description: '"ALL" when not grouped by project' },
    res_type: { type: 'string', description: '"ALL" when not grouped by type' },
    rate: { type: 'string', description: 'the exact sum of the costs, as decimal text' },
  },
} as const;

function registerV1Routes(v1: FastifyInstance, context: ApiContext): void {
  v1.get(
    '/v1/report/tenants',
    {
      schema: {
        tags: ['rating'],
        summary: 'The projects with rated usage in a period (CloudKitty v1; admins)',
        security: TOKEN_SECURITY,
        querystring: { type: 'object', additionalProperties: false, properties: { begin: V1_PROPERTIES.begin, end: V1_PROPERTIES.end } },
        response: { 200: { type: 'array', items: { type: 'string' } } },
      },
    },
    async (request) => {
      context.access.enforce('cost:list_all', callerOf(request), {});
      const period = reportPeriod(request.query as V1Query, context.clock.now());
      const rows = await context.store.query<{ project_id: string }>(selectRatedProjects(period.begin, period.end));
      return rows.map((row) => row.project_id);
    },
  );

  v1.get(
    '/v1/report/total',
    {
      schema: {
        tags: ['rating'],
        summary: 'The cost of a period, a bare decimal number (CloudKitty v1, deprecated there for /summary)',
        security: TOKEN_SECURITY,
        querystring: { type: 'object', additionalProperties: false, properties: V1_PROPERTIES },
        response: { 200: DECIMAL },
      },
    },
    async (request, reply) => {
      const query = request.query as V1Query;
      const scope = v1Scope(context, callerOf(request), query);
      const filters = v1Filters(scope, reportPeriod(query, context.clock.now()), query.service);
      const [row] = await context.store.query<RatedTotalRow>(selectRatedTotals({ filters, groupby: [], offset: 0, limit: 1 }));
      return sendJson(reply, new JsonNumber(row?.rate ?? '0'));
    },
  );

  v1.get(
    '/v1/report/summary',
    {
      schema: {
        tags: ['rating'],
        summary: 'The cost of a period, grouped by project and/or type (CloudKitty v1)',
        security: TOKEN_SECURITY,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...V1_PROPERTIES, groupby: { type: 'string', maxLength: 64, description: 'tenant_id and/or res_type, comma-separated' } },
        },
        response: { 200: { type: 'object', properties: { summary: { type: 'array', items: SUMMARY_ITEM } } } },
      },
    },
    async (request) => {
      const query = request.query as V1Query;
      const groupby = v1Groupby(query.groupby);
      const scope = v1Scope(context, callerOf(request), query);
      const period = reportPeriod(query, context.clock.now());
      const filters = v1Filters(scope, period, query.service);
      const rows = await context.store.query<RatedTotalRow>(selectRatedTotals({ filters, groupby, offset: 0, limit: V1_SUMMARY_MAX_GROUPS }));
      const projectAt = groupby.indexOf('project_id');
      const typeAt = groupby.indexOf('type');
      return {
        summary: rows.map((row) => ({
          begin: pythonIsoformat(period.begin, true),
          end: pythonIsoformat(period.end, true),
          tenant_id: projectAt >= 0 ? row[`g${projectAt}`] : (scope ?? 'ALL'),
          res_type: typeAt >= 0 ? row[`g${typeAt}`] : (query.service ?? 'ALL'),
          rate: new JsonNumber(row.rate).text,
        })),
      };
    },
  );
}

// ---------------------------------------------------------------------------------------
// /v2/summary and /v2/dataframes

interface V2Query {
  begin?: string;
  end?: string;
  groupby?: string[];
  filters?: string[];
  offset?: number;
  limit?: number;
  response_format?: 'table' | 'object';
}

/** What a v2 request reads: the caller's scope, the period, the filters. */
function v2Filters(context: ApiContext, identity: TokenInfo, query: V2Query, unique: boolean): RatedUsageFilters {
  const match = parseReportFilters(query.filters, unique);
  const scope = context.access.readableProject('cost', identity);
  return { scope, ...reportPeriod(query, context.clock.now()), match };
}

/** The result key of a grouping key: time-d gives day_of_the_year, ... (time gives begin and end). */
const resultKey = (key: string): string => TIME_GROUP_KEYS.get(key) ?? key;

const SUMMARY_RESPONSE = {
  type: 'object',
  properties: {
    total: { type: 'integer', description: 'how many groups there are in all pages' },
    columns: { type: 'array', items: { type: 'string' }, description: 'table format: begin, end, qty, rate, then the grouping keys' },
    results: { type: 'array', items: {}, description: 'table format: rows in the order of columns; object format: objects' },
    format: { type: 'string', enum: ['table', 'object'] },
  },
} as const;

const DATAPOINT = {
  type: 'object',
  properties: {
    vol: { type: 'object', properties: { unit: { type: 'string' }, qty: DECIMAL } },
    rating: { type: 'object', properties: { price: { ...DECIMAL, description: 'the cost of this frame (CloudKitty calls it price); exact' } } },
    groupby: { type: 'object', additionalProperties: { type: 'string' } },
    metadata: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

function registerV2Routes(v2: FastifyInstance, context: ApiContext): void {
  v2.get(
    '/v2/summary',
    {
      schema: {
        tags: ['rating'],
        summary: 'Costs and quantities summed per group, a page at a time (CloudKitty v2)',
        description:
          'groupby keys: type (the rated service), project_id, user_id, id (the resource), time (each rated period), time-d, time-w, time-m, time-y, or any groupby key of the rated frames (stack_id, tag:<name>). ' +
          'filters: key:value terms on the same keys and on frame metadata (flavor_name, ...); values of one key are alternatives, keys must all match.',
        security: TOKEN_SECURITY,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            begin: TIME('begin'),
            end: TIME('end'),
            groupby: KEY_LIST('grouping keys; repeat or separate with commas'),
            filters: KEY_LIST('key:value terms; repeat or separate with commas'),
            ...PAGE_PROPERTIES,
            response_format: { type: 'string', enum: ['table', 'object'], description: 'table (default): columns and rows; object: one object per result' },
          },
        },
        response: { 200: SUMMARY_RESPONSE },
      },
    },
    async (request, reply) => {
      const query = request.query as V2Query;
      const groupby = parseGroupby(query.groupby);
      const filters = v2Filters(context, callerOf(request), query, false);
      const page = { offset: query.offset ?? 0, limit: query.limit ?? DEFAULT_REPORT_LIMIT };
      const [rows, [count]] = await Promise.all([
        context.store.query<RatedTotalRow>(selectRatedTotals({ filters, groupby, ...page })),
        context.store.query<{ total: string }>(countRatedTotals({ filters, groupby })),
      ]);
      const keys = groupby.filter((key) => key !== TIME_GROUP);
      const results = rows.map((row) => {
        const result: Record<string, unknown> = {
          begin: pythonIsoformat(row.t_begin === undefined ? filters.begin : fromClickHouse(row.t_begin)),
          end: pythonIsoformat(row.t_end === undefined ? filters.end : fromClickHouse(row.t_end)),
          qty: new JsonNumber(row.qty),
          rate: new JsonNumber(row.rate),
        };
        for (const key of keys) result[resultKey(key)] = row[`g${groupby.indexOf(key)}`];
        return result;
      });
      const total = Number(count?.total ?? 0);
      if ((query.response_format ?? 'table') === 'object') return sendJson(reply, { total, results, format: 'object' });
      // CloudKitty takes the columns from the first result: none without results.
      const columns = results.length === 0 ? [] : ['begin', 'end', 'qty', 'rate', ...keys.map(resultKey)];
      return sendJson(reply, { total, columns, results: results.map((result) => columns.map((column) => result[column])), format: 'table' });
    },
  );

  v2.get(
    '/v2/dataframes',
    {
      schema: {
        tags: ['rating'],
        summary: 'Rated frames, a page at a time, grouped by period (CloudKitty v2)',
        description:
          'Pages count frames (one resource, one service, one period), ordered by period, service, project and resource. ' +
          'filters: key:value terms, each key once (type, project_id, user_id, id, groupby and metadata keys). ' +
          'As in CloudKitty, 404 when nothing matches.',
        security: TOKEN_SECURITY,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { begin: TIME('begin'), end: TIME('end'), filters: KEY_LIST('key:value terms; repeat or separate with commas'), ...PAGE_PROPERTIES },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              total: { type: 'integer', description: 'how many frames there are in all pages' },
              dataframes: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    period: { type: 'object', properties: { begin: { type: 'string' }, end: { type: 'string' } } },
                    usage: { type: 'object', additionalProperties: { type: 'array', items: DATAPOINT }, description: 'frames by rated service' },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const query = request.query as V2Query;
      const filters = v2Filters(context, callerOf(request), query, true);
      const page = { offset: query.offset ?? 0, limit: query.limit ?? DEFAULT_REPORT_LIMIT };
      const [rows, [count]] = await Promise.all([context.store.query<RatedFrameRow>(selectRatedFrames({ filters, ...page })), context.store.query<{ total: string }>(countRatedFrames(filters))]);
      const total = Number(count?.total ?? 0);
      if (total < 1) throw new ApiError('CUMULUS_RATING_NO_DATAFRAMES', 404, 'No resource found for provided filters.');
      return sendJson(reply, { total, dataframes: dataframesOf(rows) });
    },
  );
}

/** Frames (ordered by period) as CloudKitty's dataframes: one per period, points by service. */
export function dataframesOf(rows: readonly RatedFrameRow[]): Array<{ usage: Record<string, unknown[]>; period: { begin: string; end: string } }> {
  const frames: Array<{ usage: Record<string, unknown[]>; period: { begin: string; end: string } }> = [];
  let current: (typeof frames)[number] | undefined;
  for (const row of rows) {
    const period = { begin: pythonIsoformat(fromClickHouse(row.period_start)), end: pythonIsoformat(fromClickHouse(row.period_end)) };
    if (current === undefined || current.period.begin !== period.begin || current.period.end !== period.end) {
      current = { usage: Object.create(null) as Record<string, unknown[]>, period };
      frames.push(current);
    }
    const points = current.usage[row.service] ?? (current.usage[row.service] = []);
    points.push({
      vol: { unit: row.unit, qty: new JsonNumber(row.qty) },
      rating: { price: new JsonNumber(row.cost) },
      // CloudKitty's default groupby (metrics.yml): the resource, its user and project, then the frame's own keys.
      groupby: { ...row.groupby, id: row.resource_id, user_id: row.user_id, project_id: row.project_id },
      metadata: { ...row.metadata },
    });
  }
  return frames;
}
