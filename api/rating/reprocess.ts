import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ALL_SCOPES, type ReprocessRequest } from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { invalidParameter } from '../errors.ts';
import { callerOf, rejectUnknownQueryFields, TOKEN_SECURITY, useErrorStyle } from '../http.ts';
import { isoTime, NO_OTHER_FIELDS } from '../params.ts';
import { pythonIsoformat } from './reports.ts';

/** Page sizes of GET /v2/task/reprocesses: CloudKitty's default, and our ceiling. */
export const DEFAULT_REPROCESS_LIMIT = 100;
export const MAX_REPROCESS_LIMIT = 1000;
const MAX_SCOPE_IDS = 1000;

const TAGS = ['rating'];
const TIME = (description: string) => ({ type: 'string', minLength: 1, maxLength: 64, description: `${description}: ISO 8601 (naive is UTC), aligned to the rating period` });
const SCOPE_IDS = {
  anyOf: [
    { type: 'string', minLength: 1, maxLength: 64 * 1024 },
    { type: 'array', minItems: 1, maxItems: MAX_SCOPE_IDS, items: { type: 'string', minLength: 1, maxLength: 255 } },
  ],
  description: `Project ids to re-rate (a list, or one text with commas), or "${ALL_SCOPES}" for every project`,
} as const;

const RESULT = {
  type: 'object',
  properties: {
    scope_id: { type: 'string' },
    reason: { type: 'string' },
    start_reprocess_time: { type: 'string' },
    end_reprocess_time: { type: 'string' },
    current_reprocess_time: { type: 'string', description: 'Start of the last period re-rated; "" before the first' },
    id: { type: 'integer', description: 'The request (one request lists once per scope)' },
    state: { type: 'string', enum: ['pending', 'running', 'done'] },
    requested_by: { type: 'object', properties: { user_id: { type: 'string' }, user_name: { type: 'string' }, project_id: { type: ['string', 'null'] } } },
    requested_at: { type: 'string' },
    completed_at: { type: ['string', 'null'] },
  },
} as const;

const LIST_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    scope_ids: { type: 'array', items: { type: 'string', maxLength: 64 * 1024 }, maxItems: MAX_SCOPE_IDS, description: 'Only requests touching these projects (ALL requests included); repeat or separate with commas' },
    offset: { type: 'integer', minimum: 0, default: 0 },
    limit: { type: 'integer', minimum: 1, maximum: MAX_REPROCESS_LIMIT, default: DEFAULT_REPROCESS_LIMIT },
    order: { type: 'string', maxLength: 16, description: 'asc or desc (default desc), any case' },
  },
} as const;

interface PostBody {
  scope_ids: string | string[];
  start_reprocess_time: string;
  end_reprocess_time: string;
  reason: string;
}

interface ListQuery {
  scope_ids?: string[];
  offset?: number;
  limit?: number;
  order?: string;
}

/** CloudKitty's MultiQueryParam: lists and comma-separated texts, flattened. */
const splitIds = (values: string | readonly string[] | undefined): string[] => (values === undefined ? [] : (typeof values === 'string' ? [values] : values).flatMap((v) => v.split(',')).map((v) => v.trim()));

function parseTime(field: string, text: string): Date {
  const date = isoTime(text);
  if (date === null) throw invalidParameter(field, 'an ISO 8601 time (e.g. 2026-11-01T00:00:00Z; naive is UTC)', text);
  return date;
}

/** One result per scope of each request, as CloudKitty lists its per-scope schedules. */
function results(requests: readonly ReprocessRequest[], scopeFilter: readonly string[]): Array<Record<string, unknown>> {
  return requests.flatMap((request) => {
    const scopes = request.scopeIds === null ? [ALL_SCOPES] : request.scopeIds.filter((id) => scopeFilter.length === 0 || scopeFilter.includes(id));
    return scopes.map((scopeId) => ({
      scope_id: scopeId,
      reason: request.reason,
      start_reprocess_time: pythonIsoformat(request.start),
      end_reprocess_time: pythonIsoformat(request.end),
      current_reprocess_time: request.currentTime === null ? '' : pythonIsoformat(request.currentTime),
      id: request.id,
      state: request.state,
      requested_by: { user_id: request.requestedBy.userId, user_name: request.requestedBy.userName, project_id: request.requestedBy.projectId },
      requested_at: pythonIsoformat(request.requestedAt),
      completed_at: request.completedAt === null ? null : pythonIsoformat(request.completedAt),
    }));
  });
}

