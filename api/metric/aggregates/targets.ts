/**
 * What an aggregates request reads: metrics by id, or the metrics of the resources a search
 * finds (by name pattern), each visible to the caller only (another project's metric or
 * resource answers exactly like a missing one). Experimental.
 */
import type { TokenInfo } from '../../../core/index.ts';
import {
  fnmatchRegExp,
  normalizeUuid,
  parseResourceFilter,
  resourceUuid,
  searchResources,
  selectMetricsByIds,
  selectResourcesMetrics,
  type MetricRow,
  type ResourceRow,
  type ResourceType,
} from '../../../storage/index.ts';
import type { ApiContext } from '../../context.ts';
import { ApiError } from '../../errors.ts';
import { resourceJson } from '../resource-reads.ts';
import { invalidMetricReferences, unknownMetrics } from './errors.ts';
import { lookupKeys, type MetricReference } from './grammar.ts';
import type { AggregateReference } from './reader.ts';

/** Bounds on one request's resources (pages of the search, and in all). */
export const RESOURCE_PAGE_SIZE = 1000;
export const MAX_AGGREGATED_RESOURCES = 10_000;

/**
 * The metric ids an operation names, resolved for this caller: a malformed id is a 400, an
 * id that does not exist or that the caller may not see a 404 (the same one). Returns the
 * references (keys use the normalised id) and the metrics, by id.
 */
export async function metricIdReferences(context: ApiContext, identity: TokenInfo, references: readonly MetricReference[]): Promise<{ refs: AggregateReference[]; metrics: MetricRow[]; normalise: (id: string) => string }> {
  const ids = new Map<string, string>();
  for (const ref of references) {
    const id = normalizeUuid(ref.name);
    if (id === null) throw invalidMetricReferences(`badly formed hexadecimal UUID string: ${JSON.stringify(ref.name)}; expected metric ids`, lookupKeys(references));
    ids.set(ref.name, id);
  }
  const project = context.access.readableProject('metric', identity);
  const unique = [...new Set(ids.values())];
  const rows = await context.store.query<MetricRow>(selectMetricsByIds(unique, project));
  const byId = new Map(rows.map((r) => [String(r.id).toLowerCase(), r]));
  const missing = unique.filter((id) => !byId.has(id));
  if (missing.length > 0) throw unknownMetrics(missing);
  const normalise = (name: string) => ids.get(name) ?? name;
  const refs: AggregateReference[] = [];
  for (const ref of references) {
    const id = normalise(ref.name);
    if (refs.some((r) => r.name === id && r.aggregation === ref.aggregation)) continue;
    const metric = byId.get(id) as MetricRow;
    refs.push({ key: [id, ref.aggregation], name: id, aggregation: ref.aggregation, metric, policy: context.policyStore.resolver.policy(metric.archive_policy_name) });
  }
  return { refs, metrics: unique.map((id) => byId.get(id) as MetricRow), normalise };
}

/** The resource type by name; `status` is what Gnocchi answers for an unknown one (400 in /aggregates, 404 in /aggregation). */
export function resourceTypeOf(context: ApiContext, name: string, status: 400 | 404): ResourceType {
  const type = context.resourceTypes.find(name);
  if (!type) throw new ApiError('CUMULUS_API_RESOURCE_TYPE_NOT_FOUND', status, `Resource type ${name} does not exist`);
  return type;
}

/** A search as the body or the `filter=` parameter gives it: the JSON tree, or the query-string form. */
export function searchFilter(search: unknown): unknown {
  if (search === undefined || search === null) return null;
  if (typeof search === 'string') return search.trim() === '' ? null : parseResourceFilter(search);
  return search;
}

/** Every resource of the type the search finds that the caller may see, in id order. */
export async function findResources(context: ApiContext, identity: TokenInfo, type: ResourceType, filter: unknown): Promise<ResourceRow[]> {
  const project = context.access.readableProject('resource', identity);
  const out: ResourceRow[] = [];
  for (;;) {
    const last = out[out.length - 1];
    const page = await context.store.query<ResourceRow>(searchResources({ type, filter, projectId: project, limit: RESOURCE_PAGE_SIZE, ...(last ? { marker: { id: last.id } } : {}) }));
    out.push(...page);
    if (out.length > MAX_AGGREGATED_RESOURCES) {
      throw new ApiError('CUMULUS_API_AGGREGATES_TOO_MANY_RESOURCES', 400, `The search finds more than ${MAX_AGGREGATED_RESOURCES} resources; expected at most that many: narrow the search`);
    }
    if (page.length < RESOURCE_PAGE_SIZE) return out;
  }
}

