/**
 * Usage extraction: the metering data of one period turned into usage frames, one service
 * at a time. Pure and deterministic: the same rows give the same frames, in the same order.
 *
 * - A resource is rated for the time it existed in the period: from the resource index
 *   (started_at, ended_at and its revisions), or from its create and delete events
 *   (`lifetime` services: floating IPs, held whether attached or not).
 * - Its revisions split that time into parts, each with the metadata in force then (a
 *   resize mid-period gives the old flavor's part and the new one's). Neighbouring parts
 *   with the same owner, metadata and group keys are one part.
 * - Each part is one frame. The frames of a resource partition the period: the first
 *   starts at the period start, each next one where its part starts, each ends where the
 *   next starts (the last at the period end); the quantity is what was used inside.
 *   `rated_usage` is keyed by (project, period_start, service, resource), so every part
 *   keeps its own row, and a frame still belongs to the period its start falls in.
 * - Quantities: presence = hours x factor; gauge = the time-weighted value x hours x
 *   factor, the value being the latest measure at or before each instant (0 before the
 *   first). Whole seconds throughout; quantities rounded to QUANTITY_SCALE places half-even.
 */
import { Money, type UsageEventRow, type UsageFrame, type UsageLifetimeRow, type UsageMeasureRow, type UsageRevisionRow } from '../../storage/index.ts';
import type { ServiceDefinition, ValueSource } from './services.ts';

/** Decimal places of a frame's quantity (rated_usage.quantity is Decimal(38, 9)). */
export const QUANTITY_SCALE = 9;
const SECONDS_PER_HOUR = 3600;

/** One period, [start, end), on whole seconds. */
export interface RatingPeriod {
  readonly start: Date;
  readonly end: Date;
}

/** What the queries returned for one service and period. */
export interface ServiceUsageData {
  /** Revisions (presence and gauge services), sorted by resource then revision start. */
  readonly revisions?: readonly UsageRevisionRow[];
  /** Lifetimes (lifetime services). */
  readonly lifetimes?: readonly UsageLifetimeRow[];
  /** Gauge measures, sorted by resource, metric, time, value. */
  readonly measures?: readonly UsageMeasureRow[];
  /** Events, sorted by resource then time. */
  readonly events?: readonly UsageEventRow[];
}

/** A stretch of a resource's existence with one owner and one revision, in seconds. */
interface Part {
  start: number;
  end: number;
  projectId: string;
  userId: string;
  resourceType: string;
  attributes: Readonly<Record<string, unknown>>;
}

/** A part with its values resolved, and what it used (value x seconds, exact). */
interface ValuedPart {
  start: number;
  end: number;
  projectId: string;
  userId: string;
  resourceType: string;
  metadata: Record<string, string>;
  groupby: Record<string, string>;
  usage: InstanceType<typeof Money>;
}

const byKey = <T>(rows: readonly T[] | undefined, key: (row: T) => string): Map<string, T[]> => {
  const out = new Map<string, T[]>();
  for (const row of rows ?? []) {
    const k = key(row);
    let list = out.get(k);
    if (!list) out.set(k, (list = []));
    list.push(row);
  }
  return out;
};

const parseAttributes = (text: string): Record<string, unknown> => {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};

/** A value as frame metadata holds it: text; numbers in their shortest decimal form; nothing for null, objects, lists. */
function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return new Money(value).toString();
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return undefined;
}

