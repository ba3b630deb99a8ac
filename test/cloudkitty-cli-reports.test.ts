import { Decimal } from 'decimal.js';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProjectMember, startApiTenants, type ApiTenants } from './support/api-tenants.ts';
import { openrc, runCli, type CliCredentials } from './support/openstack-cli.ts';
import { seedRatedUsage, type FrameSeed } from './support/rated-frames.ts';
import { IN_CI } from './support/services.ts';

/** The real python3-cloudkittyclient from Debian. */
const CLOUDKITTY_CLI = '/usr/bin/cloudkitty';
const available = existsSync(CLOUDKITTY_CLI);
if (!available && !IN_CI) process.stderr.write(`[skip] ${CLOUDKITTY_CLI} is not installed (apt-get install python3-cloudkittyclient); CI fails instead of skipping\n`);

type Row = Record<string, unknown>;
const SUFFIX = Date.now().toString(36);
const now = new Date();
const MONTH = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1);
const at = (hours: number) => new Date(MONTH + hours * 3_600_000);
const BEGIN = at(0).toISOString();
const END = at(24).toISOString();
const WEB = { stack_id: 'web' };
const SMALL = { flavor_name: 'm1.small' };

/**
 * The `cloudkitty` CLI (python3-cloudkittyclient 4.x) against the embedded platform:
 * Keystone password auth, the catalog's `rating` endpoint, v1 reports (`total get`,
 * `summary get`, `report tenant list`) and, with --os-rating-api-version 2, `summary get`
 * and `dataframes get`; every answer read as the CLI prints it with `-f json`.
 */
