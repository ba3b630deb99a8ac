import { describe, expect, it } from 'vitest';
import { capacityOf, findCandidates, type CandidateRequest, type InventoryUsage, type ProviderNode, type RequestGroup } from './candidates.ts';

const inv = (total: number, extra: Partial<InventoryUsage> = {}): InventoryUsage => ({ total, reserved: 0, min_unit: 1, max_unit: total, step_size: 1, allocation_ratio: 1, used: 0, ...extra });

let nextId = 1;
const provider = (uuid: string, inventories: Record<string, InventoryUsage>, options: { parent?: ProviderNode; traits?: string[]; aggregates?: string[] } = {}): ProviderNode => ({
  id: nextId++,
  uuid,
  parentUuid: options.parent?.uuid ?? null,
  rootUuid: options.parent?.rootUuid ?? uuid,
  traits: new Set(options.traits ?? []),
  aggregates: new Set(options.aggregates ?? []),
  inventories: new Map(Object.entries(inventories)),
});

const group = (suffix: string, resources: Record<string, number>, extra: Partial<RequestGroup> = {}): RequestGroup => ({
  suffix,
  useSameProvider: suffix !== '',
  resources: new Map(Object.entries(resources)),
  traits: { required: [], forbidden: new Set() },
  memberOf: { required: [], forbidden: new Set() },
  inTree: null,
  ...extra,
});

const request = (groups: RequestGroup[], extra: Partial<CandidateRequest> = {}): CandidateRequest => ({
  groups,
  groupPolicy: null,
  limit: null,
  rootRequired: new Set(),
  rootForbidden: new Set(),
  nestedAware: true,
  ...extra,
});

/** Allocation requests as `provider:class=amount` lists, for readable assertions. */
const shape = (result: ReturnType<typeof findCandidates>) => result.allocationRequests.map((a) => a.resources.map((r) => `${r.provider.uuid}:${r.resourceClass}=${r.amount}`).sort());

describe('capacity', () => {
  it('is int((total - reserved) * allocation_ratio), as Placement reports it', () => {
    expect(capacityOf({ total: 16384, reserved: 512, allocation_ratio: 1.5 })).toBe(23808);
    expect(capacityOf({ total: 3, reserved: 0, allocation_ratio: 1.5 })).toBe(4);
    expect(capacityOf({ total: 8, reserved: 0, allocation_ratio: 4.0 })).toBe(32);
  });
});

