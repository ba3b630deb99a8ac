import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock, openStateDatabase, type StateDatabase } from '../core/index.ts';
import { BUILTIN_ARCHIVE_POLICIES, DEFAULT_ARCHIVE_POLICY_RULES } from './archive-policies.ts';
import { createPolicyStore, type PolicyStore } from './policy-store.ts';

const code = (c: string, httpStatus: number) => expect.objectContaining({ code: c, httpStatus });

describe('policy store (SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cumulus-policy-store-'));
  const opened: StateDatabase[] = [];
  let n = 0;
  const open = (path = join(dir, `state-${++n}.sqlite`)) => {
    const db = openStateDatabase(path);
    opened.push(db);
    return { db, path };
  };
  afterAll(() => {
    for (const db of opened) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A store whose metric index says `inUse` for the named policies, recording what it was asked. */
  const storeWith = (db: StateDatabase, inUse: string[] = [], clock = new ManualClock(0), config = {}) => {
    const asked: string[] = [];
    const store = createPolicyStore(config, {
      db,
      clock,
      isPolicyInUse: async (name) => {
        asked.push(name);
        return inUse.includes(name);
      },
    });
    return { store, asked, clock };
  };
  const definition = (...levels: Array<[number, number]>) => levels.map(([granularity, points]) => ({ granularity, points }));

  it("seeds Gnocchi's and Ceilometer's policies and the default rule once per database", () => {
    const { db, path } = open();
    const { store } = storeWith(db);
    expect(store.listPolicies()).toEqual([...BUILTIN_ARCHIVE_POLICIES].sort((a, b) => (a.name < b.name ? -1 : 1)));
    expect(store.listRules()).toEqual([...DEFAULT_ARCHIVE_POLICY_RULES]);
    expect(store.policyForMetric('disk.read.bytes').name).toBe('ceilometer-low');
    // A deleted built-in stays deleted when the database is opened again.
    store.deleteRule('default');
    return store.deletePolicy('high').then(() => {
      const again = storeWith(open(path).db).store;
      expect(again.listPolicies().map((p) => p.name)).not.toContain('high');
      expect(again.listRules()).toEqual([]);
      expect(() => again.policyForMetric('cpu')).toThrow(code('CUMULUS_PIPELINE_ARCHIVE_POLICY_NO_RULE_MATCH', 400));
    });
  });

  it('seeds low, medium and high with the configured default methods', () => {
    const { store } = storeWith(open().db, [], new ManualClock(0), { defaultAggregationMethods: ['mean', '95pct'] });
    expect(store.getPolicy('low').aggregation_methods).toEqual(['mean', '95pct']);
    expect(store.getPolicy('bool').aggregation_methods).toEqual(['last']);
    expect(store.createPolicy({ name: 'x', aggregation_methods: ['+max'], definition: definition([60, 5]) }).aggregation_methods).toEqual(['mean', '95pct', 'max']);
    expect(() => storeWith(open().db, [], new ManualClock(0), { defaultAggregationMethods: ['p95'] })).toThrow(code('CUMULUS_CONFIG_INVALID', 500));
  });

  it('creates, reads and lists policies; a taken name is a 409, an invalid body a 400, an unknown name a 404', () => {
    const { store } = storeWith(open().db);
    const created = store.createPolicy({ name: 'five', back_window: 2, aggregation_methods: ['-std', '+99pct'], definition: [{ granularity: '5 minutes', timespan: '1 day' }] });
    expect(created).toEqual({ name: 'five', back_window: 2, aggregation_methods: ['mean', 'min', 'max', 'sum', 'count', '99pct'], definition: [{ granularity: 300, points: 288 }] });
    expect(store.getPolicy('five')).toEqual(created);
    expect(store.listPolicies().map((p) => p.name)).toContain('five');
    expect(() => store.createPolicy({ name: 'five', definition: definition([60, 1]) })).toThrow(code('CUMULUS_PIPELINE_ARCHIVE_POLICY_EXISTS', 409));
    expect(() => store.createPolicy({ name: 'bad', definition: definition([60, 0]) })).toThrow(code('CUMULUS_PIPELINE_ARCHIVE_POLICY_INVALID', 400));
    expect(() => store.getPolicy('nope')).toThrow(code('CUMULUS_PIPELINE_ARCHIVE_POLICY_NOT_FOUND', 404));
  });

  it("changes a definition's points and timespans, never its granularities (Gnocchi's PATCH)", () => {
    const { store } = storeWith(open().db);
    store.createPolicy({ name: 'two', definition: definition([60, 10], [3600, 24]) });
    store.createRule({ name: 'two', metric_pattern: 'two.*', archive_policy_name: 'two' });
    expect(store.policyForMetric('two.x').definition).toEqual(definition([60, 10], [3600, 24]));
    const updated = store.updatePolicy('two', { definition: [{ granularity: '1 hour', timespan: '30 days' }, { granularity: 60, points: 60 }] });
    expect(updated.definition).toEqual(definition([3600, 720], [60, 60]));
    expect(store.getPolicy('two')).toEqual(updated);
    // The resolver the pipeline uses sees it at once.
    expect(store.policyForMetric('two.x').definition).toEqual(definition([3600, 720], [60, 60]));
    expect(() => store.updatePolicy('two', { definition: definition([60, 10]) })).toThrow(expect.objectContaining({ code: 'CUMULUS_PIPELINE_ARCHIVE_POLICY_CHANGE_UNSUPPORTED', httpStatus: 400, message: expect.stringContaining('Cannot add or drop granularities') }));
    expect(() => store.updatePolicy('two', { definition: definition([60, 10], [3600, 1], [86400, 1]) })).toThrow(code('CUMULUS_PIPELINE_ARCHIVE_POLICY_CHANGE_UNSUPPORTED', 400));
    expect(() => store.updatePolicy('two', { definition: definition([60, 10], [1800, 24]) })).toThrow(expect.objectContaining({ code: 'CUMULUS_PIPELINE_ARCHIVE_POLICY_CHANGE_UNSUPPORTED', message: expect.stringContaining('3600 granularity interval was changed') }));
    expect(() => store.updatePolicy('two', { definition: definition([60, 10], [3600, 24]), back_window: 1 } as { definition: unknown })).toThrow(code('CUMULUS_PIPELINE_ARCHIVE_POLICY_INVALID', 400));
    expect(() => store.updatePolicy('two', { definition: [{ granularity: 60, points: -1 }, { granularity: 3600, points: 1 }] })).toThrow(code('CUMULUS_PIPELINE_ARCHIVE_POLICY_INVALID', 400));
    expect(() => store.updatePolicy('two', {})).toThrow(code('CUMULUS_PIPELINE_ARCHIVE_POLICY_INVALID', 400));
    expect(() => store.updatePolicy('nope', { definition: definition([60, 1]) })).toThrow(code('CUMULUS_PIPELINE_ARCHIVE_POLICY_NOT_FOUND', 404));
    expect(store.getPolicy('two').definition).toEqual(definition([3600, 720], [60, 60]));
  });

  it('deletes a policy only when no rule and no metric uses it', async () => {
    const { store, asked } = storeWith(open().db, ['metered']);
    store.createPolicy({ name: 'ruled', definition: definition([60, 1]) });
    store.createPolicy({ name: 'metered', definition: definition([60, 1]) });
    store.createPolicy({ name: 'free', definition: definition([60, 1]) });
    store.createRule({ name: 'r', metric_pattern: 'r.*', archive_policy_name: 'ruled' });
    await expect(store.deletePolicy('ruled')).rejects.toMatchObject({ code: 'CUMULUS_PIPELINE_ARCHIVE_POLICY_IN_USE', httpStatus: 400, message: expect.stringContaining('rules r') });
    // A rule is enough: the metric index is not even asked.
    expect(asked).toEqual([]);
    await expect(store.deletePolicy('metered')).rejects.toMatchObject({ code: 'CUMULUS_PIPELINE_ARCHIVE_POLICY_IN_USE', message: expect.stringContaining('metrics') });
    expect(asked).toEqual(['metered']);
    await store.deletePolicy('free');
    expect(() => store.getPolicy('free')).toThrow(code('CUMULUS_PIPELINE_ARCHIVE_POLICY_NOT_FOUND', 404));
    await expect(store.deletePolicy('free')).rejects.toMatchObject({ code: 'CUMULUS_PIPELINE_ARCHIVE_POLICY_NOT_FOUND', httpStatus: 404 });
    store.deleteRule('r');
    await store.deletePolicy('ruled');
    expect(store.listPolicies().map((p) => p.name)).not.toContain('ruled');
  });

  it('keeps rules: create, read, list in match order, rename, delete, with Gnocchi refusals', () => {
    const { store } = storeWith(open().db);
    expect(store.createRule({ name: 'disk', metric_pattern: 'disk.*', archive_policy_name: 'medium' })).toEqual({ name: 'disk', metric_pattern: 'disk.*', archive_policy_name: 'medium' });
    store.createRule({ name: 'reads', metric_pattern: 'disk.read*', archive_policy_name: 'high' });
    expect(store.listRules().map((r) => r.name)).toEqual(['reads', 'disk', 'default']);
    expect(store.getRule('disk').metric_pattern).toBe('disk.*');
    expect(store.policyForMetric('disk.read.bytes').name).toBe('high');
    expect(store.policyForMetric('disk.write.bytes').name).toBe('medium');
    expect(() => store.createRule({ name: 'disk', metric_pattern: 'x', archive_policy_name: 'low' })).toThrow(code('CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_EXISTS', 409));
    expect(() => store.createRule({ name: 'ghost', metric_pattern: 'x', archive_policy_name: 'nope' })).toThrow(expect.objectContaining({ code: 'CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_INVALID', httpStatus: 400, message: expect.stringContaining('Archive policy nope does not exist') }));
    expect(() => store.createRule({ name: 'half', metric_pattern: 'x' })).toThrow(code('CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_INVALID', 400));
    expect(() => store.createRule({ name: 'extra', metric_pattern: 'x', archive_policy_name: 'low', color: 1 } as never)).toThrow(code('CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_INVALID', 400));
    expect(store.renameRule('disk', { name: 'disks' })).toEqual({ name: 'disks', metric_pattern: 'disk.*', archive_policy_name: 'medium' });
    expect(() => store.getRule('disk')).toThrow(code('CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_NOT_FOUND', 404));
    expect(() => store.renameRule('disks', { name: 'reads' })).toThrow(expect.objectContaining({ code: 'CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_CHANGE_UNSUPPORTED', httpStatus: 400, message: expect.stringContaining('Archive policy rule reads already exists') }));
    expect(() => store.renameRule('nope', { name: 'x' })).toThrow(code('CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_NOT_FOUND', 404));
    expect(() => store.renameRule('disks', { name: 'x', metric_pattern: '*' } as never)).toThrow(code('CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_INVALID', 400));
    store.deleteRule('reads');
    expect(store.policyForMetric('disk.read.bytes').name).toBe('medium');
    expect(() => store.deleteRule('reads')).toThrow(code('CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_NOT_FOUND', 404));
  });

  it("picks up another connection's changes within the refresh interval", () => {
    const { path } = open();
    const clock = new ManualClock(1_000_000);
    const pipeline: PolicyStore = storeWith(open(path).db, [], clock, { refreshIntervalMs: 1000 }).store;
    const api: PolicyStore = storeWith(open(path).db).store;
    expect(pipeline.policyForMetric('cpu').name).toBe('ceilometer-low');
    api.createRule({ name: 'cpu', metric_pattern: 'cpu', archive_policy_name: 'ceilometer-low-rate' });
    // Cached until the interval has passed, then reloaded because the data changed.
    clock.advance(999);
    expect(pipeline.policyForMetric('cpu').name).toBe('ceilometer-low');
    clock.advance(1);
    expect(pipeline.policyForMetric('cpu').name).toBe('ceilometer-low-rate');
    expect(pipeline.resolver.policy('ceilometer-low-rate').aggregation_methods).toEqual(['mean', 'rate:mean']);
    // The resolver handed to the writer and the API refreshes the same way.
    api.deleteRule('cpu');
    clock.advance(500);
    expect(pipeline.resolver.forMetric('cpu').name).toBe('ceilometer-low-rate');
    clock.advance(500);
    expect(pipeline.resolver.forMetric('cpu').name).toBe('ceilometer-low');
    expect(pipeline.resolver.rules().map((r) => r.name)).toEqual(['default']);
  });
});
