import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../test/support/temp-store.ts';
import { parseArchivePolicy, type ArchivePolicy } from './archive-policies.ts';
import type { ClickHouseDriver } from './driver.ts';
import { isPastRetention, selectMeasureRefusals, writeMeasureBatch, writeMeasures, type MeasureRefusalRow } from './measure-writes.ts';
import { insertMetric, markMetricDeleted } from './metric-writes.ts';
import { selectMeasures, type MeasureRow } from './queries/measures.ts';
import { selectMetric, selectMetrics, selectPolicyUsage, type MetricRow } from './queries/metrics.ts';

const minute: ArchivePolicy = parseArchivePolicy({ name: 'minute', back_window: 0, aggregation_methods: ['mean', 'count', 'max', 'last'], definition: [{ granularity: 60, points: 1440 }, { granularity: 600, points: 144 }] });
// The start of the previous hour: rollups expire on the engine's own clock, so the data is recent.
const T = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
const NOW = new Date(T + 1800_000);
const DAY_S = 86_400;
const at = (offsetS: number) => new Date(T + offsetS * 1000);

describe('measure writes (chDB)', () => {
  let temp: TempStore;
  let store: ClickHouseDriver;
  const read = (metricId: string, method: string, granularity?: number) =>
    store.query<MeasureRow>(selectMeasures({ metricId, method, now: NOW, ...(granularity === undefined ? {} : { granularity }) })).then((rows) => rows.map((r) => [Number(r.bucket) - T / 1000, Number(r.granularity), r.value === null ? null : Number(r.value)]));
  const refusals = async (metricId: string) =>
    Object.fromEntries((await store.query<MeasureRefusalRow>(selectMeasureRefusals([metricId]))).map((r) => [r.reason, Number(r.refused)]));

  beforeAll(async () => {
    temp = await openTempStore('cumulus-measure-writes-');
    store = temp.store;
  });
  afterAll(async () => temp?.close());

  it('writes measures that read back at once through the rollups, a repeated timestamp keeping its last value', async () => {
    const id = randomUUID();
    const result = await writeMeasures(store, {
      metric: { id },
      policy: minute,
      measures: [
        { timestamp: at(5), value: 1 },
        { timestamp: at(30), value: 100 },
        { timestamp: at(30), value: 3 },
        { timestamp: at(70), value: 10 },
      ],
      now: NOW,
    });
    expect(result).toEqual({ accepted: 3, refused: [] });
    expect(await read(id, 'mean', 60)).toEqual([
      [0, 60, 2],
      [60, 60, 10],
    ]);
    expect(await read(id, 'count')).toEqual([
      [0, 600, 3],
      [0, 60, 2],
      [60, 60, 1],
    ]);
    expect(await refusals(id)).toEqual({});
  });

  it('refuses and counts what is before the back window or past retention; an identical write changes nothing', async () => {
    const id = randomUUID();
    await writeMeasures(store, { metric: { id }, policy: minute, measures: [{ timestamp: at(1300), value: 5 }], now: NOW });
    // The newest block (600 s) starts at 1200 s: 1199 s is refused, 1200 s lands.
    const late = [
      { timestamp: at(1199), value: 7 },
      { timestamp: at(1200), value: 9 },
      { timestamp: at(-2 * DAY_S), value: 1 },
    ];
    const second = await writeMeasures(store, { metric: { id }, policy: minute, measures: late, now: NOW });
    expect(second.accepted).toBe(1);
    expect(second.refused.map((r) => [r.code, (r.timestamp.getTime() - T) / 1000])).toEqual([
      ['retention', -2 * DAY_S],
      ['back_window', 1199],
    ]);
    expect(second.refused[1]?.reason).toMatch(/before its back window/);
    expect(await refusals(id)).toEqual({ back_window: 1, retention: 1 });
    // The same write again: deduplicated, measures and refusal counts alike.
    await writeMeasures(store, { metric: { id }, policy: minute, measures: late, now: NOW });
    expect(await read(id, 'count', 600)).toEqual([[1200, 600, 2]]);
    expect(await refusals(id)).toEqual({ back_window: 1, retention: 1 });
    expect(isPastRetention(T - 2 * DAY_S * 1000, minute, NOW.getTime())).toBe(true);
    expect(isPastRetention(T, minute, NOW.getTime())).toBe(false);
  });

  it('writes several metrics in one batch, each under its own policy', async () => {
    const a = randomUUID();
    const b = randomUUID();
    const coarse = parseArchivePolicy({ name: 'coarse', aggregation_methods: ['sum'], definition: [{ granularity: 3600, points: 24 }] });
    const result = await writeMeasureBatch(
      store,
      [
        { metric: { id: a }, policy: minute, measures: [{ timestamp: at(1), value: 1 }] },
        { metric: { id: b }, policy: coarse, measures: [{ timestamp: at(1), value: 2 }, { timestamp: at(2000), value: 3 }] },
      ],
      { now: NOW },
    );
    expect(result.accepted).toBe(3);
    expect(result.perMetric.get(b)?.accepted).toBe(2);
    expect(await read(b, 'sum')).toEqual([[0, 3600, 5]]);
    expect(await read(a, 'mean', 60)).toEqual([[0, 60, 1]]);
  });

  it('refuses a non-finite value or an invalid time with the item named', async () => {
    await expect(writeMeasures(store, { metric: { id: randomUUID() }, policy: minute, measures: [{ timestamp: at(0), value: Number.NaN }], now: NOW })).rejects.toThrow(/measures\[0\].*finite/);
    await expect(writeMeasures(store, { metric: { id: randomUUID() }, policy: minute, measures: [{ timestamp: new Date('x'), value: 1 }], now: NOW })).rejects.toThrow(/measures\[0\].*timestamp/);
  });

  it('hides a deleted metric from every metric read, and from the policy-usage check', async () => {
    const id = randomUUID();
    const policyName = `p-${id}`;
    await insertMetric(store, { id, name: 'cpu', resource_id: 'r-1', project_id: 'p1', user_id: 'u1', unit: 'ns', archive_policy_name: policyName, created_at: new Date(T) });
    const row = (await store.query<MetricRow>(selectMetric(id, 'p1')))[0] as MetricRow;
    expect(row.name).toBe('cpu');
    expect((await store.query(selectPolicyUsage(policyName))).length).toBe(1);
    // A clock behind the creation time still deletes (the marker's version is above the row's).
    await markMetricDeleted(store, row, new Date(T - 1000));
    expect(await store.query(selectMetric(id, null))).toEqual([]);
    expect((await store.query<MetricRow>(selectMetrics({ projectId: 'p1', resourceId: 'r-1', limit: 10 }))).map((m) => m.id)).not.toContain(id);
    expect(await store.query(selectPolicyUsage(policyName))).toEqual([]);
  });
});
