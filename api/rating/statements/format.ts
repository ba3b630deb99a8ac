import type { FastifyReply } from 'fastify';
import type { Statement } from '../../../storage/index.ts';
import { statementCsv } from './csv.ts';
import { statementHtml } from './html.ts';
import type { PdfRenderer } from '../../pdf.ts';

/** The statement's renderings and their media types. */
export const STATEMENT_FORMATS = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  html: 'text/html; charset=utf-8',
  pdf: 'application/pdf',
} as const;
export type StatementFormat = keyof typeof STATEMENT_FORMATS;

const BY_MEDIA_TYPE: ReadonlyMap<string, StatementFormat> = new Map(Object.entries(STATEMENT_FORMATS).map(([format, type]) => [type.split(';')[0] as string, format as StatementFormat]));

/**
 * `format` when given; else the Accept header's most preferred type we render (q-values
 * honoured, ties in the header's order); JSON when neither says.
 */
export function negotiateFormat(format: string | undefined, accept: string | undefined): StatementFormat {
  if (format !== undefined) return format as StatementFormat;
  const ranges = (accept ?? '')
    .split(',')
    .map((part, index) => {
      const [type = '', ...parameters] = part.split(';').map((p) => p.trim().toLowerCase());
      const q = parameters.map((p) => /^q=([0-9.]+)$/.exec(p)).find(Boolean);
      return { type, q: q ? Number(q[1]) : 1, index };
    })
    .filter((r) => r.type !== '' && r.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const range of ranges) {
    const chosen = BY_MEDIA_TYPE.get(range.type);
    if (chosen) return chosen;
  }
  return 'json';
}

/** The file name a download gets: the statement number, or `draft-<scope>-<month>`. */
export function statementFileName(statement: Statement, format: StatementFormat): string {
  const base = statement.number ?? `draft-${statement.scope.id.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40)}-${statement.period.month}`;
  return `${base}.${format}`;
}

/** Replies with the statement in `format`. */
export async function sendStatement(reply: FastifyReply, statement: Statement, format: StatementFormat, pdf: PdfRenderer, now: Date): Promise<FastifyReply> {
  reply.header('cache-control', 'no-store');
  if (format === 'json') return reply.type(STATEMENT_FORMATS.json).send(statement);
  const disposition = (kind: 'inline' | 'attachment') => reply.header('content-disposition', `${kind}; filename="${statementFileName(statement, format)}"`);
  if (format === 'csv') return disposition('attachment').type(STATEMENT_FORMATS.csv).send(statementCsv(statement));
  const html = statementHtml(statement, now);
  if (format === 'html') return disposition('inline').type(STATEMENT_FORMATS.html).send(html);
  const document = await pdf.render(html);
  return disposition('attachment').type(STATEMENT_FORMATS.pdf).send(document);
}
