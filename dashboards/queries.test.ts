import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dashboard, Panel, VariableModel } from '@grafana/grafana-foundation-sdk/dashboard';
import { insertMeasureRows, type ArchivePolicy } from '../storage/index.ts';
import { openTempStore, type TempStore } from '../test/support/temp-store.ts';
import { buildDashboards } from './catalog.ts';
import { CLICKHOUSE_PLUGIN_ID } from './datasources.ts';
import { ALL_VALUE } from './variables.ts';
import { CPU_PERCENT, MEMORY_TOTAL, MEMORY_USED } from './capacity.ts';

/**
 * Every ClickHouse query of every dashboard, expanded the way the Grafana ClickHouse
 * plugin expands it (its macros, pkg/macros/macros.go, and its variable formatting,
 * CHDatasource.format), runs on the migrated schema and returns the seeded rows.
 */

// A fixed range around the seeded data: two days back, a week ahead (the capacity forecast draws into the future).
const HOUR = 3_600_000;
const NOW = Math.floor(Date.now() / HOUR) * HOUR;
const FROM = NOW - 3 * 24 * HOUR;
const TO = NOW + 7 * 24 * HOUR;
/** $__interval for the range at ~1000 pixels, as Grafana would compute it (rounded to a whole hour here). */
const INTERVAL_SECONDS = 3600;

type VariableValue = { multi: readonly string[] | 'all' } | { single: string };

/** The ClickHouse plugin's expansion of its macros for the fixed range. */
function expandMacros(sql: string): string {
  const from = `toDateTime(${FROM / 1000})`;
  const to = `toDateTime(${TO / 1000})`;
  return sql
    .replace(/\$__timeFilter\(([^()]+)\)/g, (_m, col: string) => `${col} >= ${from} AND ${col} <= ${to}`)
    .replace(/\$__timeInterval\(([^()]+)\)/g, (_m, col: string) => `toStartOfInterval(toDateTime(${col}), INTERVAL ${INTERVAL_SECONDS} second)`)
    .replace(/\$__fromTime\b/g, from)
    .replace(/\$__toTime\b/g, to);
}

const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Grafana's variable interpolation with the plugin's formatter: a multi value becomes 'a','b'; "All" its allValue. */
function expandVariables(sql: string, values: Record<string, VariableValue>): string {
  return sql.replace(/\$\{(\w+)(?::(\w+))?\}/g, (_m, name: string, format?: string) => {
    const value = values[name];
    if (!value) throw new Error(`no value for variable ${name}`);
    if ('single' in value) return format === 'singlequote' ? quote(value.single) : value.single;
    if (value.multi === 'all') return ALL_VALUE;
    return value.multi.map(quote).join(',');
  });
}

const chTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

type AnyPanel = Panel & { panels?: Panel[] };
interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  rawSql: string;
}
function clickhouseQueries(dashboard: Dashboard): PanelQuery[] {
  return (dashboard.panels ?? [])
    .flatMap((p) => [p as AnyPanel, ...((p as AnyPanel).panels ?? [])])
    .flatMap((panel) =>
      ((panel.targets ?? []) as { datasource?: { type: string }; rawSql?: string; refId?: string }[])
        .filter((t) => t.datasource?.type === CLICKHOUSE_PLUGIN_ID)
        .map((t) => ({ dashboard: dashboard.uid ?? '', panel: panel.title ?? '', refId: t.refId ?? 'A', rawSql: t.rawSql ?? '' })),
    );
}
const clickhouseVariables = (dashboard: Dashboard): VariableModel[] => (dashboard.templating.list ?? []).filter((v) => v.type === 'query' && v.datasource?.type === CLICKHOUSE_PLUGIN_ID);

const dashboards = buildDashboards();
const queries = dashboards.flatMap(clickhouseQueries);

