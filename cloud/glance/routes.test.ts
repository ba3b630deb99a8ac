import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { glanceHarness, qcow2Bytes, sdkCreateBody, send, type Caller, type GlanceHarness } from './testing.ts';

const JSON_PATCH = 'application/openstack-images-v2.1-json-patch';

type Row = Record<string, unknown>;
const images = (body: Row | null) => (body?.images ?? []) as Row[];

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

async function createImage(token: string, body: Row): Promise<Row> {
  const created = await send(h, 'POST', '/image/v2/images', token, { json: body });
  expect(created.status).toBe(201);
  return created.body as Row;
}

describe('glance version discovery', () => {
  it('answers 300 with the versions document at /image, /image/ and /image/v2, without a token', async () => {
    for (const url of ['/image', '/image/', '/image/v2', '/image/v2/']) {
      const answer = await send(h, 'GET', url, null);
      expect(answer.status, url).toBe(300);
      const versions = (answer.body as { versions: Array<{ id: string; status: string; links: Row[] }> }).versions;
      expect(versions.find((v) => v.status === 'CURRENT')).toEqual({ id: 'v2.17', status: 'CURRENT', links: [{ rel: 'self', href: 'http://cloud.test:8000/image/v2/' }] });
      expect(versions.map((v) => v.id)).toContain('v2.0');
    }
    expect((await send(h, 'GET', '/image/versions', null)).status).toBe(200);
  });

  it('serves the image schemas and an empty import-method list, so the SDK uploads with PUT .../file', async () => {
    const schema = await send(h, 'GET', '/image/v2/schemas/image', alice.token);
    expect(schema.status).toBe(200);
    expect(schema.body).toMatchObject({ name: 'image', additionalProperties: { type: 'string' }, properties: { os_distro: { type: 'string' }, visibility: { enum: ['community', 'public', 'private', 'shared'] } } });
    const collection = await send(h, 'GET', '/image/v2/schemas/images', alice.token);
    expect(collection.body).toMatchObject({ name: 'images', properties: { images: { type: 'array', items: { name: 'image' } }, next: { type: 'string' } } });
    const info = await send(h, 'GET', '/image/v2/info/import', alice.token);
    expect(info.body).toEqual({ 'import-methods': { description: 'Import methods available.', type: 'array', value: [] } });
  });

  it('refuses API calls without a valid token in keystonemiddleware\'s shape', async () => {
    for (const token of [null, 'not-a-token']) {
      const answer = await send(h, 'GET', '/image/v2/images', token);
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
      expect(answer.headers['www-authenticate']).toBe('Keystone uri="http://cloud.test:8000/identity"');
    }
  });
});

describe('glance error bodies', () => {
  it('negotiates them as webob does: HTML for */* (glanceclient), JSON when asked, plain text for an empty Accept (SDK uploads)', async () => {
    const url = '/image/v2/images/missing';
    const html = await send(h, 'GET', url, alice.token, { accept: '*/*' });
    expect(html.status).toBe(404);
    expect(html.headers['content-type']).toBe('text/html; charset=UTF-8');
    expect(html.text).toBe('<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  No image found with ID missing<br /><br />\n\n\n\n </body>\n</html>');
    const json = await send(h, 'GET', url, alice.token, { accept: 'application/json' });
    expect(json.body).toEqual({ message: 'No image found with ID missing<br /><br />\n\n\n', code: '404 Not Found', title: 'Not Found' });
    const plain = await send(h, 'GET', url, alice.token, { accept: '' });
    expect(plain.headers['content-type']).toBe('text/plain; charset=UTF-8');
    expect(plain.text).toBe('404 Not Found\n\nNo image found with ID missing\n\n   ');
    const unknown = await send(h, 'GET', '/image/v2/nothing-here', alice.token, { accept: 'text/html;q=0.5, application/json' });
    expect(unknown.body).toMatchObject({ code: '404 Not Found' });
  });
});

