import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IMAGE, PUBLIC_URL, call, createStack, get, harness, list, settled, text, until, type Harness, type Json } from './test-harness.ts';

/** A small application: a server whose name and flavor come from parameters, beside a placeholder and a password. */
const WEB = `
heat_template_version: 2018-08-31
description: Web tier
parameters:
  flavor: {type: string, default: m1.small}
  server_name: {type: string, default: web-1}
resources:
  web:
    type: OS::Nova::Server
    properties:
      name: {get_param: server_name}
      flavor: {get_param: flavor}
      image: ${IMAGE}
      networks: [{network: private}]
      metadata: {role: web, replicas: 2}
  password:
    type: OS::Heat::RandomString
    properties: {length: 12}
  marker:
    type: OS::Heat::None
outputs:
  server_id:
    description: the server
    value: {get_resource: web}
`;

const server = (h: Harness, id: string) => h.db.prepare('SELECT * FROM servers WHERE id = ?').get(id) as { name: string; metadata: string; vm_state: string; deleted: number; project_id: string; flavor_id: string };
const physicalId = (resources: Json[], name: string) => text(resources.find((r) => r.resource_name === name), 'physical_resource_id');

describe('heat stacks: create', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });

  it('answers 201 with the stack link, is CREATE_IN_PROGRESS, then CREATE_COMPLETE with every resource created', async () => {
    const created = await call(h, 'POST', '/stacks', h.alice, { stack_name: 'shop', template: WEB, parameters: { server_name: 'shop-web' }, tags: 'team-a,prod' });
    expect(created.status).toBe(201);
    const id = text(created.body, 'stack.id');
    const href = `${PUBLIC_URL}/heat-api/v1/${h.alice.projectId}/stacks/shop/${id}`;
    expect(created.body).toEqual({ stack: { id, links: [{ href, rel: 'self' }] } });
    expect(created.headers.location).toBe(href);
    expect(created.headers['x-openstack-request-id']).toEqual(expect.any(String));

    const early = await call(h, 'GET', `/stacks/shop/${id}`, h.alice);
    expect(get(early.body, 'stack.stack_status')).toBe('CREATE_IN_PROGRESS');

    const stack = await settled(h, h.alice, { id, name: 'shop' });
    expect(stack).toMatchObject({
      id,
      stack_name: 'shop',
      stack_status: 'CREATE_COMPLETE',
      stack_status_reason: 'Stack CREATE completed successfully',
      description: 'Web tier',
      creation_time: '2026-01-02T03:04:05Z',
      updated_time: null,
      deletion_time: null,
      tags: ['team-a', 'prod'],
      disable_rollback: true,
      stack_owner: 'alice',
      links: [{ href, rel: 'self' }],
      parameters: { 'OS::stack_id': id, 'OS::stack_name': 'shop', 'OS::project_id': h.alice.projectId, flavor: 'm1.small', server_name: 'shop-web' },
    });

    const resources = list((await call(h, 'GET', `/stacks/shop/${id}/resources`, h.alice)).body, 'resources');
    // Nothing depends on anything here: template order.
    expect(resources.map((r) => [r.resource_name, r.resource_type, r.resource_status])).toEqual([
      ['web', 'OS::Nova::Server', 'CREATE_COMPLETE'],
      ['password', 'OS::Heat::RandomString', 'CREATE_COMPLETE'],
      ['marker', 'OS::Heat::None', 'CREATE_COMPLETE'],
    ]);
    expect(physicalId(resources, 'password')).toMatch(/^shop-password-[a-z2-7]{12}$/);
    expect(resources[0]).toMatchObject({ logical_resource_id: 'web', resource_status_reason: 'state changed', required_by: [], links: [{ href: `${href}/resources/web`, rel: 'self' }, { href, rel: 'stack' }] });
    expect(get(stack, 'outputs')).toEqual([{ output_key: 'server_id', description: 'the server', output_value: physicalId(resources, 'web') }]);

    const detail = await call(h, 'GET', `/stacks/shop/${id}/resources/password`, h.alice);
    expect(text(detail.body, 'resource.attributes.value')).toMatch(/^[A-Za-z0-9]{12}$/);
  });

  it('creates the server through Nova, tagged metering.stack=<stack id> beside its own metadata, and waits for ACTIVE', async () => {
    const stack = await createStack(h, h.alice, 'shop', WEB);
    await settled(h, h.alice, stack);
    const resources = list((await call(h, 'GET', `/stacks/shop/${stack.id}/resources`, h.alice)).body, 'resources');
    const row = server(h, physicalId(resources, 'web'));
    expect(row).toMatchObject({ name: 'web-1', vm_state: 'active', project_id: h.alice.projectId, flavor_id: 'small' });
    expect(JSON.parse(row.metadata)).toEqual({ role: 'web', replicas: '2', 'metering.stack': stack.id });

    // What Ceilometer reads from Nova carries the stack: its user_metadata groups the bill by stack.
    await until(() => h.captured.some((c) => c.message.event_type === 'compute.instance.create.end'), 'nova create.end');
    const end = h.captured.find((c) => c.message.event_type === 'compute.instance.create.end');
    expect(get(end?.message.payload, 'metadata')).toMatchObject({ 'metering.stack': stack.id });
  });

  it('does not let the template move a server out of its stack', async () => {
    const template = WEB.replace('metadata: {role: web, replicas: 2}', `metadata: {"metering.stack": someone-else}`);
    const stack = await createStack(h, h.alice, 'shop', template);
    await settled(h, h.alice, stack);
    const resources = list((await call(h, 'GET', `/stacks/shop/${stack.id}/resources`, h.alice)).body, 'resources');
    expect(JSON.parse(server(h, physicalId(resources, 'web')).metadata)).toEqual({ 'metering.stack': stack.id });
  });

  it('emits orchestration.stack.create.start and .end on the heat exchange with Heat\'s payload, which Ceilometer\'s stack.create meter reads', async () => {
    const stack = await createStack(h, h.alice, 'shop', WEB, { tags: ['team-a'] });
    await settled(h, h.alice, stack);
    await until(() => h.heatEvents().length === 2, 'two heat notifications');
    expect(h.heatEvents()).toEqual(['orchestration.stack.create.start', 'orchestration.stack.create.end']);
    const [start, end] = h.captured.filter((c) => c.exchange === 'heat');
    for (const captured of [start, end]) {
      expect(captured?.routingKey).toBe('notifications.info');
      expect(captured?.message).toMatchObject({ publisher_id: 'orchestration.heat-engine-1', priority: 'INFO', _context_project_id: h.alice.projectId, _context_user_id: h.alice.userId });
    }
    expect(start?.message.payload).toEqual({
      tenant_id: h.alice.projectId,
      user_id: 'alice',
      user_identity: h.alice.userId,
      username: 'alice',
      stack_identity: stack.id,
      stack_name: 'shop',
      state: 'CREATE_IN_PROGRESS',
      state_reason: 'Stack CREATE started',
      create_at: '2026-01-02T03:04:05Z',
      description: 'Web tier',
      updated_at: null,
      tags: ['team-a'],
    });
    // meters.yaml stack.create: resource_id $.payload.stack_identity, project_id $.payload.tenant_id.
    expect(end?.message.payload).toMatchObject({ stack_identity: stack.id, tenant_id: h.alice.projectId, state: 'CREATE_COMPLETE', state_reason: 'Stack CREATE completed successfully' });
  });

  it('names a flavor by id as well as by name', async () => {
    const stack = await createStack(h, h.alice, 'shop', WEB, { parameters: { flavor: 'small' } });
    expect(get(await settled(h, h.alice, stack), 'stack_status')).toBe('CREATE_COMPLETE');
  });

  it('ends CREATE_FAILED when the server goes to ERROR, emits create.error, keeps the server so a delete removes it', async () => {
    const stack = await createStack(h, h.alice, 'big', WEB, { parameters: { flavor: 'm1.huge' } });
    const shown = await settled(h, h.alice, stack);
    expect(shown.stack_status).toBe('CREATE_FAILED');
    expect(shown.stack_status_reason).toBe(
      'Resource CREATE failed: ResourceInError: resources.web: Went to status ERROR due to "Message: No valid host was found. There are not enough hosts available., Code: 500"',
    );
    const resources = list((await call(h, 'GET', `/stacks/big/${stack.id}/resources`, h.alice)).body, 'resources');
    const web = resources.find((r) => r.resource_name === 'web');
    expect(web).toMatchObject({ resource_status: 'CREATE_FAILED', resource_status_reason: expect.stringContaining('ResourceInError: resources.web') });
    const serverId = physicalId(resources, 'web');
    expect(server(h, serverId).vm_state).toBe('error');

    await until(() => h.heatEvents().length === 2, 'two heat notifications');
    const error = h.captured.filter((c) => c.exchange === 'heat')[1];
    expect(error?.message).toMatchObject({ event_type: 'orchestration.stack.create.error', priority: 'ERROR', payload: { state: 'CREATE_FAILED' } });
    expect(error?.routingKey).toBe('notifications.error');

    expect((await call(h, 'DELETE', `/stacks/big/${stack.id}`, h.alice)).status).toBe(204);
    await settled(h, h.alice, stack);
    expect(server(h, serverId).deleted).toBe(1);
  });

  it('fails a resource whose creator rejects, with the creator\'s message, and creates nothing after it', async () => {
    const failing = await harness({
      resourceTypes: {
        'OS::Cinder::Volume': {
          async create() {
            throw new Error('backend is full');
          },
          async delete() {},
        },
      },
    });
    const template = { heat_template_version: '2018-08-31', resources: { data: { type: 'OS::Cinder::Volume', properties: { size: 1 } }, after: { type: 'OS::Heat::None', depends_on: 'data' } } };
    const stack = await createStack(failing, failing.alice, 'vols', template);
    const shown = await settled(failing, failing.alice, stack);
    expect(shown).toMatchObject({ stack_status: 'CREATE_FAILED', stack_status_reason: 'Resource CREATE failed: Error: resources.data: backend is full' });
    const resources = list((await call(failing, 'GET', `/stacks/vols/${stack.id}/resources`, failing.alice)).body, 'resources');
    expect(resources.map((r) => [r.resource_name, r.resource_status])).toEqual([
      ['data', 'CREATE_FAILED'],
      ['after', 'INIT_COMPLETE'],
    ]);
  });
});

