import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { ManualClock, openStateDatabase, type StateDatabase } from '../../core/index.ts';
import { createHashmapStore } from './hashmap-store.ts';
import type { UsageFrame } from './types.ts';

const error = (kind: string, httpStatus: number, message?: RegExp) => expect.objectContaining({ code: `CUMULUS_RATING_HASHMAP_${kind}`, httpStatus, ...(message ? { message: expect.stringMatching(message) } : {}) });
const UNKNOWN = 'd28490b2-fb3c-11e5-988b-eb9539c935dc';

const frame = (service: string, quantity: string, periodStart: string, metadata: Record<string, string> = {}, projectId = 'p1'): UsageFrame => ({
  service,
  projectId,
  userId: 'u1',
  resourceId: 'r1',
  resourceType: 'generic',
  periodStart: new Date(periodStart),
  periodEnd: new Date(Date.parse(periodStart) + 3_600_000),
  quantity,
  unit: 'hour',
  metadata,
  groupby: {},
});

describe('hashmap store (SQLite)', () => {
  const opened: StateDatabase[] = [];
  /** A state database (in memory unless a file is named), closed after the tests. */
  const open = (path = ':memory:') => {
    const db = openStateDatabase(path);
    opened.push(db);
    return db;
  };
  afterAll(() => opened.forEach((db) => db.close()));
  const fresh = (config = {}) => createHashmapStore(open(), { clock: new ManualClock(Date.UTC(2026, 2, 1, 12)), ...config });

  it('keeps service, field and group names unique as CloudKitty does, and says which exists', () => {
    const store = fresh();
    const service = store.createService({ name: 'instance' });
    expect(store.getService(service.service_id)).toEqual({ service_id: service.service_id, name: 'instance' });
    expect(() => store.createService({ name: 'instance' })).toThrow(error('SERVICE_EXISTS', 409, new RegExp(`Service instance already exists \\(UUID: ${service.service_id}\\)`)));
    const field = store.createField({ service_id: service.service_id, name: 'flavor_id' });
    expect(() => store.createField({ service_id: service.service_id, name: 'flavor_id' })).toThrow(error('FIELD_EXISTS', 409, new RegExp(`Field flavor_id already exists \\(UUID: ${field.field_id}\\)`)));
    // The same field name on another service is another field.
    const volume = store.createService({ name: 'volume.size' });
    expect(store.createField({ service_id: volume.service_id, name: 'flavor_id' }).service_id).toBe(volume.service_id);
    expect(() => store.createField({ service_id: UNKNOWN, name: 'x' })).toThrow(error('INVALID', 400, /No such service: None \(UUID: d28490b2.*expected service_id to name an existing one/));
    const group = store.createGroup({ name: 'instance_uptime' });
    expect(() => store.createGroup({ name: 'instance_uptime' })).toThrow(error('GROUP_EXISTS', 409, /Group instance_uptime already exists/));
    expect(store.listServices().map((s) => s.name)).toEqual(['instance', 'volume.size']);
    expect(store.listFields(service.service_id)).toEqual([field]);
    expect(store.listFields(UNKNOWN)).toEqual([]);
    expect(store.listGroups()).toEqual([group]);
    expect(() => store.createService({ name: '' })).toThrow(error('INVALID', 400, /field\/attribute name/));
    expect(() => store.createService({ name: 'x'.repeat(256) })).toThrow(error('INVALID', 400, /at most 255/));
  });

  it('answers 404 with CloudKitty\'s wording for what does not exist', () => {
    const store = fresh();
    expect(() => store.getService(UNKNOWN)).toThrow(error('SERVICE_NOT_FOUND', 404, /^No such service: None \(UUID: d28490b2-fb3c-11e5-988b-eb9539c935dc\)$/));
    expect(() => store.getField(UNKNOWN)).toThrow(error('FIELD_NOT_FOUND', 404, /^No such field: d28490b2/));
    expect(() => store.getGroup(UNKNOWN)).toThrow(error('GROUP_NOT_FOUND', 404, /^No such group: None/));
    expect(() => store.getMapping('42')).toThrow(error('MAPPING_NOT_FOUND', 404, /^No such mapping: 42$/));
    expect(() => store.getThreshold(UNKNOWN)).toThrow(error('THRESHOLD_NOT_FOUND', 404));
    expect(() => store.deleteMapping(UNKNOWN)).toThrow(error('MAPPING_NOT_FOUND', 404));
    expect(() => store.deleteThreshold(UNKNOWN)).toThrow(error('THRESHOLD_NOT_FOUND', 404));
    expect(() => store.deleteService(UNKNOWN)).toThrow(error('SERVICE_NOT_FOUND', 404));
    expect(() => store.deleteField(UNKNOWN)).toThrow(error('FIELD_NOT_FOUND', 404));
    expect(() => store.deleteGroup(UNKNOWN, false)).toThrow(error('GROUP_NOT_FOUND', 404));
    expect(() => store.updateMapping('42', { cost: '1' })).toThrow(error('MAPPING_NOT_FOUND', 404, /No such mapping: 42/));
    expect(() => store.module('fakb')).toThrow(error('MODULE_NOT_FOUND', 404, /Module not found/));
    expect(() => store.createMapping({ cost: '1', service_id: UNKNOWN })).toThrow(error('INVALID', 400, /No such service: None/));
    expect(() => store.createThreshold({ cost: '1', level: '1', field_id: UNKNOWN })).toThrow(error('INVALID', 400, /No such field: d28490b2/));
  });

  it('stores money and levels as exact decimal text at their Numeric scales, with who created the rule and when', () => {
    const store = fresh();
    const svc = store.createService({ name: 'instance' });
    const created = store.createMapping({ service_id: svc.service_id, type: 'flat', cost: 0.1, name: 'base price', description: 'All instances' }, 'user-42');
    expect(created).toEqual({
      mapping_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      value: null,
      created_at: '2026-03-01T12:00:00',
      start: null,
      end: null,
      name: 'base price',
      description: 'All instances',
      deleted: null,
      created_by: 'user-42',
      updated_by: null,
      deleted_by: null,
      cost: '0.1000000000000000000000000000',
      type: 'flat',
      field_id: null,
      service_id: svc.service_id,
      group_id: null,
      tenant_id: null,
    });
    expect(store.getMapping(created.mapping_id)).toEqual(created);
    const th = store.createThreshold({ service_id: svc.service_id, level: 2, cost: '0.2', type: 'rate' });
    expect(th).toMatchObject({ level: '2.00000000', cost: '0.2000000000000000000000000000', type: 'rate', start: null, end: null });
    expect(() => store.createMapping({ service_id: svc.service_id, cost: '1', name: 'base price', group_id: null, tenant_id: 'p9' })).toThrow(error('MAPPING_EXISTS', 409, /name 'base price' is already used by mapping/));
  });

  it('refuses overlapping periods for the same key, saying which rule and when; ending the old rule lets the new price in', () => {
    const store = fresh();
    const svc = store.createService({ name: 'volume.size' });
    const fld = store.createField({ service_id: svc.service_id, name: 'volume_type' });
    const old = store.createMapping({ field_id: fld.field_id, value: 'ssd', cost: '0.10' });
    expect(() => store.createMapping({ field_id: fld.field_id, value: 'ssd', cost: '0.12', start: '2026-04-01' })).toThrow(
      error('MAPPING_EXISTS', 409, new RegExp(`Mapping 'ssd' already exists for field '${fld.field_id}', tenant: 'None' \\(no group\\): mapping ${old.mapping_id} is in force from the beginning to no end, which overlaps from 2026-04-01T00:00:00 to no end`)),
    );
    // Other keys are free: another value, another project, another group.
    store.createMapping({ field_id: fld.field_id, value: 'hdd', cost: '0.05' });
    store.createMapping({ field_id: fld.field_id, value: 'ssd', cost: '0.08', tenant_id: 'p2' });
    const group = store.createGroup({ name: 'premium' });
    const premium = store.createMapping({ field_id: fld.field_id, value: 'ssd', cost: '1.5', type: 'rate', group_id: group.group_id });
    // End the old price (CloudKitty's end date alone: through that day), then the new one starts the next day.
    const ended = store.updateMapping(old.mapping_id, { end: '2026-03-31' }, 'user-7');
    expect(ended).toMatchObject({ end: '2026-04-01T00:00:00', cost: old.cost, updated_by: 'user-7', created_by: null });
    const next = store.createMapping({ field_id: fld.field_id, value: 'ssd', cost: '0.12', start: '2026-04-01' });
    // Moving the old one's end past the new start would overlap again.
    expect(() => store.updateMapping(old.mapping_id, { end: '2026-04-02' })).toThrow(error('MAPPING_EXISTS', 409, new RegExp(`mapping ${next.mapping_id} is in force from 2026-04-01T00:00:00 to no end`)));

    // The premium group's rate has no flat to multiply: it matches and adds nothing.
    const rater = store.rater();
    expect(rater.rate(frame('volume.size', '10', '2026-03-31T23:00:00Z', { volume_type: 'ssd' }))).toMatchObject({ cost: '1.000000000', ruleId: `${old.mapping_id},${premium.mapping_id}` });
    expect(rater.rate(frame('volume.size', '10', '2026-04-01T00:00:00Z', { volume_type: 'ssd' }))).toMatchObject({ cost: '1.200000000', ruleId: `${next.mapping_id},${premium.mapping_id}` });
    expect(rater.rate(frame('volume.size', '10', '2026-04-01T00:00:00Z', { volume_type: 'ssd' }, 'p2'))).toMatchObject({ cost: '0.800000000' });

    // Thresholds too.
    const t1 = store.createThreshold({ service_id: svc.service_id, level: '100', cost: '0.9', type: 'rate', end: '2026-05-01T00:00:00Z' });
    expect(() => store.createThreshold({ service_id: svc.service_id, level: '100.0', cost: '0.8', type: 'rate', start: '2026-04-30T00:00:00Z' })).toThrow(
      error('THRESHOLD_EXISTS', 409, new RegExp(`Threshold '100.00000000' already exists for service '${svc.service_id}'.*threshold ${t1.threshold_id} is in force from the beginning to 2026-05-01T00:00:00`)),
    );
    expect(store.createThreshold({ service_id: svc.service_id, level: '100', cost: '0.8', type: 'rate', start: '2026-05-01T00:00:00Z' }).start).toBe('2026-05-01T00:00:00');
  });

  it('deletes what hangs from a service or a field; a group leaves its rules behind unless recursive', () => {
    const store = fresh();
    const svc = store.createService({ name: 'instance' });
    const fld = store.createField({ service_id: svc.service_id, name: 'flavor_name' });
    const group = store.createGroup({ name: 'g' });
    const inGroup = store.createMapping({ field_id: fld.field_id, value: 'm1.tiny', cost: '0.01', group_id: group.group_id });
    const th = store.createThreshold({ field_id: fld.field_id, level: '1', cost: '0.01', group_id: group.group_id });
    expect(store.groupOfMapping(inGroup.mapping_id)).toEqual(group);
    expect(store.groupOfThreshold(th.threshold_id)).toEqual(group);
    const free = store.createMapping({ service_id: svc.service_id, cost: '0.02' });
    expect(() => store.groupOfMapping(free.mapping_id)).toThrow(error('NO_GROUP', 404, /Mapping has no group/));

    store.deleteGroup(group.group_id, false);
    expect(store.getMapping(inGroup.mapping_id).group_id).toBeNull();
    expect(store.getThreshold(th.threshold_id).group_id).toBeNull();

    const g2 = store.createGroup({ name: 'g2' });
    const doomed = store.createMapping({ service_id: svc.service_id, cost: '0.5', group_id: g2.group_id });
    store.deleteGroup(g2.group_id, true);
    expect(() => store.getMapping(doomed.mapping_id)).toThrow(error('MAPPING_NOT_FOUND', 404));
    expect(store.getMapping(free.mapping_id).cost).toBe('0.0200000000000000000000000000');

    store.deleteField(fld.field_id);
    expect(() => store.getMapping(inGroup.mapping_id)).toThrow(error('MAPPING_NOT_FOUND', 404));
    expect(store.listThresholds({ field_id: fld.field_id })).toEqual([]);
    store.deleteService(svc.service_id);
    expect(store.listMappings()).toEqual([]);
  });

  it('refuses to detach group rules that would clash with a rule outside the group', () => {
    const store = fresh();
    const svc = store.createService({ name: 'instance' });
    const group = store.createGroup({ name: 'g' });
    store.createMapping({ service_id: svc.service_id, cost: '0.01' });
    const grouped = store.createMapping({ service_id: svc.service_id, cost: '0.02', group_id: group.group_id });
    expect(() => store.deleteGroup(group.group_id, false)).toThrow(error('GROUP_IN_USE', 409, new RegExp(`mapping ${grouped.mapping_id} would leave it and clash.*recursive=true`)));
    expect(store.getGroup(group.group_id)).toEqual(group);
  });

  it("filters as CloudKitty's list does: parent, group or none, project only with filter_tenant, and time; filter text is data", () => {
    const store = fresh();
    const svc = store.createService({ name: 'instance' });
    const fld = store.createField({ service_id: svc.service_id, name: 'flavor_id' });
    const group = store.createGroup({ name: 'g' });
    const a = store.createMapping({ service_id: svc.service_id, cost: '1', description: 'Base 100% price' }, 'admin-user');
    const b = store.createMapping({ service_id: svc.service_id, cost: '2', tenant_id: 'p2', group_id: group.group_id, end: '2026-03-10' });
    const c = store.createMapping({ field_id: fld.field_id, value: 'f1', cost: '3', start: '2026-03-10' });
    const ids = (list: Array<{ mapping_id: string }>) => list.map((x) => x.mapping_id);
    expect(ids(store.listMappings())).toEqual([a.mapping_id, b.mapping_id, c.mapping_id]);
    expect(ids(store.listMappings({ service_id: svc.service_id }))).toEqual([a.mapping_id, b.mapping_id]);
    expect(ids(store.listMappings({ field_id: fld.field_id }))).toEqual([c.mapping_id]);
    expect(ids(store.listMappings({ group_id: group.group_id }))).toEqual([b.mapping_id]);
    expect(ids(store.listMappings({ no_group: true }))).toEqual([a.mapping_id, c.mapping_id]);
    // tenant_id alone is ignored (CloudKitty); with filter_tenant, absent means "no project".
    expect(ids(store.listMappings({ tenant_id: 'p2' }))).toHaveLength(3);
    expect(ids(store.listMappings({ tenant_id: 'p2', filter_tenant: true }))).toEqual([b.mapping_id]);
    expect(ids(store.listMappings({ filter_tenant: true }))).toEqual([a.mapping_id, c.mapping_id]);
    expect(ids(store.listMappings({ active_at: Date.UTC(2026, 2, 5) }))).toEqual([a.mapping_id, b.mapping_id]);
    expect(ids(store.listMappings({ active_at: Date.UTC(2026, 2, 11) }))).toEqual([a.mapping_id, c.mapping_id]);
    expect(ids(store.listMappings({ start: Date.UTC(2026, 2, 1) }))).toEqual([c.mapping_id]);
    expect(ids(store.listMappings({ end: Date.UTC(2026, 3, 1) }))).toEqual([b.mapping_id]);
    expect(ids(store.listMappings({ description: '100%' }))).toEqual([a.mapping_id]);
    expect(ids(store.listMappings({ description: '1_0%' }))).toEqual([]);
    expect(ids(store.listMappings({ created_by: 'admin-user' }))).toEqual([a.mapping_id]);
    expect(store.listMappings({ tenant_id: "p2' OR 1=1 --", filter_tenant: true })).toEqual([]);
    expect(store.listThresholds({ service_id: svc.service_id })).toEqual([]);
  });

  it('enables and prioritises the module; a disabled module rates nothing', () => {
    const store = fresh();
    expect(store.modules()).toEqual([{ module_id: 'hashmap', description: 'HashMap rating module.', enabled: true, 'hot-config': true, priority: 1 }]);
    const svc = store.createService({ name: 'instance' });
    store.createMapping({ service_id: svc.service_id, cost: '0.5' });
    expect(store.rater().rate(frame('instance', '1', '2026-03-01T00:00:00Z'))?.cost).toBe('0.500000000');
    expect(store.updateModule('hashmap', { enabled: false, priority: 5 })).toMatchObject({ enabled: false, priority: 5 });
    expect(store.rater().rate(frame('instance', '1', '2026-03-01T00:00:00Z'))).toBeNull();
    expect(store.updateModule('hashmap', { enabled: true })).toMatchObject({ enabled: true, priority: 5 });
    expect(() => store.updateModule('noop', { enabled: true })).toThrow(error('MODULE_NOT_FOUND', 404));
  });

  it('states its currency, refuses a malformed one, and sees changes made by another connection', () => {
    expect(fresh({ currency: 'CHF' }).currency).toBe('CHF');
    expect(() => fresh({ currency: 'euro' })).toThrow(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID', message: expect.stringMatching(/ISO 4217.*"euro"/) }));
    // Two connections to one file: the API's and a pipeline process's.
    const dir = mkdtempSync(join(tmpdir(), 'cumulus-hashmap-store-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'state.sqlite');
    const api = createHashmapStore(open(path));
    const pipeline = createHashmapStore(open(path));
    const svc = api.createService({ name: 'instance' });
    const first = pipeline.rater();
    expect(first.rate(frame('instance', '1', '2026-03-01T00:00:00Z'))).toBeNull();
    api.createMapping({ service_id: svc.service_id, cost: '0.25' });
    const second = pipeline.rater();
    expect(second).not.toBe(first);
    expect(second.rate(frame('instance', '1', '2026-03-01T00:00:00Z'))?.cost).toBe('0.250000000');
    // Unchanged rules: the same rater.
    expect(pipeline.rater()).toBe(second);
    // Reopening keeps everything and does not re-seed the module.
    pipeline.updateModule('hashmap', { priority: 3 });
    expect(createHashmapStore(open(path)).module('hashmap').priority).toBe(3);
  });
});
