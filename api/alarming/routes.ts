import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TokenInfo } from '../../core/index.ts';
import {
  ALARM_SEVERITIES,
  ALARM_STATES,
  ALARM_TYPES,
  AlarmError,
  alarmHistoryInsert,
  alarmHistoryView,
  alarmView,
  ALARM_HISTORY_QUERY_FIELDS,
  DEFAULT_ALARM_HISTORY_LIMIT,
  matchesSimpleQuery,
  MAX_ALARM_HISTORY_LIMIT,
  parseAlarm,
  parseComplexQuery,
  parseSimpleQuery,
  parseState,
  runComplexQuery,
  searchAlarmHistory,
  selectAlarmHistory,
  selectAlarmHistoryEvent,
  type Alarm,
  type AlarmChange,
  type AlarmHistoryRow,
  type ParsedAlarm,
} from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { callerOf, rejectUnknownQueryFields, requireToken, TOKEN_SECURITY, useErrorStyle } from '../http.ts';
import { requireJsonBody } from '../params.ts';

const tags = ['alarm'];
/** Aodh's reason for a state set through the API. */
export const MANUAL_STATE_REASON = 'Manually set via API';
const LIST = (items: object, description: string) => ({ type: 'array', items, maxItems: 50, description });
const ID_PARAMS = { type: 'object', properties: { alarm_id: { type: 'string', minLength: 1, maxLength: 255 } }, required: ['alarm_id'] } as const;
/** The alarm body is validated by storage/alarms/model.ts (recursive composite rules, cron, time zones); the schema documents it. */
const ALARM_BODY = {
  type: 'object',
  description: `Aodh's Alarm: name, type (${ALARM_TYPES.join(', ')}) and its <type>_rule, description, enabled, state (${ALARM_STATES.join(', ')}), severity (${ALARM_SEVERITIES.join(', ')}), repeat_actions, time_constraints, alarm_actions, ok_actions, insufficient_data_actions (http://, https:// or log:// URLs), project_id and user_id (admins only for others')`,
  additionalProperties: true,
} as const;
/** A strict query string: limit, marker and sort (what the client's pagination sends) plus `extra`. */
const pagedQuery = (limit: object, marker: string, sort: string, extra: Record<string, object> = {}) =>
  ({ type: 'object', additionalProperties: false, properties: { ...extra, limit, marker: { type: 'string', maxLength: 255, description: marker }, sort: LIST({ type: 'string', maxLength: 64 }, sort) } }) as const;
const LIST_QUERY = pagedQuery({ type: 'integer', minimum: 1, maximum: 10_000 }, 'alarm_id of the last alarm of the previous page', 'key[:dir], e.g. name:asc (default timestamp:desc)', {
  'q.field': LIST({ type: 'string', minLength: 1, maxLength: 255 }, 'all_projects, user_id, project_id, type, name, enabled, state, severity, timestamp, repeat_actions'),
  'q.op': LIST({ type: 'string', maxLength: 8 }, "one per q.field, or none (eq); Aodh allows only 'eq'"),
  'q.value': LIST({ type: 'string', maxLength: 4096 }, 'one per q.field'),
  'q.type': LIST({ type: 'string', maxLength: 16 }, 'accepted, ignored (each field has its own type)'),
});
const HISTORY_QUERY = pagedQuery({ type: 'integer', minimum: 1, maximum: MAX_ALARM_HISTORY_LIMIT, description: `default ${DEFAULT_ALARM_HISTORY_LIMIT}` }, 'event_id of the last change of the previous page', 'accepted: timestamp:desc (the only order)');
const COMPLEX_QUERY_BODY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    filter: { type: 'string', maxLength: 65_536, description: 'JSON text: {"=": {"name": "x"}}, and/or/not, =, !=, <, <=, >, >=, in' },
    orderby: { type: 'string', maxLength: 4096, description: 'JSON text: [{"name": "asc"}]' },
    limit: { type: 'integer', minimum: 1 },
  },
} as const;

interface ListQuery {
  'q.field'?: string[];
  'q.op'?: string[];
  'q.value'?: string[];
  'q.type'?: string[];
  limit?: number;
  marker?: string;
  sort?: string[];
}

const notFound = (alarmId: string) => new AlarmError('NOT_FOUND', `Alarm ${alarmId} not found`);
const forbidden = (message: string) => new AlarmError('FORBIDDEN', message);

