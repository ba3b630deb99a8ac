import { randomUUID } from 'node:crypto';
import { deriveId, type Clock, type Logger, type StateDatabase } from '../../core/index.ts';
import { capacityOf, findCandidates, type CandidateRequest, type CandidateResult, type InventoryUsage, type ProviderNode } from './candidates.ts';
import {
  DEFAULT_CPU_ALLOCATION_RATIO,
  DEFAULT_DISK_ALLOCATION_RATIO,
  DEFAULT_RAM_ALLOCATION_RATIO,
  DEFAULT_RESERVED_HOST_CPUS,
  DEFAULT_RESERVED_HOST_DISK_MB,
  DEFAULT_RESERVED_HOST_MEMORY_MB,
  INCOMPLETE_CONSUMER_ID,
  MAX_INT,
  MIN_CUSTOM_RESOURCE_CLASS_ID,
} from './config.ts';
import { AllocationConflictError, PLACEMENT_CODE, PlacementError, badRequest, concurrentUpdate, conflict, notFound } from './errors.ts';
import { normalizeUuid, type AggregateFilter, type TraitFilter } from './query-params.ts';
import { CUSTOM_PREFIX, STANDARD_RESOURCE_CLASSES, STANDARD_TRAITS } from './standards.ts';

export interface ResourceProvider {
  uuid: string;
  name: string;
  generation: number;
  parent_provider_uuid: string | null;
  root_provider_uuid: string;
  created_at: string;
  updated_at: string;
}

interface ProviderRow extends ResourceProvider {
  id: number;
  parent_provider_id: number | null;
  root_provider_id: number;
}

/** An inventory record, in Placement's field names. */
export interface Inventory {
  total: number;
  reserved: number;
  min_unit: number;
  max_unit: number;
  step_size: number;
  allocation_ratio: number;
}

/** Placement's defaults for fields a client leaves out (handlers/inventory.py INVENTORY_DEFAULTS). */
export const INVENTORY_DEFAULTS: Omit<Inventory, 'total'> = { reserved: 0, min_unit: 1, max_unit: MAX_INT, step_size: 1, allocation_ratio: 1.0 };

export interface ProviderFilter {
  name?: string;
  uuid?: string;
  inTree?: string;
  memberOf?: AggregateFilter;
  traits?: TraitFilter;
  /** Providers with room for these amounts (same test as allocation candidates). */
  resources?: ReadonlyMap<string, number>;
}

/** The consumer a set of allocations belongs to. */
export interface Consumer {
  uuid: string;
  project_id: string;
  user_id: string;
  generation: number;
  consumer_type: string | null;
}

/** A consumer's allocations: resources per provider, with each provider's generation. */
export interface ConsumerAllocations {
  consumer: Consumer | null;
  allocations: Array<{ provider: string; generation: number; resources: Record<string, number> }>;
}

/** One consumer's part of an allocation write (PUT /allocations/{uuid} or one key of POST /allocations). */
export interface AllocationWrite {
  consumer: string;
  /** Resources by provider UUID; empty means "remove this consumer's allocations". */
  allocations: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** null before microversion 1.8: the consumer is recorded under the incomplete-consumer project. */
  projectId: string | null;
  userId: string | null;
  /** Checked from 1.28: the consumer's generation, null for a new consumer; undefined: not checked. */
  consumerGeneration?: number | null;
  /** From 1.38. */
  consumerType?: string;
}

export interface UsageTotals {
  /** Without consumer types (before 1.38): used amount per class. */
  usages: Record<string, number>;
}

/** What nova-compute's resource tracker reports for one hypervisor. */
export interface ComputeNodeSpec {
  name: string;
  /** The compute node's UUID; derived from the name when absent, so a restart finds the same provider. */
  uuid?: string;
  vcpus: number;
  memoryMb: number;
  diskGb: number;
  cpuAllocationRatio?: number;
  ramAllocationRatio?: number;
  diskAllocationRatio?: number;
  reservedHostCpus?: number;
  reservedHostMemoryMb?: number;
  reservedHostDiskGb?: number;
  /** A host aggregate (its UUID, or a name we derive one from), as nova mirrors aggregates into Placement. */
  aggregate?: string;
}

const STANDARD_RC_SET = new Set(STANDARD_RESOURCE_CLASSES);

/**
 * OpenStack Placement's data model and rules over SQLite: resource providers (trees),
 * inventories, allocations with capacity checks, consumers, usages, resource classes,
 * traits and aggregates, each change guarded by the provider's or consumer's generation
 * as Placement does. Every write is one transaction, so a refusal leaves nothing behind.
 */
