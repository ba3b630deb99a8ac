import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, deriveId, migrateState, openStateDatabase, silentLogger, type StateDatabase } from '../../core/index.ts';
import { AllocationConflictError, PlacementError } from './errors.ts';
import { PLACEMENT_MIGRATIONS } from './migrations.ts';
import { PlacementService } from './service.ts';

const INSTANCE_A = '11111111-0000-4000-8000-00000000000a';
const INSTANCE_B = '11111111-0000-4000-8000-00000000000b';
const AZ1 = 'a2000000-0000-4000-8000-000000000001';

let db: StateDatabase;
let placement: PlacementService;

beforeEach(() => {
  db = openStateDatabase(':memory:');
  migrateState(db, 'cloud.placement', PLACEMENT_MIGRATIONS);
  placement = new PlacementService(db, new ManualClock(new Date('2026-01-02T03:04:05Z')), silentLogger());
  placement.syncStandards();
});

afterEach(() => db.close());

const node = (name: string, extra: Partial<Parameters<PlacementService['ensureComputeNode']>[0]> = {}) => placement.ensureComputeNode({ name, vcpus: 8, memoryMb: 16384, diskGb: 200, ...extra });

function refusal(work: () => unknown): PlacementError {
  try {
    work();
  } catch (err) {
    if (err instanceof PlacementError) return err;
    throw err;
  }
  throw new Error('expected a Placement refusal');
}

describe('PlacementService: compute nodes as nova-compute reports them', () => {
  it('creates the provider with Nova defaults: VCPU x4.0, MEMORY_MB reserved 512 x1.0, DISK_GB x1.0, max_unit = total', () => {
    const rp = node('compute-1');
    expect(rp).toMatchObject({ uuid: deriveId('placement', 'compute-node', 'compute-1'), name: 'compute-1', generation: 1, parent_provider_uuid: null });
    expect(placement.getInventories(rp.uuid).inventories).toEqual({
      VCPU: { total: 8, reserved: 0, min_unit: 1, max_unit: 8, step_size: 1, allocation_ratio: 4 },
      MEMORY_MB: { total: 16384, reserved: 512, min_unit: 1, max_unit: 16384, step_size: 1, allocation_ratio: 1 },
      DISK_GB: { total: 200, reserved: 0, min_unit: 1, max_unit: 200, step_size: 1, allocation_ratio: 1 },
    });
    expect(placement.usages(rp.uuid)).toMatchObject({ VCPU: { capacity: 32, used: 0 }, MEMORY_MB: { capacity: 15872, used: 0 }, DISK_GB: { capacity: 200, used: 0 } });
  });

  it('is idempotent, updates inventory in place when the host changes, and joins its aggregate', () => {
    const first = node('compute-1', { uuid: 'B0000000-0000-4000-8000-000000000001', aggregate: AZ1 });
    const again = node('compute-1', { uuid: 'b0000000-0000-4000-8000-000000000001', aggregate: AZ1 });
    expect(again.uuid).toBe(first.uuid);
    // Same inventory: no write, so the generation does not move (aggregates moved it to 2).
    expect(again.generation).toBe(2);
    const bigger = node('compute-1', { uuid: first.uuid, vcpus: 16, cpuAllocationRatio: 16.0, ramAllocationRatio: 1.5, reservedHostMemoryMb: 2048 });
    expect(bigger.generation).toBe(3);
    expect(placement.usages(first.uuid)).toMatchObject({ VCPU: { capacity: 256 }, MEMORY_MB: { capacity: Math.trunc((16384 - 2048) * 1.5) } });
    expect(placement.providers()).toEqual([expect.objectContaining({ uuid: first.uuid, aggregates: [AZ1] })]);
    const named = node('compute-2', { aggregate: 'az-west' });
    expect(placement.providers().find((p) => p.uuid === named.uuid)?.aggregates).toEqual([deriveId('placement', 'aggregate', 'az-west')]);
  });
});

