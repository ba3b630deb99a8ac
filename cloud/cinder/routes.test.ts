import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PUBLIC_URL, cinderHarness, items, type Harness, type Json, type Member } from './test-harness.ts';

/** The body python-cinderclient sends for `openstack volume create --size N NAME` (every key, nulls included). */
const cliCreateBody = (name: string, size: number, extra: Record<string, unknown> = {}) => ({
  volume: { size, consistencygroup_id: null, snapshot_id: null, name, description: null, volume_type: null, availability_zone: null, metadata: {}, imageRef: null, source_volid: null, backup_id: null, ...extra },
});

/** Long enough that a request right after another still sees the transitional state, even on a busy machine. */
const TRANSITION_MS = 100;

let h: Harness;
afterEach(async () => {
  await h.close();
});

async function createVolume(who: Member, name = 'vol-1', size = 1, extra: Record<string, unknown> = {}): Promise<Json> {
  const response = await h.call('POST', '/volumes', who, cliCreateBody(name, size, extra));
  expect(response.status).toBe(202);
  return response.body.volume as Json;
}

async function availableVolume(who: Member, name = 'vol-1', size = 1, extra: Record<string, unknown> = {}): Promise<string> {
  const volume = await createVolume(who, name, size, extra);
  await h.settle();
  return String(volume.id);
}

