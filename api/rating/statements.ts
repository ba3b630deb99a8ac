import type { FastifyInstance } from 'fastify';
import type { TokenInfo } from '../../core/index.ts';
import {
  MAX_STATEMENT_LIST_LIMIT,
  StatementError,
  currentStatement,
  domainScope,
  issueMonthStatements,
  monthOf,
  numberedStatement,
  parseMonth,
  projectScope,
  type StatementMonth,
  type StatementScope,
} from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { ApiError, invalidParameter } from '../errors.ts';
import { callerOf, rejectUnknownQueryFields, TOKEN_SECURITY, useErrorStyle } from '../http.ts';
import { NO_OTHER_FIELDS } from '../params.ts';
import { applicationCosts, runningCosts } from './statements/costs.ts';
import { negotiateFormat, sendStatement, STATEMENT_FORMATS, type StatementFormat } from './statements/format.ts';
import { createPdfRenderer } from '../pdf.ts';

/**
 * Our own routes beside CloudKitty's under /rating/v1 (errors in its WSME form):
 * statements per project and domain per month (JSON, CSV, HTML, PDF), the issued ones,
 * the month's issue on demand, running costs and cost by application. Reads are filtered
 * by the `cost` family (members: their own project; another project's answers 404 like
 * one without usage). Experimental API.
 */

const MONTH_PATTERN = '^\\d{4}-(0[1-9]|1[0-2])$';
const MONTH = (description: string) => ({ type: 'string', pattern: MONTH_PATTERN, description: `${description} (YYYY-MM, UTC)` });
const ID = { type: 'string', minLength: 1, maxLength: 255 } as const;
const FORMAT = { type: 'string', enum: Object.keys(STATEMENT_FORMATS), description: 'json (default), csv, html or pdf; without it the Accept header decides' };

const noStatement = (scope: string, month: string) => new StatementError('CUMULUS_RATING_NO_STATEMENT', 404, `No statement: ${scope} has no rated usage in ${month}.`);

/** The month asked for (or `fallback`), refused when it has not begun. */
function askedMonth(text: string | undefined, fallback: StatementMonth, now: Date): StatementMonth {
  if (text === undefined) return fallback;
  const month = parseMonth(text) as StatementMonth; // the schema's pattern already checked it
  if (month.start.getTime() > now.getTime()) throw invalidParameter('month', `a month that has begun (up to ${monthOf(now).month})`, text);
  return month;
}

/** The one project a caller reads: the asked one (members: only their own, else 404), or their token's. */
function askedProject(identity: TokenInfo, readable: string | null, asked: string | undefined, notFound: (projectId: string) => Error): string {
  const projectId = asked ?? identity.projectId;
  if (projectId === null || projectId === undefined) throw invalidParameter('project_id', 'a project id (the token is not project-scoped)', asked);
  if (readable !== null && projectId !== readable) throw notFound(projectId);
  return projectId;
}

