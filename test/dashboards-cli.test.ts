import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', 'bin', 'cumulus.mjs');
const dir = mkdtempSync(join(tmpdir(), 'cumulus-dashboards-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cumulus dashboards export', () => {
  it('writes the dashboards and provisioning files for the given endpoints', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'dashboards', 'export', '--output', dir, '--clickhouse-url', 'http://clickhouse:8123', '--prometheus-url', 'http://prometheus:9090']);
    expect(stdout.trim().split('\n')).toHaveLength(8);
    expect(readdirSync(dir).filter((f) => f.endsWith('.json')).sort()).toEqual(['cumulus-alarms.json', 'cumulus-audit.json', 'cumulus-capacity.json', 'cumulus-health.json', 'cumulus-logs.json', 'cumulus-showback.json']);
    const datasources = parse(readFileSync(join(dir, 'provisioning', 'datasources', 'cumulus.yaml'), 'utf8'));
    expect(datasources.datasources[0].jsonData).toMatchObject({ host: 'clickhouse', port: 8123, protocol: 'http' });
    expect(datasources.datasources[1].url).toBe('http://prometheus:9090');
  });

  it('refuses to run without --output, saying what is missing', async () => {
    const err = await run(process.execPath, [CLI, 'dashboards', 'export']).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toContain('--output DIR is required');
  });
});
