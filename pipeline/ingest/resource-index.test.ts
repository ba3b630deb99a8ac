import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricId, openStateDatabase, type Event, type Sample, type StateDatabase } from '../../core/index.ts';
import {
  compileResourceFilter,
  createChdbDriver,
  migrate,
  parseResourceFilter,
  searchResources,
  selectResource,
  selectResourceHistory,
  selectResources,
  type ClickHouseDriver,
  type ResourceRevisionRow,
  type ResourceRow,
} from '../../storage/index.ts';
import { createResourceTypeStore, resourcesOfTypeExist, type ResourceTypeStore } from '../../storage/resource-type-store.ts';
import { effectiveAttributes } from '../../storage/resource-types.ts';
import { createResourceIndex, type ResourceIndex } from './resource-index.ts';
import { resourceTypeFor, type ResourceTypeMapping } from './resource-types.ts';

const T0 = Date.UTC(2024, 4, 1, 10, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
const ch = (ms: number) => iso(ms).replace('T', ' ').replace('Z', '000');

let n = 0;
function sample(resource: string, name: string, atMs: number, metadata: Record<string, unknown>, owner: { project?: string | null; user?: string | null } = {}): Sample {
  n += 1;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    name,
    type: 'gauge',
    unit: 'u',
    volume: 1,
    user_id: owner.user === undefined ? 'user-1' : owner.user,
    project_id: owner.project === undefined ? 'project-1' : owner.project,
    resource_id: resource,
    timestamp: iso(atMs),
    resource_metadata: metadata,
    source: 'openstack',
    message_id: `m-${n}`,
    message_signature: 'not-checked-here',
  };
}

function event(eventType: string, atMs: number, traits: Record<string, string | number>): Event {
  n += 1;
  return { message_id: `e-${n}`, event_type: eventType, generated: iso(atMs), traits: Object.entries(traits).map(([name, value]) => ({ name, type: typeof value === 'number' ? 'int' : 'string', value })), raw: {} };
}

const instanceMetadata = (flavor: string, extra: Record<string, unknown> = {}) => ({ instance_host: 'compute-1', host: 'hashed-host', display_name: 'vm-1', flavor: { id: flavor, name: `name-${flavor}` }, image_ref: 'img-1', ...extra });

/** A meter family of an operator-defined type, mapped the way the Ceilometer file maps its own. */
const RACK_MAPPING: ResourceTypeMapping = { type: 'rack', sources: { label: [['label']], slot: [['slot']], powered: [['powered']], zone: [['zone']] }, attributes: {} };