const ALL: Record<string, VariableValue> = {
  project: { multi: 'all' },
  service: { multi: 'all' },
  severity: { multi: 'all' },
  receiver: { multi: 'all' },
  host: { multi: 'all' },
  level: { multi: 'all' },
  region: { multi: 'all' },
  currency: { single: 'EUR' },
  granularity: { single: '3600' },
  horizon: { single: '30' },
  search: { single: '' },
};
/** One value picked in every variable: the filters keep the seeded rows of p1 / h1 / ... */
const PICKED: Record<string, VariableValue> = {
  ...ALL,
  // '' is the project of records that have none (a failed login).
  project: { multi: ['p1', '', 'p-unused'] },
  service: { multi: ['compute', 'nova-compute', 'token-issue'] },
  severity: { multi: ['critical'] },
  receiver: { multi: ['pagerduty'] },
  host: { multi: ['h1'] },
  level: { multi: ['ERROR', 'INFO'] },
  region: { multi: ['RegionOne'] },
  search: { single: "can't" },
};

let t: TempStore;
const run = (sql: string) => t.store.query({ sql });

beforeAll(async () => {
  t = await openTempStore('cumulus-dashboards-');
  const at = (hoursAgo: number) => chTime(NOW - hoursAgo * HOUR);

  // Showback: two projects, two services, one of them rated twice (FINAL keeps the later rating).
  const rated = (project: string, service: string, resource: string, hoursAgo: number, cost: number, ratedAt = 0) => ({
    project_id: project, user_id: 'u1', resource_id: resource, resource_type: service === 'compute' ? 'instance' : 'volume', service,
    period_start: chTime(NOW - hoursAgo * HOUR).slice(0, 19), period_end: chTime(NOW - (hoursAgo - 1) * HOUR).slice(0, 19),
    quantity: '1', unit: 'hour', price: String(cost), cost: String(cost), currency: 'EUR', rule_id: 'r1', groupby: {}, metadata: {}, rated_at: chTime(NOW + ratedAt),
  });
  await t.store.insert('rated_usage', [rated('p1', 'compute', 'vm-1', 30, 1.5), rated('p1', 'compute', 'vm-1', 29, 1.5), rated('p2', 'volume', 'vol-1', 5, 0.25), rated('p1', 'compute', 'vm-1', 2, 9)]);
  await t.store.insert('rated_usage', [rated('p1', 'compute', 'vm-1', 2, 1, 1000)]);

  // Capacity: one hypervisor whose memory in use grows 10 kB an hour out of 10000 kB; CPU at 40 %.
  const metric = (name: string, unit: string) => ({ id: randomUUID(), name, resource_id: 'h1', project_id: '', user_id: '', unit, archive_policy_name: 'test', created_at: chTime(NOW - 72 * HOUR), deleted: 0 });
  const used = metric(MEMORY_USED, 'KB');
  const total = metric(MEMORY_TOTAL, 'KB');
  const cpu = metric(CPU_PERCENT, '%');
  await t.store.insert('metrics', [used, total, cpu]);
  // The metrics' 'test' policy: hourly buckets kept 30 days.
  const policy: ArchivePolicy = { name: 'test', back_window: 0, aggregation_methods: ['mean'], definition: [{ granularity: 3600, points: 30 * 24 }] };
  const measure = (metricId: string, hoursAgo: number, value: number) => ({ metricId, tsMicros: (NOW - hoursAgo * HOUR) * 1000, value, sampleId: randomUUID(), policy });
  const hours = Array.from({ length: 60 }, (_, i) => 60 - i);
  await insertMeasureRows(t.store, hours.flatMap((h) => [measure(used.id, h, 5000 + 10 * (60 - h)), measure(total.id, h, 10_000), measure(cpu.id, h, 40)]), { dedupToken: randomUUID() });

  // Alarms: a1 fires (critical), a2 went back to ok, a3 was deleted while firing.
  const change = (alarm: string, type: string, hoursAgo: number, state: string, severity = 'critical') => ({
    alarm_id: alarm, timestamp: at(hoursAgo), event_id: randomUUID(), type, detail: JSON.stringify({ state, state_reason: `went ${state}` }), reason: type === 'state transition' ? `went ${state}` : '',
    severity, user_id: 'u1', project_id: 'p1', on_behalf_of: 'p1',
  });
  await t.store.insert('alarm_history', [
    change('a1', 'creation', 40, 'insufficient data'), change('a1', 'state transition', 20, 'alarm'),
    change('a2', 'creation', 40, 'insufficient data', 'low'), change('a2', 'state transition', 30, 'alarm', 'low'), change('a2', 'state transition', 10, 'ok', 'low'),
    change('a3', 'creation', 40, 'insufficient data'), change('a3', 'state transition', 30, 'alarm'), { ...change('a3', 'deletion', 5, ''), detail: '{}' },
  ]);
  const delivery = (status: string, hoursAgo: number, receiver = 'pagerduty') => ({
    notification_id: randomUUID(), at: at(hoursAgo), attempt: 1, receiver, kind: receiver, target: 'https://events.pagerduty.com/…', group_key: 'g', alarm_ids: ['a1'],
    status, resolved: 0, http_status: status === 'delivered' ? 202 : 503, error: status === 'delivered' ? '' : 'service unavailable', duration_ms: 120,
  });
  await t.store.insert('alert_deliveries', [delivery('delivered', 20), delivery('failed', 19), delivery('retrying', 19), delivery('delivered', 19, 'slack')]);

  // Audit: two failed logins and one success, one identity change, one read.
  const audit = (action: string, outcome: string, hoursAgo: number, targetType: string, extra: Record<string, unknown> = {}) => ({
    id: randomUUID(), event_time: at(hoursAgo), action, outcome, event_type: 'activity', type_uri: 'http://schemas.dmtf.org/cloud/audit/1.0/event',
    initiator_id: 'u1', initiator_type: 'service/security/account/user', initiator_name: 'alice', project_id: 'p1', initiator_address: '10.0.0.9',
    target_id: 't1', target_type: targetType, observer_id: 'keystone', observer_type: 'service/security', raw: '{}', ...extra,
  });
  await t.store.insert('audit_records', [
    audit('authenticate', 'failure', 3, 'service/security/account/user', { project_id: null }),
    audit('authenticate', 'failure', 2, 'service/security/account/user', { project_id: null }),
    audit('authenticate', 'success', 1, 'service/security/account/user'),
    audit('created.user', 'success', 1, 'data/security/account/user'),
    audit('read/list', 'success', 1, 'compute/servers'),
  ]);

  // Logs: an error mentioning "can't", an info line.
  const line = (level: string, message: string, hoursAgo: number) => ({
    id: randomUUID(), timestamp: at(hoursAgo), service: 'nova-compute', host: 'h1', pid: 42, level, logger: 'nova.compute.manager', request_id: 'req-1', user_id: 'u1', project_id: 'p1', message,
  });
  await t.store.insert('logs', [line('ERROR', "Instance vm-1 can't be spawned: no valid host", 2), line('INFO', 'Instance vm-1 spawned', 1)]);

  // Synthetic checks: token issue fails once in three.
  const check = (ok: number, hoursAgo: number) => ({ check_name: 'token-issue', at: at(hoursAgo), service: 'token-issue', region: 'RegionOne', host: 'h1', ok, latency_ms: 80 + hoursAgo, error: ok ? '' : 'timeout' });
  await t.store.insert('check_results', [check(1, 3), check(0, 2), check(1, 1)]);
}, 60_000);
afterAll(async () => t?.close());

