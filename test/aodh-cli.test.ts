import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProjectMember, startApiTenants, type ApiTenants } from './support/api-tenants.ts';
import { openrc, runCli, type CliCredentials } from './support/openstack-cli.ts';
import { IN_CI } from './support/services.ts';

/** The real python3-aodhclient from Debian. */
const AODH_CLI = '/usr/bin/aodh';
const available = existsSync(AODH_CLI);
if (!available && !IN_CI) process.stderr.write(`[skip] ${AODH_CLI} is not installed (bash scripts/debian-packages.sh); CI fails instead of skipping\n`);

type Row = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const SUFFIX = Date.now().toString(36);

/**
 * The real aodh CLI against the embedded platform: Keystone password auth, the catalog's
 * `alarming` endpoint; alarm create (gnocchi, event, composite), list (--query and
 * --filter), show, update, state get/set, history, delete, read as printed with `-f json`.
 */
describe.runIf(available || IN_CI)('the real aodh CLI: alarms, state and history', { timeout: 180_000 }, () => {
  let t: ApiTenants;
  let admin: CliCredentials;
  let member: CliCredentials;
  const aodh = <T = Row>(creds: CliCredentials, ...args: string[]) => runCli<T>(AODH_CLI, { ...openrc(creds), OS_AUTH_TYPE: 'password' }, args);
  const text = (creds: CliCredentials, ...args: string[]) => runCli<string>(AODH_CLI, { ...openrc(creds), OS_AUTH_TYPE: 'password' }, args, { json: false });

  beforeAll(async () => {
    t = await startApiTenants();
    const authUrl = `${t.url}/identity/v3`;
    admin = { authUrl, username: 'admin', password: t.platform.adminPassword, project: 'admin' };
    const user = `carol-${SUFFIX}`;
    const project = `gamma-${SUFFIX}`;
    await createProjectMember(t.url, t.admin, project, user);
    member = { authUrl, username: user, password: `${user}-password-1`, project };
  }, 90_000);
  afterAll(async () => t?.stop());

  it('has the aodh CLI installed', () => {
    expect(available, `${AODH_CLI} must be installed (bash scripts/debian-packages.sh)`).toBe(true);
  });

  it('creates, lists, shows, updates, sets state, shows history and deletes', async () => {
    const name = `cpu_${SUFFIX}`;
    // 1. a gnocchi resources threshold alarm
    const created = await aodh(member, 'alarm', 'create', '--name', name, '-t', 'gnocchi_resources_threshold', '--metric', 'cpu', '--threshold', '80', '--resource-id', 'r1', '--resource-type', 'instance', '--aggregation-method', 'mean', '--comparison-operator', 'gt', '--granularity', '300', '--evaluation-periods', '2', '--severity', 'critical', '--alarm-action', 'https://hooks.example/alarm', '--time-constraint', 'name=nights;start=0 23 * * *;duration=3600;timezone=Europe/Ljubljana');
    // The CLI flattens the rule into the alarm.
    expect(created).toMatchObject({ name, type: 'gnocchi_resources_threshold', metric: 'cpu', threshold: 80, resource_id: 'r1', resource_type: 'instance', aggregation_method: 'mean', comparison_operator: 'gt', granularity: 300, evaluation_periods: 2, severity: 'critical', state: 'insufficient data', enabled: true });
    expect(created.alarm_actions).toEqual(['https://hooks.example/alarm']);
    expect(JSON.parse(created.time_constraints as string)).toEqual([{ name: 'nights', description: 'Time constraint at 0 23 * * * lasting for 3600 seconds', start: '0 23 * * *', duration: 3600, timezone: 'Europe/Ljubljana' }]);
    const id = created.alarm_id as string;

    // 2. event and composite alarms
    const event = await aodh(member, 'alarm', 'create', '--name', `vm-error-${SUFFIX}`, '-t', 'event', '--event-type', 'compute.instance.update', '--query', 'traits.state=string::error');
    expect(event).toMatchObject({ type: 'event', event_type: 'compute.instance.update', query: 'traits.state = error' });
    const composite = { or: [{ type: 'gnocchi_resources_threshold', metric: 'cpu', threshold: 90, resource_id: 'r1', resource_type: 'instance', aggregation_method: 'max' }, { and: [{ type: 'gnocchi_aggregation_by_metrics_threshold', metrics: ['m1', 'm2'], threshold: 1, aggregation_method: 'median', comparison_operator: 'lt' }] }] };
    const combo = await aodh(member, 'alarm', 'create', '--name', `combo-${SUFFIX}`, '-t', 'composite', '--composite-rule', JSON.stringify(composite));
    expect(JSON.parse(combo.composite_rule as string)).toEqual({
      or: [
        { type: 'gnocchi_resources_threshold', comparison_operator: 'eq', threshold: 90, aggregation_method: 'max', granularity: 60, evaluation_periods: 1, metric: 'cpu', resource_id: 'r1', resource_type: 'instance' },
        { and: [{ type: 'gnocchi_aggregation_by_metrics_threshold', comparison_operator: 'lt', threshold: 1, aggregation_method: 'median', granularity: 60, evaluation_periods: 1, metrics: ['m1', 'm2'] }] },
      ],
    });

    // 3. list (the client's --query parser stops a value at "-": names use "_")
    // all of the member's, by --query (POST /v2/query/alarms) and by --filter (q.field)
    const all = await aodh<Row[]>(member, 'alarm', 'list');
    expect(all.map((a) => a.name).sort()).toEqual([name, `combo-${SUFFIX}`, `vm-error-${SUFFIX}`].sort());
    expect((await aodh<Row[]>(member, 'alarm', 'list', '--query', `name=${name}`)).map((a) => a.alarm_id)).toEqual([id]);
    expect((await aodh<Row[]>(member, 'alarm', 'list', '--query', 'severity=critical or type=event')).map((a) => a.name).sort()).toEqual([name, `vm-error-${SUFFIX}`].sort());
    expect((await aodh<Row[]>(member, 'alarm', 'list', '--filter', 'type=composite')).map((a) => a.name)).toEqual([`combo-${SUFFIX}`]);
    // The admin sees none of them in its own project's list; the member's alarm by id.
    expect((await aodh<Row[]>(admin, 'alarm', 'list')).map((a) => a.alarm_id)).not.toContain(id);
    expect((await aodh(admin, 'alarm', 'show', id)).name).toBe(name);

    // 4. show, update
    expect(await aodh(member, 'alarm', 'show', id)).toMatchObject({ alarm_id: id, name, threshold: 80 });
    const updated = await aodh(member, 'alarm', 'update', id, '--threshold', '95', '--severity', 'moderate');
    expect(updated).toMatchObject({ alarm_id: id, threshold: 95, severity: 'moderate', metric: 'cpu', granularity: 300 });

    // 5. state get/set
    expect(await aodh(member, 'alarm', 'state', 'get', id)).toEqual({ state: 'insufficient data' });
    expect(await aodh(member, 'alarm', 'state', 'set', '--state', 'alarm', id)).toEqual({ state: 'alarm' });
    expect(await aodh(member, 'alarm', 'state', 'get', id)).toEqual({ state: 'alarm' });

    // 6. history: newest first, with the detail of each change
    const history = await aodh<Row[]>(member, 'alarm-history', 'show', id);
    expect(history.map((h) => h.type)).toEqual(['state transition', 'rule change', 'creation']);
    expect(JSON.parse(history[0]!.detail as string)).toEqual({ state: 'alarm', state_reason: 'Manually set via API' });
    const ruleChange = JSON.parse(history[1]!.detail as string) as Row;
    expect(ruleChange.severity).toBe('moderate');
    expect(ruleChange.gnocchi_resources_threshold_rule.threshold).toBe(95);

    // ... and searched across alarms (--query: Aodh's complex query on history)
    const searched = await aodh<Row[]>(member, 'alarm-history', 'search', '--query', `alarm_id='${id}' and type='state transition'`);
    expect(searched.map((h) => [h.alarm_id, h.type])).toEqual([[id, 'state transition']]);

    // 7. a refusal: the CLI shows the API's message naming the field
    await expect(aodh(member, 'alarm', 'create', '--name', `bad-${SUFFIX}`, '-t', 'gnocchi_resources_threshold', '--metric', 'cpu', '--threshold', '1', '--resource-id', 'r1', '--resource-type', 'instance', '--aggregation-method', 'avg')).rejects.toThrow(/aggregation_method: expected an aggregation method/);

    // 8. delete
    await text(member, 'alarm', 'delete', id);
    await expect(aodh(member, 'alarm', 'show', id)).rejects.toThrow(/not found/i);
    expect((await aodh<Row[]>(member, 'alarm', 'list')).map((a) => a.alarm_id)).not.toContain(id);
  });
});