describe('heat stacks: refusals', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });

  it("answers in Heat's error shape: 404 EntityNotFound", async () => {
    const missing = await call(h, 'GET', '/stacks/nothing/3b0a4d8e-6f1c-4e2a-9b7d-5c6e7f8a9b0c', h.alice);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      explanation: 'The resource could not be found.',
      code: 404,
      error: { message: 'The Stack (nothing) could not be found.', traceback: null, type: 'EntityNotFound' },
      title: 'Not Found',
    });
    const route = await call(h, 'GET', '/no-such-thing', h.alice);
    expect(route.status).toBe(404);
    expect(get(route.body, 'error.type')).toBe('HTTPNotFound');
  });

  it('refuses a second live stack of the same name in a project (409 StackExists), not in another project', async () => {
    await createStack(h, h.alice, 'shop', WEB);
    const again = await call(h, 'POST', '/stacks', h.alice, { stack_name: 'shop', template: WEB });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ title: 'Conflict', error: { type: 'StackExists', message: 'The Stack (shop) already exists.' } });
    expect((await call(h, 'POST', '/stacks', h.bob, { stack_name: 'shop', template: WEB })).status).toBe(201);
  });

  it('answers 401 without a valid token, in the shape keystonemiddleware uses', async () => {
    const response = await call(h, 'GET', '/stacks', null, undefined, h.alice.projectId);
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' } });
  });
});