describe('the ClickHouse queries of the dashboards', () => {
  it('cover every dashboard but the Prometheus-only ones', () => {
    expect(new Set(queries.map((q) => q.dashboard))).toEqual(new Set(['cumulus-showback', 'cumulus-capacity', 'cumulus-alarms', 'cumulus-audit', 'cumulus-logs', 'cumulus-health']));
  });

  it.each(queries.map((q) => [`${q.dashboard} / ${q.panel} / ${q.refId}`, q] as const))('%s runs and returns rows, with All and with picked values', async (_name, query) => {
    for (const values of [ALL, PICKED]) {
      const sql = expandVariables(expandMacros(query.rawSql), values);
      expect(sql, 'every macro and variable was expanded').not.toMatch(/\$/);
      const rows = await run(sql);
      expect(rows.length, sql).toBeGreaterThan(0);
    }
  });

  // ClickHouse servers before 24.3 resolve names with the old analyzer (aliases shadow columns there).
  it.each(queries.map((q) => [`${q.dashboard} / ${q.panel} / ${q.refId}`, q] as const))('%s also runs with the old analyzer', async (_name, query) => {
    const rows = await run(`${expandVariables(expandMacros(query.rawSql), PICKED)}\nSETTINGS enable_analyzer = 0`);
    expect(rows.length).toBeGreaterThan(0);
  });

  it.each(dashboards.flatMap((d) => clickhouseVariables(d).map((v) => [`${d.uid} / $${v.name}`, v] as const)))('variable %s lists values', async (_name, variable) => {
    const rows = await run(String(variable.query));
    expect(rows.length).toBeGreaterThan(0);
  });
});

