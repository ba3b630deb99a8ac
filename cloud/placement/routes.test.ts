import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InProcessBus, ManualClock, migrateState, openStateDatabase, silentLogger, type StateDatabase } from '../../core/index.ts';
import { KeystoneService } from '../keystone/service.ts';
import { Notifier } from '../notifier.ts';
import { CLOUD_MIGRATIONS } from '../state.ts';
import { createPlacement } from './index.ts';
import type { PlacementService } from './service.ts';

const NOW = new Date('2026-01-02T03:04:05.678Z');
const RP1 = 'a1b2c3d4-0000-4000-8000-000000000001';
const RP2 = 'a1b2c3d4-0000-4000-8000-000000000002';
const CHILD = 'a1b2c3d4-0000-4000-8000-000000000003';
const CONSUMER = 'c0ffee00-0000-4000-8000-000000000001';
const CONSUMER2 = 'c0ffee00-0000-4000-8000-000000000002';
const AGG = 'a99a0000-0000-4000-8000-000000000001';
const PROJECT = 'p1';
const USER = 'u1';

interface JsonObject {
  [key: string]: Json;
}
type Json = string | number | boolean | null | Json[] | JsonObject;

interface Harness {
  app: FastifyInstance;
  db: StateDatabase;
  service: PlacementService;
  admin: string;
  member: { token: string; projectId: string };
}

let h: Harness;

beforeEach(async () => {
  const db = openStateDatabase(':memory:');
  migrateState(db, 'cloud', CLOUD_MIGRATIONS);
  const clock = new ManualClock(NOW);
  const keystone = new KeystoneService(db, clock, 3_600_000);
  keystone.bootstrap('admin-password-1');
  const admin = keystone.authenticate({
    identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: 'admin-password-1' } } },
    scope: { project: { name: 'admin', domain: { name: 'Default' } } },
  }).id;
  const project = keystone.createProject({ name: 'alice-project' });
  const user = keystone.createUser({ name: 'alice', password: 'alice-password', defaultProjectId: project.id });
  keystone.assignProjectRole(user.id, project.id, 'member');
  const memberToken = keystone.authenticate({ identity: { methods: ['password'], password: { user: { id: user.id, password: 'alice-password' } } } }).id;
  const placement = createPlacement({
    db,
    notifier: new Notifier(new InProcessBus(silentLogger()), clock),
    keystone,
    clock,
    logger: silentLogger(),
    publicUrl: 'http://cloud.test:8000',
    region: 'RegionOne',
  });
  const app = Fastify();
  placement.register(app);
  await app.ready();
  h = { app, db, service: placement.service, admin, member: { token: memberToken, projectId: project.id } };
});