describe('heat stacks: invalid creates', () => {
  // Every case is refused before anything is stored, so one control plane serves them all.
  let h: Harness;
  beforeAll(async () => {
    h = await harness({}, 'file');
  });

  it.each([
    ['no stack name', { template: WEB }, 'HTTPBadRequest', 'No stack name specified'],
    ['no template', { stack_name: 's' }, 'HTTPBadRequest', 'No template specified'],
    ['a bad stack name', { stack_name: '1-bad', template: WEB }, 'StackValidationFailed', 'Invalid stack name 1-bad'],
    ['an unknown resource type', { stack_name: 's', template: { heat_template_version: '2015-04-30', resources: { v: { type: 'OS::Trove::Instance' } } } }, 'StackValidationFailed', 'resources.v: The Resource Type (OS::Trove::Instance) could not be found.'],
    ['an unknown parameter', { stack_name: 's', template: WEB, parameters: { colour: 'red' } }, 'UnknownUserParameter', 'The Parameter (colour) was not defined in template.'],
    ['an unknown flavor', { stack_name: 's', template: WEB, parameters: { flavor: 'm9.giant' } }, 'StackValidationFailed', "Error validating value 'm9.giant': The Flavor (m9.giant) could not be found."],
    ['a server without image', { stack_name: 's', template: { heat_template_version: '2015-04-30', resources: { vm: { type: 'OS::Nova::Server', properties: { flavor: 'small' } } } } }, 'StackValidationFailed', 'Neither image nor bootable volume is specified for instance vm'],
    ['a get_param of nothing', { stack_name: 's', template: { heat_template_version: '2015-04-30', resources: { n: { type: 'OS::Heat::None', properties: { x: { get_param: 'nope' } } } } } }, 'StackValidationFailed', 'The Parameter (nope) was not provided.'],
    ['a resource_registry', { stack_name: 's', template: WEB, environment: { resource_registry: { 'OS::Nova::Server': 'x.yaml' } } }, 'NotSupported', 'resource_registry'],
  ])('refuses a create with %s', async (_what, body, type, message) => {
    const response = await call(h, 'POST', '/stacks', h.alice, body);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 400, title: 'Bad Request', error: { type, message: expect.stringContaining(message), traceback: null } });
    expect(h.db.prepare('SELECT COUNT(*) AS n FROM heat_stacks').get()).toEqual({ n: 0 });
  });

});