describe('openstack image create --file F --disk-format qcow2 NAME', () => {
  it('creates a queued image, takes the data with PUT .../file and shows it active with size and hashes', async () => {
    const created = await createImage(alice.token, sdkCreateBody('cirros', { min_disk: 1, tags: ['boot'], os_distro: 'cirros', hw_disk_bus: 'virtio' }));
    expect(created).toMatchObject({
      name: 'cirros',
      status: 'queued',
      visibility: 'shared',
      owner: alice.projectId,
      disk_format: 'qcow2',
      container_format: 'bare',
      size: null,
      virtual_size: null,
      checksum: null,
      os_hash_algo: null,
      os_hash_value: null,
      min_disk: 1,
      min_ram: 0,
      protected: false,
      os_hidden: false,
      tags: ['boot'],
      os_distro: 'cirros',
      hw_disk_bus: 'virtio',
      'owner_specified.openstack.object': 'images/cirros',
      created_at: '2026-01-02T03:04:05Z',
      updated_at: '2026-01-02T03:04:05Z',
    });
    const id = created.id as string;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(created).toMatchObject({ self: `/v2/images/${id}`, file: `/v2/images/${id}/file`, schema: '/v2/schemas/image' });

    const data = qcow2Bytes(1 << 30, 64 * 1024);
    const uploaded = await send(h, 'PUT', `/image/v2/images/${id}/file`, alice.token, { payload: data });
    expect(uploaded.status).toBe(204);
    expect(uploaded.body).toBeNull();

    const shown = await send(h, 'GET', `/image/v2/images/${id}`, alice.token);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({
      id,
      status: 'active',
      size: data.length,
      virtual_size: 1 << 30,
      checksum: createHash('md5').update(data).digest('hex'),
      os_hash_algo: 'sha512',
      os_hash_value: createHash('sha512').update(data).digest('hex'),
    });
    expect(shown.headers['x-openstack-request-id']).toEqual(expect.any(String));
  });

  it('streams uploads larger than the server body limit', async () => {
    const created = await createImage(alice.token, sdkCreateBody('big', { disk_format: 'raw' }));
    const data = Buffer.alloc(3 * 1024 * 1024, 1);
    expect((await send(h, 'PUT', `/image/v2/images/${created.id}/file`, alice.token, { payload: data })).status).toBe(204);
    const shown = await send(h, 'GET', `/image/v2/images/${created.id}`, alice.token);
    expect(shown.body).toMatchObject({ size: data.length, virtual_size: data.length, checksum: createHash('md5').update(data).digest('hex') });
  });

  it('refuses a second upload (409), an upload without formats (400) and a non-octet-stream body (415)', async () => {
    const created = await createImage(alice.token, sdkCreateBody('once'));
    expect((await send(h, 'PUT', `/image/v2/images/${created.id}/file`, alice.token, { payload: 'abc' })).status).toBe(204);
    const again = await send(h, 'PUT', `/image/v2/images/${created.id}/file`, alice.token, { payload: 'abc' });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ message: 'Image status transition from active to saving is not allowed<br /><br />\n\n\n', code: '409 Conflict', title: 'Conflict' });

    const bare = await createImage(alice.token, { name: 'no-formats' });
    const refused = await send(h, 'PUT', `/image/v2/images/${bare.id}/file`, alice.token, { payload: 'abc' });
    expect(refused.status).toBe(400);
    expect(refused.body?.message).toContain('Properties disk_format, container_format must be set prior to saving data.');
    expect((await send(h, 'GET', `/image/v2/images/${bare.id}`, alice.token)).body?.status).toBe('queued');

    const json = await send(h, 'PUT', `/image/v2/images/${bare.id}/file`, alice.token, { json: { data: 'abc' } });
    expect(json.status).toBe(415);
  });

  it('answers 204 to a download, since the bytes are not kept, and 404 for an invisible image', async () => {
    const created = await createImage(alice.token, sdkCreateBody('dl', { visibility: 'private' }));
    expect((await send(h, 'GET', `/image/v2/images/${created.id}/file`, alice.token)).status).toBe(204);
    expect((await send(h, 'GET', `/image/v2/images/${created.id}/file`, bob.token)).status).toBe(404);
  });

  it('lets an admin create for another project, but not a member', async () => {
    const forOther = await send(h, 'POST', '/image/v2/images', alice.token, { json: sdkCreateBody('x', { owner: bob.projectId }) });
    expect(forOther.status).toBe(403);
    expect(forOther.body?.message).toContain(`You are not permitted to create images owned by '${bob.projectId}'`);
    const byAdmin = await createImage(h.admin.token, sdkCreateBody('x', { owner: bob.projectId }));
    expect(byAdmin.owner).toBe(bob.projectId);
  });

  it('validates the body against the image schema', async () => {
    const badVisibility = await send(h, 'POST', '/image/v2/images', alice.token, { json: sdkCreateBody('x', { visibility: 'everyone' }) });
    expect(badVisibility.status).toBe(400);
    expect(badVisibility.body?.message).toMatch(/^Provided object does not match schema 'image': 'everyone' is not one of \['community', 'public', 'private', 'shared'\]/);
    const notString = await send(h, 'POST', '/image/v2/images', alice.token, { json: sdkCreateBody('x', { hw_cpu_cores: 4 }) });
    expect(notString.status).toBe(400);
    expect(notString.body?.message).toContain("4 is not of type 'string'");
    const readOnly = await send(h, 'POST', '/image/v2/images', alice.token, { json: sdkCreateBody('x', { status: 'active' }) });
    expect(readOnly.status).toBe(403);
    expect(readOnly.body?.message).toContain("Attribute 'status' is read-only.");
    const reserved = await send(h, 'POST', '/image/v2/images', alice.token, { json: sdkCreateBody('x', { os_glance_importing_to_stores: 'a' }) });
    expect(reserved.status).toBe(403);
    const negative = await send(h, 'POST', '/image/v2/images', alice.token, { json: sdkCreateBody('x', { min_ram: -1 }) });
    expect(negative.status).toBe(400);
    expect(negative.body?.message).toContain("Invalid value '-1' for parameter 'min_ram': Cannot be a negative value");
    const malformed = await send(h, 'POST', '/image/v2/images', alice.token, { payload: '{"name":', contentType: 'application/json' });
    expect(malformed.status).toBe(400);
    expect(malformed.body?.message).toContain('Malformed JSON in request body.');
  });

  it('keeps an explicit id, and refuses to reuse one (409)', async () => {
    const id = '11111111-2222-4333-8444-555555555555';
    expect((await createImage(alice.token, sdkCreateBody('x', { id }))).id).toBe(id);
    await send(h, 'DELETE', `/image/v2/images/${id}`, alice.token);
    const reused = await send(h, 'POST', '/image/v2/images', alice.token, { json: sdkCreateBody('x', { id }) });
    expect(reused.status).toBe(409);
  });
});

