import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../../test/support/temp-store.ts';
import { openStateDatabase } from '../../core/index.ts';
import { createResourceTypeStore, insertMetric, parseAlarm, parseArchivePolicy, resourceUuid, writeMeasures, writeResourceRevision, type Alarm } from '../../storage/index.ts';
import { batchMetricsStatistics, batchResourcesAggregationStatistics, batchResourcesStatistics, gnocchiMetricsStatistics, gnocchiResourcesAggregationStatistics, gnocchiResourcesStatistics, type StatisticsDeps } from './statistics.ts';

// Rollups expire on the engine's own clock: the data sits just before real time.
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 1_800_000;
const at = (offsetS: number) => new Date(NOW + offsetS * 1000);
const policy = parseArchivePolicy({ name: 'statistics-batch-test', back_window: 0, aggregation_methods: ['mean', 'max', 'min', 'last'], definition: [{ granularity: 60, points: 1440 }] });

let temp: TempStore;
beforeAll(async () => {
  temp = await openTempStore('cumulus-evaluator-batch-');
});
afterAll(async () => {
  await temp?.close();
});

/** The metric id a resource got from resourceWithMetric. */
const metricIds = new Map<string, string>();

async function resourceWithMetric(name: string, points: Array<[number, number]>): Promise<string> {
  const rid = `host-${randomUUID().slice(0, 8)}`;
  const micros = (NOW - 86_400_000) * 1000;
  await writeResourceRevision(temp.store, { current: { id: rid, type: 'generic', project_id: 'p1', user_id: 'u1', started_at: micros, ended_at: null, revision_start: micros, generation: 0, attributes: {} } }, `test:${rid}`);
  const id = randomUUID();
  await insertMetric(temp.store, { id, name, resource_id: rid, project_id: 'p1', user_id: 'u1', unit: '', archive_policy_name: policy.name, created_at: at(-86_400) });
  const written = await writeMeasures(temp.store, { metric: { id }, policy, measures: points.map(([s, value]) => ({ timestamp: at(s), value })), now: at(0) });
  expect(written.refused).toEqual([]);
  metricIds.set(rid, id);
  return rid;
}

let seq = 0;
function alarm(rule: Record<string, unknown>, type = 'gnocchi_resources_threshold'): Alarm {
  const base = { aggregation_method: 'mean', granularity: 60, comparison_operator: 'gt', threshold: 50, evaluation_periods: 2 };
  const full = type === 'gnocchi_resources_threshold' ? { metric: 'cpu', resource_type: 'generic', ...base, ...rule } : { ...base, ...rule };
  const parsed = parseAlarm({ name: `a${seq}`, type, [`${type}_rule`]: full }, { project_id: 'p1', user_id: 'u1' });
  const ts = at(0).toISOString();
  return { ...parsed.definition, alarm_id: `alarm-${seq++}`, state: 'insufficient data', state_reason: '', state_timestamp: ts, timestamp: ts } as Alarm;
}

