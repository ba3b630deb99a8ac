import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Money } from '../storage/index.ts';
import { createProjectMember, startApiTenants, type ApiTenants, type Caller } from './support/api-tenants.ts';
import { openrc, runCli, type CliCredentials } from './support/openstack-cli.ts';
import { IN_CI } from './support/services.ts';

/** The real python3-cloudkittyclient from Debian (run under /usr/bin/python3's packages). */
const CLOUDKITTY_CLI = '/usr/bin/cloudkitty';
const PYTHON = '/usr/bin/python3';
const available = existsSync(CLOUDKITTY_CLI);
if (!available && !IN_CI) process.stderr.write(`[skip] ${CLOUDKITTY_CLI} is not installed (bash scripts/debian-packages.sh); CI fails instead of skipping\n`);

/* eslint-disable @typescript-eslint/no-explicit-any */
type Row = Record<string, any>;

/**
 * python-cloudkittyclient's library call for quotes (the CLI has no quote command): the
 * client finds the `rating` endpoint in the catalog and POSTs {resources} to /v1/rating/quote.
 */
const QUOTE_SCRIPT = `
import json, os, sys
from keystoneauth1 import loading, session
from cloudkittyclient import client
auth = loading.get_plugin_loader('password').load_from_options(
    auth_url=os.environ['OS_AUTH_URL'], username=os.environ['OS_USERNAME'], password=os.environ['OS_PASSWORD'],
    project_name=os.environ['OS_PROJECT_NAME'], user_domain_name='Default', project_domain_name='Default')
ck = client.Client('1', session=session.Session(auth=auth), adapter_options={'service_type': 'rating', 'interface': 'public'})
print(json.dumps(ck.rating.get_quotation(res_data=json.loads(sys.argv[1]))))
`;

