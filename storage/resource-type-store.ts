/**
 * Resource types in the transactional store (SQLite): created, read, listed, deleted and
 * updated the way Gnocchi's /v1/resource_type API does it. The built-in types (Gnocchi's
 * `generic` and Ceilometer's) are seeded once, on first open; after that they are the
 * operator's to change like any other type. Stable API.
 */
import { migrateState, type StateDatabase } from '../core/index.ts';
import type { ClickHouseDriver } from './driver.ts';
import { selectResourceTypeUsage } from './queries/resources.ts';
import {
  BUILTIN_RESOURCE_TYPES,
  GENERIC_RESOURCE_TYPE,
  ResourceError,
  attributeView,
  describeValue,
  parseAttributeDefinition,
  parseResourceTypeDefinition,
  type ResourceAttribute,
  type ResourceType,
  type ResourceTypeState,
} from './resource-types.ts';

export interface ResourceTypeStoreDeps {
  /**
   * Whether any resource (any revision) has this type; a type is deleted only when none
   * has. {@link resourcesOfTypeExist} answers it from the ClickHouse index.
   */
  resourcesExist(type: string): Promise<boolean>;
}

export interface ResourceTypeStore {
  /** Every type, by name. */
  list(): ResourceType[];
  /** The type, or CUMULUS_PIPELINE_RESOURCE_TYPE_NOT_FOUND (404). */
  get(name: string): ResourceType;
  /** The type, or undefined (what the resource index looks types up with). */
  find(name: string): ResourceType | undefined;
  /** Gnocchi's POST body `{name, attributes}`; 409 when the name is taken. */
  create(definition: unknown): ResourceType;
  /**
   * Gnocchi's PATCH: a JSON patch of `add` / `remove` operations on `/attributes/<name>`.
   * A required attribute added needs `options: {fill: value}`: what existing resources
   * read as. Answers the type after the patch.
   */
  update(name: string, patch: unknown): ResourceType;
  /** Refused while resources of the type exist (400, as Gnocchi) and for `generic`. */
  delete(name: string): Promise<void>;
}

