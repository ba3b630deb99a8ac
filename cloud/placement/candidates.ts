import type { AggregateFilter, TraitFilter } from './query-params.ts';

/** One inventory of a provider with what is allocated against it. */
export interface InventoryUsage {
  total: number;
  reserved: number;
  min_unit: number;
  max_unit: number;
  step_size: number;
  allocation_ratio: number;
  used: number;
}

/** A provider as the search sees it: its place in a tree, traits, aggregates and inventories. */
export interface ProviderNode {
  id: number;
  uuid: string;
  parentUuid: string | null;
  rootUuid: string;
  traits: ReadonlySet<string>;
  aggregates: ReadonlySet<string>;
  /** By resource class name. */
  inventories: ReadonlyMap<string, InventoryUsage>;
}

/** One request group: the unsuffixed one may spread over a provider tree; suffixed ones need one provider. */
export interface RequestGroup {
  suffix: string;
  useSameProvider: boolean;
  resources: ReadonlyMap<string, number>;
  traits: TraitFilter;
  memberOf: AggregateFilter;
  inTree: string | null;
}

export interface CandidateRequest {
  groups: readonly RequestGroup[];
  groupPolicy: 'none' | 'isolate' | null;
  limit: number | null;
  /** root_required (1.35): traits the root of every candidate's tree must have / must not have. */
  rootRequired: ReadonlySet<string>;
  rootForbidden: ReadonlySet<string>;
  /** From 1.29 a candidate may take resources from several providers of one tree. */
  nestedAware: boolean;
}

export interface AllocationRequestResource {
  provider: ProviderNode;
  resourceClass: string;
  amount: number;
}

export interface AllocationRequest {
  anchorRootUuid: string;
  resources: AllocationRequestResource[];
  /** Request group suffix to the providers that satisfied it (1.34). */
  mappings: Map<string, Set<string>>;
}

export interface CandidateResult {
  allocationRequests: AllocationRequest[];
  /** Every provider of every tree an allocation request draws from. */
  summaries: ProviderNode[];
}

/** Capacity as Placement reports and checks it: `int((total - reserved) * allocation_ratio)`. */
export const capacityOf = (inv: Pick<InventoryUsage, 'total' | 'reserved' | 'allocation_ratio'>): number => Math.trunc((inv.total - inv.reserved) * inv.allocation_ratio);

/** Whether `amount` more fits an inventory (research_context._capacity_check_clause, compared as floats like the SQL). */
export const fits = (inv: InventoryUsage, amount: number): boolean =>
  inv.used + amount <= (inv.total - inv.reserved) * inv.allocation_ratio && inv.min_unit <= amount && inv.max_unit >= amount && amount % inv.step_size === 0;

/** Whether a set of traits satisfies an AND of any-of sets. */
const hasRequired = (traits: ReadonlySet<string>, required: readonly string[][]): boolean => required.every((anyOf) => anyOf.some((t) => traits.has(t)));
const hasForbidden = (traits: ReadonlySet<string>, forbidden: ReadonlySet<string>): boolean => [...forbidden].some((t) => traits.has(t));
/** Member of at least one aggregate of every required set. */
const inAggregates = (aggregates: ReadonlySet<string>, required: readonly string[][]): boolean => required.every((anyOf) => anyOf.some((a) => aggregates.has(a)));
const inAnyAggregate = (aggregates: ReadonlySet<string>, forbidden: ReadonlySet<string>): boolean => [...forbidden].some((a) => aggregates.has(a));

function* product<T>(lists: readonly (readonly T[])[]): Generator<T[]> {
  if (lists.length === 0) {
    yield [];
    return;
  }
  const [first, ...rest] = lists as [readonly T[], ...(readonly T[])[]];
  for (const item of first) for (const tail of product(rest)) yield [item, ...tail];
}

const requestKey = (areq: AllocationRequest): string =>
  `${areq.anchorRootUuid}|${areq.resources
    .map((r) => `${r.provider.uuid}:${r.resourceClass}:${r.amount}`)
    .sort()
    .join(',')}|${[...areq.mappings]
    .map(([s, ps]) => `${s}=${[...ps].sort().join('+')}`)
    .sort()
    .join(';')}`;

