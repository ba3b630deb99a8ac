import type { Statement } from '../../../storage/index.ts';
import { csvField } from '../../audit/csv.ts';

/**
 * A statement as CSV (RFC 4180): a header row, then one record per line item, one
 * `service_total` record after each service's lines and one `total` record at the end;
 * CRLF between records, fields with a comma, quote, CR or LF (or edge spaces) quoted with
 * quotes doubled. Amounts are the statement's decimal text, never reformatted.
 */

export const STATEMENT_CSV_COLUMNS = [
  'record',
  'statement_number',
  'status',
  'month',
  'currency',
  'project_id',
  'service',
  'resource_id',
  'resource_type',
  'display_name',
  'quantity',
  'unit',
  'unit_price',
  'amount',
  'from',
  'to',
] as const;

type CsvRecord = Partial<Record<(typeof STATEMENT_CSV_COLUMNS)[number], string | null>>;

export function statementCsv(statement: Statement): string {
  const common: CsvRecord = { statement_number: statement.number, status: statement.status, month: statement.period.month, currency: statement.currency };
  const records: CsvRecord[] = [];
  for (const service of statement.services) {
    for (const line of service.lines) {
      records.push({
        ...common,
        record: 'line',
        project_id: line.project_id,
        service: line.service,
        resource_id: line.resource_id,
        resource_type: line.resource_type,
        display_name: line.display_name,
        quantity: line.quantity,
        unit: line.unit,
        unit_price: line.unit_price,
        amount: line.amount,
        from: line.from,
        to: line.to,
      });
    }
    records.push({ ...common, record: 'service_total', service: service.service, amount: service.total });
  }
  records.push({ ...common, record: 'total', amount: statement.total });
  const line = (fields: readonly (string | null | undefined)[]) => `${fields.map(csvField).join(',')}\r\n`;
  return line(STATEMENT_CSV_COLUMNS) + records.map((r) => line(STATEMENT_CSV_COLUMNS.map((c) => r[c]))).join('');
}
