import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseListingQuery } from './listing.ts';
import type { PutObjectInput } from './service.ts';
import { harness, type Harness } from './test-harness.ts';

const md5 = (data: string) => createHash('md5').update(data).digest('hex');
const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
const input = (overrides: Partial<PutObjectInput> = {}): PutObjectInput => ({ contentType: null, metadata: {}, expectedEtag: null, contentLength: null, ifNoneMatch: false, onBytes: () => undefined, ...overrides });
async function* chunks(...parts: string[]): AsyncIterable<Buffer> {
  for (const part of parts) yield Buffer.from(part);
}
async function readAll(stream: AsyncIterable<Buffer | string>): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}

describe('SwiftService', () => {
  let h: Harness;
  let project: string;
  beforeEach(async () => {
    h = await harness();
    project = h.alice.projectId;
    h.service.createContainer(project, 'docs', { storagePolicy: null, metadata: { set: {}, remove: [] } });
  });

  it('ends concurrent PUTs of one name with one object, one file and consistent counters', async () => {
    const bodies = ['a', 'bb', 'ccc', 'dddd', 'eeeee'];
    await Promise.all(bodies.map((b) => h.service.putObject(project, 'docs', 'same', chunks(b), input())));
    const stored = h.service.object(project, 'docs', 'same');
    expect(bodies.map(md5)).toContain(stored.etag);
    expect(readdirSync(join(h.dataDir, 'swift', project, sha256('docs')))).toHaveLength(1);
    const container = h.service.container(project, 'docs');
    expect([container.objectCount, container.bytesUsed]).toEqual([1, stored.bytes]);
    const { stream } = h.service.readObject(project, 'docs', 'same');
    expect(md5(await readAll(stream ?? chunks()))).toBe(stored.etag);
  });

  it('lets a reader that opened an object finish reading it after the object is deleted or replaced', async () => {
    await h.service.putObject(project, 'docs', 'report', chunks('first version'), input());
    const { stream } = h.service.readObject(project, 'docs', 'report');
    await h.service.putObject(project, 'docs', 'report', chunks('second'), input());
    h.service.deleteObject(project, 'docs', 'report');
    expect(await readAll(stream ?? chunks())).toBe('first version');
  });

  it('drops an upload whose container was deleted while it streamed (404, no row, no file)', async () => {
    h.service.createContainer(project, 'tmp', { storagePolicy: null, metadata: { set: {}, remove: [] } });
    const service = h.service;
    async function* slow(): AsyncIterable<Buffer> {
      yield Buffer.from('part one, ');
      // The container is still empty, so its DELETE succeeds mid-upload.
      service.deleteContainer(project, 'tmp');
      yield Buffer.from('part two');
    }
    await expect(h.service.putObject(project, 'tmp', 'x', slow(), input())).rejects.toMatchObject({ code: 'CUMULUS_SWIFT_NOT_FOUND', httpStatus: 404 });
    expect(() => h.service.container(project, 'tmp')).toThrowError(expect.objectContaining({ httpStatus: 404 }) as Error);
    const dir = join(h.dataDir, 'swift', project, sha256('tmp'));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a body shorter than its Content-Length (the client left) and keeps nothing', async () => {
    await expect(h.service.putObject(project, 'docs', 'cut', chunks('12345'), input({ contentLength: 10 }))).rejects.toMatchObject({ code: 'CUMULUS_SWIFT_CLIENT_DISCONNECT', httpStatus: 499 });
    expect(() => h.service.object(project, 'docs', 'cut')).toThrowError(expect.objectContaining({ code: 'CUMULUS_SWIFT_NOT_FOUND' }) as Error);
    expect(readdirSync(join(h.dataDir, 'swift', project, sha256('docs')))).toEqual([]);
  });

  it('counts every byte read, also of a refused upload', async () => {
    let counted = 0;
    await expect(
      h.service.putObject(project, 'docs', 'bad', chunks('abc', 'def'), input({ expectedEtag: md5('nope'), onBytes: (n) => (counted += n) })),
    ).rejects.toMatchObject({ code: 'CUMULUS_SWIFT_ETAG_MISMATCH', httpStatus: 422 });
    expect(counted).toBe(6);
  });

  it('lists through the store with a delimiter rollup', async () => {
    for (const name of ['a/1', 'a/2', 'b']) await h.service.putObject(project, 'docs', name, chunks(name), input());
    const { entries } = h.service.listObjects(project, 'docs', parseListingQuery({ delimiter: '/' }, undefined));
    expect(entries.map((e) => ('subdir' in e ? e.subdir : e.name))).toEqual(['a/', 'b']);
  });

  it('keeps an admin-addressed account whose id is not a plain keystone id under a hashed directory', async () => {
    const odd = '../escape';
    h.service.createContainer(odd, 'c', { storagePolicy: null, metadata: { set: {}, remove: [] } });
    await h.service.putObject(odd, 'c', 'o', chunks('x'), input());
    expect(readdirSync(join(h.dataDir, 'swift'))).toContain(`h-${sha256(odd)}`);
  });
});