describe('findCandidates over a nested tree', () => {
  // cn (VCPU, MEMORY_MB) with two NUMA children holding VGPU, one with a trait.
  const cn = provider('cn', { VCPU: inv(8, { max_unit: 8 }), MEMORY_MB: inv(4096) }, { aggregates: ['agg-1'] });
  const gpu0 = provider('gpu0', { VGPU: inv(2) }, { parent: cn });
  const gpu1 = provider('gpu1', { VGPU: inv(4) }, { parent: cn, traits: ['CUSTOM_FAST'] });
  const other = provider('other', { VCPU: inv(4), MEMORY_MB: inv(1024), VGPU: inv(1) });
  const all = [cn, gpu0, gpu1, other];

  it('combines providers of one tree for the unsuffixed group from 1.29', () => {
    const result = findCandidates(all, request([group('', { VCPU: 1, VGPU: 1 })]));
    expect(shape(result)).toEqual([['cn:VCPU=1', 'gpu0:VGPU=1'], ['cn:VCPU=1', 'gpu1:VGPU=1'], ['other:VCPU=1', 'other:VGPU=1']]);
    expect(result.summaries.map((s) => s.uuid)).toEqual(['cn', 'gpu0', 'gpu1', 'other']);
  });

  it('before 1.29 keeps only single-provider-per-tree candidates and their providers', () => {
    const result = findCandidates(all, request([group('', { VCPU: 1, VGPU: 1 })], { nestedAware: false }));
    expect(shape(result)).toEqual([['other:VCPU=1', 'other:VGPU=1']]);
    expect(result.summaries.map((s) => s.uuid)).toEqual(['other']);
  });

  it('checks required traits against the providers of a candidate together', () => {
    const fast = group('', { VCPU: 1, VGPU: 1 }, { traits: { required: [['CUSTOM_FAST']], forbidden: new Set() } });
    expect(shape(findCandidates(all, request([fast])))).toEqual([['cn:VCPU=1', 'gpu1:VGPU=1']]);
    const notFast = group('', { VCPU: 1, VGPU: 1 }, { traits: { required: [], forbidden: new Set(['CUSTOM_FAST']) } });
    expect(shape(findCandidates(all, request([notFast])))).toEqual([['cn:VCPU=1', 'gpu0:VGPU=1'], ['other:VCPU=1', 'other:VGPU=1']]);
  });

  it('matches member_of on a provider or its root in a tree', () => {
    const inAgg = group('', { VGPU: 1 }, { memberOf: { required: [['agg-1']], forbidden: new Set() } });
    expect(shape(findCandidates(all, request([inAgg])))).toEqual([['gpu0:VGPU=1'], ['gpu1:VGPU=1']]);
    const notInAgg = group('', { VGPU: 1 }, { memberOf: { required: [], forbidden: new Set(['agg-1']) } });
    expect(shape(findCandidates(all, request([notInAgg])))).toEqual([['other:VGPU=1']]);
  });

  it('restricts to a tree with in_tree and to roots with root_required', () => {
    expect(shape(findCandidates(all, request([group('', { VGPU: 1 }, { inTree: 'gpu1' })])))).toEqual([['gpu0:VGPU=1'], ['gpu1:VGPU=1']]);
    expect(findCandidates(all, request([group('', { VGPU: 1 }, { inTree: 'missing' })])).allocationRequests).toEqual([]);
    const anchored = findCandidates([...all.slice(0, 3), { ...other, traits: new Set(['COMPUTE_STATUS_DISABLED']) }], request([group('', { VCPU: 1 })], { rootForbidden: new Set(['COMPUTE_STATUS_DISABLED']) }));
    expect(shape(anchored)).toEqual([['cn:VCPU=1']]);
  });

  it('gives suffixed groups one provider each; isolate keeps them on different providers', () => {
    const groups = [group('1', { VGPU: 1 }), group('2', { VGPU: 1 })];
    const none = findCandidates(all, request(groups, { groupPolicy: 'none' }));
    // Both groups may land on one provider; swapping which group gets which GPU is a distinct
    // candidate (its mappings differ); two VGPU on `other` (capacity 1) do not fit.
    expect(shape(none)).toEqual([['gpu0:VGPU=2'], ['gpu0:VGPU=1', 'gpu1:VGPU=1'], ['gpu0:VGPU=1', 'gpu1:VGPU=1'], ['gpu1:VGPU=2']]);
    const isolate = findCandidates(all, request(groups, { groupPolicy: 'isolate' }));
    expect(shape(isolate)).toEqual([['gpu0:VGPU=1', 'gpu1:VGPU=1'], ['gpu0:VGPU=1', 'gpu1:VGPU=1']]);
    expect(isolate.allocationRequests.map((a) => [...a.mappings].map(([s, ps]) => `${s}:${[...ps].join('+')}`))).toEqual([
      ['1:gpu0', '2:gpu1'],
      ['1:gpu1', '2:gpu0'],
    ]);
  });

  it('drops a folded candidate whose summed amount no longer fits', () => {
    // other has VGPU 1: each group alone fits, both on it do not.
    const result = findCandidates([other], request([group('1', { VGPU: 1 }), group('2', { VGPU: 1 })], { groupPolicy: 'none' }));
    expect(result.allocationRequests).toEqual([]);
  });

  it('limits the results and the summaries to the trees kept', () => {
    const result = findCandidates(all, request([group('', { VCPU: 1 })], { limit: 1 }));
    expect(shape(result)).toEqual([['cn:VCPU=1']]);
    expect(result.summaries.map((s) => s.uuid)).toEqual(['cn', 'gpu0', 'gpu1']);
  });

  it('applies capacity, min_unit, max_unit and step_size per class', () => {
    const used = provider('used', { VCPU: inv(4, { used: 3, allocation_ratio: 1.0 }), DISK_GB: inv(100, { min_unit: 10, step_size: 10 }) });
    expect(findCandidates([used], request([group('', { VCPU: 2 })])).allocationRequests).toEqual([]);
    expect(findCandidates([used], request([group('', { VCPU: 1 })])).allocationRequests).toHaveLength(1);
    expect(findCandidates([used], request([group('', { DISK_GB: 15 })])).allocationRequests).toEqual([]);
    expect(findCandidates([used], request([group('', { DISK_GB: 5 })])).allocationRequests).toEqual([]);
    expect(findCandidates([used], request([group('', { DISK_GB: 20 })])).allocationRequests).toHaveLength(1);
  });
});