/** Walks a payload path; a list of `{key, value}` pairs (Cinder's metadata) is looked up by key. */
function walk(root: unknown, path: readonly string[]): unknown {
  let node = root;
  for (const key of path) {
    if (Array.isArray(node)) {
      const pair = node.find((item): item is { key: unknown; value: unknown } => typeof item === 'object' && item !== null && (item as { key?: unknown }).key === key);
      node = pair?.value;
    } else if (typeof node === 'object' && node !== null) node = (node as Record<string, unknown>)[key];
    else return undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

/** Events of one resource, with parsed payloads (parsed once, on first use). */
class ResourceEvents {
  private readonly payloads = new Map<number, unknown>();
  constructor(private readonly events: readonly UsageEventRow[]) {}

  /** The latest event strictly before `beforeS` (seconds) that has a value for `read`. */
  latest(beforeS: number, read: (event: UsageEventRow, payload: () => unknown) => unknown): string | undefined {
    const limitUs = BigInt(beforeS) * 1_000_000n;
    for (let i = this.events.length - 1; i >= 0; i--) {
      const event = this.events[i] as UsageEventRow;
      if (BigInt(event.at_us) >= limitUs) continue;
      const value = asText(read(event, () => this.payload(i)));
      if (value !== undefined) return value;
    }
    return undefined;
  }

  private payload(i: number): unknown {
    if (!this.payloads.has(i)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse((this.events[i] as UsageEventRow).payload || 'null');
      } catch {
        parsed = undefined;
      }
      this.payloads.set(i, parsed);
    }
    return this.payloads.get(i);
  }
}

/** A resource's gauge as a step function: the latest measure at or before an instant. */
class Gauge {
  constructor(private readonly points: readonly UsageMeasureRow[]) {}

  /** The value in force strictly before `beforeS` (metadata: what held during a part). */
  before(beforeS: number): string | undefined {
    let found: string | undefined;
    for (const p of this.points) {
      if (p.at_s < beforeS) found = p.value;
      else break;
    }
    return found;
  }

  /** Value x seconds over [start, end): each step from a measure to the next. */
  integral(start: number, end: number): InstanceType<typeof Money> {
    let total = new Money(0);
    let value: string | undefined;
    let at = start;
    for (const p of this.points) {
      if (p.at_s <= start) {
        value = p.value;
        continue;
      }
      if (p.at_s >= end) break;
      if (value !== undefined) total = total.plus(new Money(value).times(p.at_s - at));
      value = p.value;
      at = p.at_s;
    }
    if (value !== undefined) total = total.plus(new Money(value).times(end - at));
    return total;
  }
}

function resolve(sources: readonly ValueSource[], part: Part, gauges: ReadonlyMap<string, Gauge>, events: ResourceEvents | undefined): string | undefined {
  for (const source of sources) {
    let value: string | undefined;
    switch (source.kind) {
      case 'attribute':
        value = asText(part.attributes[source.name]);
        break;
      case 'measure': {
        const text = gauges.get(source.metric)?.before(part.end);
        value = text === undefined ? undefined : new Money(text).toString();
        break;
      }
      case 'trait':
        value = events?.latest(part.end, (e) => e.traits_string[source.name] ?? e.traits_int[source.name]);
        break;
      case 'payload':
        value = events?.latest(part.end, (_e, payload) => walk(payload(), source.path));
        break;
    }
    if (value !== undefined) return value;
  }
  return undefined;
}

/** Operator tags read from the resource's metadata in its latest event's payload. */
const tagSources = (tag: string): ValueSource[] => [
  { kind: 'payload', path: ['metadata', `metering.${tag}`] },
  { kind: 'payload', path: ['metadata', tag] },
  { kind: 'attribute', name: tag },
];

/** The parts of a resource from its revisions, clipped to the period and its lifetime. */
function revisionParts(rows: readonly UsageRevisionRow[], period: { start: number; end: number }): Part[] {
  const started = Math.min(...rows.map((r) => r.started_s));
  const endedAt = rows.map((r) => r.ended_s).filter((e): e is number => e !== null);
  const from = Math.max(period.start, started);
  const to = Math.min(period.end, endedAt.length > 0 ? Math.min(...endedAt) : period.end);
  if (to <= from) return [];
  const sorted = [...rows].sort((a, b) => a.revision_start_s - b.revision_start_s);
  const parts: Part[] = [];
  sorted.forEach((row, i) => {
    // A revision ends where the next begins, whatever its own revision_end says (a replay in
    // progress may briefly show an old current row beside its closed copy).
    const next = sorted[i + 1]?.revision_start_s;
    const ownEnd = row.revision_end_s ?? Number.POSITIVE_INFINITY;
    const start = Math.max(from, row.revision_start_s);
    const end = Math.min(to, ownEnd, next ?? Number.POSITIVE_INFINITY);
    if (end > start) parts.push({ start, end, projectId: row.project_id, userId: row.user_id, resourceType: row.type, attributes: parseAttributes(row.attributes) });
  });
  return parts;
}

const sameValues = (a: Record<string, string>, b: Record<string, string>) => {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
};

function quantityText(usage: InstanceType<typeof Money>, factor: InstanceType<typeof Money>): string {
  return usage.times(factor).div(SECONDS_PER_HOUR).toDecimalPlaces(QUANTITY_SCALE, Money.ROUND_HALF_EVEN).toFixed(QUANTITY_SCALE);
}

/**
 * The frames of one service over one period. `tags` are the operator tags (group keys
 * `tag:<name>`).
 */
export function extractFrames(service: ServiceDefinition, period: RatingPeriod, data: ServiceUsageData, tags: readonly string[] = []): UsageFrame[] {
  const span = { start: Math.floor(period.start.getTime() / 1000), end: Math.floor(period.end.getTime() / 1000) };
  const measures = byKey(data.measures, (m) => m.resource_id);
  const events = byKey(data.events, (e) => e.resource_id);

  // 1. each resource's parts in the period
  const partsByResource = new Map<string, Part[]>();
  if (service.quantity.kind === 'lifetime') {
    for (const life of data.lifetimes ?? []) {
      const start = Math.max(span.start, life.started_s);
      const end = Math.min(span.end, life.ended_s ?? span.end);
      if (end > start) partsByResource.set(life.resource_id, [{ start, end, projectId: life.project_id, userId: life.user_id, resourceType: service.resourceType, attributes: {} }]);
    }
  } else {
    for (const [id, rows] of byKey(data.revisions, (r) => r.id)) {
      const parts = revisionParts(rows, span);
      if (parts.length > 0) partsByResource.set(id, parts);
    }
  }

  const frames: UsageFrame[] = [];
  for (const resourceId of [...partsByResource.keys()].sort()) {
    const gauges = new Map([...byKey(measures.get(resourceId), (m) => m.name)].map(([metric, points]) => [metric, new Gauge(points)]));
    const resourceEvents = events.has(resourceId) ? new ResourceEvents(events.get(resourceId) as UsageEventRow[]) : undefined;

    // 2. values and usage of each part; neighbours that agree on everything are one part
    const valued: ValuedPart[] = [];
    for (const part of partsByResource.get(resourceId) as Part[]) {
      const metadata: Record<string, string> = {};
      for (const [field, sources] of Object.entries(service.metadata)) {
        const value = resolve(sources, part, gauges, resourceEvents);
        if (value !== undefined) metadata[field] = value;
      }
      const groupby: Record<string, string> = { id: resourceId, project_id: part.projectId, user_id: part.userId };
      for (const [key, sources] of Object.entries(service.groupby)) {
        const value = resolve(sources, part, gauges, resourceEvents);
        if (value !== undefined) groupby[key] = value;
      }
      for (const tag of tags) {
        const value = resolve(tagSources(tag), part, gauges, resourceEvents);
        if (value !== undefined) groupby[`tag:${tag}`] = value;
      }
      const usage = service.quantity.kind === 'gauge' ? (gauges.get(service.quantity.metric)?.integral(part.start, part.end) ?? new Money(0)) : new Money(part.end - part.start);
      const previous = valued[valued.length - 1];
      if (
        previous &&
        previous.end === part.start &&
        previous.projectId === part.projectId &&
        previous.userId === part.userId &&
        previous.resourceType === part.resourceType &&
        sameValues(previous.metadata, metadata) &&
        sameValues(previous.groupby, groupby)
      ) {
        previous.end = part.end;
        previous.usage = previous.usage.plus(usage);
      } else valued.push({ start: part.start, end: part.end, projectId: part.projectId, userId: part.userId, resourceType: part.resourceType, metadata, groupby, usage });
    }

    // 3. frames partition the period; a part with nothing used gives no frame
    valued.forEach((part, i) => {
      const frameStart = i === 0 ? span.start : part.start;
      const frameEnd = i === valued.length - 1 ? span.end : (valued[i + 1] as ValuedPart).start;
      const quantity = quantityText(part.usage, service.factor);
      if (new Money(quantity).isZero()) return;
      frames.push({
        service: service.name,
        projectId: part.projectId,
        userId: part.userId,
        resourceId,
        resourceType: part.resourceType,
        periodStart: new Date(frameStart * 1000),
        periodEnd: new Date(frameEnd * 1000),
        quantity,
        unit: service.unit,
        metadata: part.metadata,
        groupby: part.groupby,
      });
    });
  }
  return frames;
}