/**
 * GET /allocation_candidates (placement/objects/allocation_candidate.py): for each request
 * group the allocation requests that satisfy it, combined per tree so each result satisfies
 * every group, filtered by group_policy and by capacity once amounts are folded together,
 * then limited. Sharing providers (MISC_SHARES_VIA_AGGREGATE) are not modelled: a group is
 * satisfied within one provider tree.
 */
export function findCandidates(providers: readonly ProviderNode[], request: CandidateRequest): CandidateResult {
  const byUuid = new Map(providers.map((p) => [p.uuid, p]));
  const rootOf = (p: ProviderNode) => byUuid.get(p.rootUuid) as ProviderNode;
  const hasTrees = providers.some((p) => p.parentUuid !== null);

  // The root_required filter narrows the trees candidates may anchor in.
  let anchors: Set<string> | null = null;
  if (request.rootRequired.size > 0 || request.rootForbidden.size > 0) {
    anchors = new Set(
      providers
        .filter((p) => p.parentUuid === null && [...request.rootRequired].every((t) => p.traits.has(t)) && !hasForbidden(p.traits, request.rootForbidden))
        .map((p) => p.uuid),
    );
    if (anchors.size === 0) return { allocationRequests: [], summaries: [] };
  }

  const bySuffix = new Map<string, AllocationRequest[]>();
  for (const group of request.groups) {
    const found = candidatesForGroup(group);
    // Any group without a match means no candidate at all.
    if (found.length === 0) return { allocationRequests: [], summaries: [] };
    bySuffix.set(group.suffix, found);
  }

  function candidatesForGroup(group: RequestGroup): AllocationRequest[] {
    let pool = providers;
    if (group.inTree !== null) {
      const member = byUuid.get(group.inTree);
      if (!member) return [];
      pool = pool.filter((p) => p.rootUuid === member.rootUuid);
    }
    if (anchors) {
      const allowed = anchors;
      pool = pool.filter((p) => allowed.has(p.rootUuid));
    }
    const withResource = (rc: string, amount: number) => pool.filter((p) => {
      const inv = p.inventories.get(rc);
      return inv !== undefined && fits(inv, amount);
    });
    const resources = [...group.resources];

    if (group.useSameProvider || !hasTrees) {
      // One provider satisfies the whole group: its own traits and aggregates count.
      const single = pool.filter(
        (p) =>
          resources.every(([rc, amount]) => {
            const inv = p.inventories.get(rc);
            return inv !== undefined && fits(inv, amount);
          }) &&
          hasRequired(p.traits, group.traits.required) &&
          !hasForbidden(p.traits, group.traits.forbidden) &&
          inAggregates(p.aggregates, group.memberOf.required) &&
          !inAnyAggregate(p.aggregates, group.memberOf.forbidden),
      );
      return single.map((p) => ({
        anchorRootUuid: p.rootUuid,
        resources: resources.map(([resourceClass, amount]) => ({ provider: p, resourceClass, amount })),
        mappings: new Map([[group.suffix, new Set([p.uuid])]]),
      }));
    }

    // The unsuffixed group over provider trees: each class from any provider of one tree,
    // aggregates matched by the provider or its root, traits by the providers together.
    const perClass = resources.map(([rc, amount]) => {
      const ok = withResource(rc, amount).filter((p) => {
        const root = rootOf(p);
        const aggs = new Set([...p.aggregates, ...root.aggregates]);
        return inAggregates(aggs, group.memberOf.required) && !inAnyAggregate(p.aggregates, group.memberOf.forbidden) && !inAnyAggregate(root.aggregates, group.memberOf.forbidden);
      });
      return { rc, amount, providers: ok };
    });
    const trees = perClass.reduce<Set<string> | null>((common, entry) => {
      const roots = new Set(entry.providers.map((p) => p.rootUuid));
      return common === null ? roots : new Set([...common].filter((r) => roots.has(r)));
    }, null);
    const results: AllocationRequest[] = [];
    for (const root of providers.filter((p) => p.parentUuid === null && trees?.has(p.uuid))) {
      const choices = perClass.map((entry) => entry.providers.filter((p) => p.rootUuid === root.uuid).map((provider) => ({ provider, resourceClass: entry.rc, amount: entry.amount })));
      for (const combo of product(choices)) {
        const involved = new Set(combo.map((r) => r.provider));
        if ([...involved].some((p) => hasForbidden(p.traits, group.traits.forbidden))) continue;
        const traits = new Set([...involved].flatMap((p) => [...p.traits]));
        if (!hasRequired(traits, group.traits.required)) continue;
        results.push({ anchorRootUuid: root.uuid, resources: combo, mappings: new Map([[group.suffix, new Set(combo.map((r) => r.provider.uuid))]]) });
      }
    }
    return results;
  }

  // Fold the groups together tree by tree: one allocation request from each group.
  const granular = request.groups.filter((g) => g.useSameProvider);
  const merged = new Map<string, AllocationRequest>();
  const anchorOrder = [...new Set(providers.map((p) => p.rootUuid))];
  for (const anchor of anchorOrder) {
    const lists = request.groups.map((g) => (bySuffix.get(g.suffix) ?? []).filter((a) => a.anchorRootUuid === anchor));
    if (lists.some((l) => l.length === 0)) continue;
    for (const combo of product(lists)) {
      if (request.groupPolicy === 'isolate') {
        const used = new Set(combo.filter((_, i) => request.groups[i]?.useSameProvider).flatMap((a) => [...a.mappings.values()].flatMap((s) => [...s])));
        if (used.size !== granular.length) continue;
      }
      const folded = new Map<string, AllocationRequestResource>();
      const mappings = new Map<string, Set<string>>();
      for (const areq of combo) {
        for (const r of areq.resources) {
          const key = `${r.provider.uuid}\u0000${r.resourceClass}`;
          const seen = folded.get(key);
          folded.set(key, seen ? { ...seen, amount: seen.amount + r.amount } : { ...r });
        }
        for (const [suffix, ps] of areq.mappings) mappings.set(suffix, new Set([...(mappings.get(suffix) ?? []), ...ps]));
      }
      const resources = [...folded.values()];
      // Amounts of one class from one provider asked by several groups must fit together.
      const exceeds = resources.some((r) => {
        const inv = r.provider.inventories.get(r.resourceClass) as InventoryUsage;
        return inv.used + r.amount > capacityOf(inv) || r.amount > inv.max_unit;
      });
      if (exceeds) continue;
      const areq = { anchorRootUuid: anchor, resources, mappings };
      const key = requestKey(areq);
      if (!merged.has(key)) merged.set(key, areq);
    }
  }
  let allocationRequests = [...merged.values()];

  // Before 1.29 a candidate may not combine providers of one tree.
  const usedProviders = (list: readonly AllocationRequest[]) => new Set(list.flatMap((a) => a.resources.map((r) => r.provider.uuid)));
  let onlyProviders: Set<string> | null = null;
  if (!request.nestedAware && hasTrees) {
    allocationRequests = allocationRequests.filter((a) => {
      const distinct = new Set(a.resources.map((r) => r.provider));
      return distinct.size === new Set([...distinct].map((p) => p.rootUuid)).size;
    });
    onlyProviders = usedProviders(allocationRequests);
  }
  if (request.limit !== null && request.limit < allocationRequests.length) allocationRequests = allocationRequests.slice(0, request.limit);
  if (allocationRequests.length === 0) return { allocationRequests: [], summaries: [] };

  const trees = new Set(allocationRequests.flatMap((a) => a.resources.map((r) => r.provider.rootUuid)));
  const keep = onlyProviders;
  const summaries = providers.filter((p) => trees.has(p.rootUuid) && (keep === null || keep.has(p.uuid)));
  return { allocationRequests, summaries };
}
