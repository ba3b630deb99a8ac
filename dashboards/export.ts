import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildDashboards } from './catalog.ts';
import { resolveDashboardsConfig, type DashboardsConfig } from './config.ts';
import { DashboardsExportError } from './errors.ts';
import { datasourcesProvisioning, dashboardsProvisioning } from './provisioning.ts';

export const DASHBOARDS_PROVISIONING_FILE = join('provisioning', 'dashboards', 'cumulus.yaml');
export const DATASOURCES_PROVISIONING_FILE = join('provisioning', 'datasources', 'cumulus.yaml');

export interface ExportedDashboard {
  uid: string;
  title: string;
  /** Path of the written file. */
  file: string;
}

export interface ExportResult {
  dashboards: ExportedDashboard[];
  /** Paths of the provisioning files written. */
  provisioning: string[];
}

/**
 * Writes `<dir>/<uid>.json` for every dashboard and Grafana's provisioning files under
 * `<dir>/provisioning/`. Idempotent: the same code and options write the same bytes, so
 * the output can be committed or diffed. Bad options are refused before anything is written.
 */
export async function exportDashboards(dir: string, options: Partial<DashboardsConfig> = {}): Promise<ExportResult> {
  const config = resolveDashboardsConfig(options);
  const dashboards = buildDashboards();
  const files: [string, string][] = [
    ...dashboards.map((d): [string, string] => [join(dir, `${d.uid}.json`), `${JSON.stringify(d, null, 2)}\n`]),
    [join(dir, DASHBOARDS_PROVISIONING_FILE), dashboardsProvisioning(config)],
    [join(dir, DATASOURCES_PROVISIONING_FILE), datasourcesProvisioning(config)],
  ];
  for (const [path, text] of files) {
    try {
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, text);
    } catch (err) {
      throw new DashboardsExportError(path, err);
    }
  }
  return {
    dashboards: dashboards.map((d) => ({ uid: d.uid ?? '', title: d.title ?? '', file: join(dir, `${d.uid}.json`) })),
    provisioning: [join(dir, DASHBOARDS_PROVISIONING_FILE), join(dir, DATASOURCES_PROVISIONING_FILE)],
  };
}