describe.runIf(available || IN_CI)('the real cloudkitty CLI: totals, summaries, dataframes', { timeout: 120_000 }, () => {
  let t: ApiTenants;
  let admin: CliCredentials;
  let member: CliCredentials;
  let P = '';
  let Q = '';
  let frames: FrameSeed[] = [];
  const cli = <T = Row>(creds: CliCredentials, ...args: string[]) => runCli<T>(CLOUDKITTY_CLI, { ...openrc(creds), OS_AUTH_TYPE: 'password' }, args);
  const v2 = <T = Row>(creds: CliCredentials, ...args: string[]) => cli<T>(creds, '--os-rating-api-version', '2', ...args);
  const sum = (list: readonly FrameSeed[], field: 'cost' | 'qty' = 'cost') => list.reduce((total, f) => total.plus(f[field] ?? '1'), new Decimal(0));

  beforeAll(async () => {
    t = await startApiTenants();
    admin = { authUrl: `${t.url}/identity/v3`, username: 'admin', password: t.platform.adminPassword, project: 'admin' };
    const user = `carol-${SUFFIX}`;
    const project = `kitty-${SUFFIX}`;
    P = (await createProjectMember(t.url, t.admin, project, user)).projectId;
    member = { authUrl: admin.authUrl, username: user, password: `${user}-password-1`, project };
    Q = t.beta.projectId;
    frames = [
      { project: P, start: at(0), service: 'instance', resource: 'vm-1', cost: '0.1', groupby: WEB, metadata: SMALL },
      { project: P, start: at(1), service: 'instance', resource: 'vm-1', cost: '0.2', groupby: WEB, metadata: SMALL },
      { project: P, start: at(1), service: 'volume.size', resource: 'vol-1', cost: '0.000000001', qty: '10', groupby: WEB, metadata: SMALL },
      { project: Q, start: at(2), service: 'instance', resource: 'vm-2', cost: '2.25', groupby: WEB, metadata: SMALL },
      // Outside [BEGIN, END): the end is exclusive.
      { project: Q, start: at(24), service: 'instance', resource: 'vm-2', cost: '100', groupby: WEB, metadata: SMALL },
    ];
    await seedRatedUsage(t.platform.store, frames, new Date(MONTH));
    frames = frames.filter((f) => f.start < at(24));
  }, 90_000);
  afterAll(async () => t?.stop());

  it('has the cloudkitty CLI installed', () => {
    expect(available, `${CLOUDKITTY_CLI} must be installed (python3-cloudkittyclient)`).toBe(true);
  });

  it('gets totals: every project, one project, one service, a member their own', async () => {
    // The CLI prints the total through Python's float(); the API sent the exact digits.
    expect(await cli(admin, 'total', 'get', '-b', BEGIN, '-e', END, '-a')).toEqual({ Total: Number(sum(frames).toFixed()) });
    expect(await cli(admin, 'total', 'get', '-b', BEGIN, '-e', END, '-a', '-s', 'volume.size')).toEqual({ Total: 1e-9 });
    expect(await cli(admin, 'total', 'get', '-b', BEGIN, '-e', END, '-t', Q)).toEqual({ Total: 2.25 });
    expect(await cli(member, 'total', 'get', '-b', BEGIN, '-e', END)).toEqual({ Total: Number(sum(frames.filter((f) => f.project === P)).toFixed()) });
    expect(await cli(member, 'total', 'get', '-b', BEGIN, '-e', END)).toEqual({ Total: 0.300000001 });
    await expect(cli(member, 'total', 'get', '-b', BEGIN, '-e', END, '-t', Q)).rejects.toThrow(/403|denied/);
    await expect(cli(member, 'total', 'get', '-a')).rejects.toThrow(/403|denied/);
  });

  it('gets v1 summaries grouped by type and tenant, rates as exact text', async () => {
    const rows = await cli<Row[]>(admin, 'summary', 'get', '-b', BEGIN, '-e', END, '-a', '-g', 'res_type', 'tenant_id');
    const begin = BEGIN.slice(0, 19);
    const end = END.slice(0, 19);
    const expected = [...new Set(frames.map((f) => `${f.project} ${f.service}`))].sort().map((key) => {
      const [project, type] = key.split(' ') as [string, string];
      return { 'Tenant ID': project, 'Resource Type': type, Rate: sum(frames.filter((f) => f.project === project && f.service === type)).toFixed(), 'Begin Time': begin, 'End Time': end };
    });
    expect(rows).toEqual(expected);
    expect(rows.map((r) => r.Rate).sort()).toEqual(['0.000000001', '0.3', '2.25']);
    expect(await cli<Row[]>(member, 'summary', 'get', '-b', BEGIN, '-e', END)).toEqual([{ 'Tenant ID': P, 'Resource Type': 'ALL', Rate: '0.300000001', 'Begin Time': begin, 'End Time': end }]);
  });

  it('lists the rated tenants (admins only)', async () => {
    expect(await cli<Row[]>(admin, 'report', 'tenant', 'list', '-b', BEGIN, '-e', END)).toEqual([P, Q].sort().map((id) => ({ 'Tenant ID': id })));
    await expect(cli(member, 'report', 'tenant', 'list', '-b', BEGIN, '-e', END)).rejects.toThrow(/403|denied/);
  });

  it('gets v2 summaries grouped, filtered and paged', async () => {
    const b = `${BEGIN.slice(0, 19)}+00:00`;
    const e = `${END.slice(0, 19)}+00:00`;
    const grouped = await v2<Row[]>(admin, 'summary', 'get', '-b', BEGIN, '-e', END, '-g', 'project_id', '-g', 'type');
    const expected = [...new Set(frames.map((f) => `${f.project} ${f.service}`))].sort().map((key) => {
      const [project, type] = key.split(' ') as [string, string];
      const group = frames.filter((f) => f.project === project && f.service === type);
      return { Begin: b, End: e, Qty: Number(sum(group, 'qty').toFixed()), Rate: Number(sum(group).toFixed()), 'Project id': project, Type: type };
    });
    expect(grouped).toEqual(expected);
    const paged = [];
    for (let offset = 0; offset < 4; offset += 2) paged.push(...(await v2<Row[]>(admin, 'summary', 'get', '-b', BEGIN, '-e', END, '-g', 'project_id', '-g', 'type', '--offset', String(offset), '--limit', '2')));
    expect(paged).toEqual(grouped);
    expect(await v2<Row[]>(admin, 'summary', 'get', '-b', BEGIN, '-e', END, '-g', 'type', '--filter', 'type:instance', '--filter', 'stack_id:web')).toEqual([{ Begin: b, End: e, Qty: 3, Rate: 2.55, Type: 'instance' }]);
    expect(await v2<Row[]>(member, 'summary', 'get', '-b', BEGIN, '-e', END)).toEqual([{ Begin: b, End: e, Qty: 12, Rate: 0.300000001 }]);
    expect(await v2<Row[]>(member, 'summary', 'get', '-b', BEGIN, '-e', END, '--filter', `project_id:${Q}`)).toEqual([]);
  });

  it("gets v2 dataframes: a member's frames, and CloudKitty's 404 when none match", async () => {
    const rows = await v2<Row[]>(member, 'dataframes', 'get', '-b', BEGIN, '-e', END);
    const group = (f: FrameSeed) => `stack_id="web" id="${f.resource}" user_id="user-${f.project}" project_id="${f.project}"`;
    expect(rows).toEqual(
      frames
        .filter((f) => f.project === P)
        .map((f) => ({
          Begin: `${f.start.toISOString().slice(0, 19)}+00:00`,
          End: `${new Date(f.start.getTime() + 3_600_000).toISOString().slice(0, 19)}+00:00`,
          'Metric Type': f.service,
          Unit: f.service === 'instance' ? 'instance' : 'GiB',
          Quantity: Number(f.qty ?? '1'),
          Price: Number(f.cost),
          'Group By': group(f),
          Metadata: 'flavor_name="m1.small"',
        })),
    );
    await expect(v2(member, 'dataframes', 'get', '-b', BEGIN, '-e', END, '--filter', `project_id:${Q}`)).rejects.toThrow(/No resource found for provided filters.*404/);
  });
});
