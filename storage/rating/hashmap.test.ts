import { describe, expect, it } from 'vitest';
import {
  applyMappingChange,
  createHashmapRater,
  parseMappingInput,
  parseRuleTime,
  parseThresholdInput,
  periodsOverlap,
  type HashmapMapping,
  type HashmapRules,
  type HashmapThreshold,
} from './hashmap.ts';
import { Money } from './money.ts';
import type { UsageFrame } from './types.ts';

// Ids are readable stand-ins for UUIDs: the engine only compares them.
const mapping = (m: Partial<HashmapMapping> & Pick<HashmapMapping, 'mapping_id' | 'cost'>): HashmapMapping => ({
  value: null,
  created_at: '2026-01-01T00:00:00',
  start: null,
  end: null,
  name: null,
  description: null,
  deleted: null,
  created_by: null,
  updated_by: null,
  deleted_by: null,
  type: 'flat',
  field_id: null,
  service_id: null,
  group_id: null,
  tenant_id: null,
  ...m,
});
const threshold = (t: Partial<HashmapThreshold> & Pick<HashmapThreshold, 'threshold_id' | 'level' | 'cost'>): HashmapThreshold => ({
  start: null,
  end: null,
  type: 'flat',
  field_id: null,
  service_id: null,
  group_id: null,
  tenant_id: null,
  ...t,
});
const rules = (r: Partial<HashmapRules>): HashmapRules => ({ services: [], fields: [], groups: [], mappings: [], thresholds: [], ...r });

const frame = (f: Partial<UsageFrame> & Pick<UsageFrame, 'service' | 'quantity'>): UsageFrame => ({
  projectId: 'project-a',
  userId: 'user-a',
  resourceId: 'resource-1',
  resourceType: 'generic',
  periodStart: new Date('2026-03-10T10:00:00Z'),
  periodEnd: new Date('2026-03-10T11:00:00Z'),
  unit: 'hour',
  metadata: {},
  groupby: {},
  ...f,
});

/** A frame's stored cost: 9 places, half-even (money.ts), computed here independently. */
const stored = (value: InstanceType<typeof Money>) => value.toDecimalPlaces(9, Money.ROUND_HALF_EVEN).toFixed(9);
const m = (v: string) => new Money(v);

