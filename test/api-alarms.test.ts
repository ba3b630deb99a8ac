import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiTenants, type ApiTenants, type Caller } from './support/api-tenants.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

const ALARMS = '/alarming/v2/alarms';
const UNKNOWN = 'd28490b2-fb3c-11e5-988b-eb9539c935dc';
const cpuRule = { metric: 'cpu', resource_id: 'r1', resource_type: 'instance', threshold: 80, aggregation_method: 'mean', comparison_operator: 'gt' };
const cpuAlarm = (name: string, extra: Json = {}) => ({ name, type: 'gnocchi_resources_threshold', gnocchi_resources_threshold_rule: cpuRule, ...extra });

describe('Aodh v2 alarms API', { timeout: 120_000 }, () => {
  let t: ApiTenants;
  beforeAll(async () => void (t = await startApiTenants()), 60_000);
  afterAll(async () => t?.stop());

  /** The parsed answer, after checking its status (the text is in the failure message). */
  const expectStatus = async (status: number, who: Caller, method: string, path: string, body?: unknown): Promise<any> => {
    const res = await who.request(method, path, body);
    const raw = await res.text();
    expect(res.status, `${method} ${path}: ${raw}`).toBe(status);
    return raw === '' ? null : JSON.parse(raw);
  };
  const ok = (who: Caller, method: string, path: string, body?: unknown, status = 200) => expectStatus(status, who, method, path, body);
  /** WSME's fault: error_message.faultstring. */
  const fault = async (who: Caller, method: string, path: string, body: unknown, status: number): Promise<string> => {
    const { error_message } = await expectStatus(status, who, method, path, body);
    expect(error_message.faultcode).toBe('Client');
    return error_message.faultstring;
  };
  const projectOf = async (who: Caller) => ((await (await fetch(`${t.url}/identity/v3/auth/tokens`, { headers: { 'x-auth-token': who.token, 'x-subject-token': who.token } })).json()) as Json).token.project.id as string;

  it('is in the catalog as alarming', async () => {
    const res = await fetch(`${t.url}/identity/v3/auth/catalog`, { headers: { 'x-auth-token': t.alpha.token } });
    const catalog = ((await res.json()) as Json).catalog as Json[];
    const entry = catalog.find((e) => e.type === 'alarming');
    expect(entry?.name).toBe('aodh');
    expect(entry?.endpoints.some((e: Json) => String(e.url).endsWith('/alarming'))).toBe(true);
    const doc = (await (await fetch(`${t.url}/docs/json`)).json()) as { paths: Record<string, Record<string, { tags?: string[] }>> };
    expect(doc.paths['/alarming/v2/alarms/{alarm_id}/history']?.get?.tags).toEqual(['alarm']);
    expect(doc.paths['/alarming/v2/query/alarms']?.post?.tags).toEqual(['alarm']);
  });

  it('create, show, list, update, state and delete, with history of each change', async () => {
    const alphaProject = await projectOf(t.alpha);
    const created = await ok(t.alpha, 'POST', ALARMS, cpuAlarm('cpu-high', { severity: 'critical', alarm_actions: ['https://hooks.example/alarm'] }), 201);
    expect(created).toMatchObject({
      name: 'cpu-high',
      type: 'gnocchi_resources_threshold',
      state: 'insufficient data',
      state_reason: 'Not evaluated yet',
      severity: 'critical',
      enabled: true,
      repeat_actions: false,
      project_id: alphaProject,
      user_id: t.alpha.userId,
      alarm_actions: ['https://hooks.example/alarm'],
      ok_actions: [],
      time_constraints: [],
      gnocchi_resources_threshold_rule: { ...cpuRule, granularity: 60, evaluation_periods: 1 },
    });
    const id = created.alarm_id as string;
    expect(await ok(t.alpha, 'GET', `${ALARMS}/${id}`)).toEqual(created);

    // The client PUTs back what it got, with its changes.
    const updated = await ok(t.alpha, 'PUT', `${ALARMS}/${id}`, { ...created, gnocchi_resources_threshold_rule: { ...created.gnocchi_resources_threshold_rule, threshold: 95 }, description: 'hot' });
    expect(updated).toMatchObject({ alarm_id: id, description: 'hot', state: 'insufficient data', gnocchi_resources_threshold_rule: { threshold: 95 } });

    expect(await ok(t.alpha, 'PUT', `${ALARMS}/${id}/state`, '"alarm"')).toBe('alarm');
    expect(await ok(t.alpha, 'GET', `${ALARMS}/${id}/state`)).toBe('alarm');
    expect(await ok(t.alpha, 'GET', `${ALARMS}/${id}`)).toMatchObject({ state: 'alarm', state_reason: 'Manually set via API' });
    expect(await fault(t.alpha, 'PUT', `${ALARMS}/${id}/state`, '"firing"', 400)).toMatch(/^state: expected one of 'ok', 'alarm', 'insufficient data', got "firing"/);

    const history = (await ok(t.alpha, 'GET', `${ALARMS}/${id}/history`)) as Json[];
    expect(history.map((h) => h.type)).toEqual(['state transition', 'rule change', 'creation']);
    expect(history.every((h) => h.alarm_id === id && h.on_behalf_of === alphaProject && h.user_id === t.alpha.userId && h.project_id === alphaProject)).toBe(true);
    expect(JSON.parse(history[0]!.detail)).toEqual({ state: 'alarm', state_reason: 'Manually set via API' });
    expect(history[0]!.reason).toBe('Manually set via API');
    expect(JSON.parse(history[1]!.detail)).toEqual({ description: 'hot', gnocchi_resources_threshold_rule: { ...cpuRule, threshold: 95, granularity: 60, evaluation_periods: 1 } });
    expect(JSON.parse(history[2]!.detail)).toMatchObject({ alarm_id: id, name: 'cpu-high', state: 'insufficient data' });
    expect(Date.parse(history[0]!.timestamp)).toBeGreaterThanOrEqual(Date.parse(history[2]!.timestamp));
    // Pages: limit, then marker = the last event of the previous page.
    const first = (await ok(t.alpha, 'GET', `${ALARMS}/${id}/history?limit=2`)) as Json[];
    expect(first.map((h) => h.type)).toEqual(['state transition', 'rule change']);
    expect(((await ok(t.alpha, 'GET', `${ALARMS}/${id}/history?marker=${first[1]!.event_id}`)) as Json[]).map((h) => h.type)).toEqual(['creation']);

    // Complex history search: by alarm and type; a member's is limited to their alarms.
    const search = (who: Caller, filter: unknown) => ok(who, 'POST', '/alarming/v2/query/alarms/history', { filter: JSON.stringify(filter) });
    expect(((await search(t.alpha, { and: [{ '=': { alarm_id: id } }, { '!=': { type: 'creation' } }] })) as Json[]).map((h) => h.type)).toEqual(['state transition', 'rule change']);
    expect(await search(t.beta, { '=': { alarm_id: id } })).toEqual([]);
    expect(((await search(t.admin, { '=': { alarm_id: id } })) as Json[]).map((h) => h.event_id)).toEqual(history.map((h) => h.event_id));
    expect(await fault(t.alpha, 'POST', '/alarming/v2/query/alarms/history', { filter: '{"=": {"name": "x"}}' }, 400)).toMatch(/Filter expression not valid: filter\.= names 'name'/);

    await ok(t.alpha, 'DELETE', `${ALARMS}/${id}`, undefined, 204);
    const afterDelete = (await search(t.alpha, { '=': { alarm_id: id } })) as Json[];
    expect(afterDelete.map((h) => h.type)).toEqual(['deletion', 'state transition', 'rule change', 'creation']);
    expect(await fault(t.alpha, 'GET', `${ALARMS}/${id}`, undefined, 404)).toBe(`Alarm ${id} not found`);
  });

  it('RBAC: members see and change their project only; admins read all and list all with all_projects', async () => {
    const [alphaProject, betaProject, adminProject] = await Promise.all([projectOf(t.alpha), projectOf(t.beta), projectOf(t.admin)]);
    const alphaAlarm = await ok(t.alpha, 'POST', ALARMS, cpuAlarm('rbac-a'), 201);
    const betaAlarm = await ok(t.beta, 'POST', ALARMS, cpuAlarm('rbac-a'), 201); // same name, other project: allowed
    expect(await fault(t.alpha, 'POST', ALARMS, cpuAlarm('rbac-a'), 409)).toMatch(/name='rbac-a' exists/);

    for (const [method, path, body] of [
      ['GET', `${ALARMS}/${betaAlarm.alarm_id}`, undefined],
      ['PUT', `${ALARMS}/${betaAlarm.alarm_id}`, cpuAlarm('stolen')],
      ['DELETE', `${ALARMS}/${betaAlarm.alarm_id}`, undefined],
      ['GET', `${ALARMS}/${betaAlarm.alarm_id}/state`, undefined],
      ['PUT', `${ALARMS}/${betaAlarm.alarm_id}/state`, '"ok"'],
      ['GET', `${ALARMS}/${betaAlarm.alarm_id}/history`, undefined],
    ] as const) {
      expect(await fault(t.alpha, method, path, body, 404)).toBe(`Alarm ${betaAlarm.alarm_id} not found`);
    }
    expect(await fault(t.alpha, 'POST', ALARMS, cpuAlarm('elsewhere', { project_id: betaProject }), 403)).toMatch(/Not Authorized to access project/);
    expect(await fault(t.alpha, 'GET', `${ALARMS}?q.field=project_id&q.op=eq&q.value=${betaProject}`, undefined, 403)).toMatch(/Not Authorized to access project/);
    expect(await fault(t.alpha, 'GET', `${ALARMS}?q.field=all_projects&q.op=eq&q.value=true`, undefined, 403)).toMatch(/alarm:list_all/);

    const alphaList = (await ok(t.alpha, 'GET', ALARMS)) as Json[];
    expect(alphaList.every((a) => a.project_id === alphaProject)).toBe(true);
    expect(alphaList.map((a) => a.alarm_id)).toContain(alphaAlarm.alarm_id);

    // Admin: any alarm by id; its own project by default; every project with all_projects.
    expect((await ok(t.admin, 'GET', `${ALARMS}/${betaAlarm.alarm_id}`)).name).toBe('rbac-a');
    expect(((await ok(t.admin, 'GET', ALARMS)) as Json[]).every((a) => a.project_id === adminProject)).toBe(true);
    const everything = (await ok(t.admin, 'GET', `${ALARMS}?q.field=all_projects&q.op=eq&q.value=true`)) as Json[];
    expect(everything.map((a) => a.alarm_id)).toEqual(expect.arrayContaining([alphaAlarm.alarm_id, betaAlarm.alarm_id]));
    const forBeta = (await ok(t.admin, 'GET', `${ALARMS}?q.field=project_id&q.op=eq&q.value=${betaProject}`)) as Json[];
    expect(forBeta.map((a) => a.alarm_id)).toEqual([betaAlarm.alarm_id]);
    // Admin creates for another project and user.
    const forAlpha = await ok(t.admin, 'POST', ALARMS, cpuAlarm('from-admin', { project_id: alphaProject, user_id: t.alpha.userId }), 201);
    expect(forAlpha).toMatchObject({ project_id: alphaProject, user_id: t.alpha.userId });
    expect((await ok(t.alpha, 'GET', `${ALARMS}/${forAlpha.alarm_id}`)).name).toBe('from-admin');
    // The admin's change is recorded as theirs, on behalf of alpha.
    const [creation] = (await ok(t.alpha, 'GET', `${ALARMS}/${forAlpha.alarm_id}/history`)) as Json[];
    expect(creation).toMatchObject({ type: 'creation', user_id: t.admin.userId, project_id: adminProject, on_behalf_of: alphaProject });

    // Complex query: a member's is limited to their project.
    const byName = (await ok(t.alpha, 'POST', '/alarming/v2/query/alarms', { filter: '{"=": {"name": "rbac-a"}}' })) as Json[];
    expect(byName.map((a) => a.alarm_id)).toEqual([alphaAlarm.alarm_id]);
    const adminByName = (await ok(t.admin, 'POST', '/alarming/v2/query/alarms', { filter: '{"=": {"name": "rbac-a"}}', orderby: '[{"project_id": "asc"}]' })) as Json[];
    expect(adminByName.map((a) => a.alarm_id).sort()).toEqual([alphaAlarm.alarm_id, betaAlarm.alarm_id].sort());
  });

  it('q filters, sort, limit and marker; injection strings are data', async () => {
    const evil = "x' OR 1=1 --";
    await ok(t.beta, 'POST', ALARMS, cpuAlarm(evil, { severity: 'moderate' }), 201);
    await ok(t.beta, 'POST', ALARMS, cpuAlarm('q-b', { severity: 'moderate', enabled: false }), 201);
    await ok(t.beta, 'POST', ALARMS, cpuAlarm('q-c', { severity: 'low' }), 201);
    const names = async (qs: string) => ((await ok(t.beta, 'GET', `${ALARMS}?${qs}`)) as Json[]).map((a) => a.name);
    const q = (field: string, value: string) => `q.field=${field}&q.op=eq&q.value=${encodeURIComponent(value)}`;
    expect(await names(`${q('name', evil)}`)).toEqual([evil]);
    expect(await names(`${q('name', "' OR ''='")}`)).toEqual([]);
    expect(await names(`${q('severity', 'moderate')}&sort=name:asc`)).toEqual(['q-b', evil]);
    expect(await names(`${q('severity', 'moderate')}&${q('enabled', 'False')}`)).toEqual(['q-b']);
    expect(await names(`${q('state', evil)}`)).toEqual([]);
    const sorted = await names('sort=name:asc');
    expect(sorted).toEqual([...sorted].sort());
    const page = (await ok(t.beta, 'GET', `${ALARMS}?sort=name:asc&limit=1`)) as Json[];
    expect(page).toHaveLength(1);
    expect(await names(`sort=name:asc&marker=${page[0]!.alarm_id}`)).toEqual(sorted.slice(1));

    expect(await fault(t.beta, 'GET', `${ALARMS}?${q('description', 'x')}`, undefined, 400)).toMatch(/field\/attribute field.*only fields/);
    expect(await fault(t.beta, 'GET', `${ALARMS}?q.field=name&q.op=ne&q.value=x`, undefined, 400)).toMatch(/only operations eq are allowed/);
    expect(await fault(t.beta, 'GET', `${ALARMS}?${q('enabled', evil)}`, undefined, 400)).toMatch(/enabled expects a boolean/);
    expect(await fault(t.beta, 'GET', `${ALARMS}?colour=red`, undefined, 400)).toMatch(/unknown field "colour"/);
    expect(await fault(t.beta, 'POST', '/alarming/v2/query/alarms', { filter: JSON.stringify({ '=': { [evil]: 1 } }) }, 400)).toMatch(/Filter expression not valid/);
    expect(((await ok(t.beta, 'POST', '/alarming/v2/query/alarms', { filter: JSON.stringify({ '=': { name: evil } }) })) as Json[]).map((a) => a.name)).toEqual([evil]);
    expect(await fault(t.beta, 'GET', `${ALARMS}/${encodeURIComponent(evil)}/history`, undefined, 404)).toBe(`Alarm ${evil} not found`);
  });

  it('every alarm type; bad bodies are 400 naming the field', async () => {
    const event = await ok(t.alpha, 'POST', ALARMS, { name: 'vm-error', type: 'event', event_rule: { event_type: 'compute.instance.update', query: [{ field: 'traits.state', op: 'eq', value: 'error', type: 'string' }] } }, 201);
    expect(event.event_rule).toEqual({ event_type: 'compute.instance.update', query: [{ field: 'traits.state', op: 'eq', value: 'error', type: 'string' }] });
    const composite = { or: [{ type: 'gnocchi_resources_threshold', ...cpuRule }, { and: [{ type: 'log', service: 'nova-api', level: 'ERROR', threshold: 5, window: 300 }, { type: 'outage', check: 'token-issue', threshold: 3, window: 60 }] }] };
    expect((await ok(t.alpha, 'POST', ALARMS, { name: 'combo', type: 'composite', composite_rule: composite }, 201)).composite_rule.or[1].and[1]).toEqual({ type: 'outage', check: 'token-issue', comparison_operator: 'ge', threshold: 3, window: 60 });
    expect((await ok(t.alpha, 'POST', ALARMS, { name: 'm', type: 'gnocchi_aggregation_by_metrics_threshold', gnocchi_aggregation_by_metrics_threshold_rule: { metrics: [UNKNOWN], threshold: 1, aggregation_method: '95pct' } }, 201)).gnocchi_aggregation_by_metrics_threshold_rule.aggregation_method).toBe('95pct');
    await ok(t.alpha, 'POST', ALARMS, { name: 'r', type: 'gnocchi_aggregation_by_resources_threshold', gnocchi_aggregation_by_resources_threshold_rule: { metric: 'cpu', resource_type: 'instance', query: '{"=": {"server_group": "web"}}', threshold: 1, aggregation_method: 'median' } }, 201);
    await ok(t.alpha, 'POST', ALARMS, { name: 'logs', type: 'log', log_rule: { level: 'error', threshold: 10, window: 60 }, time_constraints: [{ name: 'office', start: '0 8 * * 1-5', duration: 36000, timezone: 'Europe/Ljubljana' }] }, 201);

    expect(await fault(t.alpha, 'POST', ALARMS, { ...cpuAlarm('bad'), gnocchi_resources_threshold_rule: { ...cpuRule, aggregation_method: 'avg' } }, 400)).toMatch(/^gnocchi_resources_threshold_rule\.aggregation_method: expected an aggregation method/);
    expect(await fault(t.alpha, 'POST', ALARMS, { name: 'bad', type: 'composite', composite_rule: { or: [{ type: 'gnocchi_resources_threshold', ...cpuRule, threshold: null }] } }, 400)).toMatch(/^composite_rule\.or\[0\]\.threshold: required/);
    expect(await fault(t.alpha, 'POST', ALARMS, cpuAlarm('bad', { time_constraints: [{ name: 'n', start: 'every day', duration: 60 }] }), 400)).toMatch(/^time_constraints\[0\]\.start: expected a five-field cron/);
    expect(await fault(t.alpha, 'POST', ALARMS, cpuAlarm('bad', { time_constraints: [{ name: 'n', start: '0 1 * * *', duration: 60, timezone: 'Europe/Atlantis' }] }), 400)).toMatch(/^time_constraints\[0\]\.timezone: expected an IANA time zone/);
    expect(await fault(t.alpha, 'POST', ALARMS, cpuAlarm('bad', { alarm_actions: ['trust+http://hooks.example'] }), 400)).toMatch(/^alarm_actions\[0\]: trust\+http:\/\/ actions need Keystone trusts/);
    expect(await fault(t.alpha, 'POST', ALARMS, cpuAlarm('bad', { severity: 'urgent' }), 400)).toMatch(/^severity: expected one of/);
    expect(await fault(t.alpha, 'POST', ALARMS, { name: 'bad', type: 'threshold' }, 400)).toMatch(/^type: expected one of/);
    const raw = await t.alpha.request('POST', ALARMS, 'name=x', { 'content-type': 'text/plain' });
    expect(raw.status).toBe(415);
  });
});