describe('PlacementService: allocations', () => {
  it('allocates within capacity and refuses beyond it with a typed conflict', () => {
    const rp = node('compute-1');
    placement.allocate(INSTANCE_A, rp.uuid, { VCPU: 8, MEMORY_MB: 8192, DISK_GB: 100 }, 'project-1', 'user-1');
    placement.allocate(INSTANCE_B, rp.uuid, { VCPU: 8, MEMORY_MB: 7680, DISK_GB: 100 }, 'project-1', 'user-1');
    expect(placement.usages(rp.uuid)).toMatchObject({ VCPU: { used: 16 }, MEMORY_MB: { used: 15872, capacity: 15872 }, DISK_GB: { used: 200 } });
    const full = refusal(() => placement.allocate('11111111-0000-4000-8000-00000000000c', rp.uuid, { MEMORY_MB: 1 }, 'project-1', 'user-1'));
    expect(full).toBeInstanceOf(AllocationConflictError);
    expect(full).toMatchObject({ httpStatus: 409, code: 'CUMULUS_PLACEMENT_CAPACITY_EXCEEDED', resourceClass: 'MEMORY_MB', resourceProvider: rp.uuid });
    // Nothing of the refused write remains, not even its consumer.
    expect(placement.consumerAllocations('11111111-0000-4000-8000-00000000000c')).toEqual({ consumer: null, allocations: [] });
  });

  it('rewriting a consumer does not count its old allocation twice', () => {
    const rp = node('compute-1');
    placement.allocate(INSTANCE_A, rp.uuid, { MEMORY_MB: 15000 }, 'p', 'u');
    placement.allocate(INSTANCE_A, rp.uuid, { MEMORY_MB: 15872 }, 'p', 'u');
    expect(placement.usages(rp.uuid).MEMORY_MB?.used).toBe(15872);
    expect(placement.consumerAllocations(INSTANCE_A).consumer?.generation).toBe(2);
  });

  it('enforces min_unit, max_unit and step_size', () => {
    const rp = placement.createProvider({ name: 'pool' });
    placement.setInventories(rp.uuid, 0, new Map([['DISK_GB', { total: 1000, reserved: 0, min_unit: 10, max_unit: 100, step_size: 10, allocation_ratio: 1 }]]), true);
    for (const amount of [5, 110, 15]) {
      expect(refusal(() => placement.allocate(INSTANCE_A, rp.uuid, { DISK_GB: amount }, 'p', 'u')).message).toContain('would violate inventory constraints');
    }
    placement.allocate(INSTANCE_A, rp.uuid, { DISK_GB: 50 }, 'p', 'u');
  });

  it('accepts a write on an over-capacity provider only when it does not make things worse', () => {
    const rp = placement.createProvider({ name: 'cn' });
    const vcpus = (total: number, generation: number) =>
      placement.setInventories(rp.uuid, generation, new Map([['VCPU', { total, reserved: 0, min_unit: 1, max_unit: 64, step_size: 1, allocation_ratio: 1 }]]), true);
    vcpus(8, 0);
    placement.allocate(INSTANCE_A, rp.uuid, { VCPU: 8 }, 'p', 'u');
    // The operator shrinks the host below what is allocated: Placement allows it (and warns).
    vcpus(4, 2);
    expect(placement.usages(rp.uuid).VCPU).toMatchObject({ capacity: 4, used: 8 });
    expect(refusal(() => placement.allocate(INSTANCE_B, rp.uuid, { VCPU: 1 }, 'p', 'u'))).toBeInstanceOf(AllocationConflictError);
    expect(refusal(() => placement.allocate(INSTANCE_A, rp.uuid, { VCPU: 9 }, 'p', 'u'))).toBeInstanceOf(AllocationConflictError);
    // Still over capacity, but less than before: accepted, as Placement does.
    placement.allocate(INSTANCE_A, rp.uuid, { VCPU: 5 }, 'p', 'u');
    expect(placement.usages(rp.uuid).VCPU).toMatchObject({ capacity: 4, used: 5 });
  });

  it('deallocates, and tolerates a consumer that holds nothing', () => {
    const rp = node('compute-1');
    placement.allocate(INSTANCE_A, rp.uuid, { VCPU: 2 }, 'p', 'u');
    expect(placement.deallocate(INSTANCE_A)).toBe(true);
    expect(placement.deallocate(INSTANCE_A)).toBe(false);
    expect(placement.usages(rp.uuid).VCPU?.used).toBe(0);
  });

  it('checks consumer generations from 1.28: null for new, the current one after', () => {
    const rp = node('compute-1');
    const write = (generation: number | null) =>
      placement.replaceAllocations([{ consumer: INSTANCE_A, allocations: new Map([[rp.uuid, new Map([['VCPU', 1]])]]), projectId: 'p', userId: 'u', consumerGeneration: generation, consumerType: 'INSTANCE' }], { single: true });
    expect(refusal(() => write(0)).message).toBe('consumer generation conflict - expected null but got 0');
    write(null);
    expect(refusal(() => write(null)).placementCode).toBe('placement.concurrent_update');
    write(1);
    expect(placement.consumerAllocations(INSTANCE_A).consumer).toMatchObject({ generation: 2, consumer_type: 'INSTANCE' });
  });

  it('keeps a provider with allocations, and each write moves the provider generation', () => {
    const rp = node('compute-1');
    placement.allocate(INSTANCE_A, rp.uuid, { VCPU: 1 }, 'p', 'u');
    expect(placement.getProvider(rp.uuid).generation).toBe(2);
    expect(refusal(() => placement.deleteProvider(rp.uuid)).placementCode).toBe('placement.resource_provider.inuse');
    // DELETE /allocations does not move the provider generation (as in Placement).
    placement.deallocate(INSTANCE_A);
    expect(placement.getProvider(rp.uuid).generation).toBe(2);
    placement.deleteProvider(rp.uuid);
    expect(placement.findProvider(rp.uuid)).toBeUndefined();
  });
});

