import {
  selectUsageEvents,
  selectUsageLifetimes,
  selectUsageMeasures,
  selectUsageRevisions,
  type ClickHouseDriver,
  type ProjectScope,
  type UsageEventRow,
  type UsageFrame,
  type UsageLifetimeRow,
  type UsageMeasureRow,
  type UsageRevisionRow,
} from '../../storage/index.ts';
import { measuredMetrics, type ServiceDefinitions } from './services.ts';
import { extractFrames, type RatingPeriod } from './usage.ts';

/** Resource ids per measures/events query: bounds the size of one bound array parameter. */
const IDS_PER_QUERY = 5000;

async function inChunks<T>(ids: readonly string[], read: (chunk: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) out.push(...(await read(ids.slice(i, i + IDS_PER_QUERY))));
  return out;
}

/**
 * The usage frames of one period, every service in definition order, read from the
 * metering data in ClickHouse: revisions or lifetimes first, then the measures and events
 * of the resources found. `scope` limits it to some projects (a reprocess).
 */
export async function collectUsage(store: ClickHouseDriver, definitions: ServiceDefinitions, period: RatingPeriod, scope: ProjectScope): Promise<UsageFrame[]> {
  const range = { from: period.start, to: period.end };
  const frames: UsageFrame[] = [];
  for (const service of definitions.services) {
    let revisions: UsageRevisionRow[] | undefined;
    let lifetimes: UsageLifetimeRow[] | undefined;
    if (service.quantity.kind === 'lifetime') {
      lifetimes = await store.query<UsageLifetimeRow>(selectUsageLifetimes({ create: service.quantity.create, delete: service.quantity.delete, range, scope }));
    } else {
      revisions = await store.query<UsageRevisionRow>(selectUsageRevisions({ type: service.resourceType, metric: service.quantity.metric, range, scope }));
    }
    const ids = [...new Set((revisions ?? []).map((r) => r.id).concat((lifetimes ?? []).map((l) => l.resource_id)))].sort();
    const metrics = measuredMetrics(service);
    const measures = ids.length > 0 && metrics.length > 0 ? await inChunks(ids, (chunk) => store.query<UsageMeasureRow>(selectUsageMeasures({ resourceIds: chunk, names: metrics, range }))) : [];
    const events = ids.length > 0 && service.events.length > 0 ? await inChunks(ids, (chunk) => store.query<UsageEventRow>(selectUsageEvents({ resourceIds: chunk, patterns: service.events, range }))) : [];
    frames.push(...extractFrames(service, period, { ...(revisions ? { revisions } : {}), ...(lifetimes ? { lifetimes } : {}), measures, events }, definitions.tags));
  }
  return frames;
}
