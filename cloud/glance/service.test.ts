import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CloudApiError } from '../errors.ts';
import { GLANCE_ERRORS } from './errors.ts';
import { glanceHarness, sdkCreateBody, send, type Caller, type GlanceHarness } from './testing.ts';

const JSON_PATCH = 'application/openstack-images-v2.1-json-patch';

let h: GlanceHarness;
let alice: Caller;
let bob: Caller;

beforeAll(async () => {
  h = await glanceHarness();
  alice = h.member('alice');
  bob = h.member('bob');
});

beforeEach(async () => {
  await h.reset();
});

afterAll(async () => {
  await h.close();
});

async function createImage(token: string, body: Record<string, unknown>): Promise<string> {
  const created = await send(h, 'POST', '/image/v2/images', token, { json: body });
  expect(created.status).toBe(201);
  return created.body?.id as string;
}

const errorCode = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return err instanceof CloudApiError ? err.code : 'not a CloudApiError';
  }
  return undefined;
};

describe('glance notifications', () => {
  it('emits image.create, then update/prepare/upload/activate/update for an upload, on exchange glance as oslo v2 envelopes', async () => {
    const id = await createImage(alice.token, sdkCreateBody('cirros', { os_distro: 'cirros', tags: ['boot'] }));
    await send(h, 'PUT', `/image/v2/images/${id}/file`, alice.token, { payload: Buffer.alloc(1000, 1) });
    await h.waitForNotifications(6);
    expect(h.events()).toEqual(['image.create', 'image.update', 'image.prepare', 'image.upload', 'image.activate', 'image.update']);
    for (const { routingKey, envelope, message } of h.notifications) {
      expect(routingKey).toBe('notifications.info');
      expect(envelope['oslo.version']).toBe('2.0');
      expect(message).toMatchObject({ publisher_id: 'image.localhost', priority: 'INFO', _context_project_id: alice.projectId, _context_user_id: alice.userId });
      expect(message.payload).toMatchObject({ id, owner: alice.projectId, name: 'cirros', deleted: false, deleted_at: null });
    }
    const [create, saving, prepare, upload, activate, saved] = h.notifications.map((n) => n.message.payload);
    expect(create).toEqual({
      id,
      name: 'cirros',
      status: 'queued',
      created_at: '2026-01-02T03:04:05Z',
      updated_at: '2026-01-02T03:04:05Z',
      min_disk: 0,
      min_ram: 0,
      protected: false,
      checksum: null,
      owner: alice.projectId,
      disk_format: 'qcow2',
      container_format: 'bare',
      size: null,
      virtual_size: null,
      is_public: false,
      visibility: 'shared',
      // Custom properties stay nested in the notification (format_image_notification), unlike the API.
      properties: { os_distro: 'cirros', 'owner_specified.openstack.md5': '', 'owner_specified.openstack.sha256': '', 'owner_specified.openstack.object': 'images/cirros' },
      tags: ['boot'],
      deleted: false,
      deleted_at: null,
    });
    expect(saving).toMatchObject({ status: 'saving', size: null });
    expect(prepare).toMatchObject({ status: 'saving', os_glance_importing_to_stores: [], os_glance_failed_import: [] });
    // What Ceilometer's image.size meter reads: $.payload.size, $.payload.id, $.payload.owner.
    expect(upload).toMatchObject({ status: 'active', size: 1000, checksum: expect.stringMatching(/^[0-9a-f]{32}$/), os_glance_importing_to_stores: [] });
    expect(activate).toMatchObject({ status: 'active', size: 1000 });
    expect(saved).toMatchObject({ status: 'active', size: 1000 });
  });

  it('emits image.update for a PATCH and image.delete with deleted/deleted_at for a delete', async () => {
    const id = await createImage(alice.token, sdkCreateBody('img'));
    await send(h, 'PUT', `/image/v2/images/${id}/file`, alice.token, { payload: 'twelve bytes' });
    await h.waitForNotifications(6);
    h.clock.advance(60_000);
    await send(h, 'PATCH', `/image/v2/images/${id}`, alice.token, { json: [{ op: 'add', path: '/os_distro', value: 'rhel' }], contentType: JSON_PATCH });
    await send(h, 'PATCH', `/image/v2/images/${id}`, alice.token, { json: [], contentType: JSON_PATCH });
    await send(h, 'DELETE', `/image/v2/images/${id}`, alice.token);
    await h.waitForNotifications(8);
    expect(h.events().slice(6)).toEqual(['image.update', 'image.delete']);
    const [update, deleted] = h.notifications.slice(6).map((n) => n.message.payload);
    expect(update).toMatchObject({ id, size: 12, owner: alice.projectId, updated_at: '2026-01-02T03:05:05Z', properties: { os_distro: 'rhel' } });
    expect(deleted).toMatchObject({ id, size: 12, owner: alice.projectId, status: 'deleted', deleted: true, deleted_at: '2026-01-02T03:05:05Z' });
  });

  it('emits nothing for refused requests', async () => {
    const id = await createImage(alice.token, sdkCreateBody('keep', { protected: true }));
    await send(h, 'DELETE', `/image/v2/images/${id}`, alice.token);
    await send(h, 'DELETE', `/image/v2/images/${id}`, bob.token);
    await send(h, 'POST', '/image/v2/images', alice.token, { json: sdkCreateBody('pub', { visibility: 'public' }) });
    await h.waitForNotifications(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(h.events()).toEqual(['image.create']);
  });
});

describe('GlanceService.get for other services', () => {
  it('returns an image with its custom properties to its project or to any project (null), and refuses others with a coded 404', async () => {
    const id = await createImage(alice.token, sdkCreateBody('rhel-9', { visibility: 'private', os_distro: 'rhel', os_type: 'linux', hw_disk_bus: 'scsi' }));
    const service = h.glance.service;
    expect(service.get(id, alice.projectId)).toMatchObject({ id, name: 'rhel-9', owner: alice.projectId, properties: { os_distro: 'rhel', os_type: 'linux', hw_disk_bus: 'scsi' } });
    expect(service.get(id, null).properties.os_distro).toBe('rhel');
    expect(errorCode(() => service.get(id, bob.projectId))).toBe(GLANCE_ERRORS.imageNotFound);
    expect(service.find(id, bob.projectId)).toBeUndefined();
    expect(errorCode(() => service.get('no-such-image', null))).toBe(GLANCE_ERRORS.imageNotFound);
  });

  it('sees public and community images from any project, and no deleted image', async () => {
    const pub = await createImage(h.admin.token, sdkCreateBody('pub', { visibility: 'public' }));
    const comm = await createImage(alice.token, sdkCreateBody('comm', { visibility: 'community' }));
    expect(h.glance.service.get(pub, bob.projectId).visibility).toBe('public');
    expect(h.glance.service.get(comm, bob.projectId).visibility).toBe('community');
    await send(h, 'DELETE', `/image/v2/images/${comm}`, alice.token);
    expect(h.glance.service.find(comm, null)).toBeUndefined();
  });
});

describe('createGlance', () => {
  it('is named glance and migrates its own component', async () => {
    expect(h.glance.name).toBe('glance');
    const row = h.db.prepare('SELECT version FROM schema_versions WHERE component = ?').get('cloud.glance') as { version: number };
    expect(row.version).toBe(1);
  });
});
