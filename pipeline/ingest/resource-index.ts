/**
 * The metric and resource index, fed from samples and events: Gnocchi's resources with
 * their revisions, in ClickHouse (`metrics`, `resources` = current revisions,
 * `resource_history` = closed ones). Experimental API.
 *
 * - A metric row is written once, on the first sample of (resource, name).
 * - A resource is created on its first sample with the type and attributes Ceilometer's
 *   gnocchi_resources.yaml gives its meter; a later sample that changes an attribute (a
 *   resize changes flavor_id) opens a new revision at that sample's timestamp and the
 *   previous one is closed with that timestamp as its revision_end.
 * - Events end resources (ended_at) on the file's delete events, with their associated
 *   resources (an instance's disks and NICs), create them on create events and update
 *   their event attributes on update events.
 *
 * Determinism: revision times come from the data (sample timestamps, event `generated`),
 * never from a clock, and rows are written sorted, so the same input over the same index
 * state writes the same rows; a replayed batch finds them written and writes nothing.
 * Inserts carry the caller's deduplication token plus a digest of the rows (see insert()).
 * What the index knows is cached; an unchanged resource costs no read and no write, and
 * the cache only learns what was written, so a failed batch is recomputed in full.
 */
import { createHash } from 'node:crypto';
import { metricId, type Event, type Logger, type Sample } from '../../core/index.ts';
import { searchResources, selectIndexedMetricIds, selectResourceStates, type ClickHouseDriver, type ResourceRow } from '../../storage/index.ts';
import { attributesJson as sortedJson, historyRow, resourceRow, revisionFromRow, type ClosedResourceRevision, type ResourceRevision } from '../../storage/resource-writes.ts';
import {
  GENERIC_RESOURCE_TYPE,
  builtinResourceType,
  clickHouseTime,
  coerceAttributeValue,
  effectiveAttributes,
  parseTimestampMicros,
  type AttributeValue,
  type ResourceType,
} from '../../storage/resource-types.ts';
import { attributesFromMetadata, resourceEventFor, resourceTypeFor, type ResourceEventRule, type ResourceTypeMapping } from './resource-types.ts';

/** Resources whose last known state is kept in memory; past it the least recently seen go. */
export const DEFAULT_RESOURCE_CACHE_LIMIT = 200_000;
/** Metric ids known to be indexed, kept in memory. */
export const DEFAULT_METRIC_CACHE_LIMIT = 1_000_000;
/** Page size when looking up an ended instance's disks and NICs. */
const ASSOCIATED_PAGE = 1000;
/** Resource fields an event may set; everything else an event carries is an attribute. */
const EVENT_FIELDS = new Set(['id', 'project_id', 'user_id']);

export interface ResourceIndexDeps {
  store: ClickHouseDriver;
  /** The archive policy a new metric is created with (the archive-policy rules' answer). */
  policyForMetric(name: string): string;
  /**
   * The current definition of a resource type (ResourceTypeStore.find); the built-in
   * types when omitted. Only `active` types get new resources.
   */
  resourceType?(name: string): ResourceType | undefined;
  /** Meter -> resource type and attribute sources; Ceilometer's file when omitted. */
  mappingFor?(metricName: string): ResourceTypeMapping;
  /** Where refused attribute values and unusable records are reported (once per kind). */
  logger?: Logger;
  resourceCacheLimit?: number;
  metricCacheLimit?: number;
}

/** Rows one call wrote: 0 everywhere when the input changed nothing. */
export interface IndexWrites {
  metrics: number;
  resources: number;
  revisions: number;
}

export interface ResourceIndex {
  /**
   * Indexes the metrics and resources of a batch of samples. Rejects when a write failed;
   * the batch may then be retried as is. `dedupToken`: the batch's deduplication token
   * (the sample writer's `group:topic:partition:first-last`).
   */
  indexSamples(samples: readonly Sample[], dedupToken?: string): Promise<IndexWrites>;
  /** Applies Ceilometer's resource events (create, update, delete) of a batch of events. */
  indexEvents(events: readonly Event[], dedupToken?: string): Promise<IndexWrites>;
}

