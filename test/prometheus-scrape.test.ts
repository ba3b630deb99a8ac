import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthDashboard } from '../dashboards/index.ts';
import { startApiTenants, type ApiTenants } from './support/api-tenants.ts';
import { IN_CI } from './support/services.ts';

/** Debian's prometheus package (scripts/debian-packages.sh installs it). */
const PROMETHEUS = '/usr/bin/prometheus';
/** Its linter, from the same package. */
const PROMTOOL = '/usr/bin/promtool';
const available = existsSync(PROMETHEUS);
if (!available && !IN_CI) process.stderr.write(`[skip] ${PROMETHEUS} is not installed (bash scripts/debian-packages.sh); CI fails instead of skipping\n`);

/** How long Prometheus gets to start, scrape and answer. */
const PROMETHEUS_WAIT_MS = 45_000;
const POLL_MS = 250;

interface PromVector {
  status: string;
  data: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}
interface PromTargets {
  status: string;
  data: { activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string; scrapeUrl: string }> };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `probe` until it returns a value (not undefined), or fails with the last thing seen. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + PROMETHEUS_WAIT_MS;
  let last: unknown = 'nothing yet';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = 'no match yet';
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${PROMETHEUS_WAIT_MS} ms (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * A real Prometheus (Debian's) scrapes the embedded platform's /metrics every second; the
 * test then reads what Prometheus stored through its HTTP API, as a dashboard would.
 */
describe.runIf(available || IN_CI)('a real Prometheus scrapes /metrics', { timeout: 120_000 }, () => {
  let t: ApiTenants;
  let prometheus: ChildProcess | undefined;
  let promUrl = '';
  let workDir = '';
  const promLog: string[] = [];

  const query = async (expr: string): Promise<PromVector['data']['result']> => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as PromVector;
    if (body.status !== 'success') throw new Error(`query ${expr}: ${JSON.stringify(body)}`);
    return body.data.result;
  };

  beforeAll(async () => {
    t = await startApiTenants();
    if (!available) return;
    workDir = mkdtempSync(join(tmpdir(), 'cumulus-prometheus-'));
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    const target = new URL(t.url).host;
    const configFile = join(workDir, 'prometheus.yml');
    writeFileSync(
      configFile,
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: cumulus',
        '    metrics_path: /metrics',
        '    static_configs:',
        `      - targets: ['${target}']`,
        '',
      ].join('\n'),
    );
    prometheus = spawn(PROMETHEUS, [`--config.file=${configFile}`, `--storage.tsdb.path=${join(workDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => void promLog.push(chunk.toString('utf8'));
    prometheus.stdout?.on('data', keep);
    prometheus.stderr?.on('data', keep);
    await eventually('Prometheus ready', async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined));
  }, 90_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus?.once('exit', r));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await t?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('has Debian prometheus installed', () => {
    expect(available, `${PROMETHEUS} must be installed (bash scripts/debian-packages.sh)`).toBe(true);
  });

  it('serves /metrics without a token, in the text format Prometheus expects', async () => {
    const res = await fetch(`${t.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await res.text();
    expect(text).toMatch(/^# TYPE cumulus_items_accepted_total counter$/m);
    expect(text).toMatch(/^# TYPE cumulus_batch_duration_seconds histogram$/m);
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^cumulus_stream_consumer_lag_records\{group="[^"]+",topic="cumulus\.samples",partition="all"\} \d+$/m);
    // No tenant data: no project id of the test's tenants appears anywhere.
    expect(text).not.toContain(t.alpha.projectId);
  });

  it("passes promtool's lint, but for the deprecated cumulus_batch_duration_ms_sum", async () => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const lint = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(lint.error).toBeUndefined();
    const problems = `${lint.stdout}${lint.stderr}`.split('\n').filter((l) => l.trim() !== '');
    expect(problems.filter((l) => !l.startsWith('cumulus_batch_duration_ms_sum '))).toEqual([]);
  });

  it('records the target up, with the platform metrics and their labels', async () => {
    const up = await eventually('up{job="cumulus"} == 1', async () => {
      const result = await query('up{job="cumulus"} == 1');
      return result.length > 0 ? result : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}\nprometheus log:\n${promLog.join('')}`);
    });
    expect(up[0]?.metric).toMatchObject({ job: 'cumulus', instance: new URL(t.url).host });

    const accepted = await eventually('cumulus_items_accepted_total{component="collector.notifications"}', async () => {
      const result = await query('cumulus_items_accepted_total{job="cumulus",component="collector.notifications"}');
      return result.length > 0 ? result : undefined;
    });
    expect(accepted[0]?.metric).toMatchObject({ __name__: 'cumulus_items_accepted_total', job: 'cumulus', component: 'collector.notifications' });
    expect(Number(accepted[0]?.value[1])).toBeGreaterThanOrEqual(0);

    const lag = await query('cumulus_stream_consumer_lag_records{job="cumulus",topic="cumulus.samples"}');
    expect(lag.length).toBeGreaterThan(0);
    expect(lag[0]?.metric).toHaveProperty('group');
    const rss = await query('process_resident_memory_bytes{job="cumulus"}');
    expect(Number(rss[0]?.value[1])).toBeGreaterThan(0);
  });

  it('lists the target healthy in /api/v1/targets', async () => {
    const target = await eventually('a healthy cumulus target', async () => {
      const body = (await (await fetch(`${promUrl}/api/v1/targets?state=active`)).json()) as PromTargets;
      return body.data.activeTargets.find((a) => a.labels.job === 'cumulus' && a.health === 'up');
    });
    expect(target.scrapeUrl).toBe(`${t.url}/metrics`);
    expect(target.lastError).toBe('');
  });

  it('answers /healthz and /readyz without a token', async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.url}/readyz`);
    const body = (await ready.json()) as { status: string; checks: Array<{ name: string; ok: boolean }> };
    expect(ready.status, JSON.stringify(body)).toBe(200);
    expect(body.status).toBe('ready');
    expect(body.checks.map((c) => c.name).sort()).toEqual(['clickhouse', 'schema', 'state-database']);
    expect(body.checks.every((c) => c.ok)).toBe(true);
  });

  it("evaluates every PromQL query of the health dashboard, with results for the platform's own", async () => {
    // Grafana's variables and macros as Grafana would expand them for this scrape.
    const expand = (expr: string) => expr.replaceAll('$__rate_interval', '1m').replaceAll('$component', '.+').replaceAll('$job', 'cumulus');
    const panels = (healthDashboard() as unknown as { panels: Array<{ title: string; targets?: Array<{ expr?: string; datasource?: { uid?: string } }> }> }).panels;
    const exprs = panels.flatMap((p) => (p.targets ?? []).filter((x) => typeof x.expr === 'string').map((x) => ({ panel: p.title, expr: expand(x.expr as string) })));
    expect(exprs.length).toBeGreaterThan(3);
    for (const { panel, expr } of exprs) await query(expr).catch((err: unknown) => expect.fail(`${panel}: ${String(err)}`));
    const up = await query(expand('up{job=~".*cumulus.*"}'));
    expect(up.map((r) => r.value[1])).toContain('1');
  });
});
