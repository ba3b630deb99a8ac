/**
 * Alertmanager API v2's silence routes, to mount under /alarming/v2 (the host app adds
 * authentication and its error style): GET and POST /silences, GET and DELETE
 * /silence/{id}, and Cumulus's POST /alarms/{alarm_id}/false-positive. Errors are thrown
 * as SilenceError (codes CUMULUS_SILENCE_*, with their HTTP status) for the host's error
 * handler. A caller scoped to a project (`projectOf` returns it) only sees and makes
 * silences that carry the matcher project_id="<its project>", so one tenant cannot mute
 * another's alarms. Experimental.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseDuration } from './config.ts';
import { SilenceError } from './errors.ts';
import { MatcherError } from './errors.ts';
import { fromApiMatcher, matchesAll, parseMatcher, type Matcher } from './matchers.ts';
import type { Silence, SilenceStore } from './silences.ts';

export interface SilenceRouteDeps {
  silences: SilenceStore;
  markFalsePositive(alarmId: string, by: { createdBy: string; comment: string; durationMs?: number; projectId?: string }): Promise<Silence>;
  /** The caller's name, recorded as createdBy of a false positive (and of a silence that names nobody). */
  callerName(request: FastifyRequest): string;
  /** The caller's project when it may act only there; null for operators (every silence). */
  projectOf(request: FastifyRequest): string | null;
  /** Resolves with the alarm's project when the caller may see it; throws the host's 404 otherwise. */
  alarmProject(request: FastifyRequest, alarmId: string): Promise<string> | string;
}

const tags = ['silence'];
const API_MATCHER = {
  type: 'object',
  required: ['name', 'value', 'isRegex'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 255 }, value: { type: 'string', maxLength: 4096 }, isRegex: { type: 'boolean' }, isEqual: { type: 'boolean', default: true } },
} as const;
const SILENCE_BODY = {
  type: 'object',
  required: ['matchers', 'startsAt', 'endsAt', 'comment'],
  properties: {
    id: { type: 'string', description: 'an existing silence to replace (an expired one is not revived: a new silence is made)' },
    matchers: { type: 'array', minItems: 1, maxItems: 64, items: API_MATCHER },
    startsAt: { type: 'string', description: 'ISO 8601' },
    endsAt: { type: 'string', description: 'ISO 8601, after startsAt' },
    createdBy: { type: 'string', maxLength: 255, description: "default: the caller's name" },
    comment: { type: 'string', minLength: 1, maxLength: 4096 },
  },
} as const;
const ID_PARAMS = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } } as const;

const inProject = (s: Silence, project: string) => s.matchers.some((m) => m.name === 'project_id' && m.value === project && m.isEqual && !m.isRegex);

export function registerSilenceRoutes(app: FastifyInstance, deps: SilenceRouteDeps): void {
  const { silences } = deps;
  const visible = (request: FastifyRequest, id: string): Silence => {
    const s = silences.get(id);
    const project = deps.projectOf(request);
    if (project !== null && !inProject(s, project)) throw new SilenceError('notFound', `silence ${id} not found`);
    return s;
  };

  app.get<{ Querystring: { filter?: string[] } }>(
    '/silences',
    {
      schema: {
        tags,
        summary: 'List silences (Alertmanager v2)',
        querystring: { type: 'object', additionalProperties: false, properties: { filter: { type: 'array', maxItems: 32, items: { type: 'string', maxLength: 4096 }, description: 'matchers such as service="nova": silences whose own matchers select such labels' } } },
      },
    },
    async (request) => {
      let filter: Matcher[];
      try {
        filter = (request.query.filter ?? []).map((f, i) => parseMatcher(f, `filter[${i}]`));
      } catch (err) {
        if (err instanceof MatcherError) throw new SilenceError('invalid', err.message, err);
        throw err;
      }
      const project = deps.projectOf(request);
      // Alertmanager's filter reads a silence's matchers as labels (name -> value); a term on a name the silence lacks only passes when negative.
      return silences
        .list()
        .filter((s) => project === null || inProject(s, project))
        .filter((s) => {
          const labels = Object.fromEntries(s.matchers.map((m) => [m.name, m.value]));
          return filter.every((f) => (labels[f.name] === undefined ? f.operator === '!=' || f.operator === '!~' : matchesAll([f], labels)));
        });
    },
  );

  app.post<{ Body: Record<string, unknown> }>('/silences', { schema: { tags, summary: 'Create or replace a silence (Alertmanager v2)', body: SILENCE_BODY } }, async (request) => {
    const project = deps.projectOf(request);
    const body: Record<string, unknown> = { ...request.body, createdBy: request.body.createdBy ?? deps.callerName(request) };
    if (project !== null) {
      const matchers = (body.matchers as { name: string; value: string; isRegex: boolean; isEqual?: boolean }[]).map((m) => fromApiMatcher({ ...m, isEqual: m.isEqual ?? true }));
      if (!matchers.some((m) => m.name === 'project_id' && m.operator === '=' && m.value === project)) {
        throw new SilenceError('forbidden', `matchers: a project member's silence must include {"name": "project_id", "value": "${project}", "isRegex": false} so that it mutes only its project's alarms`);
      }
      if (typeof body.id === 'string') visible(request, body.id);
    }
    const s = silences.upsert(body);
    return { silenceID: s.id };
  });

  app.get<{ Params: { id: string } }>('/silence/:id', { schema: { tags, summary: 'One silence', params: ID_PARAMS } }, async (request) => visible(request, request.params.id));

  app.delete<{ Params: { id: string } }>('/silence/:id', { schema: { tags, summary: 'Expire a silence (it is kept, ended now)', params: ID_PARAMS } }, async (request, reply) => {
    visible(request, request.params.id);
    silences.expire(request.params.id);
    return reply.code(200).send();
  });

  app.post<{ Params: { alarm_id: string }; Body: { comment: string; duration?: string } }>(
    '/alarms/:alarm_id/false-positive',
    {
      schema: {
        tags,
        summary: 'Mark an alarm as a false positive: silence it and record it',
        params: { type: 'object', required: ['alarm_id'], properties: { alarm_id: { type: 'string', minLength: 1, maxLength: 255 } } },
        body: { type: 'object', additionalProperties: false, required: ['comment'], properties: { comment: { type: 'string', minLength: 1, maxLength: 4096 }, duration: { type: 'string', description: 'how long to silence, e.g. 24h (default: false_positive_duration)' } } },
      },
    },
    async (request, reply) => {
      const projectId = await deps.alarmProject(request, request.params.alarm_id);
      let durationMs: number | undefined;
      if (request.body.duration !== undefined) {
        durationMs = parseDuration(request.body.duration);
        if (durationMs === undefined || durationMs <= 0) throw new SilenceError('invalid', `duration: expected a duration such as 24h or 7d, got ${JSON.stringify(request.body.duration)}`);
      }
      const silence = await deps.markFalsePositive(request.params.alarm_id, { createdBy: deps.callerName(request), comment: request.body.comment, projectId, ...(durationMs === undefined ? {} : { durationMs }) });
      return reply.code(201).send(silence);
    },
  );
}
