import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { auth, call, harness, notifications, type Harness } from './test-harness.ts';

const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');
const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
type Listed = Array<Record<string, unknown>>;
const json = (text: string) => JSON.parse(text) as Listed;

describe('swift accounts', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });

  it('answers HEAD on an account never written to with zero counts (account autocreate)', async () => {
    const head = await call(h, 'HEAD', auth(h.alice), '', h.alice.token);
    expect(head.status).toBe(204);
    expect(head.headers).toMatchObject({ 'x-account-container-count': '0', 'x-account-object-count': '0', 'x-account-bytes-used': '0', 'x-timestamp': '1767323045.67800' });
    expect(head.headers['x-trans-id']).toMatch(/^tx[0-9a-f]{21}-[0-9a-f]{10}$/);
    expect(head.headers['x-openstack-request-id']).toBe(head.headers['x-trans-id']);
    const listed = await call(h, 'GET', auth(h.alice), '?format=json', h.alice.token);
    expect(listed.status).toBe(200);
    expect(listed.text).toBe('[]');
    expect((await call(h, 'GET', auth(h.alice), '', h.alice.token)).status).toBe(204);
  });

  it('refuses without a valid token (401) and on another project\'s account (403); admin may act on any', async () => {
    const none = await call(h, 'HEAD', auth(h.alice), '', null);
    expect(none.status).toBe(401);
    const bad = await call(h, 'GET', auth(h.alice), '', 'not-a-token');
    expect(bad.status).toBe(401);
    expect(bad.text).toContain('<h1>Unauthorized</h1>');
    const other = await call(h, 'PUT', auth(h.alice), '/photos', h.bob.token);
    expect(other.status).toBe(403);
    expect(other.text).toBe('<html><h1>Forbidden</h1><p>Access was denied to this resource.</p></html>');
    expect((await call(h, 'PUT', auth(h.alice), '/photos', h.admin.token)).status).toBe(201);
    expect((await call(h, 'HEAD', auth(h.alice), '/photos', h.alice.token)).status).toBe(204);
    const noPrefix = await call(h, 'HEAD', h.alice.projectId, '', h.alice.token);
    expect(noPrefix.status).toBe(403);
  });

  it('lets a ResellerAdmin (what Ceilometer\'s pollsters hold) read every account', async () => {
    const ceilometer = h.member('ceilometer', 'ResellerAdmin');
    await call(h, 'PUT', auth(h.alice), '/photos', h.alice.token);
    const head = await call(h, 'HEAD', auth(h.alice), '', ceilometer.token);
    expect(head.status).toBe(204);
    expect(head.headers['x-account-container-count']).toBe('1');
  });

  it('lists containers as JSON with count, bytes and last_modified, and as plain text', async () => {
    for (const name of ['b', 'a', 'c']) expect((await call(h, 'PUT', auth(h.alice), `/${name}`, h.alice.token)).status).toBe(201);
    await call(h, 'PUT', auth(h.alice), '/a/one.txt', h.alice.token, { body: 'hello' });
    const listed = await call(h, 'GET', auth(h.alice), '?format=json', h.alice.token);
    expect(listed.status).toBe(200);
    expect(listed.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(json(listed.text)).toEqual([
      { name: 'a', count: 1, bytes: 5, last_modified: '2026-01-02T03:04:05.678000', storage_policy: 'Policy-0' },
      { name: 'b', count: 0, bytes: 0, last_modified: '2026-01-02T03:04:05.678000', storage_policy: 'Policy-0' },
      { name: 'c', count: 0, bytes: 0, last_modified: '2026-01-02T03:04:05.678000', storage_policy: 'Policy-0' },
    ]);
    expect(listed.headers).toMatchObject({ 'x-account-container-count': '3', 'x-account-object-count': '1', 'x-account-bytes-used': '5' });
    const plain = await call(h, 'GET', auth(h.alice), '', h.alice.token);
    expect(plain.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(plain.text).toBe('a\nb\nc\n');
    const page = await call(h, 'GET', auth(h.alice), '?format=json&limit=1&marker=a', h.alice.token);
    expect(json(page.text).map((c) => c.name)).toEqual(['b']);
    const prefixed = await call(h, 'GET', auth(h.alice), '?prefix=c', h.alice.token, { headers: { accept: 'application/json' } });
    expect(json(prefixed.text).map((c) => c.name)).toEqual(['c']);
    expect((await call(h, 'GET', auth(h.alice), '?limit=10001', h.alice.token)).status).toBe(412);
  });

  it('serves /info without a token, and refuses account PUT and DELETE (405, no account management)', async () => {
    const info = await h.app.inject({ method: 'GET', url: '/object-storage/info' });
    expect(info.statusCode).toBe(200);
    expect(JSON.parse(info.body)).toMatchObject({ swift: { max_file_size: 5 * 1024 * 1024 * 1024 + 2, container_listing_limit: 10_000, policies: [{ name: 'Policy-0', default: true }] } });
    expect((await call(h, 'PUT', auth(h.alice), '', h.alice.token)).status).toBe(405);
    expect((await call(h, 'DELETE', auth(h.alice), '', h.alice.token)).status).toBe(405);
    expect((await h.app.inject({ method: 'GET', url: '/object-storage/v2/x' })).statusCode).toBe(404);
  });

  it('keeps account metadata set by POST', async () => {
    expect((await call(h, 'POST', auth(h.alice), '', h.alice.token, { headers: { 'x-account-meta-owner': 'team-a' } })).status).toBe(204);
    expect((await call(h, 'HEAD', auth(h.alice), '', h.alice.token)).headers['x-account-meta-owner']).toBe('team-a');
    await call(h, 'POST', auth(h.alice), '', h.alice.token, { headers: { 'x-remove-account-meta-owner': 'x' } });
    expect((await call(h, 'HEAD', auth(h.alice), '', h.alice.token)).headers['x-account-meta-owner']).toBeUndefined();
  });
});