afterEach(async () => {
  await h.app.close();
  h.db.close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: JsonObject;
}

async function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH', url: string, options: { version?: string; body?: unknown; token?: string | null; headers?: Record<string, string> } = {}): Promise<Answer> {
  const token = options.token === undefined ? h.admin : options.token;
  const response = await h.app.inject({
    method,
    url: `/placement${url}`,
    headers: {
      ...(token ? { 'x-auth-token': token } : {}),
      ...(options.version ? { 'openstack-api-version': `placement ${options.version}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { payload: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}),
  });
  return { status: response.statusCode, headers: response.headers, body: (response.body ? JSON.parse(response.body) : {}) as JsonObject };
}

const errorOf = (answer: Answer) => (answer.body.errors as JsonObject[])[0] as JsonObject;

async function computeNode(uuid: string, name: string, inventories: Record<string, Json>, version = '1.39') {
  expect((await call('POST', '/resource_providers', { version, body: { name, uuid } })).status).toBe(200);
  const put = await call('PUT', `/resource_providers/${uuid}/inventories`, { version, body: { resource_provider_generation: 0, inventories } });
  expect(put.status).toBe(200);
  return put.body;
}

const standardNode = { VCPU: { total: 8, allocation_ratio: 4.0, max_unit: 8 }, MEMORY_MB: { total: 16384, reserved: 512, max_unit: 16384 }, DISK_GB: { total: 200, max_unit: 200 } };

describe('placement API: discovery, microversions and errors', () => {
  it('serves the version document at the root without a token', async () => {
    for (const url of ['', '/']) {
      const root = await call('GET', url, { token: null });
      expect(root.status).toBe(200);
      expect(root.body).toEqual({ versions: [{ id: 'v1.0', max_version: '1.39', min_version: '1.0', status: 'CURRENT', links: [{ rel: 'self', href: '' }] }] });
      expect(root.headers['openstack-api-version']).toBe('placement 1.0');
    }
  });

  it('negotiates and echoes the microversion; latest is 1.39', async () => {
    expect((await call('GET', '/', { version: '1.17' })).headers['openstack-api-version']).toBe('placement 1.17');
    const latest = await call('GET', '/resource_providers', { version: 'latest' });
    expect(latest.headers['openstack-api-version']).toBe('placement 1.39');
    expect(latest.headers.vary).toBe('openstack-api-version');
  });

  it('refuses an unknown microversion with 406 carrying min and max, a malformed one with 400', async () => {
    const tooNew = await call('GET', '/resource_providers', { version: '1.40' });
    expect(tooNew.status).toBe(406);
    expect(errorOf(tooNew)).toMatchObject({ status: 406, title: 'Not Acceptable', max_version: '1.39', min_version: '1.0' });
    expect(errorOf(tooNew).detail).toContain('Unacceptable version header: 1.40');
    const bad = await call('GET', '/resource_providers', { version: 'one' });
    expect(bad.status).toBe(400);
    expect(errorOf(bad).detail).toContain('invalid version string: one');
  });

  it('answers 401 in keystonemiddleware form without a valid token', async () => {
    const none = await call('GET', '/resource_providers', { token: null });
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' } });
    expect((await call('GET', '/resource_providers', { token: 'not-a-token' })).status).toBe(401);
  });

  it('is admin-only: a project member gets 403 with the policy named', async () => {
    const denied = await call('GET', '/resource_providers', { token: h.member.token });
    expect(denied.status).toBe(403);
    expect(errorOf(denied).detail).toBe('Access was denied to this resource.\n\n Policy does not allow placement:resource_providers:list to be performed.  ');
  });

  it('writes Placement error bodies, with the error code from 1.23', async () => {
    const old = await call('GET', `/resource_providers/${RP1}`, { version: '1.22' });
    expect(old.status).toBe(404);
    expect(errorOf(old)).toEqual({ status: 404, title: 'Not Found', detail: `The resource could not be found.\n\n No resource provider with uuid ${RP1} found  `, request_id: expect.any(String) });
    const coded = await call('GET', `/resource_providers/${RP1}`, { version: '1.23' });
    expect(errorOf(coded).code).toBe('placement.undefined_code');
  });

  it('answers 405 with Allow for a known path and another method, 404 for an unknown path', async () => {
    const patch = await call('PATCH', '/resource_providers');
    expect(patch.status).toBe(405);
    expect(patch.headers.allow).toBe('GET, POST');
    expect(errorOf(patch).detail).toBe('The method PATCH is not allowed for this resource. \n\n The method specified is not allowed for this resource.');
    expect((await call('GET', '/nothing-here')).status).toBe(404);
  });

  it('hides routes newer than the requested microversion', async () => {
    expect((await call('GET', '/traits', { version: '1.5' })).status).toBe(404);
    expect((await call('GET', '/traits', { version: '1.6' })).status).toBe(200);
    expect((await call('GET', '/allocation_candidates?resources=VCPU:1', { version: '1.9' })).status).toBe(404);
    await call('POST', '/resource_providers', { body: { name: 'cn1', uuid: RP1 } });
    expect((await call('DELETE', `/resource_providers/${RP1}/inventories`, { version: '1.4' })).status).toBe(405);
  });

  it('requires a JSON body: 415 for another media type, 400 for malformed JSON or a schema violation', async () => {
    const media = await call('POST', '/resource_providers', { body: 'name=x', headers: { 'content-type': 'text/plain' } });
    expect(media.status).toBe(415);
    expect(errorOf(media).detail).toBe('The request media type text/plain is not supported by this server. \n\n The media type text/plain is not supported, use application/json');
    const malformed = await call('POST', '/resource_providers', { body: '{"name": ' });
    expect(malformed.status).toBe(400);
    expect(errorOf(malformed).detail).toContain('Malformed JSON');
    const invalid = await call('POST', '/resource_providers', { body: { nom: 'x' } });
    expect(invalid.status).toBe(400);
    expect(errorOf(invalid).detail).toContain("JSON does not validate: 'name' is a required property");
  });
});

describe('placement API: resource providers', () => {
  it('creates (201 before 1.20, 200 with the provider from 1.20), shows, lists, renames and deletes', async () => {
    const old = await call('POST', '/resource_providers', { version: '1.19', body: { name: 'old', uuid: RP2 } });
    expect(old.status).toBe(201);
    expect(old.headers.location).toBe(`http://cloud.test:8000/placement/resource_providers/${RP2}`);
    const created = await call('POST', '/resource_providers', { version: '1.39', body: { name: 'cn1', uuid: RP1.replace(/-/g, '').toUpperCase() } });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      uuid: RP1,
      name: 'cn1',
      generation: 0,
      parent_provider_uuid: null,
      root_provider_uuid: RP1,
      links: ['', '/inventories', '/usages', '/aggregates', '/traits', '/allocations'].map((tail, i) => ({
        rel: i === 0 ? 'self' : tail.slice(1),
        href: `/placement/resource_providers/${RP1}${tail}`,
      })),
    });
    const shown = await call('GET', `/resource_providers/${RP1}`, { version: '1.0' });
    expect(Object.keys(shown.body).sort()).toEqual(['generation', 'links', 'name', 'uuid']);
    expect((shown.body.links as JsonObject[]).map((l) => l.rel)).toEqual(['self', 'inventories', 'usages']);
    expect((await call('GET', '/resource_providers?name=cn1')).body.resource_providers).toHaveLength(1);
    expect((await call('GET', `/resource_providers?uuid=${RP2}`)).body.resource_providers).toMatchObject([{ name: 'old' }]);
    const renamed = await call('PUT', `/resource_providers/${RP1}`, { body: { name: 'cn1-renamed' } });
    expect(renamed.body).toMatchObject({ name: 'cn1-renamed', generation: 0 });
    expect((await call('DELETE', `/resource_providers/${RP1}`)).status).toBe(204);
    expect((await call('GET', `/resource_providers/${RP1}`)).status).toBe(404);
  });

  it('refuses a duplicate name or uuid with placement.duplicate_name', async () => {
    await call('POST', '/resource_providers', { body: { name: 'cn1', uuid: RP1 } });
    const dup = await call('POST', '/resource_providers', { version: '1.39', body: { name: 'cn1', uuid: RP2 } });
    expect(dup.status).toBe(409);
    expect(errorOf(dup)).toMatchObject({ code: 'placement.duplicate_name' });
    expect(errorOf(dup).detail).toContain('Conflicting resource provider name: cn1 already exists.');
  });

  it('builds trees (1.14), refuses deleting a parent, re-parents only from 1.37', async () => {
    await call('POST', '/resource_providers', { version: '1.14', body: { name: 'cn1', uuid: RP1 } });
    await call('POST', '/resource_providers', { version: '1.14', body: { name: 'cn2', uuid: RP2 } });
    const child = await call('POST', '/resource_providers', { version: '1.20', body: { name: 'numa0', uuid: CHILD, parent_provider_uuid: RP1 } });
    expect(child.body).toMatchObject({ parent_provider_uuid: RP1, root_provider_uuid: RP1 });
    expect((await call('GET', `/resource_providers?in_tree=${CHILD}`, { version: '1.14' })).body.resource_providers).toHaveLength(2);
    const parentDelete = await call('DELETE', `/resource_providers/${RP1}`, { version: '1.39' });
    expect(parentDelete.status).toBe(409);
    expect(errorOf(parentDelete).code).toBe('placement.resource_provider.cannot_delete_parent');
    const reparent = await call('PUT', `/resource_providers/${CHILD}`, { version: '1.36', body: { name: 'numa0', parent_provider_uuid: RP2 } });
    expect(reparent.status).toBe(400);
    expect(errorOf(reparent).detail).toContain('re-parenting a provider is not currently allowed.');
    const moved = await call('PUT', `/resource_providers/${CHILD}`, { version: '1.37', body: { name: 'numa0', parent_provider_uuid: RP2 } });
    expect(moved.body).toMatchObject({ parent_provider_uuid: RP2, root_provider_uuid: RP2 });
    const loop = await call('PUT', `/resource_providers/${RP2}`, { version: '1.37', body: { name: 'cn2', parent_provider_uuid: CHILD } });
    expect(errorOf(loop).detail).toContain('creating loop in the provider tree is not allowed.');
  });

  it('filters by resources (capacity), member_of and required traits', async () => {
    await computeNode(RP1, 'cn1', standardNode);
    await computeNode(RP2, 'cn2', { ...standardNode, MEMORY_MB: { total: 4096, reserved: 512, max_unit: 4096 } });
    await call('PUT', `/resource_providers/${RP1}/aggregates`, { version: '1.19', body: { aggregates: [AGG], resource_provider_generation: 1 } });
    await call('PUT', `/resource_providers/${RP2}/traits`, { version: '1.6', body: { traits: ['HW_CPU_X86_AVX2'], resource_provider_generation: 1 } });
    const names = async (query: string, version = '1.39') => ((await call('GET', `/resource_providers?${query}`, { version })).body.resource_providers as JsonObject[]).map((p) => p.name);
    expect(await names('resources=MEMORY_MB:8192')).toEqual(['cn1']);
    // 8 VCPU x 4.0 = 32 schedulable.
    expect(await names('resources=VCPU:8')).toEqual(['cn1', 'cn2']);
    expect(await names('resources=VCPU:9')).toEqual([]);
    expect(await names(`member_of=${AGG}`)).toEqual(['cn1']);
    expect(await names(`member_of=!${AGG}`)).toEqual(['cn2']);
    expect(await names('required=HW_CPU_X86_AVX2')).toEqual(['cn2']);
    expect(await names('required=!HW_CPU_X86_AVX2')).toEqual(['cn1']);
    const unknown = await call('GET', '/resource_providers?resources=NOPE:1', { version: '1.39' });
    expect(errorOf(unknown).detail).toContain('Invalid resource class in resources parameter: No such resource class NOPE.');
    const tooOld = await call('GET', `/resource_providers?member_of=${AGG}`, { version: '1.2' });
    expect(errorOf(tooOld).detail).toContain("Additional properties are not allowed ('member_of' was unexpected)");
  });
});

