import { beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, IMAGE, NOW, call, createFlavor, createServer, harness, until, type Captured, type Harness, type Json } from './test-harness.ts';

describe('nova flavors', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });

  it('lets an admin create, read, list and delete a flavor', async () => {
    const flavor = await createFlavor(h, { id: 'small', description: 'one vcpu' });
    expect(flavor).toMatchObject({ id: 'small', name: 'm1.small', vcpus: 1, ram: 2048, disk: 20, 'OS-FLV-EXT-DATA:ephemeral': 0, 'os-flavor-access:is_public': true });

    const shown = await call(h, 'GET', '/flavors/small', h.alice.token);
    expect(shown.status).toBe(200);
    expect(shown.body.flavor).toMatchObject({ id: 'small', ram: 2048 });
    const listed = await call(h, 'GET', '/flavors', h.alice.token);
    expect(listed.body.flavors.map((f: Json) => f.id)).toEqual(['small']);

    const deleted = await call(h, 'DELETE', '/flavors/small', h.adminToken);
    expect(deleted.status).toBe(202);
    const gone = await call(h, 'GET', '/flavors/small', h.alice.token);
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({ itemNotFound: { code: 404, message: expect.stringContaining('small') } });
  });

  it('forbids a member to create or delete flavors (403)', async () => {
    const created = await call(h, 'POST', '/flavors', h.alice.token, { flavor: { name: 'm1.tiny', vcpus: 1, ram: 512, disk: 1 } });
    expect(created.status).toBe(403);
    expect(created.body).toEqual({ forbidden: { code: 403, message: expect.stringContaining('os-flavor-manage:create') } });
    await createFlavor(h, { id: 'small' });
    const deleted = await call(h, 'DELETE', '/flavors/small', h.alice.token);
    expect(deleted.status).toBe(403);
    expect((await call(h, 'GET', '/flavors/small', h.alice.token)).status).toBe(200);
  });

  it('refuses an invalid flavor with 400 and a duplicate with 409', async () => {
    const bad = await call(h, 'POST', '/flavors', h.adminToken, { flavor: { name: 'x', vcpus: 0, ram: 512, disk: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.badRequest.message).toContain('vcpus');
    await createFlavor(h, { id: 'small' });
    const duplicate = await call(h, 'POST', '/flavors', h.adminToken, { flavor: { name: 'm1.small', vcpus: 1, ram: 512, disk: 1 } });
    expect(duplicate.status).toBe(409);
  });

  it('answers 401 without a valid token', async () => {
    expect((await call(h, 'GET', '/flavors', null)).status).toBe(401);
    expect((await call(h, 'GET', '/flavors', 'not-a-token')).status).toBe(401);
  });
});

describe('nova server builds', () => {
  // Long enough that the requests right after a create surely see it in BUILD.
  let h: Harness;
  beforeEach(async () => {
    h = await harness({ buildDelayMs: 100 });
  });

  it('creates a server in BUILD that turns ACTIVE after the build delay, emitting create.start then create.end', async () => {
    const flavor = await createFlavor(h, { id: 'small' });
    const created = await createServer(h, h.alice.token, flavor.id as string);
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.adminPass).toEqual(expect.any(String));

    const building = await call(h, 'GET', `/servers/${created.id}`, h.alice.token);
    expect(building.status).toBe(200);
    expect(building.body.server).toMatchObject({ id: created.id, name: 'web-1', status: 'BUILD', tenant_id: h.alice.projectId, user_id: h.alice.userId, metadata: { role: 'web' } });

    await h.cloud.nova.stop();
    const active = await call(h, 'GET', `/servers/${created.id}`, h.alice.token);
    expect(active.body.server).toMatchObject({ status: 'ACTIVE', 'OS-EXT-STS:vm_state': 'active', 'OS-EXT-STS:power_state': 1, 'OS-EXT-STS:task_state': null, progress: 100 });
    // The scheduler picks the host with the most free RAM.
    expect(active.body.server['OS-EXT-SRV-ATTR:host']).toBe('compute-2');
    expect(active.body.server['OS-SRV-USG:launched_at']).toBe('2026-01-02T03:04:05.678');

    await until(() => h.captured.length === 2, 'two notifications');
    expect(h.events()).toEqual(['compute.instance.create.start', 'compute.instance.create.end']);
    for (const { routingKey, envelope, message } of h.captured) {
      expect(routingKey).toBe('notifications.info');
      expect(Object.keys(envelope).sort()).toEqual(['oslo.message', 'oslo.version']);
      expect(envelope['oslo.version']).toBe('2.0');
      expect(typeof envelope['oslo.message']).toBe('string');
      expect(message.message_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(message.publisher_id).toBe('compute.compute-2');
      expect(message.priority).toBe('INFO');
      expect(message.timestamp).toBe('2026-01-02 03:04:05.678000');
      expect(message.timestamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/);
      expect(message).toMatchObject({
        _context_user_id: h.alice.userId,
        _context_project_id: h.alice.projectId,
        _context_project_name: 'alice-project',
        _context_user_name: 'alice',
        _context_roles: ['member'],
        _context_is_admin: false,
      });
      expect(message._context_request_id).toEqual(expect.any(String));
      expect(message.payload).toMatchObject({
        tenant_id: h.alice.projectId,
        user_id: h.alice.userId,
        instance_id: created.id,
        display_name: 'web-1',
        instance_type: 'm1.small',
        instance_flavor_id: 'small',
        vcpus: 1,
        memory_mb: 2048,
        root_gb: 20,
        disk_gb: 20,
        host: 'compute-2',
        availability_zone: 'nova',
        image_meta: { base_image_ref: IMAGE },
        metadata: { role: 'web' },
      });
    }
    const [start, end] = h.captured as [Captured, Captured];
    expect(start.message.message_id).not.toBe(end.message.message_id);
    expect(start.message.payload.state).toBe('building');
    expect(end.message.payload.state).toBe('active');
    expect(end.message.payload.launched_at).toBe('2026-01-02 03:04:05.678000+00:00');
  });

  it('does not finish the build of a server deleted while in BUILD', async () => {
    const flavor = await createFlavor(h, { id: 'small' });
    const created = await createServer(h, h.alice.token, flavor.id as string);
    expect((await call(h, 'DELETE', `/servers/${created.id}`, h.alice.token)).status).toBe(204);
    await h.cloud.nova.stop();
    await until(() => h.events().includes('compute.instance.delete.end'), 'the delete notifications');
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Nothing may say the instance started after it was deleted: Ceilometer would meter a
    // deleted instance as running (the last `instance` sample would be create.end's).
    const deleteEnd = h.events().indexOf('compute.instance.delete.end');
    expect(h.events().slice(deleteEnd + 1)).toEqual([]);
    expect(h.events()).not.toContain('compute.instance.create.end');
    expect((await call(h, 'GET', `/servers/${created.id}`, h.adminToken)).status).toBe(404);
  });

});