describe('swift containers', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });

  it('creates (201), re-creates (202), shows, updates metadata and deletes a container', async () => {
    const created = await call(h, 'PUT', auth(h.alice), '/photos', h.alice.token, { headers: { 'x-container-meta-color': 'blue', 'x-container-read': '.r:*,.rlistings' } });
    expect(created.status).toBe(201);
    expect(created.headers['content-length']).toBe('0');
    const again = await call(h, 'PUT', auth(h.alice), '/photos', h.alice.token);
    expect(again.status).toBe(202);
    const head = await call(h, 'HEAD', auth(h.alice), '/photos', h.alice.token);
    expect(head.status).toBe(204);
    expect(head.headers).toMatchObject({
      'x-container-object-count': '0',
      'x-container-bytes-used': '0',
      'x-storage-policy': 'Policy-0',
      'x-container-read': '.r:*,.rlistings',
      'x-container-meta-color': 'blue',
      'x-timestamp': '1767323045.67800',
      'last-modified': 'Fri, 02 Jan 2026 03:04:06 GMT',
    });
    expect((await call(h, 'POST', auth(h.alice), '/photos', h.alice.token, { headers: { 'x-container-meta-size': 'L', 'x-remove-container-meta-color': 'x' } })).status).toBe(204);
    const updated = await call(h, 'HEAD', auth(h.alice), '/photos', h.alice.token);
    expect(updated.headers['x-container-meta-size']).toBe('L');
    expect(updated.headers['x-container-meta-color']).toBeUndefined();
    expect((await call(h, 'DELETE', auth(h.alice), '/photos', h.alice.token)).status).toBe(204);
    const gone = await call(h, 'HEAD', auth(h.alice), '/photos', h.alice.token);
    expect(gone.status).toBe(404);
    expect(gone.text).toBe('');
    const missing = await call(h, 'DELETE', auth(h.alice), '/photos', h.alice.token);
    expect(missing.status).toBe(404);
    expect(missing.text).toBe('<html><h1>Not Found</h1><p>The resource could not be found.</p></html>');
  });

  it('refuses to delete a container that holds objects (409), and an unknown storage policy (400)', async () => {
    await call(h, 'PUT', auth(h.alice), '/photos', h.alice.token);
    await call(h, 'PUT', auth(h.alice), '/photos/cat.jpg', h.alice.token, { body: 'meow' });
    const refused = await call(h, 'DELETE', auth(h.alice), '/photos', h.alice.token);
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('<h1>Conflict</h1>');
    await call(h, 'DELETE', auth(h.alice), '/photos/cat.jpg', h.alice.token);
    expect((await call(h, 'DELETE', auth(h.alice), '/photos', h.alice.token)).status).toBe(204);
    const policy = await call(h, 'PUT', auth(h.alice), '/gold', h.alice.token, { headers: { 'x-storage-policy': 'gold' } });
    expect(policy.status).toBe(400);
    expect(policy.text).toBe("Invalid X-Storage-Policy 'gold'");
  });

  it('refuses names over swift\'s limits (400)', async () => {
    const long = await call(h, 'PUT', auth(h.alice), `/${'c'.repeat(257)}`, h.alice.token);
    expect(long.status).toBe(400);
    expect(long.text).toBe('Container name length of 257 longer than 256');
    await call(h, 'PUT', auth(h.alice), `/${'c'.repeat(256)}`, h.alice.token);
    expect((await call(h, 'HEAD', auth(h.alice), `/${'c'.repeat(256)}`, h.alice.token)).status).toBe(204);
    await call(h, 'PUT', auth(h.alice), '/docs', h.alice.token);
    const longObject = await call(h, 'PUT', auth(h.alice), `/docs/${'o'.repeat(1025)}`, h.alice.token, { body: 'x' });
    expect(longObject.status).toBe(400);
  });

  it('lists objects with prefix, delimiter, marker, end_marker and limit', async () => {
    await call(h, 'PUT', auth(h.alice), '/docs', h.alice.token);
    for (const name of ['a.txt', 'photos/2024/x.jpg', 'photos/2025/y.jpg', 'photos/cover.jpg', 'readme', 'z/last']) {
      expect((await call(h, 'PUT', auth(h.alice), `/docs/${name}`, h.alice.token, { body: name })).status).toBe(201);
    }
    const names = async (query: string) => {
      const r = await call(h, 'GET', auth(h.alice), `/docs?format=json${query}`, h.alice.token);
      return json(r.text).map((e) => (e.subdir as string | undefined) ?? (e.name as string));
    };
    expect(await names('')).toEqual(['a.txt', 'photos/2024/x.jpg', 'photos/2025/y.jpg', 'photos/cover.jpg', 'readme', 'z/last']);
    expect(await names('&delimiter=/')).toEqual(['a.txt', 'photos/', 'readme', 'z/']);
    expect(await names('&prefix=photos/&delimiter=/')).toEqual(['photos/2024/', 'photos/2025/', 'photos/cover.jpg']);
    expect(await names('&delimiter=/&marker=photos/')).toEqual(['readme', 'z/']);
    expect(await names('&limit=2&marker=a.txt')).toEqual(['photos/2024/x.jpg', 'photos/2025/y.jpg']);
    expect(await names('&end_marker=photos/cover.jpg')).toEqual(['a.txt', 'photos/2024/x.jpg', 'photos/2025/y.jpg']);
    expect(await names('&delimiter=/&limit=2')).toEqual(['a.txt', 'photos/']);
    const plain = await call(h, 'GET', auth(h.alice), '/docs?delimiter=/', h.alice.token);
    expect(plain.text).toBe('a.txt\nphotos/\nreadme\nz/\n');
    const detail = await call(h, 'GET', auth(h.alice), '/docs?format=json&prefix=readme', h.alice.token);
    expect(json(detail.text)).toEqual([{ name: 'readme', hash: md5('readme'), bytes: 6, content_type: 'application/octet-stream', last_modified: '2026-01-02T03:04:05.678000' }]);
    expect(detail.headers).toMatchObject({ 'x-container-object-count': '6', 'x-container-bytes-used': String(['a.txt', 'photos/2024/x.jpg', 'photos/2025/y.jpg', 'photos/cover.jpg', 'readme', 'z/last'].join('').length) });
    const empty = await call(h, 'GET', auth(h.alice), '/docs?prefix=nothing', h.alice.token);
    expect(empty.status).toBe(204);
    expect((await call(h, 'GET', auth(h.alice), '/nope?format=json', h.alice.token)).status).toBe(404);
  });
});