describe('cinder versions and microversions', () => {
  beforeEach(async () => {
    h = await cinderHarness();
  });

  it('answers the versions document at /volume/ (300) and /volume/v3/ with the 3.0 .. 3.70 range', async () => {
    const root = await h.call('GET', '/volume/', null);
    expect(root.status).toBe(300);
    expect(items(root.body.versions)).toHaveLength(1);
    expect(root.body.versions?.[0]).toMatchObject({ id: 'v3.0', status: 'CURRENT', version: '3.70', min_version: '3.0' });
    expect(items(root.body.versions?.[0]?.links)).toContainEqual({ rel: 'self', href: `${PUBLIC_URL}/volume/v3/` });
    const v3 = await h.call('GET', '/volume/v3/', null);
    expect(v3.status).toBe(200);
    expect(v3.body.versions?.[0]).toMatchObject({ id: 'v3.0', version: '3.70', min_version: '3.0' });
  });

  it('defaults to 3.0 and echoes the asked version in OpenStack-API-Version, with 3.63 fields only from 3.63', async () => {
    const id = await availableVolume(h.alice);
    const plain = await h.call('GET', `/volumes/${id}`, h.alice);
    expect(plain.headers['openstack-api-version']).toBe('volume 3.0');
    expect(plain.headers.vary).toBe('OpenStack-API-Version');
    expect(plain.body.volume).not.toHaveProperty('volume_type_id');
    const v363 = await h.call('GET', `/volumes/${id}`, h.alice, undefined, { 'OpenStack-API-Version': 'volume 3.63' });
    expect(v363.headers['openstack-api-version']).toBe('volume 3.63');
    expect(v363.body.volume?.volume_type_id).toBe(h.cinder.defaultType().id);
    expect(v363.body.volume).toMatchObject({ group_id: null, shared_targets: false });
    expect(v363.body.volume).not.toHaveProperty('consumes_quota');
    const latest = await h.call('GET', `/volumes/${id}`, h.alice, undefined, { 'OpenStack-API-Version': 'volume latest' });
    expect(latest.headers['openstack-api-version']).toBe('volume 3.70');
    expect(latest.body.volume?.consumes_quota).toBe(true);
  });

  it('answers 406 for a version out of range and 400 for a malformed one', async () => {
    const tooNew = await h.call('GET', '/volumes', h.alice, undefined, { 'OpenStack-API-Version': 'volume 3.71' });
    expect(tooNew.status).toBe(406);
    expect(JSON.stringify(tooNew.body)).toContain('Version 3.71 is not supported by the API. Minimum is 3.0 and maximum is 3.70.');
    expect((await h.call('GET', '/volumes', h.alice, undefined, { 'OpenStack-API-Version': 'volume 2.0' })).status).toBe(406);
    const malformed = await h.call('GET', '/volumes', h.alice, undefined, { 'OpenStack-API-Version': 'volume three' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.badRequest?.message).toContain('three');
  });

  it('refuses a missing token (401, keystonemiddleware body) and a URL naming another project (400)', async () => {
    const anonymous = await h.call('GET', `/volume/v3/${h.alice.projectId}/volumes`, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toEqual({ error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
    expect(anonymous.headers['www-authenticate']).toBe(`Keystone uri="${PUBLIC_URL}/identity"`);
    const elsewhere = await h.call('GET', `/volume/v3/${h.bob.projectId}/volumes`, h.alice);
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body).toEqual({ badRequest: { code: 400, message: 'Malformed request url' } });
  });

  it('serves the project-less URLs of 3.67 as well', async () => {
    const id = await availableVolume(h.alice);
    const listed = await h.call('GET', '/volume/v3/volumes', h.alice);
    expect(listed.status).toBe(200);
    expect(items(listed.body.volumes).map((v) => v.id)).toEqual([id]);
    expect(items(listed.body.volumes)[0]?.links?.[0]?.href).toBe(`${PUBLIC_URL}/volume/v3/volumes/${id}`);
  });
});

describe('cinder volume types', () => {
  beforeEach(async () => {
    h = await cinderHarness();
  });

  it('has __DEFAULT__ from bootstrap, also as /types/default', async () => {
    const listed = await h.call('GET', '/types?is_public=None', h.alice);
    expect(listed.status).toBe(200);
    expect(items(listed.body.volume_types).map((t) => t.name)).toEqual(['__DEFAULT__']);
    const byDefault = await h.call('GET', '/types/default', h.alice);
    expect(byDefault.body.volume_type).toMatchObject({ name: '__DEFAULT__', is_public: true, description: 'Default Volume Type', 'os-volume-type-access:is_public': true, extra_specs: {} });
  });

  it('lets only an admin create (with extra_specs in the answer, which the CLI pops), show, hide when private, and delete', async () => {
    const refused = await h.call('POST', '/types', h.alice, { volume_type: { name: 'gold', description: null, 'os-volume-type-access:is_public': true } });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ forbidden: { code: 403, message: "Policy doesn't allow volume_extension:type_create to be performed." } });

    const created = await h.call('POST', '/types', h.admin, { volume_type: { name: 'gold', description: 'fast', 'os-volume-type-access:is_public': true } });
    expect(created.status).toBe(200);
    expect(created.body.volume_type).toMatchObject({ name: 'gold', description: 'fast', is_public: true, extra_specs: {} });
    const goldId = String(created.body.volume_type?.id);
    const specs = await h.call('POST', `/types/${goldId}/extra_specs`, h.admin, { extra_specs: { volume_backend_name: 'lvm', multiattach: '<is> True' } });
    expect(specs.body.extra_specs).toEqual({ volume_backend_name: 'lvm', multiattach: '<is> True' });
    // A member reads only the user-visible extra specs.
    expect((await h.call('GET', `/types/${goldId}`, h.alice)).body.volume_type?.extra_specs).toEqual({ multiattach: '<is> True' });
    expect((await h.call('POST', '/types', h.admin, { volume_type: { name: 'gold' } })).status).toBe(409);

    const secret = await h.call('POST', '/types', h.admin, { volume_type: { name: 'secret', 'os-volume-type-access:is_public': false } });
    const secretId = String(secret.body.volume_type?.id);
    expect(items((await h.call('GET', '/types?is_public=None', h.alice)).body.volume_types).map((t) => t.name)).toEqual(['__DEFAULT__', 'gold']);
    expect(items((await h.call('GET', '/types?is_public=None', h.admin)).body.volume_types).map((t) => t.name)).toEqual(['__DEFAULT__', 'gold', 'secret']);
    expect(items((await h.call('GET', '/types', h.admin)).body.volume_types).map((t) => t.name)).toEqual(['__DEFAULT__', 'gold']);
    expect((await h.call('GET', `/types/${secretId}`, h.alice)).status).toBe(404);

    expect((await h.call('DELETE', `/types/${goldId}`, h.alice)).status).toBe(403);
    expect((await h.call('DELETE', `/types/${goldId}`, h.admin)).status).toBe(202);
    const gone = await h.call('GET', `/types/${goldId}`, h.admin);
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({ itemNotFound: { code: 404, message: `Volume type ${goldId} could not be found.` } });
  });

  it('gives projects access to a private type (volume type create --private --project, os-volume-type-access)', async () => {
    const created = await h.call('POST', '/types', h.admin, { volume_type: { name: 'secret', description: null, 'os-volume-type-access:is_public': false } });
    const id = String(created.body.volume_type?.id);
    expect((await h.call('GET', `/types/${id}/os-volume-type-access`, h.admin)).body).toEqual({ volume_type_access: [] });
    expect((await h.call('POST', `/types/${id}/action`, h.alice, { addProjectAccess: { project: h.alice.projectId } })).status).toBe(403);
    expect((await h.call('POST', `/types/${id}/action`, h.admin, { addProjectAccess: { project: h.alice.projectId } })).status).toBe(202);
    expect((await h.call('POST', `/types/${id}/action`, h.admin, { addProjectAccess: { project: h.alice.projectId } })).status).toBe(409);
    expect((await h.call('GET', `/types/${id}/os-volume-type-access`, h.admin)).body).toEqual({ volume_type_access: [{ volume_type_id: id, project_id: h.alice.projectId }] });
    expect(items((await h.call('GET', '/types', h.alice)).body.volume_types).map((t) => t.name)).toEqual(['__DEFAULT__', 'secret']);
    expect((await h.call('POST', '/volumes', h.alice, cliCreateBody('v', 1, { volume_type: 'secret' }))).status).toBe(202);
    expect((await h.call('POST', '/volumes', h.bob, cliCreateBody('v', 1, { volume_type: 'secret' }))).status).toBe(404);
    expect((await h.call('POST', `/types/${id}/action`, h.admin, { removeProjectAccess: { project: h.alice.projectId } })).status).toBe(202);
    expect((await h.call('POST', `/types/${id}/action`, h.admin, { removeProjectAccess: { project: h.alice.projectId } })).status).toBe(404);
    expect((await h.call('GET', `/types/${id}`, h.alice)).status).toBe(404);
    const publicAccess = await h.call('GET', `/types/${h.cinder.defaultType().id}/os-volume-type-access`, h.admin);
    expect(publicAccess.body).toEqual({ itemNotFound: { code: 404, message: 'Access list not available for public volume types.' } });
    const unknownRoute = await h.call('GET', '/qos-specs', h.admin);
    expect(unknownRoute.body).toEqual({ itemNotFound: { code: 404, message: 'The resource could not be found.' } });
  });

  it('refuses to delete a type volumes use, and the default type', async () => {
    const type = await h.call('POST', '/types', h.admin, { volume_type: { name: 'silver' } });
    await availableVolume(h.alice, 'v', 1, { volume_type: 'silver' });
    const inUse = await h.call('DELETE', `/types/${String(type.body.volume_type?.id)}`, h.admin);
    expect(inUse.status).toBe(400);
    expect(inUse.body.badRequest?.message).toContain('deletion is not allowed with volumes present with the type');
    expect((await h.call('DELETE', `/types/${h.cinder.defaultType().id}`, h.admin)).status).toBe(400);
  });
});

describe('cinder volumes through the requests the openstack CLI sends', () => {
  beforeEach(async () => {
    h = await cinderHarness({ transitionDelayMs: TRANSITION_MS });
  });

  it('volume create: 202 with the full volume in creating, then available', async () => {
    const response = await h.call('POST', '/volumes', h.alice, cliCreateBody('data-1', 2, { metadata: { tier: 'gold' }, description: 'scratch' }));
    expect(response.status).toBe(202);
    const volume = response.body.volume as Json;
    expect(volume).toMatchObject({
      name: 'data-1',
      description: 'scratch',
      size: 2,
      status: 'creating',
      volume_type: '__DEFAULT__',
      availability_zone: 'nova',
      bootable: 'false',
      encrypted: false,
      multiattach: false,
      attachments: [],
      metadata: { tier: 'gold' },
      snapshot_id: null,
      source_volid: null,
      user_id: h.alice.userId,
      'os-vol-tenant-attr:tenant_id': h.alice.projectId,
      created_at: '2026-01-02T03:04:05.678000',
      updated_at: null,
      replication_status: 'disabled',
    });
    // The CLI pops exactly these keys from the answer; they must be there.
    expect(volume).toHaveProperty('metadata');
    expect(volume).toHaveProperty('volume_type');
    expect(volume.links).toEqual([
      { rel: 'self', href: `${PUBLIC_URL}/volume/v3/${h.alice.projectId}/volumes/${String(volume.id)}` },
      { rel: 'bookmark', href: `${PUBLIC_URL}/volume/${h.alice.projectId}/volumes/${String(volume.id)}` },
    ]);
    // Admin-only attributes stay hidden from a member.
    expect(volume).not.toHaveProperty('os-vol-host-attr:host');

    expect((await h.call('GET', `/volumes/${String(volume.id)}`, h.alice)).body.volume?.status).toBe('creating');
    await h.settle();
    const shown = await h.call('GET', `/volumes/${String(volume.id)}`, h.alice);
    expect(shown.body.volume).toMatchObject({ status: 'available', updated_at: '2026-01-02T03:04:05.678000' });
    const asAdmin = await h.call('GET', `/volumes/${String(volume.id)}`, h.admin);
    expect(asAdmin.body.volume?.['os-vol-host-attr:host']).toBe('cinder-volume-1@lvmdriver-1#lvmdriver-1');
  });

  it('volume show NAME: GET by name is 404, then the name lookup lists with all_tenants=1 which a member may send', async () => {
    const id = await availableVolume(h.alice, 'named');
    await availableVolume(h.bob, 'named');
    const byName = await h.call('GET', '/volumes/named', h.alice);
    expect(byName.status).toBe(404);
    expect(byName.body).toEqual({ itemNotFound: { code: 404, message: 'Volume named could not be found.' } });
    const lookup = await h.call('GET', '/volumes/detail?all_tenants=1&name=named', h.alice);
    expect(lookup.status).toBe(200);
    expect(items(lookup.body.volumes).map((v) => v.id)).toEqual([id]);
  });

  it('volume list: summary and detail, filtered by name and status, scoped to the project unless an admin asks all_tenants', async () => {
    const a1 = await availableVolume(h.alice, 'a1');
    const a2 = await availableVolume(h.alice, 'a2');
    const b1 = await availableVolume(h.bob, 'b1');
    const summary = await h.call('GET', '/volumes', h.alice);
    expect(items(summary.body.volumes).map((v) => Object.keys(v).sort())).toEqual([['id', 'links', 'name'], ['id', 'links', 'name']]);
    // Newest first, as Cinder sorts by default.
    expect(items(summary.body.volumes).map((v) => v.id)).toEqual([a2, a1]);
    expect(items((await h.call('GET', '/volumes/detail?name=a1', h.alice)).body.volumes).map((v) => v.id)).toEqual([a1]);
    expect(items((await h.call('GET', '/volumes/detail?status=creating', h.alice)).body.volumes)).toEqual([]);
    expect(items((await h.call('GET', '/volumes/detail?all_tenants=True', h.bob)).body.volumes).map((v) => v.id)).toEqual([b1]);
    expect(items((await h.call('GET', '/volumes/detail', h.admin)).body.volumes)).toEqual([]);
    expect(items((await h.call('GET', '/volumes/detail?all_tenants=True', h.admin)).body.volumes).map((v) => v.id)).toEqual([b1, a2, a1]);
    expect(items((await h.call('GET', `/volumes/detail?all_tenants=True&project_id=${h.bob.projectId}`, h.admin)).body.volumes).map((v) => v.id)).toEqual([b1]);
    // Another project's volume does not exist for bob; an admin sees it.
    expect((await h.call('GET', `/volumes/${a1}`, h.bob)).status).toBe(404);
    expect((await h.call('DELETE', `/volumes/${a1}`, h.bob)).status).toBe(404);
    expect((await h.call('GET', `/volumes/${a1}`, h.admin)).status).toBe(200);
  });

  it('pages with limit and marker, with a next link that keeps the query', async () => {
    const ids = [await availableVolume(h.alice, 'p1'), await availableVolume(h.alice, 'p2'), await availableVolume(h.alice, 'p3')];
    const first = await h.call('GET', '/volumes/detail?limit=2', h.alice);
    expect(items(first.body.volumes).map((v) => v.id)).toEqual([ids[2], ids[1]]);
    const next = String(items(first.body.volumes_links)[0]?.href);
    expect(next).toBe(`${PUBLIC_URL}/volume/v3/${h.alice.projectId}/volumes/detail?limit=2&marker=${ids[1]}`);
    const second = await h.call('GET', next.replace(PUBLIC_URL, ''), h.alice);
    expect(items(second.body.volumes).map((v) => v.id)).toEqual([ids[0]]);
    expect(second.body).not.toHaveProperty('volumes_links');
    const counted = await h.call('GET', '/volumes?limit=1&with_count=true', h.alice, undefined, { 'OpenStack-API-Version': 'volume 3.45' });
    expect(counted.body.count).toBe(3);
  });

  it('volume set --name/--description sends display_name/display_description (PUT), and --property POSTs metadata', async () => {
    const id = await availableVolume(h.alice, 'old', 1, { metadata: { a: '1' } });
    const renamed = await h.call('PUT', `/volumes/${id}`, h.alice, { volume: { display_name: 'new', display_description: 'described' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.volume).toMatchObject({ name: 'new', description: 'described', metadata: { a: '1' } });
    const merged = await h.call('POST', `/volumes/${id}/metadata`, h.alice, { metadata: { b: '2' } });
    expect(merged.body.metadata).toEqual({ a: '1', b: '2' });
    expect((await h.call('DELETE', `/volumes/${id}/metadata/a`, h.alice)).status).toBe(200);
    expect((await h.call('GET', `/volumes/${id}/metadata`, h.alice)).body.metadata).toEqual({ b: '2' });
    expect((await h.call('DELETE', `/volumes/${id}/metadata/a`, h.alice)).status).toBe(404);
    const replaced = await h.call('PUT', `/volumes/${id}/metadata`, h.alice, { metadata: { c: '3' } });
    expect(replaced.body.metadata).toEqual({ c: '3' });
  });

  it('volume set --size: os-extend to a larger size of an available volume, extending then available', async () => {
    const id = await availableVolume(h.alice, 'grow', 1);
    const same = await h.call('POST', `/volumes/${id}/action`, h.alice, { 'os-extend': { new_size: 1 } });
    expect(same.status).toBe(400);
    expect(same.body.badRequest?.message).toBe('Invalid input received: New size for extend must be greater than current size. (current: 1, extended: 1).');
    const extended = await h.call('POST', `/volumes/${id}/action`, h.alice, { 'os-extend': { new_size: 3 } });
    expect(extended.status).toBe(202);
    expect((await h.call('GET', `/volumes/${id}`, h.alice)).body.volume).toMatchObject({ status: 'extending', size: 1 });
    const busy = await h.call('POST', `/volumes/${id}/action`, h.alice, { 'os-extend': { new_size: 4 } });
    expect(busy.status).toBe(400);
    expect(busy.body.badRequest?.message).toContain("status must be '{'status': 'available'}' to extend, currently extending");
    await h.settle();
    expect((await h.call('GET', `/volumes/${id}`, h.alice)).body.volume).toMatchObject({ status: 'available', size: 3 });
  });

  it('volume delete: 202, deleting, then gone; refused (400) while in-use or with snapshots; cascade takes the snapshots along', async () => {
    const id = await availableVolume(h.alice, 'doomed');
    const deleted = await h.call('DELETE', `/volumes/${id}`, h.alice);
    expect(deleted.status).toBe(202);
    expect((await h.call('GET', `/volumes/${id}`, h.alice)).body.volume?.status).toBe('deleting');
    await h.settle();
    expect((await h.call('GET', `/volumes/${id}`, h.alice)).status).toBe(404);
    expect(items((await h.call('GET', '/volumes', h.alice)).body.volumes)).toEqual([]);

    const attached = await availableVolume(h.alice, 'attached');
    await h.cinder.attach(attached, { serverId: '6f1b5b7e-8c1f-4d3c-9a51-0d4c3b2a1f00', host: 'compute-1', device: '/dev/vdb' });
    const inUse = await h.call('DELETE', `/volumes/${attached}`, h.alice);
    expect(inUse.status).toBe(400);
    expect(inUse.body.badRequest?.message).toBe(
      'Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.',
    );

    const parent = await availableVolume(h.alice, 'parent');
    const snapshot = await h.call('POST', '/snapshots', h.alice, { snapshot: { volume_id: parent, name: 's1', description: null, metadata: {} } });
    await h.settle();
    expect((await h.call('DELETE', `/volumes/${parent}`, h.alice)).status).toBe(400);
    expect((await h.call('DELETE', `/volumes/${parent}?cascade=True`, h.alice)).status).toBe(202);
    await h.settle();
    expect((await h.call('GET', `/volumes/${parent}`, h.alice)).status).toBe(404);
    expect((await h.call('GET', `/snapshots/${String(snapshot.body.snapshot?.id)}`, h.alice)).status).toBe(404);
  });

  it('refuses a bad size, an unknown type, an unknown zone, a malformed body and unknown actions with Cinder\'s messages', async () => {
    const badSize = await h.call('POST', '/volumes', h.alice, cliCreateBody('x', 0));
    expect(badSize.status).toBe(400);
    expect(badSize.body.badRequest?.message).toContain('Invalid volume size provided for create request: 0');
    const noSize = await h.call('POST', '/volumes', h.alice, { volume: { name: 'x' } });
    expect(noSize.status).toBe(400);
    const badType = await h.call('POST', '/volumes', h.alice, cliCreateBody('x', 1, { volume_type: 'platinum' }));
    expect(badType.status).toBe(404);
    expect(badType.body).toEqual({ itemNotFound: { code: 404, message: 'Volume type with name platinum could not be found.' } });
    const badZone = await h.call('POST', '/volumes', h.alice, cliCreateBody('x', 1, { availability_zone: 'mars' }));
    expect(badZone.body).toEqual({ badRequest: { code: 400, message: "Availability zone 'mars' is invalid." } });
    const noBody = await h.call('POST', '/volumes', h.alice, { nothing: true });
    expect(noBody.status).toBe(400);
    const malformed = await h.app.inject({ method: 'POST', url: `/volume/v3/${h.alice.projectId}/volumes`, headers: { 'x-auth-token': h.alice.token, 'content-type': 'application/json' }, payload: '{"volume":' });
    expect(malformed.statusCode).toBe(400);
    expect(JSON.parse(malformed.body)).toEqual({ badRequest: { code: 400, message: 'Malformed request body' } });
    const id = await availableVolume(h.alice);
    const unknown = await h.call('POST', `/volumes/${id}/action`, h.alice, { 'os-fly': {} });
    expect(unknown.body).toEqual({ badRequest: { code: 400, message: 'There is no such action: os-fly' } });
    expect(items((await h.call('GET', '/volumes', h.alice)).body.volumes)).toHaveLength(1);
  });

  it('creates from a snapshot (its size by default, never smaller) and from an image (bootable, image metadata)', async () => {
    const source = await availableVolume(h.alice, 'source', 2);
    const snapshot = await h.call('POST', '/snapshots', h.alice, { snapshot: { volume_id: source, name: 'snap', description: null, metadata: {} } });
    await h.settle();
    const snapshotId = String(snapshot.body.snapshot?.id);
    const smaller = await h.call('POST', '/volumes', h.alice, cliCreateBody('copy', 1, { snapshot_id: snapshotId }));
    expect(smaller.status).toBe(400);
    expect(smaller.body.badRequest?.message).toContain("Volume size '1'GB cannot be smaller than the snapshot size 2GB");
    const copy = await h.call('POST', '/volumes', h.alice, { volume: { name: 'copy', snapshot_id: snapshotId } });
    expect(copy.status).toBe(202);
    expect(copy.body.volume).toMatchObject({ size: 2, snapshot_id: snapshotId });
    const image = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
    const boot = await createVolume(h.alice, 'boot', 10, { imageRef: image });
    expect(boot).toMatchObject({ bootable: 'true', volume_image_metadata: { image_id: image } });
  });
});

describe('cinder volume actions Nova uses (legacy attach flow)', () => {
  beforeEach(async () => {
    h = await cinderHarness();
  });
  const server = '0c7f1a2b-3d4e-4f50-8a6b-7c8d9e0f1a2b';

  it('reserve -> initialize_connection -> attach -> begin_detaching -> detach, with the attachment in the volume', async () => {
    const id = await availableVolume(h.alice);
    expect((await h.call('POST', `/volumes/${id}/action`, h.alice, { 'os-reserve': null })).status).toBe(202);
    expect((await h.call('GET', `/volumes/${id}`, h.alice)).body.volume?.status).toBe('attaching');
    const twice = await h.call('POST', `/volumes/${id}/action`, h.alice, { 'os-reserve': null });
    expect(twice.body.badRequest?.message).toBe('Invalid volume: Volume status must be available to reserve, but the status is attaching.');

    const connection = await h.call('POST', `/volumes/${id}/action`, h.alice, { 'os-initialize_connection': { connector: { host: 'compute-1', initiator: 'iqn.1993-08.org.debian:01:abc' } } });
    expect(connection.status).toBe(200);
    expect(connection.body.connection_info).toMatchObject({ driver_volume_type: 'iscsi', data: { volume_id: id, target_iqn: `iqn.2010-10.org.openstack:volume-${id}` } });

    const attached = await h.call('POST', `/volumes/${id}/action`, h.alice, { 'os-attach': { instance_uuid: server, mountpoint: '/dev/vdb', mode: 'rw', host_name: 'compute-1' } });
    expect(attached.status).toBe(202);
    const inUse = (await h.call('GET', `/volumes/${id}`, h.alice)).body.volume as Json;
    expect(inUse.status).toBe('in-use');
    expect(items(inUse.attachments)).toEqual([
      { id, volume_id: id, server_id: server, attachment_id: expect.any(String), device: '/dev/vdb', host_name: null, attached_at: '2026-01-02T03:04:05.678000' },
    ]);
    expect(items((await h.call('GET', `/volumes/${id}`, h.admin)).body.volume?.attachments)[0]?.host_name).toBe('compute-1');

    expect((await h.call('POST', `/volumes/${id}/action`, h.alice, { 'os-begin_detaching': null })).status).toBe(202);
    expect((await h.call('GET', `/volumes/${id}`, h.alice)).body.volume?.status).toBe('detaching');
    expect((await h.call('POST', `/volumes/${id}/action`, h.alice, { 'os-roll_detaching': null })).status).toBe(202);
    expect((await h.call('POST', `/volumes/${id}/action`, h.alice, { 'os-begin_detaching': null })).status).toBe(202);
    expect((await h.call('POST', `/volumes/${id}/action`, h.alice, { 'os-terminate_connection': { connector: { host: 'compute-1' } } })).status).toBe(202);
    expect((await h.call('POST', `/volumes/${id}/action`, h.alice, { 'os-detach': { attachment_id: inUse.attachments?.[0]?.attachment_id } })).status).toBe(202);
    expect((await h.call('GET', `/volumes/${id}`, h.alice)).body.volume).toMatchObject({ status: 'available', attachments: [] });

    await h.received(6);
    expect(h.events()).toEqual(['volume.create.start', 'volume.create.end', 'volume.attach.start', 'volume.attach.end', 'volume.detach.start', 'volume.detach.end']);
  });

  it('unreserve returns an attaching volume to available; set_bootable and readonly flag', async () => {
    const id = await availableVolume(h.alice);
    await h.call('POST', `/volumes/${id}/action`, h.alice, { 'os-reserve': null });
    expect((await h.call('POST', `/volumes/${id}/action`, h.alice, { 'os-unreserve': null })).status).toBe(202);
    expect((await h.call('GET', `/volumes/${id}`, h.alice)).body.volume?.status).toBe('available');
    expect((await h.call('POST', `/volumes/${id}/action`, h.alice, { 'os-set_bootable': { bootable: true } })).status).toBe(200);
    expect((await h.call('GET', `/volumes/${id}`, h.alice)).body.volume?.bootable).toBe('true');
    expect((await h.call('POST', `/volumes/${id}/action`, h.alice, { 'os-set_bootable': { bootable: 'maybe' } })).status).toBe(400);
    expect((await h.call('POST', `/volumes/${id}/action`, h.alice, { 'os-update_readonly_flag': { readonly: true } })).status).toBe(202);
    const rw = await h.call('POST', `/volumes/${id}/action`, h.alice, { 'os-attach': { instance_uuid: server, mountpoint: '/dev/vdb', mode: 'rw' } });
    expect(rw.body.badRequest?.message).toBe(`Invalid attaching mode 'rw' for volume ${id}.`);
  });

  it('keeps os-reset_status and os-force_delete for admins', async () => {
    const id = await availableVolume(h.alice);
    expect((await h.call('POST', `/volumes/${id}/action`, h.alice, { 'os-reset_status': { status: 'error' } })).status).toBe(403);
    expect((await h.call('POST', `/volumes/${id}/action`, h.admin, { 'os-reset_status': { status: 'error' } })).status).toBe(202);
    expect((await h.call('GET', `/volumes/${id}`, h.alice)).body.volume?.status).toBe('error');
    expect((await h.call('POST', `/volumes/${id}/action`, h.alice, { 'os-force_delete': {} })).status).toBe(403);
    expect((await h.call('POST', `/volumes/${id}/action`, h.admin, { 'os-force_delete': {} })).status).toBe(202);
    await h.settle();
    expect((await h.call('GET', `/volumes/${id}`, h.alice)).status).toBe(404);
  });
});

describe('cinder snapshots and backups', () => {
  beforeEach(async () => {
    h = await cinderHarness({ transitionDelayMs: TRANSITION_MS });
  });

  it('snapshots: creating then available; in-use needs force (and force=false is refused from 3.66); list, show, delete', async () => {
    const id = await availableVolume(h.alice, 'vol', 3);
    const created = await h.call('POST', '/snapshots', h.alice, { snapshot: { volume_id: id, name: 'snap-1', description: 'daily', metadata: { k: 'v' } } });
    expect(created.status).toBe(202);
    expect(created.body.snapshot).toMatchObject({ name: 'snap-1', description: 'daily', volume_id: id, status: 'creating', size: 3, metadata: { k: 'v' }, created_at: '2026-01-02T03:04:05.678000' });
    const snapshotId = String(created.body.snapshot?.id);
    await h.settle();
    const shown = await h.call('GET', `/snapshots/${snapshotId}`, h.alice);
    expect(shown.body.snapshot).toMatchObject({ status: 'available', 'os-extended-snapshot-attributes:progress': '100%', 'os-extended-snapshot-attributes:project_id': h.alice.projectId });
    expect(items((await h.call('GET', '/snapshots/detail', h.alice)).body.snapshots).map((s) => s.id)).toEqual([snapshotId]);
    expect(items((await h.call('GET', `/snapshots?volume_id=${id}&all_tenants=1`, h.alice)).body.snapshots).map((s) => s.name)).toEqual(['snap-1']);
    expect(items((await h.call('GET', '/snapshots', h.bob)).body.snapshots)).toEqual([]);
    expect((await h.call('GET', `/snapshots/${snapshotId}`, h.bob)).status).toBe(404);

    await h.cinder.attach(id, { serverId: '6f1b5b7e-8c1f-4d3c-9a51-0d4c3b2a1f00', host: 'compute-1', device: '/dev/vdb' });
    const notForced = await h.call('POST', '/snapshots', h.alice, { snapshot: { volume_id: id, name: 's2' } });
    expect(notForced.status).toBe(400);
    expect(notForced.body.badRequest?.message).toBe(`Invalid volume: Volume ${id} status must be available, but current status is: in-use.`);
    expect((await h.call('POST', '/snapshots', h.alice, { snapshot: { volume_id: id, name: 's2', force: true } })).status).toBe(202);
    const v366 = { 'OpenStack-API-Version': 'volume 3.66' };
    expect((await h.call('POST', '/snapshots', h.alice, { snapshot: { volume_id: id, name: 's3' } }, v366)).status).toBe(202);
    expect((await h.call('POST', '/snapshots', h.alice, { snapshot: { volume_id: id, name: 's4', force: false } }, v366)).status).toBe(400);

    expect((await h.call('DELETE', `/snapshots/${snapshotId}`, h.alice)).status).toBe(202);
    expect((await h.call('GET', `/snapshots/${snapshotId}`, h.alice)).body.snapshot?.status).toBe('deleting');
    expect((await h.call('DELETE', `/snapshots/${snapshotId}`, h.alice)).status).toBe(400);
    await h.settle();
    expect((await h.call('GET', `/snapshots/${snapshotId}`, h.alice)).status).toBe(404);
  });

  it('backups: the volume is backing-up while the backup is creating; both settle to available; delete', async () => {
    const id = await availableVolume(h.alice, 'vol', 1);
    const created = await h.call('POST', '/backups', h.alice, { backup: { volume_id: id, container: null, name: 'bk-1', description: null, incremental: false, force: false, snapshot_id: null } });
    expect(created.status).toBe(202);
    const backupId = String(created.body.backup?.id);
    expect(created.body.backup).toEqual({ id: backupId, name: 'bk-1', links: expect.any(Array) });
    expect((await h.call('GET', `/volumes/${id}`, h.alice)).body.volume?.status).toBe('backing-up');
    expect((await h.call('DELETE', `/volumes/${id}`, h.alice)).status).toBe(400);
    await h.settle();
    expect((await h.call('GET', `/volumes/${id}`, h.alice)).body.volume?.status).toBe('available');
    const shown = await h.call('GET', `/backups/${backupId}`, h.alice);
    expect(shown.body.backup).toMatchObject({
      id: backupId,
      status: 'available',
      size: 1,
      object_count: 21,
      container: 'volumebackups',
      availability_zone: 'nova',
      volume_id: id,
      is_incremental: false,
      has_dependent_backups: false,
      fail_reason: null,
    });
    expect(items((await h.call('GET', '/backups/detail', h.alice)).body.backups).map((b) => b.id)).toEqual([backupId]);
    expect(items((await h.call('GET', '/backups', h.bob)).body.backups)).toEqual([]);

    const incremental = await h.call('POST', '/backups', h.alice, { backup: { volume_id: id, name: 'bk-2', incremental: true } });
    expect(incremental.status).toBe(202);
    await h.settle();
    const blocked = await h.call('DELETE', `/backups/${backupId}`, h.alice);
    expect(blocked.body.badRequest?.message).toBe('Invalid backup: Incremental backups exist for this backup.');
    expect((await h.call('DELETE', `/backups/${String(incremental.body.backup?.id)}`, h.alice)).status).toBe(202);
    await h.settle();
    expect((await h.call('DELETE', `/backups/${backupId}`, h.alice)).status).toBe(202);
    await h.settle();
    expect((await h.call('GET', `/backups/${backupId}`, h.alice)).status).toBe(404);
  });

  it('refuses to back up an in-use volume without force, and an incremental backup without a full one', async () => {
    const id = await availableVolume(h.alice);
    const noParent = await h.call('POST', '/backups', h.alice, { backup: { volume_id: id, incremental: true } });
    expect(noParent.body.badRequest?.message).toBe('Invalid backup: No backups available to do an incremental backup.');
    await h.cinder.attach(id, { serverId: '6f1b5b7e-8c1f-4d3c-9a51-0d4c3b2a1f00', host: 'compute-1', device: '/dev/vdb' });
    const notForced = await h.call('POST', '/backups', h.alice, { backup: { volume_id: id } });
    expect(notForced.body.badRequest?.message).toBe('Invalid volume: Backing up an in-use volume must use the force flag.');
    expect((await h.call('POST', '/backups', h.alice, { backup: { volume_id: id, force: true } })).status).toBe(202);
    await h.settle();
    expect((await h.call('GET', `/volumes/${id}`, h.alice)).body.volume?.status).toBe('in-use');
  });
});