describe('PlacementService: usages and candidates for the scheduler and capacity reports', () => {
  it('totals a project and a user, and by consumer type from 1.38', () => {
    const rp = node('compute-1');
    placement.replaceAllocations([{ consumer: INSTANCE_A, allocations: new Map([[rp.uuid, new Map([['VCPU', 2], ['MEMORY_MB', 512]])]]), projectId: 'p1', userId: 'u1', consumerType: 'INSTANCE' }], { single: true });
    placement.replaceAllocations([{ consumer: INSTANCE_B, allocations: new Map([[rp.uuid, new Map([['VCPU', 1]])]]), projectId: 'p1', userId: 'u2' }], { single: true });
    expect(placement.projectUsages('p1')).toEqual({ VCPU: 3, MEMORY_MB: 512 });
    expect(placement.projectUsages('p1', 'u2')).toEqual({ VCPU: 1 });
    expect(placement.projectUsagesByType('p1', undefined, undefined)).toEqual({ INSTANCE: { VCPU: 2, MEMORY_MB: 512, consumer_count: 1 }, unknown: { VCPU: 1, consumer_count: 1 } });
    expect(placement.projectUsagesByType('p1', undefined, 'unknown')).toEqual({ unknown: { VCPU: 1, consumer_count: 1 } });
    expect(placement.projectUsagesByType('p1', undefined, 'all')).toEqual({ all: { VCPU: 3, MEMORY_MB: 512, consumer_count: 2 } });
  });

  it('offers the hosts that fit, with their summaries, filtered by aggregate', () => {
    const small = node('compute-1', { memoryMb: 4096, aggregate: AZ1 });
    const large = node('compute-2', { memoryMb: 65536 });
    const fits = placement.allocationCandidates({ VCPU: 2, MEMORY_MB: 8192, DISK_GB: 10 });
    expect(fits.allocationRequests.map((a) => a.anchorRootUuid)).toEqual([large.uuid]);
    expect(fits.summaries.map((s) => s.uuid)).toEqual([large.uuid]);
    const both = placement.allocationCandidates({ VCPU: 1 });
    expect(both.allocationRequests).toHaveLength(2);
    expect(placement.allocationCandidates({ VCPU: 1 }, { memberOf: [AZ1] }).allocationRequests.map((a) => a.anchorRootUuid)).toEqual([small.uuid]);
    expect(placement.allocationCandidates({ VCPU: 1 }, { limit: 1 }).allocationRequests).toHaveLength(1);
    expect(refusal(() => placement.allocationCandidates({ NOPE: 1 })).httpStatus).toBe(400);
  });
});

