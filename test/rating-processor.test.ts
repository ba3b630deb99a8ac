import { Decimal } from 'decimal.js';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/index.ts';
import { selectRatedUsage, type RatedUsageRow } from '../storage/index.ts';
import { createProjectMember, startApiTenants, type ApiTenants, type Caller } from './support/api-tenants.ts';
import { eventually, login } from './support/openstack-http.ts';
import { openrc, runCli, type CliCredentials } from './support/openstack-cli.ts';
import { IN_CI } from './support/services.ts';

/**
 * The rating processor on the whole platform: servers of two flavors, a volume and a
 * floating IP (held, never attached) made through the control plane at known times (the
 * platform's clock is a ManualClock), hashmap prices set through CloudKitty's API, the hour
 * rated with rateNow, every rated_usage row and cost checked against figures worked out
 * here by hand; then a price change and a reprocess through /v2/task/reprocesses.
 */

const HOUR = 3_600_000;
const MIN = 60_000;
const Exact = Decimal.clone({ precision: 40 });
/** The rated hour: two days ago, on the hour (the events' retention runs on the engine's clock). */
const H = Math.floor(Date.now() / HOUR) * HOUR - 48 * HOUR;
const SUFFIX = Date.now().toString(36);
const SMALL = `rp-small-${SUFFIX}`;
const LARGE = `rp-large-${SUFFIX}`;
const CLOUDKITTY_CLI = '/usr/bin/cloudkitty';
const INJECTION = "p' OR 1=1; DROP TABLE rated_usage; --";

type Json = Record<string, unknown>;

/** A caller whose token can be renewed once the clock has moved past its expiry. */
interface Renewable {
  caller: Caller;
  renew(): Promise<void>;
}