describe('heat stacks: projects', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });

  it("shows a member only their project's stacks; another project's stack is 404, another project's URL 403", async () => {
    const stack = await createStack(h, h.alice, 'shop', WEB);
    await settled(h, h.alice, stack);
    expect(list((await call(h, 'GET', '/stacks', h.bob)).body, 'stacks')).toEqual([]);
    expect((await call(h, 'GET', `/stacks/shop/${stack.id}`, h.bob)).status).toBe(404);
    expect((await call(h, 'GET', `/stacks/shop`, h.bob)).status).toBe(404);
    expect((await call(h, 'DELETE', `/stacks/shop/${stack.id}`, h.bob)).status).toBe(404);
    expect((await call(h, 'GET', `/stacks/${stack.id}/resources`, h.bob)).status).toBe(404);

    const foreign = await call(h, 'GET', '/stacks', h.bob, undefined, h.alice.projectId);
    expect(foreign.status).toBe(403);
    expect(foreign.body).toMatchObject({ code: 403, title: 'Forbidden', error: { type: 'HTTPForbidden' } });
    expect((await call(h, 'GET', '/stacks?global_tenant=true', h.bob)).status).toBe(403);
  });

  it('lets an admin see every project with global_tenant, each stack with its project', async () => {
    const a = await createStack(h, h.alice, 'shop', WEB);
    const b = await createStack(h, h.bob, 'blog', WEB);
    await settled(h, h.alice, a);
    await settled(h, h.bob, b);
    expect(list((await call(h, 'GET', '/stacks', h.admin)).body, 'stacks')).toEqual([]);
    const all = list((await call(h, 'GET', '/stacks?global_tenant=true', h.admin)).body, 'stacks');
    expect(all.map((s) => [s.stack_name, s.project]).sort()).toEqual([
      ['blog', h.bob.projectId],
      ['shop', h.alice.projectId],
    ]);
    // By id an admin reaches any stack; the links keep the owner's project.
    const shown = await call(h, 'GET', `/stacks/shop/${a.id}`, h.admin);
    expect(text(shown.body, 'stack.links.0.href')).toContain(`/heat-api/v1/${h.alice.projectId}/stacks/shop/${a.id}`);
  });
});