describe('placement API: inventories', () => {
  it('replaces all inventories at a generation, with Placement defaults filled in', async () => {
    const put = await computeNode(RP1, 'cn1', { VCPU: { total: 8 } });
    expect(put).toEqual({ resource_provider_generation: 1, inventories: { VCPU: { total: 8, reserved: 0, min_unit: 1, max_unit: 2147483647, step_size: 1, allocation_ratio: 1 } } });
    const stale = await call('PUT', `/resource_providers/${RP1}/inventories`, { version: '1.39', body: { resource_provider_generation: 0, inventories: {} } });
    expect(stale.status).toBe(409);
    expect(errorOf(stale)).toMatchObject({ status: 409, title: 'Conflict', code: 'placement.concurrent_update', detail: 'There was a conflict when trying to complete your request.\n\n resource provider generation conflict  ' });
    const one = await call('GET', `/resource_providers/${RP1}/inventories/VCPU`);
    expect(one.body).toMatchObject({ total: 8, resource_provider_generation: 1 });
  });

  it('updates, adds and deletes single inventories, each moving the generation', async () => {
    await computeNode(RP1, 'cn1', { VCPU: { total: 8 } });
    const updated = await call('PUT', `/resource_providers/${RP1}/inventories/VCPU`, { body: { resource_provider_generation: 1, total: 16, allocation_ratio: 2.0 } });
    expect(updated.body).toMatchObject({ total: 16, allocation_ratio: 2, resource_provider_generation: 2 });
    const added = await call('POST', `/resource_providers/${RP1}/inventories`, { body: { resource_class: 'DISK_GB', total: 100 } });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ total: 100, resource_provider_generation: 3 });
    expect((await call('DELETE', `/resource_providers/${RP1}/inventories/DISK_GB`)).status).toBe(204);
    expect((await call('GET', `/resource_providers/${RP1}/inventories`)).body).toMatchObject({ resource_provider_generation: 4, inventories: { VCPU: { total: 16 } } });
    expect((await call('DELETE', `/resource_providers/${RP1}/inventories`, { version: '1.5' })).status).toBe(204);
    expect((await call('GET', `/resource_providers/${RP1}/inventories`)).body).toEqual({ resource_provider_generation: 5, inventories: {} });
  });

  it('refuses reserved >= total before 1.26 and reserved > total after', async () => {
    await call('POST', '/resource_providers', { body: { name: 'cn1', uuid: RP1 } });
    const equal = { resource_provider_generation: 0, inventories: { VCPU: { total: 4, reserved: 4 } } };
    const before = await call('PUT', `/resource_providers/${RP1}/inventories`, { version: '1.25', body: equal });
    expect(before.status).toBe(400);
    expect(errorOf(before).detail).toContain('The reserved value is greater than or equal to total.');
    expect((await call('PUT', `/resource_providers/${RP1}/inventories`, { version: '1.26', body: equal })).status).toBe(200);
  });

  it('keeps an allocated class: removing it is placement.inventory.inuse', async () => {
    await computeNode(RP1, 'cn1', standardNode);
    await call('PUT', `/allocations/${CONSUMER}`, { version: '1.39', body: { allocations: { [RP1]: { resources: { VCPU: 2 } } }, project_id: PROJECT, user_id: USER, consumer_generation: null, consumer_type: 'INSTANCE' } });
    const gen = (await call('GET', `/resource_providers/${RP1}`)).body.generation;
    const removing = await call('PUT', `/resource_providers/${RP1}/inventories`, { version: '1.39', body: { resource_provider_generation: gen, inventories: { MEMORY_MB: { total: 1024 } } } });
    expect(removing.status).toBe(409);
    expect(errorOf(removing).code).toBe('placement.inventory.inuse');
    const deleting = await call('DELETE', `/resource_providers/${RP1}`, { version: '1.39' });
    expect(errorOf(deleting).code).toBe('placement.resource_provider.inuse');
  });
});