/** The component name under which core's migrateState records this store's schema. */
export const RESOURCE_TYPE_STORE_COMPONENT = 'resource-types';
/** Recorded separately: bumped when a Cumulus release adds built-in types, so only those are added. */
const SEED_COMPONENT = 'resource-types.builtins';
const BUILTIN_SEED_VERSION = 2;
/** The built-in types each seed version added after the first (which seeds them all). */
const ADDED_BY_SEED: Readonly<Record<number, readonly string[]>> = { 2: ['resource_provider'] };

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE resource_types (
    name TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('active', 'deleting')),
    generation INTEGER NOT NULL CHECK (generation >= 0),
    attributes TEXT NOT NULL
  )`,
];

interface TypeRow {
  name: string;
  state: ResourceTypeState;
  generation: number;
  attributes: string;
}

const fromRow = (row: TypeRow): ResourceType => ({ name: row.name, state: row.state, generation: row.generation, attributes: JSON.parse(row.attributes) as Record<string, ResourceAttribute> });
const notFound = (name: string) => new ResourceError('TYPE_NOT_FOUND', `Resource type ${name} does not exist; GET /v1/resource_type lists the ones that do`);

export function createResourceTypeStore(db: StateDatabase, deps: ResourceTypeStoreDeps): ResourceTypeStore {
  migrateState(db, RESOURCE_TYPE_STORE_COMPONENT, MIGRATIONS);
  seedBuiltins(db);

  const selectOne = db.prepare<[string], TypeRow>('SELECT name, state, generation, attributes FROM resource_types WHERE name = ?');
  const selectAll = db.prepare<[], TypeRow>('SELECT name, state, generation, attributes FROM resource_types ORDER BY name');
  const insert = db.prepare<[string, string, number, string]>('INSERT INTO resource_types (name, state, generation, attributes) VALUES (?, ?, ?, ?)');
  const setState = db.prepare<[ResourceTypeState, string, ResourceTypeState]>('UPDATE resource_types SET state = ? WHERE name = ? AND state = ?');
  const replaceSchema = db.prepare<[number, string, string, number]>("UPDATE resource_types SET generation = ?, attributes = ? WHERE name = ? AND generation = ? AND state = 'active'");
  const remove = db.prepare<[string]>("DELETE FROM resource_types WHERE name = ? AND state = 'deleting'");

  const find = (name: string): ResourceType | undefined => {
    const row = selectOne.get(name);
    return row ? fromRow(row) : undefined;
  };
  const get = (name: string): ResourceType => {
    const found = find(name);
    if (!found) throw notFound(name);
    return found;
  };

  return {
    list: () => selectAll.all().map(fromRow),
    get,
    find,

    create(definition) {
      const parsed = parseResourceTypeDefinition(definition);
      try {
        insert.run(parsed.name, 'active', 0, JSON.stringify(parsed.attributes));
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new ResourceError('TYPE_EXISTS', `Resource type ${parsed.name} already exists; choose another name or PATCH the existing type`, err);
        throw err;
      }
      return get(parsed.name);
    },

    update(name, patch) {
      const current = get(name);
      if (name === GENERIC_RESOURCE_TYPE) throw new ResourceError('TYPE_PATCH_INVALID', `Invalid input: resource type ${GENERIC_RESOURCE_TYPE} cannot be modified: it is the part every resource has; define a type of your own`);
      if (current.state !== 'active') throw new ResourceError('TYPE_STATE', `Resource type ${name} state is ${current.state} (expected: active)`);
      const operations = parsePatch(patch);

      // 1. apply the operations to the type's JSON form, as Gnocchi applies the JSON patch.
      const next: Record<string, unknown> = Object.fromEntries(Object.entries(current.attributes).map(([n, a]) => [n, attributeView(a)]));
      for (const op of operations) {
        if (op.op === 'add') next[op.attribute] = op.value;
        else if (!Object.hasOwn(next, op.attribute)) throw new ResourceError('TYPE_PATCH_INVALID', `Invalid input: cannot remove attribute ${op.attribute}: resource type ${name} has no such attribute (it has ${Object.keys(next).join(', ') || 'none'})`);
        else delete next[op.attribute];
      }
      // 2. check every definition the patch wrote (Gnocchi validates the whole result),
      // then keep only names that appeared or disappeared: re-adding an existing name
      // changes nothing, as in Gnocchi.
      const generation = current.generation + 1;
      const written = new Set(operations.filter((op) => op.op === 'add').map((op) => op.attribute));
      const checked = new Map<string, ResourceAttribute>();
      for (const attribute of written) {
        if (Object.hasOwn(next, attribute)) checked.set(attribute, parseAttributeDefinition(attribute, next[attribute], { forUpdate: true, since: generation, existing: Object.hasOwn(current.attributes, attribute) }));
      }
      const added = [...checked.entries()].filter(([n]) => !Object.hasOwn(current.attributes, n));
      const removed = Object.keys(current.attributes).filter((n) => !Object.hasOwn(next, n));
      if (added.length === 0 && removed.length === 0) return current;

      const attributes: Record<string, ResourceAttribute> = {};
      for (const [n, a] of Object.entries(current.attributes)) if (!removed.includes(n)) attributes[n] = a;
      for (const [n, a] of added) attributes[n] = a;
      // 3. write only if nobody changed the type meanwhile (another process on the same file).
      if (replaceSchema.run(generation, JSON.stringify(attributes), name, current.generation).changes !== 1) {
        throw new ResourceError('TYPE_STATE', `Resource type ${name} changed while this update was applied (expected generation ${current.generation}); read it again and retry`);
      }
      return get(name);
    },

    async delete(name) {
      if (name === GENERIC_RESOURCE_TYPE) throw new ResourceError('TYPE_IN_USE', `Resource type ${GENERIC_RESOURCE_TYPE} is still in use: every resource is a generic resource; it cannot be deleted`);
      const current = get(name);
      // 1. mark it deleting, so the index creates no resource of it while we look (a
      // type left `deleting` by a crash is deleted by the next attempt).
      if (current.state === 'active' && setState.run('deleting', name, 'active').changes !== 1) throw new ResourceError('TYPE_STATE', `Resource type ${name} changed while it was being deleted; retry`);
      // 2. look for resources of the type; 3. delete, or put it back as it was.
      let inUse: boolean;
      try {
        inUse = await deps.resourcesExist(name);
      } catch (err) {
        setState.run('active', name, 'deleting');
        throw err;
      }
      if (inUse) {
        setState.run('active', name, 'deleting');
        throw new ResourceError('TYPE_IN_USE', `Resource type ${name} is still in use: resources of this type exist; expected none before the type is deleted`);
      }
      remove.run(name);
    },
  };
}

/** Seeds the built-in types once per database (and the ones a later seed version adds). */
function seedBuiltins(db: StateDatabase): void {
  db.transaction(() => {
    const row = db.prepare<[string], { version: number }>('SELECT version FROM schema_versions WHERE component = ?').get(SEED_COMPONENT);
    const seeded = row?.version ?? 0;
    if (seeded >= BUILTIN_SEED_VERSION) return;
    const insert = db.prepare<[string, string]>("INSERT OR IGNORE INTO resource_types (name, state, generation, attributes) VALUES (?, 'active', 0, ?)");
    // A fresh database gets every type; an older one only the types added since its seed,
    // so a built-in type an operator deleted stays deleted.
    const wanted = seeded === 0 ? null : new Set(Object.entries(ADDED_BY_SEED).filter(([v]) => Number(v) > seeded).flatMap(([, names]) => names));
    for (const type of BUILTIN_RESOURCE_TYPES) if (wanted === null || wanted.has(type.name)) insert.run(type.name, JSON.stringify(type.attributes));
    db.prepare<[string, number]>('INSERT INTO schema_versions (component, version) VALUES (?, ?) ON CONFLICT(component) DO UPDATE SET version = excluded.version').run(SEED_COMPONENT, BUILTIN_SEED_VERSION);
  })();
}

interface PatchOperation {
  op: 'add' | 'remove';
  attribute: string;
  value?: unknown;
}

/** Gnocchi's ResourceTypeJsonPatchSchema: a list of {op: add|remove, path: /attributes/..., value?}. */
function parsePatch(patch: unknown): PatchOperation[] {
  const bad = (message: string) => new ResourceError('TYPE_PATCH_INVALID', `Invalid input: ${message}`);
  if (!Array.isArray(patch)) throw bad(`expected a JSON patch: a list of {"op": "add" | "remove", "path": "/attributes/<name>", "value": {...}}, got ${describeValue(patch)}`);
  return patch.map((raw, index) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad(`operation ${index}: expected an object, got ${describeValue(raw)}`);
    const { op, path, value, ...extra } = raw as Record<string, unknown>;
    if (Object.keys(extra).length > 0) throw bad(`operation ${index}: unexpected key(s) ${Object.keys(extra).join(', ')}; expected op, path and value`);
    if (op !== 'add' && op !== 'remove') throw bad(`operation ${index}: op: expected add or remove, got ${describeValue(op)}`);
    if (typeof path !== 'string' || !path.startsWith('/attributes')) throw bad(`operation ${index}: Only attributes can be modified: expected a path /attributes/<name>, got ${describeValue(path)}`);
    const segments = path.split('/').slice(2);
    if (path.split('/')[1] !== 'attributes' || segments.length !== 1 || segments[0] === '') throw bad(`operation ${index}: expected a path /attributes/<name> naming one attribute, got ${JSON.stringify(path)}`);
    // JSON pointer escapes (RFC 6901).
    const attribute = (segments[0] as string).replace(/~1/g, '/').replace(/~0/g, '~');
    if (op === 'add') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad(`operation ${index}: add needs a value: the attribute's definition object, got ${describeValue(value)}`);
      return { op, attribute, value };
    }
    // Gnocchi's schema lets a remove carry a value (an object), which the patch ignores.
    if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) throw bad(`operation ${index}: value: expected an object, got ${describeValue(value)}`);
    return { op, attribute };
  });
}

/** The in-use check from the ClickHouse index: any revision of any resource of the type. */
export function resourcesOfTypeExist(store: ClickHouseDriver): (type: string) => Promise<boolean> {
  return async (type) => {
    const rows = await store.query<{ n: number | string }>(selectResourceTypeUsage(type));
    return Number(rows[0]?.n ?? 0) > 0;
  };
}