/** The real cloudkitty CLI driving the hashmap rules and the module through the catalog's `rating` endpoint. */
describe.runIf(available || IN_CI)('the real cloudkitty CLI: hashmap rules, modules, quotes', { timeout: 240_000 }, () => {
  let t: ApiTenants;
  let admin: CliCredentials;
  /** A project member whose password we know, for the member's view. */
  let carol: Caller;
  let carolCreds: CliCredentials;

  /** `cloudkitty <args>` with an openrc in the environment (no endpoint override: the catalog says where); `-f json` parsed unless `json` is false. */
  const cloudkitty = <T = Row[]>(args: readonly string[], json = true, creds = admin): Promise<T> => runCli<T>(CLOUDKITTY_CLI, openrc(creds), args, { json });
  const quote = async (resources: unknown[], creds = admin): Promise<unknown> => {
    const { stdout } = await promisify(execFile)(PYTHON, ['-c', QUOTE_SCRIPT, JSON.stringify(resources)], { env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...openrc(creds) }, timeout: 60_000 });
    return JSON.parse(stdout);
  };
  const one = (rows: Row[]) => {
    expect(rows).toHaveLength(1);
    return rows[0] as Row;
  };

  beforeAll(async () => {
    t = await startApiTenants();
    admin = { authUrl: `${t.url}/identity/v3`, username: 'admin', password: t.platform.adminPassword, project: 'admin' };
    carol = await createProjectMember(t.url, t.admin, 'cli-carol-project', 'cli-carol');
    carolCreds = { authUrl: admin.authUrl, username: 'cli-carol', password: 'cli-carol-password-1', project: 'cli-carol-project' };
  }, 60_000);
  afterAll(async () => t?.stop());

  it('has the cloudkitty CLI installed', () => {
    expect(available, `${CLOUDKITTY_CLI} must be installed (bash scripts/debian-packages.sh)`).toBe(true);
  });

  it('lists, disables and enables the hashmap module', async () => {
    expect(await cloudkitty(['module', 'list'])).toEqual([{ Module: 'hashmap', Enabled: true, Priority: 1 }]);
    expect(await cloudkitty(['module', 'disable', 'hashmap'])).toEqual([{ Module: 'hashmap', Enabled: false, Priority: 1 }]);
    expect(await cloudkitty(['module', 'set', 'priority', 'hashmap', '3'])).toEqual([{ Module: 'hashmap', Enabled: false, Priority: 3 }]);
    expect(await cloudkitty(['module', 'enable', 'hashmap'])).toEqual([{ Module: 'hashmap', Enabled: true, Priority: 3 }]);
    expect(await cloudkitty(['module', 'get', 'hashmap'])).toEqual([{ Module: 'hashmap', Enabled: true, Priority: 3 }]);
  });

  it('builds rules with services, fields, groups, flat and rate mappings and thresholds, and quotes with them', async () => {
    const service = one(await cloudkitty(['hashmap', 'service', 'create', 'instance']));
    expect(service).toEqual({ Name: 'instance', 'Service ID': expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const sid = service['Service ID'];
    expect(await cloudkitty(['hashmap', 'service', 'list'])).toContainEqual(service);
    expect(await cloudkitty(['hashmap', 'service', 'get', sid])).toEqual([service]);
    await expect(cloudkitty(['hashmap', 'service', 'create', 'instance'])).rejects.toThrow(new RegExp(`Service instance already exists \\(UUID: ${sid}\\).*HTTP 409`));

    const flavor = one(await cloudkitty(['hashmap', 'field', 'create', sid, 'flavor_name']));
    expect(flavor).toEqual({ Name: 'flavor_name', 'Field ID': expect.any(String), 'Service ID': sid });
    const distro = one(await cloudkitty(['hashmap', 'field', 'create', sid, 'os_distro']));
    expect(await cloudkitty(['hashmap', 'field', 'list', sid])).toEqual([flavor, distro]);

    const group = one(await cloudkitty(['hashmap', 'group', 'create', 'instance_rating']));
    expect(group).toEqual({ Name: 'instance_rating', 'Group ID': expect.any(String) });
    const gid = group['Group ID'];
    const license = one(await cloudkitty(['hashmap', 'group', 'create', 'license']));
    expect(await cloudkitty(['hashmap', 'group', 'list'])).toEqual([group, license]);

    // Flat per flavor, a Windows rate in the same group, a Windows licence flat in its own group.
    const small = one(await cloudkitty(['hashmap', 'mapping', 'create', '0.05', '--field-id', flavor['Field ID'], '--value', 'm1.small', '-t', 'flat', '-g', gid]));
    expect(small).toEqual({ 'Mapping ID': expect.any(String), Value: 'm1.small', Cost: '0.0500000000000000000000000000', Type: 'flat', 'Field ID': flavor['Field ID'], 'Service ID': null, 'Group ID': gid, 'Project ID': null });
    const large = one(await cloudkitty(['hashmap', 'mapping', 'create', '0.2', '--field-id', flavor['Field ID'], '--value', 'm1.large', '-g', gid]));
    expect(large.Type).toBe('flat');
    const winRate = one(await cloudkitty(['hashmap', 'mapping', 'create', '1.5', '--field-id', distro['Field ID'], '--value', 'windows', '-t', 'rate', '-g', gid]));
    expect(winRate).toMatchObject({ Cost: '1.5000000000000000000000000000', Type: 'rate' });
    const winFlat = one(await cloudkitty(['hashmap', 'mapping', 'create', '0.02', '--field-id', distro['Field ID'], '--value', 'windows', '-g', license['Group ID']]));
    // carol's project's negotiated m1.small price.
    const carolSmall = one(await cloudkitty(['hashmap', 'mapping', 'create', '0.04', '--field-id', flavor['Field ID'], '--value', 'm1.small', '-g', gid, '-p', carol.projectId]));
    expect(carolSmall['Project ID']).toBe(carol.projectId);
    // Same key twice is refused by the API, through the CLI.
    await expect(cloudkitty(['hashmap', 'mapping', 'create', '0.07', '--field-id', flavor['Field ID'], '--value', 'm1.small', '-g', gid])).rejects.toThrow(new RegExp(`Mapping 'm1.small' already exists.*mapping ${small['Mapping ID']} is in force.*HTTP 409`));

    const listed = await cloudkitty(['hashmap', 'mapping', 'list', '--field-id', flavor['Field ID']]);
    expect(listed.map((r) => r['Mapping ID'])).toEqual([small['Mapping ID'], large['Mapping ID'], carolSmall['Mapping ID']]);
    expect((await cloudkitty(['hashmap', 'mapping', 'list', '--field-id', flavor['Field ID'], '--filter-tenant'])).map((r) => r['Mapping ID'])).toEqual([small['Mapping ID'], large['Mapping ID']]);
    expect((await cloudkitty(['hashmap', 'mapping', 'list', '-g', license['Group ID']])).map((r) => r['Mapping ID'])).toEqual([winFlat['Mapping ID']]);
    expect(await cloudkitty(['hashmap', 'mapping', 'get', small['Mapping ID']])).toEqual([small]);
    expect((await cloudkitty(['hashmap', 'group', 'mappings', 'get', license['Group ID']])).map((r) => r['Mapping ID'])).toEqual([winFlat['Mapping ID']]);

    // The client's update: GET the mapping, change the cost, PUT it back, GET it again.
    const updated = one(await cloudkitty(['hashmap', 'mapping', 'update', '--cost', '0.06', small['Mapping ID']]));
    expect(updated).toEqual({ ...small, Cost: '0.0600000000000000000000000000' });

    // A service mapping (every instance-hour) and a rate threshold on the quantity in the same group.
    const base = one(await cloudkitty(['hashmap', 'mapping', 'create', '0.01', '-s', sid, '-t', 'flat']));
    expect(base).toMatchObject({ 'Service ID': sid, 'Field ID': null, Value: null, 'Group ID': null });
    const threshold = one(await cloudkitty(['hashmap', 'threshold', 'create', '10', '0.9', '-s', sid, '-t', 'rate', '-g', gid]));
    expect(threshold).toEqual({ 'Threshold ID': expect.any(String), Level: '10.00000000', Cost: '0.9000000000000000000000000000', Type: 'rate', 'Field ID': null, 'Service ID': sid, 'Group ID': gid, 'Project ID': null });
    expect(await cloudkitty(['hashmap', 'threshold', 'list', '-s', sid])).toEqual([threshold]);
    expect(await cloudkitty(['hashmap', 'group', 'thresholds', 'get', gid])).toEqual([threshold]);
    expect(await cloudkitty(['hashmap', 'mapping-types', 'list'])).toEqual([{ 'Mapping types': 'flat' }, { 'Mapping types': 'rate' }]);

    // Quotes (python-cloudkittyclient's get_quotation), each figure by hand:
    // group instance_rating: flat max(m1.large 0.2) x rate 1.5 (windows); licence group: 0.02; default group: 0.01.
    const m = (v: string | number) => new Money(v);
    const windowsLarge = m('0.2').times('1.5').plus('0.02').plus('0.01');
    expect(await quote([{ service: 'instance', desc: { flavor_name: 'm1.large', os_distro: 'windows' }, volume: '1' }])).toBe(Number(windowsLarge.toFixed(2)));
    // 12 instances of m1.small (the updated 0.06) reach the 10 threshold: the group's cost x 0.9; plus the default group's 0.01 each.
    const twelveSmall = m('0.06').times(12).times('0.9').plus(m('0.01').times(12));
    expect(await quote([{ service: 'instance', desc: { flavor_name: 'm1.small', os_distro: 'linux' }, volume: '12' }])).toBe(Number(twelveSmall.toDecimalPlaces(2, Money.ROUND_HALF_UP).toFixed(2)));
    // carol quotes her project's own m1.small price.
    expect(await quote([{ service: 'instance', desc: { flavor_name: 'm1.small' }, volume: '10' }], carolCreds)).toBe(Number(m('0.04').times(10).times('0.9').plus(m('0.01').times(10)).toDecimalPlaces(2, Money.ROUND_HALF_UP).toFixed(2)));
    // Members cannot touch rules.
    await expect(cloudkitty(['hashmap', 'service', 'list'], true, carolCreds)).rejects.toThrow(/rating:module_config.*HTTP 403/);

    // Delete a mapping, then the groups: without --recursive rules stay (groupless), with it they go.
    await cloudkitty(['hashmap', 'mapping', 'delete', large['Mapping ID']], false);
    await expect(cloudkitty(['hashmap', 'mapping', 'get', large['Mapping ID']])).rejects.toThrow(new RegExp(`No such mapping: ${large['Mapping ID']}.*HTTP 404`));
    await cloudkitty(['hashmap', 'group', 'delete', license['Group ID']], false);
    expect(one(await cloudkitty(['hashmap', 'mapping', 'get', winFlat['Mapping ID']]))['Group ID']).toBeNull();
    await cloudkitty(['hashmap', 'group', 'delete', '--recursive', gid], false);
    expect(await cloudkitty(['hashmap', 'group', 'list'])).toEqual([]);
    expect(await cloudkitty(['hashmap', 'threshold', 'list', '-s', sid])).toEqual([]);
    await expect(cloudkitty(['hashmap', 'mapping', 'get', small['Mapping ID']])).rejects.toThrow(/HTTP 404/);
    expect((await cloudkitty(['hashmap', 'mapping', 'list', '-s', sid])).map((r) => r['Mapping ID'])).toEqual([base['Mapping ID']]);

    // Deleting the service takes its fields and their rules with it.
    await cloudkitty(['hashmap', 'service', 'delete', sid], false);
    expect(await cloudkitty(['hashmap', 'service', 'list'])).toEqual([]);
    await expect(cloudkitty(['hashmap', 'field', 'get', flavor['Field ID']])).rejects.toThrow(/No such field.*HTTP 404/);
    expect(await quote([{ service: 'instance', desc: { flavor_name: 'm1.large' }, volume: '1' }])).toBe(0);
  });
});