describe('PlacementService: resource classes, traits, aggregates, trees', () => {
  it('numbers custom classes from 10000 and refuses touching standard ones', () => {
    placement.createResourceClass('CUSTOM_A');
    expect(placement.ensureResourceClass('CUSTOM_B')).toBe(true);
    expect(placement.ensureResourceClass('CUSTOM_B')).toBe(false);
    expect(placement.resourceClassId('CUSTOM_A')).toBe(10000);
    expect(placement.resourceClassId('CUSTOM_B')).toBe(10001);
    expect(refusal(() => placement.createResourceClass('VCPU')).httpStatus).toBe(409);
    expect(refusal(() => placement.renameResourceClass('VCPU', 'CUSTOM_X')).httpStatus).toBe(400);
    placement.renameResourceClass('CUSTOM_A', 'CUSTOM_C');
    expect(placement.listResourceClasses().slice(-2)).toEqual(['CUSTOM_C', 'CUSTOM_B']);
  });

  it('moves the generation for traits only on change, for aggregates (1.19) always', () => {
    const rp = placement.createProvider({ name: 'cn' });
    expect(placement.setProviderTraits(rp.uuid, 0, ['HW_CPU_X86_AVX2']).generation).toBe(1);
    expect(placement.setProviderTraits(rp.uuid, 1, ['HW_CPU_X86_AVX2']).generation).toBe(1);
    expect(refusal(() => placement.setProviderTraits(rp.uuid, 0, [])).placementCode).toBe('placement.concurrent_update');
    expect(placement.setProviderAggregates(rp.uuid, [AZ1], 1).generation).toBe(2);
    expect(placement.setProviderAggregates(rp.uuid, [AZ1], 2).generation).toBe(3);
    expect(placement.setProviderAggregates(rp.uuid, [], null).generation).toBe(3);
    expect(refusal(() => placement.deleteTrait('HW_CPU_X86_AVX2')).message).toBe('Cannot delete standard trait HW_CPU_X86_AVX2.');
  });

  it('re-roots a whole subtree when its top is re-parented (1.37) or un-parented', () => {
    const a = placement.createProvider({ name: 'a' });
    const b = placement.createProvider({ name: 'b' });
    const child = placement.createProvider({ name: 'child', parent_provider_uuid: a.uuid });
    const grandchild = placement.createProvider({ name: 'grandchild', parent_provider_uuid: child.uuid });
    expect(grandchild.root_provider_uuid).toBe(a.uuid);
    placement.updateProvider(child.uuid, { name: 'child', parent_provider_uuid: b.uuid }, true);
    expect(placement.getProvider(grandchild.uuid).root_provider_uuid).toBe(b.uuid);
    placement.updateProvider(child.uuid, { name: 'child', parent_provider_uuid: null }, true);
    expect(placement.getProvider(grandchild.uuid)).toMatchObject({ root_provider_uuid: child.uuid, parent_provider_uuid: child.uuid });
    expect(placement.listProviders({ inTree: grandchild.uuid }).map((p) => p.name)).toEqual(['child', 'grandchild']);
    expect(refusal(() => placement.createProvider({ name: 'x', parent_provider_uuid: '99999999-0000-4000-8000-000000000000' })).message).toContain('parent provider UUID does not exist.');
  });
});