export function registerStatementRoutes(instance: FastifyInstance, context: ApiContext): void {
  const pdf = createPdfRenderer({ documents: 'PDF statements', errorCode: 'CUMULUS_RATING_PDF_UNAVAILABLE' });
  const deps = { store: context.store, statements: context.statements, clock: context.clock };
  const now = () => new Date(context.clock.nowMs());

  instance.register(async (v1) => {
    useErrorStyle(v1, 'wsme');
    rejectUnknownQueryFields(v1);
    v1.addHook('onClose', async () => pdf.close());

    v1.get(
      '/v1/statements',
      {
        schema: {
          tags: ['rating'],
          summary: "A project's (or a domain's) statement for a month: JSON, CSV, printable HTML or PDF",
          description:
            'Line items by service and resource with totals, in one currency. A month closes 6 hours after it ends: from then the statement is issued with a number ' +
            '(the same each time while its content is unchanged; a new revision -R2, -R3 after reprocessing changed it); before, it is a draft without a number. ' +
            'A domain statement (operators only) covers the projects listed in project_id.',
          security: TOKEN_SECURITY,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              project_id: { type: 'array', items: ID, minItems: 1, maxItems: 500, description: "the project (default: the token's); with domain_id, some of the domain's projects (repeat it; default: all of them)" },
              domain_id: { ...ID, description: "a domain statement (operators only): every project Keystone lists in the domain, or the listed ones" },
              month: MONTH('the month (default: the previous month)'),
              format: FORMAT,
            },
          },
        },
      },
      async (request, reply) => {
        const identity = callerOf(request);
        const readable = context.access.readableProject('cost', identity);
        const query = request.query as { project_id?: string[]; domain_id?: string; month?: string; format?: StatementFormat };
        const month = askedMonth(query.month, monthOf(now(), -1), now());
        let scope: StatementScope;
        if (query.domain_id !== undefined) {
          if (readable !== null) throw new ApiError('CUMULUS_API_FORBIDDEN', 403, 'Domain statements are for operators (cost:list_all); ask for your project\'s statement with project_id.');
          // The domain's projects come from Keystone; a list given names some of them (a partial statement).
          const members = context.projects ? await context.projects.projectsOfDomain(query.domain_id) : undefined;
          if (members === null) throw new ApiError('CUMULUS_API_NOT_FOUND', 404, `Domain ${query.domain_id} not found in Keystone`);
          if (query.project_id === undefined && members === undefined) {
            throw new ApiError('CUMULUS_API_INVALID_PARAMETER', 400, "Invalid value for project_id: this API has no Keystone project directory, so a domain statement needs the domain's projects listed (project_id=<id>&project_id=<id>...).");
          }
          const outside = members === undefined ? [] : (query.project_id ?? []).filter((id) => !members.includes(id));
          if (outside.length > 0) throw invalidParameter('project_id', `projects of domain ${query.domain_id}`, outside);
          const projectIds = query.project_id ?? members ?? [];
          if (projectIds.length === 0) throw new ApiError('CUMULUS_API_NOT_FOUND', 404, `Domain ${query.domain_id} has no projects`);
          scope = domainScope(query.domain_id, projectIds);
        } else {
          if (query.project_id !== undefined && query.project_id.length > 1) throw invalidParameter('project_id', 'one project id (several only with domain_id)', query.project_id);
          scope = projectScope(askedProject(identity, readable, query.project_id?.[0], (id) => noStatement(`project ${id}`, month.month)));
        }
        const { statement } = await currentStatement(deps, scope, month, identity.userId);
        return sendStatement(reply, statement, negotiateFormat(query.format, request.headers.accept), pdf, now());
      },
    );

    v1.get(
      '/v1/statements/issued',
      {
        schema: {
          tags: ['rating'],
          summary: 'The issued statements (every revision), newest month first',
          security: TOKEN_SECURITY,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              month: MONTH('only this month'),
              project_id: { ...ID, description: "only this project's (members: their own only)" },
              limit: { type: 'integer', minimum: 1, maximum: MAX_STATEMENT_LIST_LIMIT },
              offset: { type: 'integer', minimum: 0 },
            },
          },
        },
      },
      async (request) => {
        const readable = context.access.readableProject('cost', callerOf(request));
        const query = request.query as { month?: string; project_id?: string; limit?: number; offset?: number };
        const limit = query.limit ?? 100;
        const offset = query.offset ?? 0;
        // A member filtering on another project sees nothing, as if it had no statement.
        if (readable !== null && query.project_id !== undefined && query.project_id !== readable) return { statements: [], limit, offset };
        const statements = context.statements.list({ projectId: readable ?? query.project_id ?? null, limit, offset, ...(query.month !== undefined ? { month: query.month } : {}) });
        return { statements, limit, offset };
      },
    );

    v1.get(
      '/v1/statements/issued/:number',
      {
        schema: {
          tags: ['rating'],
          summary: 'An issued statement exactly as it was issued (also after a later revision replaced it)',
          security: TOKEN_SECURITY,
          params: { type: 'object', properties: { number: { type: 'string', minLength: 1, maxLength: 128 } } },
          querystring: { type: 'object', additionalProperties: false, properties: { format: FORMAT } },
        },
      },
      async (request, reply) => {
        const readable = context.access.readableProject('cost', callerOf(request));
        const { number } = request.params as { number: string };
        const found = context.statements.get(number);
        const visible = found !== undefined && (readable === null || (found.issued.scope.type === 'project' && found.issued.scope.id === readable));
        if (!found || !visible) throw new StatementError('CUMULUS_RATING_NO_STATEMENT', 404, `No statement ${number} was issued.`);
        const query = request.query as { format?: StatementFormat };
        return sendStatement(reply, numberedStatement(found.content, found.issued), negotiateFormat(query.format, request.headers.accept), pdf, now());
      },
    );

    v1.post(
      '/v1/statements/issue',
      {
        schema: {
          tags: ['rating'],
          summary: "Issues every project's statement of a closed month now (what the monthly job does); operators only",
          security: TOKEN_SECURITY,
          body: { type: ['object', 'null'], additionalProperties: NO_OTHER_FIELDS, properties: { month: MONTH('the month (default: the previous month)') } },
        },
      },
      async (request) => {
        const identity = callerOf(request);
        context.access.enforce('statement:issue', identity, {});
        const body = (request.body ?? {}) as { month?: string };
        return issueMonthStatements(deps, askedMonth(body.month, monthOf(now(), -1), now()), identity.userId);
      },
    );

    v1.get(
      '/v1/costs/running',
      {
        schema: {
          tags: ['rating'],
          summary: "A project's month-to-date cost and its projected end-of-month cost",
          description: 'The projection is month_to_date + the last 7 rated days\' cost x remaining time / 7 days, in exact decimals (see projection.method).',
          security: TOKEN_SECURITY,
          querystring: { type: 'object', additionalProperties: false, properties: { project_id: { ...ID, description: "the project (default: the token's)" } } },
        },
      },
      async (request) => {
        const identity = callerOf(request);
        const readable = context.access.readableProject('cost', identity);
        const query = request.query as { project_id?: string };
        const projectId = askedProject(identity, readable, query.project_id, (id) => new StatementError('CUMULUS_RATING_NO_COSTS', 404, `No costs: project ${id} has no rated usage.`));
        return runningCosts(context.store, projectId, now());
      },
    );

    v1.get(
      '/v1/costs/by-application',
      {
        schema: {
          tags: ['rating'],
          summary: 'Cost of a month grouped by application: the Heat stack, or a tag on the resources',
          security: TOKEN_SECURITY,
          querystring: {
            type: 'object',
            additionalProperties: false,
            required: ['by'],
            properties: {
              by: { type: 'string', pattern: '^(stack|tag:[^\\u0000-\\u001f]{1,128})$', description: 'stack (the Heat stack id) or tag:<name>' },
              month: MONTH('the month (default: the current month)'),
              project_id: { ...ID, description: "only this project (members: their own, always); operators: default every project" },
            },
          },
        },
      },
      async (request) => {
        const identity = callerOf(request);
        const readable = context.access.readableProject('cost', identity);
        const query = request.query as { by: string; month?: string; project_id?: string };
        const month = askedMonth(query.month, monthOf(now()), now());
        if (readable !== null && query.project_id !== undefined && query.project_id !== readable) {
          throw new StatementError('CUMULUS_RATING_NO_COSTS', 404, `No costs: project ${query.project_id} has no rated usage in ${month.month}.`);
        }
        const projectId = readable ?? query.project_id;
        return applicationCosts(context.store, projectId === undefined ? null : [projectId], month, query.by);
      },
    );
  });
}
