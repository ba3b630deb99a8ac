import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { selectAuditRecords, type AuditFilters, type AuditRow } from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { callerOf, TOKEN_SECURITY } from '../http.ts';
import { CSV_HEADER, csvLine, jsonLine } from './csv.ts';
import { FILTER_PROPERTIES, parseFilters } from './filters.ts';

/** Rows read per query while exporting: one page is all the export holds in memory. */
export const EXPORT_PAGE_ROWS = 1000;

export const EXPORT_FORMATS = {
  jsonl: { type: 'application/x-ndjson; charset=utf-8', extension: 'jsonl' },
  csv: { type: 'text/csv; charset=utf-8', extension: 'csv' },
} as const;
export type ExportFormat = keyof typeof EXPORT_FORMATS;

/**
 * The lines of an export, page after page: each page is read after the previous one was
 * taken by the reply (the stream pulls), from a keyset cursor on (event_time, id), so the
 * whole result is never held and records inserted meanwhile do not shift the pages.
 * Yields one string per page.
 */
export async function* exportLines(context: ApiContext, filters: AuditFilters, format: ExportFormat, order: 'asc' | 'desc', first: AuditRow[], pageRows = EXPORT_PAGE_ROWS): AsyncGenerator<string> {
  const line = format === 'csv' ? csvLine : jsonLine;
  if (format === 'csv') yield CSV_HEADER;
  let page = first;
  while (page.length > 0) {
    yield page.map(line).join('');
    if (page.length < pageRows) return;
    const last = page[page.length - 1] as AuditRow;
    page = await context.store.query<AuditRow>(selectAuditRecords({ ...filters, limit: pageRows, order, after: { eventTime: last.event_time, id: last.id } }));
  }
}

/** GET /audit/v1/export: the matching records as JSON lines or CSV, streamed. */
export function registerExportRoute(v1: FastifyInstance, context: ApiContext, pageRows = EXPORT_PAGE_ROWS): void {
  v1.get(
    '/export',
    {
      schema: {
        tags: ['audit'],
        summary: 'Export the matching records for a SIEM, streamed (JSON lines or CSV with a header row)',
        description:
          'Takes the filters of /records. The reply is streamed in chunks as pages are read (no Content-Length); ' +
          'oldest first unless order=desc. A failure after the first page cuts the stream short: compare the line count with a /records query if in doubt.',
        security: TOKEN_SECURITY,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...FILTER_PROPERTIES,
            format: { type: 'string', enum: Object.keys(EXPORT_FORMATS), description: 'jsonl (default) or csv' },
            order: { type: 'string', enum: ['asc', 'desc'], description: 'by (event_time, id); default asc' },
          },
        },
      },
    },
    async (request, reply) => {
      const query = request.query as Record<string, unknown> & { format?: ExportFormat; order?: 'asc' | 'desc' };
      const filters = parseFilters(query, context.access.readableProject('audit', callerOf(request)));
      const format = query.format ?? 'jsonl';
      const order = query.order ?? 'asc';
      // The first page is read before the headers go out, so a failing query is still a proper error reply.
      const first = await context.store.query<AuditRow>(selectAuditRecords({ ...filters, limit: pageRows, order }));
      const stamp = new Date(context.clock.nowMs()).toISOString().replace(/[-:]|\.\d{3}/g, '');
      return reply
        .type(EXPORT_FORMATS[format].type)
        .header('content-disposition', `attachment; filename="audit-records-${stamp}.${EXPORT_FORMATS[format].extension}"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(exportLines(context, filters, format, order, first, pageRows), { objectMode: false }));
    },
  );
}
