import type { FastifyInstance } from 'fastify';
import { isAdmin } from '../../core/index.ts';
import { selectAuditActionCounts, selectAuditBySource, type AuditActionCountRow, type AuditSourceRow } from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { callerOf, TOKEN_SECURITY } from '../http.ts';
import { DEFAULT_AUDIT_LIMIT, MAX_AUDIT_LIMIT, PAGE_PROPERTIES, parsePage, parseRange, TIME_PROPERTIES } from './filters.ts';
import { isoTime } from './format.ts';
import { PAGE_SCHEMA, readAuditPage } from './page.ts';

/** The role names that make an initiator privileged when a CADF initiator lists its roles. */
export const DEFAULT_PRIVILEGED_ROLES = ['admin'];

const tags = ['audit'];
const ID = { type: 'string', minLength: 1, maxLength: 255 } as const;
const IDS = (description: string) => ({ type: 'array', items: ID, minItems: 1, maxItems: 50, description });
const RANGE = { start: { type: 'string', nullable: true }, end: { type: 'string', nullable: true } } as const;

const rangeView = (range: { start?: Date; end?: Date }) => ({ start: range.start?.toISOString() ?? null, end: range.end?.toISOString() ?? null });

/**
 * Ready-made compliance reports. Each is the caller's view: a member's reports cover the
 * records of their project only (a record belongs to its initiator's project), an admin's
 * every record. The `pending` half of keystonemiddleware's request/response pair is left
 * out: its answer (success or failure) follows it.
 */