/**
 * Aodh v2 compatible alarms under /alarming (the catalog's `alarming` endpoint), so the
 * `aodh` CLI (python3-aodhclient) works unchanged; errors are WSME's. Alarm definitions
 * and state live in SQLite (storage/alarms), their history in ClickHouse (`alarm_history`).
 *
 * RBAC as Aodh: a member sees and changes their project's alarms only (another project's
 * alarm is 404); an admin reads any alarm by id, lists every project's with
 * `q.field=all_projects&q.value=true` (their own project's without it, as Aodh), and may
 * create alarms for other projects and users. Differences, on purpose: naming another
 * project is 403 (Aodh: 401); trust+ actions are refused (no Keystone trusts here).
 * Experimental: the `log` and `outage` alarm types.
 */
export function registerAlarmingRoutes(app: FastifyInstance, context: ApiContext): void {
  app.register(
    async (alarming) => {
      useErrorStyle(alarming, 'wsme');
      rejectUnknownQueryFields(alarming);
      alarming.register(async (v2) => {
        requireToken(v2, context.auth);
        registerAlarmRoutes(v2, context);
        const view = {
          identity: callerOf,
          projectOf: (request: FastifyRequest) => scopeOf(context, callerOf(request)).project,
          alarmProject: (request: FastifyRequest, alarmId: string) => visibleAlarm(context, callerOf(request), alarmId).project_id,
        };
        for (const extend of context.alarming.extensions ?? []) extend(v2, view);
      });
    },
    { prefix: '/alarming' },
  );
}

/** Whose alarms the caller reads (null: every project's) and whether they act as an admin. */
function scopeOf(context: ApiContext, identity: TokenInfo): { project: string | null; admin: boolean } {
  const project = context.access.readableProject('alarm', identity);
  return { project, admin: project === null };
}

async function recordHistory(context: ApiContext, changes: readonly AlarmChange[]): Promise<void> {
  if (changes.length === 0) return;
  const insert = alarmHistoryInsert(changes);
  await context.store.insert(insert.table, insert.rows, { dedupToken: insert.dedupToken });
}

function visibleAlarm(context: ApiContext, identity: TokenInfo, alarmId: string): Alarm {
  const { project } = scopeOf(context, identity);
  const alarm = context.alarms.find(alarmId);
  if (!alarm || (project !== null && alarm.project_id !== project)) throw notFound(alarmId);
  return alarm;
}

/** The body's alarm, with the owner checks: another project or user needs an admin (alarm:write on that project). */
function parseOwnedAlarm(context: ApiContext, identity: TokenInfo, body: unknown, owner: { project_id: string; user_id: string }): ParsedAlarm {
  const parsed = parseAlarm(body, owner);
  const { project_id, user_id } = parsed.definition;
  const admin = scopeOf(context, identity).admin;
  if (!admin && project_id !== identity.projectId) throw forbidden(`Not Authorized to access project ${project_id}: project_id must be your project (${String(identity.projectId)}) unless you are an admin`);
  if (!admin && user_id !== owner.user_id && user_id !== identity.userId) throw forbidden(`Not Authorized to set user_id ${user_id}: user_id must be yours unless you are an admin`);
  context.access.enforce('alarm:write', identity, { project_id, user_id });
  return parsed;
}

const actorOf = (identity: TokenInfo) => ({ user_id: identity.userId, project_id: identity.projectId ?? '' });

function sortAlarms(alarms: Alarm[], sorts: readonly string[] | undefined): Alarm[] {
  const keys = (sorts && sorts.length > 0 ? sorts : ['timestamp:desc']).map((s) => {
    const [key = '', dir = 'asc'] = s.split(':');
    if (!['name', 'timestamp', 'state_timestamp', 'state', 'severity', 'type', 'enabled', 'alarm_id', 'project_id', 'user_id'].includes(key)) throw new AlarmError('INVALID', `sort: cannot sort on '${key}'`);
    if (dir !== 'asc' && dir !== 'desc') throw new AlarmError('INVALID', `sort: direction must be asc or desc, got '${dir}'`);
    return { key, dir };
  });
  // alarm_id last: a stable order makes the marker meaningful.
  keys.push({ key: 'alarm_id', dir: 'asc' });
  return alarms.sort((x, y) => {
    for (const { key, dir } of keys) {
      const a = String((x as unknown as Record<string, unknown>)[key]);
      const b = String((y as unknown as Record<string, unknown>)[key]);
      if (a !== b) return (a < b ? -1 : 1) * (dir === 'asc' ? 1 : -1);
    }
    return 0;
  });
}

