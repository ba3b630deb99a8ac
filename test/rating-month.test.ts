import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/index.ts';
import { collectUsage, collectUsageForPeriods, loadServiceDefinitions } from '../pipeline/index.ts';
import { createProjectMember, startApiTenants, type ApiTenants } from './support/api-tenants.ts';
import { parseCsv } from './support/csv.ts';
import { eventually, login, type Session } from './support/openstack-http.ts';

/**
 * Issue 7's known month, end to end: a project's month of usage made through the control
 * plane's REST APIs on a ManualClock (three flavors, RHEL and Windows images, a stop and a
 * start, a resize mid-month, a volume of a type extended then deleted, a floating IP held
 * and never attached), hashmap prices set through CloudKitty's API with one price changing
 * mid-month, every hour of the month rated with rateNow (hourly periods, the default), and the statement's every line and
 * total checked against figures worked out below by hand with decimal arithmetic.
 *
 * The month is the calendar month before the wall clock's: the events table's retention
 * (90 days) is enforced by ClickHouse's TTL on wall-clock time, and the floating IP is rated
 * from its events. Every resource but the floating IP is gone before the 28th, so the
 * figures do not depend on the month's length; the floating IP's hours are computed from it.
 */

const HOUR = 3_600_000;
/** Hourly periods, the default: read a day at a time (pipeline/rating/span.ts). */
const HOUR_SECONDS = 3_600;
const MIN = 60_000;
const Exact = Decimal.clone({ precision: 40 });
const SUFFIX = Date.now().toString(36);
const now = new Date();
/** The previous calendar month (UTC). */
const M0 = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1);
const M1 = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
const MONTH = new Date(M0).toISOString().slice(0, 7);
const MONTH_HOURS = (M1 - M0) / HOUR;
/** Day `day` (1-based) of the month at `hour`:00 UTC, as ms. */
const at = (day: number, hour: number) => M0 + ((day - 1) * 24 + hour) * HOUR;
/** As statements write instants: ISO 8601, whole seconds. */
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

const SMALL = `mo-small-${SUFFIX}`;
const MEDIUM = `mo-medium-${SUFFIX}`;
const LARGE = `mo-large-${SUFFIX}`;
const VOLUME_TYPE = `mo-ssd-${SUFFIX}`;

type Json = Record<string, unknown>;

interface StatementLine {
  project_id: string;
  service: string;
  resource_id: string;
  resource_type: string;
  display_name: string | null;
  quantity: string;
  unit: string;
  unit_price: string;
  amount: string;
  exact_amount: string;
  from: string;
  to: string;
}
interface StatementBody {
  scope: { type: string; id: string };
  period: { month: string; start: string; end: string };
  currency: string;
  total: string;
  services: Array<{ service: string; total: string; lines: StatementLine[] }>;
}

