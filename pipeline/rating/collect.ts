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
import { RatingError } from './errors.ts';
import { usageOfPeriod } from './span.ts';
import { extractFrames, type RatingPeriod } from './usage.ts';

/** Resource ids per measures/events query: bounds the size of one bound array parameter. */
const IDS_PER_QUERY = 5000;

async function inChunks<T>(ids: readonly string[], read: (chunk: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) out.push(...(await read(ids.slice(i, i + IDS_PER_QUERY))));
  return out;
}

/**
 * The usage frames of consecutive periods (each ending where the next starts), every
 * service in definition order, read from the metering data in ClickHouse with one set of
 * queries for the whole span: revisions or lifetimes first, then the measures and events of
 * the resources found; each period then takes its share (./span.ts). `scope` limits it to
 * some projects (a reprocess). One list of frames per period, in the order given.
 */
export async function collectUsageForPeriods(store: ClickHouseDriver, definitions: ServiceDefinitions, periods: readonly RatingPeriod[], scope: ProjectScope): Promise<UsageFrame[][]> {
  const first = periods[0];
  const last = periods[periods.length - 1];
  if (!first || !last) return [];
  periods.forEach((period, i) => {
    const previous = periods[i - 1];
    if (previous && previous.end.getTime() !== period.start.getTime()) throw new RatingError('CUMULUS_RATING_PERIODS_NOT_CONSECUTIVE', `periods must follow each other: ${previous.end.toISOString()} then ${period.start.toISOString()}`);
  });
  const range = { from: first.start, to: last.end };
  const frames: UsageFrame[][] = periods.map(() => []);
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
    const span = { ...(revisions ? { revisions } : {}), ...(lifetimes ? { lifetimes } : {}), measures, events };
    periods.forEach((period, i) => {
      const share = periods.length === 1 ? span : usageOfPeriod(span, period);
      (frames[i] as UsageFrame[]).push(...extractFrames(service, period, share, definitions.tags));
    });
  }
  return frames;
}

/** The usage frames of one period (collectUsageForPeriods with one period). */
export async function collectUsage(store: ClickHouseDriver, definitions: ServiceDefinitions, period: RatingPeriod, scope: ProjectScope): Promise<UsageFrame[]> {
  return (await collectUsageForPeriods(store, definitions, [period], scope))[0] ?? [];
}
