import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../../context.ts';
import { callerOf, TOKEN_SECURITY } from '../../http.ts';
import type { PdfRenderer } from '../../pdf.ts';
import { parseScope } from '../data.ts';
import type { CapacityFactorsInput } from '../model/index.ts';
import { capacityReportCsv } from './csv.ts';
import { capacityReportHtml } from './html.ts';
import { DEFAULT_REPORT_HISTORY_DAYS, DEFAULT_REPORT_HORIZON_DAYS, loadCapacityReport } from './inputs.ts';

export const REPORT_FORMATS = { json: 'application/json; charset=utf-8', html: 'text/html; charset=utf-8', csv: 'text/csv; charset=utf-8', pdf: 'application/pdf' } as const;
export type ReportFormat = keyof typeof REPORT_FORMATS;

/**
 * GET /capacity/v1/report: the capacity planning report, on demand, as JSON, HTML with
 * charts, CSV or PDF (`cumulus report capacity` fetches it). Registered inside the
 * /capacity/v1 scope (token required, `capacity:read`).
 */
export function registerCapacityReportRoute(capacity: FastifyInstance, context: ApiContext, deps: { factors: CapacityFactorsInput; pdf: PdfRenderer }): void {
  capacity.get(
    '/report',
    {
      schema: {
        tags: ['capacity'],
        summary: 'The capacity planning report: usage history, forecasts with intervals, exhaustion dates, flavor fit, zones, growth by project',
        security: TOKEN_SECURITY,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            scope: { type: 'string', maxLength: 255, default: 'cloud', description: 'cloud, az:<zone>, aggregate:<uuid> or host:<name>' },
            format: { type: 'string', enum: Object.keys(REPORT_FORMATS), default: 'json' },
            horizon_days: { type: 'integer', minimum: 1, maximum: 730, default: DEFAULT_REPORT_HORIZON_DAYS },
            history_days: { type: 'integer', minimum: 3, maximum: 400, default: DEFAULT_REPORT_HISTORY_DAYS },
          },
        },
      },
    },
    async (request, reply) => {
      context.access.enforce('capacity:read', callerOf(request), {});
      const q = request.query as { scope: string; format: ReportFormat; horizon_days: number; history_days: number };
      const report = await loadCapacityReport(context.store, { scope: parseScope(q.scope), now: context.clock.now(), horizonDays: q.horizon_days, historyDays: q.history_days, factors: deps.factors });
      reply.type(REPORT_FORMATS[q.format]);
      if (q.format === 'json') return reply.send(JSON.stringify(report));
      if (q.format === 'csv') return reply.send(capacityReportCsv(report));
      const html = capacityReportHtml(report);
      if (q.format === 'html') return reply.send(html);
      return reply.send(await deps.pdf.render(html));
    },
  );
}