describe('what the panels show on the seeded data', () => {
  const one = async (uid: string, panel: string, values = ALL, refId = 'A') => {
    const query = queries.find((q) => q.dashboard === uid && q.panel === panel && q.refId === refId);
    if (!query) throw new Error(`no panel "${panel}" in ${uid}`);
    return run(expandVariables(expandMacros(query.rawSql), values));
  };

  it('showback sums the latest rating of each frame, in the chosen currency', async () => {
    expect(await one('cumulus-showback', 'Total cost')).toEqual([{ total_cost: 1.5 + 1.5 + 0.25 + 1 }]);
    expect(await one('cumulus-showback', 'Total cost', { ...ALL, project: { multi: ['p2'] } })).toEqual([{ total_cost: 0.25 }]);
    expect(await one('cumulus-showback', 'Total cost', { ...ALL, currency: { single: 'USD' } })).toEqual([{ total_cost: 0 }]);
  });

  it('capacity reads the rollups and forecasts memory filling up', async () => {
    const [ratio] = await one('cumulus-capacity', 'Memory in use');
    expect(Number(ratio!.used_ratio)).toBeCloseTo((5000 + 10 * 59) / 10_000, 2);
    const [days] = await one('cumulus-capacity', 'Days until memory is full');
    // 240 kB a day towards 10000 kB from ~5600 kB: some 18 days, give or take the partial days' means.
    expect(Number(days!.days_left)).toBeGreaterThan(10);
    expect(Number(days!.days_left)).toBeLessThan(30);
    const forecast = await one('cumulus-capacity', 'Memory forecast', ALL, 'B');
    expect(forecast.length).toBe(8);
    const installed = await one('cumulus-capacity', 'Memory forecast', ALL, 'C');
    expect(installed.every((r) => Number(r['memory installed']) === 10_000)).toBe(true);
  });

  it('alarms derive current states from the history, without deleted alarms', async () => {
    expect(await one('cumulus-alarms', 'Alarms firing')).toEqual([{ firing: '1' }]);
    expect((await one('cumulus-alarms', 'Firing now')).map((r) => r.alarm_id)).toEqual(['a1']);
    const failed = await one('cumulus-alarms', 'Failed deliveries');
    expect(failed.map((r) => r.status).sort()).toEqual(['failed', 'retrying']);
  });

  it('audit counts failed logins and identity changes', async () => {
    expect(await one('cumulus-audit', 'Failed logins')).toEqual([{ failed_logins: '2' }]);
    expect(await one('cumulus-audit', 'Privileged actions')).toEqual([{ privileged: '1' }]);
    expect(await one('cumulus-audit', 'Failed logins', { ...ALL, project: { multi: ['p1'] } })).toEqual([{ failed_logins: '0' }]);
  });

  it('logs search text case-insensitively, quotes included', async () => {
    const lines = await one('cumulus-logs', 'Log lines', { ...ALL, search: { single: "CAN'T" } });
    expect(lines.map((l) => l.body)).toEqual(["Instance vm-1 can't be spawned: no valid host"]);
    expect(lines[0]).toMatchObject({ level: 'ERROR', service: 'nova-compute', request_id: 'req-1' });
  });
});
