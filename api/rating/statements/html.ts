import type { Statement, StatementLine } from '../../../storage/index.ts';
import { serviceChart, trendChart } from './charts.ts';

/**
 * A statement as one printable, self-contained HTML page: inline CSS (A4 print rules),
 * the two charts as inline SVG, no script and nothing fetched. Every text from the data
 * (resource names come from users) is escaped.
 */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const STYLE = `
  @page { size: A4; margin: 14mm 12mm; }
  * { box-sizing: border-box; }
  body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 10pt; color: #1d1d1f; background: #fff; margin: 0; padding: 16px 20px; }
  header { display: flex; justify-content: space-between; align-items: flex-start; border-bottom: 2px solid #2f6fb3; padding-bottom: 8px; margin-bottom: 12px; }
  h1 { font-size: 18pt; margin: 0 0 4px; color: #2f6fb3; }
  h2 { font-size: 12pt; margin: 18px 0 6px; }
  dl { display: grid; grid-template-columns: auto auto; gap: 2px 12px; margin: 0; }
  dt { color: #666; } dd { margin: 0; font-weight: 600; }
  .draft { color: #b5405f; font-weight: 700; }
  .total { font-size: 14pt; font-weight: 700; }
  .charts { display: flex; flex-wrap: wrap; gap: 8px; }
  figure { margin: 0; break-inside: avoid; }
  figure svg { display: block; max-width: 100%; height: auto; }
  table { width: 100%; border-collapse: collapse; margin-bottom: 6px; }
  thead { display: table-header-group; }
  th, td { padding: 3px 6px; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
  th { background: #f0f4f9; font-weight: 600; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  tr.subtotal td { font-weight: 700; border-top: 1px solid #999; }
  .id { color: #666; font-size: 8pt; word-break: break-all; }
  footer { margin-top: 16px; color: #666; font-size: 8pt; }
  section.service { break-inside: auto; }
`;

function lineRow(line: StatementLine, withProject: boolean): string {
  const name = line.display_name === null ? '' : `${escapeHtml(line.display_name)}<br>`;
  return `<tr>
      <td>${name}<span class="id">${escapeHtml(line.resource_id)}</span></td>
      <td>${escapeHtml(line.resource_type)}</td>
      ${withProject ? `<td class="id">${escapeHtml(line.project_id)}</td>` : ''}
      <td class="num">${escapeHtml(line.quantity)}</td>
      <td>${escapeHtml(line.unit)}</td>
      <td class="num">${escapeHtml(line.unit_price)}</td>
      <td class="num">${escapeHtml(line.amount)}</td>
    </tr>`;
}

/** The statement's page. `generatedAt` is printed in the footer (the renderer's clock). */
export function statementHtml(statement: Statement, generatedAt: Date): string {
  const domain = statement.scope.type === 'domain';
  const title = statement.number === null ? 'Draft statement' : `Statement ${statement.number}`;
  const currency = escapeHtml(statement.currency);
  const status =
    statement.status === 'draft'
      ? '<dd class="draft">DRAFT: the month is not closed; figures may change and no number is given yet</dd>'
      : `<dd>issued ${escapeHtml(statement.issued_at ?? '')}${statement.revision !== null && statement.revision > 1 ? `, revision ${statement.revision}` : ''}${statement.supersedes ? `, replaces ${escapeHtml(statement.supersedes)}` : ''}</dd>`;
  const services = statement.services
    .map(
      (service) => `<section class="service">
    <h2>${escapeHtml(service.service)}</h2>
    <table>
      <thead><tr><th>Resource</th><th>Type</th>${domain ? '<th>Project</th>' : ''}<th class="num">Quantity</th><th>Unit</th><th class="num">Unit price</th><th class="num">Amount (${currency})</th></tr></thead>
      <tbody>
      ${service.lines.map((line) => lineRow(line, domain)).join('\n')}
      <tr class="subtotal"><td colspan="${domain ? 6 : 5}">Total ${escapeHtml(service.service)}</td><td class="num">${escapeHtml(service.total)}</td></tr>
      </tbody>
    </table>
  </section>`,
    )
    .join('\n');
  const summary = statement.services.map((s) => `<tr><td>${escapeHtml(s.service)}</td><td class="num">${escapeHtml(s.total)}</td></tr>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <div>
    <h1>${escapeHtml(title)}</h1>
    <dl>
      <dt>${domain ? 'Domain' : 'Project'}</dt><dd>${escapeHtml(statement.scope.id)}</dd>
      ${domain ? `<dt>Projects</dt><dd>${statement.scope.project_ids.map(escapeHtml).join(', ')}</dd>` : ''}
      <dt>Period</dt><dd>${escapeHtml(statement.period.month)} (${escapeHtml(statement.period.start.slice(0, 10))} to ${escapeHtml(statement.period.end.slice(0, 10))}, end excluded, UTC)</dd>
      <dt>Status</dt>${status}
    </dl>
  </div>
  <div><dl><dt>Currency</dt><dd>${currency}</dd><dt>Total</dt><dd class="total" id="statement-total">${escapeHtml(statement.total)} ${currency}</dd></dl></div>
</header>
<div class="charts">
  <figure id="chart-services">${serviceChart(statement)}</figure>
  <figure id="chart-trend">${trendChart(statement)}</figure>
</div>
<h2>Summary</h2>
<table>
  <thead><tr><th>Service</th><th class="num">Total (${currency})</th></tr></thead>
  <tbody>
  ${summary}
  <tr class="subtotal"><td>Total</td><td class="num">${escapeHtml(statement.total)}</td></tr>
  </tbody>
</table>
${services}
<footer>
  <p>${escapeHtml(statement.rounding)}</p>
  <p>Generated ${escapeHtml(generatedAt.toISOString())} by Cumulus.</p>
</footer>
</body>
</html>
`;
}