describe('heat stacks: lookups and lists', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });

  it('redirects /stacks/{name} and /stacks/{id} (302) to the full URL, keeping a sub-path and the query', async () => {
    const stack = await createStack(h, h.alice, 'shop', WEB);
    const full = `${PUBLIC_URL}/heat-api/v1/${h.alice.projectId}/stacks/shop/${stack.id}`;
    const byName = await h.app.inject({ method: 'GET', url: `/heat-api/v1/${h.alice.projectId}/stacks/shop`, headers: { 'x-auth-token': h.alice.token } });
    expect(byName.statusCode).toBe(302);
    expect(byName.headers.location).toBe(full);
    const byId = await h.app.inject({ method: 'GET', url: `/heat-api/v1/${h.alice.projectId}/stacks/${stack.id}?resolve_outputs=false`, headers: { 'x-auth-token': h.alice.token } });
    expect(byId.headers.location).toBe(`${full}?resolve_outputs=false`);
    const sub = await h.app.inject({ method: 'GET', url: `/heat-api/v1/${h.alice.projectId}/stacks/shop/resources`, headers: { 'x-auth-token': h.alice.token } });
    expect(sub.statusCode).toBe(302);
    expect(sub.headers.location).toBe(`${full}/resources`);
    const wrongName = await call(h, 'GET', `/stacks/other/${stack.id}`, h.alice);
    expect(wrongName.status).toBe(404);
  });

  it('lists stacks newest first with Heat\'s summary fields, filters by name, status and tags, and pages with limit and marker', async () => {
    const first = await createStack(h, h.alice, 'one', WEB, { tags: 'a,b' });
    h.clock.advance(1000);
    const second = await createStack(h, h.alice, 'two', WEB, { tags: 'b' });
    h.clock.advance(1000);
    const third = await createStack(h, h.alice, 'three', WEB, { parameters: { flavor: 'm1.huge' } });
    for (const s of [first, second, third]) await settled(h, h.alice, s);

    const listed = list((await call(h, 'GET', '/stacks', h.alice)).body, 'stacks');
    expect(listed.map((s) => s.stack_name)).toEqual(['three', 'two', 'one']);
    expect(listed[2]).toEqual({
      id: first.id,
      links: [{ href: `${PUBLIC_URL}/heat-api/v1/${h.alice.projectId}/stacks/one/${first.id}`, rel: 'self' }],
      stack_name: 'one',
      description: '',
      stack_status: 'CREATE_COMPLETE',
      stack_status_reason: 'Stack CREATE completed successfully',
      creation_time: '2026-01-02T03:04:05Z',
      updated_time: null,
      deletion_time: null,
      stack_owner: 'alice',
      parent: null,
      stack_user_project_id: null,
      tags: ['a', 'b'],
    });
    expect(listed[0]?.tags).toBeNull();

    const names = async (query: string) => list((await call(h, 'GET', `/stacks?${query}`, h.alice)).body, 'stacks').map((s) => s.stack_name);
    expect(await names('name=two')).toEqual(['two']);
    expect(await names('status=CREATE_FAILED')).toEqual(['three']);
    expect(await names('status=COMPLETE')).toEqual(['two', 'one']);
    expect(await names('tags=a,b')).toEqual(['one']);
    expect(await names('tags_any=a,b')).toEqual(['two', 'one']);
    expect(await names('not_tags_any=a')).toEqual(['three', 'two']);
    expect(await names('sort_keys=stack_name&sort_dir=asc')).toEqual(['one', 'three', 'two']);

    const page = await call(h, 'GET', '/stacks?limit=2&with_count=true', h.alice);
    expect(list(page.body, 'stacks').map((s) => s.stack_name)).toEqual(['three', 'two']);
    expect(get(page.body, 'count')).toBe(3);
    const next = text(page.body, 'links.0.href');
    expect(next).toContain(`marker=${second.id}`);
    expect(await names(`limit=2&marker=${second.id}`)).toEqual(['one']);
  });
});

