import type { CheckStatus, ServiceState, StatusReport } from './status.ts';

const COLOURS: Readonly<Record<ServiceState, { background: string; text: string }>> = {
  good: { background: '#1e7e34', text: '#ffffff' },
  warning: { background: '#f0ad00', text: '#1a1a1a' },
  failed: { background: '#c82333', text: '#ffffff' },
};
/** How often the page reloads itself, seconds: an operator leaves it open on a wall screen. */
export const PAGE_REFRESH_SECONDS = 10;

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function checkLine(c: CheckStatus): string {
  const state = c.last.ok ? 'ok' : 'FAILED';
  const hosts = c.hosts.length > 0 ? ` [${c.hosts.map((h) => `${escapeHtml(h.host)}: ${h.ok ? 'up' : 'down'}`).join(', ')}]` : '';
  const p50 = c.latency_p50_ms === null ? '-' : `${c.latency_p50_ms.toFixed(1)} ms`;
  const error = c.last.ok ? '' : ` <span class="error">${escapeHtml(c.last.error)}</span>`;
  return `<li><code>${escapeHtml(c.check)}</code>: ${state} at ${escapeHtml(c.last.at)}${hosts}; p50 ${p50}; ${c.failures}/${c.runs} failed${error}</li>`;
}

/** The board as one self-contained page (inline CSS, no scripts, no external assets). */
export function renderStatusPage(report: StatusReport): string {
  const rows = report.services
    .map((s) => {
      const colour = COLOURS[s.status];
      const reasons = s.reasons.length > 0 ? `<ul class="reasons">${s.reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>` : '';
      return `<tr><th scope="row">${escapeHtml(s.service)}</th><td class="state" style="background:${colour.background};color:${colour.text}">${s.status}</td><td>${reasons}<ul>${s.checks.map(checkLine).join('')}</ul></td></tr>`;
    })
    .join('\n');
  const overall = COLOURS[report.overall];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="${PAGE_REFRESH_SECONDS}">
<title>Cumulus service status: ${report.overall}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1a1a1a; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #ccc; padding: .4rem .6rem; text-align: left; vertical-align: top; }
td.state { font-weight: bold; text-transform: uppercase; width: 7rem; text-align: center; }
ul { margin: 0; padding-left: 1.2rem; }
.reasons { font-weight: bold; }
.error { color: #c82333; }
.overall { display: inline-block; padding: .2rem .8rem; font-weight: bold; text-transform: uppercase; }
</style>
</head>
<body>
<h1>Service status <span class="overall" style="background:${overall.background};color:${overall.text}">${report.overall}</span></h1>
<p>Generated ${escapeHtml(report.generated_at)}; failures and median latency over the last ${report.window_seconds} s.</p>
<table>
<thead><tr><th>Service</th><th>Status</th><th>Checks</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="3">No check results yet.</td></tr>'}
</tbody>
</table>
</body>
</html>
`;
}
