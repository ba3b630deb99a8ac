import { describe, expect, it } from 'vitest';
import { CloudApiError } from '../errors.ts';
import { GLANCE_ERRORS } from './errors.ts';
import { listImages } from './queries.ts';
import { parseImageCreate, parseImageList, parseImagePatch } from './requests.ts';
import { digestStream } from './upload.ts';

const V21 = 'application/openstack-images-v2.1-json-patch';

function refusal(fn: () => unknown): { code: string; status: number; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof CloudApiError) return { code: err.code, status: err.httpStatus, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('parseImagePatch', () => {
  it('decodes JSON pointers and both drafts', () => {
    expect(parseImagePatch(V21, [{ op: 'add', path: '/a~1b~0c', value: 'x' }])).toEqual([{ op: 'add', path: ['a/b~c'], value: 'x', draft: 10 }]);
    expect(parseImagePatch('application/openstack-images-v2.0-json-patch; charset=UTF-8', [{ replace: '/name', value: 'n' }])).toEqual([{ op: 'replace', path: ['name'], value: 'n', draft: 4 }]);
    expect(parseImagePatch(V21, [{ op: 'remove', path: '/os_distro' }])).toEqual([{ op: 'remove', path: ['os_distro'], draft: 10 }]);
  });

  it('refuses with glance codes and statuses', () => {
    expect(refusal(() => parseImagePatch('application/json', []))).toMatchObject({ code: GLANCE_ERRORS.unsupportedMediaType, status: 415 });
    expect(refusal(() => parseImagePatch(V21, [{ op: 'add', path: '/x~2', value: 'v' }]))).toMatchObject({ code: GLANCE_ERRORS.invalid, message: 'Pointer `/x~2` contains "~" not part of a recognized escape sequence.' });
    expect(refusal(() => parseImagePatch(V21, [{ add: '/x', value: 'v' }]))).toMatchObject({ status: 400, message: 'Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace.' });
    expect(refusal(() => parseImagePatch(V21, [{ op: 'add', path: '/checksum', value: 'v' }]))).toMatchObject({ code: GLANCE_ERRORS.readOnly, status: 403 });
    expect(refusal(() => parseImagePatch(V21, [{ op: 'add', path: '/os_glance_x', value: 'v' }]))).toMatchObject({ code: GLANCE_ERRORS.reserved, status: 403 });
    expect(refusal(() => parseImagePatch(V21, [{ op: 'add', path: '/visibility', value: 'world' }]))).toMatchObject({ code: GLANCE_ERRORS.schemaMismatch, status: 400 });
    expect(refusal(() => parseImagePatch(V21, [{ op: 'add', path: '/tags', value: ['ok', 7] }]))).toMatchObject({ code: GLANCE_ERRORS.schemaMismatch });
  });
});

describe('parseImageCreate', () => {
  it('separates base attributes, tags and custom properties', () => {
    expect(parseImageCreate({ name: 'n', disk_format: 'raw', container_format: 'bare', tags: ['a', 'a', 'b'], protected: true, os_distro: 'debian' })).toEqual({
      id: null,
      name: 'n',
      visibility: null,
      owner: null,
      disk_format: 'raw',
      container_format: 'bare',
      min_disk: 0,
      min_ram: 0,
      protected: true,
      os_hidden: false,
      tags: ['a', 'b'],
      properties: { os_distro: 'debian' },
    });
  });

  it('refuses bad ids, formats and long property names', () => {
    expect(refusal(() => parseImageCreate({ id: 'not-a-uuid' }))).toMatchObject({ code: GLANCE_ERRORS.schemaMismatch });
    expect(refusal(() => parseImageCreate({ disk_format: 'floppy' }))).toMatchObject({ code: GLANCE_ERRORS.schemaMismatch });
    expect(refusal(() => parseImageCreate({ ['k'.repeat(256)]: 'v' }))).toMatchObject({ code: GLANCE_ERRORS.invalid, message: 'Custom property should not be greater than 255 characters.' });
    expect(refusal(() => parseImageCreate([]))).toMatchObject({ status: 400 });
  });
});

describe('parseImageList and the list query', () => {
  it('applies glance defaults: 25 per page, created_at desc, then id', () => {
    const request = parseImageList({});
    expect(request).toMatchObject({ limit: 25, marker: null, sort: [{ key: 'created_at', dir: 'desc' }, { key: 'id', dir: 'desc' }] });
    expect(parseImageList({ limit: '5000' }).limit).toBe(1000);
    expect(parseImageList({ sort_key: ['name', 'size'], sort_dir: 'asc' }).sort).toEqual([
      { key: 'name', dir: 'asc' },
      { key: 'size', dir: 'asc' },
      { key: 'created_at', dir: 'asc' },
      { key: 'id', dir: 'asc' },
    ]);
  });

  it('binds every filter value as a parameter', () => {
    const request = parseImageList({ name: "x' OR 1=1 --", 'hw_disk_bus"': 'scsi', tag: ['a'], created_at: 'gte:2026-01-01T00:00:00Z' });
    const query = listImages({ isAdmin: false, projectId: 'p1' }, request.filters);
    expect(query.sql).not.toContain('OR 1=1');
    expect(query.sql).not.toContain('scsi');
    expect(Object.values(query.params)).toEqual(expect.arrayContaining(["x' OR 1=1 --", 'scsi', 'a', '2026-01-01T00:00:00.000Z', '$."hw_disk_bus\\""']));
    expect(refusal(() => parseImageList({ created_at: 'around:2026-01-01' }))).toMatchObject({ status: 400 });
    expect(refusal(() => parseImageList({ 'changes-since': '2026-01-01' }))).toMatchObject({ status: 400 });
    expect(refusal(() => parseImageList({ member_status: 'maybe' }))).toMatchObject({ message: 'Invalid status: maybe' });
  });
});

describe('digestStream', () => {
  it('hashes chunks as they come and reads a qcow2 virtual size split across chunks', async () => {
    const header = Buffer.alloc(64);
    header.writeUInt32BE(0x514649fb, 0);
    header.writeBigUInt64BE(10n * 1024n ** 3n, 24);
    async function* chunks() {
      yield header.subarray(0, 10);
      yield header.subarray(10, 30);
      yield header.subarray(30);
    }
    const data = await digestStream(chunks());
    expect(data.size).toBe(64);
    expect(data.qcow2VirtualSize).toBe(10 * 1024 ** 3);
    const raw = await digestStream([Buffer.from('hello')]);
    expect(raw).toMatchObject({ size: 5, checksum: '5d41402abc4b2a76b9719d911017c592', qcow2VirtualSize: null });
    expect(raw.hashValue).toHaveLength(128);
  });
});

describe('custom property names', () => {
  it('treats names of Object.prototype members as plain custom properties', () => {
    expect(refusal(() => parseImageCreate({ constructor: 5 }))).toMatchObject({ code: GLANCE_ERRORS.schemaMismatch });
    expect(parseImageCreate({ toString: 'x' }).properties).toEqual({ toString: 'x' });
    expect(refusal(() => parseImagePatch(V21, [{ op: 'add', path: '/__proto__', value: 'x' }]))).toMatchObject({ code: GLANCE_ERRORS.reserved });
  });
});