describe('heat stacks: delete', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });

  it('deletes the servers, ends DELETE_COMPLETE, leaves the list, still shows by id, and emits delete.start and .end', async () => {
    const stack = await createStack(h, h.alice, 'shop', WEB);
    await settled(h, h.alice, stack);
    const resources = list((await call(h, 'GET', `/stacks/shop/${stack.id}/resources`, h.alice)).body, 'resources');
    const serverId = physicalId(resources, 'web');

    const deleted = await call(h, 'DELETE', `/stacks/shop/${stack.id}`, h.alice);
    expect(deleted.status).toBe(204);
    const shown = await settled(h, h.alice, stack);
    expect(shown).toMatchObject({ stack_status: 'DELETE_COMPLETE', stack_status_reason: 'Stack DELETE completed successfully', deletion_time: '2026-01-02T03:04:05Z' });
    expect(shown.outputs).toBeUndefined();
    expect(server(h, serverId)).toMatchObject({ vm_state: 'deleted', deleted: 1 });
    expect(list((await call(h, 'GET', '/stacks', h.alice)).body, 'stacks')).toEqual([]);
    expect(list((await call(h, 'GET', '/stacks?show_deleted=true', h.alice)).body, 'stacks').map((s) => s.stack_status)).toEqual(['DELETE_COMPLETE']);
    expect(list((await call(h, 'GET', `/stacks/shop/${stack.id}/resources`, h.alice)).body, 'resources')).toEqual([]);

    const again = await call(h, 'DELETE', `/stacks/shop/${stack.id}`, h.alice);
    expect(again.status).toBe(404);
    expect(get(again.body, 'error.type')).toBe('EntityNotFound');

    await until(() => h.heatEvents().length === 4, 'four heat notifications');
    expect(h.heatEvents()).toEqual(['orchestration.stack.create.start', 'orchestration.stack.create.end', 'orchestration.stack.delete.start', 'orchestration.stack.delete.end']);
    const end = h.captured.filter((c) => c.exchange === 'heat')[3];
    expect(end?.message.payload).toMatchObject({ stack_identity: stack.id, tenant_id: h.alice.projectId, state: 'DELETE_COMPLETE' });

    // The name is free again.
    expect((await call(h, 'POST', '/stacks', h.alice, { stack_name: 'shop', template: WEB })).status).toBe(201);
  });

  it('lets an admin delete a member\'s stack; the events stay the owner\'s project', async () => {
    const stack = await createStack(h, h.alice, 'shop', WEB);
    await settled(h, h.alice, stack);
    expect((await call(h, 'DELETE', `/stacks/shop/${stack.id}`, h.admin)).status).toBe(204);
    expect(get(await settled(h, h.alice, stack), 'stack_status')).toBe('DELETE_COMPLETE');
    await until(() => h.heatEvents().length === 4, 'four heat notifications');
    const end = h.captured.filter((c) => c.exchange === 'heat')[3];
    expect(end?.message).toMatchObject({ _context_project_id: h.admin.projectId, payload: { tenant_id: h.alice.projectId } });
  });

  it('cancels a create under way: what was made is deleted, and no create end or error is emitted', async () => {
    const made: string[] = [];
    const removed: string[] = [];
    let cancelled = false;
    const slow = await harness({
      resourceTypes: {
        'Test::Slow::Thing': {
          async create(request) {
            made.push(request.resourceName);
            return { id: `thing-${request.resourceName}` };
          },
          checkCreateComplete(_id, _context, signal) {
            return new Promise((_resolve, reject) => {
              signal.addEventListener('abort', () => {
                cancelled = true;
                reject(signal.reason as Error);
              });
            });
          },
          async delete(id) {
            removed.push(id);
          },
        },
      },
    });
    const template = { heat_template_version: '2018-08-31', resources: { first: { type: 'Test::Slow::Thing' }, second: { type: 'Test::Slow::Thing', depends_on: 'first' } } };
    const stack = await createStack(slow, slow.alice, 'slow', template);
    await until(() => made.length === 1, 'the first resource to be made');
    expect((await call(slow, 'DELETE', `/stacks/slow/${stack.id}`, slow.alice)).status).toBe(204);
    expect(get(await settled(slow, slow.alice, stack), 'stack_status')).toBe('DELETE_COMPLETE');
    expect(cancelled).toBe(true);
    expect(made).toEqual(['first']);
    expect(removed).toEqual(['thing-first']);
    await until(() => slow.heatEvents().length === 3, 'three heat notifications');
    expect(slow.heatEvents()).toEqual(['orchestration.stack.create.start', 'orchestration.stack.delete.start', 'orchestration.stack.delete.end']);
  });
});

