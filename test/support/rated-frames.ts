import type { ClickHouseDriver, RatedFrame } from '../../storage/index.ts';
import { RATED_USAGE_TABLE, ratedUsageRow } from '../../storage/index.ts';

/** What a test says about one rated frame; the rest gets plain defaults. */
export interface FrameSeed {
  readonly project: string;
  readonly start: Date;
  readonly service: string;
  readonly resource: string;
  /** Decimal text. */
  readonly cost: string;
  /** Decimal text; default 1. */
  readonly qty?: string;
  /** Default: `instance` for the instance service, `GiB` otherwise. */
  readonly unit?: string;
  /** The period's length; default one hour. */
  readonly hours?: number;
  readonly groupby?: Readonly<Record<string, string>>;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A rated frame as the rating processor would produce it (user `user-<project>`, EUR, price = cost / qty). */
export function ratedFrame(seed: FrameSeed): RatedFrame {
  const quantity = seed.qty ?? '1';
  return {
    service: seed.service,
    projectId: seed.project,
    userId: `user-${seed.project}`,
    resourceId: seed.resource,
    resourceType: seed.service === 'instance' ? 'instance' : seed.service === 'volume.size' ? 'volume' : 'generic',
    periodStart: seed.start,
    periodEnd: new Date(seed.start.getTime() + (seed.hours ?? 1) * 3_600_000),
    quantity,
    unit: seed.unit ?? (seed.service === 'instance' ? 'instance' : 'GiB'),
    metadata: seed.metadata ?? {},
    groupby: seed.groupby ?? {},
    price: seed.cost,
    cost: seed.cost,
    currency: 'EUR',
    ruleId: 'mapping-test',
  };
}

/**
 * Stores frames in `rated_usage` with the processor's own row mapping, as one rating run
 * stamped `ratedAt` (a later run of the same frames replaces them when read with FINAL).
 */
export async function seedRatedUsage(store: ClickHouseDriver, seeds: readonly FrameSeed[], ratedAt: Date): Promise<void> {
  if (seeds.length > 0) await store.insert(RATED_USAGE_TABLE, seeds.map((seed) => ratedUsageRow(ratedFrame(seed), ratedAt)));
}