describe('placement API: allocations and usages', () => {
  const put = (consumer: string, body: unknown, version = '1.39') => call('PUT', `/allocations/${consumer}`, { version, body });

  it('allocates at 1.28+ with consumer generations and reports usages', async () => {
    await computeNode(RP1, 'cn1', standardNode);
    const first = await put(CONSUMER, { allocations: { [RP1]: { resources: { VCPU: 2, MEMORY_MB: 2048, DISK_GB: 20 } } }, project_id: PROJECT, user_id: USER, consumer_generation: null, consumer_type: 'INSTANCE' });
    expect(first.status).toBe(204);
    const got = await call('GET', `/allocations/${CONSUMER}`, { version: '1.39' });
    expect(got.body).toEqual({
      allocations: { [RP1]: { resources: { VCPU: 2, MEMORY_MB: 2048, DISK_GB: 20 }, generation: 2 } },
      project_id: PROJECT,
      user_id: USER,
      consumer_generation: 1,
      consumer_type: 'INSTANCE',
    });
    const stale = await put(CONSUMER, { allocations: { [RP1]: { resources: { VCPU: 4 } } }, project_id: PROJECT, user_id: USER, consumer_generation: null, consumer_type: 'INSTANCE' });
    expect(stale.status).toBe(409);
    expect(errorOf(stale)).toMatchObject({ code: 'placement.concurrent_update' });
    expect(errorOf(stale).detail).toContain('consumer generation conflict - expected 1 but got None');
    const resized = await put(CONSUMER, { allocations: { [RP1]: { resources: { VCPU: 4, MEMORY_MB: 4096, DISK_GB: 20 } } }, project_id: PROJECT, user_id: USER, consumer_generation: 1, consumer_type: 'INSTANCE' });
    expect(resized.status).toBe(204);
    expect((await call('GET', `/resource_providers/${RP1}/usages`)).body).toEqual({ resource_provider_generation: 3, usages: { VCPU: 4, MEMORY_MB: 4096, DISK_GB: 20 } });
    expect((await call('GET', `/resource_providers/${RP1}/allocations`, { version: '1.39' })).body).toEqual({
      allocations: { [CONSUMER]: { resources: { VCPU: 4, MEMORY_MB: 4096, DISK_GB: 20 }, consumer_generation: 2 } },
      resource_provider_generation: 3,
    });
    expect((await call('GET', `/usages?project_id=${PROJECT}`, { version: '1.9' })).body).toEqual({ usages: { VCPU: 4, MEMORY_MB: 4096, DISK_GB: 20 } });
    expect((await call('GET', `/usages?project_id=${PROJECT}&user_id=other`, { version: '1.9' })).body).toEqual({ usages: {} });
    expect((await call('GET', `/usages?project_id=${PROJECT}`, { version: '1.38' })).body).toEqual({ usages: { INSTANCE: { VCPU: 4, MEMORY_MB: 4096, DISK_GB: 20, consumer_count: 1 } } });
    expect((await call('DELETE', `/allocations/${CONSUMER}`)).status).toBe(204);
    expect((await call('GET', `/allocations/${CONSUMER}`, { version: '1.39' })).body).toEqual({ allocations: {} });
    expect((await call('DELETE', `/allocations/${CONSUMER}`)).status).toBe(404);
  });

  it('refuses what exceeds (total - reserved) * allocation_ratio with 409, leaving nothing behind', async () => {
    await computeNode(RP1, 'cn1', standardNode);
    // MEMORY_MB: (16384 - 512) * 1.0 = 15872.
    const tooBig = await put(CONSUMER, { allocations: { [RP1]: { resources: { MEMORY_MB: 15873 } } }, project_id: PROJECT, user_id: USER, consumer_generation: null, consumer_type: 'INSTANCE' });
    expect(tooBig.status).toBe(409);
    expect(errorOf(tooBig)).toMatchObject({ code: 'placement.undefined_code' });
    expect(errorOf(tooBig).detail).toBe(
      `There was a conflict when trying to complete your request.\n\n Unable to allocate inventory: Unable to create allocation for 'MEMORY_MB' on resource provider '${RP1}'. The requested amount would exceed the capacity.  `,
    );
    expect((await call('GET', `/allocations/${CONSUMER}`, { version: '1.39' })).body).toEqual({ allocations: {} });
    const exact = await put(CONSUMER, { allocations: { [RP1]: { resources: { MEMORY_MB: 15872 } } }, project_id: PROJECT, user_id: USER, consumer_generation: null, consumer_type: 'INSTANCE' });
    expect(exact.status).toBe(204);
    const maxUnit = await put(CONSUMER2, { allocations: { [RP1]: { resources: { VCPU: 9 } } }, project_id: PROJECT, user_id: USER, consumer_generation: null, consumer_type: 'INSTANCE' });
    expect(errorOf(maxUnit).detail).toContain('The requested amount would violate inventory constraints.');
    const noInventory = await put(CONSUMER2, { allocations: { [RP1]: { resources: { VGPU: 1 } } }, project_id: PROJECT, user_id: USER, consumer_generation: null, consumer_type: 'INSTANCE' });
    expect(errorOf(noInventory).detail).toContain(`Inventory for 'VGPU' on resource provider '${RP1}' invalid.`);
    const missing = await put(CONSUMER2, { allocations: { [RP2]: { resources: { VCPU: 1 } } }, project_id: PROJECT, user_id: USER, consumer_generation: null, consumer_type: 'INSTANCE' });
    expect(missing.status).toBe(400);
    expect(errorOf(missing).detail).toContain(`Allocation for resource provider '${RP2}' that does not exist.`);
  });

  it('accepts the older body formats: the list form before 1.12, no project before 1.8', async () => {
    await computeNode(RP1, 'cn1', standardNode);
    const legacy = await put(CONSUMER, { allocations: [{ resource_provider: { uuid: RP1 }, resources: { VCPU: 1 } }] }, '1.0');
    expect(legacy.status).toBe(204);
    expect((await call('GET', `/allocations/${CONSUMER}`, { version: '1.12' })).body).toMatchObject({ project_id: '00000000-0000-0000-0000-000000000000' });
    const v18 = await put(CONSUMER2, { allocations: [{ resource_provider: { uuid: RP1 }, resources: { VCPU: 1 } }], project_id: PROJECT, user_id: USER }, '1.8');
    expect(v18.status).toBe(204);
    const v12 = await put(CONSUMER2, { allocations: { [RP1]: { resources: { VCPU: 3 } } }, project_id: PROJECT, user_id: USER }, '1.12');
    expect(v12.status).toBe(204);
    expect((await call('GET', `/resource_providers/${RP1}/usages`)).body.usages).toMatchObject({ VCPU: 4 });
    const noGeneration = await put(CONSUMER2, { allocations: { [RP1]: { resources: { VCPU: 3 } } }, project_id: PROJECT, user_id: USER }, '1.28');
    expect(errorOf(noGeneration).detail).toContain("'consumer_generation' is a required property");
  });

  it('writes several consumers at once with POST /allocations (1.13), atomically', async () => {
    await computeNode(RP1, 'cn1', { VCPU: { total: 8, allocation_ratio: 4.0, max_unit: 32 } });
    const both = await call('POST', '/allocations', {
      version: '1.39',
      body: {
        [CONSUMER]: { allocations: { [RP1]: { resources: { VCPU: 16 } } }, project_id: PROJECT, user_id: USER, consumer_generation: null, consumer_type: 'INSTANCE' },
        [CONSUMER2]: { allocations: { [RP1]: { resources: { VCPU: 8 } } }, project_id: PROJECT, user_id: USER, consumer_generation: null, consumer_type: 'MIGRATION' },
      },
    });
    expect(both.status).toBe(204);
    expect((await call('GET', `/usages?project_id=${PROJECT}&consumer_type=all`, { version: '1.38' })).body).toEqual({ usages: { all: { VCPU: 24, consumer_count: 2 } } });
    // 32 schedulable VCPU: 16 + 8 held, moving the migration to 17 does not fit.
    const over = await call('POST', '/allocations', {
      version: '1.39',
      body: { [CONSUMER2]: { allocations: { [RP1]: { resources: { VCPU: 17 } } }, project_id: PROJECT, user_id: USER, consumer_generation: 1, consumer_type: 'MIGRATION' } },
    });
    expect(over.status).toBe(409);
    const swap = await call('POST', '/allocations', {
      version: '1.39',
      body: {
        [CONSUMER]: { allocations: {}, project_id: PROJECT, user_id: USER, consumer_generation: 1, consumer_type: 'INSTANCE' },
        [CONSUMER2]: { allocations: { [RP1]: { resources: { VCPU: 24 } } }, project_id: PROJECT, user_id: USER, consumer_generation: 1, consumer_type: 'MIGRATION' },
      },
    });
    expect(swap.status).toBe(204);
    expect((await call('GET', `/resource_providers/${RP1}/usages`)).body.usages).toMatchObject({ VCPU: 24 });
    expect((await call('GET', `/allocations/${CONSUMER}`)).body).toEqual({ allocations: {} });
  });

  it('lets a project reader see its own usages only', async () => {
    const own = await call('GET', `/usages?project_id=${h.member.projectId}`, { version: '1.9', token: h.member.token });
    expect(own.status).toBe(200);
    expect((await call('GET', `/usages?project_id=${PROJECT}`, { version: '1.9', token: h.member.token })).status).toBe(403);
    const missing = await call('GET', '/usages', { version: '1.9' });
    expect(errorOf(missing).detail).toContain("'project_id' is a required property");
  });
});

