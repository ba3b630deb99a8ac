import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiTenants, type ApiTenants } from './support/api-tenants.ts';
import { GNOCCHI_CLI, gnocchi, gnocchiCliAvailable } from './support/gnocchi-cli.ts';
import type { CliCredentials } from './support/openstack-cli.ts';
import { IN_CI } from './support/services.ts';

const available = gnocchiCliAvailable();
if (!available && !IN_CI) process.stderr.write(`[skip] ${GNOCCHI_CLI} is not installed (bash scripts/debian-packages.sh); CI fails instead of skipping\n`);

type Row = Record<string, unknown>;
const SUFFIX = Date.now().toString(36);

/**
 * The real python3-gnocchiclient from Debian against the embedded platform: Keystone
 * password auth, the catalog's `metric` endpoint, archive policies and rules, metrics and
 * measures, every answer read as the CLI prints it with `-f json`.
 */
describe.runIf(available || IN_CI)('the real gnocchi CLI: archive policies, rules, metrics, measures', { timeout: 120_000 }, () => {
  let t: ApiTenants;
  let creds: CliCredentials;
  const cli = <T = Row>(...args: string[]) => gnocchi<T>(creds, args);
  const text = (...args: string[]) => gnocchi<string>(creds, args, { json: false });
  const policy = `cli-${SUFFIX}`;
  // Measures every 20 s for 10 minutes, an hour ago: inside every retention.
  const base = Math.floor(Date.now() / 1000 / 300) * 300 - 3600;
  const measures: Array<[number, number]> = Array.from({ length: 30 }, (_, i) => [base + i * 20, (i * 7) % 11]);
  let metricId = '';

  beforeAll(async () => {
    t = await startApiTenants();
    creds = { authUrl: `${t.url}/identity/v3`, username: 'admin', password: t.platform.adminPassword, project: 'admin' };
  }, 90_000);
  afterAll(async () => t?.stop());

  it('has the gnocchi CLI installed', () => {
    expect(available, `${GNOCCHI_CLI} must be installed (bash scripts/debian-packages.sh)`).toBe(true);
  });

  it('lists, creates and shows archive policies', async () => {
    const list = await cli<Row[]>('archive-policy', 'list');
    expect(list.map((p) => p.name)).toEqual(expect.arrayContaining(['low', 'medium', 'high', 'bool']));
    const created = await cli('archive-policy', 'create', '-d', 'granularity:1m,points:120', '-d', 'granularity:5m,timespan:1 day', '-b', '1', '-m', 'mean', '-m', 'max', '-m', '95pct', policy);
    expect(created).toEqual({
      name: policy,
      back_window: 1,
      aggregation_methods: ['mean', 'max', '95pct'],
      definition: [
        { granularity: '0:01:00', points: 120, timespan: '2:00:00' },
        { granularity: '0:05:00', points: 288, timespan: '1 day, 0:00:00' },
      ],
    });
    expect(await cli('archive-policy', 'show', policy)).toEqual(created);
    await expect(cli('archive-policy', 'create', '-d', 'granularity:1h,points:2', policy)).rejects.toThrow(/already exists.*409|409.*already exists|Conflict/);
  });

  it('creates and lists archive policy rules', async () => {
    const rule = await cli('archive-policy-rule', 'create', '-a', policy, '-m', `cli-${SUFFIX}.*`, `rule-${SUFFIX}`);
    expect(rule).toEqual({ name: `rule-${SUFFIX}`, metric_pattern: `cli-${SUFFIX}.*`, archive_policy_name: policy });
    const rules = await cli<Row[]>('archive-policy-rule', 'list');
    expect(rules).toEqual(expect.arrayContaining([rule]));
    expect(await cli('archive-policy-rule', 'show', `rule-${SUFFIX}`)).toEqual(rule);
  });

  it('creates, lists and shows metrics (the policy by rule or by name)', async () => {
    const byRule = await cli('metric', 'create', '--unit', 'B/s', `cli-${SUFFIX}.io`);
    metricId = byRule.id as string;
    // Gnocchi answers a creation with the policy by name (what the CLI prints as is).
    expect(byRule).toEqual({ id: expect.any(String), name: `cli-${SUFFIX}.io`, unit: 'B/s', archive_policy_name: policy, resource_id: null, creator: expect.stringMatching(/^\w+:\w+$/) });
    const explicit = await cli('metric', 'create', '--archive-policy-name', 'low', `other-${SUFFIX}`);
    expect(explicit.archive_policy_name).toBe('low');
    const list = await cli<Row[]>('metric', 'list');
    expect(list).toEqual(expect.arrayContaining([{ id: metricId, 'archive_policy/name': policy, name: `cli-${SUFFIX}.io`, unit: 'B/s', resource_id: null }]));
    const shown = await cli('metric', 'show', metricId);
    expect(shown).toMatchObject({ id: metricId, name: `cli-${SUFFIX}.io`, unit: 'B/s', 'archive_policy/name': policy, 'resource/id': null });
    expect(await text('metric', 'delete', explicit.id as string)).toBe('');
  });

  it('adds measures and shows them by aggregation and granularity, as computed here', async () => {
    const args = measures.flatMap(([ts, v]) => ['-m', `${new Date(ts * 1000).toISOString()}@${v}`]);
    expect(await text('measures', 'add', ...args, metricId)).toBe('');
    const bucketed = (g: number) => {
      const out = new Map<number, number[]>();
      for (const [ts, v] of measures) out.set(Math.floor(ts / g) * g, [...(out.get(Math.floor(ts / g) * g) ?? []), v]);
      return [...out];
    };
    const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', '+00:00');
    const mean60 = await cli<Row[]>('measures', 'show', '--utc', '--aggregation', 'mean', '--granularity', '60', metricId);
    expect(mean60.map((p) => p.timestamp)).toEqual(bucketed(60).map(([b]) => iso(b)));
    mean60.forEach((p, i) => {
      const xs = (bucketed(60)[i] as [number, number[]])[1];
      expect(Number(p.granularity)).toBe(60);
      expect(Number(p.value)).toBeCloseTo(xs.reduce((a, b) => a + b, 0) / xs.length, 9);
    });
    const p95 = await cli<Row[]>('measures', 'show', '--utc', '--aggregation', '95pct', '--granularity', '300', '--refresh', metricId);
    expect(p95.map((p) => [p.timestamp, Number(p.granularity)])).toEqual(bucketed(300).map(([b]) => [iso(b), 300]));
    p95.forEach((p, i) => {
      const xs = [...(bucketed(300)[i] as [number, number[]])[1]].sort((a, b) => a - b);
      const pos = (xs.length - 1) * 0.95;
      const lo = Math.floor(pos);
      const hi = Math.ceil(pos);
      expect(Number(p.value)).toBeCloseTo(lo === hi ? (xs[lo] as number) : (xs[lo] as number) * (hi - pos) + (xs[hi] as number) * (pos - lo), 9);
    });
    const window = await cli<Row[]>('measures', 'show', '--utc', '--aggregation', 'max', '--granularity', '60', '--start', iso(base + 120), '--stop', iso(base + 300), metricId);
    expect(window.map((p) => [p.timestamp, Number(p.value)])).toEqual(bucketed(60).filter(([b]) => b >= base + 120 && b < base + 300).map(([b, xs]) => [iso(b), Math.max(...xs)]));
    // Both granularities, coarsest first, without --granularity.
    const all = await cli<Row[]>('measures', 'show', '--utc', metricId);
    expect(all.map((p) => Number(p.granularity))).toEqual([...bucketed(300).map(() => 300), ...bucketed(60).map(() => 60)]);
    await expect(cli('measures', 'show', '--aggregation', 'min', metricId)).rejects.toThrow(/Aggregation method does not exist|404/);
  });

  it('deletes a metric, after which its policy can go too', async () => {
    await expect(text('archive-policy', 'delete', policy)).rejects.toThrow(/still in use/);
    expect(await text('metric', 'delete', metricId)).toBe('');
    await expect(cli('metric', 'show', metricId)).rejects.toThrow(/does not exist/);
    expect((await cli<Row[]>('metric', 'list')).map((m) => m.id)).not.toContain(metricId);
    expect(await text('archive-policy-rule', 'delete', `rule-${SUFFIX}`)).toBe('');
    expect(await text('archive-policy', 'delete', policy)).toBe('');
    await expect(cli('archive-policy', 'show', policy)).rejects.toThrow(/does not exist/);
  });
});