describe('openstack image show / list', () => {
  it('finds an image by name: GET by name answers 404, then the list filtered by name matches', async () => {
    const created = await createImage(alice.token, sdkCreateBody('ubuntu-24.04'));
    const byName = await send(h, 'GET', '/image/v2/images/ubuntu-24.04', alice.token);
    expect(byName.status).toBe(404);
    expect(byName.body).toEqual({ message: 'No image found with ID ubuntu-24.04<br /><br />\n\n\n', code: '404 Not Found', title: 'Not Found' });
    const listed = await send(h, 'GET', '/image/v2/images?name=ubuntu-24.04', alice.token);
    expect(listed.status).toBe(200);
    expect(images(listed.body).map((i) => i.id)).toEqual([created.id]);
    expect(listed.body).toMatchObject({ first: '/v2/images?name=ubuntu-24.04', schema: '/v2/schemas/images' });
    expect(listed.body).not.toHaveProperty('next');
  });

  it('pages with limit and marker, giving a `next` link the SDK follows', async () => {
    for (const name of ['c', 'a', 'b']) await createImage(alice.token, sdkCreateBody(name));
    const first = await send(h, 'GET', '/image/v2/images?limit=2&sort=name:asc', alice.token);
    expect(images(first.body).map((i) => i.name)).toEqual(['a', 'b']);
    const next = first.body?.next as string;
    const lastId = images(first.body)[1]?.id as string;
    expect(next).toBe(`/v2/images?limit=2&sort=name%3Aasc&marker=${lastId}`);
    const second = await send(h, 'GET', `/image${next}`, alice.token);
    expect(images(second.body).map((i) => i.name)).toEqual(['c']);
    expect(second.body).not.toHaveProperty('next');
  });

  it('sorts by created_at desc by default and with the classic sort_key / sort_dir', async () => {
    for (const name of ['old', 'mid', 'new']) {
      await createImage(alice.token, sdkCreateBody(name));
      h.clock.advance(1000);
    }
    expect(images((await send(h, 'GET', '/image/v2/images', alice.token)).body).map((i) => i.name)).toEqual(['new', 'mid', 'old']);
    expect(images((await send(h, 'GET', '/image/v2/images?sort_key=name&sort_dir=asc', alice.token)).body).map((i) => i.name)).toEqual(['mid', 'new', 'old']);
    const bad = await send(h, 'GET', '/image/v2/images?sort=colour:asc', alice.token);
    expect(bad.status).toBe(400);
    expect(bad.body?.message).toContain('Invalid sort key: colour.');
    expect((await send(h, 'GET', '/image/v2/images?sort=name&sort_key=name', alice.token)).status).toBe(400);
    expect((await send(h, 'GET', '/image/v2/images?limit=x', alice.token)).status).toBe(400);
    expect((await send(h, 'GET', '/image/v2/images?marker=00000000-0000-4000-8000-000000000000', alice.token)).status).toBe(400);
  });

  it('filters by status, owner, tag and custom property', async () => {
    const ubuntu = await createImage(alice.token, sdkCreateBody('u', { os_distro: 'ubuntu', tags: ['lts', 'x86'] }));
    const rhel = await createImage(alice.token, sdkCreateBody('r', { os_distro: 'rhel' }));
    await send(h, 'PUT', `/image/v2/images/${rhel.id}/file`, alice.token, { payload: 'data' });
    const ids = async (query: string) => images((await send(h, 'GET', `/image/v2/images?${query}`, alice.token)).body).map((i) => i.id);
    expect(await ids('status=active')).toEqual([rhel.id]);
    expect(await ids('os_distro=ubuntu')).toEqual([ubuntu.id]);
    expect(await ids('tag=lts&tag=x86')).toEqual([ubuntu.id]);
    expect(await ids('tag=lts&tag=arm')).toEqual([]);
    expect(await ids(`owner=${alice.projectId}&sort=name:asc`)).toEqual([rhel.id, ubuntu.id]);
    expect(await ids('name=in:u,r&sort=name:desc')).toEqual([ubuntu.id, rhel.id]);
    expect(await ids(`size_min=4&size_max=4`)).toEqual([rhel.id]);
    expect((await send(h, 'GET', '/image/v2/images?visibility=everyone', alice.token)).status).toBe(400);
  });
});