describe('resource index (chDB + SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cumulus-resource-index-'));
  let store: ClickHouseDriver;
  let db: StateDatabase;
  let types: ResourceTypeStore;

  const index = (): ResourceIndex =>
    createResourceIndex({
      store,
      policyForMetric: (name) => (name === 'cpu' ? 'ceilometer-low-rate' : 'ceilometer-low'),
      resourceType: (name) => types.find(name),
      mappingFor: (name) => (name.startsWith('rack.') ? RACK_MAPPING : resourceTypeFor(name)),
    });
  const current = async (id: string) => (await store.query<ResourceRow>(selectResource(id, null)))[0];
  const history = async (id: string) => store.query<ResourceRevisionRow>(selectResourceHistory(id, null, { limit: 100 }));
  const attributesOf = (row: ResourceRow | undefined) => effectiveAttributes(types.get(row?.type ?? 'generic'), JSON.parse(row?.attributes ?? '{}') as Record<string, unknown>, Number(row?.type_generation ?? 0));
  const rawCount = async (table: string, id: string) => Number((await store.query<{ c: string }>({ sql: `SELECT count() AS c FROM ${table} WHERE ${table === 'metrics' ? 'resource_id' : 'id'} = {id:String}`, params: { id } }))[0]?.c);
  const search = async (type: string, filter: unknown, history = false) =>
    (await store.query<ResourceRevisionRow>(searchResources({ type: types.get(type), filter, projectId: null, limit: 100, history }))).map((r) => (history ? `${r.id}@${r.revision_start}` : r.id));

  beforeAll(async () => {
    store = createChdbDriver({ dataDir: dir });
    await migrate(store);
    db = openStateDatabase(join(dir, 'state.sqlite'));
    types = createResourceTypeStore(db, { resourcesExist: resourcesOfTypeExist(store) });
  });
  afterAll(async () => {
    db?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates metrics and the resource on the first samples, with the meter\'s type and typed attributes', async () => {
    const vm = '11111111-1111-4111-8111-111111111111';
    const writes = await index().indexSamples([
      sample(vm, 'vcpus', T0 + 5000, instanceMetadata('f1', { launched_at: '2024-05-01T09:59:00.5Z' })),
      sample(vm, 'cpu', T0, instanceMetadata('f1', { launched_at: '2024-05-01T09:59:00.5Z' })),
      sample(vm, 'cpu', T0 + 10_000, instanceMetadata('f1')),
    ]);
    expect(writes).toEqual({ metrics: 2, resources: 1, revisions: 0 });
    const metrics = await store.query<{ id: string; name: string; archive_policy_name: string; created_at: string }>({
      sql: 'SELECT toString(id) AS id, name, archive_policy_name, created_at FROM metrics FINAL WHERE resource_id = {r:String} ORDER BY name',
      params: { r: vm },
    });
    expect(metrics).toEqual([
      { id: metricId(vm, 'cpu'), name: 'cpu', archive_policy_name: 'ceilometer-low-rate', created_at: '2024-05-01 10:00:00.000' },
      { id: metricId(vm, 'vcpus'), name: 'vcpus', archive_policy_name: 'ceilometer-low', created_at: '2024-05-01 10:00:05.000' },
    ]);
    const row = await current(vm);
    expect(row).toMatchObject({ id: vm, type: 'instance', project_id: 'project-1', user_id: 'user-1', started_at: ch(T0), ended_at: null, revision_start: ch(T0) });
    // host is instance_host (Ceilometer's first alternative), flavor from the nested flavor object.
    expect(attributesOf(row)).toMatchObject({ host: 'compute-1', display_name: 'vm-1', flavor_id: 'f1', flavor_name: 'name-f1', image_ref: 'img-1', launched_at: '2024-05-01T09:59:00.500000+00:00', server_group: null });
  });

  it('opens a revision when a resize changes the flavor, and closes the previous one', async () => {
    const vm = '22222222-2222-4222-8222-222222222222';
    const idx = index();
    await idx.indexSamples([sample(vm, 'vcpus', T0, instanceMetadata('f1'))]);
    // Unchanged attributes cost nothing.
    expect(await idx.indexSamples([sample(vm, 'vcpus', T0 + 60_000, instanceMetadata('f1'))])).toEqual({ metrics: 0, resources: 0, revisions: 0 });
    expect(await idx.indexSamples([sample(vm, 'vcpus', T0 + 120_000, instanceMetadata('f2')), sample(vm, 'memory', T0 + 125_000, instanceMetadata('f2'))])).toEqual({ metrics: 1, resources: 1, revisions: 1 });
    // A late sample still showing the old flavor does not undo the resize.
    expect(await idx.indexSamples([sample(vm, 'vcpus', T0 + 90_000, instanceMetadata('f1'))])).toEqual({ metrics: 0, resources: 0, revisions: 0 });
    // Two changes in one batch: each makes its revision.
    expect(await idx.indexSamples([sample(vm, 'vcpus', T0 + 240_000, instanceMetadata('f2', { display_name: 'renamed' })), sample(vm, 'vcpus', T0 + 180_000, instanceMetadata('f3'))])).toEqual({ metrics: 0, resources: 1, revisions: 2 });

    const revisions = await history(vm);
    expect(revisions.map((r) => [r.revision_start, r.revision_end, attributesOf(r).flavor_id, attributesOf(r).display_name])).toEqual([
      [ch(T0), ch(T0 + 120_000), 'f1', 'vm-1'],
      [ch(T0 + 120_000), ch(T0 + 180_000), 'f2', 'vm-1'],
      [ch(T0 + 180_000), ch(T0 + 240_000), 'f3', 'vm-1'],
      [ch(T0 + 240_000), null, 'f2', 'renamed'],
    ]);
    expect(revisions.every((r) => r.started_at === ch(T0))).toBe(true);
    // History pages: id@revision_start markers.
    const page = await store.query<ResourceRevisionRow>(selectResourceHistory(vm, null, { limit: 2, marker: { id: vm, revisionStart: ch(T0 + 120_000) } }));
    expect(page.map((r) => r.revision_start)).toEqual([ch(T0 + 180_000), ch(T0 + 240_000)]);
    expect(await store.query(selectResourceHistory(vm, 'another-project', { limit: 10 }))).toEqual([]);
  });

  it('applies samples sharing one instant in the order they were emitted (a resize on a frozen clock ends on the new flavor)', async () => {
    const vm = '24242424-2424-4242-8242-242424242424';
    // Nova's resize.start (old flavor) then finish_resize.end (new), one timestamp; the ids
    // sort the other way round, so an id tie-break would leave the old flavor in force.
    const old = { ...sample(vm, 'vcpus', T0, instanceMetadata('f1')), id: 'ffffffff-0000-4000-8000-000000000000' };
    const resized = { ...sample(vm, 'vcpus', T0, instanceMetadata('f2')), id: '00000000-ffff-4000-8000-000000000000' };
    await index().indexSamples([old, resized]);
    expect(attributesOf(await current(vm)).flavor_id).toBe('f2');
  });

  it('applies a value a stale sample also carried once a sample newer than the revision brings it', async () => {
    const vm = '23232323-2323-4232-8232-232323232323';
    const idx = index();
    await idx.indexSamples([sample(vm, 'vcpus', T0 + 10_000, instanceMetadata('f1'))]);
    // Same meter, owners and values: the first is older than the revision and ignored, the second applies.
    expect(await idx.indexSamples([sample(vm, 'vcpus', T0 + 5000, instanceMetadata('f9')), sample(vm, 'vcpus', T0 + 20_000, instanceMetadata('f9'))])).toEqual({ metrics: 0, resources: 1, revisions: 1 });
    expect((await history(vm)).map((r) => [r.revision_start, attributesOf(r).flavor_id])).toEqual([[ch(T0 + 10_000), 'f1'], [ch(T0 + 20_000), 'f9']]);
  });

  it('writes nothing when a batch is replayed, by the same index or a fresh one', async () => {
    const vm = '33333333-3333-4333-8333-333333333333';
    const batch = [sample(vm, 'vcpus', T0, instanceMetadata('f1')), sample(vm, 'cpu', T0 + 1000, instanceMetadata('f1')), sample(vm, 'vcpus', T0 + 2000, instanceMetadata('f2'))];
    const first = index();
    expect(await first.indexSamples(batch, 'g:cumulus.samples:0:10-12')).toEqual({ metrics: 2, resources: 1, revisions: 1 });
    const counts = async () => [await rawCount('metrics', vm), await rawCount('resources', vm), await rawCount('resource_history', vm)];
    const before = await counts();
    expect(before).toEqual([2, 1, 1]);
    expect(await first.indexSamples(batch, 'g:cumulus.samples:0:10-12')).toEqual({ metrics: 0, resources: 0, revisions: 0 });
    // A new process (empty caches) replaying the batch reads what is indexed and writes nothing.
    expect(await index().indexSamples([...batch].reverse(), 'g:cumulus.samples:0:10-12')).toEqual({ metrics: 0, resources: 0, revisions: 0 });
    expect(await counts()).toEqual(before);
  });

  it('leaves its cache untouched when a write fails, so the retried batch is written', async () => {
    const vm = '44444444-4444-4444-8444-444444444444';
    const idx = index();
    await idx.indexSamples([sample(vm, 'vcpus', T0, instanceMetadata('f1'))]);
    const resize = [sample(vm, 'vcpus', T0 + 60_000, instanceMetadata('f2'))];
    // A real failure between the two inserts: a constraint makes ClickHouse refuse this
    // resource's current row, after its closed revision went into resource_history.
    await store.command({ sql: `ALTER TABLE resources ADD CONSTRAINT refuse_one CHECK id != '${vm}'` });
    try {
      await expect(idx.indexSamples(resize, 'g:cumulus.samples:0:20-20')).rejects.toMatchObject({ code: 'CUMULUS_STORAGE_QUERY_FAILED' });
    } finally {
      await store.command({ sql: 'ALTER TABLE resources DROP CONSTRAINT refuse_one' });
    }
    expect(attributesOf(await current(vm)).flavor_id).toBe('f1');
    // The closed revision landed before the failure; the retry writes it again with the
    // same token and rows, which the table drops, and then the current revision.
    expect(await rawCount('resource_history', vm)).toBe(1);
    expect(await idx.indexSamples(resize, 'g:cumulus.samples:0:20-20')).toEqual({ metrics: 0, resources: 1, revisions: 1 });
    expect(await rawCount('resource_history', vm)).toBe(1);
    expect(attributesOf(await current(vm)).flavor_id).toBe('f2');
  });

  it('ends an instance with its disks and NICs on its delete event, deterministically', async () => {
    const vm = '55555555-5555-4555-8555-555555555555';
    const other = '66666666-6666-4666-8666-666666666666';
    const idx = index();
    await idx.indexSamples([
      sample(vm, 'vcpus', T0, instanceMetadata('f1')),
      sample(`${vm}-vda`, 'disk.device.read.bytes', T0, { disk_name: 'vda', instance_id: vm.toUpperCase() }),
      sample(`tap-${vm}`, 'network.incoming.bytes', T0, { vnic_name: 'tap0', instance_id: vm }),
      sample(`${other}-vda`, 'disk.device.read.bytes', T0, { disk_name: 'vda', instance_id: other }),
    ]);
    expect(attributesOf(await current(`${vm}-vda`)).instance_id).toBe(vm);
    const end = T0 + 3_600_000;
    const deletion = [event('compute.instance.delete.start', end, { instance_id: vm, display_name: 'vm-1', host: 'compute-1', instance_type: 'm1.tiny', instance_type_id: 6 })];
    expect(await idx.indexEvents(deletion, 'events:0:5-5')).toEqual({ metrics: 0, resources: 3, revisions: 3 });
    for (const id of [vm, `${vm}-vda`, `tap-${vm}`]) {
      const row = await current(id);
      expect(row).toMatchObject({ ended_at: ch(end), revision_start: ch(end) });
      // A delete only ends: the event's attributes (flavor_id from instance_type_id) are not applied.
      if (id === vm) expect(attributesOf(row).flavor_id).toBe('f1');
      expect((await history(id)).map((r) => [r.revision_end, r.ended_at])).toEqual([[ch(end), null], [null, ch(end)]]);
    }
    expect((await current(`${other}-vda`))?.ended_at).toBeNull();
    // Replayed (a fresh consumer too): nothing new, and the first end stands.
    expect(await idx.indexEvents(deletion, 'events:0:5-5')).toEqual({ metrics: 0, resources: 0, revisions: 0 });
    expect(await index().indexEvents([event('compute.instance.delete.start', end + 5000, { instance_id: vm })])).toEqual({ metrics: 0, resources: 0, revisions: 0 });
    // Samples after the end (a last poll) keep the resource ended.
    await idx.indexSamples([sample(vm, 'vcpus', end + 10_000, instanceMetadata('f1', { display_name: 'gone' }))]);
    expect(await current(vm)).toMatchObject({ ended_at: ch(end) });
    expect(attributesOf(await current(vm)).display_name).toBe('gone');
    // ended_at = null finds the running ones.
    expect(await search('instance_disk', { and: [{ '=': { instance_id: vm } }, { '=': { ended_at: null } }] })).toEqual([]);
    expect(await search('instance_disk', { '=': { ended_at: null } })).toContain(`${other}-vda`);
  });

  it('applies create, update and delete events of the other types as Ceilometer does', async () => {
    const vm = '77777777-7777-4777-8777-777777777777';
    const volume = '88888888-8888-4888-8888-888888888888';
    const image = '99999999-9999-4999-8999-999999999999';
    const idx = index();
    await idx.indexSamples([sample(volume, 'volume.size', T0, { display_name: 'data', volume_type: 'ssd' }), sample(image, 'image.size', T0, { name: 'cirros', container_format: 'bare', disk_format: 'qcow2' })]);
    expect(
      await idx.indexEvents([
        event('compute.instance.create.end', T0 + 1000, { instance_id: vm, display_name: 'web', host: 'compute-2', availability_zone: 'nova', instance_type_id: 6, instance_type: 'm1.tiny', user_id: 'user-9', tenant_id: 'ignored' }),
        event('volume.transfer.accept.end', T0 + 2000, { resource_id: volume, project_id: 'project-2' }),
        event('image.delete', T0 + 3000, { resource_id: image }),
        event('volume.delete.end', T0 + 4000, { resource_id: 'never-indexed' }),
        event('compute.instance.update', T0 + 4000, { instance_id: vm }),
      ]),
    ).toEqual({ metrics: 0, resources: 3, revisions: 2 });
    const created = await current(vm);
    // project_id is mapped from a `project_id` trait, which Nova's events do not carry (tenant_id).
    expect(created).toMatchObject({ type: 'instance', project_id: '', user_id: 'user-9', started_at: ch(T0 + 1000) });
    expect(attributesOf(created)).toMatchObject({ display_name: 'web', host: 'compute-2', availability_zone: 'nova', flavor_id: '6', flavor_name: 'm1.tiny' });
    expect(await current(volume)).toMatchObject({ project_id: 'project-2', revision_start: ch(T0 + 2000), ended_at: null });
    expect((await history(volume)).map((r) => r.project_id)).toEqual(['project-1', 'project-2']);
    expect(await current(image)).toMatchObject({ ended_at: ch(T0 + 3000) });
    expect(await current('never-indexed')).toBeUndefined();
    // A create event for a resource the index has changes nothing.
    expect(await idx.indexEvents([event('compute.instance.create.end', T0 + 9000, { instance_id: vm, display_name: 'other' })])).toEqual({ metrics: 0, resources: 0, revisions: 0 });
  });

  it('indexes operator-defined types, follows schema updates with fills, and refuses deleting a type in use', async () => {
    types.create({ name: 'rack', attributes: { label: { type: 'string', max_length: 8 }, slot: { type: 'number', min: 1, max: 42, required: false }, powered: { type: 'bool', required: false } } });
    const idx = index();
    expect(await idx.indexSamples([
      sample('rack-1', 'rack.power', T0, { label: 'r1', slot: '7', powered: true, zone: 'ignored' }),
      // An invalid value costs the attribute, not the resource.
      sample('rack-2', 'rack.power', T0, { label: 'much-too-long', slot: 99, powered: 'false' }),
    ])).toMatchObject({ resources: 2 });
    expect(attributesOf(await current('rack-1'))).toEqual({ label: 'r1', slot: 7, powered: true });
    expect(attributesOf(await current('rack-2'))).toEqual({ label: null, slot: null, powered: false });

    // A required attribute added with a fill: existing rows read as the fill, in results and in searches.
    types.update('rack', [{ op: 'add', path: '/attributes/zone', value: { type: 'string', required: true, options: { fill: 'z-fill' } } }]);
    expect(attributesOf(await current('rack-1')).zone).toBe('z-fill');
    expect(await search('rack', { '=': { zone: 'z-fill' } })).toEqual(['rack-1', 'rack-2']);
    // New samples now carry zone: a new revision under the new generation.
    expect(await idx.indexSamples([sample('rack-1', 'rack.power', T0 + 60_000, { label: 'r1', slot: 7, powered: true, zone: 'z2' })])).toEqual({ metrics: 0, resources: 1, revisions: 1 });
    expect((await history('rack-1')).map((r) => attributesOf(r).zone)).toEqual(['z-fill', 'z2']);
    expect(await search('rack', { '=': { zone: 'z2' } })).toEqual(['rack-1']);

    // Removed and added again: no stale value comes back, older rows read as the new fill.
    types.update('rack', [{ op: 'remove', path: '/attributes/zone' }]);
    expect(() => searchResources({ type: types.get('rack'), filter: { '=': { zone: 'z2' } }, projectId: null, limit: 10 })).toThrow(expect.objectContaining({ code: 'CUMULUS_PIPELINE_RESOURCE_QUERY_ATTRIBUTE' }));
    types.update('rack', [{ op: 'add', path: '/attributes/zone', value: { type: 'string', required: false } }]);
    expect(await search('rack', { '=': { zone: 'z2' } })).toEqual([]);
    expect(await search('rack', { '=': { zone: null } })).toEqual(['rack-1', 'rack-2']);

    await expect(types.delete('rack')).rejects.toMatchObject({ code: 'CUMULUS_PIPELINE_RESOURCE_TYPE_IN_USE', httpStatus: 400 });
    expect(types.get('rack').state).toBe('active');
    types.create({ name: 'unused', attributes: {} });
    await types.delete('unused');
    expect(types.find('unused')).toBeUndefined();
  });

  describe('search', () => {
    const ids = ['aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000003'];
    const [a, b, c] = ids as [string, string, string];

    beforeAll(async () => {
      const idx = index();
      await idx.indexSamples([
        sample(a, 'vcpus', T0, instanceMetadata('small', { display_name: 'web-1', launched_at: '2024-05-01T08:00:00Z' }), { project: 'p-search' }),
        sample(b, 'vcpus', T0 + 1000, instanceMetadata('large', { display_name: 'web-2', launched_at: '2024-05-01T09:00:00Z' }), { project: 'p-search' }),
        sample(c, 'vcpus', T0 + 2000, instanceMetadata('small', { display_name: 'db-1', image_ref: null }), { project: 'p-search' }),
      ]);
      // Make the image_ref of c explicitly unknown: c gets a revision with display_name db-2.
      await idx.indexSamples([sample(c, 'vcpus', T0 + 60_000, instanceMetadata('small', { display_name: 'db-2' }), { project: 'p-search' })]);
      await idx.indexEvents([event('compute.instance.delete.start', T0 + 7_200_000, { instance_id: a })]);
    });

    const mine = (filter: unknown) => ({ and: [{ '=': { project_id: 'p-search' } }, filter] });
    const find = (filter: unknown, history = false) => search('instance', mine(filter), history);

    it('compares with each operator, over resource fields and typed attributes', async () => {
      expect(await find({ '=': { flavor_id: 'small' } })).toEqual([a, c]);
      expect(await find({ '==': { display_name: 'web-2' } })).toEqual([b]);
      expect(await find({ '!=': { flavor_id: 'small' } })).toEqual([b]);
      expect(await find({ like: { display_name: 'web-%' } })).toEqual([a, b]);
      expect(await find({ in: { display_name: ['db-2', 'web-1', null] } })).toEqual([a, c]);
      expect(await find({ in: { id: [b, c] } })).toEqual([b, c]);
      expect(await find({ '<': { launched_at: '2024-05-01T09:00:00Z' } })).toEqual([a]);
      expect(await find({ '<=': { launched_at: '2024-05-01T09:00:00+00:00' } })).toEqual([a, b]);
      expect(await find({ '>': { started_at: ch(T0) } })).toEqual([b, c]);
      expect(await find({ '>=': { started_at: iso(T0 + 1000) } })).toEqual([b, c]);
      expect(await find({ ge: { lifespan: '2 hours' } })).toEqual([a]);
      expect(await find({ lt: { lifespan: 3600 } })).toEqual([]);
      // Unset attributes: = null finds them, != also matches them (as in Gnocchi).
      expect(await find({ '=': { launched_at: null } })).toEqual([c]);
      expect(await find({ '!=': { launched_at: '2024-05-01T08:00:00Z' } })).toEqual([b, c]);
      expect(await find({ '=': { ended_at: null } })).toEqual([b, c]);
      expect(await find({ or: [{ '=': { display_name: 'web-1' } }, { '=': { display_name: 'db-2' } }] })).toEqual([a, c]);
      expect(await find({ not: { '=': { flavor_id: 'small' } } })).toEqual([b]);
      expect(await find({ and: [{ '=': { flavor_id: 'small' } }, { not: { '=': { ended_at: null } } }] })).toEqual([a]);
      // The generic type searches every type, over the fields they all have.
      expect(await search('generic', { and: [{ '=': { project_id: 'p-search' } }, { '=': { type: 'instance' } }] })).toEqual(ids);
    });

    it('searches revisions with history, and lists with markers', async () => {
      expect(await find({ '=': { display_name: 'db-1' } })).toEqual([]);
      expect(await find({ '=': { display_name: 'db-1' } }, true)).toEqual([`${c}@${ch(T0 + 2000)}`]);
      expect(await find({ '=': { revision_end: ch(T0 + 60_000) } }, true)).toEqual([`${c}@${ch(T0 + 2000)}`]);
      const listed = await store.query<ResourceRow>(selectResources({ type: 'instance', projectId: 'p-search', limit: 2, marker: { id: a } }));
      expect(listed.map((r) => r.id)).toEqual([b, c]);
    });

    it('takes the query string form of the same language', async () => {
      expect(parseResourceFilter("flavor_id = small and (display_name like 'web%' or not ended_at = null)")).toEqual({
        and: [{ '=': { flavor_id: 'small' } }, { or: [{ like: { display_name: 'web%' } }, { not: { '=': { ended_at: null } } }] }],
      });
      expect(await find(parseResourceFilter(`id in [${b}, ${c}] and flavor_id != small`))).toEqual([b]);
      expect(await find(parseResourceFilter('lifespan >= 7200 or display_name = "db-2"'))).toEqual([a, c]);
      expect(() => parseResourceFilter('flavor_id = ')).toThrow(expect.objectContaining({ code: 'CUMULUS_PIPELINE_RESOURCE_QUERY_INVALID' }));
      expect(() => parseResourceFilter("display_name = 'open")).toThrow(/not closed/);
    });

    it('binds every value: injection attempts are compared, never executed', async () => {
      const injections = ["web-1' OR '1'='1", "x') OR 1=1 --", 'web-1\\\' OR 1=1 --', '{p9:String}', "'; DROP TABLE resources; --"];
      for (const text of injections) {
        expect(await find({ '=': { display_name: text } })).toEqual([]);
        expect(await find({ like: { display_name: `${text}%` } })).toEqual([]);
        const compiled = compileResourceFilter({ or: [{ '=': { display_name: text } }, { in: { id: [text] } }] }, types.get('instance'));
        expect(compiled.sql).not.toContain(text);
        expect(Object.values(compiled.params)).toContain(text);
      }
      // A value that is a real display name is found the same way (the comparison is real).
      expect(await find({ '=': { display_name: 'web-1' } })).toEqual([a]);
      // Field names are checked against the type, never spliced.
      await expect(find({ '=': { "display_name') OR 1=1 --": 'x' } })).rejects.toMatchObject({ code: 'CUMULUS_PIPELINE_RESOURCE_QUERY_ATTRIBUTE' });
      expect(() => compileResourceFilter({ '=': { 'flavor_id = flavor_id OR 1': 'x' } }, types.get('instance'))).toThrow(/Resource type instance has no flavor_id = flavor_id OR 1 attribute/);
      expect(await current(a)).toBeDefined();
      expect(await find(parseResourceFilter(`display_name = "web-1' OR '1'='1"`))).toEqual([]);
      // A quote cannot end a string early to smuggle in an expression: the filter is refused.
      expect(() => parseResourceFilter("display_name = 'x'' OR 1=1'")).toThrow(expect.objectContaining({ code: 'CUMULUS_PIPELINE_RESOURCE_QUERY_INVALID' }));
    });

    it('refuses malformed queries with typed errors', () => {
      const instance = types.get('instance');
      const code = (filter: unknown) => {
        try {
          compileResourceFilter(filter, instance);
        } catch (err) {
          return (err as { code: string }).code;
        }
        return null;
      };
      expect(code({ '~': { flavor_id: 'x' } })).toBe('CUMULUS_PIPELINE_RESOURCE_QUERY_INVALID');
      expect(code({ '=': { flavor_id: 'x', host: 'y' } })).toBe('CUMULUS_PIPELINE_RESOURCE_QUERY_INVALID');
      expect(code({ and: [] })).toBe('CUMULUS_PIPELINE_RESOURCE_QUERY_INVALID');
      expect(code({ '=': { nope: 'x' } })).toBe('CUMULUS_PIPELINE_RESOURCE_QUERY_ATTRIBUTE');
      expect(code({ '=': { revision_end: null } })).toBe('CUMULUS_PIPELINE_RESOURCE_QUERY_ATTRIBUTE');
      expect(code({ '<': { launched_at: 'tomorrow-ish' } })).toBe('CUMULUS_PIPELINE_RESOURCE_QUERY_VALUE');
      expect(code({ like: { launched_at: '2024%' } })).toBe('CUMULUS_PIPELINE_RESOURCE_QUERY_VALUE');
      expect(code({ '<': { flavor_id: null } })).toBe('CUMULUS_PIPELINE_RESOURCE_QUERY_VALUE');
      expect(code({ in: { flavor_id: [] } })).toBe('CUMULUS_PIPELINE_RESOURCE_QUERY_VALUE');
      expect(code({ '=': { flavor_id: { nested: 1 } } })).toBe('CUMULUS_PIPELINE_RESOURCE_QUERY_VALUE');
      expect(compileResourceFilter({}, instance).sql).toBeNull();
    });
  });

  it('uses the built-in types when no type store is wired', async () => {
    const bare = createResourceIndex({ store, policyForMetric: () => 'ceilometer-low' });
    await bare.indexSamples([sample('bbbbbbbb-0000-4000-8000-000000000001', 'image.size', T0, { name: 'cirros', container_format: 'bare', disk_format: 'qcow2', checksum: 'x' })]);
    expect(await current('bbbbbbbb-0000-4000-8000-000000000001')).toMatchObject({ type: 'image', attributes: '{"container_format":"bare","disk_format":"qcow2","name":"cirros"}' });
  });

  it('keeps the API\'s resource read working (selectResource) with the new columns', async () => {
    const row = await current('11111111-1111-4111-8111-111111111111');
    expect(row).toMatchObject({ type: 'instance', type_generation: 0 });
    expect(await store.query(selectResource('11111111-1111-4111-8111-111111111111', 'someone-else'))).toEqual([]);
  });
});