/**
 * CloudKitty's /v2/task/reprocesses: an explicit, audited re-rating of past periods.
 * POST records the request (who, when, why; admin-only, as CloudKitty's
 * `schedule:task_reprocesses`); the rating processor re-rates the window's periods with a
 * new generation on its next run and marks the request done; GET lists the requests with
 * their state (admin-only, `schedule:get_task_reprocesses`). Errors are flask-restful's
 * `{message}`; a refused body names its field. Experimental.
 */
export function registerReprocessRoutes(instance: FastifyInstance, context: ApiContext): void {
  instance.register(async (v2) => {
    useErrorStyle(v2, 'flask');
    rejectUnknownQueryFields(v2);

    const create = async (request: FastifyRequest, reply: FastifyReply) => {
      const identity = callerOf(request);
      context.access.enforce('rating_reprocess:write', identity);
      const body = request.body as PostBody;
      context.reprocess.createReprocess({
        scopeIds: splitIds(body.scope_ids),
        start: parseTime('start_reprocess_time', body.start_reprocess_time),
        end: parseTime('end_reprocess_time', body.end_reprocess_time),
        reason: body.reason,
        requestedBy: { userId: identity.userId, userName: identity.userName, projectId: identity.projectId },
      });
      return reply.code(202).send({});
    };
    const postSchema = (summary: string) => ({
      tags: TAGS,
      summary,
      description:
        'Re-rates the periods in [start_reprocess_time, end_reprocess_time) for the scopes (project ids, or ALL) with the rules now in force, replacing their rated frames. ' +
        'The window must be aligned to the rating period and already rated; a window overlapping an unfinished request for the same scope is refused. 202 with {}.',
      security: TOKEN_SECURITY,
      body: {
        type: 'object',
        required: ['scope_ids', 'start_reprocess_time', 'end_reprocess_time', 'reason'],
        properties: { scope_ids: SCOPE_IDS, start_reprocess_time: TIME('start of the first period to re-rate'), end_reprocess_time: TIME('end of the last period to re-rate'), reason: { type: 'string', maxLength: 4096 } },
        additionalProperties: NO_OTHER_FIELDS,
      },
    });
    v2.post('/v2/task/reprocesses', { schema: postSchema('Schedule a reprocessing of rated periods (CloudKitty v2)') }, create);
    // python-cloudkittyclient posts to the singular path.
    v2.post('/v2/task/reprocess', { schema: postSchema('Schedule a reprocessing (the path python-cloudkittyclient posts to)') }, create);

    const list = async (request: FastifyRequest) => {
      context.access.enforce('rating_reprocess:read', callerOf(request));
      const query = request.query as ListQuery;
      const pathScope = (request.params as { path_scope_id?: string }).path_scope_id;
      const order = (query.order ?? 'desc').toLowerCase();
      if (order !== 'asc' && order !== 'desc') throw invalidParameter('order', "one of ['asc', 'desc']", query.order);
      const scopeIds = pathScope !== undefined ? [pathScope] : splitIds(query.scope_ids).filter((id) => id !== '');
      const all = results(context.reprocess.listReprocesses({ scopeIds, order }), scopeIds);
      const offset = query.offset ?? 0;
      return { results: all.slice(offset, offset + (query.limit ?? DEFAULT_REPROCESS_LIMIT)) };
    };
    const listSchema = (summary: string, params?: object) => ({
      tags: TAGS,
      summary,
      description: 'One result per scope of each request, newest first by default, with the request id, its state and who asked when.',
      security: TOKEN_SECURITY,
      querystring: LIST_QUERY,
      ...(params ? { params } : {}),
      response: { 200: { type: 'object', properties: { results: { type: 'array', items: RESULT } } } },
    });
    v2.get('/v2/task/reprocesses', { schema: listSchema('List reprocessing requests (CloudKitty v2)') }, list);
    v2.get(
      '/v2/task/reprocesses/:path_scope_id',
      { schema: listSchema("List one scope's reprocessing requests (CloudKitty v2)", { type: 'object', properties: { path_scope_id: { type: 'string', minLength: 1, maxLength: 255 } }, required: ['path_scope_id'] }) },
      list,
    );
  });
}