/** A resource's revision as the index works with it (attributes: effective values, fills applied). */
type ResourceState = ResourceRevision;

type ClosedRevision = ClosedResourceRevision;

/** Insertion-ordered map used as an LRU: a hit moves the entry to the end. */
class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly limit: number) {}
  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.limit) this.map.delete(this.map.keys().next().value as K);
  }
}

/** What makes two revisions differ: not their times. */
const sameContent = (a: ResourceState, b: ResourceState): boolean =>
  a.type === b.type && a.project_id === b.project_id && a.user_id === b.user_id && a.ended_at === b.ended_at && sortedJson(a.attributes) === sortedJson(b.attributes);

/** The revisions one batch makes, resource by resource. */
class Revisions {
  readonly initial = new Map<string, ResourceState | undefined>();
  readonly current = new Map<string, ResourceState>();
  readonly closed: ClosedRevision[] = [];

  start(id: string, state: ResourceState | undefined): void {
    this.initial.set(id, state);
    if (state) this.current.set(id, state);
  }

  /** A new state for the resource: the previous revision closes where the new one starts. */
  move(next: ResourceState): void {
    const previous = this.current.get(next.id);
    if (previous === next || (previous && sameContent(previous, next))) return;
    // Two states at the same instant are one revision: no zero-length revision is kept.
    if (previous && next.revision_start > previous.revision_start) this.closed.push({ ...previous, revision_end: next.revision_start });
    this.current.set(next.id, next);
  }