export function registerReportRoutes(v1: FastifyInstance, context: ApiContext): void {
  v1.get(
    '/reports/user-actions',
    {
      schema: {
        tags,
        summary: 'All actions of one user in a period: counts per action and outcome, and the records',
        security: TOKEN_SECURITY,
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['user_id'],
          properties: { user_id: { ...ID, description: 'the initiator id (Keystone user id)' }, ...TIME_PROPERTIES, ...PAGE_PROPERTIES },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              user_id: { type: 'string' },
              ...RANGE,
              summary: {
                type: 'array',
                items: { type: 'object', properties: { action: { type: 'string' }, outcome: { type: 'string' }, count: { type: 'integer' }, first: { type: 'string' }, last: { type: 'string' } } },
              },
              ...PAGE_SCHEMA,
            },
          },
        },
      },
    },
    async (request) => {
      const query = request.query as { user_id: string; start?: string; end?: string; limit?: number; order?: 'asc' | 'desc'; next?: string };
      const range = parseRange(query);
      const filters = { projectId: context.access.readableProject('audit', callerOf(request)), ...range, initiatorId: query.user_id, answeredOnly: true };
      const page = parsePage(query, 'asc');
      const counts = await context.store.query<AuditActionCountRow>(selectAuditActionCounts(filters, MAX_AUDIT_LIMIT));
      return {
        user_id: query.user_id,
        ...rangeView(range),
        summary: counts.map((c) => ({ action: c.action, outcome: c.outcome, count: Number(c.count), first: isoTime(c.first), last: isoTime(c.last) })),
        ...(await readAuditPage(context, filters, page)),
      };
    },
  );

  v1.get(
    '/reports/failed-authentications',
    {
      schema: {
        tags,
        summary: 'Failed authentications by source address: how many, when first and last, which accounts',
        description:
          "A failed authentication is Keystone's `authenticate` action with outcome failure (a wrong password, an unknown user) " +
          'or any request a service refused with 401 (a missing, invalid or revoked token). Sources with the most failures first; a null address is an unknown source.',
        security: TOKEN_SECURITY,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...TIME_PROPERTIES, limit: { type: 'integer', minimum: 1, maximum: MAX_AUDIT_LIMIT, description: `sources (default ${DEFAULT_AUDIT_LIMIT})` } },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              ...RANGE,
              total: { type: 'integer' },
              sources: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    address: { type: 'string', nullable: true },
                    count: { type: 'integer' },
                    first: { type: 'string' },
                    last: { type: 'string' },
                    initiator_ids: { type: 'array', items: { type: 'string' } },
                    initiator_names: { type: 'array', items: { type: 'string' } },
                    targets: { type: 'array', items: { type: 'string' } },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (request) => {
      const query = request.query as { start?: string; end?: string; limit?: number };
      const range = parseRange(query);
      const filters = { projectId: context.access.readableProject('audit', callerOf(request)), ...range, authenticationFailuresOnly: true };
      const rows = await context.store.query<AuditSourceRow>(selectAuditBySource(filters, query.limit ?? DEFAULT_AUDIT_LIMIT));
      const sources = rows.map((r) => ({ ...r, count: Number(r.count), first: isoTime(r.first), last: isoTime(r.last) }));
      return { ...rangeView(range), total: sources.reduce((sum, s) => sum + s.count, 0), sources };
    },
  );

  v1.get(
    '/reports/resource-changes',
    {
      schema: {
        tags,
        summary: 'All changes to one resource (every action on it but reads), oldest first',
        security: TOKEN_SECURITY,
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['target_id'],
          properties: { target_id: { ...ID, description: 'the CADF target id (the resource id)' }, ...TIME_PROPERTIES, ...PAGE_PROPERTIES },
        },
        response: { 200: { type: 'object', properties: { target_id: { type: 'string' }, ...RANGE, ...PAGE_SCHEMA } } },
      },
    },
    async (request) => {
      const query = request.query as { target_id: string; start?: string; end?: string; limit?: number; order?: 'asc' | 'desc'; next?: string };
      const range = parseRange(query);
      const filters = { projectId: context.access.readableProject('audit', callerOf(request)), ...range, targetId: query.target_id, answeredOnly: true, changesOnly: true };
      return { target_id: query.target_id, ...rangeView(range), ...(await readAuditPage(context, filters, parsePage(query, 'asc'))) };
    },
  );

  v1.get(
    '/reports/privileged-actions',
    {
      schema: {
        tags,
        summary: 'Actions by admins, newest first',
        description:
          'CADF records do not say which roles the initiator held (keystonemiddleware and Keystone put none in the initiator), ' +
          "so an initiator is privileged when its project is an admin project (admin_project_id; by default the caller's own project when the caller holds the admin role, " +
          'i.e. the cloud admin project), or when the raw CADF initiator lists one of `role` in `initiator.roles` (emitters that add it).',
        security: TOKEN_SECURITY,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            admin_project_id: IDS("projects whose members act as admins (default: the caller's project if the caller is an admin)"),
            role: IDS(`privileged role names, read from initiator.roles (default ${DEFAULT_PRIVILEGED_ROLES.join(', ')})`),
            ...TIME_PROPERTIES,
            ...PAGE_PROPERTIES,
          },
        },
        response: {
          200: {
            type: 'object',
            properties: { admin_project_ids: { type: 'array', items: { type: 'string' } }, roles: { type: 'array', items: { type: 'string' } }, ...RANGE, ...PAGE_SCHEMA },
          },
        },
      },
    },
    async (request) => {
      const query = request.query as { admin_project_id?: string[]; role?: string[]; start?: string; end?: string; limit?: number; order?: 'asc' | 'desc'; next?: string };
      const caller = callerOf(request);
      const range = parseRange(query);
      const projects = query.admin_project_id ?? (isAdmin(caller) && caller.projectId ? [caller.projectId] : []);
      const roles = query.role ?? DEFAULT_PRIVILEGED_ROLES;
      const filters = { projectId: context.access.readableProject('audit', caller), ...range, answeredOnly: true, privileged: { projects, roles } };
      return { admin_project_ids: projects, roles, ...rangeView(range), ...(await readAuditPage(context, filters, parsePage(query, 'desc'))) };
    },
  );
}
