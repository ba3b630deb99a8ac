import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sample } from '../core/index.ts';
import { createResourceIndex } from '../pipeline/ingest/resource-index.ts';
import { startApiTenants, type ApiTenants, type Caller } from './support/api-tenants.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;
interface Reply {
  status: number;
  body: Json;
  headers: Headers;
}

const M = '/metric/v1';
const JSON_HEADERS = { 'content-type': 'application/json' };
const PATCH_HEADERS = { 'content-type': 'application/json-patch+json' };

async function call(who: Caller, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply> {
  const res = await who.request(method, `${M}${path}`, body, headers);
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text), headers: res.headers };
}

/** Follows `Link: <...>; rel="next"` from a first page to the last; every item of every page, in order. */
async function allPages(who: Caller, method: string, firstPath: string): Promise<{ items: Json[]; pages: number }> {
  const items: Json[] = [];
  let url: string | null = `${M}${firstPath}`;
  let pages = 0;
  while (url !== null) {
    const res = await who.request(method, url, undefined, method === 'POST' ? JSON_HEADERS : {});
    expect(res.status, url).toBe(200);
    items.push(...((await res.json()) as Json[]));
    pages += 1;
    const link = res.headers.get('link');
    url = link === null ? null : new URL(/^<([^>]+)>; rel="next"$/.exec(link)?.[1] as string).pathname + new URL(/^<([^>]+)>/.exec(link)?.[1] as string).search;
    expect(pages).toBeLessThan(50);
  }
  return { items, pages };
}

const ids = (list: Json[]) => list.map((r) => r.id as string);
const sortedIds = (list: Json[]) => ids(list).sort();

