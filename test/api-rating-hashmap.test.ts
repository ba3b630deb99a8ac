import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Money } from '../storage/index.ts';
import { startApiTenants, type ApiTenants, type Caller } from './support/api-tenants.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

const HASHMAP = '/rating/v1/rating/module_config/hashmap';
const UNKNOWN = 'd28490b2-fb3c-11e5-988b-eb9539c935dc';
/** A quote as shown: 2 places, half-up (money.ts), from the exact sum, computed here independently. */
const shown = (value: InstanceType<typeof Money>) => value.toDecimalPlaces(2, Money.ROUND_HALF_UP).toFixed(2);

describe('CloudKitty v1 hashmap API and quotes', { timeout: 120_000 }, () => {
  let t: ApiTenants;
  beforeAll(async () => {
    t = await startApiTenants();
  }, 60_000);
  afterAll(async () => t?.stop());

  const call = async (who: Caller, method: string, path: string, body?: unknown) => {
    const res = await who.request(method, path, body);
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: (text === '' ? null : JSON.parse(text)) as Json };
  };
  const ok = async (who: Caller, method: string, path: string, body?: unknown, status = 200) => {
    const res = await call(who, method, path, body);
    expect(res.status, `${method} ${path}: ${res.text}`).toBe(status);
    return res.body;
  };
  /** WSME's fault, as the client reads it: error_message.faultstring. */
  const fault = (status: number, message: RegExp) => expect.objectContaining({ status, body: { error_message: { faultcode: status < 500 ? 'Client' : 'Server', faultstring: expect.stringMatching(message), debuginfo: null } } });

  it("keeps rules and modules to admins (CloudKitty's rating:module_config) and lets any project quote", async () => {
    const service = await ok(t.admin, 'POST', `${HASHMAP}/services`, { name: 'rbac.service' }, 201);
    for (const who of [t.alpha, t.beta]) {
      expect(await call(who, 'GET', '/rating/v1/rating/modules')).toEqual(fault(403, /rating:list_modules/));
      expect(await call(who, 'GET', '/rating/v1/rating/modules/hashmap')).toEqual(fault(403, /rating:get_module/));
      expect(await call(who, 'PUT', '/rating/v1/rating/modules/hashmap', { enabled: false })).toEqual(fault(403, /rating:update_module/));
      expect(await call(who, 'GET', `${HASHMAP}/services`)).toEqual(fault(403, /rating:module_config/));
      expect(await call(who, 'GET', `${HASHMAP}/services/${service.service_id}`)).toEqual(fault(403, /rating:module_config/));
      // Refused before the body is read: a bad body still answers 403.
      expect(await call(who, 'POST', `${HASHMAP}/services`, { nom: 'x' })).toEqual(fault(403, /rating:module_config/));
      expect(await call(who, 'POST', `${HASHMAP}/mappings`, { service_id: service.service_id, cost: '0' })).toEqual(fault(403, /rating:module_config/));
      expect(await call(who, 'GET', `${HASHMAP}/mappings?tenant_id=${who.projectId}&filter_tenant=true`)).toEqual(fault(403, /rating:module_config/));
      expect(await call(who, 'DELETE', `${HASHMAP}/services/${service.service_id}`)).toEqual(fault(403, /rating:module_config/));
      expect((await call(who, 'POST', '/rating/v1/rating/quote', { resources: [{ service: 'rbac.service', volume: '1', desc: {} }] })).status).toBe(200);
    }
    expect(await ok(t.admin, 'GET', `${HASHMAP}/services/${service.service_id}`)).toEqual(service);
    expect((await call(t.alpha, 'GET', `${HASHMAP}/types`)).status).toBe(403);
    expect(await ok(t.admin, 'GET', `${HASHMAP}/types`)).toEqual(['flat', 'rate']);
    const noToken = await fetch(`${t.url}${HASHMAP}/services`);
    expect(noToken.status).toBe(401);
    // Every route is in the OpenAPI document, under the rating tag.
    const doc = (await (await fetch(`${t.url}/docs/json`)).json()) as { paths: Record<string, Record<string, { tags?: string[] }>> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/rating/v1/rating/quote', '/rating/v1/rating/modules/{module_id}', `${HASHMAP}/mappings/{mapping_id}`, `${HASHMAP}/groups/{group_id}/thresholds`]));
    expect(doc.paths[`${HASHMAP}/mappings`]?.post?.tags).toEqual(['rating']);
  });

  it('creates, shows, lists and deletes services, fields and groups the way the client calls them (trailing slashes, ids in DELETE bodies)', async () => {
    const created = await call(t.admin, 'POST', `${HASHMAP}/services/`, { name: 'volume.size' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ service_id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-/), name: 'volume.size' });
    expect(created.headers.get('location')).toBe(`${t.url}${HASHMAP}/services/${created.body.service_id}`);
    const svc = created.body;
    expect((await ok(t.admin, 'GET', `${HASHMAP}/services/`)).services).toEqual(expect.arrayContaining([svc]));
    expect(await call(t.admin, 'POST', `${HASHMAP}/services`, { name: 'volume.size' })).toEqual(fault(409, new RegExp(`^Service volume.size already exists \\(UUID: ${svc.service_id}\\)`)));

    const field = await ok(t.admin, 'POST', `${HASHMAP}/fields/`, { service_id: svc.service_id, name: 'volume_type' }, 201);
    expect(field).toEqual({ field_id: expect.any(String), name: 'volume_type', service_id: svc.service_id });
    expect(await ok(t.admin, 'GET', `${HASHMAP}/fields/?service_id=${svc.service_id}`)).toEqual({ fields: [field] });
    expect(await ok(t.admin, 'GET', `${HASHMAP}/fields/${field.field_id}`)).toEqual(field);
    expect(await ok(t.admin, 'GET', `${HASHMAP}/fields?service_id=${UNKNOWN}`)).toEqual({ fields: [] });
    expect(await call(t.admin, 'POST', `${HASHMAP}/fields`, { service_id: svc.service_id, name: 'volume_type' })).toEqual(fault(409, /^Field volume_type already exists/));
    expect(await call(t.admin, 'POST', `${HASHMAP}/fields`, { service_id: UNKNOWN, name: 'x' })).toEqual(fault(400, /^No such service: None \(UUID: d28490b2-fb3c-11e5-988b-eb9539c935dc\)/));

    const group = await ok(t.admin, 'POST', `${HASHMAP}/groups/`, { name: 'volume_thresholds' }, 201);
    expect((await ok(t.admin, 'GET', `${HASHMAP}/groups/`)).groups).toEqual(expect.arrayContaining([group]));
    expect(await ok(t.admin, 'GET', `${HASHMAP}/groups/${group.group_id}`)).toEqual(group);

    // python-cloudkittyclient deletes through the collection with the id in the body.
    const spare = await ok(t.admin, 'POST', `${HASHMAP}/fields`, { service_id: svc.service_id, name: 'spare' }, 201);
    expect((await call(t.admin, 'DELETE', `${HASHMAP}/fields/`, { field_id: spare.field_id })).status).toBe(204);
    expect(await call(t.admin, 'GET', `${HASHMAP}/fields/${spare.field_id}`)).toEqual(fault(404, new RegExp(`^No such field: ${spare.field_id}$`)));
    const other = await ok(t.admin, 'POST', `${HASHMAP}/services`, { name: 'to.delete' }, 201);
    expect((await call(t.admin, 'DELETE', `${HASHMAP}/services/`, { service_id: other.service_id })).status).toBe(204);
    expect(await call(t.admin, 'DELETE', `${HASHMAP}/services/${other.service_id}`)).toEqual(fault(404, /^No such service: None/));
    expect(await call(t.admin, 'GET', `${HASHMAP}/groups/${UNKNOWN}`)).toEqual(fault(404, /^No such group: None \(UUID: d28490b2/));
  });

  it('creates flat and rate mappings and thresholds with exact decimals, updates them (PUT answers the rule), filters them, and deletes groups', async () => {
    const svc = await ok(t.admin, 'POST', `${HASHMAP}/services`, { name: 'instance' }, 201);
    const flavor = await ok(t.admin, 'POST', `${HASHMAP}/fields`, { service_id: svc.service_id, name: 'flavor_name' }, 201);
    const group = await ok(t.admin, 'POST', `${HASHMAP}/groups`, { name: 'instance_uptime' }, 201);
    // What the client sends: every key, nulls for the unused ones; a CLI cost is a JSON number.
    const tiny = await call(t.admin, 'POST', `${HASHMAP}/mappings/`, { cost: 0.01, value: 'm1.tiny', service_id: null, group_id: group.group_id, field_id: flavor.field_id, tenant_id: null, type: 'flat' });
    expect(tiny.status).toBe(201);
    expect(tiny.headers.get('location')).toBe(`${t.url}${HASHMAP}/mappings/${tiny.body.mapping_id}`);
    expect(tiny.body).toMatchObject({ value: 'm1.tiny', cost: '0.0100000000000000000000000000', type: 'flat', field_id: flavor.field_id, service_id: null, group_id: group.group_id, tenant_id: null, start: null, end: null, created_by: t.admin.userId, deleted: null });
    const rate = await ok(t.admin, 'POST', `${HASHMAP}/mappings`, { cost: '1.2', value: 'windows', field_id: flavor.field_id, type: 'rate', group_id: group.group_id, description: 'Windows 20% uplift' }, 201);
    expect(rate).toMatchObject({ cost: '1.2000000000000000000000000000', type: 'rate' });
    const svcMapping = await ok(t.admin, 'POST', `${HASHMAP}/mappings`, { cost: '0.1000000000000000000000000001', service_id: svc.service_id, tenant_id: t.alpha.projectId }, 201);
    expect(svcMapping.cost).toBe('0.1000000000000000000000000001');
    expect(await ok(t.admin, 'GET', `${HASHMAP}/mappings/${tiny.body.mapping_id}`)).toEqual(tiny.body);

    // The client's update: GET, change, PUT the whole object to the collection.
    const put = await call(t.admin, 'PUT', `${HASHMAP}/mappings/`, { ...tiny.body, cost: '0.02' });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ ...tiny.body, cost: '0.0200000000000000000000000000', updated_by: t.admin.userId });
    expect(put.headers.get('location')).toBe(`${t.url}${HASHMAP}/mappings/${tiny.body.mapping_id}`);
    expect(await ok(t.admin, 'PUT', `${HASHMAP}/mappings/${tiny.body.mapping_id}`, { end: '2026-12-31' })).toMatchObject({ end: '2027-01-01T00:00:00', cost: '0.0200000000000000000000000000' });
    expect(await call(t.admin, 'PUT', `${HASHMAP}/mappings/42`, { service_id: 'cf1e7d1e-fcc4-11e5-9c93-b7775ce62e3c', type: 'flat', cost: '0.10000000' })).toEqual(fault(404, /^No such mapping: 42$/));
    // Same key, overlapping period: 409 naming the rule in force; the next year is free.
    expect(await call(t.admin, 'POST', `${HASHMAP}/mappings`, { cost: '0.03', value: 'm1.tiny', field_id: flavor.field_id, group_id: group.group_id, start: '2026-06-01' })).toEqual(
      fault(409, new RegExp(`^Mapping 'm1.tiny' already exists for field '${flavor.field_id}', tenant: 'None' \\(group '${group.group_id}'\\): mapping ${tiny.body.mapping_id} is in force from the beginning to 2027-01-01T00:00:00`)),
    );
    const nextYear = await ok(t.admin, 'POST', `${HASHMAP}/mappings?force=true`, { cost: '0.03', value: 'm1.tiny', field_id: flavor.field_id, group_id: group.group_id, start: '2027-01-01' }, 201);
    expect(nextYear.start).toBe('2027-01-01T00:00:00');

    const th = await ok(t.admin, 'POST', `${HASHMAP}/thresholds`, { service_id: svc.service_id, level: 2, type: 'flat', cost: '0.2', tenant_id: '24a7fdae-27ff-11e6-8c4f-6b725a05bf50' }, 201);
    expect(th).toEqual({ threshold_id: expect.any(String), level: '2.00000000', start: null, end: null, cost: '0.2000000000000000000000000000', type: 'flat', field_id: null, service_id: svc.service_id, group_id: null, tenant_id: '24a7fdae-27ff-11e6-8c4f-6b725a05bf50' });
    expect(await ok(t.admin, 'PUT', `${HASHMAP}/thresholds/`, { ...th, level: '3' })).toMatchObject({ threshold_id: th.threshold_id, level: '3.00000000' });
    const grouped = await ok(t.admin, 'POST', `${HASHMAP}/thresholds`, { field_id: flavor.field_id, level: '0', cost: '0.5', type: 'rate', group_id: group.group_id }, 201);

    // CloudKitty's filters (gabbi hash.yaml): tenant only with filter_tenant; True as Python's urlencode writes it.
    const ids = (list: Json[]) => list.map((x) => x.mapping_id ?? x.threshold_id);
    expect(ids((await ok(t.admin, 'GET', `${HASHMAP}/mappings?service_id=${svc.service_id}`)).mappings)).toEqual([svcMapping.mapping_id]);
    expect(ids((await ok(t.admin, 'GET', `${HASHMAP}/mappings/?field_id=${flavor.field_id}`)).mappings)).toEqual([tiny.body.mapping_id, rate.mapping_id, nextYear.mapping_id]);
    expect(ids((await ok(t.admin, 'GET', `${HASHMAP}/mappings?service_id=${svc.service_id}&filter_tenant=True`)).mappings)).toEqual([]);
    expect(ids((await ok(t.admin, 'GET', `${HASHMAP}/mappings?service_id=${svc.service_id}&tenant_id=${t.alpha.projectId}&filter_tenant=true`)).mappings)).toEqual([svcMapping.mapping_id]);
    expect(ids((await ok(t.admin, 'GET', `${HASHMAP}/mappings?field_id=${flavor.field_id}&is_active=2027-02-01T00:00:00Z`)).mappings)).toEqual([rate.mapping_id, nextYear.mapping_id]);
    expect(ids((await ok(t.admin, 'GET', `${HASHMAP}/mappings?description=20%25`)).mappings)).toEqual([rate.mapping_id]);
    expect(ids((await ok(t.admin, 'GET', `${HASHMAP}/thresholds?service_id=${svc.service_id}&filter_tenant=true`)).thresholds)).toEqual([]);
    expect(ids((await ok(t.admin, 'GET', `${HASHMAP}/thresholds?service_id=${svc.service_id}&tenant_id=24a7fdae-27ff-11e6-8c4f-6b725a05bf50&filter_tenant=true`)).thresholds)).toEqual([th.threshold_id]);
    // A group's rules, both ways the client and CloudKitty address them.
    expect(ids((await ok(t.admin, 'GET', `${HASHMAP}/groups/mappings?group_id=${group.group_id}`)).mappings)).toEqual([tiny.body.mapping_id, rate.mapping_id, nextYear.mapping_id]);
    expect(ids((await ok(t.admin, 'GET', `${HASHMAP}/groups/${group.group_id}/thresholds`)).thresholds)).toEqual([grouped.threshold_id]);
    expect(await ok(t.admin, 'GET', `${HASHMAP}/mappings/group?mapping_id=${rate.mapping_id}`)).toEqual(group);
    expect(await ok(t.admin, 'GET', `${HASHMAP}/thresholds/${grouped.threshold_id}/group`)).toEqual(group);
    expect(await call(t.admin, 'GET', `${HASHMAP}/mappings/${svcMapping.mapping_id}/group`)).toEqual(fault(404, /^Mapping has no group/));

    // Deleting the group without recursive leaves its rules, with no group; recursive deletes them.
    expect((await call(t.admin, 'DELETE', `${HASHMAP}/groups/`, { group_id: group.group_id, recursive: false })).status).toBe(204);
    expect((await ok(t.admin, 'GET', `${HASHMAP}/mappings/${rate.mapping_id}`)).group_id).toBeNull();
    const g2 = await ok(t.admin, 'POST', `${HASHMAP}/groups`, { name: 'doomed' }, 201);
    const doomed = await ok(t.admin, 'POST', `${HASHMAP}/mappings`, { cost: '5', value: 'm1.huge', field_id: flavor.field_id, group_id: g2.group_id }, 201);
    expect((await call(t.admin, 'DELETE', `${HASHMAP}/groups/${g2.group_id}?recursive=true`)).status).toBe(204);
    expect(await call(t.admin, 'GET', `${HASHMAP}/mappings/${doomed.mapping_id}`)).toEqual(fault(404, /No such mapping/));
    expect((await call(t.admin, 'DELETE', `${HASHMAP}/mappings/`, { mapping_id: rate.mapping_id })).status).toBe(204);
    expect((await call(t.admin, 'DELETE', `${HASHMAP}/thresholds/${th.threshold_id}`)).status).toBe(204);
    expect(await call(t.admin, 'DELETE', `${HASHMAP}/thresholds/${th.threshold_id}`)).toEqual(fault(404, /^No such threshold/));
  });

  it('answers 400 naming the field or parameter for bad input, and treats injection strings as data', async () => {
    const svc = await ok(t.admin, 'POST', `${HASHMAP}/services`, { name: "name'); DROP TABLE hashmap_services; --" }, 201);
    expect((await ok(t.admin, 'GET', `${HASHMAP}/services/${svc.service_id}`)).name).toBe("name'); DROP TABLE hashmap_services; --");
    const bad = async (method: string, path: string, body: unknown, message: RegExp) => expect(await call(t.admin, method, path, body)).toEqual(fault(400, message));
    await bad('POST', `${HASHMAP}/mappings`, { service_id: svc.service_id, type: 'fail', cost: '0.2' }, /body\.type must be one of/);
    await bad('POST', `${HASHMAP}/mappings`, { service_id: svc.service_id, cost: 'twelve' }, /field\/attribute cost/);
    await bad('POST', `${HASHMAP}/mappings`, { service_id: svc.service_id, cost: '-1' }, /cost.*>= 0/);
    await bad('POST', `${HASHMAP}/mappings`, { service_id: svc.service_id, cost: '1', colour: 'red' }, /body\.colour is not an accepted field/);
    await bad('POST', `${HASHMAP}/mappings`, { service_id: 'not-a-uuid', cost: '1' }, /service_id.*Invalid UUID/);
    await bad('POST', `${HASHMAP}/mappings`, { service_id: svc.service_id, cost: '1', start: 'tomorrow' }, /field\/attribute start/);
    await bad('POST', `${HASHMAP}/mappings`, { service_id: svc.service_id, cost: '1', start: '2026-05-02', end: '2026-05-01T00:00:00' }, /start after end/);
    await bad('POST', `${HASHMAP}/mappings`, { service_id: UNKNOWN, cost: '1' }, /^No such service: None \(UUID: d28490b2/);
    await bad('POST', `${HASHMAP}/mappings`, { service_id: svc.service_id, field_id: UNKNOWN, cost: '1' }, /^You can only specify one parent/);
    await bad('POST', `${HASHMAP}/thresholds`, { service_id: svc.service_id, type: 'flat', cost: '0.2' }, /field\/attribute level.*Mandatory field missing/);
    await bad('POST', `${HASHMAP}/services`, {}, /body is missing the required field "name"/);
    await bad('GET', `${HASHMAP}/mappings?service_id=1' OR '1'='1`, undefined, /querystring\.service_id must match format "uuid"/);
    await bad('GET', `${HASHMAP}/mappings?servce_id=${svc.service_id}`, undefined, /querystring has an unknown field "servce_id"/);
    await bad('GET', `${HASHMAP}/mappings?filter_tenant=maybe`, undefined, /filter_tenant.*invalid truth value/);
    await bad('GET', `${HASHMAP}/mappings?is_active=someday`, undefined, /querystring\.is_active must be true, false or an ISO 8601 date-time/);
    await bad('GET', `${HASHMAP}/thresholds?start=13/01/2026`, undefined, /querystring\.start/);
    await bad('PUT', '/rating/v1/rating/modules/hashmap', { priority: 'high' }, /body\.priority must be integer/);
    // Injection strings through the text filters are matched as text.
    expect((await ok(t.admin, 'GET', `${HASHMAP}/mappings?tenant_id=${encodeURIComponent("x' OR 1=1 --")}&filter_tenant=true`)).mappings).toEqual([]);
    expect((await ok(t.admin, 'GET', `${HASHMAP}/mappings?description=${encodeURIComponent("%' OR '1'='1")}`)).mappings).toEqual([]);
    expect((await ok(t.admin, 'GET', `${HASHMAP}/mappings?created_by=${encodeURIComponent('"; SELECT 1')}`)).mappings).toEqual([]);
    expect((await ok(t.admin, 'GET', `${HASHMAP}/services`)).services.map((s: Json) => s.service_id)).toContain(svc.service_id);
  });

  it('lists and updates the hashmap module (enabled, priority) as CloudKitty shows it', async () => {
    expect(await ok(t.admin, 'GET', '/rating/v1/rating/modules/')).toEqual({ modules: [{ module_id: 'hashmap', description: 'HashMap rating module.', enabled: true, 'hot-config': true, priority: 1 }] });
    const current = await ok(t.admin, 'GET', '/rating/v1/rating/modules/hashmap');
    // The client PUTs back what it read, with its change.
    const put = await call(t.admin, 'PUT', '/rating/v1/rating/modules/hashmap', { ...current, priority: 4 });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ ...current, priority: 4 });
    expect(await call(t.admin, 'GET', '/rating/v1/rating/modules/fakb')).toEqual(fault(404, /^Module not found/));
    expect((await call(t.admin, 'GET', '/rating/v1/rating/reload_modules')).status).toBe(204);
    await ok(t.admin, 'PUT', '/rating/v1/rating/modules/hashmap', { module_id: 'hashmap', priority: 1 });
  });

  it("quotes with the rules in force: CloudKitty's body, the caller's project prices, a month of hours across a price change, exact money", async () => {
    const svc = await ok(t.admin, 'POST', `${HASHMAP}/services`, { name: 'quote.instance' }, 201);
    const flavor = await ok(t.admin, 'POST', `${HASHMAP}/fields`, { service_id: svc.service_id, name: 'flavor_name' }, 201);
    const distro = await ok(t.admin, 'POST', `${HASHMAP}/fields`, { service_id: svc.service_id, name: 'os_distro' }, 201);
    const vol = await ok(t.admin, 'POST', `${HASHMAP}/services`, { name: 'quote.volume' }, 201);
    const group = await ok(t.admin, 'POST', `${HASHMAP}/groups`, { name: 'quote_volume' }, 201);
    // m1.small: 0.05/h until 2026-07-01T10:00Z, then 0.06/h; alpha's negotiated 0.04/h throughout.
    const change = '2026-07-01T10:00:00Z';
    const old = await ok(t.admin, 'POST', `${HASHMAP}/mappings`, { field_id: flavor.field_id, value: 'm1.small', cost: '0.05', end: change }, 201);
    await ok(t.admin, 'POST', `${HASHMAP}/mappings`, { field_id: flavor.field_id, value: 'm1.small', cost: '0.06', start: change }, 201);
    await ok(t.admin, 'POST', `${HASHMAP}/mappings`, { field_id: flavor.field_id, value: 'm1.small', cost: '0.04', tenant_id: t.alpha.projectId }, 201);
    // Windows adds 0.0333333333 per hour in its own group.
    await ok(t.admin, 'POST', `${HASHMAP}/mappings`, { field_id: distro.field_id, value: 'windows', cost: '0.0333333333', group_id: group.group_id }, 201);
    // Volumes: 0.0001 per GiB-hour, 10% off from 100 GiB.
    await ok(t.admin, 'POST', `${HASHMAP}/mappings`, { service_id: vol.service_id, cost: '0.0001', group_id: group.group_id }, 201);
    await ok(t.admin, 'POST', `${HASHMAP}/thresholds`, { service_id: vol.service_id, level: '100', cost: '0.9', type: 'rate', group_id: group.group_id }, 201);

    const resources = [
      { service: 'quote.instance', desc: { flavor_name: 'm1.small', os_distro: 'windows' }, volume: '1' },
      { service: 'quote.volume', desc: {}, volume: 150 },
      { service: 'not.rated', desc: { anything: 1 }, volume: '3' },
    ];
    const quote = async (who: Caller, body: Json) => {
      const res = await call(who, 'POST', '/rating/v1/rating/quote', body);
      expect(res.status, res.text).toBe(200);
      expect(res.headers.get('x-cumulus-currency')).toBe('EUR');
      return res.text;
    };
    // One hour (CloudKitty's default): beta at the general price before the change.
    const hourBefore = m('0.05').plus('0.0333333333').plus(m('0.0001').times(150).times('0.9'));
    expect(await quote(t.beta, { resources, start: '2026-07-01T08:00:00Z' })).toBe(shown(hourBefore));
    // A 30-day month from 08:00: 2 hours at 0.05, 718 at 0.06; each hour's cost kept to 9 places, then summed.
    const frame = (v: InstanceType<typeof Money>) => v.toDecimalPlaces(9, Money.ROUND_HALF_EVEN);
    const windows = frame(m('0.0333333333'));
    const volume = frame(m('0.0001').times(150).times('0.9'));
    const month = frame(m('0.05')).times(2).plus(frame(m('0.06')).times(718)).plus(windows.times(720)).plus(volume.times(720));
    const monthText = await quote(t.beta, { resources, hours: 720, start: '2026-07-01T08:00:00Z' });
    expect(monthText).toBe(shown(month));
    expect(JSON.parse(monthText)).toBe(Number(shown(month)));
    // alpha pays its own price for m1.small, whatever the general change.
    const alphaMonth = frame(m('0.04')).times(720).plus(windows.times(720)).plus(volume.times(720));
    expect(await quote(t.alpha, { resources, hours: 720, start: '2026-07-01T08:00:00Z' })).toBe(shown(alphaMonth));
    // A period boundary off the hour: the hour starting 09:30 is priced with the rule in force at 09:30.
    expect(await quote(t.beta, { resources: [resources[0]], hours: 2, start: '2026-07-01T09:30:00Z' })).toBe(shown(frame(m('0.05')).plus(frame(m('0.06'))).plus(windows.times(2))));
    // CloudKitty's v2 desc shape ({metadata, groupby}) matches too; an unknown service costs nothing.
    expect(await quote(t.beta, { resources: [{ service: 'quote.instance', desc: { metadata: { flavor_name: 'm1.small' }, groupby: { project_id: 'x' } }, volume: '2' }], start: '2026-07-02T00:00:00Z' })).toBe(shown(m('0.06').times(2)));
    expect(await quote(t.beta, { resources: [resources[2]] })).toBe('0.00');

    // Bad quotes name what is wrong.
    const bad = async (body: unknown, message: RegExp) => expect(await call(t.beta, 'POST', '/rating/v1/rating/quote', body)).toEqual(fault(400, message));
    await bad({}, /body is missing the required field "resources"/);
    await bad({ resources: [{ service: 'quote.instance', volume: 'lots' }] }, /body\.resources\[0\]\.volume must be a decimal >= 0/);
    await bad({ resources: [{ service: 'quote.instance' }] }, /body\.resources\[0\] is missing the required field "volume"/);
    await bad({ resources: [{ service: 'quote.instance', volume: 1 }], hours: 0 }, /body\.hours must be >= 1/);
    await bad({ resources: [{ service: 'quote.instance', volume: 1 }], start: 'soon' }, /body\.start/);
    await bad({ resources: [{ service: 'quote.instance', volume: 1, vol: 2 }] }, /body\.resources\[0\]\.vol is not an accepted field/);

    // A disabled module prices nothing; enabling it again restores the quote.
    await ok(t.admin, 'PUT', '/rating/v1/rating/modules/hashmap', { enabled: false });
    expect(await quote(t.beta, { resources, start: '2026-07-01T08:00:00Z' })).toBe('0.00');
    await ok(t.admin, 'PUT', '/rating/v1/rating/modules/hashmap', { enabled: true });
    expect(await quote(t.beta, { resources, start: '2026-07-01T08:00:00Z' })).toBe(shown(hourBefore));
    // Ending the old price earlier leaves 08:00-10:00 with no m1.small price: the rules are read per request.
    await ok(t.admin, 'PUT', `${HASHMAP}/mappings/${old.mapping_id}`, { end: '2026-07-01T08:00:00Z' });
    expect(await quote(t.beta, { resources: [resources[0]], start: '2026-07-01T08:00:00Z', hours: 3 })).toBe(shown(frame(m('0.06')).plus(windows.times(3))));
  });
});

const m = (v: string | number) => new Money(v);