describe('nova servers', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });

  it('puts a server no host can take into ERROR with a fault, emitting create.error on notifications.error', async () => {
    const flavor = await createFlavor(h, { id: 'huge', name: 'x1.huge', ram: 65536, vcpus: 4, disk: 20 });
    // Within quota (raised for this project), beyond every host: the scheduler refuses, not the quota.
    expect((await call(h, 'PUT', `/os-quota-sets/${h.alice.projectId}`, h.adminToken, { quota_set: { ram: -1 } })).status).toBe(200);
    const created = await createServer(h, h.alice.token, flavor.id as string);
    await h.cloud.nova.stop();

    const server = (await call(h, 'GET', `/servers/${created.id}`, h.alice.token)).body.server as Json;
    expect(server.status).toBe('ERROR');
    expect(server.fault).toMatchObject({ code: 500, message: expect.stringContaining('No valid host') });
    expect(server['OS-EXT-SRV-ATTR:host']).toBeNull();

    await until(() => h.events().includes('compute.instance.create.error'), 'the error notification');
    const error = h.captured.find((c) => c.message.event_type === 'compute.instance.create.error') as Captured;
    expect(error.routingKey).toBe('notifications.error');
    expect(error.message.priority).toBe('ERROR');
    expect(error.message.payload).toMatchObject({ instance_id: created.id, state: 'error', code: 500, message: expect.stringContaining('No valid host') });
    expect(h.events()).not.toContain('compute.instance.create.start');
    expect(h.events()).not.toContain('compute.instance.create.end');
  });

  it('refuses a server with an unknown flavor (400)', async () => {
    const response = await call(h, 'POST', '/servers', h.alice.token, { server: { name: 'x', flavorRef: 'nope', imageRef: IMAGE } });
    expect(response.status).toBe(400);
    expect(response.body.badRequest.message).toContain('nope');
  });

  it('deletes a server, emitting delete.start and delete.end, after which it is 404', async () => {
    const flavor = await createFlavor(h, { id: 'small' });
    const created = await createServer(h, h.alice.token, flavor.id as string);
    await h.cloud.nova.stop();
    await until(() => h.captured.length === 2, 'the create notifications');

    const deleted = await call(h, 'DELETE', `/servers/${created.id}`, h.alice.token);
    expect(deleted.status).toBe(204);
    await until(() => h.captured.length === 4, 'the delete notifications');
    expect(h.events().slice(2)).toEqual(['compute.instance.delete.start', 'compute.instance.delete.end']);
    for (const c of h.captured.slice(2)) {
      expect(c.routingKey).toBe('notifications.info');
      expect(c.message.payload.instance_id).toBe(created.id);
    }
    expect(h.captured[3]?.message.payload).toMatchObject({ state: 'deleted', deleted_at: '2026-01-02 03:04:05.678000+00:00' });

    const gone = await call(h, 'GET', `/servers/${created.id}`, h.alice.token);
    expect(gone.status).toBe(404);
    expect(gone.body.itemNotFound.code).toBe(404);
    expect((await call(h, 'GET', '/servers', h.alice.token)).body.servers).toEqual([]);
    expect((await call(h, 'DELETE', `/servers/${created.id}`, h.alice.token)).status).toBe(404);
  });

  it('hides one project\'s servers from another project (404, not 403)', async () => {
    const flavor = await createFlavor(h, { id: 'small' });
    const created = await createServer(h, h.alice.token, flavor.id as string);

    const asBob = await call(h, 'GET', `/servers/${created.id}`, h.bob.token);
    expect(asBob.status).toBe(404);
    expect(asBob.body).toHaveProperty('itemNotFound');
    expect((await call(h, 'DELETE', `/servers/${created.id}`, h.bob.token)).status).toBe(404);
    expect((await call(h, 'GET', '/servers', h.bob.token)).body.servers).toEqual([]);
    expect((await call(h, 'GET', '/servers/detail', h.bob.token)).body.servers).toEqual([]);
    expect((await call(h, 'GET', '/servers?all_tenants=1', h.bob.token)).status).toBe(403);

    expect((await call(h, 'GET', '/servers', h.alice.token)).body.servers.map((s: Json) => s.id)).toEqual([created.id]);
    expect((await call(h, 'GET', `/servers/${created.id}`, h.adminToken)).status).toBe(200);
    expect((await call(h, 'GET', '/servers?all_tenants=1', h.adminToken)).body.servers.map((s: Json) => s.id)).toEqual([created.id]);
    await h.cloud.nova.stop();
    expect((await call(h, 'GET', `/servers/${created.id}`, h.alice.token)).body.server.status).toBe('ACTIVE');
  });

  describe('microversions', () => {
    let serverId: string;
    beforeEach(async () => {
      const flavor = await createFlavor(h, { id: 'small' });
      serverId = (await createServer(h, h.alice.token, flavor.id as string)).id as string;
    });

    it('gives flavor {id, links} at 2.1 and echoes the version in both headers', async () => {
      const response = await call(h, 'GET', `/servers/${serverId}`, h.alice.token, undefined, { 'X-OpenStack-Nova-API-Version': '2.1' });
      expect(response.status).toBe(200);
      expect(response.body.server.flavor).toEqual({ id: 'small', links: [{ rel: 'bookmark', href: 'http://cloud.test:8000/compute/flavors/small' }] });
      expect(response.headers['x-openstack-nova-api-version']).toBe('2.1');
      expect(response.headers['openstack-api-version']).toBe('compute 2.1');
    });

    it('defaults to 2.1 when no version is asked for', async () => {
      const response = await call(h, 'GET', `/servers/${serverId}`, h.alice.token);
      expect(response.headers['x-openstack-nova-api-version']).toBe('2.1');
      expect(Object.keys(response.body.server.flavor).sort()).toEqual(['id', 'links']);
    });

    it('embeds the flavor from 2.47', async () => {
      const response = await call(h, 'GET', `/servers/${serverId}`, h.alice.token, undefined, { 'X-OpenStack-Nova-API-Version': '2.47' });
      expect(response.body.server.flavor).toEqual({ vcpus: 1, ram: 2048, disk: 20, ephemeral: 0, swap: 0, original_name: 'm1.small', extra_specs: {} });
      expect(response.headers['x-openstack-nova-api-version']).toBe('2.47');
      expect(response.headers['openstack-api-version']).toBe('compute 2.47');
    });

    it('reads the modern OpenStack-API-Version header and "latest"', async () => {
      const modern = await call(h, 'GET', `/servers/${serverId}`, h.alice.token, undefined, { 'OpenStack-API-Version': 'compute 2.60' });
      expect(modern.headers['openstack-api-version']).toBe('compute 2.60');
      expect(modern.body.server.flavor).toHaveProperty('original_name');
      const latest = await call(h, 'GET', `/servers/${serverId}`, h.alice.token, undefined, { 'X-OpenStack-Nova-API-Version': 'latest' });
      expect(latest.headers['x-openstack-nova-api-version']).toBe('2.90');
    });

    it('answers 406 for a version out of range and 400 for a malformed one', async () => {
      const tooNew = await call(h, 'GET', `/servers/${serverId}`, h.alice.token, undefined, { 'X-OpenStack-Nova-API-Version': '2.999' });
      expect(tooNew.status).toBe(406);
      expect(JSON.stringify(tooNew.body)).toContain('2.999');
      expect((await call(h, 'GET', `/servers/${serverId}`, h.alice.token, undefined, { 'X-OpenStack-Nova-API-Version': '3.0' })).status).toBe(406);
      expect((await call(h, 'GET', `/servers/${serverId}`, h.alice.token, undefined, { 'X-OpenStack-Nova-API-Version': 'two' })).status).toBe(400);
    });
  });
});