describe('placement API: resource classes, traits, aggregates', () => {
  it('lists the standard resource classes and manages custom ones', async () => {
    const list = await call('GET', '/resource_classes', { version: '1.2' });
    expect((list.body.resource_classes as JsonObject[]).slice(0, 3)).toEqual(['VCPU', 'MEMORY_MB', 'DISK_GB'].map((name) => ({ name, links: [{ rel: 'self', href: `/placement/resource_classes/${name}` }] })));
    expect((await call('POST', '/resource_classes', { version: '1.2', body: { name: 'CUSTOM_GOLD' } })).status).toBe(201);
    expect((await call('POST', '/resource_classes', { version: '1.2', body: { name: 'CUSTOM_GOLD' } })).status).toBe(409);
    expect((await call('POST', '/resource_classes', { version: '1.2', body: { name: 'GOLD' } })).status).toBe(400);
    expect((await call('PUT', '/resource_classes/CUSTOM_SILVER', { version: '1.7' })).status).toBe(201);
    expect((await call('PUT', '/resource_classes/CUSTOM_SILVER', { version: '1.7' })).status).toBe(204);
    expect((await call('GET', '/resource_classes/CUSTOM_SILVER', { version: '1.7' })).body).toMatchObject({ name: 'CUSTOM_SILVER' });
    const standard = await call('DELETE', '/resource_classes/VCPU', { version: '1.7' });
    expect(errorOf(standard).detail).toContain('Cannot delete standard resource class VCPU.');
    expect((await call('DELETE', '/resource_classes/CUSTOM_GOLD', { version: '1.7' })).status).toBe(204);
    await computeNode(RP1, 'cn1', { CUSTOM_SILVER: { total: 4 } });
    expect((await call('DELETE', '/resource_classes/CUSTOM_SILVER', { version: '1.7' })).status).toBe(409);
  });

  it('knows the os-traits standard traits and manages custom and provider traits', async () => {
    const compute = await call('GET', '/traits?name=startswith:COMPUTE_STATUS', { version: '1.6' });
    expect(compute.body.traits).toContain('COMPUTE_STATUS_DISABLED');
    expect((await call('PUT', '/traits/CUSTOM_FAST', { version: '1.6' })).status).toBe(201);
    expect((await call('PUT', '/traits/CUSTOM_FAST', { version: '1.6' })).status).toBe(204);
    expect((await call('PUT', '/traits/FAST', { version: '1.6' })).status).toBe(400);
    expect((await call('GET', '/traits/CUSTOM_FAST', { version: '1.6' })).status).toBe(204);
    await call('POST', '/resource_providers', { body: { name: 'cn1', uuid: RP1 } });
    const set = await call('PUT', `/resource_providers/${RP1}/traits`, { version: '1.6', body: { traits: ['CUSTOM_FAST', 'HW_CPU_X86_AVX2'], resource_provider_generation: 0 } });
    expect(set.body).toEqual({ traits: ['CUSTOM_FAST', 'HW_CPU_X86_AVX2'], resource_provider_generation: 1 });
    const unknown = await call('PUT', `/resource_providers/${RP1}/traits`, { version: '1.6', body: { traits: ['CUSTOM_NOPE'], resource_provider_generation: 1 } });
    expect(errorOf(unknown).detail).toContain('No such trait CUSTOM_NOPE');
    expect((await call('DELETE', '/traits/CUSTOM_FAST', { version: '1.6' })).status).toBe(409);
    expect((await call('GET', '/traits?associated=true', { version: '1.6' })).body.traits).toEqual(['CUSTOM_FAST', 'HW_CPU_X86_AVX2']);
    expect((await call('DELETE', `/resource_providers/${RP1}/traits`, { version: '1.6' })).status).toBe(204);
    expect((await call('GET', `/resource_providers/${RP1}/traits`, { version: '1.6' })).body).toEqual({ traits: [], resource_provider_generation: 2 });
  });

  it('sets aggregates as a bare list before 1.19 and at a generation from 1.19', async () => {
    await call('POST', '/resource_providers', { body: { name: 'cn1', uuid: RP1 } });
    const legacy = await call('PUT', `/resource_providers/${RP1}/aggregates`, { version: '1.1', body: [AGG] });
    expect(legacy.body).toEqual({ aggregates: [AGG] });
    expect((await call('GET', `/resource_providers/${RP1}`)).body.generation).toBe(0);
    const stale = await call('PUT', `/resource_providers/${RP1}/aggregates`, { version: '1.19', body: { aggregates: [], resource_provider_generation: 5 } });
    expect(stale.status).toBe(409);
    const cleared = await call('PUT', `/resource_providers/${RP1}/aggregates`, { version: '1.19', body: { aggregates: [], resource_provider_generation: 0 } });
    expect(cleared.body).toEqual({ aggregates: [], resource_provider_generation: 1 });
  });
});

