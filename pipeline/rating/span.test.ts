import { describe, expect, it } from 'vitest';
import type { UsageEventRow, UsageLifetimeRow, UsageMeasureRow, UsageRevisionRow } from '../../storage/index.ts';
import { usageOfPeriod } from './span.ts';

const H = 3600;
const T0 = 1_700_000_000 - (1_700_000_000 % H);
const hour = (n: number) => ({ start: new Date((T0 + n * H) * 1000), end: new Date((T0 + (n + 1) * H) * 1000) });
const us = (s: number, frac = 0) => String(BigInt(s) * 1_000_000n + BigInt(frac));

const revision = (id: string, startS: number, endUs: string | null, endedUs: string | null = null): UsageRevisionRow => ({
  id,
  type: 'instance',
  project_id: 'p',
  user_id: 'u',
  started_s: T0,
  ended_s: endedUs === null ? null : Number(BigInt(endedUs) / 1_000_000n),
  ended_us: endedUs,
  revision_start_s: startS,
  revision_end_s: endUs === null ? null : Number(BigInt(endUs) / 1_000_000n),
  revision_end_us: endUs,
  attributes: '{}',
});
const measure = (resource_id: string, atUs: string, value: string): UsageMeasureRow => ({ resource_id, name: 'volume.size', at_s: Number(BigInt(atUs) / 1_000_000n), at_us: atUs, value });
const event = (resource_id: string, atUs: string, message_id: string): UsageEventRow => ({ resource_id, event_type: 'compute.instance.update', at_us: atUs, message_id, traits_string: {}, traits_int: {}, payload: '' });

describe("a period's share of a span's rows", () => {
  it('keeps a revision that ends a fraction of a second into the period, as the query does', () => {
    const rows = [revision('a', T0, us(T0 + H, 500_000)), revision('a', T0 + H, null), revision('b', T0, us(T0 + H)), revision('c', T0 + 2 * H, null)];
    expect(usageOfPeriod({ revisions: rows }, hour(1)).revisions?.map((r) => [r.id, r.revision_start_s])).toEqual([
      ['a', T0],
      ['a', T0 + H],
    ]);
    expect(usageOfPeriod({ revisions: rows }, hour(0)).revisions?.map((r) => r.id)).toEqual(['a', 'b']);
  });

  it('drops a current revision whose resource ended before the period, keeps one that ended inside', () => {
    const ended = revision('a', T0, null, us(T0 + H, 1));
    expect(usageOfPeriod({ revisions: [ended] }, hour(1)).revisions).toHaveLength(1);
    expect(usageOfPeriod({ revisions: [ended] }, hour(2)).revisions).toHaveLength(0);
  });

  it("picks the value in force at the period's start by time, then the larger value, and keeps only the period's resources", () => {
    const rows = [measure('a', us(T0 + 10, 7), '5'), measure('a', us(T0 + 10, 9), '3'), measure('a', us(T0 + H + 5), '8'), measure('z', us(T0 + H + 5), '1')];
    const share = usageOfPeriod({ revisions: [revision('a', T0, null)], measures: rows }, hour(1));
    expect(share.measures?.map((m) => [m.at_us, m.value])).toEqual([
      [us(T0 + 10, 9), '3'],
      [us(T0 + H + 5), '8'],
    ]);
  });

  it('gives each resource its last event before the period, then the events inside', () => {
    const rows = [event('a', us(T0 + 1), 'm1'), event('a', us(T0 + 2), 'm2'), event('a', us(T0 + H), 'm3'), event('a', us(T0 + 2 * H), 'm4')];
    const share = usageOfPeriod({ revisions: [revision('a', T0, null)], events: rows }, hour(1));
    expect(share.events?.map((e) => e.message_id)).toEqual(['m2', 'm3']);
    expect(usageOfPeriod({ revisions: [revision('a', T0, null)], events: rows }, hour(3)).events?.map((e) => e.message_id)).toEqual(['m4']);
  });

  it('does not see a deletion that comes after the period', () => {
    const lifetimes: UsageLifetimeRow[] = [
      { resource_id: 'f', project_id: 'p', user_id: 'u', started_s: T0 + 100, ended_s: T0 + 2 * H + 5 },
      { resource_id: 'g', project_id: 'p', user_id: 'u', started_s: T0 + H + 1, ended_s: null },
    ];
    expect(usageOfPeriod({ lifetimes }, hour(0)).lifetimes).toEqual([{ ...lifetimes[0], ended_s: null }]);
    expect(usageOfPeriod({ lifetimes }, hour(2)).lifetimes).toEqual(lifetimes);
    expect(usageOfPeriod({ lifetimes }, hour(3)).lifetimes?.map((l) => l.resource_id)).toEqual(['g']);
  });
});
