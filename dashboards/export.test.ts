import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DATASOURCES_PROVISIONING_FILE, DASHBOARDS_PROVISIONING_FILE, exportDashboards } from './export.ts';
import { resolveDashboardsConfig } from './config.ts';
import { DashboardsConfigError, DashboardsExportError } from './errors.ts';
import { CLICKHOUSE_DATASOURCE_UID, PROMETHEUS_DATASOURCE_UID } from './datasources.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'cumulus-dashboards-export-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('exportDashboards', () => {
  it('writes one <uid>.json per dashboard and the two provisioning files', async () => {
    const dir = tempDir();
    const result = await exportDashboards(dir, { clickhouseUrl: 'https://clickhouse.internal:8443', prometheusUrl: 'http://prometheus:9090', dashboardsPath: '/etc/dashboards' });
    expect(readdirSync(dir).sort()).toEqual([...result.dashboards.map((d) => `${d.uid}.json`), 'provisioning'].sort());
    for (const d of result.dashboards) expect(JSON.parse(readFileSync(d.file, 'utf8'))).toMatchObject({ uid: d.uid, title: d.title });

    const provider = parse(readFileSync(join(dir, DASHBOARDS_PROVISIONING_FILE), 'utf8'));
    expect(provider).toEqual({
      apiVersion: 1,
      providers: [expect.objectContaining({ type: 'file', folder: 'Cumulus', folderUid: 'cumulus', allowUiUpdates: false, options: { path: '/etc/dashboards', foldersFromFilesStructure: false } })],
    });

    const datasources = parse(readFileSync(join(dir, DATASOURCES_PROVISIONING_FILE), 'utf8'));
    expect(datasources.datasources).toEqual([
      expect.objectContaining({
        type: 'grafana-clickhouse-datasource',
        uid: CLICKHOUSE_DATASOURCE_UID,
        jsonData: expect.objectContaining({ host: 'clickhouse.internal', port: 8443, protocol: 'http', secure: true, defaultDatabase: 'default', username: 'grafana' }),
        // Grafana expands it from its environment when it reads the file: no secret is written.
        secureJsonData: { password: '$__env{CLICKHOUSE_PASSWORD}' },
      }),
      expect.objectContaining({ type: 'prometheus', uid: PROMETHEUS_DATASOURCE_UID, url: 'http://prometheus:9090', access: 'proxy' }),
    ]);
  });

  it('writes the same bytes twice (the output can be committed and diffed)', async () => {
    const [a, b] = [tempDir(), tempDir()];
    await exportDashboards(a);
    await exportDashboards(b);
    for (const file of readdirSync(a).filter((f) => f.endsWith('.json'))) expect(readFileSync(join(b, file), 'utf8')).toBe(readFileSync(join(a, file), 'utf8'));
  });

  it('refuses bad options before writing anything', async () => {
    const dir = tempDir();
    await expect(exportDashboards(dir, { clickhouseUrl: 'clickhouse:8123' })).rejects.toMatchObject({ code: 'CUMULUS_DASHBOARDS_BAD_CONFIG', field: 'clickhouseUrl' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('names the file it could not write', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'provisioning'), 'a file where a folder must go');
    const err = await exportDashboards(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DashboardsExportError);
    expect((err as DashboardsExportError).message).toContain(join(dir, 'provisioning'));
  });
});

describe('resolveDashboardsConfig', () => {
  it('fills defaults', () => {
    expect(resolveDashboardsConfig()).toEqual({
      clickhouseUrl: 'http://localhost:8123',
      clickhouseDatabase: 'default',
      clickhouseUser: 'grafana',
      prometheusUrl: 'http://localhost:9090',
      folder: 'Cumulus',
      dashboardsPath: '/var/lib/grafana/dashboards/cumulus',
    });
  });

  it.each([
    ['clickhouseUrl', { clickhouseUrl: 'http://reader:secret@clickhouse:8123' }],
    ['clickhouseUrl', { clickhouseUrl: 'tcp://clickhouse:9000' }],
    ['prometheusUrl', { prometheusUrl: 'not a url' }],
    ['clickhouseDatabase', { clickhouseDatabase: 'x; DROP' }],
    ['dashboardsPath', { dashboardsPath: 'relative/path' }],
  ] as const)('refuses a bad %s', (field, options) => {
    const err = (() => {
      try {
        resolveDashboardsConfig(options);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DashboardsConfigError);
    expect(err).toMatchObject({ code: 'CUMULUS_DASHBOARDS_BAD_CONFIG', field });
    // A password given in the URL is never echoed back.
    expect((err as Error).message).not.toContain('secret');
  });
});