describe('placement API: allocation candidates', () => {
  it('returns the providers that fit with their summaries, in the 1.12+ and the legacy forms', async () => {
    await computeNode(RP1, 'cn1', standardNode);
    await computeNode(RP2, 'cn2', { ...standardNode, MEMORY_MB: { total: 2048, reserved: 512, max_unit: 2048 } });
    await call('PUT', `/allocations/${CONSUMER}`, { version: '1.39', body: { allocations: { [RP1]: { resources: { VCPU: 2 } } }, project_id: PROJECT, user_id: USER, consumer_generation: null, consumer_type: 'INSTANCE' } });
    const latest = await call('GET', '/allocation_candidates?resources=VCPU:1,MEMORY_MB:1024,DISK_GB:1', { version: '1.39' });
    expect(latest.status).toBe(200);
    expect(latest.body.allocation_requests).toEqual([
      { allocations: { [RP1]: { resources: { VCPU: 1, MEMORY_MB: 1024, DISK_GB: 1 } } }, mappings: { '': [RP1] } },
      { allocations: { [RP2]: { resources: { VCPU: 1, MEMORY_MB: 1024, DISK_GB: 1 } } }, mappings: { '': [RP2] } },
    ]);
    expect((latest.body.provider_summaries as JsonObject)[RP1]).toEqual({
      resources: { VCPU: { capacity: 32, used: 2 }, MEMORY_MB: { capacity: 15872, used: 0 }, DISK_GB: { capacity: 200, used: 0 } },
      traits: [],
      parent_provider_uuid: null,
      root_provider_uuid: RP1,
    });
    const big = await call('GET', '/allocation_candidates?resources=MEMORY_MB:2048', { version: '1.39' });
    expect(Object.keys(big.body.provider_summaries as JsonObject)).toEqual([RP1]);
    const legacy = await call('GET', '/allocation_candidates?resources=VCPU:1&limit=1', { version: '1.16' });
    expect(legacy.body).toEqual({
      allocation_requests: [{ allocations: { [RP1]: { resources: { VCPU: 1 } } } }],
      provider_summaries: { [RP1]: { resources: { VCPU: { capacity: 32, used: 2 } } } },
    });
    const v10 = await call('GET', '/allocation_candidates?resources=VCPU:1', { version: '1.10' });
    expect((v10.body.allocation_requests as JsonObject[])[0]).toEqual({ allocations: [{ resource_provider: { uuid: RP1 }, resources: { VCPU: 1 } }] });
  });

  it('filters by member_of and required traits, and checks its query string like Placement', async () => {
    await computeNode(RP1, 'cn1', standardNode);
    await computeNode(RP2, 'cn2', standardNode);
    await call('PUT', `/resource_providers/${RP2}/aggregates`, { version: '1.19', body: { aggregates: [AGG], resource_provider_generation: 1 } });
    const inAgg = await call('GET', `/allocation_candidates?resources=VCPU:1&member_of=${AGG}`, { version: '1.21' });
    expect(Object.keys(inAgg.body.provider_summaries as JsonObject)).toEqual([RP2]);
    const noTrait = await call('GET', '/allocation_candidates?resources=VCPU:1&required=HW_CPU_X86_AVX2', { version: '1.17' });
    expect(noTrait.body).toEqual({ allocation_requests: [], provider_summaries: {} });
    expect((await call('GET', '/allocation_candidates', { version: '1.10' })).status).toBe(400);
    const orphan = await call('GET', '/allocation_candidates?resources=VCPU:1&required1=HW_CPU_X86_AVX2', { version: '1.25' });
    expect(errorOf(orphan).detail).toContain('All traits parameters must be associated with resources.');
    const policy = await call('GET', '/allocation_candidates?resources1=VCPU:1&resources2=MEMORY_MB:1', { version: '1.25' });
    expect(errorOf(policy).detail).toContain('The "group_policy" parameter is required');
    const badRc = await call('GET', '/allocation_candidates?resources=NOPE:1', { version: '1.25' });
    expect(errorOf(badRc).detail).toContain('No such resource class NOPE.');
    const badAmount = await call('GET', '/allocation_candidates?resources=VCPU:0', { version: '1.25' });
    expect(errorOf(badAmount).detail).toContain('Requested resource VCPU requires amount >= 1. Got: 0.');
  });
});