describe('heat stacks: update', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });

  it('PATCH with a new parameter replaces the changed server, keeps the others, and emits update.start and .end', async () => {
    const stack = await createStack(h, h.alice, 'shop', WEB);
    await settled(h, h.alice, stack);
    const before = list((await call(h, 'GET', `/stacks/shop/${stack.id}/resources`, h.alice)).body, 'resources');
    h.clock.advance(60_000);

    const patched = await call(h, 'PATCH', `/stacks/shop/${stack.id}`, h.alice, { parameters: { server_name: 'web-2' } });
    expect(patched.status).toBe(202);
    const shown = await settled(h, h.alice, stack);
    expect(shown).toMatchObject({ stack_status: 'UPDATE_COMPLETE', stack_status_reason: 'Stack UPDATE completed successfully', updated_time: '2026-01-02T03:05:05Z', parameters: { server_name: 'web-2' } });

    const after = list((await call(h, 'GET', `/stacks/shop/${stack.id}/resources`, h.alice)).body, 'resources');
    expect(physicalId(after, 'password')).toBe(physicalId(before, 'password'));
    expect(physicalId(after, 'marker')).toBe(physicalId(before, 'marker'));
    expect(physicalId(after, 'web')).not.toBe(physicalId(before, 'web'));
    expect(after.find((r) => r.resource_name === 'web')?.resource_status).toBe('UPDATE_COMPLETE');
    expect(server(h, physicalId(before, 'web')).deleted).toBe(1);
    const replacement = server(h, physicalId(after, 'web'));
    expect(replacement).toMatchObject({ name: 'web-2', vm_state: 'active' });
    expect(JSON.parse(replacement.metadata)).toMatchObject({ 'metering.stack': stack.id });

    await until(() => h.heatEvents().length === 4, 'four heat notifications');
    expect(h.heatEvents().slice(2)).toEqual(['orchestration.stack.update.start', 'orchestration.stack.update.end']);
    const end = h.captured.filter((c) => c.exchange === 'heat')[3];
    expect(end?.message.payload).toMatchObject({ stack_identity: stack.id, state: 'UPDATE_COMPLETE', updated_at: '2026-01-02T03:05:05Z' });
  });

  it('PUT with a template that drops a resource and adds one deletes and creates them', async () => {
    const stack = await createStack(h, h.alice, 'shop', WEB);
    await settled(h, h.alice, stack);
    const before = list((await call(h, 'GET', `/stacks/shop/${stack.id}/resources`, h.alice)).body, 'resources');
    const template = { heat_template_version: '2018-08-31', resources: { marker: { type: 'OS::Heat::None' }, extra: { type: 'OS::Heat::None' } } };
    expect((await call(h, 'PUT', `/stacks/shop/${stack.id}`, h.alice, { template })).status).toBe(202);
    expect(get(await settled(h, h.alice, stack), 'stack_status')).toBe('UPDATE_COMPLETE');
    const after = list((await call(h, 'GET', `/stacks/shop/${stack.id}/resources`, h.alice)).body, 'resources');
    expect(after.map((r) => [r.resource_name, r.resource_status]).sort()).toEqual([
      ['extra', 'CREATE_COMPLETE'],
      ['marker', 'CREATE_COMPLETE'],
    ]);
    expect(server(h, physicalId(before, 'web')).deleted).toBe(1);
  });

  it('refuses an update while the stack is in progress (409 ActionInProgress) and a PUT without template (400)', async () => {
    const stack = await createStack(h, h.alice, 'shop', WEB);
    const busy = await call(h, 'PATCH', `/stacks/shop/${stack.id}`, h.alice, { parameters: { server_name: 'x' } });
    expect(busy.status).toBe(409);
    expect(busy.body).toMatchObject({ error: { type: 'ActionInProgress', message: 'Stack shop already has an action (CREATE) in progress.' } });
    await settled(h, h.alice, stack);
    const bare = await call(h, 'PUT', `/stacks/shop/${stack.id}`, h.alice, { parameters: {} });
    expect(bare.status).toBe(400);
    expect(get(bare.body, 'error.message')).toBe('No template specified');
  });
});