export class PlacementService {
  constructor(
    private readonly db: StateDatabase,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  private now(): string {
    return this.clock.now().toISOString();
  }

  private tx<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  /** Adds the standard resource classes and traits that are missing (placement's ensure_sync at start). */
  syncStandards(): void {
    const now = this.now();
    this.tx(() => {
      const rc = this.db.prepare('INSERT OR IGNORE INTO placement_resource_classes (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)');
      STANDARD_RESOURCE_CLASSES.forEach((name, id) => rc.run(id, name, now, now));
      const trait = this.db.prepare('INSERT OR IGNORE INTO placement_traits (name, created_at) VALUES (?, ?)');
      for (const name of STANDARD_TRAITS) trait.run(name, now);
    });
  }

  // ---- resource providers -------------------------------------------------------------

  private static readonly PROVIDER_SELECT = `
    SELECT rp.id, rp.uuid, rp.name, rp.generation, rp.parent_provider_id, rp.root_provider_id,
           parent.uuid AS parent_provider_uuid, root.uuid AS root_provider_uuid, rp.created_at, rp.updated_at
    FROM placement_resource_providers rp
    JOIN placement_resource_providers root ON root.id = rp.root_provider_id
    LEFT JOIN placement_resource_providers parent ON parent.id = rp.parent_provider_id`;

  private row(uuid: string): ProviderRow | undefined {
    return this.db.prepare(`${PlacementService.PROVIDER_SELECT} WHERE rp.uuid = ?`).get(uuid) as ProviderRow | undefined;
  }

  private providerRow(uuid: string): ProviderRow {
    const row = this.row(uuid);
    if (!row) throw notFound(`No resource provider with uuid ${uuid} found`);
    return row;
  }

  private static view(row: ProviderRow): ResourceProvider {
    return {
      uuid: row.uuid,
      name: row.name,
      generation: row.generation,
      parent_provider_uuid: row.parent_provider_uuid,
      root_provider_uuid: row.root_provider_uuid,
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }

  getProvider(uuid: string): ResourceProvider {
    return PlacementService.view(this.providerRow(uuid));
  }

  findProvider(uuid: string): ResourceProvider | undefined {
    const row = this.row(uuid);
    return row ? PlacementService.view(row) : undefined;
  }

  /** GET /resource_providers: all filters AND together (objects/resource_provider.get_all_by_filters). */
  listProviders(filter: ProviderFilter = {}): ResourceProvider[] {
    let rows = this.db.prepare(`${PlacementService.PROVIDER_SELECT} ORDER BY rp.id`).all() as ProviderRow[];
    if (filter.name !== undefined) rows = rows.filter((r) => r.name === filter.name);
    if (filter.uuid !== undefined) rows = rows.filter((r) => r.uuid === filter.uuid);
    if (filter.inTree !== undefined) {
      const member = this.row(filter.inTree);
      // An unknown provider in in_tree lists nothing, as Placement does.
      if (!member) return [];
      rows = rows.filter((r) => r.root_provider_id === member.root_provider_id);
    }
    if (filter.traits) {
      const { required, forbidden } = filter.traits;
      for (const name of [...required.flat(), ...forbidden]) this.traitId(name, (missing) => badRequest(`Invalid trait(s) in "required" parameter: No such trait(s): ${missing}.`));
      rows = rows.filter((r) => {
        const traits = new Set(this.traitNamesOf(r.id));
        return required.every((anyOf) => anyOf.some((t) => traits.has(t))) && ![...forbidden].some((t) => traits.has(t));
      });
    }
    if (filter.memberOf) {
      const { required, forbidden } = filter.memberOf;
      rows = rows.filter((r) => {
        const aggs = new Set(this.aggregatesOf(r.id));
        return required.every((anyOf) => anyOf.some((a) => aggs.has(a))) && ![...forbidden].some((a) => aggs.has(a));
      });
    }
    if (filter.resources) {
      for (const [rc, amount] of filter.resources) {
        const rcId = this.resourceClassId(rc);
        if (rcId === undefined) throw badRequest(`Invalid resource class in resources parameter: No such resource class ${rc}.`);
        const fitting = new Set(
          (
            this.db
              .prepare(
                `SELECT i.resource_provider_id AS id FROM placement_inventories i
                 LEFT JOIN (SELECT resource_provider_id, SUM(used) AS used FROM placement_allocations WHERE resource_class_id = @rc GROUP BY resource_provider_id) u
                   ON u.resource_provider_id = i.resource_provider_id
                 WHERE i.resource_class_id = @rc AND COALESCE(u.used, 0) + @amount <= (i.total - i.reserved) * i.allocation_ratio
                   AND i.min_unit <= @amount AND i.max_unit >= @amount AND @amount % i.step_size = 0`,
              )
              .all({ rc: rcId, amount }) as Array<{ id: number }>
          ).map((x) => x.id),
        );
        rows = rows.filter((r) => fitting.has(r.id));
      }
    }
    return rows.map(PlacementService.view);
  }

  /** POST /resource_providers. */
  createProvider(input: { name: string; uuid?: string; parent_provider_uuid?: string | null }): ResourceProvider {
    return this.tx(() => {
      const uuid = input.uuid ? (normalizeUuid(input.uuid) ?? input.uuid) : randomUUID();
      const duplicates: string[] = [];
      if (this.row(uuid)) duplicates.push(`uuid: ${uuid}`);
      if (this.db.prepare('SELECT 1 FROM placement_resource_providers WHERE name = ?').get(input.name)) duplicates.push(`name: ${input.name}`);
      if (duplicates.length > 0) throw conflict(`Conflicting resource provider ${duplicates.join(', ')} already exists.`, PLACEMENT_CODE.DUPLICATE_NAME);
      const refuse = (reason: string) => badRequest(`Unable to create resource provider "${input.name}", ${uuid}: Object action create failed because: ${reason}`);
      let parent: ProviderRow | undefined;
      if (input.parent_provider_uuid) {
        if (input.parent_provider_uuid === uuid) throw refuse('parent provider UUID cannot be same as UUID. Please set parent provider UUID to None if there is no parent.');
        parent = this.row(input.parent_provider_uuid);
        if (!parent) throw refuse('parent provider UUID does not exist.');
      }
      const now = this.now();
      const id = Number(
        this.db
          .prepare('INSERT INTO placement_resource_providers (uuid, name, generation, parent_provider_id, root_provider_id, created_at, updated_at) VALUES (?, ?, 0, ?, ?, ?, ?)')
          .run(uuid, input.name, parent?.id ?? null, parent?.root_provider_id ?? null, now, now).lastInsertRowid,
      );
      if (!parent) this.db.prepare('UPDATE placement_resource_providers SET root_provider_id = id WHERE id = ?').run(id);
      return this.getProvider(uuid);
    });
  }

  /**
   * PUT /resource_providers/{uuid}: rename, and set the parent (1.14). Changing or removing
   * an existing parent needs 1.37 (`allowReparenting`); a loop in the tree is refused.
   */
  updateProvider(uuid: string, input: { name: string; parent_provider_uuid?: string | null }, allowReparenting: boolean): ResourceProvider {
    return this.tx(() => {
      const me = this.providerRow(uuid);
      const refuse = (action: string, reason: string) => badRequest(`Unable to save resource provider ${uuid}: Object action ${action} failed because: ${reason}`);
      const parentUuid = input.parent_provider_uuid === undefined ? me.parent_provider_uuid : input.parent_provider_uuid;
      let parentId = me.parent_provider_id;
      let rootId = me.root_provider_id;
      if (parentUuid !== null) {
        const parent = this.row(parentUuid);
        if (!parent) throw refuse('create', 'parent provider UUID does not exist.');
        if (me.parent_provider_id !== null && me.parent_provider_id !== parent.id && !allowReparenting) throw refuse('update', 're-parenting a provider is not currently allowed.');
        if (this.subtreeIds(me.id).includes(parent.id)) throw refuse('update', 'creating loop in the provider tree is not allowed.');
        parentId = parent.id;
        rootId = parent.root_provider_id;
      } else if (me.parent_provider_id !== null) {
        if (!allowReparenting) throw refuse('update', 'un-parenting a provider is not currently allowed.');
        parentId = null;
        rootId = me.id;
      }
      const clash = this.db.prepare('SELECT 1 FROM placement_resource_providers WHERE name = ? AND id != ?').get(input.name, me.id);
      if (clash) throw conflict(`Conflicting resource provider ${input.name} already exists.`, PLACEMENT_CODE.DUPLICATE_NAME);
      this.db.prepare('UPDATE placement_resource_providers SET name = ?, parent_provider_id = ?, updated_at = ? WHERE id = ?').run(input.name, parentId, this.now(), me.id);
      if (rootId !== me.root_provider_id) {
        const move = this.db.prepare('UPDATE placement_resource_providers SET root_provider_id = ? WHERE id = ?');
        for (const id of this.subtreeIds(me.id)) move.run(rootId, id);
      }
      return this.getProvider(uuid);
    });
  }

  /** The provider and all its descendants. */
  private subtreeIds(id: number): number[] {
    const children = this.db.prepare('SELECT id FROM placement_resource_providers WHERE parent_provider_id = ?');
    const result: number[] = [];
    const walk = (at: number) => {
      result.push(at);
      for (const child of children.all(at) as Array<{ id: number }>) walk(child.id);
    };
    walk(id);
    return result;
  }

  /** DELETE /resource_providers/{uuid}: refused while it has children or allocations. */
  deleteProvider(uuid: string): void {
    this.tx(() => {
      const me = this.row(uuid);
      if (!me) throw notFound(`No resource provider with uuid ${uuid} found for delete`);
      if (this.db.prepare('SELECT 1 FROM placement_resource_providers WHERE parent_provider_id = ?').get(me.id)) {
        throw conflict(`Unable to delete parent resource provider ${uuid}: It has child resource providers.`, PLACEMENT_CODE.PROVIDER_CANNOT_DELETE_PARENT);
      }
      if (this.db.prepare('SELECT 1 FROM placement_allocations WHERE resource_provider_id = ?').get(me.id)) {
        throw conflict(`Unable to delete resource provider ${uuid}: Resource provider has allocations.`, PLACEMENT_CODE.PROVIDER_IN_USE);
      }
      for (const table of ['placement_inventories', 'placement_provider_aggregates', 'placement_provider_traits']) {
        this.db.prepare(`DELETE FROM ${table} WHERE resource_provider_id = ?`).run(me.id);
      }
      this.db.prepare('UPDATE placement_resource_providers SET root_provider_id = NULL WHERE id = ?').run(me.id);
      this.db.prepare('DELETE FROM placement_resource_providers WHERE id = ?').run(me.id);
    });
  }

  /** Moves the provider's generation on from `expected`; a mismatch means someone else wrote first. */
  private bump(row: Pick<ProviderRow, 'id' | 'generation'>): number {
    const changed = this.db.prepare('UPDATE placement_resource_providers SET generation = generation + 1 WHERE id = ? AND generation = ?').run(row.id, row.generation).changes;
    if (changed !== 1) throw concurrentUpdate('Another thread concurrently updated the resource provider data. Please retry your update');
    return row.generation + 1;
  }

  // ---- resource classes ---------------------------------------------------------------

  resourceClassId(name: string): number | undefined {
    return (this.db.prepare('SELECT id FROM placement_resource_classes WHERE name = ?').get(name) as { id: number } | undefined)?.id;
  }

  listResourceClasses(): string[] {
    return (this.db.prepare('SELECT name FROM placement_resource_classes ORDER BY id').all() as Array<{ name: string }>).map((r) => r.name);
  }

  getResourceClass(name: string): string {
    if (this.resourceClassId(name) === undefined) throw notFound(`No such resource class ${name}.`);
    return name;
  }

  /** POST /resource_classes: custom classes only, ids from 10000. */
  createResourceClass(name: string): void {
    this.tx(() => {
      if (this.resourceClassId(name) !== undefined || STANDARD_RC_SET.has(name)) throw conflict(`Conflicting resource class already exists: ${name}`);
      this.insertResourceClass(name);
    });
  }

  private insertResourceClass(name: string): void {
    const max = (this.db.prepare('SELECT MAX(id) AS id FROM placement_resource_classes').get() as { id: number | null }).id;
    const id = max === null || max < MIN_CUSTOM_RESOURCE_CLASS_ID ? MIN_CUSTOM_RESOURCE_CLASS_ID : max + 1;
    const now = this.now();
    this.db.prepare('INSERT INTO placement_resource_classes (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)').run(id, name, now, now);
  }

  /** PUT /resource_classes/{name} from 1.7: create if missing; true when created. */
  ensureResourceClass(name: string): boolean {
    return this.tx(() => {
      if (this.resourceClassId(name) !== undefined) return false;
      this.insertResourceClass(name);
      return true;
    });
  }

  /** PUT /resource_classes/{name} before 1.7: rename a custom class. */
  renameResourceClass(name: string, to: string): void {
    this.tx(() => {
      const id = this.resourceClassId(name);
      if (id === undefined) throw notFound(`No such resource class ${name}.`);
      if (id < MIN_CUSTOM_RESOURCE_CLASS_ID) throw badRequest(`Cannot update standard resource class ${name}`);
      if (to !== name && this.resourceClassId(to) !== undefined) throw conflict(`Resource class already exists: ${to}`);
      this.db.prepare('UPDATE placement_resource_classes SET name = ?, updated_at = ? WHERE id = ?').run(to, this.now(), id);
    });
  }

  /** DELETE /resource_classes/{name}: custom and not in any inventory. */
  deleteResourceClass(name: string): void {
    this.tx(() => {
      const id = this.resourceClassId(name);
      if (id === undefined) throw notFound(`No such resource class ${name}.`);
      if (id < MIN_CUSTOM_RESOURCE_CLASS_ID) throw badRequest(`Error in delete resource class: Cannot delete standard resource class ${name}.`);
      if (this.db.prepare('SELECT 1 FROM placement_inventories WHERE resource_class_id = ?').get(id)) {
        throw conflict(`Error in delete resource class: Cannot delete resource class ${name}. Class is in use in inventory.`);
      }
      this.db.prepare('DELETE FROM placement_resource_classes WHERE id = ?').run(id);
    });
  }

  // ---- inventories ----------------------------------------------------------------------

  private inventoriesOf(rpId: number): Map<string, Inventory> {
    const rows = this.db
      .prepare(
        `SELECT c.name, i.total, i.reserved, i.min_unit, i.max_unit, i.step_size, i.allocation_ratio
         FROM placement_inventories i JOIN placement_resource_classes c ON c.id = i.resource_class_id
         WHERE i.resource_provider_id = ? ORDER BY c.id`,
      )
      .all(rpId) as Array<Inventory & { name: string }>;
    return new Map(rows.map(({ name, ...inv }) => [name, inv]));
  }

  /** GET /resource_providers/{uuid}/inventories. */
  getInventories(uuid: string): { generation: number; inventories: Record<string, Inventory> } {
    const rp = this.row(uuid);
    if (!rp) throw notFound(`No resource provider with uuid ${uuid} found : No resource provider with uuid ${uuid} found`);
    return { generation: rp.generation, inventories: Object.fromEntries(this.inventoriesOf(rp.id)) };
  }

  /** GET /resource_providers/{uuid}/inventories/{rc}. */
  getInventory(uuid: string, resourceClass: string): { generation: number; inventory: Inventory } {
    const rp = this.row(uuid);
    if (!rp) throw notFound(`No resource provider with uuid ${uuid} found : No resource provider with uuid ${uuid} found`);
    const inventory = this.inventoriesOf(rp.id).get(resourceClass);
    if (!inventory) throw notFound(`No inventory of class ${resourceClass} for ${uuid}`);
    return { generation: rp.generation, inventory };
  }

  /** Refuses inventory whose capacity is not positive (before 1.26 reserved must stay below total). */
  private checkCapacity(uuid: string, resourceClass: string, inv: Inventory, reservedMayEqualTotal: boolean): void {
    const capacity = capacityOf(inv);
    if (reservedMayEqualTotal ? capacity < 0 : capacity <= 0) {
      const what = reservedMayEqualTotal ? 'The reserved value is greater than total.' : 'The reserved value is greater than or equal to total.';
      throw new PlacementError('CUMULUS_PLACEMENT_INVALID_INVENTORY', 400, `Invalid inventory for '${resourceClass}' on resource provider '${uuid}'. ${what}`);
    }
  }

  private usedOf(rpId: number, rcId: number): number {
    return (this.db.prepare('SELECT COALESCE(SUM(used), 0) AS used FROM placement_allocations WHERE resource_provider_id = ? AND resource_class_id = ?').get(rpId, rcId) as { used: number }).used;
  }

  private writeInventory(rp: ProviderRow, rcId: number, inv: Inventory, existing: boolean): void {
    const now = this.now();
    if (existing) {
      // Placement accepts a smaller inventory than what is allocated, and warns.
      const used = this.usedOf(rp.id, rcId);
      if (used > capacityOf(inv)) this.logger.warn({ resourceProvider: rp.uuid, resourceClassId: rcId, used, capacity: capacityOf(inv) }, 'placement: resource provider is now over capacity');
      this.db
        .prepare('UPDATE placement_inventories SET total = ?, reserved = ?, min_unit = ?, max_unit = ?, step_size = ?, allocation_ratio = ?, updated_at = ? WHERE resource_provider_id = ? AND resource_class_id = ?')
        .run(inv.total, inv.reserved, inv.min_unit, inv.max_unit, inv.step_size, inv.allocation_ratio, now, rp.id, rcId);
    } else {
      this.db
        .prepare('INSERT INTO placement_inventories (resource_provider_id, resource_class_id, total, reserved, min_unit, max_unit, step_size, allocation_ratio, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(rp.id, rcId, inv.total, inv.reserved, inv.min_unit, inv.max_unit, inv.step_size, inv.allocation_ratio, now, now);
    }
  }

  private classesInUse(rp: ProviderRow, rcIds: readonly number[]): string[] {
    if (rcIds.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT DISTINCT c.name FROM placement_allocations a JOIN placement_resource_classes c ON c.id = a.resource_class_id
         WHERE a.resource_provider_id = ? AND a.resource_class_id IN (SELECT value FROM json_each(?)) ORDER BY c.id`,
      )
      .all(rp.id, JSON.stringify(rcIds)) as Array<{ name: string }>;
    return rows.map((r) => r.name);
  }

  /**
   * PUT /resource_providers/{uuid}/inventories: replaces every inventory at the given
   * generation. Removing a class that has allocations is a conflict; shrinking below what
   * is allocated is allowed (Placement only warns).
   */
  setInventories(uuid: string, generation: number, inventories: ReadonlyMap<string, Inventory>, reservedMayEqualTotal: boolean): { generation: number; inventories: Record<string, Inventory> } {
    return this.tx(() => {
      const rp = this.providerRow(uuid);
      if (generation !== rp.generation) throw concurrentUpdate('resource provider generation conflict');
      for (const [rc, inv] of inventories) this.checkCapacity(uuid, rc, inv, reservedMayEqualTotal);
      const wanted = new Map<number, Inventory>();
      for (const [rc, inv] of inventories) {
        const rcId = this.resourceClassId(rc);
        if (rcId === undefined) throw badRequest(`Unknown resource class in inventory for resource provider ${uuid}: No such resource class ${rc}.`);
        wanted.set(rcId, inv);
      }
      const existing = new Set((this.db.prepare('SELECT resource_class_id AS id FROM placement_inventories WHERE resource_provider_id = ?').all(rp.id) as Array<{ id: number }>).map((r) => r.id));
      const toDelete = [...existing].filter((id) => !wanted.has(id));
      const inUse = this.classesInUse(rp, toDelete);
      if (inUse.length > 0) throw conflict(`update conflict: Inventory for '${inUse.join(', ')}' on resource provider '${uuid}' in use.`, PLACEMENT_CODE.INVENTORY_INUSE);
      for (const id of toDelete) this.db.prepare('DELETE FROM placement_inventories WHERE resource_provider_id = ? AND resource_class_id = ?').run(rp.id, id);
      for (const [rcId, inv] of wanted) this.writeInventory(rp, rcId, inv, existing.has(rcId));
      return { generation: this.bump(rp), inventories: Object.fromEntries(inventories) };
    });
  }

  /** POST /resource_providers/{uuid}/inventories: adds one class (no generation asked). */
  createInventory(uuid: string, resourceClass: string, inv: Inventory, reservedMayEqualTotal: boolean): { generation: number; inventory: Inventory } {
    return this.tx(() => {
      const rp = this.providerRow(uuid);
      const refuse = (reason: string) => badRequest(`Unable to create inventory for resource provider ${uuid}: ${reason}`);
      try {
        this.checkCapacity(uuid, resourceClass, inv, reservedMayEqualTotal);
      } catch (err) {
        throw err instanceof PlacementError ? refuse(err.message) : err;
      }
      const rcId = this.resourceClassId(resourceClass);
      if (rcId === undefined) throw refuse(`No such resource class ${resourceClass}.`);
      if (this.inventoriesOf(rp.id).has(resourceClass)) throw concurrentUpdate(`Update conflict: Duplicate entry for inventory of ${resourceClass} on resource provider ${uuid}`);
      this.writeInventory(rp, rcId, inv, false);
      return { generation: this.bump(rp), inventory: inv };
    });
  }

  /** PUT /resource_providers/{uuid}/inventories/{rc}: updates one existing class at the given generation. */
  updateInventory(uuid: string, resourceClass: string, generation: number, inv: Inventory, reservedMayEqualTotal: boolean): { generation: number; inventory: Inventory } {
    return this.tx(() => {
      const rp = this.providerRow(uuid);
      if (generation !== rp.generation) throw concurrentUpdate('resource provider generation conflict');
      try {
        this.checkCapacity(uuid, resourceClass, inv, reservedMayEqualTotal);
      } catch (err) {
        throw err instanceof PlacementError ? badRequest(`Unable to update inventory for resource provider ${uuid}: ${err.message}`) : err;
      }
      const rcId = this.resourceClassId(resourceClass);
      if (rcId === undefined || !this.inventoriesOf(rp.id).has(resourceClass)) {
        throw badRequest(`No inventory record with resource class for resource provider ${uuid}: No inventory of class ${resourceClass} found.`);
      }
      this.writeInventory(rp, rcId, inv, true);
      return { generation: this.bump(rp), inventory: inv };
    });
  }

  /** DELETE /resource_providers/{uuid}/inventories/{rc}: refused while allocated. */
  deleteInventory(uuid: string, resourceClass: string): void {
    this.tx(() => {
      const rp = this.providerRow(uuid);
      const rcId = this.resourceClassId(resourceClass);
      if (rcId === undefined) throw notFound(`No inventory of class ${resourceClass} found for delete: No such resource class ${resourceClass}.`);
      const inUse = this.classesInUse(rp, [rcId]);
      if (inUse.length > 0) {
        throw conflict(`Unable to delete inventory of class ${resourceClass}: Inventory for '${inUse.join(', ')}' on resource provider '${uuid}' in use.`, PLACEMENT_CODE.CONCURRENT_UPDATE);
      }
      const removed = this.db.prepare('DELETE FROM placement_inventories WHERE resource_provider_id = ? AND resource_class_id = ?').run(rp.id, rcId).changes;
      if (removed === 0) throw notFound(`No inventory of class ${resourceClass} found for delete: No inventory of class ${resourceClass} found for delete`);
      this.bump(rp);
    });
  }

  /** DELETE /resource_providers/{uuid}/inventories (1.5): all of them, refused while allocated. */
  deleteInventories(uuid: string): void {
    this.tx(() => {
      const rp = this.providerRow(uuid);
      const ids = (this.db.prepare('SELECT resource_class_id AS id FROM placement_inventories WHERE resource_provider_id = ?').all(rp.id) as Array<{ id: number }>).map((r) => r.id);
      const inUse = this.classesInUse(rp, ids);
      if (inUse.length > 0) throw conflict(`Inventory for '${inUse.join(', ')}' on resource provider '${uuid}' in use.`, PLACEMENT_CODE.INVENTORY_INUSE);
      this.db.prepare('DELETE FROM placement_inventories WHERE resource_provider_id = ?').run(rp.id);
      this.bump(rp);
    });
  }

  // ---- traits ------------------------------------------------------------------------------

  private traitId(name: string, missing?: (name: string) => PlacementError): number {
    const row = this.db.prepare('SELECT id FROM placement_traits WHERE name = ?').get(name) as { id: number } | undefined;
    if (!row) throw missing ? missing(name) : notFound(`No such trait(s): ${name}.`);
    return row.id;
  }

  traitExists(name: string): boolean {
    return this.db.prepare('SELECT 1 FROM placement_traits WHERE name = ?').get(name) !== undefined;
  }

  private traitNamesOf(rpId: number): string[] {
    return (
      this.db.prepare('SELECT t.name FROM placement_provider_traits pt JOIN placement_traits t ON t.id = pt.trait_id WHERE pt.resource_provider_id = ? ORDER BY t.name').all(rpId) as Array<{ name: string }>
    ).map((r) => r.name);
  }

  /** GET /traits: `name` as `in:A,B` or `startswith:P`, `associated` true/false. */
  listTraits(filter: { names?: readonly string[]; prefix?: string; associated?: boolean } = {}): string[] {
    const rows = this.db
      .prepare(
        `SELECT t.name, EXISTS (SELECT 1 FROM placement_provider_traits pt WHERE pt.trait_id = t.id) AS associated
         FROM placement_traits t ORDER BY t.name`,
      )
      .all() as Array<{ name: string; associated: number }>;
    return rows
      .filter((r) => filter.names === undefined || filter.names.includes(r.name))
      .filter((r) => filter.prefix === undefined || r.name.startsWith(filter.prefix))
      .filter((r) => filter.associated === undefined || (r.associated === 1) === filter.associated)
      .map((r) => r.name);
  }

  /** PUT /traits/{name}: true when created. */
  ensureTrait(name: string): boolean {
    return this.tx(() => {
      if (this.traitExists(name)) return false;
      this.db.prepare('INSERT INTO placement_traits (name, created_at) VALUES (?, ?)').run(name, this.now());
      return true;
    });
  }

  /** DELETE /traits/{name}: custom and unused only. */
  deleteTrait(name: string): void {
    this.tx(() => {
      const id = this.traitId(name);
      if (!name.startsWith(CUSTOM_PREFIX)) throw badRequest(`Cannot delete standard trait ${name}.`);
      if (this.db.prepare('SELECT 1 FROM placement_provider_traits WHERE trait_id = ?').get(id)) throw conflict(`The trait ${name} is in use by a resource provider.`);
      this.db.prepare('DELETE FROM placement_traits WHERE id = ?').run(id);
    });
  }

  /** GET /resource_providers/{uuid}/traits. */
  providerTraits(uuid: string): { generation: number; traits: string[] } {
    const rp = this.row(uuid);
    if (!rp) throw notFound(`No resource provider with uuid ${uuid} found: No resource provider with uuid ${uuid} found`);
    return { generation: rp.generation, traits: this.traitNamesOf(rp.id) };
  }

  /** PUT /resource_providers/{uuid}/traits: replaces them; the generation moves only when something changed. */
  setProviderTraits(uuid: string, generation: number, traits: readonly string[]): { generation: number; traits: string[] } {
    return this.tx(() => {
      const rp = this.providerRow(uuid);
      if (rp.generation !== generation) throw concurrentUpdate("Resource provider's generation already changed. Please update the generation and try again.");
      const unknown = [...new Set(traits)].filter((t) => !this.traitExists(t));
      if (unknown.length > 0) throw badRequest(`No such trait ${unknown.join(', ')}`);
      const changed = this.replaceTraits(rp, traits);
      return { generation: changed ? this.bump(rp) : rp.generation, traits: this.traitNamesOf(rp.id) };
    });
  }

  private replaceTraits(rp: ProviderRow, traits: readonly string[]): boolean {
    const wanted = new Set(traits.map((t) => this.traitId(t)));
    const existing = new Set((this.db.prepare('SELECT trait_id AS id FROM placement_provider_traits WHERE resource_provider_id = ?').all(rp.id) as Array<{ id: number }>).map((r) => r.id));
    const toAdd = [...wanted].filter((id) => !existing.has(id));
    const toDelete = [...existing].filter((id) => !wanted.has(id));
    for (const id of toDelete) this.db.prepare('DELETE FROM placement_provider_traits WHERE resource_provider_id = ? AND trait_id = ?').run(rp.id, id);
    for (const id of toAdd) this.db.prepare('INSERT INTO placement_provider_traits (resource_provider_id, trait_id) VALUES (?, ?)').run(rp.id, id);
    return toAdd.length > 0 || toDelete.length > 0;
  }

  /** DELETE /resource_providers/{uuid}/traits. */
  deleteProviderTraits(uuid: string): void {
    this.tx(() => {
      const rp = this.providerRow(uuid);
      if (this.replaceTraits(rp, [])) this.bump(rp);
    });
  }

  // ---- aggregates --------------------------------------------------------------------------

  private aggregatesOf(rpId: number): string[] {
    return (this.db.prepare('SELECT aggregate_uuid FROM placement_provider_aggregates WHERE resource_provider_id = ? ORDER BY rowid').all(rpId) as Array<{ aggregate_uuid: string }>).map((r) => r.aggregate_uuid);
  }

  /** GET /resource_providers/{uuid}/aggregates. */
  providerAggregates(uuid: string): { generation: number; aggregates: string[] } {
    const rp = this.providerRow(uuid);
    return { generation: rp.generation, aggregates: this.aggregatesOf(rp.id) };
  }

  /**
   * PUT /resource_providers/{uuid}/aggregates: from 1.19 at a generation, which then moves
   * on even if nothing changed; before 1.19 (`generation` null) without either.
   */
  setProviderAggregates(uuid: string, aggregates: readonly string[], generation: number | null): { generation: number; aggregates: string[] } {
    return this.tx(() => {
      const rp = this.providerRow(uuid);
      if (generation !== null && rp.generation !== generation) throw concurrentUpdate("Resource provider's generation already changed. Please update the generation and try again.");
      const wanted = new Set(aggregates);
      const existing = new Set(this.aggregatesOf(rp.id));
      for (const agg of existing) if (!wanted.has(agg)) this.db.prepare('DELETE FROM placement_provider_aggregates WHERE resource_provider_id = ? AND aggregate_uuid = ?').run(rp.id, agg);
      for (const agg of wanted) if (!existing.has(agg)) this.db.prepare('INSERT INTO placement_provider_aggregates (resource_provider_id, aggregate_uuid) VALUES (?, ?)').run(rp.id, agg);
      return { generation: generation !== null ? this.bump(rp) : rp.generation, aggregates: [...aggregates] };
    });
  }

  // ---- consumers and allocations -----------------------------------------------------------

  private consumer(uuid: string): (Consumer & { consumer_type_id: number | null }) | undefined {
    return this.db
      .prepare('SELECT c.uuid, c.project_id, c.user_id, c.generation, c.consumer_type_id, t.name AS consumer_type FROM placement_consumers c LEFT JOIN placement_consumer_types t ON t.id = c.consumer_type_id WHERE c.uuid = ?')
      .get(uuid) as (Consumer & { consumer_type_id: number | null }) | undefined;
  }

  private consumerTypeId(name: string): number {
    const row = this.db.prepare('SELECT id FROM placement_consumer_types WHERE name = ?').get(name) as { id: number } | undefined;
    if (row) return row.id;
    return Number(this.db.prepare('INSERT INTO placement_consumer_types (name, created_at) VALUES (?, ?)').run(name, this.now()).lastInsertRowid);
  }

  /** GET /allocations/{consumer_uuid}. */
  consumerAllocations(consumerUuid: string): ConsumerAllocations {
    const rows = this.db
      .prepare(
        `SELECT rp.uuid AS provider, rp.generation, c.name AS rc, a.used FROM placement_allocations a
         JOIN placement_resource_providers rp ON rp.id = a.resource_provider_id
         JOIN placement_resource_classes c ON c.id = a.resource_class_id
         WHERE a.consumer_id = ? ORDER BY a.id`,
      )
      .all(consumerUuid) as Array<{ provider: string; generation: number; rc: string; used: number }>;
    const byProvider = new Map<string, { provider: string; generation: number; resources: Record<string, number> }>();
    for (const row of rows) {
      const entry = byProvider.get(row.provider) ?? { provider: row.provider, generation: row.generation, resources: {} };
      entry.resources[row.rc] = row.used;
      byProvider.set(row.provider, entry);
    }
    const consumer = rows.length > 0 ? this.consumer(consumerUuid) : undefined;
    return {
      consumer: consumer ? { uuid: consumer.uuid, project_id: consumer.project_id, user_id: consumer.user_id, generation: consumer.generation, consumer_type: consumer.consumer_type } : null,
      allocations: [...byProvider.values()],
    };
  }

  /** GET /resource_providers/{uuid}/allocations: by consumer, with each consumer's generation. */
  providerAllocations(uuid: string): { generation: number; allocations: Array<{ consumer: string; consumer_generation: number | null; resources: Record<string, number> }> } {
    const rp = this.row(uuid);
    if (!rp) throw notFound(`Resource provider '${uuid}' not found: No resource provider with uuid ${uuid} found`);
    const rows = this.db
      .prepare(
        `SELECT a.consumer_id AS consumer, co.generation AS consumer_generation, c.name AS rc, a.used FROM placement_allocations a
         JOIN placement_resource_classes c ON c.id = a.resource_class_id
         LEFT JOIN placement_consumers co ON co.uuid = a.consumer_id
         WHERE a.resource_provider_id = ? ORDER BY a.id`,
      )
      .all(rp.id) as Array<{ consumer: string; consumer_generation: number | null; rc: string; used: number }>;
    const byConsumer = new Map<string, { consumer: string; consumer_generation: number | null; resources: Record<string, number> }>();
    for (const row of rows) {
      const entry = byConsumer.get(row.consumer) ?? { consumer: row.consumer, consumer_generation: row.consumer_generation, resources: {} };
      entry.resources[row.rc] = row.used;
      byConsumer.set(row.consumer, entry);
    }
    return { generation: rp.generation, allocations: [...byConsumer.values()] };
  }

  /**
   * Writes allocations for one or more consumers atomically (objects/allocation.py
   * replace_all and the handlers' ensure_consumer). The order matters:
   * 1. consumers: created or checked against their generation (1.28), before anything else;
   * 2. every provider named must exist;
   * 3. the consumers' current allocations are removed, so a rewrite does not count twice;
   * 4. each amount is checked against its inventory: class present, min_unit, max_unit,
   *    step_size and capacity `(total - reserved) * allocation_ratio` (an over-capacity
   *    provider still accepts a change that does not make it worse);
   * 5. the new rows are written and every provider and consumer touched moves to a new
   *    generation; consumers left without allocations are deleted.
   * Any refusal rolls the whole write back.
   */
  replaceAllocations(writes: readonly AllocationWrite[], options: { single: boolean }): void {
    this.tx(() => {
      // 1. consumers
      const now = this.now();
      const consumers = new Map<string, { uuid: string; generation: number }>();
      for (const write of writes) {
        const projectId = write.projectId ?? INCOMPLETE_CONSUMER_ID;
        const userId = write.projectId === null ? INCOMPLETE_CONSUMER_ID : (write.userId ?? INCOMPLETE_CONSUMER_ID);
        const typeId = write.consumerType !== undefined ? this.consumerTypeId(write.consumerType) : null;
        const existing = this.consumer(write.consumer);
        if (existing) {
          if (write.consumerGeneration !== undefined && existing.generation !== write.consumerGeneration) {
            throw concurrentUpdate(`consumer generation conflict - expected ${existing.generation} but got ${write.consumerGeneration === null ? 'None' : write.consumerGeneration}`);
          }
          if (existing.project_id !== projectId || existing.user_id !== userId) this.db.prepare('UPDATE placement_consumers SET project_id = ?, user_id = ?, updated_at = ? WHERE uuid = ?').run(projectId, userId, now, existing.uuid);
          if (typeId !== null && typeId !== existing.consumer_type_id) this.db.prepare('UPDATE placement_consumers SET consumer_type_id = ?, updated_at = ? WHERE uuid = ?').run(typeId, now, existing.uuid);
          consumers.set(write.consumer, { uuid: existing.uuid, generation: existing.generation });
        } else {
          if (write.consumerGeneration !== undefined && write.consumerGeneration !== null) throw concurrentUpdate(`consumer generation conflict - expected null but got ${write.consumerGeneration}`);
          this.db
            .prepare('INSERT INTO placement_consumers (uuid, project_id, user_id, generation, consumer_type_id, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?, ?)')
            .run(write.consumer, projectId, userId, typeId, now, now);
          consumers.set(write.consumer, { uuid: write.consumer, generation: 0 });
        }
      }

      // 2. providers, and the list of (provider, class, amount) to write; 0 means "remove"
      const providers = new Map<string, ProviderRow>();
      const allocs: Array<{ consumer: string; rp: ProviderRow; rc: string; used: number }> = [];
      for (const write of writes) {
        if (write.allocations.size === 0) {
          for (const held of this.consumerAllocations(write.consumer).allocations) {
            const rp = providers.get(held.provider) ?? this.providerRow(held.provider);
            providers.set(rp.uuid, rp);
            for (const rc of Object.keys(held.resources)) allocs.push({ consumer: write.consumer, rp, rc, used: 0 });
          }
          continue;
        }
        for (const [uuid, resources] of write.allocations) {
          const rp = providers.get(uuid) ?? this.row(uuid);
          if (!rp) throw badRequest(`Allocation for resource provider '${uuid}' that does not exist.`);
          providers.set(uuid, rp);
          for (const [rc, used] of resources) allocs.push({ consumer: write.consumer, rp, rc, used });
        }
      }
      const rcIds = new Map<string, number>();
      for (const { rc } of allocs) {
        const id = this.resourceClassId(rc);
        if (id === undefined) {
          const consumer = writes[0]?.consumer ?? '';
          throw badRequest(options.single ? `Unable to allocate inventory for consumer ${consumer}: No such resource class ${rc}.` : `Unable to allocate inventory No such resource class ${rc}.`);
        }
        rcIds.set(rc, id);
      }
      const usage = this.db.prepare('SELECT COALESCE(SUM(used), 0) AS used FROM placement_allocations WHERE resource_provider_id = ? AND resource_class_id = ?');
      const previous = new Map<string, number>();
      for (const { rp, rc } of allocs) previous.set(`${rp.id}:${rc}`, (usage.get(rp.id, rcIds.get(rc)) as { used: number }).used);

      // 3. clean slate for the consumers written
      for (const uuid of consumers.keys()) this.db.prepare('DELETE FROM placement_allocations WHERE consumer_id = ?').run(uuid);

      // 4. capacity and constraints
      const inventories = new Map<number, Map<string, Inventory>>();
      for (const rp of providers.values()) inventories.set(rp.id, this.inventoriesOf(rp.id));
      const requestedClasses = [...new Set(allocs.map((a) => a.rc))];
      const missing = [...new Set(allocs.map((a) => a.rp))].filter((rp) => !requestedClasses.some((rc) => inventories.get(rp.id)?.has(rc)));
      if (missing.length > 0) {
        const rc = requestedClasses.join(', ');
        const rps = missing.map((rp) => rp.uuid).join(', ');
        throw new AllocationConflictError(`Inventory for '${rc}' on resource provider '${rps}' invalid.`, rc, rps);
      }
      const asked = new Map<string, number>();
      for (const alloc of allocs) {
        const key = `${alloc.rp.id}:${alloc.rc}`;
        asked.set(key, (asked.get(key) ?? 0) + alloc.used);
        if (alloc.used === 0) continue;
        const inv = inventories.get(alloc.rp.id)?.get(alloc.rc);
        if (!inv) throw new AllocationConflictError(`Inventory for '${alloc.rc}' on resource provider '${alloc.rp.uuid}' invalid.`, alloc.rc, alloc.rp.uuid);
        if (alloc.used < inv.min_unit || alloc.used > inv.max_unit || alloc.used % inv.step_size !== 0) {
          this.logger.warn({ resourceClass: alloc.rc, resourceProvider: alloc.rp.uuid, requested: alloc.used, min_unit: inv.min_unit, max_unit: inv.max_unit, step_size: inv.step_size }, 'placement: allocation violates min_unit, max_unit, or step_size');
          throw new AllocationConflictError(
            `Unable to create allocation for '${alloc.rc}' on resource provider '${alloc.rp.uuid}'. The requested amount would violate inventory constraints.`,
            alloc.rc,
            alloc.rp.uuid,
          );
        }
        const used = (usage.get(alloc.rp.id, rcIds.get(alloc.rc)) as { used: number }).used;
        const capacity = (inv.total - inv.reserved) * inv.allocation_ratio;
        const neededAll = asked.get(key) ?? 0;
        if (capacity < used + alloc.used || capacity < used + neededAll) {
          // Over capacity is tolerated only when this write leaves the provider no worse off.
          const before = previous.get(key);
          if (before !== undefined && used + neededAll <= before) {
            this.logger.warn({ resourceClass: alloc.rc, resourceProvider: alloc.rp.uuid, previous: before, now: used + neededAll }, 'placement: over capacity, but the allocation reduces the overage');
          } else {
            this.logger.warn({ resourceClass: alloc.rc, resourceProvider: alloc.rp.uuid, needed: alloc.used, used, capacity }, 'placement: over capacity');
            throw new AllocationConflictError(
              `Unable to create allocation for '${alloc.rc}' on resource provider '${alloc.rp.uuid}'. The requested amount would exceed the capacity.`,
              alloc.rc,
              alloc.rp.uuid,
            );
          }
        }
      }

      // 5. write, move generations on, drop consumers left empty
      const insert = this.db.prepare('INSERT INTO placement_allocations (resource_provider_id, resource_class_id, consumer_id, used, created_at) VALUES (?, ?, ?, ?, ?)');
      for (const alloc of allocs) if (alloc.used > 0) insert.run(alloc.rp.id, rcIds.get(alloc.rc), alloc.consumer, alloc.used, now);
      for (const rp of new Set(allocs.map((a) => a.rp))) this.bump(rp);
      const touched = new Set(allocs.map((a) => a.consumer));
      for (const uuid of touched) {
        const seen = consumers.get(uuid) as { uuid: string; generation: number };
        const changed = this.db.prepare('UPDATE placement_consumers SET generation = generation + 1, updated_at = ? WHERE uuid = ? AND generation = ?').run(now, uuid, seen.generation).changes;
        if (changed !== 1) throw concurrentUpdate('Another thread concurrently updated the data. Please retry your update');
      }
      for (const uuid of touched) {
        if (!this.db.prepare('SELECT 1 FROM placement_allocations WHERE consumer_id = ?').get(uuid)) this.db.prepare('DELETE FROM placement_consumers WHERE uuid = ?').run(uuid);
      }
    });
  }

  /** DELETE /allocations/{consumer_uuid}: the consumer goes with them; generations stay (as in Placement). */
  deleteAllocations(consumerUuid: string): void {
    this.tx(() => {
      const removed = this.db.prepare('DELETE FROM placement_allocations WHERE consumer_id = ?').run(consumerUuid).changes;
      if (removed === 0) throw notFound(`No allocations for consumer '${consumerUuid}'`);
      this.db.prepare('DELETE FROM placement_consumers WHERE uuid = ?').run(consumerUuid);
    });
  }

  // ---- usages ------------------------------------------------------------------------------

  /** GET /resource_providers/{uuid}/usages: every inventoried class, 0 when nothing is allocated. */
  providerUsages(uuid: string): { generation: number; usages: Record<string, number> } {
    const rp = this.row(uuid);
    if (!rp) throw notFound(`No resource provider with uuid ${uuid} found: No resource provider with uuid ${uuid} found`);
    const rows = this.db
      .prepare(
        `SELECT c.name, COALESCE(SUM(a.used), 0) AS used FROM placement_inventories i
         JOIN placement_resource_classes c ON c.id = i.resource_class_id
         LEFT JOIN placement_allocations a ON a.resource_provider_id = i.resource_provider_id AND a.resource_class_id = i.resource_class_id
         WHERE i.resource_provider_id = ? GROUP BY c.id ORDER BY c.id`,
      )
      .all(rp.id) as Array<{ name: string; used: number }>;
    return { generation: rp.generation, usages: Object.fromEntries(rows.map((r) => [r.name, r.used])) };
  }

  /** GET /usages before 1.38: a project's (and optionally a user's) totals per class. */
  projectUsages(projectId: string, userId?: string): Record<string, number> {
    const rows = this.db
      .prepare(
        `SELECT c.name, SUM(a.used) AS used FROM placement_allocations a
         JOIN placement_consumers co ON co.uuid = a.consumer_id
         JOIN placement_resource_classes c ON c.id = a.resource_class_id
         WHERE co.project_id = @project AND (@user IS NULL OR co.user_id = @user)
         GROUP BY c.id ORDER BY c.id`,
      )
      .all({ project: projectId, user: userId ?? null }) as Array<{ name: string; used: number }>;
    return Object.fromEntries(rows.map((r) => [r.name, r.used]));
  }

  /**
   * GET /usages from 1.38: totals grouped by consumer type (`unknown` for consumers without
   * one), each with `consumer_count`. `consumerType` 'all' folds every type into one
   * group, 'unknown' keeps only typeless consumers, any other name only that type.
   */
  projectUsagesByType(projectId: string, userId: string | undefined, consumerType: string | undefined): Record<string, Record<string, number>> {
    const rows = this.db
      .prepare(
        `SELECT c.name AS rc, COALESCE(t.name, 'unknown') AS type, a.used, a.consumer_id FROM placement_allocations a
         JOIN placement_consumers co ON co.uuid = a.consumer_id
         LEFT JOIN placement_consumer_types t ON t.id = co.consumer_type_id
         JOIN placement_resource_classes c ON c.id = a.resource_class_id
         WHERE co.project_id = @project AND (@user IS NULL OR co.user_id = @user) ORDER BY c.id`,
      )
      .all({ project: projectId, user: userId ?? null }) as Array<{ rc: string; type: string; used: number; consumer_id: string }>;
    const result: Record<string, Record<string, number>> = {};
    const counted = new Map<string, Set<string>>();
    for (const row of rows) {
      if (consumerType !== undefined && consumerType !== 'all' && row.type !== consumerType) continue;
      const group = consumerType === 'all' ? 'all' : row.type;
      const usages = result[group] ?? (result[group] = {});
      usages[row.rc] = (usages[row.rc] ?? 0) + row.used;
      const consumers = counted.get(group) ?? new Set<string>();
      consumers.add(row.consumer_id);
      counted.set(group, consumers);
      usages.consumer_count = consumers.size;
    }
    return result;
  }

  // ---- allocation candidates -----------------------------------------------------------------

  /** Every provider with its tree, traits, aggregates and inventories with usage: what the candidate search reads. */
  snapshot(): ProviderNode[] {
    const rows = this.db.prepare(`${PlacementService.PROVIDER_SELECT} ORDER BY rp.id`).all() as ProviderRow[];
    const traits = new Map<number, Set<string>>();
    for (const r of this.db.prepare('SELECT pt.resource_provider_id AS id, t.name FROM placement_provider_traits pt JOIN placement_traits t ON t.id = pt.trait_id').all() as Array<{ id: number; name: string }>) {
      (traits.get(r.id) ?? traits.set(r.id, new Set()).get(r.id))?.add(r.name);
    }
    const aggregates = new Map<number, Set<string>>();
    for (const r of this.db.prepare('SELECT resource_provider_id AS id, aggregate_uuid AS agg FROM placement_provider_aggregates').all() as Array<{ id: number; agg: string }>) {
      (aggregates.get(r.id) ?? aggregates.set(r.id, new Set()).get(r.id))?.add(r.agg);
    }
    const inventories = new Map<number, Map<string, InventoryUsage>>();
    const invRows = this.db
      .prepare(
        `SELECT i.resource_provider_id AS id, c.name, i.total, i.reserved, i.min_unit, i.max_unit, i.step_size, i.allocation_ratio,
                COALESCE((SELECT SUM(a.used) FROM placement_allocations a WHERE a.resource_provider_id = i.resource_provider_id AND a.resource_class_id = i.resource_class_id), 0) AS used
         FROM placement_inventories i JOIN placement_resource_classes c ON c.id = i.resource_class_id ORDER BY c.id`,
      )
      .all() as Array<InventoryUsage & { id: number; name: string }>;
    for (const { id, name, ...inv } of invRows) (inventories.get(id) ?? inventories.set(id, new Map()).get(id))?.set(name, inv);
    return rows.map((r) => ({
      id: r.id,
      uuid: r.uuid,
      parentUuid: r.parent_provider_uuid,
      rootUuid: r.root_provider_uuid,
      traits: traits.get(r.id) ?? new Set(),
      aggregates: aggregates.get(r.id) ?? new Set(),
      inventories: inventories.get(r.id) ?? new Map(),
    }));
  }

  /**
   * GET /allocation_candidates: checks the classes and traits named exist (400 otherwise,
   * as Placement), then searches.
   */
  searchCandidates(request: CandidateRequest): CandidateResult {
    for (const group of request.groups) {
      for (const rc of group.resources.keys()) {
        if (this.resourceClassId(rc) === undefined) throw badRequest(`Invalid resource class in resources parameter: No such resource class ${rc}.`);
      }
      for (const trait of [...group.traits.required.flat(), ...group.traits.forbidden]) this.traitId(trait, (name) => badRequest(`No such trait(s): ${name}.`));
    }
    for (const trait of [...request.rootRequired, ...request.rootForbidden]) this.traitId(trait, (name) => badRequest(`No such trait(s): ${name}.`));
    return findCandidates(this.snapshot(), request);
  }

  // ---- the face Nova and the capacity work use -----------------------------------------------

  /**
   * Registers a hypervisor as nova-compute's resource tracker does: a root provider named
   * after the node, with VCPU, MEMORY_MB and DISK_GB inventories (min_unit 1, max_unit =
   * total, step 1) at the given or Nova's default ratios and reservations, and the host
   * aggregate when given. Idempotent: a second call updates the inventory in place.
   */
  ensureComputeNode(spec: ComputeNodeSpec): ResourceProvider {
    return this.tx(() => {
      const uuid = spec.uuid ? (normalizeUuid(spec.uuid) ?? spec.uuid) : deriveId('placement', 'compute-node', spec.name);
      const rp = this.findProvider(uuid) ?? this.createProvider({ name: spec.name, uuid });
      if (rp.name !== spec.name) this.updateProvider(uuid, { name: spec.name }, false);
      const inventory = new Map<string, Inventory>();
      if (spec.vcpus > 0) {
        inventory.set('VCPU', { total: spec.vcpus, reserved: spec.reservedHostCpus ?? DEFAULT_RESERVED_HOST_CPUS, min_unit: 1, max_unit: spec.vcpus, step_size: 1, allocation_ratio: spec.cpuAllocationRatio ?? DEFAULT_CPU_ALLOCATION_RATIO });
      }
      if (spec.memoryMb > 0) {
        inventory.set('MEMORY_MB', { total: spec.memoryMb, reserved: spec.reservedHostMemoryMb ?? DEFAULT_RESERVED_HOST_MEMORY_MB, min_unit: 1, max_unit: spec.memoryMb, step_size: 1, allocation_ratio: spec.ramAllocationRatio ?? DEFAULT_RAM_ALLOCATION_RATIO });
      }
      if (spec.diskGb > 0) {
        // nova converts reserved_host_disk_mb to whole GB, rounding up.
        const reservedDiskGb = spec.reservedHostDiskGb ?? Math.ceil(DEFAULT_RESERVED_HOST_DISK_MB / 1024);
        inventory.set('DISK_GB', { total: spec.diskGb, reserved: reservedDiskGb, min_unit: 1, max_unit: spec.diskGb, step_size: 1, allocation_ratio: spec.diskAllocationRatio ?? DEFAULT_DISK_ALLOCATION_RATIO });
      }
      const current = this.getInventories(uuid);
      const same = JSON.stringify(current.inventories) === JSON.stringify(Object.fromEntries(inventory));
      // Like the resource tracker, only write when the inventory changed: each write moves the generation.
      if (!same) this.setInventories(uuid, current.generation, inventory, true);
      if (spec.aggregate) {
        const agg = normalizeUuid(spec.aggregate) ?? deriveId('placement', 'aggregate', spec.aggregate);
        const { generation, aggregates } = this.providerAggregates(uuid);
        if (!aggregates.includes(agg)) this.setProviderAggregates(uuid, [...aggregates, agg], generation);
      }
      return this.getProvider(uuid);
    });
  }

  /** Providers that can take these amounts now, best first as Placement lists them, for the scheduler. */
  allocationCandidates(resources: Readonly<Record<string, number>>, options: { memberOf?: readonly string[]; required?: readonly string[]; limit?: number } = {}): CandidateResult {
    return this.searchCandidates({
      groups: [
        {
          suffix: '',
          useSameProvider: false,
          resources: new Map(Object.entries(resources)),
          traits: { required: (options.required ?? []).map((t) => [t]), forbidden: new Set() },
          memberOf: { required: options.memberOf && options.memberOf.length > 0 ? [[...options.memberOf]] : [], forbidden: new Set() },
          inTree: null,
        },
      ],
      groupPolicy: null,
      limit: options.limit ?? null,
      rootRequired: new Set(),
      rootForbidden: new Set(),
      nestedAware: true,
    });
  }

  /**
   * Claims resources on one provider for a consumer (an instance), replacing what it held,
   * as the scheduler does at 1.28+. Throws AllocationConflictError when it does not fit.
   */
  allocate(consumerId: string, rpUuid: string, resources: Readonly<Record<string, number>>, projectId: string, userId: string): void {
    this.replaceAllocations([{ consumer: consumerId, allocations: new Map([[rpUuid, new Map(Object.entries(resources))]]), projectId, userId }], { single: true });
  }

  /** Releases everything a consumer holds; a consumer holding nothing is fine. */
  deallocate(consumerId: string): boolean {
    try {
      this.deleteAllocations(consumerId);
      return true;
    } catch (err) {
      if (err instanceof PlacementError && err.httpStatus === 404) return false;
      throw err;
    }
  }

  /** A provider's capacity, reservation and use per class: the numbers capacity planning reads. */
  usages(rpUuid: string): Record<string, Inventory & { capacity: number; used: number }> {
    const rp = this.providerRow(rpUuid);
    const { usages } = this.providerUsages(rpUuid);
    const result: Record<string, Inventory & { capacity: number; used: number }> = {};
    for (const [rc, inv] of this.inventoriesOf(rp.id)) result[rc] = { ...inv, capacity: capacityOf(inv), used: usages[rc] ?? 0 };
    return result;
  }

  /** Every provider with its aggregates, for capacity per aggregate / availability zone. */
  providers(): Array<ResourceProvider & { aggregates: string[] }> {
    return (this.db.prepare(`${PlacementService.PROVIDER_SELECT} ORDER BY rp.id`).all() as ProviderRow[]).map((row) => ({ ...PlacementService.view(row), aggregates: this.aggregatesOf(row.id) }));
  }
}