function registerAlarmRoutes(v2: FastifyInstance, context: ApiContext): void {
  const jsonBody = { preValidation: requireJsonBody };

  v2.post('/v2/alarms', { ...jsonBody, schema: { tags, summary: 'Create an alarm (Aodh)', security: TOKEN_SECURITY, body: ALARM_BODY } }, async (request, reply) => {
    const identity = callerOf(request);
    const parsed = parseOwnedAlarm(context, identity, request.body, { project_id: identity.projectId ?? '', user_id: identity.userId });
    const { alarm, changes } = context.alarms.create(parsed, actorOf(identity));
    await recordHistory(context, changes);
    return reply.code(201).send(alarmView(alarm));
  });

  v2.get('/v2/alarms', { schema: { tags, summary: "List alarms with Aodh's q filters, sort, limit and marker", security: TOKEN_SECURITY, querystring: LIST_QUERY } }, async (request) => {
    const identity = callerOf(request);
    const query = request.query as ListQuery;
    const fields = query['q.field'] ?? [];
    const values = query['q.value'] ?? [];
    const ops = query['q.op'] ?? [];
    if (values.length !== fields.length) throw new AlarmError('INVALID', `q.value has ${values.length} entries for ${fields.length} q.field; give one value per field`);
    if (ops.length > fields.length) throw new AlarmError('INVALID', `q.op has ${ops.length} entries for ${fields.length} q.field`);
    const { allProjects, filters } = parseSimpleQuery(fields.map((field, i) => ({ field, op: ops[i] || 'eq', value: values[i]! })));
    const { admin } = scopeOf(context, identity);
    let project: string | null;
    if (allProjects) {
      // Aodh's get_alarms:all_projects: admins only.
      context.access.enforce('alarm:list_all', identity, {});
      project = null;
    } else {
      const asked = filters.find((f) => f.field === 'project_id')?.value;
      if (asked !== undefined && !admin && asked !== identity.projectId) throw forbidden(`Not Authorized to access project ${asked}`);
      project = asked ?? identity.projectId ?? '';
    }
    let alarms = sortAlarms(context.alarms.list(project).filter((a) => matchesSimpleQuery(a, filters)), query.sort);
    if (query.marker !== undefined) {
      const at = alarms.findIndex((a) => a.alarm_id === query.marker);
      if (at < 0) throw new AlarmError('INVALID', `marker: no alarm ${query.marker} in this listing`);
      alarms = alarms.slice(at + 1);
    }
    if (query.limit !== undefined) alarms = alarms.slice(0, query.limit);
    return alarms.map(alarmView);
  });

  v2.get('/v2/alarms/:alarm_id', { schema: { tags, summary: 'Show an alarm', security: TOKEN_SECURITY, params: ID_PARAMS } }, async (request) => {
    const { alarm_id } = request.params as { alarm_id: string };
    return alarmView(visibleAlarm(context, callerOf(request), alarm_id));
  });

  v2.put('/v2/alarms/:alarm_id', { ...jsonBody, schema: { tags, summary: 'Replace an alarm definition (Aodh: the whole alarm, as GET shows it)', security: TOKEN_SECURITY, params: ID_PARAMS, body: ALARM_BODY } }, async (request) => {
    const identity = callerOf(request);
    const { alarm_id } = request.params as { alarm_id: string };
    const before = visibleAlarm(context, identity, alarm_id);
    const body = request.body as Record<string, unknown>;
    if (body.alarm_id !== undefined && body.alarm_id !== null && body.alarm_id !== alarm_id) throw new AlarmError('INVALID', `alarm_id: the body names ${String(body.alarm_id)}, the path ${alarm_id}`);
    const parsed = parseOwnedAlarm(context, identity, body, { project_id: before.project_id, user_id: before.user_id });
    // A state PUT back unchanged is no state change (the client sends the whole alarm).
    if (parsed.state === before.state) {
      delete parsed.state;
      delete parsed.state_reason;
    } else if (parsed.state !== undefined && parsed.state_reason === undefined) parsed.state_reason = MANUAL_STATE_REASON;
    else if (parsed.state === undefined) delete parsed.state_reason;
    const { alarm, changes } = context.alarms.update(alarm_id, parsed, actorOf(identity));
    if (!alarm.enabled && before.enabled) context.alarming.alarmsRemoved?.([alarm_id]);
    await recordHistory(context, changes);
    return alarmView(alarm);
  });

  v2.delete('/v2/alarms/:alarm_id', { schema: { tags, summary: 'Delete an alarm (its history stays)', security: TOKEN_SECURITY, params: ID_PARAMS } }, async (request, reply) => {
    const identity = callerOf(request);
    const { alarm_id } = request.params as { alarm_id: string };
    const alarm = visibleAlarm(context, identity, alarm_id);
    context.access.enforce('alarm:write', identity, { project_id: alarm.project_id, user_id: alarm.user_id });
    const changes = context.alarms.delete(alarm_id, actorOf(identity));
    context.alarming.alarmsRemoved?.([alarm_id]);
    await recordHistory(context, changes);
    return reply.code(204).send();
  });

  v2.get('/v2/alarms/:alarm_id/state', { schema: { tags, summary: "An alarm's state (a JSON string)", security: TOKEN_SECURITY, params: ID_PARAMS } }, async (request, reply) => {
    const { alarm_id } = request.params as { alarm_id: string };
    return reply.type('application/json').send(JSON.stringify(visibleAlarm(context, callerOf(request), alarm_id).state));
  });

  v2.put(
    '/v2/alarms/:alarm_id/state',
    { ...jsonBody, schema: { tags, summary: "Set an alarm's state (body: a JSON string: ok, alarm or insufficient data)", security: TOKEN_SECURITY, params: ID_PARAMS, body: { type: 'string', maxLength: 64 } } },
    async (request, reply) => {
      const identity = callerOf(request);
      const { alarm_id } = request.params as { alarm_id: string };
      const before = visibleAlarm(context, identity, alarm_id);
      context.access.enforce('alarm:write', identity, { project_id: before.project_id, user_id: before.user_id });
      const state = parseState(request.body);
      const { alarm, changes } = context.alarms.setState(alarm_id, state, MANUAL_STATE_REASON, actorOf(identity));
      await recordHistory(context, changes);
      return reply.type('application/json').send(JSON.stringify(alarm.state));
    },
  );

  v2.get('/v2/alarms/:alarm_id/history', { schema: { tags, summary: "An alarm's changes, newest first: creation, rule change, state transition (with reason), deletion", security: TOKEN_SECURITY, params: ID_PARAMS, querystring: HISTORY_QUERY } }, async (request) => {
    const identity = callerOf(request);
    const { alarm_id } = request.params as { alarm_id: string };
    const query = request.query as { limit?: number; marker?: string; sort?: string[] };
    const alarm = visibleAlarm(context, identity, alarm_id);
    for (const sort of query.sort ?? []) if (sort !== 'timestamp:desc' && sort !== 'timestamp') throw new AlarmError('INVALID', `sort: history is ordered by timestamp:desc only, got '${sort}'`);
    const onBehalfOf = scopeOf(context, identity).project === null ? null : alarm.project_id;
    let before: { timestamp: string; eventId: string } | undefined;
    if (query.marker !== undefined) {
      const [marked] = await context.store.query<AlarmHistoryRow>(selectAlarmHistoryEvent(alarm_id, query.marker));
      if (!marked) throw new AlarmError('INVALID', `marker: no change ${query.marker} in this alarm's history`);
      before = { timestamp: marked.at, eventId: marked.event_id };
    }
    const rows = await context.store.query<AlarmHistoryRow>(selectAlarmHistory({ alarmId: alarm_id, onBehalfOf, ...(query.limit !== undefined ? { limit: query.limit } : {}), ...(before ? { before } : {}) }));
    return rows.map(alarmHistoryView);
  });

  v2.post('/v2/query/alarms', { ...jsonBody, schema: { tags, summary: "Search alarms with Aodh's complex query (filter, orderby, limit)", security: TOKEN_SECURITY, body: COMPLEX_QUERY_BODY } }, async (request: FastifyRequest) => {
    const identity = callerOf(request);
    const query = parseComplexQuery(request.body);
    // Aodh forces visibility: a member's query is ANDed with their project.
    const { project } = scopeOf(context, identity);
    return runComplexQuery(context.alarms.list(project), query).map(alarmView);
  });

  v2.post('/v2/query/alarms/history', { ...jsonBody, schema: { tags, summary: `Search alarm history with Aodh's complex query (fields: ${ALARM_HISTORY_QUERY_FIELDS.join(', ')}; at most ${MAX_ALARM_HISTORY_LIMIT} changes)`, security: TOKEN_SECURITY, body: COMPLEX_QUERY_BODY } }, async (request: FastifyRequest) => {
    const identity = callerOf(request);
    const query = parseComplexQuery(request.body, ALARM_HISTORY_QUERY_FIELDS);
    // Aodh's visibility field for history: the owner (on_behalf_of).
    const { project } = scopeOf(context, identity);
    const rows = await context.store.query<AlarmHistoryRow>(searchAlarmHistory(query, project));
    return rows.map(alarmHistoryView);
  });
}