describe('image visibility', () => {
  it('hides private and shared images of other projects (404), and shows them to admins', async () => {
    const mine = await createImage(alice.token, sdkCreateBody('mine', { visibility: 'private' }));
    const shared = await createImage(alice.token, sdkCreateBody('shared'));
    for (const image of [mine, shared]) {
      expect((await send(h, 'GET', `/image/v2/images/${image.id}`, bob.token)).status).toBe(404);
      expect((await send(h, 'GET', `/image/v2/images/${image.id}`, h.admin.token)).status).toBe(200);
    }
    expect(images((await send(h, 'GET', '/image/v2/images', bob.token)).body)).toEqual([]);
    expect(images((await send(h, 'GET', '/image/v2/images', h.admin.token)).body)).toHaveLength(2);
    expect((await send(h, 'DELETE', `/image/v2/images/${mine.id}`, bob.token)).status).toBe(404);
    expect((await send(h, 'PATCH', `/image/v2/images/${mine.id}`, bob.token, { json: [], contentType: JSON_PATCH })).status).toBe(404);
  });

  it('lets only admins publish; everyone sees a public image, only its owner (or an admin) changes it', async () => {
    const refused = await send(h, 'POST', '/image/v2/images', alice.token, { json: sdkCreateBody('pub', { visibility: 'public' }) });
    expect(refused.status).toBe(403);
    expect(refused.body?.message).toContain('You are not authorized to complete publicize_image action.');
    const pub = await createImage(h.admin.token, sdkCreateBody('pub', { visibility: 'public' }));
    expect((await send(h, 'GET', `/image/v2/images/${pub.id}`, bob.token)).status).toBe(200);
    expect(images((await send(h, 'GET', '/image/v2/images', bob.token)).body).map((i) => i.id)).toEqual([pub.id]);
    const patched = await send(h, 'PATCH', `/image/v2/images/${pub.id}`, bob.token, { json: [{ op: 'add', path: '/os_distro', value: 'x' }], contentType: JSON_PATCH });
    expect(patched.status).toBe(403);
    expect(patched.body?.message).toContain('modify_image');
    const deleted = await send(h, 'DELETE', `/image/v2/images/${pub.id}`, bob.token);
    expect(deleted.status).toBe(403);
    expect(deleted.body?.message).toContain('delete_image');
    const own = await createImage(alice.token, sdkCreateBody('own'));
    const publish = await send(h, 'PATCH', `/image/v2/images/${own.id}`, alice.token, { json: [{ op: 'replace', path: '/visibility', value: 'public' }], contentType: JSON_PATCH });
    expect(publish.status).toBe(403);
  });

  it('lists community images only on request (or to their owner), as glance does, and shows them to anyone', async () => {
    const community = await createImage(alice.token, sdkCreateBody('comm', { visibility: 'community' }));
    expect((await send(h, 'GET', `/image/v2/images/${community.id}`, bob.token)).status).toBe(200);
    expect(images((await send(h, 'GET', '/image/v2/images', bob.token)).body)).toEqual([]);
    expect(images((await send(h, 'GET', '/image/v2/images?visibility=community', bob.token)).body).map((i) => i.id)).toEqual([community.id]);
    expect(images((await send(h, 'GET', '/image/v2/images?visibility=all', bob.token)).body).map((i) => i.id)).toEqual([community.id]);
    expect(images((await send(h, 'GET', '/image/v2/images', alice.token)).body).map((i) => i.id)).toEqual([community.id]);
  });

  it('refuses writes to a reader of the owning project', async () => {
    const reader = h.member('rita', 'reader');
    expect((await send(h, 'POST', '/image/v2/images', reader.token, { json: sdkCreateBody('x') })).status).toBe(403);
  });
});