describe('swift objects', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
    await call(h, 'PUT', auth(h.alice), '/docs', h.alice.token);
  });

  it('stores an object on disk and gives its bytes back with ETag, Content-Length and Last-Modified', async () => {
    const data = Buffer.from('hello swift\n');
    const put = await call(h, 'PUT', auth(h.alice), '/docs/notes/hello.txt', h.alice.token, { body: data, headers: { 'x-object-meta-author': 'alice' } });
    expect(put.status).toBe(201);
    expect(put.headers).toMatchObject({ etag: md5(data), 'last-modified': 'Fri, 02 Jan 2026 03:04:06 GMT', 'content-length': '0' });

    const got = await call(h, 'GET', auth(h.alice), '/docs/notes/hello.txt', h.alice.token);
    expect(got.status).toBe(200);
    expect(got.raw.equals(data)).toBe(true);
    expect(got.headers).toMatchObject({
      etag: md5(data),
      'content-length': String(data.length),
      'content-type': 'text/plain',
      'last-modified': 'Fri, 02 Jan 2026 03:04:06 GMT',
      'x-timestamp': '1767323045.67800',
      'x-object-meta-author': 'alice',
    });
    const head = await call(h, 'HEAD', auth(h.alice), '/docs/notes/hello.txt', h.alice.token);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(data.length));
    expect(head.text).toBe('');

    const dir = join(h.dataDir, 'swift', h.alice.projectId, sha256('docs'));
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^${sha256('notes/hello.txt')}\\.`));
    expect(readFileSync(join(dir, files[0] as string)).equals(data)).toBe(true);
  });

  it('replaces an object on PUT (counters move by the difference, the old file goes) and deletes it', async () => {
    await call(h, 'PUT', auth(h.alice), '/docs/a', h.alice.token, { body: '12345' });
    h.clock.advance(1000);
    await call(h, 'PUT', auth(h.alice), '/docs/a', h.alice.token, { body: '12' });
    const head = await call(h, 'HEAD', auth(h.alice), '/docs', h.alice.token);
    expect(head.headers).toMatchObject({ 'x-container-object-count': '1', 'x-container-bytes-used': '2' });
    const dir = join(h.dataDir, 'swift', h.alice.projectId, sha256('docs'));
    expect(readdirSync(dir)).toHaveLength(1);
    expect((await call(h, 'GET', auth(h.alice), '/docs/a', h.alice.token)).text).toBe('12');
    expect((await call(h, 'DELETE', auth(h.alice), '/docs/a', h.alice.token)).status).toBe(204);
    expect(readdirSync(dir)).toHaveLength(0);
    expect((await call(h, 'GET', auth(h.alice), '/docs/a', h.alice.token)).status).toBe(404);
    expect((await call(h, 'DELETE', auth(h.alice), '/docs/a', h.alice.token)).status).toBe(404);
    expect((await call(h, 'HEAD', auth(h.alice), '', h.alice.token)).headers).toMatchObject({ 'x-account-object-count': '0', 'x-account-bytes-used': '0' });
  });

  it('keeps an empty object (a pseudo-directory marker) without a file', async () => {
    const put = await call(h, 'PUT', auth(h.alice), '/docs/folder/', h.alice.token, { headers: { 'content-type': 'application/directory', 'content-length': '0' } });
    expect(put.status).toBe(201);
    expect(put.headers.etag).toBe(md5(''));
    const back = await call(h, 'GET', auth(h.alice), '/docs/folder/', h.alice.token);
    expect(back.status).toBe(200);
    expect(back.headers).toMatchObject({ 'content-length': '0', 'content-type': 'application/directory', etag: md5('') });
    // A trailing slash right after the container addresses the container, as in swift.
    const container = await call(h, 'GET', auth(h.alice), '/docs/?format=json', h.alice.token);
    expect(json(container.text)).toEqual([{ name: 'folder/', hash: md5(''), bytes: 0, content_type: 'application/directory', last_modified: '2026-01-02T03:04:05.678000' }]);
    expect(readdirSync(join(h.dataDir, 'swift', h.alice.projectId, sha256('docs')))).toEqual([]);
  });

  it('guesses the Content-Type from the name when the PUT sends none, as swift does', async () => {
    const put = async (name: string, headers: Record<string, string> = {}) => {
      await h.app.inject({ method: 'PUT', url: `/object-storage/v1/${auth(h.alice)}/docs/${name}`, headers: { 'x-auth-token': h.alice.token, ...headers }, payload: Buffer.from('x') });
      return (await call(h, 'HEAD', auth(h.alice), `/docs/${name}`, h.alice.token)).headers['content-type'];
    };
    expect(await put('report.pdf')).toBe('application/pdf');
    expect(await put('backup.tar.gz')).toBe('application/x-tar');
    expect(await put('blob')).toBe('application/octet-stream');
    expect(await put('data.bin', { 'content-type': 'application/x-custom' })).toBe('application/x-custom');
    expect(await put('page.json', { 'content-type': 'text/plain', 'x-detect-content-type': 'true' })).toBe('application/json');
  });

  it('round-trips names with spaces, unicode and slashes', async () => {
    const name = 'my dir/naïve ☃ file.txt';
    const url = `/docs/${encodeURIComponent(name).replace(/%2F/g, '/')}`;
    expect((await call(h, 'PUT', auth(h.alice), url, h.alice.token, { body: 'snow' })).status).toBe(201);
    expect((await call(h, 'GET', auth(h.alice), url, h.alice.token)).text).toBe('snow');
    const listed = await call(h, 'GET', auth(h.alice), '/docs?format=json', h.alice.token);
    expect(json(listed.text).map((e) => e.name)).toEqual([name]);
  });

  it('replaces all object metadata on POST (swift semantics) and may change the Content-Type', async () => {
    await call(h, 'PUT', auth(h.alice), '/docs/a.txt', h.alice.token, { body: 'a', headers: { 'x-object-meta-one': '1', 'x-object-meta-two': '2' } });
    const post = await call(h, 'POST', auth(h.alice), '/docs/a.txt', h.alice.token, { headers: { 'x-object-meta-my_key': 'v', 'content-type': 'text/markdown' } });
    expect(post.status).toBe(202);
    const head = await call(h, 'HEAD', auth(h.alice), '/docs/a.txt', h.alice.token);
    expect(head.headers['x-object-meta-my_key']).toBe('v');
    expect(head.headers['x-object-meta-one']).toBeUndefined();
    expect(head.headers['content-type']).toBe('text/markdown');
    expect((await call(h, 'POST', auth(h.alice), '/docs/missing', h.alice.token, { headers: { 'x-object-meta-a': 'b' } })).status).toBe(404);
  });

  it('refuses a body whose md5 differs from the ETag sent (422) and keeps nothing', async () => {
    const put = await call(h, 'PUT', auth(h.alice), '/docs/a', h.alice.token, { body: 'abc', headers: { etag: md5('abd') } });
    expect(put.status).toBe(422);
    expect((await call(h, 'HEAD', auth(h.alice), '/docs/a', h.alice.token)).status).toBe(404);
    expect(readdirSync(join(h.dataDir, 'swift', h.alice.projectId, sha256('docs')))).toEqual([]);
    expect((await call(h, 'PUT', auth(h.alice), '/docs/a', h.alice.token, { body: 'abc', headers: { etag: `"${md5('abc')}"` } })).status).toBe(201);
  });

  it('answers 404 for a PUT into a missing container, 411 without a length, 412 for If-None-Match on an existing object', async () => {
    expect((await call(h, 'PUT', auth(h.alice), '/nope/a', h.alice.token, { body: 'x' })).status).toBe(404);
    const noLength = await h.app.inject({ method: 'PUT', url: `/object-storage/v1/${auth(h.alice)}/docs/a`, headers: { 'x-auth-token': h.alice.token } });
    expect(noLength.statusCode).toBe(411);
    await call(h, 'PUT', auth(h.alice), '/docs/a', h.alice.token, { body: 'x' });
    expect((await call(h, 'PUT', auth(h.alice), '/docs/a', h.alice.token, { body: 'y', headers: { 'if-none-match': '*' } })).status).toBe(412);
    expect((await call(h, 'GET', auth(h.alice), '/docs/a', h.alice.token)).text).toBe('x');
  });

  it('refuses an object over max_file_size (413)', async () => {
    const small = await harness({ maxObjectBytes: 4 });
    await call(small, 'PUT', auth(small.alice), '/c', small.alice.token);
    const refused = await call(small, 'PUT', auth(small.alice), '/c/big', small.alice.token, { body: '12345' });
    expect(refused.status).toBe(413);
    expect(refused.text).toBe('Your request is too large.');
    expect((await call(small, 'PUT', auth(small.alice), '/c/ok', small.alice.token, { body: '1234' })).status).toBe(201);
  });

  it('copies an object server-side with X-Copy-From, keeping its metadata', async () => {
    await call(h, 'PUT', auth(h.alice), '/docs/src.txt', h.alice.token, { body: 'copy me', headers: { 'x-object-meta-a': '1' } });
    await call(h, 'PUT', auth(h.alice), '/backup', h.alice.token);
    const copied = await call(h, 'PUT', auth(h.alice), '/backup/dst.txt', h.alice.token, { body: '', headers: { 'x-copy-from': '/docs/src.txt', 'x-object-meta-b': '2' } });
    expect(copied.status).toBe(201);
    expect(copied.headers).toMatchObject({ etag: md5('copy me'), 'x-copied-from': 'docs/src.txt' });
    const got = await call(h, 'GET', auth(h.alice), '/backup/dst.txt', h.alice.token);
    expect(got.text).toBe('copy me');
    expect(got.headers).toMatchObject({ 'x-object-meta-a': '1', 'x-object-meta-b': '2', 'content-type': 'text/plain' });
    expect((await call(h, 'PUT', auth(h.alice), '/backup/x', h.alice.token, { body: '', headers: { 'x-copy-from': '/docs/missing' } })).status).toBe(404);
  });

  it('serves COPY with a Destination when the server knows the method', async () => {
    const withCopy = await harness({}, { supportCopy: true });
    await call(withCopy, 'PUT', auth(withCopy.alice), '/docs', withCopy.alice.token);
    await call(withCopy, 'PUT', auth(withCopy.alice), '/docs/a', withCopy.alice.token, { body: 'A' });
    const copied = await call(withCopy, 'COPY', auth(withCopy.alice), '/docs/a', withCopy.alice.token, { headers: { destination: 'docs/b' } });
    expect(copied.status).toBe(201);
    expect((await call(withCopy, 'GET', auth(withCopy.alice), '/docs/b', withCopy.alice.token)).text).toBe('A');
  });
});

describe('swift notifications (ceilometermiddleware)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });

  it('emits objectstore.http.request with CADF measurements for each authenticated request', async () => {
    await call(h, 'PUT', auth(h.alice), '/docs', h.alice.token);
    await call(h, 'PUT', auth(h.alice), '/docs/a%20b/c.txt', h.alice.token, { body: 'twelve bytes' });
    await call(h, 'GET', auth(h.alice), '/docs/a%20b/c.txt', h.alice.token);
    await call(h, 'HEAD', auth(h.alice), '', h.alice.token);
    const [create, put, get, head] = await notifications(h, 4);

    for (const n of [create, put, get, head]) {
      expect(n?.routingKey).toBe('notifications.info');
      expect(n?.envelope['oslo.version']).toBe('2.0');
      expect(n?.message).toMatchObject({ event_type: 'objectstore.http.request', publisher_id: 'ceilometermiddleware', priority: 'INFO', _context_project_id: h.alice.projectId });
      expect(n?.message.payload).toMatchObject({
        typeURI: 'http://schemas.dmtf.org/cloud/audit/1.0/event',
        eventType: 'activity',
        eventTime: '2026-01-02T03:04:05.678000',
        outcome: 'success',
        observer: { id: 'target' },
        initiator: { id: h.alice.userId, typeURI: 'service/security/account/user', project_id: h.alice.projectId },
        target: { id: h.alice.projectId, typeURI: 'service/storage/object' },
      });
    }
    const measured = (n: typeof put) => n?.message.payload.measurements.map((m) => [m.metric.name, m.metric.unit, m.result]);
    expect(put?.message.payload).toMatchObject({
      action: 'update',
      target: { action: 'put', metadata: { path: `v1/AUTH_${h.alice.projectId}/docs/a%20b/c.txt`, version: 'v1', container: 'docs', object: 'a%20b/c.txt' } },
    });
    expect(measured(put)).toEqual([
      ['storage.api.request', 'request', 1],
      ['storage.objects.incoming.bytes', 'B', 12],
    ]);
    expect(get?.message.payload.action).toBe('read');
    expect(measured(get)).toEqual([
      ['storage.api.request', 'request', 1],
      ['storage.objects.outgoing.bytes', 'B', 12],
    ]);
    expect(measured(head)).toEqual([['storage.api.request', 'request', 1]]);
    expect(head?.message.payload.target.metadata).toEqual({ path: `v1/AUTH_${h.alice.projectId}`, version: 'v1', container: null, object: null });
    expect(put?.message.payload.measurements[0]?.metric.metricId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('counts listing bodies as outgoing bytes, emits for 403 and 404, and stays silent for 401', async () => {
    await call(h, 'PUT', auth(h.alice), '/docs', h.alice.token);
    const listing = await call(h, 'GET', auth(h.alice), '?format=json', h.alice.token);
    await call(h, 'GET', auth(h.alice), '/docs', h.bob.token);
    const missing = await call(h, 'GET', auth(h.alice), '/nope', h.alice.token);
    await call(h, 'GET', auth(h.alice), '/docs', null);
    const [, listed, forbidden, notFound] = await notifications(h, 4);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(h.captured).toHaveLength(4);
    expect(listed?.message.payload.measurements.map((m) => m.result)).toEqual([1, listing.raw.length]);
    expect(forbidden?.message.payload).toMatchObject({ initiator: { id: h.bob.userId, project_id: h.bob.projectId }, target: { id: h.alice.projectId } });
    expect(notFound?.message.payload.measurements.map((m) => m.result)).toEqual([1, missing.raw.length]);
  });
  it('reports a 500 as outcome failure with nothing sent, as the middleware\'s exception path does', async () => {
    await call(h, 'PUT', auth(h.alice), '/docs', h.alice.token);
    // A file where the object directory must go: the upload cannot be stored.
    writeFileSync(join(h.dataDir, 'swift'), 'in the way');
    const failed = await call(h, 'PUT', auth(h.alice), '/docs/a', h.alice.token, { body: 'abc' });
    expect(failed.status).toBe(500);
    expect(failed.text).toContain('<h1>Internal Error</h1>');
    const [, put] = await notifications(h, 2);
    expect(put?.message.payload.outcome).toBe('failure');
    expect(put?.message.payload.measurements.map((m) => m.metric.name)).toEqual(['storage.api.request']);
  });
});

describe('swift usage (the pollster source)', () => {
  it('reports per project and per container the object count and bytes', async () => {
    const h = await harness();
    await call(h, 'PUT', auth(h.alice), '/a', h.alice.token);
    await call(h, 'PUT', auth(h.alice), '/b', h.alice.token);
    await call(h, 'PUT', auth(h.alice), '/a/1', h.alice.token, { body: '123' });
    await call(h, 'PUT', auth(h.alice), '/a/2', h.alice.token, { body: '4567' });
    await call(h, 'PUT', auth(h.bob), '/x', h.bob.token);
    await call(h, 'PUT', auth(h.bob), '/x/1', h.bob.token, { body: 'z' });
    const usage = h.service.usage();
    const alice = usage.find((u) => u.projectId === h.alice.projectId);
    expect(alice).toEqual({
      projectId: h.alice.projectId,
      containerCount: 2,
      objectCount: 2,
      bytesUsed: 7,
      containers: [
        { name: 'a', objectCount: 2, bytesUsed: 7, storagePolicy: 'Policy-0' },
        { name: 'b', objectCount: 0, bytesUsed: 0, storagePolicy: 'Policy-0' },
      ],
    });
    expect(h.service.usage(h.bob.projectId)).toEqual([{ projectId: h.bob.projectId, containerCount: 1, objectCount: 1, bytesUsed: 1, containers: [{ name: 'x', objectCount: 1, bytesUsed: 1, storagePolicy: 'Policy-0' }] }]);
    expect(usage).toHaveLength(2);
  });
});