describe('hashmap engine (CloudKitty semantics)', () => {
  it("prices the docs' volume example: flat per GiB, rate thresholds by quantity, a project's own threshold replacing the general one", () => {
    // cloudkitty doc/source/user/rating/hashmap.rst, "Volume per GiB with discount".
    const rater = createHashmapRater(
      rules({
        services: [{ service_id: 'svc-volume', name: 'volume.size' }],
        groups: [{ group_id: 'grp-volume', name: 'volume_thresholds' }],
        mappings: [mapping({ mapping_id: 'map-gib', service_id: 'svc-volume', cost: '0.001', group_id: 'grp-volume' })],
        thresholds: [
          threshold({ threshold_id: 'th-50', service_id: 'svc-volume', level: '50', cost: '0.98', type: 'rate', group_id: 'grp-volume' }),
          threshold({ threshold_id: 'th-50-p2', service_id: 'svc-volume', level: '50', cost: '0.97', type: 'rate', group_id: 'grp-volume', tenant_id: 'project-2' }),
          threshold({ threshold_id: 'th-200', service_id: 'svc-volume', level: '200', cost: '0.95', type: 'rate', group_id: 'grp-volume' }),
        ],
      }),
      { currency: 'CHF' },
    );
    const cost = (quantity: string, projectId = 'project-a') => rater.rate(frame({ service: 'volume.size', quantity, projectId }));
    expect(cost('20')).toMatchObject({ cost: stored(m('0.001').times(20)), price: '0.001000000', currency: 'CHF', ruleId: 'map-gib' });
    expect(cost('49.99')?.cost).toBe(stored(m('0.001').times('49.99')));
    // At the level exactly, the threshold applies.
    expect(cost('50')).toMatchObject({ cost: '0.049000000', ruleId: 'map-gib,th-50' });
    expect(cost('50', 'project-2')).toMatchObject({ cost: '0.048500000', ruleId: 'map-gib,th-50-p2' });
    expect(cost('80')?.cost).toBe('0.078400000');
    expect(cost('80', 'project-2')?.cost).toBe('0.077600000');
    // Only the highest level reached applies; project-2 gets the general 200 level.
    expect(cost('250')).toMatchObject({ cost: '0.237500000', ruleId: 'map-gib,th-200' });
    expect(cost('250', 'project-2')?.cost).toBe('0.237500000');
    expect(cost('250')?.price).toBe(stored(m('0.2375').dividedBy(250)));
  });

  it('in a group the most expensive flat applies and rates multiply it; groups add up', () => {
    const rater = createHashmapRater(
      rules({
        services: [{ service_id: 'svc-instance', name: 'instance' }],
        fields: [
          { field_id: 'fld-flavor', name: 'flavor_name', service_id: 'svc-instance' },
          { field_id: 'fld-distro', name: 'os_distro', service_id: 'svc-instance' },
        ],
        groups: [
          { group_id: 'grp-compute', name: 'compute' },
          { group_id: 'grp-license', name: 'license' },
        ],
        mappings: [
          mapping({ mapping_id: 'map-base', service_id: 'svc-instance', cost: '0.03', group_id: 'grp-compute' }),
          mapping({ mapping_id: 'map-small', field_id: 'fld-flavor', value: 'm1.small', cost: '0.02', group_id: 'grp-compute' }),
          mapping({ mapping_id: 'map-large', field_id: 'fld-flavor', value: 'm1.large', cost: '0.20', group_id: 'grp-compute' }),
          mapping({ mapping_id: 'map-win-rate', field_id: 'fld-distro', value: 'windows', cost: '1.5', type: 'rate', group_id: 'grp-compute' }),
          mapping({ mapping_id: 'map-win-license', field_id: 'fld-distro', value: 'windows', cost: '0.02', group_id: 'grp-license' }),
        ],
      }),
    );
    const rate = (metadata: Record<string, string>, quantity = '1') => rater.rate(frame({ service: 'instance', quantity, metadata }));
    // m1.small's 0.02 is below the service's 0.03: the higher flat stays.
    expect(rate({ flavor_name: 'm1.small' })).toMatchObject({ cost: '0.030000000', ruleId: 'map-base' });
    expect(rate({ flavor_name: 'm1.large' })).toMatchObject({ cost: '0.200000000', ruleId: 'map-large' });
    // Windows: compute group 0.20 x 1.5, plus the license group's 0.02.
    const windowsLarge = m('0.20').times('1.5').plus('0.02');
    expect(rate({ flavor_name: 'm1.large', os_distro: 'windows' })).toMatchObject({ cost: stored(windowsLarge), price: stored(windowsLarge), ruleId: 'map-large,map-win-rate,map-win-license' });
    // Three hours of it.
    expect(rate({ flavor_name: 'm1.large', os_distro: 'windows' }, '3')?.cost).toBe(stored(windowsLarge.times(3)));
    // An unpriced flavor falls back to the service mapping; metadata values match exactly (case too).
    expect(rate({ flavor_name: 'M1.LARGE' })?.cost).toBe('0.030000000');
  });

  it('a rate with no flat in its group prices nothing (CloudKitty multiplies the flat)', () => {
    const rater = createHashmapRater(
      rules({
        services: [{ service_id: 's', name: 'image.size' }],
        mappings: [mapping({ mapping_id: 'r', service_id: 's', cost: '2', type: 'rate' })],
      }),
    );
    expect(rater.rate(frame({ service: 'image.size', quantity: '10' }))).toMatchObject({ cost: '0.000000000', price: '0.000000000', ruleId: 'r' });
  });

  it('field thresholds compare the metadata as a number and adjust the flat (flat) or the rate (rate) before the quantity', () => {
    const rater = createHashmapRater(
      rules({
        services: [{ service_id: 's', name: 'instance' }],
        fields: [
          { field_id: 'f-vcpus', name: 'vcpus', service_id: 's' },
          { field_id: 'f-ram', name: 'ram', service_id: 's' },
        ],
        mappings: [mapping({ mapping_id: 'base', service_id: 's', cost: '0.01' })],
        thresholds: [
          threshold({ threshold_id: 'cpu-4', field_id: 'f-vcpus', level: '4', cost: '0.04' }),
          threshold({ threshold_id: 'cpu-8', field_id: 'f-vcpus', level: '8', cost: '0.09' }),
          threshold({ threshold_id: 'ram-16g', field_id: 'f-ram', level: '16384', cost: '1.1', type: 'rate', group_id: 'g-ram' }),
          threshold({ threshold_id: 'ram-flat', field_id: 'f-ram', level: '0', cost: '0.005', group_id: 'g-ram' }),
        ],
      }),
    );
    const rate = (metadata: Record<string, string>, quantity = '2') => rater.rate(frame({ service: 'instance', quantity, metadata }))?.cost;
    expect(rate({ vcpus: '2' })).toBe(stored(m('0.01').times(2)));
    expect(rate({ vcpus: '4' })).toBe(stored(m('0.01').plus('0.04').times(2)));
    expect(rate({ vcpus: '16' })).toBe(stored(m('0.01').plus('0.09').times(2)));
    // Non-numeric metadata reaches no threshold.
    expect(rate({ vcpus: 'many' })).toBe(stored(m('0.01').times(2)));
    // In g-ram only the highest level applies: 16384 (a rate on a flat of 0: nothing), below it the 0 level's flat.
    expect(rate({ ram: '8192' })).toBe(stored(m('0.01').times(2).plus(m('0.005').times(2))));
    expect(rate({ ram: '16384' })).toBe(stored(m('0.01').times(2)));
  });

  it('a service flat threshold adds once per frame, whatever the quantity', () => {
    const rater = createHashmapRater(
      rules({
        services: [{ service_id: 's', name: 'ip.floating' }],
        mappings: [mapping({ mapping_id: 'ip', service_id: 's', cost: '0.005' })],
        thresholds: [threshold({ threshold_id: 'fee', service_id: 's', level: '0', cost: '0.25' })],
      }),
    );
    expect(rater.rate(frame({ service: 'ip.floating', quantity: '4' }))).toMatchObject({ cost: stored(m('0.005').times(4).plus('0.25')), price: stored(m('0.005').times(4).plus('0.25').dividedBy(4)) });
    // A zero quantity still pays the fee; its price is the per-unit part.
    expect(rater.rate(frame({ service: 'ip.floating', quantity: '0' }))).toMatchObject({ cost: '0.250000000', price: '0.005000000', ruleId: 'ip,fee' });
  });

  it("a project's own mapping replaces the general one with the same key; other projects keep the general price", () => {
    const rater = createHashmapRater(
      rules({
        services: [{ service_id: 's', name: 'instance' }],
        fields: [{ field_id: 'f', name: 'flavor_id', service_id: 's' }],
        mappings: [
          mapping({ mapping_id: 'general', field_id: 'f', value: 'flavor-1', cost: '0.10' }),
          mapping({ mapping_id: 'negotiated', field_id: 'f', value: 'flavor-1', cost: '0.07', tenant_id: 'project-b' }),
          mapping({ mapping_id: 'b-only', field_id: 'f', value: 'flavor-2', cost: '0.50', tenant_id: 'project-b' }),
        ],
      }),
    );
    const rate = (projectId: string, flavor: string) => rater.rate(frame({ service: 'instance', quantity: '1', projectId, metadata: { flavor_id: flavor } }));
    expect(rate('project-a', 'flavor-1')).toMatchObject({ cost: '0.100000000', ruleId: 'general' });
    // Replaced, not the cheaper of the two nor both: same group and value.
    expect(rate('project-b', 'flavor-1')).toMatchObject({ cost: '0.070000000', ruleId: 'negotiated' });
    expect(rate('project-b', 'flavor-2')?.cost).toBe('0.500000000');
    // project-a has no flavor-2 price, but the service has rules in force: rated at 0.
    expect(rate('project-a', 'flavor-2')).toMatchObject({ cost: '0.000000000', ruleId: '' });
  });

  it('applies the rule in force at the frame period start: a price change at a boundary, none before the first start', () => {
    const rater = createHashmapRater(
      rules({
        services: [{ service_id: 's', name: 'volume.size' }],
        mappings: [
          mapping({ mapping_id: 'old', service_id: 's', cost: '0.10', start: '2026-03-01T00:00:00', end: '2026-03-15T00:00:00' }),
          mapping({ mapping_id: 'new', service_id: 's', cost: '0.12', start: '2026-03-15T00:00:00' }),
        ],
      }),
    );
    const at = (iso: string) => rater.rate(frame({ service: 'volume.size', quantity: '10', periodStart: new Date(iso), periodEnd: new Date(Date.parse(iso) + 3_600_000) }));
    expect(at('2026-02-28T23:00:00Z')).toBeNull();
    expect(at('2026-03-01T00:00:00Z')).toMatchObject({ cost: '1.000000000', ruleId: 'old' });
    expect(at('2026-03-14T23:00:00Z')).toMatchObject({ cost: '1.000000000', ruleId: 'old' });
    expect(at('2026-03-15T00:00:00Z')).toMatchObject({ cost: '1.200000000', ruleId: 'new' });
    expect(at('2030-01-01T00:00:00Z')?.ruleId).toBe('new');
  });

  it('adds exactly: 0.1 + 0.2 over 1e8 units is 30000000 to the last place, and the 9th place rounds half-even', () => {
    const rater = createHashmapRater(
      rules({
        services: [
          { service_id: 's', name: 'storage.objects.size' },
          { service_id: 't', name: 'tiny' },
        ],
        groups: [
          { group_id: 'g1', name: 'one' },
          { group_id: 'g2', name: 'two' },
        ],
        mappings: [
          mapping({ mapping_id: 'a', service_id: 's', cost: '0.1', group_id: 'g1' }),
          mapping({ mapping_id: 'b', service_id: 's', cost: '0.2', group_id: 'g2' }),
          mapping({ mapping_id: 'c', service_id: 't', cost: '0.0000000005' }),
        ],
      }),
    );
    // Binary floats say 30000000.000000004 here.
    expect((0.1 + 0.2) * 1e8).not.toBe(30_000_000);
    expect(rater.rate(frame({ service: 'storage.objects.size', quantity: '100000000' }))).toMatchObject({ cost: '30000000.000000000', price: '0.300000000' });
    expect(rater.rate(frame({ service: 'tiny', quantity: '1' }))?.cost).toBe('0.000000000');
    expect(rater.rate(frame({ service: 'tiny', quantity: '3' }))?.cost).toBe('0.000000002');
    expect(rater.rate(frame({ service: 'tiny', quantity: '5' }))?.cost).toBe('0.000000002');
  });

  it('rates nothing for an unknown service, a service with no rule in force, or a disabled module', () => {
    const r = rules({
      services: [
        { service_id: 's', name: 'instance' },
        { service_id: 'e', name: 'empty' },
      ],
      mappings: [mapping({ mapping_id: 'x', service_id: 's', cost: '1' }), mapping({ mapping_id: 'later', service_id: 'e', cost: '1', start: '2030-01-01T00:00:00' })],
    });
    expect(createHashmapRater(r).rate(frame({ service: 'network.incoming.bytes', quantity: '1' }))).toBeNull();
    expect(createHashmapRater(r).rate(frame({ service: 'empty', quantity: '1' }))).toBeNull();
    expect(createHashmapRater(r).rate(frame({ service: 'instance', quantity: '1' }))?.cost).toBe('1.000000000');
    expect(createHashmapRater(r, { enabled: false }).rate(frame({ service: 'instance', quantity: '1' }))).toBeNull();
    expect(() => createHashmapRater(r).rate(frame({ service: 'instance', quantity: 'NaN' }))).toThrow(expect.objectContaining({ code: 'CUMULUS_RATING_HASHMAP_INVALID' }));
  });

  it('keeps the frame and states the currency (EUR by default)', () => {
    const rater = createHashmapRater(rules({ services: [{ service_id: 's', name: 'instance' }], mappings: [mapping({ mapping_id: 'x', service_id: 's', cost: '0.5' })] }));
    const f = frame({ service: 'instance', quantity: '2', groupby: { project_id: 'project-a', id: 'resource-1' } });
    expect(rater.rate(f)).toEqual({ ...f, price: '0.500000000', cost: '1.000000000', currency: 'EUR', ruleId: 'x' });
    expect(rater.currency).toBe('EUR');
  });
});