describe('rating processor on the platform', { timeout: 180_000 }, () => {
  const clock = new ManualClock(H - 5 * MIN);
  let t: ApiTenants;
  let admin: Renewable;
  let carol: Renewable;
  let carolCli: CliCredentials;
  let adminProject = '';
  let carolProject = '';
  const ids: Record<string, string> = {};
  let largeMapping = '';

  const send = async (who: Renewable, method: string, path: string, body?: unknown) => {
    const res = await who.caller.request(method, path, body);
    const text = await res.text();
    return { status: res.status, body: (text === '' ? null : JSON.parse(text)) as Json };
  };
  const ok = async (who: Renewable, method: string, path: string, body?: unknown) => {
    const res = await send(who, method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const renewable = async (user: string, password: string, project: string): Promise<Renewable> => {
    const holder = {} as Renewable;
    holder.renew = async () => {
      const session = await login(t.url, user, password, project);
      const request = (method: string, path: string, body?: unknown) =>
        fetch(`${t.url}${path}`, { method, headers: { 'x-auth-token': session.token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const check = await fetch(`${t.url}/identity/v3/auth/tokens`, { headers: { 'x-auth-token': session.token, 'x-subject-token': session.token } });
      const userId = ((await check.json()) as { token: { user: { id: string } } }).token.user.id;
      holder.caller = { ...session, userId, request };
    };
    await holder.renew();
    return holder;
  };
  const serverStatus = async (who: Renewable, id: string) => {
    const res = await send(who, 'GET', `/compute/v2.1/servers/${id}`);
    return res.status === 404 ? 'GONE' : ((res.body.server as Json).status as string);
  };
  const createServer = async (who: Renewable, name: string, flavorId: string) => {
    const server = (await ok(who, 'POST', '/compute/v2.1/servers', { server: { name, flavorRef: flavorId, imageRef: 'cirros', networks: 'auto' } })).server as Json;
    await eventually(async () => ((await serverStatus(who, server.id as string)) === 'ACTIVE' ? true : undefined), `${name} ACTIVE`);
    return server.id as string;
  };
  const rated = async (projectIds: readonly string[] | null = null) => t.platform.store.query<RatedUsageRow>(selectRatedUsage({ range: { from: new Date(H), to: new Date(H + HOUR) }, scope: projectIds }));
  const hashmap = '/rating/v1/rating/module_config/hashmap';

  beforeAll(async () => {
    t = await startApiTenants({}, { clock });
    admin = await renewable('admin', t.platform.adminPassword, 'admin');
    adminProject = admin.caller.projectId;
    const user = `carol-${SUFFIX}`;
    const member = await createProjectMember(t.url, t.admin, `rated-${SUFFIX}`, user);
    carolProject = member.projectId;
    carol = await renewable(user, `${user}-password-1`, `rated-${SUFFIX}`);
    carolCli = { authUrl: `${t.url}/identity/v3`, username: user, password: `${user}-password-1`, project: `rated-${SUFFIX}` };

    // H - 5 min: flavors and prices (CloudKitty's hashmap: a field mapping per flavor, per-unit service mappings).
    ids.small = ((await ok(admin, 'POST', '/compute/v2.1/flavors', { flavor: { name: SMALL, vcpus: 1, ram: 2048, disk: 10 } })).flavor as Json).id as string;
    ids.large = ((await ok(admin, 'POST', '/compute/v2.1/flavors', { flavor: { name: LARGE, vcpus: 4, ram: 8192, disk: 40 } })).flavor as Json).id as string;
    const instance = (await ok(admin, 'POST', `${hashmap}/services`, { name: 'instance' })).service_id as string;
    const flavorField = (await ok(admin, 'POST', `${hashmap}/fields`, { service_id: instance, name: 'flavor_name' })).field_id as string;
    await ok(admin, 'POST', `${hashmap}/mappings`, { field_id: flavorField, value: SMALL, cost: '0.05', type: 'flat' });
    largeMapping = (await ok(admin, 'POST', `${hashmap}/mappings`, { field_id: flavorField, value: LARGE, cost: '0.2', type: 'flat' })).mapping_id as string;
    const volume = (await ok(admin, 'POST', `${hashmap}/services`, { name: 'volume.size' })).service_id as string;
    await ok(admin, 'POST', `${hashmap}/mappings`, { service_id: volume, cost: '0.002', type: 'flat' });
    const fip = (await ok(admin, 'POST', `${hashmap}/services`, { name: 'ip.floating' })).service_id as string;
    await ok(admin, 'POST', `${hashmap}/mappings`, { service_id: fip, cost: '0.004', type: 'flat' });

    // H: two servers of the admin project (small, large), one of carol's (small), a 10 GiB
    // volume and a floating IP allocated but never attached.
    clock.set(H);
    ids.a = await createServer(admin, 'rp-a', ids.small);
    ids.b = await createServer(admin, 'rp-b', ids.large);
    ids.c = await createServer(carol, 'rp-c', ids.small);
    ids.volume = ((await ok(admin, 'POST', `/volume/v3/${adminProject}/volumes`, { volume: { size: 10, name: 'rp-data' } })).volume as Json).id as string;
    // Cinder builds it in the background: its notifications must carry H, so wait before the clock moves.
    await eventually(async () => (((await ok(admin, 'GET', `/volume/v3/${adminProject}/volumes/${ids.volume}`)).volume as Json).status === 'available' ? true : undefined), 'rp-data available');
    const publicNet = ((await ok(admin, 'GET', '/network/v2.0/networks?name=public')).networks as Json[])[0] as Json;
    ids.fip = ((await ok(admin, 'POST', '/network/v2.0/floatingips', { floatingip: { floating_network_id: publicNet.id } })).floatingip as Json).id as string;

    // H + 30 min: the large server is deleted.
    clock.set(H + 30 * MIN);
    expect((await send(admin, 'DELETE', `/compute/v2.1/servers/${ids.b}`)).status).toBe(204);
    await eventually(async () => ((await serverStatus(admin, ids.b as string)) === 'GONE' ? true : undefined), 'rp-b deleted');
    await t.platform.drain();

    // H + 1 h 10 min: the hour has ended and settled. Tokens issued before H expired: log in again.
    clock.set(H + HOUR + 10 * MIN);
    await admin.renew();
    await carol.renew();
  }, 120_000);
  afterAll(async () => t?.stop());

  it('rates the hour once: every frame and cost as worked out by hand', async () => {
    const run = await t.platform.rateNow();
    expect([run.periods, run.until]).toEqual([1, new Date(H + HOUR)]);
    // By hand: rp-a 1 h x 0.05 = 0.05; rp-b 0.5 h x 0.2 = 0.1; the volume 10 GiB x 1 h x 0.002 = 0.02;
    // the floating IP, held all hour though never attached, 1 h x 0.004 = 0.004; carol's rp-c 1 h x 0.05.
    const expected = [
      [adminProject, 'instance', ids.a, '1', '0.05', SMALL, '1', '2048'],
      [adminProject, 'instance', ids.b, '0.5', '0.1', LARGE, '4', '8192'],
      [adminProject, 'ip.floating', ids.fip, '1', '0.004', undefined, undefined, undefined],
      [adminProject, 'volume.size', ids.volume, '10', '0.02', undefined, undefined, undefined],
      [carolProject, 'instance', ids.c, '1', '0.05', SMALL, '1', '2048'],
    ].sort((x, y) => (`${x[0]}${x[1]}${x[2]}` < `${y[0]}${y[1]}${y[2]}` ? -1 : 1));
    const rows = await rated([adminProject, carolProject]);
    expect(rows.map((r) => [r.project_id, r.service, r.resource_id, r.quantity, r.cost, r.metadata.flavor_name, r.metadata.vcpus, r.metadata.ram])).toEqual(expected);
    for (const r of rows) {
      expect([r.period_start, r.period_end, r.currency]).toEqual([new Date(H).toISOString().slice(0, 19).replace('T', ' '), new Date(H + HOUR).toISOString().slice(0, 19).replace('T', ' '), 'EUR']);
      expect(r.groupby).toMatchObject({ id: r.resource_id, project_id: r.project_id });
    }
    expect(rows.find((r) => r.resource_id === ids.fip)).toMatchObject({ unit: 'ip-hour', resource_type: 'network' });
    expect(rows.find((r) => r.resource_id === ids.volume)).toMatchObject({ unit: 'GiB-hour', resource_type: 'volume' });
    const total = rows.filter((r) => r.project_id === adminProject).reduce((sum, r) => sum.plus(r.cost), new Exact(0));
    expect(total.toString()).toBe('0.174');
    // Once: a second run finds nothing due, and the rows are unchanged.
    expect((await t.platform.rateNow()).periods).toBe(0);
    expect(await rated([adminProject, carolProject])).toEqual(rows);
  });

  it('admits reprocess requests from admins only, with 400s that name the field', async () => {
    const window = { start_reprocess_time: new Date(H).toISOString(), end_reprocess_time: new Date(H + HOUR).toISOString() };
    const post = (who: Renewable, body: unknown) => send(who, 'POST', '/rating/v2/task/reprocesses', body);
    expect(await post(carol, { scope_ids: [carolProject], ...window, reason: 'mine' })).toEqual({ status: 403, body: { message: expect.stringContaining('rating_reprocess:write') } });
    expect((await send(carol, 'GET', '/rating/v2/task/reprocesses')).status).toBe(403);
    const refused = async (body: unknown, field: string) => {
      const res = await post(admin, body);
      expect(res.status).toBe(400);
      expect(res.body.message).toContain(field);
    };
    await refused({ scope_ids: [adminProject], ...window }, 'reason');
    await refused({ scope_ids: [adminProject], ...window, reason: '   ' }, 'reason');
    await refused({ scope_ids: [adminProject], ...window, reason: 'x', colour: 'red' }, 'colour');
    await refused({ scope_ids: ['ALL', adminProject], ...window, reason: 'x' }, 'scope_ids');
    await refused({ scope_ids: [adminProject], ...window, start_reprocess_time: 'yesterday', reason: 'x' }, 'start_reprocess_time');
    await refused({ scope_ids: [adminProject], ...window, start_reprocess_time: new Date(H + MIN).toISOString(), reason: 'x' }, 'start_reprocess_time');
    await refused({ scope_ids: [adminProject], ...window, end_reprocess_time: new Date(H + 2 * HOUR).toISOString(), reason: 'x' }, 'end_reprocess_time');
    expect((await send(admin, 'GET', '/rating/v2/task/reprocesses?order=sideways')).body.message).toContain('order');
    expect((await send(admin, 'GET', '/rating/v2/task/reprocesses?scope_id=x')).body.message).toContain('scope_id');
  });

  it('re-rates the hour after a price change when asked, replacing the rows; the request is listed with who, when, why', async () => {
    const before = await rated([adminProject, carolProject]);
    await ok(admin, 'PUT', `${hashmap}/mappings/${largeMapping}`, { cost: '0.3' });
    clock.advance(MIN);
    const posted = await send(admin, 'POST', '/rating/v2/task/reprocesses', { scope_ids: adminProject, start_reprocess_time: new Date(H).toISOString(), end_reprocess_time: new Date(H + HOUR).toISOString().replace('.000Z', '+00:00'), reason: 'large flavor repriced' });
    expect(posted).toEqual({ status: 202, body: {} });
    const listed = async () => ((await ok(admin, 'GET', '/rating/v2/task/reprocesses')).results as Json[]).filter((r) => r.reason === 'large flavor repriced');
    expect(await listed()).toEqual([
      expect.objectContaining({ scope_id: adminProject, start_reprocess_time: `${new Date(H).toISOString().slice(0, 19)}+00:00`, end_reprocess_time: `${new Date(H + HOUR).toISOString().slice(0, 19)}+00:00`, current_reprocess_time: '', state: 'pending', requested_by: { user_id: admin.caller.userId, user_name: 'admin', project_id: adminProject } }),
    ]);

    const run = await t.platform.rateNow();
    expect([run.periods, run.reprocesses]).toEqual([1, 1]);
    // By hand: only rp-b changes, 0.5 h x 0.3 = 0.15; carol's project was not in scope.
    const after = await rated([adminProject, carolProject]);
    expect(after.map((r) => [r.resource_id, r.cost])).toEqual(before.map((r) => [r.resource_id, r.resource_id === ids.b ? '0.15' : r.cost]));
    for (const r of after) {
      const old = before.find((b) => b.resource_id === r.resource_id) as RatedUsageRow;
      if (r.project_id === adminProject) expect(r.rated_at > old.rated_at).toBe(true);
      else expect(r).toEqual(old);
    }
    expect(await listed()).toEqual([expect.objectContaining({ state: 'done', current_reprocess_time: `${new Date(H).toISOString().slice(0, 19)}+00:00`, completed_at: expect.any(String), requested_at: expect.any(String) })]);
    // The per-scope path lists it; another scope's does not.
    expect(((await ok(admin, 'GET', `/rating/v2/task/reprocesses/${adminProject}`)).results as Json[]).map((r) => r.reason)).toContain('large flavor repriced');
    expect(((await ok(admin, 'GET', `/rating/v2/task/reprocesses/${carolProject}`)).results as Json[]).map((r) => r.reason)).not.toContain('large flavor repriced');
  });

  it('keeps scope ids as data, whatever they hold', async () => {
    const body = { scope_ids: [INJECTION], start_reprocess_time: new Date(H).toISOString(), end_reprocess_time: new Date(H + HOUR).toISOString(), reason: `audit "${INJECTION}"` };
    expect((await send(admin, 'POST', '/rating/v2/task/reprocesses', body)).status).toBe(202);
    const found = (await ok(admin, 'GET', `/rating/v2/task/reprocesses?scope_ids=${encodeURIComponent(INJECTION)}&order=ASC`)).results as Json[];
    expect(found.map((r) => [r.scope_id, r.reason])).toEqual([[INJECTION, `audit "${INJECTION}"`]]);
    const before = await rated();
    expect((await t.platform.rateNow()).reprocesses).toBe(1);
    expect(await rated()).toEqual(before);
  });

  describe.runIf(existsSync(CLOUDKITTY_CLI) || IN_CI)('with the real cloudkitty CLI', () => {
    const cli = <T>(creds: CliCredentials, ...args: string[]) => runCli<T>(CLOUDKITTY_CLI, { ...openrc(creds), OS_AUTH_TYPE: 'password' }, ['--os-rating-api-version', '2', ...args]);
    const adminCli = (): CliCredentials => ({ authUrl: `${t.url}/identity/v3`, username: 'admin', password: t.platform.adminPassword, project: 'admin' });

    it('schedules a reprocessing and lists the requests (tasks reprocessing create / get)', async () => {
      clock.advance(MIN);
      await cli(adminCli(), 'tasks', 'reprocessing', 'create', '--scope-id', carolProject, '--start-reprocess-time', new Date(H).toISOString(), '--end-reprocess-time', new Date(H + HOUR).toISOString(), '--reason', 'from the CLI');
      const rows = await cli<Array<Record<string, string>>>(adminCli(), 'tasks', 'reprocessing', 'get', '--scope-id', carolProject);
      expect(rows.map((r) => [r['Scope ID'], r.Reason, r['Start reprocessing time']])).toEqual([[carolProject, 'from the CLI', `${new Date(H).toISOString().slice(0, 19)}+00:00`]]);
      await expect(cli(carolCli, 'tasks', 'reprocessing', 'get')).rejects.toThrow(/403|Forbidden|rating_reprocess/);
    });
  });
});
