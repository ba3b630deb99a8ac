import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStateDatabase, type StateDatabase } from '../core/index.ts';
import { createResourceTypeStore, type ResourceTypeStore } from './resource-type-store.ts';
import { BUILTIN_RESOURCE_TYPES, resourceTypeView, type ResourceType } from './resource-types.ts';

/** The code and status a call fails with. */
async function failure(call: () => unknown): Promise<[string, number, string] | null> {
  try {
    await call();
  } catch (err) {
    const e = err as { code: string; httpStatus: number; message: string };
    return [e.code, e.httpStatus, e.message];
  }
  return null;
}

describe('resource type store (SQLite)', () => {
  let dir: string;
  let db: StateDatabase;
  let store: ResourceTypeStore;
  /** The resources the in-use check sees, by type (the ClickHouse index in production). */
  let inUse: Set<string>;
  const deps = () => ({ resourcesExist: async (type: string) => inUse.has(type) });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cumulus-rtstore-'));
    db = openStateDatabase(join(dir, 'state.sqlite'));
    inUse = new Set();
    store = createResourceTypeStore(db, deps());
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('seeds the built-in types on first open only', () => {
    expect(store.list().map((t) => t.name)).toEqual(BUILTIN_RESOURCE_TYPES.map((t) => t.name).sort());
    expect(resourceTypeView(store.get('instance'))).toEqual(resourceTypeView(BUILTIN_RESOURCE_TYPES.find((t) => t.name === 'instance') as ResourceType));
    return (async () => {
      await store.delete('stack');
      db.close();
      db = openStateDatabase(join(dir, 'state.sqlite'));
      const reopened = createResourceTypeStore(db, deps());
      // The operator's delete stands: built-ins are not re-created on every open.
      expect(reopened.find('stack')).toBeUndefined();
      expect(reopened.find('instance')?.state).toBe('active');
    })();
  });

  it('creates, reads and lists an operator-defined type with typed attributes', async () => {
    const created = store.create({
      name: 'rack',
      attributes: {
        label: { type: 'string', min_length: 1, max_length: 16 },
        slot: { type: 'number', min: 1, max: 42, required: false },
        powered: { type: 'bool' },
        owner: { type: 'uuid', required: false },
        installed_at: { type: 'datetime', required: false },
      },
    });
    expect(created).toEqual(store.get('rack'));
    expect(resourceTypeView(created)).toEqual({
      name: 'rack',
      state: 'active',
      attributes: {
        label: { type: 'string', required: true, min_length: 1, max_length: 16 },
        slot: { type: 'number', required: false, min: 1, max: 42 },
        powered: { type: 'bool', required: true },
        owner: { type: 'uuid', required: false },
        installed_at: { type: 'datetime', required: false },
      },
    });
    expect(created.generation).toBe(0);
    expect(store.list().map((t) => t.name)).toContain('rack');
    expect(await failure(() => store.create({ name: 'rack', attributes: {} }))).toEqual(['CUMULUS_PIPELINE_RESOURCE_TYPE_EXISTS', 409, expect.stringMatching(/^Resource type rack already exists/)]);
    expect(await failure(() => store.create({ name: 'bad', attributes: { id: { type: 'string' } } }))).toEqual(['CUMULUS_PIPELINE_RESOURCE_TYPE_INVALID', 400, expect.stringMatching(/^Resource attribute name id is invalid/)]);
    expect(store.find('bad')).toBeUndefined();
    expect(await failure(() => store.get('nope'))).toEqual(['CUMULUS_PIPELINE_RESOURCE_TYPE_NOT_FOUND', 404, expect.stringMatching(/^Resource type nope does not exist/)]);
  });

  it("updates the attribute schema as Gnocchi's PATCH does: add with fill, remove, generations", async () => {
    store.create({ name: 'rack', attributes: { label: { type: 'string' } } });
    // A required attribute added without a fill: existing resources would have no value.
    expect(await failure(() => store.update('rack', [{ op: 'add', path: '/attributes/zone', value: { type: 'string', required: true } }]))).toEqual([
      'CUMULUS_PIPELINE_RESOURCE_TYPE_INVALID',
      400,
      "Option 'fill' of resource attribute zone is invalid: must not be empty if required=True",
    ]);
    expect(await failure(() => store.update('rack', [{ op: 'add', path: '/attributes/zone', value: { type: 'string', options: { fill: 7 } } }]))).toEqual([
      'CUMULUS_PIPELINE_RESOURCE_TYPE_INVALID',
      400,
      expect.stringMatching(/fill' of resource attribute zone is invalid: expected a string of 0 to 255 characters, got a number \(7\)/),
    ]);
    const added = store.update('rack', [
      { op: 'add', path: '/attributes/zone', value: { type: 'string', required: true, options: { fill: 'z1' } } },
      { op: 'add', path: '/attributes/tier', value: { type: 'number', required: false } },
    ]);
    expect(added.generation).toBe(1);
    expect(added.attributes.zone).toEqual({ type: 'string', required: true, min_length: 0, max_length: 255, since: 1, fill: 'z1' });
    expect(added.attributes.tier).toEqual({ type: 'number', required: false, min: null, max: null, since: 1 });
    expect(added.attributes.label?.since).toBe(0);
    expect(resourceTypeView(added).attributes.zone).toEqual({ type: 'string', required: true, min_length: 0, max_length: 255 });

    const removed = store.update('rack', [{ op: 'remove', path: '/attributes/tier' }]);
    expect(removed.generation).toBe(2);
    expect(Object.keys(removed.attributes)).toEqual(['label', 'zone']);
    expect(store.get('rack')).toEqual(removed);

    // Re-adding an existing name changes nothing (Gnocchi compares names only).
    expect(store.update('rack', [{ op: 'add', path: '/attributes/label', value: { type: 'number' } }])).toEqual(removed);
    expect(await failure(() => store.update('rack', [{ op: 'remove', path: '/attributes/tier' }]))).toEqual(['CUMULUS_PIPELINE_RESOURCE_TYPE_PATCH_INVALID', 400, expect.stringMatching(/cannot remove attribute tier: resource type rack has no such attribute \(it has label, zone\)/)]);
    expect(await failure(() => store.update('rack', [{ op: 'replace', path: '/attributes/label', value: { type: 'string' } }]))).toEqual(['CUMULUS_PIPELINE_RESOURCE_TYPE_PATCH_INVALID', 400, expect.stringMatching(/op: expected add or remove, got a string \("replace"\)/)]);
    expect(await failure(() => store.update('rack', [{ op: 'add', path: '/name', value: {} }]))).toEqual(['CUMULUS_PIPELINE_RESOURCE_TYPE_PATCH_INVALID', 400, expect.stringMatching(/Only attributes can be modified/)]);
    expect(await failure(() => store.update('rack', { op: 'add' }))).toEqual(['CUMULUS_PIPELINE_RESOURCE_TYPE_PATCH_INVALID', 400, expect.stringMatching(/expected a JSON patch/)]);
    expect(await failure(() => store.update('generic', [{ op: 'add', path: '/attributes/x', value: { type: 'string', required: false } }]))).toEqual(['CUMULUS_PIPELINE_RESOURCE_TYPE_PATCH_INVALID', 400, expect.stringMatching(/generic cannot be modified/)]);
    expect(await failure(() => store.update('nope', []))).toEqual(['CUMULUS_PIPELINE_RESOURCE_TYPE_NOT_FOUND', 404, expect.any(String)]);
    // A failed patch wrote nothing.
    expect(store.get('rack')).toEqual(removed);
  });

  it('deletes a type only when no resource has it, and marks it deleting meanwhile', async () => {
    store.create({ name: 'rack', attributes: {} });
    inUse.add('rack');
    const seen: string[] = [];
    const watching = createResourceTypeStore(db, {
      resourcesExist: async (type) => {
        seen.push(watching.get(type).state);
        return inUse.has(type);
      },
    });
    expect(await failure(() => watching.delete('rack'))).toEqual(['CUMULUS_PIPELINE_RESOURCE_TYPE_IN_USE', 400, expect.stringMatching(/^Resource type rack is still in use/)]);
    expect(seen).toEqual(['deleting']);
    expect(store.get('rack').state).toBe('active');

    // A failing check leaves the type as it was and says why.
    const broken = createResourceTypeStore(db, { resourcesExist: async () => Promise.reject(new Error('store unreachable')) });
    await expect(broken.delete('rack')).rejects.toThrow('store unreachable');
    expect(store.get('rack').state).toBe('active');

    inUse.delete('rack');
    await watching.delete('rack');
    expect(store.find('rack')).toBeUndefined();
    expect(await failure(() => store.delete('rack'))).toEqual(['CUMULUS_PIPELINE_RESOURCE_TYPE_NOT_FOUND', 404, expect.any(String)]);
    expect(await failure(() => store.delete('generic'))).toEqual(['CUMULUS_PIPELINE_RESOURCE_TYPE_IN_USE', 400, expect.stringMatching(/generic is still in use/)]);
  });

  it('refuses schema changes while a delete is under way', async () => {
    store.create({ name: 'rack', attributes: {} });
    let release: (inUse: boolean) => void = () => undefined;
    const slow = createResourceTypeStore(db, { resourcesExist: () => new Promise<boolean>((resolve) => (release = resolve)) });
    const deleting = slow.delete('rack');
    await Promise.resolve();
    expect(await failure(() => store.update('rack', [{ op: 'add', path: '/attributes/x', value: { type: 'string', required: false } }]))).toEqual(['CUMULUS_PIPELINE_RESOURCE_TYPE_STATE', 409, 'Resource type rack state is deleting (expected: active)']);
    release(false);
    await deleting;
    expect(store.find('rack')).toBeUndefined();
  });
});