describe('hashmap validation', () => {
  const SVC = '6c1b8a30-797f-4b7e-ad66-000000000001';
  const FLD = '6c1b8a30-797f-4b7e-ad66-000000000002';
  const invalid = (pattern: RegExp) => expect.objectContaining({ code: 'CUMULUS_RATING_HASHMAP_INVALID', httpStatus: 400, message: expect.stringMatching(pattern) });

  it("accepts what the cloudkitty client sends (every key, nulls for the unused ones) and keeps costs exact", () => {
    const input = parseMappingInput({ cost: 0.1, value: null, service_id: SVC, group_id: null, field_id: null, tenant_id: null, type: 'flat' });
    expect(input).toMatchObject({ service_id: SVC, field_id: null, value: null, type: 'flat', startMs: null, endMs: null });
    expect(input.cost.toFixed()).toBe('0.1');
    expect(parseMappingInput({ cost: '0.1000000000000000000000000001', field_id: FLD, value: 'm1.tiny' }).cost.toFixed()).toBe('0.1000000000000000000000000001');
    expect(parseThresholdInput({ level: '50', cost: 0.98, service_id: SVC, type: 'rate' }).level.toFixed()).toBe('50');
  });

  it("refuses what CloudKitty refuses, naming the field", () => {
    expect(() => parseMappingInput({ cost: '1', service_id: SVC, field_id: FLD })).toThrow(invalid(/You can only specify one parent/));
    expect(() => parseMappingInput({ cost: '1', value: 'x' })).toThrow(invalid(/You must specify one parent/));
    expect(() => parseMappingInput({ cost: '1', service_id: SVC, value: 'x' })).toThrow(invalid(/You can't specify a value and a service_id/));
    expect(() => parseMappingInput({ cost: '1', field_id: FLD })).toThrow(invalid(/You must specify a value for a field mapping/));
    expect(() => parseMappingInput({ cost: '1', service_id: SVC, type: 'fail' })).toThrow(invalid(/field\/attribute type\. Value: "fail"\. Value should be one of: flat, rate/));
    expect(() => parseMappingInput({ service_id: SVC })).toThrow(invalid(/field\/attribute cost.*Mandatory field missing/));
    expect(() => parseThresholdInput({ cost: '1', service_id: SVC })).toThrow(invalid(/field\/attribute level.*Mandatory field missing/));
    expect(() => parseMappingInput({ cost: '1', service_id: 'not-a-uuid' })).toThrow(invalid(/field\/attribute service_id.*Invalid UUID/));
    expect(() => parseMappingInput({ cost: '1', service_id: SVC, colour: 'red' })).toThrow(invalid(/Unknown attribute.*colour/));
  });

  it('refuses money that is not a decimal within Numeric(40, 28), and levels outside Numeric(20, 8)', () => {
    for (const cost of ['abc', '1,5', '', 'NaN', 'Infinity', true, {}]) expect(() => parseMappingInput({ cost, service_id: SVC })).toThrow(invalid(/field\/attribute cost/));
    expect(() => parseMappingInput({ cost: '-0.01', service_id: SVC })).toThrow(invalid(/cost.*>= 0/));
    expect(() => parseMappingInput({ cost: '0.00000000000000000000000000001', service_id: SVC })).toThrow(invalid(/cost.*at most 28 decimal places/));
    expect(() => parseMappingInput({ cost: '1234567890123', service_id: SVC })).toThrow(invalid(/cost.*at most 12 digits/));
    expect(() => parseThresholdInput({ cost: '1', level: '0.000000001', service_id: SVC })).toThrow(invalid(/level.*at most 8 decimal places/));
  });

  it('reads start and end as ISO 8601 (UTC without a zone); a date alone as end means through that day', () => {
    expect(parseRuleTime('start', '2026-03-01')).toBe(Date.UTC(2026, 2, 1));
    expect(parseRuleTime('end', '2026-03-31')).toBe(Date.UTC(2026, 3, 1));
    expect(parseRuleTime('start', '2026-03-01T06:30:00+02:00')).toBe(Date.UTC(2026, 2, 1, 4, 30));
    expect(parseRuleTime('start', '2026-03-01 06:30')).toBe(Date.UTC(2026, 2, 1, 6, 30));
    for (const bad of ['2026-02-30', 'yesterday', '2026-03-01T25:00:00', 20260301]) expect(() => parseRuleTime('start', bad)).toThrow(invalid(/field\/attribute start/));
    expect(() => parseMappingInput({ cost: '1', service_id: SVC, start: '2026-03-02', end: '2026-03-01T12:00:00' })).toThrow(invalid(/start after end/));
    // An end date the same day as the start is through that day: valid.
    expect(parseMappingInput({ cost: '1', service_id: SVC, start: '2026-03-01', end: '2026-03-01' })).toMatchObject({ startMs: Date.UTC(2026, 2, 1), endMs: Date.UTC(2026, 2, 2) });
  });

  it('applies a PUT body over the current mapping: given keys change, the parent does not, a null group keeps the group', () => {
    const current = mapping({ mapping_id: 'x', field_id: FLD, value: 'm1.tiny', cost: '0.1000000000000000000000000000', group_id: SVC, start: '2026-01-01T00:00:00' });
    const next = applyMappingChange(current, { ...current, cost: '0.5', service_id: null, group_id: null });
    expect(next).toMatchObject({ field_id: FLD, service_id: null, value: 'm1.tiny', group_id: SVC, startMs: Date.UTC(2026, 0, 1), endMs: null });
    expect(next.cost.toFixed()).toBe('0.5');
    expect(() => applyMappingChange(current, { value: '' })).toThrow(invalid(/You must specify a value for a field mapping/));
    expect(() => applyMappingChange(current, { end: '2025-12-31T00:00:00' })).toThrow(invalid(/start after end/));
  });

  it('overlap: half-open periods, null unbounded', () => {
    const t = (d: string) => Date.parse(`${d}T00:00:00Z`);
    expect(periodsOverlap(null, null, t('2026-01-01'), null)).toBe(true);
    expect(periodsOverlap(null, t('2026-03-15'), t('2026-03-15'), null)).toBe(false);
    expect(periodsOverlap(null, t('2026-03-16'), t('2026-03-15'), null)).toBe(true);
    expect(periodsOverlap(t('2026-04-01'), null, t('2026-03-01'), t('2026-04-01'))).toBe(false);
  });
});