describe('Gnocchi v1 resource index API', { timeout: 120_000 }, () => {
  let t: ApiTenants;
  beforeAll(async () => {
    t = await startApiTenants();
  }, 60_000);
  afterAll(async () => t?.stop());

  describe('resource types', () => {
    it('creates, shows and lists types; admins only write them', async () => {
      const definition = { name: 'rack', attributes: { zone: { type: 'string', max_length: 8 }, slots: { type: 'number', required: false, min: 0, max: 64 }, owner: { type: 'uuid', required: false } } };
      expect((await call(t.alpha, 'POST', '/resource_type', definition)).status).toBe(403);
      const created = await call(t.admin, 'POST', '/resource_type', definition);
      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toBe(`${t.url}${M}/resource_type/rack`);
      expect(created.body).toEqual({
        name: 'rack',
        state: 'active',
        attributes: {
          zone: { type: 'string', required: true, min_length: 0, max_length: 8 },
          slots: { type: 'number', required: false, min: 0, max: 64 },
          owner: { type: 'uuid', required: false },
        },
      });
      expect((await call(t.admin, 'POST', '/resource_type', definition)).status).toBe(409);
      // Everyone reads types.
      expect((await call(t.alpha, 'GET', '/resource_type/rack')).body).toEqual(created.body);
      const listed = await call(t.beta, 'GET', '/resource_type');
      expect(listed.status).toBe(200);
      expect(listed.body.map((r: Json) => r.name)).toEqual(expect.arrayContaining(['generic', 'instance', 'rack']));
      expect(listed.body.find((r: Json) => r.name === 'generic')).toEqual({ name: 'generic', state: 'active', attributes: {} });
      const missing = await call(t.alpha, 'GET', '/resource_type/nope');
      expect(missing.status).toBe(404);
      expect(missing.body.description).toMatch(/Resource type nope does not exist/);
    });

    it('refuses invalid definitions with a 400 naming what is wrong', async () => {
      const bad = async (body: unknown, pattern: RegExp) => {
        const reply = await call(t.admin, 'POST', '/resource_type', body);
        expect(reply.status, JSON.stringify(body)).toBe(400);
        expect(reply.body.description).toMatch(pattern);
      };
      await bad({ name: 'r1', attributes: { project_id: { type: 'string' } } }, /project_id/);
      await bad({ name: 'r1', attributes: { n: { type: 'string', min_length: 5, max_length: 2 } } }, /min.*max/);
      await bad({ name: 'r1', attributes: { n: { type: 'number', min: 8, max: 3 } } }, /8.*3/);
      await bad({ name: 'r1', attributes: { n: { type: 'string', noexist: 'foo' } } }, /noexist/);
      await bad({ name: 'r1', attributes: { n: { type: 'colour' } } }, /type/);
      await bad({ name: 'r1', colour: 'red' }, /colour/);
      await bad({ attributes: {} }, /name/);
      await bad({ name: 'bad name!' }, /name/);
    });

    it('adds attributes (a required one with its fill), then resources use them; removes them; refuses deleting a type in use', async () => {
      await call(t.admin, 'POST', '/resource_type', { name: 'shelf', attributes: { zone: { type: 'string' }, slots: { type: 'number', required: false } } });
      const first = await call(t.alpha, 'POST', '/resource/shelf', { id: randomUUID(), zone: 'z1', slots: 10 });
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ zone: 'z1', slots: 10, type: 'shelf', project_id: t.alpha.projectId });

      const addRow = [{ op: 'add', path: '/attributes/row', value: { type: 'string', required: true } }];
      expect((await call(t.alpha, 'PATCH', '/resource_type/shelf', addRow, PATCH_HEADERS)).status).toBe(403);
      const noFill = await call(t.admin, 'PATCH', '/resource_type/shelf', addRow, PATCH_HEADERS);
      expect(noFill.status).toBe(400);
      expect(noFill.body.description).toMatch(/fill/);
      const patched = await call(t.admin, 'PATCH', '/resource_type/shelf', [{ op: 'add', path: '/attributes/row', value: { type: 'string', required: true, options: { fill: 'A' } } }], PATCH_HEADERS);
      expect(patched.status).toBe(200);
      expect(patched.body.attributes.row).toEqual({ type: 'string', required: true, min_length: 0, max_length: 255 });
      expect((await call(t.admin, 'PATCH', '/resource_type/shelf', [{ op: 'replace', path: '/attributes/row', value: {} }], PATCH_HEADERS)).status).toBe(400);
      expect((await call(t.admin, 'PATCH', '/resource_type/shelf', [{ op: 'add', path: '/name', value: {} }], PATCH_HEADERS)).status).toBe(400);
      expect((await call(t.admin, 'PATCH', '/resource_type/nope', addRow, PATCH_HEADERS)).status).toBe(404);

      // An existing resource reads the new attribute as its fill.
      expect((await call(t.alpha, 'GET', `/resource/shelf/${first.body.id}`)).body).toMatchObject({ zone: 'z1', slots: 10, row: 'A' });
      // New resources need it; they can set it.
      const without = await call(t.alpha, 'POST', '/resource/shelf', { id: randomUUID(), zone: 'z2' });
      expect(without.status).toBe(400);
      expect(without.body.description).toMatch(/row/);
      const second = await call(t.alpha, 'POST', '/resource/shelf', { id: randomUUID(), zone: 'z2', row: 'B' });
      expect(second.status).toBe(201);
      expect(second.body.row).toBe('B');
      // A patch with the new attribute opens a revision; the old one still reads the fill.
      const moved = await call(t.alpha, 'PATCH', `/resource/shelf/${first.body.id}`, { row: 'C' });
      expect(moved.status).toBe(200);
      expect(moved.body.row).toBe('C');
      const history = await call(t.alpha, 'GET', `/resource/shelf/${first.body.id}/history`);
      expect(history.body.map((r: Json) => r.row)).toEqual(['A', 'C']);
      // The search language knows the new attribute.
      const found = await call(t.alpha, 'POST', '/search/resource/shelf', { '=': { row: 'A' } });
      expect(found.body).toEqual([]);
      expect(sortedIds((await call(t.alpha, 'POST', '/search/resource/shelf', { in: { row: ['B', 'C'] } })).body)).toEqual([first.body.id, second.body.id].sort());

      // Removing an attribute takes it out of every resource.
      const removed = await call(t.admin, 'PATCH', '/resource_type/shelf', [{ op: 'remove', path: '/attributes/slots' }], PATCH_HEADERS);
      expect(Object.keys(removed.body.attributes).sort()).toEqual(['row', 'zone']);
      const after = await call(t.alpha, 'GET', `/resource/shelf/${first.body.id}`);
      expect(after.body).not.toHaveProperty('slots');
      expect((await call(t.alpha, 'PATCH', `/resource/shelf/${first.body.id}`, { slots: 3 })).status).toBe(400);

      // Delete: refused while resources of the type exist (Gnocchi's 400), then allowed.
      expect((await call(t.alpha, 'DELETE', '/resource_type/shelf')).status).toBe(403);
      const inUse = await call(t.admin, 'DELETE', '/resource_type/shelf');
      expect(inUse.status).toBe(400);
      expect(inUse.body.description).toMatch(/still in use/);
      expect((await call(t.admin, 'DELETE', '/resource/shelf', { '=': { type: 'shelf' } })).body).toEqual({ deleted: 2 });
      expect((await call(t.admin, 'DELETE', '/resource_type/shelf')).status).toBe(204);
      expect((await call(t.admin, 'GET', '/resource_type/shelf')).status).toBe(404);
      expect((await call(t.admin, 'DELETE', '/resource_type/generic')).status).toBe(400);
    });
  });

  describe('resources', () => {
    const instance = (id: string, extra: Record<string, unknown> = {}) => ({ id, flavor_id: '1', flavor_name: 'm1.small', host: 'compute-1', display_name: 'vm', ...extra });

    it('creates a resource with Gnocchi shape, then revisions and history follow each change', async () => {
      const id = randomUUID();
      const given = id.toUpperCase();
      const created = await call(t.alpha, 'POST', '/resource/instance', instance(given, { started_at: '2024-01-01T00:00:00Z', user_id: 'u-1' }));
      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toBe(`${t.url}${M}/resource/instance/${id}`);
      expect(created.body).toEqual({
        id,
        original_resource_id: given,
        type: 'instance',
        project_id: t.alpha.projectId,
        user_id: 'u-1',
        creator: `u-1:${t.alpha.projectId}`,
        created_by_user_id: 'u-1',
        created_by_project_id: t.alpha.projectId,
        started_at: '2024-01-01T00:00:00+00:00',
        revision_start: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/),
        ended_at: null,
        revision_end: null,
        metrics: {},
        flavor_id: '1',
        flavor_name: 'm1.small',
        host: 'compute-1',
        display_name: 'vm',
        image_ref: null,
        server_group: null,
        availability_zone: null,
        launched_at: null,
        created_at: null,
        deleted_at: null,
      });
      // The same resource, in any form of its id, exists already.
      expect((await call(t.alpha, 'POST', '/resource/instance', instance(id))).status).toBe(409);
      expect((await call(t.alpha, 'POST', '/resource/generic', { id: id.replace(/-/g, '') })).status).toBe(409);

      // Unchanged data opens no revision.
      const same = await call(t.alpha, 'PATCH', `/resource/instance/${id}`, { flavor_id: '1', user_id: 'u-1' });
      expect(same.status).toBe(200);
      expect(same.body.revision_start).toBe(created.body.revision_start);
      const resized = await call(t.alpha, 'PATCH', `/resource/instance/${id}`, { flavor_id: '2' });
      expect(resized.body).toMatchObject({ flavor_id: '2', display_name: 'vm' });
      expect(resized.body.revision_start > created.body.revision_start).toBe(true);
      const ended = await call(t.alpha, 'PATCH', `/resource/instance/${given}`, { display_name: 'vm-2', ended_at: '2024-02-01T00:00:00Z', image_ref: 'img-1' });
      expect(ended.body).toMatchObject({ flavor_id: '2', display_name: 'vm-2', image_ref: 'img-1', ended_at: '2024-02-01T00:00:00+00:00' });
      expect((await call(t.alpha, 'GET', `/resource/instance/${id}`)).body).toEqual(ended.body);

      const history = await call(t.alpha, 'GET', `/resource/instance/${id}/history`);
      expect(history.status).toBe(200);
      expect(history.body.map((r: Json) => [r.flavor_id, r.display_name, r.image_ref, r.ended_at])).toEqual([
        ['1', 'vm', null, null],
        ['2', 'vm', null, null],
        ['2', 'vm-2', 'img-1', '2024-02-01T00:00:00+00:00'],
      ]);
      expect(history.body.map((r: Json) => r.revision_start)).toEqual([created.body.revision_start, resized.body.revision_start, ended.body.revision_start]);
      expect(history.body.map((r: Json) => r.revision_end)).toEqual([resized.body.revision_start, ended.body.revision_start, null]);
      // Paged one revision at a time, following the Link header, the same revisions come back.
      const paged = await allPages(t.alpha, 'GET', `/resource/instance/${id}/history?limit=1`);
      expect(paged.items).toEqual(history.body);
      expect(paged.pages).toBe(4);
      const newestFirst = await call(t.alpha, 'GET', `/resource/instance/${id}/history?sort=revision_end:asc-nullsfirst`);
      expect(newestFirst.body.map((r: Json) => r.display_name)).toEqual(['vm-2', 'vm', 'vm']);

      // Through /resource/generic the resource shows its generic fields only (as Gnocchi); another type's URL does not find it.
      const generic = await call(t.alpha, 'GET', `/resource/generic/${id}`);
      expect(generic.body).toMatchObject({ id, type: 'instance' });
      expect(generic.body).not.toHaveProperty('flavor_id');
      expect(Object.keys(generic.body)).toHaveLength(13);
      expect((await call(t.alpha, 'GET', `/resource/image/${id}`)).status).toBe(404);

      expect((await call(t.alpha, 'DELETE', `/resource/instance/${id}`)).status).toBe(204);
      for (const path of [`/resource/instance/${id}`, `/resource/generic/${id}`, `/resource/instance/${id}/history`, `/resource/instance/${id}/metric`]) {
        expect((await call(t.alpha, 'GET', path)).status, path).toBe(404);
      }
      expect((await call(t.alpha, 'DELETE', `/resource/instance/${id}`)).status).toBe(404);
      expect((await call(t.alpha, 'PATCH', `/resource/instance/${id}`, { flavor_id: '3' })).status).toBe(404);
    });

    it('takes any text as an id: shown as Gnocchi\'s UUIDv5, found by either', async () => {
      const text = `generic one ${randomUUID().slice(0, 8)}`;
      const created = await call(t.alpha, 'POST', '/resource/generic', { id: text });
      expect(created.status).toBe(201);
      expect(created.body.original_resource_id).toBe(text);
      expect(created.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect((await call(t.alpha, 'GET', `/resource/generic/${encodeURIComponent(text)}`)).body.id).toBe(created.body.id);
      expect((await call(t.alpha, 'GET', `/resource/generic/${created.body.id}`)).body.original_resource_id).toBe(text);
      expect(ids((await call(t.alpha, 'POST', '/search/resource/generic', { '=': { id: text } })).body)).toEqual([created.body.id]);
      expect(ids((await call(t.alpha, 'POST', '/search/resource/generic', { '=': { id: created.body.id } })).body)).toEqual([created.body.id]);
      expect(ids((await call(t.alpha, 'POST', '/search/resource/generic', { like: { original_resource_id: `${text.slice(0, 12)}%` } })).body)).toEqual([created.body.id]);

      // Gnocchi's own transform (uuid.uuid5 of the text, no creator), computed by Python for this test.
      const known = await call(t.alpha, 'POST', '/resource/generic', { id: 'generic one' });
      expect(known.body.id).toBe('255507b9-e54e-5e5a-b6b5-c609490d867a');

      const slash = await call(t.alpha, 'POST', '/resource/generic', { id: 'a/b' });
      expect(slash.status).toBe(400);
      expect(slash.body.description).toMatch(/'\/' is not supported in resource id/);
      const long = await call(t.alpha, 'POST', '/resource/generic', { id: 'x'.repeat(256) });
      expect(long.status).toBe(400);
      expect(long.body.description).toMatch(/transformable resource id >255/);
      expect((await call(t.alpha, 'POST', '/resource/generic', { id: `y${'x'.repeat(254)}` })).status).toBe(201);
    });

    it('creates, links, lists and deletes a resource\'s metrics', async () => {
      const id = randomUUID();
      const created = await call(t.alpha, 'POST', '/resource/generic', { id, metrics: { cpu: { archive_policy_name: 'low' }, mem: {} } });
      expect(created.status).toBe(201);
      expect(Object.keys(created.body.metrics).sort()).toEqual(['cpu', 'mem']);
      const listed = await call(t.alpha, 'GET', `/resource/generic/${id}/metric`);
      expect(listed.body.map((m: Json) => [m.name, m.archive_policy_name, m.resource_id, m.id]).sort()).toEqual([
        ['cpu', 'low', id, created.body.metrics.cpu],
        ['mem', 'ceilometer-low', id, created.body.metrics.mem],
      ]);
      const cpu = await call(t.alpha, 'GET', `/resource/generic/${id}/metric/cpu`);
      expect(cpu.body).toMatchObject({ id: created.body.metrics.cpu, name: 'cpu', resource_id: id, archive_policy: { name: 'low' } });
      expect((await call(t.alpha, 'GET', `/resource/generic/${id}/metric/cpu/measures`)).body).toEqual([]);
      expect((await call(t.alpha, 'GET', `/resource/generic/${id}/metric/nope`)).status).toBe(404);

      const added = await call(t.alpha, 'POST', `/resource/generic/${id}/metric`, { disk: { archive_policy_name: 'low', unit: 'B' } });
      expect(added.status).toBe(200);
      expect(added.body.map((m: Json) => m.name).sort()).toEqual(['cpu', 'disk', 'mem']);
      expect(added.body.find((m: Json) => m.name === 'disk').unit).toBe('B');
      const again = await call(t.alpha, 'POST', `/resource/generic/${id}/metric`, { disk: { archive_policy_name: 'low' } });
      expect(again.status).toBe(409);
      expect(again.body.description).toMatch(/Named metric disk already exists/);
      const badPolicy = await call(t.alpha, 'POST', `/resource/generic/${id}/metric`, { net: { archive_policy_name: 'nope' } });
      expect(badPolicy.status).toBe(400);
      expect(badPolicy.body.description).toMatch(/Archive policy nope does not exist/);
      expect((await call(t.alpha, 'POST', `/resource/generic/${id}/metric`, { 'a/b': {} })).body.description).toMatch(/'\/' is not supported in metric name/);
      const ghost = await call(t.alpha, 'PATCH', `/resource/generic/${id}`, { metrics: { cpu: randomUUID() } });
      expect(ghost.status).toBe(400);
      expect(ghost.body.description).toMatch(/does not exist/);

      // PATCH with metrics: the given set replaces the resource's (existing names keep their metric, others leave).
      const other = await call(t.alpha, 'POST', '/resource/generic', { id: randomUUID(), metrics: { spare: { archive_policy_name: 'low' } } });
      const replaced = await call(t.alpha, 'PATCH', `/resource/generic/${id}`, { metrics: { cpu: {}, moved: other.body.metrics.spare } });
      expect(replaced.status).toBe(200);
      expect(replaced.body.metrics).toEqual({ cpu: created.body.metrics.cpu, moved: other.body.metrics.spare });
      // A metrics-only update opens no revision.
      expect(replaced.body.revision_start).toBe(created.body.revision_start);
      expect((await call(t.alpha, 'GET', `/resource/generic/${other.body.id}`)).body.metrics).toEqual({});

      expect((await call(t.alpha, 'DELETE', `/resource/generic/${id}/metric/cpu`)).status).toBe(204);
      expect((await call(t.alpha, 'GET', `/resource/generic/${id}`)).body.metrics).toEqual({ moved: other.body.metrics.spare });
      expect((await call(t.alpha, 'GET', `/resource/generic/${id}/metric/cpu`)).status).toBe(404);
      // Deleting the resource deletes its metrics.
      expect((await call(t.alpha, 'DELETE', `/resource/generic/${id}`)).status).toBe(204);
      expect((await call(t.alpha, 'GET', `/metric/${other.body.metrics.spare}`)).status).toBe(404);
    });

    it('shows what the pipeline indexed, and the pipeline builds on revisions the API wrote', async () => {
      const index = createResourceIndex({ store: t.platform.store, policyForMetric: () => 'low' });
      const vm = randomUUID();
      const t0 = Date.now() - 3_600_000;
      const sample = (atMs: number, flavor: string, n: number): Sample => ({
        id: randomUUID(),
        name: 'vcpus',
        type: 'gauge',
        unit: 'vcpu',
        volume: 1,
        user_id: 'user-1',
        project_id: t.alpha.projectId,
        resource_id: vm,
        timestamp: new Date(atMs).toISOString(),
        resource_metadata: { instance_host: 'compute-1', display_name: 'vm-1', flavor: { id: flavor, name: `m1.${flavor}` }, image_ref: 'img-1' },
        source: 'openstack',
        message_id: `m-${n}`,
        message_signature: '',
      });
      await index.indexSamples([sample(t0, 'small', 1)]);
      const indexed = await call(t.alpha, 'GET', `/resource/instance/${vm}`);
      expect(indexed.status).toBe(200);
      expect(indexed.body).toMatchObject({ id: vm, type: 'instance', flavor_id: 'small', flavor_name: 'm1.small', host: 'compute-1', display_name: 'vm-1', user_id: 'user-1', project_id: t.alpha.projectId });
      expect(Date.parse(indexed.body.started_at)).toBe(t0);
      expect(Object.keys(indexed.body.metrics)).toEqual(['vcpus']);
      expect((await call(t.beta, 'GET', `/resource/instance/${vm}`)).status).toBe(404);

      const renamed = await call(t.alpha, 'PATCH', `/resource/instance/${vm}`, { display_name: 'renamed' });
      expect(renamed.status).toBe(200);
      // A later sample (a resize) opens the next revision on top of the API's.
      await index.indexSamples([sample(Date.now() + 60_000, 'large', 2)]);
      const history = await call(t.alpha, 'GET', `/resource/instance/${vm}/history`);
      expect(history.body.map((r: Json) => [r.flavor_id, r.display_name])).toEqual([
        ['small', 'vm-1'],
        ['small', 'renamed'],
        ['large', 'vm-1'],
      ]);
      expect(history.body.map((r: Json) => r.revision_end)).toEqual([history.body[1].revision_start, history.body[2].revision_start, null]);
    });

    it('takes measures by metric name and searches measures by value (/v1/search/metric)', async () => {
      const id = `sensor ${randomUUID().slice(0, 8)}`;
      const created = await call(t.alpha, 'POST', '/resource/generic', { id, metrics: { temp: { archive_policy_name: 'low' } } });
      const metric = created.body.metrics.temp as string;
      const bucket = Math.floor(Date.now() / 300_000) * 300_000 - 3_600_000;
      const at = (ms: number) => new Date(ms).toISOString();
      const posted = await call(t.alpha, 'POST', `/resource/generic/${encodeURIComponent(id)}/metric/temp/measures`, [
        { timestamp: at(bucket + 10_000), value: 12 },
        { timestamp: at(bucket + 310_000), value: 40 },
        { timestamp: at(bucket + 320_000), value: 40 },
      ]);
      expect(posted.status).toBe(202);
      const measures = await call(t.alpha, 'GET', `/resource/generic/${created.body.id}/metric/temp/measures`);
      expect(measures.body.map((p: Json) => [Date.parse(p[0]), p[1], p[2]])).toEqual([
        [bucket, 300, 12],
        [bucket + 300_000, 300, 40],
      ]);
      const search = (predicate: unknown, query = '') => call(t.alpha, 'POST', `/search/metric?metric_id=${metric}${query}`, predicate);
      const values = async (predicate: unknown) => {
        const reply = await search(predicate);
        expect(reply.status, JSON.stringify(predicate)).toBe(200);
        expect(Object.keys(reply.body)).toEqual([metric]);
        return reply.body[metric].map((p: Json) => [Date.parse(p[0]), p[1], p[2]]);
      };
      expect(await values({ '≥': 20 })).toEqual([[bucket + 300_000, 300, 40]]);
      expect(await values({ '=': 12 })).toEqual([[bucket, 300, 12]]);
      expect(await values({ and: [{ '>': 10 }, { '<': 20 }] })).toEqual([[bucket, 300, 12]]);
      expect(await values({ or: [{ '=': 12 }, { eq: 40 }] })).toHaveLength(2);
      expect(await values({ '=': [{ '%': 5 }, 0] })).toEqual([[bucket + 300_000, 300, 40]]);
      expect(await values({ '>': [{ '*': 2 }, 50] })).toEqual([[bucket + 300_000, 300, 40]]);
      // Another project's metric is left out, like a missing one.
      expect((await call(t.beta, 'POST', `/search/metric?metric_id=${metric}`, { '>': 0 })).body).toEqual({});
      const bad = async (reply: Reply, pattern: RegExp) => {
        expect(reply.status).toBe(400);
        expect(JSON.stringify(reply.body.description)).toMatch(pattern);
      };
      await bad(await call(t.alpha, 'POST', `/search/metric?metric_id=${metric}`, undefined, JSON_HEADERS), /No query specified in body/);
      await bad(await search({ '~': 1 }), /Unknown operator ~/);
      await bad(await search({ '=': [1, 2, 3] }), /2 arguments/);
      await bad(await search({ '=': 1 }, '&granularity=1'), /Aggregation does not exist/);
      await bad(await search({ '=': 1 }, '&start=foobar'), /start/);
      expect((await call(t.alpha, 'POST', '/search/metric', { '=': 1 })).status).toBe(400);
    });

    it('refuses invalid resources with a 400 naming the field', async () => {
      const bad = async (method: string, path: string, body: unknown, pattern: RegExp, headers?: Record<string, string>) => {
        const reply = await call(t.alpha, method, path, body, headers);
        expect(reply.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
        expect(reply.body.description).toMatch(pattern);
      };
      await bad('POST', '/resource/generic', {}, /id/);
      await bad('POST', '/resource/generic', { id: randomUUID(), started_at: 'yesterday-ish' }, /started_at/);
      await bad('POST', '/resource/generic', { id: randomUUID(), started_at: '2024-02-01T00:00:00Z', ended_at: '2024-01-01T00:00:00Z' }, /Start timestamp cannot be after end timestamp/);
      await bad('POST', '/resource/generic', { id: randomUUID(), colour: 'red' }, /colour/);
      await bad('POST', '/resource/instance', { id: randomUUID(), flavor_id: '1', flavor_name: 'm1', host: 'h' }, /display_name/);
      await bad('POST', '/resource/instance', instance(randomUUID(), { flavor_id: 5 }), /flavor_id/);
      await bad('POST', '/resource/instance', instance(randomUUID(), { display_name: 'x'.repeat(256) }), /display_name/);
      await bad('POST', '/resource/instance', instance(randomUUID(), { launched_at: 'not a time' }), /launched_at/);
      await bad('POST', '/resource/instance_disk', { id: randomUUID(), name: 'vda', instance_id: 'not-a-uuid' }, /instance_id/);
      await bad('POST', '/resource/generic', { id: randomUUID(), metrics: { cpu: 10 } }, /metrics/);
      await bad('POST', '/resource/generic', { id: randomUUID(), metrics: { cpu: { archive_policy_name: 'low', colour: 'red' } } }, /metrics/);
      await bad('POST', '/resource/generic', '{"id": ', /decode|JSON/i, JSON_HEADERS);
      const id = randomUUID();
      await call(t.alpha, 'POST', '/resource/instance', instance(id));
      await bad('PATCH', `/resource/instance/${id}`, { id: randomUUID() }, /id/);
      await bad('PATCH', `/resource/instance/${id}`, { colour: 'red' }, /colour/);
      await bad('PATCH', `/resource/generic/${id}`, { flavor_id: '2' }, /flavor_id/);
      await bad('PATCH', `/resource/instance/${id}`, { display_name: null }, /display_name/);
      await bad('PATCH', `/resource/instance/${id}`, { ended_at: '2000-01-01T00:00:00Z' }, /Start timestamp cannot be after end timestamp/);
      await bad('PATCH', `/resource/instance/${id}`, ['Beer and pickles'], /body/);
      await bad('PATCH', `/resource/instance/${id}`, undefined, /body/i, JSON_HEADERS);
      const unknownType = await call(t.alpha, 'POST', '/resource/nope', { id: randomUUID() });
      expect(unknownType.status).toBe(404);
      expect(unknownType.body.description).toMatch(/Resource type nope does not exist/);
    });
  });

  describe('listing and search', () => {
    const run = randomUUID().slice(0, 8);
    const rows: Array<{ id: string; label?: string; size?: number; ok?: boolean; at?: string; ref?: string }> = [];
    const REF = randomUUID();
    const box = (filter: unknown) => call(t.alpha, 'POST', '/search/resource/box', filter);
    const boxText = (filter: string) => call(t.alpha, 'POST', `/search/resource/box?filter=${encodeURIComponent(filter)}`, undefined, JSON_HEADERS);

    beforeAll(async () => {
      const created = await call(t.admin, 'POST', '/resource_type', {
        name: 'box',
        attributes: { label: { type: 'string', required: false }, size: { type: 'number', required: false }, ok: { type: 'bool', required: false }, at: { type: 'datetime', required: false }, ref: { type: 'uuid', required: false } },
      });
      expect(created.status).toBe(201);
      const data = [
        { label: 'alpha-1', size: 1, ok: true, at: '2024-01-01T00:00:00Z', ref: REF },
        { label: 'alpha-2', size: 5, ok: false, at: '2024-06-01T00:00:00Z' },
        { label: 'Beta-3', size: 10, ok: true },
        { label: "o'brien", size: 7.5 },
        { label: 'back\\slash' },
        { size: 3 },
      ];
      for (const attributes of data) {
        const id = randomUUID();
        const reply = await call(t.alpha, 'POST', '/resource/box', { id, ...attributes });
        expect(reply.status, JSON.stringify(reply.body)).toBe(201);
        rows.push({ id, ...attributes });
      }
    });

    const expected = (predicate: (r: (typeof rows)[number]) => boolean) => rows.filter(predicate).map((r) => r.id).sort();

    it('compares with each operator, in the JSON and the filter= forms', async () => {
      const cases: Array<[unknown, string | null, (r: (typeof rows)[number]) => boolean]> = [
        [{ '=': { label: 'alpha-1' } }, "label = 'alpha-1'", (r) => r.label === 'alpha-1'],
        [{ '==': { label: 'alpha-1' } }, "label == 'alpha-1'", (r) => r.label === 'alpha-1'],
        [{ eq: { size: 5 } }, 'size eq 5', (r) => r.size === 5],
        [{ '!=': { size: 5 } }, 'size != 5', (r) => r.size !== 5],
        [{ ne: { label: 'alpha-1' } }, "label ne 'alpha-1'", (r) => r.label !== 'alpha-1'],
        [{ '≠': { size: 1 } }, 'size ≠ 1', (r) => r.size !== 1],
        [{ '<': { size: 5 } }, 'size < 5', (r) => r.size !== undefined && r.size < 5],
        [{ lt: { size: 5 } }, 'size lt 5', (r) => r.size !== undefined && r.size < 5],
        [{ '<=': { size: 5 } }, 'size <= 5', (r) => r.size !== undefined && r.size <= 5],
        [{ le: { size: 7.5 } }, 'size le 7.5', (r) => r.size !== undefined && r.size <= 7.5],
        [{ '≤': { size: 3 } }, 'size ≤ 3', (r) => r.size !== undefined && r.size <= 3],
        [{ '>': { size: 5 } }, 'size > 5', (r) => r.size !== undefined && r.size > 5],
        [{ gt: { size: 5 } }, 'size gt 5', (r) => r.size !== undefined && r.size > 5],
        [{ '>=': { size: 5 } }, 'size >= 5', (r) => r.size !== undefined && r.size >= 5],
        [{ ge: { size: 3 } }, 'size ge 3', (r) => r.size !== undefined && r.size >= 3],
        [{ '≥': { size: 10 } }, 'size ≥ 10', (r) => r.size !== undefined && r.size >= 10],
        [{ in: { label: ['alpha-2', 'Beta-3', 'nobody'] } }, "label in ['alpha-2', \"Beta-3\", nobody]", (r) => r.label === 'alpha-2' || r.label === 'Beta-3'],
        [{ like: { label: 'alpha-%' } }, "label like 'alpha-%'", (r) => r.label?.startsWith('alpha-') === true],
        [{ like: { label: 'a_pha-2' } }, "label like 'a_pha-2'", (r) => r.label === 'alpha-2'],
        [{ ilike: { label: 'beta-%' } }, "label ilike 'beta-%'", (r) => r.label === 'Beta-3'],
        [{ '=': { ok: true } }, 'ok = true', (r) => r.ok === true],
        [{ '>': { at: '2024-03-01' } }, "at > '2024-03-01T00:00:00+00:00'", (r) => r.at === '2024-06-01T00:00:00Z'],
        [{ '=': { ref: REF.replace(/-/g, '').toUpperCase() } }, `ref = ${REF}`, (r) => r.ref === REF],
        [{ '=': { label: null } }, 'label = null', (r) => r.label === undefined],
        [{ '!=': { label: null } }, 'label != None', (r) => r.label !== undefined],
        [{ and: [{ '>=': { size: 3 } }, { not: { like: { label: 'alpha%' } } }] }, "size >= 3 and not label like 'alpha%'", (r) => r.size !== undefined && r.size >= 3 && r.label !== undefined && !r.label.startsWith('alpha')],
        [{ or: [{ '=': { label: 'alpha-1' } }, { '>': { size: 7 } }] }, "label = 'alpha-1' or size > 7", (r) => r.label === 'alpha-1' || (r.size ?? 0) > 7],
        [{ '∧': [{ '=': { ok: true } }, { '∨': [{ '<': { size: 2 } }, { '>': { size: 9 } }] }] }, 'ok = true ∧ (size < 2 ∨ size > 9)', (r) => r.ok === true && ((r.size ?? 5) < 2 || (r.size ?? 5) > 9)],
        // SQL's three-valued logic, as in Gnocchi: a comparison with an unset value is unknown, and so is its negation.
        [{ not: { or: [{ '=': { ok: true } }, { '<': { size: 2 } }] } }, 'not (ok = true or size < 2)', (r) => r.ok === false],
        [{ '=': { project_id: t?.alpha?.projectId ?? '' } }, null, () => true],
        [{ '>=': { started_at: '2000-01-01' } }, "started_at >= '2000-01-01'", () => true],
        [{}, null, () => true],
      ];
      for (const [json, text, predicate] of cases) {
        const filter = JSON.stringify(json).includes('project_id') ? { '=': { project_id: t.alpha.projectId } } : json;
        const answer = await box(filter);
        expect(answer.status, JSON.stringify(filter)).toBe(200);
        expect(sortedIds(answer.body), JSON.stringify(filter)).toEqual(expected(predicate));
        if (text !== null) {
          const textual = await boxText(text);
          expect(textual.status, text).toBe(200);
          expect(sortedIds(textual.body), text).toEqual(expected(predicate));
        }
      }
      // history=true searches revisions: a renamed box is found under its old label in history only.
      const renamed = rows[0] as (typeof rows)[number];
      await call(t.alpha, 'PATCH', `/resource/box/${renamed.id}`, { label: 'alpha-1-renamed' });
      renamed.label = 'alpha-1-renamed';
      expect((await box({ '=': { label: 'alpha-1' } })).body).toEqual([]);
      const old = await call(t.alpha, 'POST', '/search/resource/box?history=true', { '=': { label: 'alpha-1' } });
      expect(old.body.map((r: Json) => [r.id, r.label, r.revision_end !== null])).toEqual([[renamed.id, 'alpha-1', true]]);
    });

    it('refuses malformed searches with a 400 naming the problem', async () => {
      const bad = async (reply: Reply, pattern: RegExp) => {
        expect(reply.status).toBe(400);
        expect(reply.body.description).toMatch(pattern);
      };
      await bad(await box({ '=': { colour: 'red' } }), /colour/);
      await bad(await box({ and: { label: 'x' } }), /and/);
      await bad(await box({ in: { label: [] } }), /label/);
      await bad(await box({ '~': { label: 'x' } }), /~/);
      await bad(await box({ '<': { at: 'soon' } }), /at/);
      await bad(await box({ like: { size: '1%' } }), /size/);
      await bad(await box({ like: { id: 'fa%' } }), /like/);
      await bad(await box({ '=': { label: 'a', size: 1 } }), /one field/);
      await bad(await boxText('label = '), /filter/);
      await bad(await boxText("label = 'open"), /not closed/);
      await bad(await boxText('id == foo and'), /filter/);
      expect((await call(t.alpha, 'POST', '/search/resource/nope', {})).status).toBe(404);
    });

    it('pages through lists completely and stably, in any sort order', async () => {
      const user = `page-${run}`;
      const made: Array<{ id: string; started: string; ended: string | null }> = [];
      for (let i = 0; i < 7; i += 1) {
        const id = randomUUID();
        const started = `2024-01-0${i + 1}T00:00:00+00:00`;
        const ended = i % 2 === 1 ? `2024-02-0${7 - i}T00:00:00+00:00` : null;
        expect((await call(t.beta, 'POST', '/resource/generic', { id, user_id: user, started_at: started, ended_at: ended })).status).toBe(201);
        made.push({ id, started, ended });
      }
      const filter = encodeURIComponent(`user_id = '${user}'`);
      const search = (query: string) => allPages(t.beta, 'POST', `/search/resource/generic?filter=${filter}&${query}`);

      const byStartDesc = [...made].sort((a, b) => (a.started < b.started ? 1 : -1)).map((m) => m.id);
      const desc = await search('limit=3&sort=started_at:desc');
      expect(ids(desc.items)).toEqual(byStartDesc);
      expect(desc.pages).toBe(3);
      // Unset ended_at last ascending (the default), first when asked; ties broken by id.
      const endedOrder = (nullsFirst: boolean) =>
        [...made]
          .sort((a, b) => {
            if ((a.ended === null) !== (b.ended === null)) return (a.ended === null ? 1 : -1) * (nullsFirst ? -1 : 1);
            if (a.ended !== b.ended) return (a.ended as string) < (b.ended as string) ? -1 : 1;
            return a.id < b.id ? -1 : 1;
          })
          .map((m) => m.id);
      expect(ids((await search('limit=2&sort=ended_at:asc')).items)).toEqual(endedOrder(false));
      expect(ids((await search('limit=2&sort=ended_at:asc-nullsfirst')).items)).toEqual(endedOrder(true));
      expect(ids((await search('limit=4&sort=id:desc')).items)).toEqual(made.map((m) => m.id).sort().reverse());
      // The default order (revision_start, started_at) still returns every resource once.
      const plain = await search('limit=2');
      expect(sortedIds(plain.items)).toEqual(made.map((m) => m.id).sort());
      // Lists page the same way (beta sees only its own).
      const listed = await allPages(t.beta, 'GET', '/resource/generic?limit=2&sort=started_at:desc');
      expect(ids(listed.items).filter((id) => made.some((m) => m.id === id))).toEqual(byStartDesc);
      expect(new Set(ids(listed.items)).size).toBe(listed.items.length);

      // Revisions page too: two resources get a second revision.
      await call(t.beta, 'PATCH', `/resource/generic/${made[0]?.id}`, { project_id: t.beta.projectId, user_id: `${user}-x` });
      await call(t.beta, 'PATCH', `/resource/generic/${made[1]?.id}`, { started_at: '2023-12-31T00:00:00Z' });
      const revisions = await allPages(t.beta, 'POST', `/search/resource/generic?filter=${encodeURIComponent(`user_id like '${user}%'`)}&history=true&limit=2&sort=id:asc`);
      expect(revisions.items).toHaveLength(9);
      expect(revisions.items.map((r: Json) => `${r.id}@${r.revision_start}`)).toEqual(
        [...revisions.items].sort((a: Json, b: Json) => (a.id === b.id ? (a.revision_start < b.revision_start ? -1 : 1) : a.id < b.id ? -1 : 1)).map((r: Json) => `${r.id}@${r.revision_start}`),
      );

      // details and attrs.
      const box0 = rows[1] as (typeof rows)[number];
      const detailed = await call(t.alpha, 'POST', `/search/resource/generic?details=true`, { '=': { id: box0.id } });
      expect(detailed.body[0]).toMatchObject({ id: box0.id, type: 'box', label: box0.label, size: box0.size });
      const plainGeneric = await call(t.alpha, 'POST', '/search/resource/generic', { '=': { id: box0.id } });
      expect(plainGeneric.body[0]).not.toHaveProperty('label');
      const some = await call(t.alpha, 'GET', '/resource/box?attrs=id&attrs=label&attrs=nothing');
      expect(some.body.length).toBe(rows.length);
      for (const item of some.body) expect(Object.keys(item).sort()).toEqual(['id', 'label']);
    });

    it('refuses bad pagination parameters with a 400', async () => {
      const bad = async (query: string, pattern: RegExp) => {
        const reply = await call(t.alpha, 'GET', `/resource/generic?${query}`);
        expect(reply.status, query).toBe(400);
        expect(reply.body.description, query).toMatch(pattern);
      };
      await bad('sort=invalid:asc', /invalid/);
      await bad('sort=id:sideways', /sort/);
      await bad(`marker=${randomUUID()}`, /Invalid marker/);
      await bad('limit=0', /limit/);
      await bad('limit=invalid', /limit/);
      await bad('details=maybe', /details/);
      await bad('history=true&marker=nothing', /Invalid marker/);
      expect((await call(t.alpha, 'GET', '/resource/generic?limit=100000')).status).toBe(200);
    });

    it('treats injection attempts in every filter, sort, marker and path as data', async () => {
      const injections = ["x' OR '1'='1", "x') OR 1=1 --", "\\' OR 1=1 --", '{p0:String}', "'; DROP TABLE resources; --", '" OR ""="', 'back\\slash\\', "o'brien') --"];
      const before = sortedIds((await box({})).body);
      expect(before).toEqual(rows.map((r) => r.id).sort());
      for (const text of injections) {
        for (const filter of [{ '=': { label: text } }, { in: { label: [text, 'nobody'] } }, { like: { label: `${text}%` } }, { '=': { id: text } }, { in: { id: [text] } }, { '=': { original_resource_id: text } }, { '!=': { label: text } }]) {
          const reply = await box(filter);
          expect(reply.status, JSON.stringify(filter)).toBe(200);
          const negated = Object.keys(filter)[0] === '!=';
          expect(sortedIds(reply.body), JSON.stringify(filter)).toEqual(negated ? before : []);
        }
        const quoted = text.includes('"') ? `label = '${text}'` : `label = "${text}"`;
        const textual = await boxText(quoted);
        if (textual.status === 200) expect(textual.body).toEqual([]);
        else expect(textual.status).toBe(400);
        // Field names are checked against the type, never spliced.
        const field = await box({ '=': { [text]: 'x' } });
        expect(field.status).toBe(400);
        expect((await call(t.alpha, 'GET', `/resource/generic?sort=${encodeURIComponent(text)}`)).status).toBe(400);
        expect((await call(t.alpha, 'GET', `/resource/generic?marker=${encodeURIComponent(text)}`)).status).toBe(400);
        expect((await call(t.alpha, 'GET', `/resource/box?attrs=${encodeURIComponent(text)}`)).body.every((r: Json) => Object.keys(r).length === 0)).toBe(true);
        for (const method of ['GET', 'PATCH', 'DELETE']) {
          expect((await call(t.alpha, method, `/resource/generic/${encodeURIComponent(text)}`, method === 'PATCH' ? {} : undefined)).status).toBe(404);
        }
        expect((await call(t.alpha, 'GET', `/resource/generic/${encodeURIComponent(text)}/history`)).status).toBe(404);
        expect((await call(t.alpha, 'GET', `/resource/${encodeURIComponent(text)}`)).status).toBe(404);
        expect((await call(t.alpha, 'POST', `/search/resource/${encodeURIComponent(text)}`, {})).status).toBe(404);
        expect((await call(t.alpha, 'DELETE', '/resource/box', { '=': { label: text } })).body).toEqual({ deleted: 0 });
      }
      // Stored values with quotes and backslashes are found exactly, as data.
      expect(ids((await box({ '=': { label: "o'brien" } })).body)).toEqual(expected((r) => r.label === "o'brien"));
      expect(ids((await boxText(`label = "o'brien"`)).body)).toEqual(expected((r) => r.label === "o'brien"));
      expect(ids((await box({ '=': { label: 'back\\slash' } })).body)).toEqual(expected((r) => r.label === 'back\\slash'));
      expect(ids((await boxText("label = 'back\\slash'")).body)).toEqual(expected((r) => r.label === 'back\\slash'));
      expect(sortedIds((await box({})).body)).toEqual(before);
    });

    it('deletes in batches by search filter, and refuses an empty filter', async () => {
      const tag = `batch-${run}`;
      const made = [];
      for (let i = 0; i < 3; i += 1) {
        const id = randomUUID();
        await call(t.alpha, 'POST', '/resource/generic', { id, user_id: tag, started_at: `2024-03-0${i + 1}T00:00:00Z` });
        made.push(id);
      }
      for (const body of [{}, { and: [] }, { in: { id: [] } }]) expect((await call(t.alpha, 'DELETE', '/resource/generic', body)).status).toBe(400);
      expect((await call(t.alpha, 'DELETE', '/resource/generic', undefined, JSON_HEADERS)).status).toBe(400);
      expect((await call(t.alpha, 'DELETE', '/resource/generic', { and: [{ '=': { user_id: tag } }, { '=': { started_at: '2024-03-01' } }] })).body).toEqual({ deleted: 1 });
      expect((await call(t.alpha, 'DELETE', `/resource/generic?filter=${encodeURIComponent(`user_id = '${tag}' and id in [${made[1]}, ${randomUUID()}]`)}`, undefined, JSON_HEADERS)).body).toEqual({ deleted: 1 });
      expect(ids((await call(t.alpha, 'POST', '/search/resource/generic', { '=': { user_id: tag } })).body)).toEqual([made[2]]);
    });
  });

  describe('access: admin sees all, members their own project', () => {
    it('keeps each project to its own resources; another project\'s id answers 404', async () => {
      const a = randomUUID();
      const b = randomUUID();
      expect((await call(t.alpha, 'POST', '/resource/generic', { id: a, metrics: { cpu: {} } })).status).toBe(201);
      expect((await call(t.beta, 'POST', '/resource/generic', { id: b })).status).toBe(201);
      // A member cannot create in another project (nor in none); the admin can, and the member then sees it.
      expect((await call(t.alpha, 'POST', '/resource/generic', { id: randomUUID(), project_id: t.beta.projectId })).status).toBe(403);
      expect((await call(t.alpha, 'POST', '/resource/generic', { id: randomUUID(), project_id: null })).status).toBe(403);
      const x = randomUUID();
      expect((await call(t.admin, 'POST', '/resource/generic', { id: x, project_id: t.alpha.projectId })).body.project_id).toBe(t.alpha.projectId);
      const y = randomUUID();
      expect((await call(t.admin, 'POST', '/resource/generic', { id: y })).body.project_id).toBe(t.admin.projectId);

      const find = async (who: Caller) => sortedIds((await call(who, 'POST', '/search/resource/generic', { in: { id: [a, b, x, y] } })).body);
      expect(await find(t.admin)).toEqual([a, b, x, y].sort());
      expect(await find(t.alpha)).toEqual([a, x].sort());
      expect(await find(t.beta)).toEqual([b]);
      const listed = ids((await allPages(t.alpha, 'GET', '/resource/generic?limit=50')).items);
      expect(listed).toEqual(expect.arrayContaining([a, x]));
      expect(listed).not.toContain(b);
      expect(listed).not.toContain(y);
      expect(ids((await call(t.alpha, 'GET', '/resource/generic?history=true')).body)).not.toContain(b);

      // Beta's resource is "does not exist" to alpha, exactly like an id nobody has.
      const missing = randomUUID();
      for (const [method, suffix, body] of [
        ['GET', '', undefined],
        ['PATCH', '', { user_id: 'mine' }],
        ['DELETE', '', undefined],
        ['GET', '/history', undefined],
        ['GET', '/metric', undefined],
        ['POST', '/metric', { stolen: {} }],
      ] as const) {
        const theirs = await call(t.alpha, method, `/resource/generic/${b}${suffix}`, body);
        const nobody = await call(t.alpha, method, `/resource/generic/${missing}${suffix}`, body);
        expect(theirs.status, `${method} ${suffix}`).toBe(404);
        expect(nobody.status).toBe(404);
        expect(theirs.body.description.replace(b, 'ID')).toBe(nobody.body.description.replace(missing, 'ID'));
      }
      expect((await call(t.alpha, 'DELETE', '/resource/generic', { '=': { id: b } })).body).toEqual({ deleted: 0 });
      expect((await call(t.alpha, 'GET', `/resource/generic?marker=${b}`)).status).toBe(400);
      expect((await call(t.beta, 'GET', `/resource/generic/${b}`)).body.user_id).toBeNull();
      // A member cannot give their resource away; the admin can change any.
      expect((await call(t.alpha, 'PATCH', `/resource/generic/${a}`, { project_id: t.beta.projectId })).status).toBe(403);
      expect((await call(t.admin, 'PATCH', `/resource/generic/${b}`, { user_id: 'set-by-admin' })).body.user_id).toBe('set-by-admin');
      // A member cannot link another project's metric.
      const theirMetric = await call(t.beta, 'POST', `/resource/generic/${b}/metric`, { theirs: {} });
      const stolen = await call(t.alpha, 'POST', `/resource/generic/${a}/metric`, { taken: theirMetric.body[0].id });
      expect(stolen.status).toBe(400);
      expect((await call(t.beta, 'GET', `/resource/generic/${b}`)).body.metrics).toEqual({ theirs: theirMetric.body[0].id });
      // Ids are unique across projects: alpha cannot create beta's id.
      expect((await call(t.alpha, 'POST', '/resource/generic', { id: b })).status).toBe(409);
      expect((await call(t.admin, 'DELETE', `/resource/generic/${b}`)).status).toBe(204);
    });
  });

  it('documents every resource route in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${t.url}/docs/json`)).json()) as { paths: Record<string, Record<string, { tags?: string[]; security?: unknown[] }>> };
    for (const path of ['/metric/v1/resource_type', '/metric/v1/resource_type/{name}', '/metric/v1/resource/{type}', '/metric/v1/resource/{type}/{id}', '/metric/v1/resource/{type}/{id}/history', '/metric/v1/resource/{type}/{id}/metric', '/metric/v1/search/resource/{type}']) {
      expect(doc.paths[path], path).toBeDefined();
      for (const operation of Object.values(doc.paths[path] ?? {})) {
        expect(operation.tags).toEqual(['metric']);
        expect(operation.security).toEqual([{ keystoneToken: [] }]);
      }
    }
  });
});
