import type { FastifyInstance } from 'fastify';
import { selectAuditRecord, type AuditRow } from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { callerOf, rejectUnknownQueryFields, requireToken, TOKEN_SECURITY, useErrorStyle } from '../http.ts';
import { registerExportRoute } from './export.ts';
import { FILTER_PROPERTIES, PAGE_PROPERTIES, parseFilters, parsePage } from './filters.ts';
import { AUDIT_RECORD_SCHEMA, auditView } from './format.ts';
import { PAGE_SCHEMA, readAuditPage } from './page.ts';
import { registerReportRoutes } from './reports.ts';

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/**
 * CADF audit records, compliance reports and SIEM export under /audit/v1. Stable.
 *
 * - Whose records: a record belongs to its initiator's project (`initiator.project_id`,
 *   else the notification context's project), i.e. the project the caller's token was
 *   scoped to. Admins (`audit:list_all`) read every record; a member reads their project's
 *   only, and another project's record answers 404 like a missing one. Records without a
 *   project (a failed login, a request without a valid token) are the admins'.
 * - Pages: keyset on (event_time, id) with an opaque `next` cursor, stable while records
 *   are inserted; /records is newest first by default, the reports and the export oldest first
 *   (privileged actions newest first).
 * - Errors: `{"error": {"code", "status", "message"}}`.
 */
export function registerAuditRoutes(app: FastifyInstance, context: ApiContext): void {
  app.register(
    async (v1) => {
      useErrorStyle(v1, 'plain');
      requireToken(v1, context.auth);
      rejectUnknownQueryFields(v1);

      v1.get(
        '/records',
        {
          schema: {
            tags: ['audit'],
            summary: 'Audit records filtered by the 7 Ws and time, a page at a time',
            description: 'Each filter may be repeated (any of the values); different filters must all match. Values are compared exactly.',
            security: TOKEN_SECURITY,
            querystring: { type: 'object', additionalProperties: false, properties: { ...FILTER_PROPERTIES, ...PAGE_PROPERTIES } },
            response: { 200: { type: 'object', properties: PAGE_SCHEMA } },
          },
        },
        async (request) => {
          const query = request.query as Record<string, unknown> & { limit?: number; order?: 'asc' | 'desc'; next?: string };
          const filters = parseFilters(query, context.access.readableProject('audit', callerOf(request)));
          return readAuditPage(context, filters, parsePage(query, 'desc'));
        },
      );

      v1.get(
        '/records/:id',
        {
          schema: {
            tags: ['audit'],
            summary: 'One audit record',
            security: TOKEN_SECURITY,
            params: { type: 'object', properties: { id: { type: 'string', pattern: UUID_PATTERN, description: 'the record id (a UUID)' } }, required: ['id'] },
            response: { 200: AUDIT_RECORD_SCHEMA },
          },
        },
        async (request) => {
          const { id } = request.params as { id: string };
          const row = (await context.store.query<AuditRow>(selectAuditRecord(id, context.access.readableProject('audit', callerOf(request)))))[0];
          if (row === undefined) throw new ApiError('CUMULUS_API_AUDIT_RECORD_NOT_FOUND', 404, `Audit record ${id} does not exist`);
          return auditView(row);
        },
      );

      registerReportRoutes(v1, context);
      registerExportRoute(v1, context);
    },
    { prefix: '/audit/v1' },
  );
}