describe('openstack image set / unset (PATCH with json-patch)', () => {
  it('adds, replaces and removes custom properties, top-level in the view', async () => {
    const created = await createImage(alice.token, sdkCreateBody('img'));
    const url = `/image/v2/images/${created.id}`;
    // `image set --property os_distro=rhel` on an image fetched by id: the SDK diffs against {id} and sends `add`.
    let answer = await send(h, 'PATCH', url, alice.token, { json: [{ op: 'add', path: '/os_distro', value: 'rhel' }], contentType: JSON_PATCH });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ id: created.id, os_distro: 'rhel' });
    // The same again replaces under draft 10 (v2.1)...
    answer = await send(h, 'PATCH', url, alice.token, { json: [{ op: 'add', path: '/os_distro', value: 'centos' }, { op: 'add', path: '/name', value: 'renamed' }, { op: 'add', path: '/protected', value: true }], contentType: JSON_PATCH });
    expect(answer.body).toMatchObject({ os_distro: 'centos', name: 'renamed', protected: true });
    // ...but draft 4 (v2.0) refuses to add what exists.
    const v20 = await send(h, 'PATCH', url, alice.token, { json: [{ add: '/os_distro', value: 'x' }], contentType: 'application/openstack-images-v2.0-json-patch' });
    expect(v20.status).toBe(409);
    expect(v20.body?.message).toContain('Property os_distro already present.');
    // `image unset --property os_distro`.
    answer = await send(h, 'PATCH', url, alice.token, { json: [{ op: 'remove', path: '/os_distro' }], contentType: JSON_PATCH });
    expect(answer.status).toBe(200);
    expect(answer.body).not.toHaveProperty('os_distro');
    const missing = await send(h, 'PATCH', url, alice.token, { json: [{ op: 'replace', path: '/hw_nope', value: 'x' }], contentType: JSON_PATCH });
    expect(missing.status).toBe(409);
  });

  it('refuses what glance refuses, and applies none of a refused batch', async () => {
    const created = await createImage(alice.token, sdkCreateBody('img'));
    const url = `/image/v2/images/${created.id}`;
    const patch = (json: unknown, contentType = JSON_PATCH) => send(h, 'PATCH', url, alice.token, { json, contentType });
    expect((await patch([{ op: 'add', path: '/os_distro', value: 'x' }], 'application/json')).status).toBe(415);
    expect((await patch({ op: 'add' })).status).toBe(400);
    expect((await patch([{ op: 'move', path: '/a' }])).status).toBe(400);
    expect((await patch([{ op: 'add', path: 'a', value: 'x' }])).status).toBe(400);
    expect((await patch([{ op: 'add', path: '/a/b', value: 'x' }])).status).toBe(400);
    expect((await patch([{ op: 'add', path: '/a' }])).status).toBe(400);
    expect((await patch([{ op: 'replace', path: '/status', value: 'active' }])).status).toBe(403);
    expect((await patch([{ op: 'add', path: '/deleted', value: 'x' }])).status).toBe(403);
    expect((await patch([{ op: 'remove', path: '/name' }])).status).toBe(403);
    expect((await patch([{ op: 'replace', path: '/owner', value: bob.projectId }])).status).toBe(403);
    expect((await patch([{ op: 'add', path: '/min_ram', value: 'lots' }])).status).toBe(400);
    const batch = await patch([{ op: 'add', path: '/os_distro', value: 'x' }, { op: 'remove', path: '/not_there' }]);
    expect(batch.status).toBe(409);
    expect((await send(h, 'GET', url, alice.token)).body).not.toHaveProperty('os_distro');
  });

  it('adds and removes tags through the tags subresource', async () => {
    const created = await createImage(alice.token, sdkCreateBody('img'));
    expect((await send(h, 'PUT', `/image/v2/images/${created.id}/tags/gold`, alice.token)).status).toBe(204);
    expect((await send(h, 'GET', `/image/v2/images/${created.id}`, alice.token)).body?.tags).toEqual(['gold']);
    expect((await send(h, 'DELETE', `/image/v2/images/${created.id}/tags/gold`, alice.token)).status).toBe(204);
    expect((await send(h, 'DELETE', `/image/v2/images/${created.id}/tags/gold`, alice.token)).status).toBe(404);
  });
});