describe('heat stacks: injected resource types', () => {
  it('hands a creator resolved properties and the metering metadata, and exposes its attributes to get_attr', async () => {
    const requests: Json[] = [];
    const h = await harness({
      resourceTypes: {
        'OS::Cinder::Volume': {
          validate(properties, where) {
            if (typeof properties.size !== 'number') throw new Error(`${where}: size must be a number`);
          },
          async create(request) {
            requests.push({ ...request, signal: undefined });
            return { id: 'vol-1', attributes: { size: request.properties.size } };
          },
          async delete() {},
        },
      },
    });
    const template = {
      heat_template_version: '2018-08-31',
      parameters: { size: { type: 'number', default: 10 } },
      resources: {
        data: { type: 'OS::Cinder::Volume', properties: { size: { get_param: 'size' }, name: { list_join: ['-', [{ get_param: 'OS::stack_name' }, 'data']] } } },
      },
      outputs: { size: { value: { get_attr: ['data', 'size'] } } },
    };
    const stack = await createStack(h, h.alice, 'vols', template);
    const shown = await settled(h, h.alice, stack);
    expect(shown.stack_status).toBe('CREATE_COMPLETE');
    expect(requests[0]).toMatchObject({ stackId: stack.id, stackName: 'vols', resourceName: 'data', properties: { size: 10, name: 'vols-data' }, meteringMetadata: { 'metering.stack': stack.id } });
    expect(get(shown, 'outputs')).toEqual([{ output_key: 'size', description: 'No description given', output_value: 10 }]);
  });

  it('refuses bad options with CUMULUS_CONFIG_INVALID', async () => {
    const noop = { async create() { return { id: 'x' }; }, async delete() {} };
    await expect(harness({ resourceTypes: { 'OS::Nova::Server': noop } })).rejects.toMatchObject({ code: 'CUMULUS_CONFIG_INVALID', message: expect.stringContaining('built in') });
    await expect(harness({ resourceTypes: { volume: noop } })).rejects.toMatchObject({ code: 'CUMULUS_CONFIG_INVALID' });
    await expect(harness({ pollIntervalMs: 0 })).rejects.toMatchObject({ code: 'CUMULUS_CONFIG_INVALID', message: expect.stringContaining('heat.pollIntervalMs') });
  });
});

it('serves the version document at /heat-api/', async () => {
  const h = await harness();
  const response = await h.app.inject({ method: 'GET', url: '/heat-api/' });
  expect(JSON.parse(response.body)).toEqual({ versions: [{ status: 'CURRENT', id: 'v1.0', links: [{ href: `${PUBLIC_URL}/heat-api/v1/`, rel: 'self' }] }] });
});