  changed(): ResourceState[] {
    return [...this.current.values()].filter((s) => s !== this.initial.get(s.id)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

const byTime = <T extends { at: number; key: string }>(a: T, b: T) => a.at - b.at || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

export function createResourceIndex(deps: ResourceIndexDeps): ResourceIndex {
  const lookupType = deps.resourceType ?? builtinResourceType;
  const mappingFor = deps.mappingFor ?? resourceTypeFor;
  const resources = new Lru<string, ResourceState>(deps.resourceCacheLimit ?? DEFAULT_RESOURCE_CACHE_LIMIT);
  const metrics = new Lru<string, true>(deps.metricCacheLimit ?? DEFAULT_METRIC_CACHE_LIMIT);
  const warned = new Set<string>();
  // One batch at a time: two interleaved batches could each build on a state the other replaces.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  };

  const warnOnce = (key: string, fields: Record<string, unknown>, message: string) => {
    if (warned.has(key) || !deps.logger) return;
    if (warned.size < 10_000) warned.add(key);
    deps.logger.warn(fields, message);
  };

  /** Type definitions, read once per batch (the store is SQLite: cheap, but not free). */
  const typeReader = () => {
    const seen = new Map<string, ResourceType | undefined>();
    return (name: string): ResourceType | undefined => {
      if (!seen.has(name)) seen.set(name, lookupType(name));
      return seen.get(name);
    };
  };

  /** Meter -> mapping, looked up once per meter and batch (a prefix search otherwise, per sample). */
  const mappingReader = () => {
    const seen = new Map<string, ResourceTypeMapping>();
    return (name: string): ResourceTypeMapping => {
      let mapping = seen.get(name);
      if (mapping === undefined) {
        mapping = mappingFor(name);
        seen.set(name, mapping);
      }
      return mapping;
    };
  };

  function stateFromRow(row: ResourceRow, typeOf: (name: string) => ResourceType | undefined): ResourceState {
    // A type gone from the catalogue keeps its stored attributes as they are.
    return revisionFromRow(row, typeOf(row.type));
  }

  async function loadStates(ids: readonly string[], typeOf: (name: string) => ResourceType | undefined): Promise<Map<string, ResourceState>> {
    if (ids.length === 0) return new Map();
    const rows = await deps.store.query<ResourceRow>(selectResourceStates(ids));
    return new Map(rows.map((row) => [row.id, stateFromRow(row, typeOf)]));
  }

  /** Values checked against the type's schema; a value the type refuses is left out and reported. */
  function checkedAttributes(type: ResourceType, raw: Readonly<Record<string, unknown>>, origin: string): Record<string, AttributeValue> {
    const out: Record<string, AttributeValue> = {};
    for (const [name, value] of Object.entries(raw)) {
      const attribute = type.attributes[name];
      if (!attribute) continue;
      const checked = coerceAttributeValue(attribute, value);
      if (checked.ok) {
        if (checked.value !== null) out[name] = checked.value;
      } else {
        warnOnce(`${type.name}.${name}`, { type: type.name, attribute: name, origin }, `resource attribute value left out: expected ${checked.expected}`);
      }
    }
    return out;
  }

  /** A cached state, unless its type's schema changed since (its attributes would read differently). */
  function cached(id: string, typeOf: (name: string) => ResourceType | undefined): ResourceState | undefined {
    const state = resources.get(id);
    if (!state) return undefined;
    const type = typeOf(state.type);
    return type === undefined || type.generation === state.generation ? state : undefined;
  }

  async function insert(table: string, rows: readonly object[], dedupToken: string | undefined): Promise<void> {
    if (rows.length === 0) return;
    // The caller's token alone would also drop a retry that computed different rows (the
    // index changed in between); with a digest of the rows only a true replay is dropped.
    const digest = createHash('sha256').update(rows.map((r) => JSON.stringify(r)).join('\n')).digest('hex').slice(0, 32);
    await deps.store.insert(table, rows, dedupToken === undefined ? {} : { dedupToken: `${dedupToken}:${table}:${digest}` });
  }

  /** Writes a batch's revisions; the cache learns them only once every insert returned. */
  async function persist(revisions: Revisions, metricRows: readonly object[], dedupToken: string | undefined): Promise<IndexWrites> {
    const changed = revisions.changed();
    const closed = [...revisions.closed].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.revision_start - b.revision_start));
    // 1. metrics: a measure written after this batch always finds its metric.
    await insert('metrics', metricRows, dedupToken);
    // 2. closed revisions before current ones: a replay decides what to close from the
    //    current row it reads, so a crash between the two must leave the old current row.
    await insert('resource_history', closed.map(historyRow), dedupToken);
    // 3. current revisions.
    await insert('resources', changed.map(resourceRow), dedupToken);
    for (const state of revisions.current.values()) resources.set(state.id, state);
    return { metrics: metricRows.length, resources: changed.length, revisions: closed.length };
  }

  // -------------------------------------------------------------------------------------
  // Samples.

  interface TimedSample {
    sample: Sample;
    at: number;
    key: string;
  }

  /**
   * The state a sample leads to (the same object when it changes nothing). `raw`: the
   * sample's attribute values as found, in the order of `mapping.sources`.
   */
  function sampleStep(current: ResourceState | undefined, { sample, at }: TimedSample, mapping: ResourceTypeMapping, raw: Readonly<Record<string, unknown>>, typeOf: (name: string) => ResourceType | undefined): ResourceState {
    const mapped = typeOf(mapping.type);
    if (!current) {
      // New resources only go to active types; otherwise they are generic until the type is back.
      const type = mapped?.state === 'active' ? mapped : (typeOf(GENERIC_RESOURCE_TYPE) ?? (builtinResourceType(GENERIC_RESOURCE_TYPE) as ResourceType));
      return {
        id: sample.resource_id,
        type: type.name,
        project_id: sample.project_id ?? '',
        user_id: sample.user_id ?? '',
        started_at: at,
        ended_at: null,
        revision_start: at,
        generation: type.generation,
        attributes: type.name === mapping.type ? checkedAttributes(type, raw, sample.name) : {},
      };
    }
    // A resource first seen through a meter Gnocchi files as generic takes its specific type
    // when one shows up; a specific type is kept (a meter of another family does not move it).
    const promoted = current.type === GENERIC_RESOURCE_TYPE && mapping.type !== GENERIC_RESOURCE_TYPE && mapped?.state === 'active';
    const type = promoted ? mapped : typeOf(current.type);
    const observed = type && type.name === mapping.type ? checkedAttributes(type, raw, sample.name) : {};
    // Owners are set when the resource is created; a sample only fills them in when unknown.
    const projectId = current.project_id || (sample.project_id ?? '');
    const userId = current.user_id || (sample.user_id ?? '');
    let changed = promoted || projectId !== current.project_id || userId !== current.user_id;
    // Values are scalars, so === compares them.
    for (const name in observed) if (current.attributes[name] !== observed[name]) changed = true;
    if (!changed) return current;
    return {
      ...current,
      type: promoted ? mapping.type : current.type,
      generation: type?.generation ?? current.generation,
      project_id: projectId,
      user_id: userId,
      // Attributes merge: a sample without some (a poll has no image_ref) keeps the known ones.
      attributes: { ...(promoted ? {} : current.attributes), ...observed },
      revision_start: at,
    };
  }

  /**
   * Runs one resource's samples (in time order) over its state; with `revisions`, records
   * each change. A sample older than the current revision never rewrites it (a late poll
   * must not undo a resize that newer samples already showed). A sample whose meter,
   * owners and values repeat the previous applied one's cannot change anything and is
   * skipped without checking its values again: most of a batch is such samples.
   */
  function replay(initial: ResourceState | undefined, list: readonly TimedSample[], typeOf: (name: string) => ResourceType | undefined, mappingOf: (name: string) => ResourceTypeMapping, revisions: Revisions | null): ResourceState | undefined {
    let state = initial;
    let last: { mapping: ResourceTypeMapping; raw: Record<string, unknown>; project: string | null; user: string | null } | null = null;
    for (const t of list) {
      if (state && t.at < state.revision_start) continue;
      const mapping = mappingOf(t.sample.name);
      const raw = attributesFromMetadata(mapping, t.sample.resource_metadata);
      if (state && last && last.mapping === mapping && last.project === t.sample.project_id && last.user === t.sample.user_id && sameRaw(last.raw, raw)) continue;
      const next = sampleStep(state, t, mapping, raw, typeOf);
      if (next !== state) revisions?.move(next);
      state = next;
      last = { mapping, raw, project: t.sample.project_id, user: t.sample.user_id };
    }
    return state;
  }

  async function indexSamplesNow(samples: readonly Sample[], dedupToken: string | undefined): Promise<IndexWrites> {
    const typeOf = typeReader();
    const mappingOf = mappingReader();
    // A batch repeats the same few timestamps (one poll's samples share it): each is parsed once.
    const times = new Map<string, number | null>();
    const timed: TimedSample[] = [];
    for (const [position, sample] of samples.entries()) {
      let at = times.get(sample.timestamp);
      if (at === undefined) {
        at = parseTimestampMicros(sample.timestamp);
        times.set(sample.timestamp, at);
      }
      if (at === null) warnOnce(`timestamp:${sample.name}`, { sample: sample.id, timestamp: sample.timestamp }, 'sample left out of the resource index: its timestamp is not ISO 8601');
      else timed.push({ sample, at, key: String(position).padStart(12, '0') });
    }
    // Time order, then the batch's (the stream's) order: samples sharing an instant apply as
    // they were emitted, so a resize whose notifications share one timestamp ends on the new
    // flavor (finish_resize after resize.start). A replayed batch comes in the same order.
    timed.sort(byTime);

    // Metrics: the earliest sample of each new one describes it (ids hashed once per pair).
    const firstOfMetric = new Map<string, TimedSample>();
    const seenPairs = new Set<string>();
    for (const t of timed) {
      const pair = `${t.sample.resource_id}\u001f${t.sample.name}`;
      if (seenPairs.has(pair)) continue;
      seenPairs.add(pair);
      const id = metricId(t.sample.resource_id, t.sample.name);
      if (metrics.get(id) === undefined) firstOfMetric.set(id, t);
    }
    const indexedMetrics = firstOfMetric.size === 0 ? [] : (await deps.store.query<{ id: string }>(selectIndexedMetricIds([...firstOfMetric.keys()]))).map((r) => r.id);
    for (const id of indexedMetrics) {
      firstOfMetric.delete(id);
      metrics.set(id, true);
    }
    const metricRows = [...firstOfMetric.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([id, { sample, at }]) => ({
        id,
        name: sample.name,
        resource_id: sample.resource_id,
        project_id: sample.project_id ?? '',
        user_id: sample.user_id ?? '',
        unit: sample.unit,
        archive_policy_name: deps.policyForMetric(sample.name),
        created_at: clickHouseTime(at).slice(0, -3),
      }));

    // Resources: a cached one the batch leaves as it is costs nothing; the others are read.
    const byResource = new Map<string, TimedSample[]>();
    for (const t of timed) {
      const list = byResource.get(t.sample.resource_id);
      if (list) list.push(t);
      else byResource.set(t.sample.resource_id, [t]);
    }
    const toRead: string[] = [];
    const unchanged: ResourceState[] = [];
    for (const [id, list] of byResource) {
      const known = cached(id, typeOf);
      if (known && replay(known, list, typeOf, mappingOf, null) === known) unchanged.push(known);
      else toRead.push(id);
    }
    // Changes are built on the store's current row, not only on the cache: another
    // process (or the events consumer) may have written a newer revision.
    const stored = await loadStates(toRead, typeOf);
    const revisions = new Revisions();
    for (const id of toRead.sort()) {
      revisions.start(id, stored.get(id));
      replay(stored.get(id), byResource.get(id) as TimedSample[], typeOf, mappingOf, revisions);
    }

    const writes = await persist(revisions, metricRows, dedupToken);
    for (const row of metricRows) metrics.set(row.id, true);
    for (const state of unchanged) resources.set(state.id, state);
    return writes;
  }

  // -------------------------------------------------------------------------------------
  // Events.

  interface ResourceEvent {
    rule: ResourceEventRule;
    operation: 'create' | 'update' | 'delete';
    id: string;
    fields: Record<string, unknown>;
    at: number;
    key: string;
  }

  function parseEvent(event: Event): ResourceEvent | null {
    const match = resourceEventFor(event.event_type);
    if (!match) return null;
    const traits = new Map(event.traits.map((t) => [t.name, t.value]));
    const fields: Record<string, unknown> = {};
    for (const [field, trait] of Object.entries(match.rule.attributes)) {
      const value = traits.get(trait);
      if (value !== undefined && value !== null) fields[field] = value;
    }
    const at = parseTimestampMicros(event.generated);
    if (typeof fields.id !== 'string' || fields.id === '' || at === null) {
      warnOnce(`event:${event.event_type}`, { event_type: event.event_type, message_id: event.message_id }, `event left out of the resource index: expected a ${match.rule.attributes.id} trait and an ISO 8601 generated time`);
      return null;
    }
    return { ...match, id: fields.id, fields, at, key: event.message_id };
  }

  /** The associated resources (an instance's disks and NICs) still running, by owner id. */
  async function associatedOf(found: readonly ResourceEvent[], typeOf: (name: string) => ResourceType | undefined): Promise<Map<string, string[]>> {
    const owners = new Map<string, string[]>();
    const wanted = new Map<string, { attribute: string; ids: Set<string> }>();
    for (const e of found) {
      if (e.operation === 'create') continue;
      for (const [type, attribute] of Object.entries(e.rule.associated)) {
        const entry = wanted.get(type) ?? { attribute, ids: new Set<string>() };
        entry.ids.add(e.id);
        wanted.set(type, entry);
      }
    }
    for (const [typeName, { attribute, ids }] of wanted) {
      const type = typeOf(typeName);
      const definition = type?.attributes[attribute];
      if (!type || !definition) continue;
      // The owner ids as the attribute stores them (a UUID attribute holds canonical UUIDs).
      const normalized = new Map<string, string>();
      for (const id of ids) {
        const checked = coerceAttributeValue(definition, id);
        if (checked.ok && typeof checked.value === 'string') normalized.set(checked.value, id);
      }
      if (normalized.size === 0) continue;
      let marker: string | undefined;
      for (;;) {
        const rows = await deps.store.query<ResourceRow>(
          searchResources({ type, projectId: null, limit: ASSOCIATED_PAGE, ...(marker === undefined ? {} : { marker: { id: marker } }), filter: { and: [{ in: { [attribute]: [...normalized.keys()] } }, { '=': { ended_at: null } }] } }),
        );
        for (const row of rows) {
          const value = effectiveAttributes(type, JSON.parse(row.attributes || '{}') as Record<string, unknown>, Number(row.type_generation))[attribute];
          const owner = typeof value === 'string' ? normalized.get(value) : undefined;
          if (owner !== undefined) owners.set(owner, [...(owners.get(owner) ?? []), row.id].sort());
        }
        if (rows.length < ASSOCIATED_PAGE) break;
        marker = (rows[rows.length - 1] as ResourceRow).id;
      }
    }
    return owners;
  }

  async function indexEventsNow(events: readonly Event[], dedupToken: string | undefined): Promise<IndexWrites> {
    const typeOf = typeReader();
    const found = events.map(parseEvent).filter((e): e is ResourceEvent => e !== null).sort(byTime);
    if (found.length === 0) return { metrics: 0, resources: 0, revisions: 0 };
    const associated = await associatedOf(found, typeOf);
    const ids = [...new Set([...found.map((e) => e.id), ...[...associated.values()].flat()])].sort();
    // Events are rare and authoritative: they always build on the store's current rows.
    const stored = await loadStates(ids, typeOf);
    const revisions = new Revisions();
    for (const id of ids) revisions.start(id, stored.get(id));

    for (const e of found) {
      const current = revisions.current.get(e.id);
      if (e.operation === 'create') {
        // As Ceilometer: a create event for a resource the index has changes nothing.
        const type = typeOf(e.rule.type);
        if (current || type?.state !== 'active') continue;
        revisions.move({
          id: e.id,
          type: type.name,
          project_id: typeof e.fields.project_id === 'string' ? e.fields.project_id : '',
          user_id: typeof e.fields.user_id === 'string' ? e.fields.user_id : '',
          started_at: e.at,
          ended_at: null,
          revision_start: e.at,
          generation: type.generation,
          attributes: checkedAttributes(type, eventAttributes(e.fields), e.rule.type),
        });
      } else if (e.operation === 'update') {
        // As Ceilometer: an update of a resource the index does not have is ignored.
        if (!current) continue;
        const type = typeOf(current.type);
        revisions.move({
          ...current,
          project_id: typeof e.fields.project_id === 'string' && e.fields.project_id !== '' ? e.fields.project_id : current.project_id,
          user_id: typeof e.fields.user_id === 'string' && e.fields.user_id !== '' ? e.fields.user_id : current.user_id,
          attributes: type ? { ...current.attributes, ...checkedAttributes(type, eventAttributes(e.fields), e.rule.type) } : current.attributes,
          // An event older than the current revision still applies, from that revision on.
          revision_start: Math.max(e.at, current.revision_start),
        });
      } else {
        // Delete: the resource and its associated ones end when the event was generated;
        // a resource already ended keeps its first end.
        for (const id of [e.id, ...(associated.get(e.id) ?? [])]) {
          const state = revisions.current.get(id);
          if (!state || state.ended_at !== null) continue;
          revisions.move({ ...state, ended_at: Math.max(e.at, state.started_at), revision_start: Math.max(e.at, state.revision_start) });
        }
      }
    }
    return persist(revisions, [], dedupToken);
  }

  return {
    indexSamples: (samples, dedupToken) => exclusive(() => indexSamplesNow(samples, dedupToken)),
    indexEvents: (events, dedupToken) => exclusive(() => indexEventsNow(events, dedupToken)),
  };
}

/** An event's attribute values: its fields without the resource's own (id, owners). */
function eventAttributes(fields: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([name]) => !EVENT_FIELDS.has(name)));
}

/** Two samples' attribute values as found: the same scalars (objects only when the same object). */
function sameRaw(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): boolean {
  let count = 0;
  for (const name in a) {
    if (a[name] !== b[name]) return false;
    count += 1;
  }
  for (const _name in b) count -= 1;
  return count === 0;
}
