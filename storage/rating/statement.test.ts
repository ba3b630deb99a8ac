import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import type { DailyCostRow, StatementLineRow } from '../queries/statements.ts';
import { buildStatementContent, domainScope, monthOf, parseMonth, projectScope, statementDigest } from './statement.ts';

const row = (fields: Partial<StatementLineRow>): StatementLineRow => ({
  project_id: 'p1',
  service: 'instance',
  resource_id: 'vm-1',
  resource_type: 'instance',
  display_name: '',
  unit: 'instance',
  price: '0.041666666667',
  currency: 'EUR',
  quantity: '1.000000000',
  cost: '0.041666667',
  first_start: '2026-01-01 00:00:00',
  last_end: '2026-01-01 01:00:00',
  frames: '1',
  ...fields,
});

const JANUARY = parseMonth('2026-01')!;

describe('months', () => {
  it('reads YYYY-MM as a UTC calendar month and refuses anything else', () => {
    expect(JANUARY).toEqual({ month: '2026-01', start: new Date('2026-01-01T00:00:00Z'), end: new Date('2026-02-01T00:00:00Z') });
    expect(parseMonth('2026-12')?.end).toEqual(new Date('2027-01-01T00:00:00Z'));
    for (const bad of ['2026-13', '2026-1', '26-01', "2026-01' OR 1=1", '']) expect(parseMonth(bad)).toBeNull();
    expect(monthOf(new Date('2026-03-31T23:59:59Z')).month).toBe('2026-03');
    expect(monthOf(new Date('2026-01-15T00:00:00Z'), -1).month).toBe('2025-12');
  });
});

describe('buildStatementContent', () => {
  it('rounds each line from its exact sum, and totals the rounded lines (the documented rule)', () => {
    // Three lines of 0.005 each: rounded 0.01 each (half-up), so the total is 0.03, not round(0.015) = 0.02.
    const rows = [
      row({ resource_id: 'vm-1', cost: '0.005000000', quantity: '0.12', display_name: 'web "1" <b>' }),
      row({ resource_id: 'vm-2', cost: '0.005000000' }),
      row({ resource_id: 'vol-1', service: 'volume.size', resource_type: 'volume', unit: 'GiB-hour', price: '0.000100000000', quantity: '50.000000000', cost: '0.005000000' }),
    ];
    const daily: DailyCostRow[] = [{ day: '2026-01-01', currency: 'EUR', cost: '0.015000000' }];
    const content = buildStatementContent(projectScope('p1'), JANUARY, rows, daily);
    expect(content.services.map((s) => [s.service, s.total])).toEqual([
      ['instance', '0.02'],
      ['volume.size', '0.01'],
    ]);
    expect(content.total).toBe('0.03');
    const exactTotal = rows.reduce((sum, r) => sum.plus(r.cost), new Decimal(0));
    expect(exactTotal.toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2)).toBe('0.02');
    expect(content.services[0]?.lines[0]).toEqual({
      project_id: 'p1',
      service: 'instance',
      resource_id: 'vm-1',
      resource_type: 'instance',
      display_name: 'web "1" <b>',
      quantity: '0.12',
      unit: 'instance',
      unit_price: '0.041666666667',
      amount: '0.01',
      exact_amount: '0.005000000',
      from: '2026-01-01T00:00:00Z',
      to: '2026-01-01T01:00:00Z',
    });
    expect(content.services[1]?.lines[0]).toMatchObject({ display_name: null, unit_price: '0.0001', quantity: '50' });
    expect(content.daily).toEqual([{ date: '2026-01-01', amount: '0.02' }]);
    expect(content.period).toEqual({ month: '2026-01', start: '2026-01-01T00:00:00.000Z', end: '2026-02-01T00:00:00.000Z' });
    expect(content.currency).toBe('EUR');
  });

  it('says EUR and 0.00 without rows, and refuses a mix of currencies with 409', () => {
    const empty = buildStatementContent(projectScope('p1'), JANUARY, [], []);
    expect([empty.currency, empty.total, empty.services]).toEqual(['EUR', '0.00', []]);
    expect(() => buildStatementContent(projectScope('p1'), JANUARY, [row({}), row({ resource_id: 'vm-2', currency: 'USD' })], [])).toThrow(
      expect.objectContaining({ code: 'CUMULUS_RATING_MIXED_CURRENCY', httpStatus: 409, message: expect.stringContaining('EUR, USD') }),
    );
  });

  it('lists a domain statement over its sorted, unique projects', () => {
    const scope = domainScope('d1', ['p2', 'p1', 'p2']);
    expect(scope.projectIds).toEqual(['p1', 'p2']);
    const content = buildStatementContent(scope, JANUARY, [row({ project_id: 'p2' }), row({ project_id: 'p1' })], []);
    expect(content.scope).toEqual({ type: 'domain', id: 'd1', project_ids: ['p1', 'p2'] });
    expect(content.services[0]?.lines.map((l) => l.project_id)).toEqual(['p1', 'p2']);
  });
});

describe('statementDigest', () => {
  it('is the same for the same content whatever the key order, and changes with any figure', () => {
    const content = buildStatementContent(projectScope('p1'), JANUARY, [row({})], []);
    const reordered = JSON.parse(JSON.stringify({ total: content.total, services: content.services, period: content.period, scope: content.scope, daily: content.daily, currency: content.currency }));
    expect(statementDigest(reordered)).toBe(statementDigest(content));
    expect(statementDigest(buildStatementContent(projectScope('p1'), JANUARY, [row({ cost: '0.041666668' })], []))).not.toBe(statementDigest(content));
  });
});