describe('openstack image delete', () => {
  it('deletes an image (204), after which it is gone from show and list', async () => {
    const created = await createImage(alice.token, sdkCreateBody('tmp'));
    expect((await send(h, 'DELETE', `/image/v2/images/${created.id}`, alice.token)).status).toBe(204);
    expect((await send(h, 'GET', `/image/v2/images/${created.id}`, alice.token)).status).toBe(404);
    expect(images((await send(h, 'GET', '/image/v2/images', alice.token)).body)).toEqual([]);
    const again = await send(h, 'DELETE', `/image/v2/images/${created.id}`, alice.token);
    expect(again.status).toBe(404);
    expect(again.body?.message).toContain(`Failed to find image ${created.id} to delete`);
  });

  it('refuses to delete a protected image (403) until it is unprotected', async () => {
    const created = await createImage(alice.token, sdkCreateBody('keep', { protected: true }));
    const refused = await send(h, 'DELETE', `/image/v2/images/${created.id}`, alice.token);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ message: `Image ${created.id} is protected and cannot be deleted.<br /><br />\n\n\n`, code: '403 Forbidden', title: 'Forbidden' });
    await send(h, 'PATCH', `/image/v2/images/${created.id}`, alice.token, { json: [{ op: 'replace', path: '/protected', value: false }], contentType: JSON_PATCH });
    expect((await send(h, 'DELETE', `/image/v2/images/${created.id}`, alice.token)).status).toBe(204);
  });
});