/** The visible metrics of these resources, by stored resource id, by name. */
export async function resourcesMetrics(context: ApiContext, identity: TokenInfo, resources: readonly ResourceRow[]): Promise<Map<string, MetricRow[]>> {
  const out = new Map<string, MetricRow[]>();
  if (resources.length === 0) return out;
  const project = context.access.readableProject('metric', identity);
  for (const row of await context.store.query<MetricRow>(selectResourcesMetrics(resources.map((r) => r.id), project))) {
    const list = out.get(row.resource_id);
    if (list) list.push(row);
    else out.set(row.resource_id, [row]);
  }
  return out;
}

/**
 * Gnocchi's _get_measures_by_name: for each resource, each (pattern, aggregation), each of
 * its metrics whose name fnmatches the pattern (a metric two patterns match is two
 * references, as there: each pattern's metric node selects its own).
 */
export function resourceReferences(context: ApiContext, resources: readonly ResourceRow[], metrics: ReadonlyMap<string, readonly MetricRow[]>, patterns: readonly MetricReference[]): AggregateReference[] {
  const matchers = patterns.map((p) => ({ ...p, regexp: fnmatchRegExp(p.name) }));
  const refs: AggregateReference[] = [];
  for (const resource of resources) {
    for (const pattern of matchers) {
      for (const metric of metrics.get(resource.id) ?? []) {
        if (!pattern.regexp.test(metric.name)) continue;
        refs.push({ key: [pattern.name, pattern.aggregation], name: metric.name, aggregation: pattern.aggregation, metric, policy: context.policyStore.resolver.policy(metric.archive_policy_name), resource });
      }
    }
  }
  return refs;
}

/** The fields a resource can be grouped by: its own, and its type's attributes (Gnocchi's sort keys). */
const GROUPABLE_FIELDS = ['id', 'original_resource_id', 'type', 'project_id', 'user_id', 'created_by_user_id', 'created_by_project_id', 'creator', 'started_at', 'ended_at', 'revision_start', 'revision_end'];

/** The first groupby field the type has not, or undefined when all are known. */
export function unknownGroupField(type: ResourceType, groupby: readonly string[]): string | undefined {
  return groupby.find((field) => !GROUPABLE_FIELDS.includes(field) && !Object.hasOwn(type.attributes, field));
}

/** A resource as Gnocchi shows it (the UUID as id), with its metrics. */
export function resourceView(context: ApiContext, row: ResourceRow, metrics: readonly MetricRow[]): Record<string, unknown> {
  return resourceJson(row, context.resourceTypes.find(row.type), metrics, true);
}

type GroupValue = string | number | boolean | null;

const compareValues = (a: GroupValue, b: GroupValue): number => {
  if (a === b) return 0;
  // Unset values last, as PostgreSQL sorts them ascending.
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
};

/**
 * The resources grouped by the fields' values, groups in ascending order of those values
 * (Gnocchi sorts the search by them and groups neighbours).
 */
export function groupResources(context: ApiContext, resources: readonly ResourceRow[], groupby: readonly string[]): Array<{ group: Record<string, GroupValue>; resources: ResourceRow[] }> {
  const keyed = resources.map((row) => {
    const view = resourceView(context, row, []);
    const values = groupby.map((field) => {
      const v = view[field];
      return (v === undefined ? null : typeof v === 'object' && v !== null ? JSON.stringify(v) : v) as GroupValue;
    });
    return { row, values };
  });
  keyed.sort((a, b) => {
    for (let i = 0; i < groupby.length; i++) {
      const c = compareValues(a.values[i] as GroupValue, b.values[i] as GroupValue);
      if (c !== 0) return c;
    }
    return 0;
  });
  const groups: Array<{ group: Record<string, GroupValue>; resources: ResourceRow[]; key: string }> = [];
  for (const { row, values } of keyed) {
    const key = JSON.stringify(values);
    const last = groups[groups.length - 1];
    if (last && last.key === key) last.resources.push(row);
    else groups.push({ key, group: Object.fromEntries(groupby.map((f, i) => [f, values[i] as GroupValue])), resources: [row] });
  }
  return groups.map(({ group, resources: rows }) => ({ group, resources: rows }));
}

/** The measures map key of a resource: the UUID Gnocchi shows for it. */
export const resourceKey = (row: ResourceRow): string => resourceUuid(row.id);
