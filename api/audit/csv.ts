import { AUDIT_COLUMNS, type AuditRow } from '../../storage/index.ts';
import { auditView } from './format.ts';

/**
 * The export's line formats, one record per line. CSV is RFC 4180: a header row, fields
 * with a comma, a quote, CR or LF (or leading/trailing spaces) in double quotes with
 * quotes doubled, null as an empty field, CRLF between records; `raw` as JSON text. Values
 * are exported as stored: a SIEM gets the evidence unchanged (spreadsheets that evaluate
 * a leading `=` are the reader's concern).
 */

export function csvField(value: string | null | undefined): string {
  if (value === null || value === undefined) return '';
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export const CSV_HEADER = `${AUDIT_COLUMNS.join(',')}\r\n`;

export function csvLine(row: AuditRow): string {
  const record = auditView(row);
  return `${AUDIT_COLUMNS.map((column) => csvField(column === 'raw' ? JSON.stringify(record.raw) : (record[column] as string | null))).join(',')}\r\n`;
}

export function jsonLine(row: AuditRow): string {
  return `${JSON.stringify(auditView(row))}\n`;
}
