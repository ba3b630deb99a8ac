import { describe, expect, it } from 'vitest';
import { buildStatementContent, parseMonth, projectScope, type Statement, type StatementLineRow } from '../../../storage/index.ts';
import { monthDays } from './charts.ts';
import { STATEMENT_CSV_COLUMNS, statementCsv } from './csv.ts';
import { negotiateFormat, statementFileName } from './format.ts';
import { escapeHtml, statementHtml } from './html.ts';

const EVIL = `<script>alert("x")</script>, 'quoted' "name"\r\nline`;
const BASE: StatementLineRow = { project_id: 'p1', service: 'instance', resource_id: 'vm-1', resource_type: 'instance', display_name: '', unit: 'instance', price: '0.5', currency: 'EUR', quantity: '2', cost: '1.005', first_start: '2026-01-01 00:00:00', last_end: '2026-01-01 02:00:00', frames: '2' };
const row = (fields: Partial<StatementLineRow>): StatementLineRow => ({ ...BASE, ...fields });

const statement = (number: string | null): Statement => ({
  ...buildStatementContent(projectScope('p1'), parseMonth('2026-01')!, [row({ display_name: EVIL }), row({ service: `volume</text><script>`, resource_id: 'vol-1', resource_type: 'volume', cost: '2.5' })], [
    { day: '2026-01-01', currency: 'EUR', cost: '3.505' },
  ]),
  number,
  revision: number === null ? null : 1,
  status: number === null ? 'draft' : 'issued',
  issued_at: number === null ? null : '2026-02-01T07:00:00.000Z',
  supersedes: null,
  rounding: 'rule',
});

describe('statement CSV', () => {
  it('has the header, one record per line, a total per service and the statement total, RFC 4180-quoted', () => {
    const csv = statementCsv(statement('CUM-202601-p1-000001'));
    expect(csv.startsWith(`${STATEMENT_CSV_COLUMNS.join(',')}\r\n`)).toBe(true);
    // header, 2 lines, 2 service totals, the total: the one CRLF inside a quoted field is not a record's end.
    expect(csv.match(/^(line|service_total|total),/gm)).toHaveLength(5);
    expect(csv.split('\r\n')).toHaveLength(6 + 1 + 1);
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv).toContain(`"<script>alert(""x"")</script>, 'quoted' ""name""\r\nline"`);
    expect(csv).toContain('service_total,CUM-202601-p1-000001,issued,2026-01,EUR,,instance,,,,,,,1.01,,\r\n');
    expect(csv.endsWith('total,CUM-202601-p1-000001,issued,2026-01,EUR,,,,,,,,,3.51,,\r\n')).toBe(true);
  });
});

describe('statement HTML', () => {
  it('escapes every text from the data and embeds both charts as SVG, with no script of its own', () => {
    const html = statementHtml(statement(null), new Date('2026-01-15T00:00:00Z'));
    expect(html).not.toContain('<script>');
    expect(html).toContain(escapeHtml(EVIL));
    expect(html).toContain('DRAFT');
    expect(html.match(/<svg[\s>]/g)).toHaveLength(2);
    expect(html).toMatch(/<figure id="chart-services"><svg/);
    expect(html).toMatch(/<figure id="chart-trend"><svg/);
    // Nothing fetched: only fragment references (the SVG's own clip paths).
    expect(html).not.toMatch(/<link|src=|@import|url\((?!#)/);
    expect(html).toContain('3.51 EUR');
  });

  it('lists every day of the month on the trend', () => {
    expect(monthDays('2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z')).toHaveLength(28);
  });
});

describe('format negotiation', () => {
  it('takes format first, then the most preferred type of Accept that a statement has, else JSON', () => {
    expect(negotiateFormat('csv', 'application/pdf')).toBe('csv');
    expect(negotiateFormat(undefined, 'application/pdf')).toBe('pdf');
    expect(negotiateFormat(undefined, 'text/html;q=0.5, text/csv')).toBe('csv');
    expect(negotiateFormat(undefined, 'text/html,application/xhtml+xml,*/*;q=0.8')).toBe('html');
    expect(negotiateFormat(undefined, 'image/png, application/pdf;q=0')).toBe('json');
    expect(negotiateFormat(undefined, undefined)).toBe('json');
  });

  it('names the download after the number, or the draft scope and month', () => {
    expect(statementFileName(statement('CUM-202601-p1-000001'), 'pdf')).toBe('CUM-202601-p1-000001.pdf');
    expect(statementFileName(statement(null), 'csv')).toBe('draft-p1-2026-01.csv');
  });
});