describe('a known month, rated and stated', { timeout: 600_000 }, () => {
  const clock = new ManualClock(M0 - 2 * HOUR);
  let t: ApiTenants;
  let admin: Session;
  let member: Session;
  let project = '';
  const user = `mona-${SUFFIX}`;
  const ids: Record<string, string> = {};
  const hashmap = '/rating/v1/rating/module_config/hashmap';

  /** Tokens expire on the platform's clock: every step logs in again at its instant. */
  const step = async (ms: number) => {
    clock.set(ms);
    admin = await login(t.url, 'admin', t.platform.adminPassword, 'admin');
    member = await login(t.url, user, `${user}-password-1`, `month-${SUFFIX}`);
  };
  const send = async (who: Session, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${t.url}${path}`, { method, headers: { 'x-auth-token': who.token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    return { status: res.status, text, body: (text === '' || !text.startsWith('{') ? null : JSON.parse(text)) as Json };
  };
  const ok = async (who: Session, method: string, path: string, body?: unknown) => {
    const res = await send(who, method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
    return res.body;
  };
  const serverStatus = async (id: string) => {
    const res = await send(member, 'GET', `/compute/v2.1/servers/${id}`);
    return res.status === 404 ? 'GONE' : ((res.body.server as Json).status as string);
  };
  /** Waits for the control plane's background work (its notifications carry the clock's instant) and the pipeline. */
  const until = async (id: string, status: string) => {
    await eventually(async () => ((await serverStatus(id)) === status ? true : undefined), `${id} ${status}`);
    await t.platform.drain();
  };
  const volumePath = (id = '') => `/volume/v3/${project}/volumes${id === '' ? '' : `/${id}`}`;
  const volumeState = async (id: string) => {
    const res = await send(member, 'GET', volumePath(id));
    return res.status === 404 ? 'GONE' : `${(res.body.volume as Json).status as string}:${(res.body.volume as Json).size as number}`;
  };
  const volumeUntil = async (id: string, state: string) => {
    await eventually(async () => ((await volumeState(id)) === state ? true : undefined), `volume ${state}`);
    await t.platform.drain();
  };
  const createServer = async (name: string, flavor: string, image: string) => {
    const server = (await ok(member, 'POST', '/compute/v2.1/servers', { server: { name, flavorRef: flavor, imageRef: image, networks: 'auto' } })).server as Json;
    await until(server.id as string, 'ACTIVE');
    return server.id as string;
  };
  const deleteServer = async (id: string) => {
    expect((await send(member, 'DELETE', `/compute/v2.1/servers/${id}`)).status).toBe(204);
    await until(id, 'GONE');
  };
  const action = async (id: string, body: unknown, status: string) => {
    expect((await send(member, 'POST', `/compute/v2.1/servers/${id}/action`, body)).status).toBe(202);
    await until(id, status);
  };

  beforeAll(async () => {
    t = await startApiTenants({}, { clock, rating: { periodSeconds: HOUR_SECONDS } });
    project = (await createProjectMember(t.url, t.admin, `month-${SUFFIX}`, user)).projectId;
    await step(M0 - 2 * HOUR);

    // Before the month: flavors, images, a volume type (admin), and the prices.
    const flavor = async (name: string, vcpus: number, ram: number) => ((await ok(admin, 'POST', '/compute/v2.1/flavors', { flavor: { name, vcpus, ram, disk: 10 } })).flavor as Json).id as string;
    ids.small = await flavor(SMALL, 1, 2048);
    ids.medium = await flavor(MEDIUM, 2, 4096);
    ids.large = await flavor(LARGE, 4, 8192);
    const image = async (name: string, os_distro: string) => (await ok(admin, 'POST', '/image/v2/images', { name, disk_format: 'qcow2', container_format: 'bare', visibility: 'public', os_distro })).id as string;
    ids.rhel = await image(`mo-rhel-${SUFFIX}`, 'rhel');
    ids.windows = await image(`mo-windows-${SUFFIX}`, 'windows');
    ids.ssd = ((await ok(admin, 'POST', `/volume/v3/${admin.projectId}/types`, { volume_type: { name: VOLUME_TYPE } })).volume_type as Json).id as string;

    // Prices: per flavor (the default group), an operating-system surcharge in its own group
    // (a group's flat is its most expensive match, so surcharges add up only across groups),
    // per GiB-hour of an ssd volume, per floating-IP hour. The large flavor goes from 0.20 to
    // 0.25 on the 15th at 00:00: the old rule ends there and the new one starts.
    const instance = (await ok(admin, 'POST', `${hashmap}/services`, { name: 'instance' })).service_id as string;
    const flavorField = (await ok(admin, 'POST', `${hashmap}/fields`, { service_id: instance, name: 'flavor_name' })).field_id as string;
    await ok(admin, 'POST', `${hashmap}/mappings`, { field_id: flavorField, value: SMALL, cost: '0.05', type: 'flat' });
    await ok(admin, 'POST', `${hashmap}/mappings`, { field_id: flavorField, value: MEDIUM, cost: '0.10', type: 'flat' });
    const oldLarge = (await ok(admin, 'POST', `${hashmap}/mappings`, { field_id: flavorField, value: LARGE, cost: '0.20', type: 'flat' })).mapping_id as string;
    const os = (await ok(admin, 'POST', `${hashmap}/groups`, { name: `os-${SUFFIX}` })).group_id as string;
    // By the image's os_distro property, which Nova copies at boot and sends as image_meta.
    const distroField = (await ok(admin, 'POST', `${hashmap}/fields`, { service_id: instance, name: 'os_distro' })).field_id as string;
    await ok(admin, 'POST', `${hashmap}/mappings`, { field_id: distroField, value: 'rhel', cost: '0.02', type: 'flat', group_id: os });
    await ok(admin, 'POST', `${hashmap}/mappings`, { field_id: distroField, value: 'windows', cost: '0.04', type: 'flat', group_id: os });
    const volume = (await ok(admin, 'POST', `${hashmap}/services`, { name: 'volume.size' })).service_id as string;
    const typeField = (await ok(admin, 'POST', `${hashmap}/fields`, { service_id: volume, name: 'volume_type' })).field_id as string;
    // Cinder's notifications (and so the volume resource) carry the type's id, as in OpenStack.
    await ok(admin, 'POST', `${hashmap}/mappings`, { field_id: typeField, value: ids.ssd, cost: '0.0003', type: 'flat' });
    const fip = (await ok(admin, 'POST', `${hashmap}/services`, { name: 'ip.floating' })).service_id as string;
    await ok(admin, 'POST', `${hashmap}/mappings`, { service_id: fip, cost: '0.005', type: 'flat' });
    await ok(admin, 'PUT', `${hashmap}/mappings/${oldLarge}`, { end: new Date(at(15, 0)).toISOString() });
    await ok(admin, 'POST', `${hashmap}/mappings`, { field_id: flavorField, value: LARGE, cost: '0.25', type: 'flat', start: new Date(at(15, 0)).toISOString() });

    // The month, in order.
    await step(at(1, 9));
    ids.a = await createServer('mo-a', ids.small, ids.rhel);
    await step(at(2, 0));
    ids.b = await createServer('mo-b', ids.large, ids.windows);
    await step(at(2, 12));
    ids.volume = ((await ok(member, 'POST', volumePath(), { volume: { size: 20, name: 'mo-data', volume_type: VOLUME_TYPE } })).volume as Json).id as string;
    await volumeUntil(ids.volume, 'available:20');
    await step(at(3, 6));
    ids.c = await createServer('mo-c', ids.small, ids.rhel);
    await step(at(4, 8));
    const publicNet = ((await ok(member, 'GET', '/network/v2.0/networks?name=public')).networks as Json[])[0] as Json;
    ids.fip = ((await ok(member, 'POST', '/network/v2.0/floatingips', { floatingip: { floating_network_id: publicNet.id } })).floatingip as Json).id as string;
    await t.platform.drain();
    await step(at(5, 10));
    await action(ids.a, { 'os-stop': null }, 'SHUTOFF');
    await step(at(6, 10));
    await action(ids.a, { 'os-start': null }, 'ACTIVE');
    // The resize: Nova switches the flavor at finish_resize (the 8th, 12:00); the confirmation an hour later changes nothing.
    await step(at(8, 12));
    await action(ids.c, { resize: { flavorRef: ids.medium } }, 'VERIFY_RESIZE');
    await step(at(8, 13));
    await action(ids.c, { confirmResize: null }, 'ACTIVE');
    await step(at(10, 0));
    expect((await send(member, 'POST', `${volumePath(ids.volume)}/action`, { 'os-extend': { new_size: 50 } })).status).toBe(202);
    await volumeUntil(ids.volume, 'available:50');
    await step(at(13, 19));
    await deleteServer(ids.a);
    await step(at(20, 12));
    await deleteServer(ids.b);
    await step(at(22, 0));
    expect((await send(member, 'DELETE', volumePath(ids.volume))).status).toBe(202);
    await volumeUntil(ids.volume, 'GONE');
    await step(at(25, 0));
    await deleteServer(ids.c);

    // Seven hours after the month: it has settled and closed; every hour of it is rated.
    await step(M1 + 7 * HOUR);
    const run = await t.platform.rateNow(new Date(M1));
    // Every hour from the first usage (mo-a, the 1st at 09:00) to the month's end, once.
    expect([run.periods, run.until]).toEqual([MONTH_HOURS - 9, new Date(M1)]);
    expect((await t.platform.rateNow(new Date(M1))).periods).toBe(0);
  }, 600_000);
  afterAll(async () => t?.stop());

  /**
   * By hand. Instances (flavor + image surcharge per hour; a line per resource and unit price):
   * - mo-a, small + RHEL, 0.05 + 0.02 = 0.07/h, the 1st 09:00 to the 13th 19:00 (stopped a day
   *   between, still allocated): 12 d x 24 + 10 h = 298 h -> 298 x 0.07 = 20.86
   * - mo-b, large + Windows, the 2nd 00:00 to the 20th 12:00; large is 0.20 until the 15th, 0.25 after:
   *   to the 15th 00:00: 13 d x 24 = 312 h x (0.20 + 0.04) = 312 x 0.24 = 74.88
   *   from the 15th: 5 d x 24 + 12 = 132 h x (0.25 + 0.04) = 132 x 0.29 = 38.28
   * - mo-c, RHEL, the 3rd 06:00 small, resized to medium the 8th 12:00, deleted the 25th 00:00:
   *   small: 5 d x 24 + 6 = 126 h x (0.05 + 0.02) = 126 x 0.07 = 8.82
   *   medium: 16 d x 24 + 12 = 396 h x (0.10 + 0.02) = 396 x 0.12 = 47.52
   * Volume mo-data (ssd 0.0003 per GiB-hour): 20 GiB from the 2nd 12:00 to the 10th 00:00
   *   (7 d x 24 + 12 = 180 h), 50 GiB to the 22nd 00:00 (12 d x 24 = 288 h):
   *   20 x 180 + 50 x 288 = 3600 + 14400 = 18000 GiB-h x 0.0003 = 5.40
   * Floating IP, allocated the 4th 08:00, never attached, held past the month's end:
   *   MONTH_HOURS - (3 d x 24 + 8) h x 0.005.
   */
  // A line runs from its first frame's start to its last frame's end: with hourly periods,
  // the hours when each resource came and went (each change here falls on a whole hour).
  const D = (n: Decimal.Value) => new Exact(n);
  const id = (key: string) => ids[key] as string;
  const fipHours = D(MONTH_HOURS).minus(3 * 24 + 8);
  const expected = () => [
    { service: 'instance', resource_id: id('a'), quantity: D(298), unit: 'instance-hour', unit_price: D('0.07'), from: at(1, 9), to: at(13, 19) },
    { service: 'instance', resource_id: id('b'), quantity: D(312), unit: 'instance-hour', unit_price: D('0.24'), from: at(2, 0), to: at(15, 0) },
    { service: 'instance', resource_id: id('b'), quantity: D(132), unit: 'instance-hour', unit_price: D('0.29'), from: at(15, 0), to: at(20, 12) },
    { service: 'instance', resource_id: id('c'), quantity: D(126), unit: 'instance-hour', unit_price: D('0.07'), from: at(3, 6), to: at(8, 12) },
    { service: 'instance', resource_id: id('c'), quantity: D(396), unit: 'instance-hour', unit_price: D('0.12'), from: at(8, 12), to: at(25, 0) },
    { service: 'ip.floating', resource_id: id('fip'), quantity: fipHours, unit: 'ip-hour', unit_price: D('0.005'), from: at(4, 8), to: M1 },
    { service: 'volume.size', resource_id: id('volume'), quantity: D(18000), unit: 'GiB-hour', unit_price: D('0.0003'), from: at(2, 12), to: at(22, 0) },
  ];
  const amounts = { a: '20.86', b1: '74.88', b2: '38.28', c1: '8.82', c2: '47.52', volume: '5.40' };

  const statement = async () => {
    const res = await send(member, 'GET', `/rating/v1/statements?project_id=${project}&month=${MONTH}&format=json`);
    expect(res.status, res.text).toBe(200);
    return res.body as unknown as StatementBody;
  };
  const order = (x: { service: string; resource_id: string; from: string }, y: typeof x) => (`${x.service} ${x.resource_id} ${x.from}` < `${y.service} ${y.resource_id} ${y.from}` ? -1 : 1);

  it('states every line and total as worked out by hand', async () => {
    const body = await statement();
    expect([body.scope.id, body.period.month, body.currency]).toEqual([project, MONTH, 'EUR']);
    const lines = body.services.flatMap((s) => s.lines).sort(order);
    const want = expected().map((e) => ({ ...e, from: iso(e.from), to: iso(e.to) })).sort(order);
    // The floating IP: its hours times 0.005, rounded half-up to the cent.
    const fipAmount = fipHours.times('0.005').toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);
    const amountOf: Record<string, string> = {
      [`${ids.a}|0.07`]: amounts.a,
      [`${ids.b}|0.24`]: amounts.b1,
      [`${ids.b}|0.29`]: amounts.b2,
      [`${ids.c}|0.07`]: amounts.c1,
      [`${ids.c}|0.12`]: amounts.c2,
      [`${ids.fip}|0.005`]: fipAmount,
      [`${ids.volume}|0.0003`]: amounts.volume,
    };
    expect(lines.map((l) => [l.service, l.resource_id, l.unit, l.from, l.to])).toEqual(want.map((w) => [w.service, w.resource_id, w.unit, w.from, w.to]));
    lines.forEach((line, i) => {
      const w = want[i]!;
      const label = `${line.service} ${line.resource_id} ${line.from}`;
      expect(D(line.quantity).eq(w.quantity), `${label} quantity ${line.quantity} = ${w.quantity.toString()}`).toBe(true);
      expect(D(line.unit_price).eq(w.unit_price), `${label} unit price ${line.unit_price} = ${w.unit_price.toString()}`).toBe(true);
      expect(D(line.exact_amount).eq(w.quantity.times(w.unit_price)), `${label} exact amount`).toBe(true);
      expect(line.amount, label).toBe(amountOf[`${w.resource_id}|${w.unit_price.toString()}`]);
      expect(line.project_id).toBe(project);
    });
    expect(lines.filter((l) => l.service === 'instance').map((l) => [l.resource_id, l.display_name])).toEqual(
      [ids.a, ids.b, ids.b, ids.c, ids.c].map((id) => [id, { [ids.a!]: 'mo-a', [ids.b!]: 'mo-b', [ids.c!]: 'mo-c' }[id!]]).sort((x, y) => ((x[0] as string) < (y[0] as string) ? -1 : 1)),
    );

    // Totals: each service's is the sum of its rounded lines; the statement's the sum of those.
    // instance: 20.86 + 74.88 + 38.28 + 8.82 + 47.52 = 190.36
    const instanceTotal = D('20.86').plus('74.88').plus('38.28').plus('8.82').plus('47.52');
    expect(instanceTotal.toFixed(2)).toBe('190.36');
    const totals = Object.fromEntries(body.services.map((s) => [s.service, s.total]));
    expect(totals).toEqual({ instance: '190.36', 'ip.floating': fipAmount, 'volume.size': '5.40' });
    expect(body.total).toBe(instanceTotal.plus(fipAmount).plus('5.40').toFixed(2));
  });

  it('answers the same lines and totals as CSV', async () => {
    const body = await statement();
    const res = await send(member, 'GET', `/rating/v1/statements?project_id=${project}&month=${MONTH}&format=csv`);
    expect(res.status).toBe(200);
    const [header, ...records] = parseCsv(res.text);
    const col = (name: string) => (header ?? []).indexOf(name);
    const pick = (r: string[]) => ({ service: r[col('service')]!, resource_id: r[col('resource_id')]!, quantity: r[col('quantity')]!, unit_price: r[col('unit_price')]!, amount: r[col('amount')]!, from: r[col('from')]!, to: r[col('to')]! });
    const csvLines = records.filter((r) => r[col('record')] === 'line').map(pick).sort(order);
    const jsonLines = body.services.flatMap((s) => s.lines).map((l) => ({ service: l.service, resource_id: l.resource_id, quantity: l.quantity, unit_price: l.unit_price, amount: l.amount, from: l.from, to: l.to })).sort(order);
    expect(csvLines).toEqual(jsonLines);
    expect(csvLines).toHaveLength(7);
    expect(records.filter((r) => r[col('record')] === 'service_total').map((r) => [r[col('service')], r[col('amount')]])).toEqual(body.services.map((s) => [s.service, s.total]));
    expect(records.filter((r) => r[col('record')] === 'total').map((r) => r[col('amount')])).toEqual([body.total]);
  });

  it('reads a day of hourly periods at once exactly as hour by hour', async () => {
    // The processor shares one set of queries across a day's periods (pipeline/rating/span.ts);
    // each hour's share must be what that hour's own queries return, on the days with the
    // most going on: a creation, the floating IP, the resize, a deletion.
    const services = loadServiceDefinitions();
    for (const day of [1, 4, 8, 13]) {
      const hours = Array.from({ length: 24 }, (_, h) => ({ start: new Date(at(day, h)), end: new Date(at(day, h + 1)) }));
      const together = await collectUsageForPeriods(t.platform.store, services, hours, null);
      const alone = [];
      for (const hour of hours) alone.push(await collectUsage(t.platform.store, services, hour, null));
      expect(together).toEqual(alone);
      expect(alone.flat().length).toBeGreaterThan(0);
    }
  });
});