describe('batchResourcesStatistics', () => {
  it('gives each gnocchi_resources_threshold alarm what its own read gives, in a few queries; leaves the rest to the single read', async () => {
    const rising = await resourceWithMetric('cpu', [[-290, 10], [-230, 40], [-170, 60], [-110, 80], [-50, 95], [-20, 97]]);
    const falling = await resourceWithMetric('cpu', [[-290, 90], [-230, 70], [-170, 45], [-110, 30], [-50, 20]]);
    const sparse = await resourceWithMetric('cpu', [[-50, 70]]);
    const alarms = [
      alarm({ resource_id: rising }),
      alarm({ resource_id: rising, aggregation_method: 'max', evaluation_periods: 3 }),
      alarm({ resource_id: falling, comparison_operator: 'lt', threshold: 40 }),
      alarm({ resource_id: falling, aggregation_method: 'min', evaluation_periods: 4 }),
      alarm({ resource_id: sparse, evaluation_periods: 3 }),
      alarm({ resource_id: sparse, aggregation_method: 'last', granularity: 300 }),
      alarm({ resource_id: resourceUuid(rising) }),
      alarm({ resource_id: rising, metric: 'no_such_metric' }),
      alarm({ resource_id: 'no-such-resource' }),
    ];
    let queries = 0;
    const deps: StatisticsDeps = {
      store: { ...temp.store, query: (q: Parameters<typeof temp.store.query>[0]) => ((queries += 1), temp.store.query(q)) } as typeof temp.store,
      resourceType: () => undefined,
    };
    const ctx = { nowMs: NOW, ingestionLagSeconds: 0 };
    const batched = await batchResourcesStatistics(deps, alarms, ctx);
    // One metric read, then one measures read per (method, granularity, periods) group: the
    // first and third alarms share one (an operator or threshold does not change the read).
    expect(queries).toBe(1 + 5);
    // The UUID form and the missing ones are left to the single read, which settles them as before.
    expect([...batched.keys()].sort()).toEqual(alarms.slice(0, 6).map((a) => a.alarm_id).sort());
    for (const a of alarms.slice(0, 6)) expect(batched.get(a.alarm_id), a.alarm_id).toEqual(await gnocchiResourcesStatistics(deps, a.rule, ctx));
    expect(batched.get(alarms[0]!.alarm_id)).toMatchObject({ state: 'alarm', statistics: [80, 96] });
    expect(batched.get(alarms[4]!.alarm_id)).toMatchObject({ state: 'insufficient data', unknownReason: '3 datapoints are unknown' });
    expect(batched.get(alarms[5]!.alarm_id)).toMatchObject({ state: 'insufficient data', unknownReason: 'No datapoint for granularity 300' });
  });

  it('gives each gnocchi_aggregation_by_metrics_threshold alarm what its own read gives; leaves rate: and missing metrics as before', async () => {
    const a = metricIds.get(await resourceWithMetric('mem', [[-290, 10], [-230, 40], [-170, 60], [-110, 80], [-50, 95]]))!;
    const b = metricIds.get(await resourceWithMetric('mem', [[-230, 70], [-170, 45], [-110, 30], [-50, 20], [-20, 24]]))!;
    const c = metricIds.get(await resourceWithMetric('mem', [[-50, 7]]))!;
    const type = 'gnocchi_aggregation_by_metrics_threshold';
    const alarms = [
      alarm({ metrics: [a, b] }, type),
      alarm({ metrics: [a, b, c], aggregation_method: 'max', evaluation_periods: 3 }, type),
      alarm({ metrics: [b, c], aggregation_method: 'min', comparison_operator: 'lt', threshold: 25 }, type),
      alarm({ metrics: [a, c], aggregation_method: 'sum', evaluation_periods: 4 }, type),
      alarm({ metrics: [a.toUpperCase(), b], aggregation_method: 'count', threshold: 1 }, type),
      alarm({ metrics: [a, randomUUID()] }, type),
      alarm({ metrics: [a, b], aggregation_method: 'rate:mean' }, type),
    ];
    const deps: StatisticsDeps = { store: temp.store, resourceType: () => undefined };
    const ctx = { nowMs: NOW, ingestionLagSeconds: 0 };
    const batched = await batchMetricsStatistics(deps, alarms, ctx);
    expect([...batched.keys()].sort()).toEqual(alarms.slice(0, 6).map((x) => x.alarm_id).sort());
    for (const x of alarms.slice(0, 6)) expect(batched.get(x.alarm_id), x.alarm_id).toEqual(await gnocchiMetricsStatistics(deps, x.rule, ctx));
    expect(batched.get(alarms[0]!.alarm_id)).toMatchObject({ state: 'alarm', statistics: [55, 58.5] });
    expect(batched.get(alarms[5]!.alarm_id)).toMatchObject({ state: 'insufficient data', unknownReason: expect.stringMatching(/^At least of metrics in/) });
  });

  it('gives each gnocchi_aggregation_by_resources_threshold alarm what its own read gives', async () => {
    // The 'mem' metrics of the test before, all in project p1, plus one more.
    await resourceWithMetric('mem', [[-170, 12], [-110, 14], [-50, 16]]);
    const dir = mkdtempSync(join(tmpdir(), 'cumulus-evaluator-batch-types-'));
    const db = openStateDatabase(join(dir, 'state.sqlite'));
    try {
      const types = createResourceTypeStore(db, { resourcesExist: async () => false });
      const deps: StatisticsDeps = { store: temp.store, resourceType: (name) => types.find(name) };
      const type = 'gnocchi_aggregation_by_resources_threshold';
      const p1 = JSON.stringify({ '=': { project_id: 'p1' } });
      const alarms = [
        alarm({ metric: 'mem', resource_type: 'generic', query: p1 }, type),
        alarm({ metric: 'mem', resource_type: 'generic', query: p1, aggregation_method: 'sum', evaluation_periods: 3 }, type),
        alarm({ metric: 'mem', resource_type: 'generic', query: p1, aggregation_method: 'max', comparison_operator: 'lt' }, type),
        alarm({ metric: 'mem', resource_type: 'generic', query: JSON.stringify({ '=': { project_id: 'nobody' } }) }, type),
        alarm({ metric: 'no_such_metric', resource_type: 'generic', query: p1 }, type),
        alarm({ metric: 'mem', resource_type: 'no_such_type', query: p1 }, type),
        alarm({ metric: 'mem', resource_type: 'generic', query: p1, aggregation_method: 'rate:mean' }, type),
      ];
      const ctx = { nowMs: NOW, ingestionLagSeconds: 0 };
      const batched = await batchResourcesAggregationStatistics(deps, alarms, ctx);
      expect([...batched.keys()].sort()).toEqual(alarms.slice(0, 6).map((x) => x.alarm_id).sort());
      for (const x of alarms.slice(0, 6)) expect(batched.get(x.alarm_id), x.alarm_id).toEqual(await gnocchiResourcesAggregationStatistics(deps, x.rule, ctx));
      expect(batched.get(alarms[0]!.alarm_id)?.statistics).toHaveLength(2);
      expect(batched.get(alarms[5]!.alarm_id)).toMatchObject({ state: 'insufficient data', unknownReason: 'resource type no_such_type does not exist' });
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
