import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import type { Dashboard, Panel } from '@grafana/grafana-foundation-sdk/dashboard';
import { buildDashboards } from './catalog.ts';
import { CLICKHOUSE_RESULT } from './clickhouse-query.ts';
import { CLICKHOUSE_PLUGIN_ID, PROMETHEUS_PLUGIN_ID } from './datasources.ts';

/**
 * Validates against Grafana's dashboard JSON schema (vendored in dashboards/schema/,
 * see its README), and each panel's options against its panel plugin's schema.
 */
const SCHEMA_DIR = join(dirname(fileURLToPath(import.meta.url)), 'schema');
const ajv = new Ajv({ allErrors: true, strict: false });
const panelSchemas = new Set<string>();
for (const file of readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.jsonschema.json'))) {
  const name = file.replace('.jsonschema.json', '');
  ajv.addSchema(JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')) as object, name);
  if (name !== 'dashboard') panelSchemas.add(name);
}
const dashboardSchema = ajv.getSchema('dashboard') as ValidateFunction;
const schemaPart = (name: string, definition: string) => ajv.getSchema(`${name}#/definitions/${definition}`);

type AnyPanel = Panel & { panels?: Panel[] };
const allPanels = (dashboard: Dashboard): AnyPanel[] => (dashboard.panels ?? []).flatMap((p) => [p as AnyPanel, ...(((p as AnyPanel).panels ?? []) as AnyPanel[])]);
const describeErrors = (errors: ErrorObject[] | null | undefined) => (errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);

/** Every schema error in a dashboard: the dashboard schema, then each panel's options and custom field config. */
function validate(dashboard: unknown): string[] {
  const problems: string[] = [];
  if (!dashboardSchema(dashboard)) problems.push(...describeErrors(dashboardSchema.errors).map((e) => `dashboard: ${e}`));
  for (const panel of allPanels(dashboard as Dashboard)) {
    if (!panelSchemas.has(panel.type)) continue;
    const options = schemaPart(panel.type, 'Options');
    if (options && !options(panel.options ?? {})) problems.push(...describeErrors(options.errors).map((e) => `panel "${panel.title}" options: ${e}`));
    const custom = schemaPart(panel.type, 'FieldConfig');
    const customValue = panel.fieldConfig?.defaults?.custom;
    if (custom && customValue !== undefined && !custom(customValue)) problems.push(...describeErrors(custom.errors).map((e) => `panel "${panel.title}" fieldConfig.custom: ${e}`));
  }
  return problems;
}

const dashboards = buildDashboards();
const showback = dashboards[0]!;

describe("dashboards against Grafana's schema", () => {
  it.each(dashboards.map((d) => [d.uid, d] as const))('%s is a valid Grafana dashboard', (_uid, dashboard) => {
    expect(validate(dashboard)).toEqual([]);
  });

  it('every panel type used has its plugin schema vendored (so its options are checked too)', () => {
    const types = new Set(dashboards.flatMap(allPanels).map((p) => p.type).filter((t) => t !== 'row'));
    expect([...types].filter((t) => !panelSchemas.has(t))).toEqual([]);
  });

  it('a dashboard without schemaVersion is refused', () => {
    const broken = structuredClone(showback) as Partial<Dashboard>;
    delete broken.schemaVersion;
    expect(validate(broken).join('\n')).toMatch(/must have required property 'schemaVersion'/);
  });

  it('a panel with a malformed grid position is refused', () => {
    const broken = structuredClone(showback);
    const panel = allPanels(broken).find((p) => p.type === 'timeseries') as AnyPanel;
    (panel.gridPos as unknown as Record<string, unknown>).w = 'twelve';
    expect(validate(broken).join('\n')).toMatch(/gridPos\/w must be integer/);
  });

  it('a time series panel with an option its plugin does not have is refused', () => {
    const broken = structuredClone(showback);
    const panel = allPanels(broken).find((p) => p.type === 'timeseries') as AnyPanel;
    (panel.options as Record<string, unknown>).legendz = true;
    expect(validate(broken).join('\n')).toMatch(/options:.*must NOT have additional properties.*legendz/);
  });
});

describe('dashboard conventions', () => {
  it('uids are stable, unique, cumulus-prefixed and within Grafana\'s 40 characters', () => {
    const uids = dashboards.map((d) => d.uid);
    expect(uids).toEqual(['cumulus-showback', 'cumulus-capacity', 'cumulus-alarms', 'cumulus-audit', 'cumulus-logs', 'cumulus-health']);
    for (const uid of uids) expect(uid!.length).toBeLessThanOrEqual(40);
  });

  it.each(dashboards.map((d) => [d.uid, d] as const))('%s: panel ids are unique and every query names a datasource variable it defines', (_uid, dashboard) => {
    const panels = allPanels(dashboard);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const variables = new Set((dashboard.templating.list ?? []).map((v) => v.name));
    for (const panel of panels.filter((p) => p.type !== 'row')) {
      expect(panel.targets?.length, `panel "${panel.title}" has no query`).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        const ds = (target as { datasource?: { type: string; uid: string } }).datasource;
        expect([CLICKHOUSE_PLUGIN_ID, PROMETHEUS_PLUGIN_ID]).toContain(ds?.type);
        expect(variables.has(ds!.uid.replace(/^\$\{(.*)\}$/, '$1')), `panel "${panel.title}" uses ${ds!.uid}`).toBe(true);
      }
    }
  });

  it.each(dashboards.map((d) => [d.uid, d] as const))('%s: ClickHouse queries use the SQL editor model and only variables the dashboard defines', (_uid, dashboard) => {
    const defined = new Set([...(dashboard.templating.list ?? []).map((v) => v.name)]);
    for (const panel of allPanels(dashboard)) {
      for (const target of (panel.targets ?? []) as unknown as Record<string, unknown>[]) {
        if ((target.datasource as { type: string }).type !== CLICKHOUSE_PLUGIN_ID) continue;
        expect(target.editorType).toBe('sql');
        const result = Object.values(CLICKHOUSE_RESULT).find((r) => r.queryType === target.queryType);
        expect(result, `panel "${panel.title}" queryType ${String(target.queryType)}`).toBeDefined();
        expect(target.format).toBe(result!.format);
        const used = [...String(target.rawSql).matchAll(/\$\{(\w+)(?::\w+)?\}|\$(?!__)(\w+)/g)].map((m) => m[1] ?? m[2]);
        for (const name of used) expect(defined.has(name!), `panel "${panel.title}" uses undefined variable ${name}`).toBe(true);
      }
    }
  });
});
