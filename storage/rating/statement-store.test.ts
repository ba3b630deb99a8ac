import { describe, expect, it } from 'vitest';
import { ManualClock, openStateDatabase } from '../../core/index.ts';
import { buildStatementContent, domainScope, parseMonth, projectScope, statementDigest, type StatementContent, type StatementScope } from './statement.ts';
import { createStatementStore, numberScope, statementNumber } from './statement-store.ts';

const JANUARY = parseMonth('2026-01')!;
const content = (scope: StatementScope, cost: string, month = JANUARY): StatementContent =>
  buildStatementContent(
    scope,
    month,
    [{ project_id: scope.projectIds[0] as string, service: 'instance', resource_id: 'vm-1', resource_type: 'instance', display_name: '', unit: 'instance', price: '1', currency: 'EUR', quantity: '1', cost, first_start: '2026-01-01 00:00:00', last_end: '2026-01-01 01:00:00', frames: '1' }],
    [],
  );

function open() {
  const db = openStateDatabase(':memory:');
  const clock = new ManualClock(new Date('2026-02-02T00:00:00Z'));
  return { db, clock, store: createStatementStore({ db, clock }) };
}

describe('statement numbers', () => {
  it('are CUM-<yyyymm>-<8 letters and digits of the scope>-<6-digit sequence>[-R<revision>]', () => {
    expect(statementNumber('2026-01', 'project', '9F1C-2A7B-e44d-0000', 7, 1)).toBe('CUM-202601-9f1c2a7b-000007');
    expect(statementNumber('2026-01', 'domain', 'default', 12, 3)).toBe('CUM-202601-Ddefault-000012-R3');
    expect(numberScope('project', "' OR 1=1 --")).toBe('or11');
    expect(numberScope('project', '---')).toBe('x');
  });
});

describe('the statement store', () => {
  it('gives a number once: the same content keeps it, changed content gets the next revision of the same sequence', () => {
    const { store, clock, db } = open();
    const first = content(projectScope('aaaa1111bbbb'), '1.00');
    const a = store.issue(first, statementDigest(first), 'job');
    expect(a.created).toBe(true);
    expect(a.issued).toMatchObject({ number: 'CUM-202601-aaaa1111-000001', revision: 1, month: '2026-01', total: '1.00', currency: 'EUR', line_count: 1, issued_by: 'job', supersedes: null, superseded_by: null, issued_at: '2026-02-02T00:00:00.000Z' });
    clock.advance(60_000);
    expect(store.issue(first, statementDigest(first), 'someone')).toEqual({ issued: a.issued, created: false });

    const other = content(projectScope('cccc2222'), '2.00');
    expect(store.issue(other, statementDigest(other), 'job').issued.number).toBe('CUM-202601-cccc2222-000002');

    const reprocessed = content(projectScope('aaaa1111bbbb'), '1.50');
    const b = store.issue(reprocessed, statementDigest(reprocessed), 'u-1');
    expect(b).toMatchObject({ created: true, issued: { number: 'CUM-202601-aaaa1111-000001-R2', revision: 2, supersedes: 'CUM-202601-aaaa1111-000001', total: '1.50', issued_at: '2026-02-02T00:01:00.000Z' } });
    // Back to the first content: still a change from the latest revision, so R3 (numbers are never reused).
    expect(store.issue(first, statementDigest(first), 'u-1').issued.number).toBe('CUM-202601-aaaa1111-000001-R3');

    const february = content(projectScope('aaaa1111bbbb'), '1.00', parseMonth('2026-02')!);
    expect(store.issue(february, statementDigest(february), 'job').issued.number).toBe('CUM-202602-aaaa1111-000001');

    const domain = content(domainScope('default', ['aaaa1111bbbb', 'cccc2222']), '3.00');
    expect(store.issue(domain, statementDigest(domain), 'u-1').issued).toMatchObject({ number: 'CUM-202601-Ddefault-000003', scope: { type: 'domain', id: 'default', project_ids: ['aaaa1111bbbb', 'cccc2222'] } });

    // The issued content is kept as issued, also once replaced.
    expect(store.get('CUM-202601-aaaa1111-000001')).toEqual({ issued: { ...a.issued, superseded_by: 'CUM-202601-aaaa1111-000001-R2' }, content: first });
    expect(store.get("CUM-202601-aaaa1111-000001' OR '1'='1")).toBeUndefined();

    const numbers = (filter: Parameters<typeof store.list>[0]) => store.list(filter).map((s) => s.number);
    expect(numbers({ projectId: null })).toEqual([
      'CUM-202602-aaaa1111-000001',
      'CUM-202601-Ddefault-000003',
      'CUM-202601-aaaa1111-000001',
      'CUM-202601-aaaa1111-000001-R2',
      'CUM-202601-aaaa1111-000001-R3',
      'CUM-202601-cccc2222-000002',
    ]);
    // A project's own statements only: not the domain's, though it covers the project.
    expect(numbers({ projectId: 'cccc2222' })).toEqual(['CUM-202601-cccc2222-000002']);
    expect(numbers({ projectId: null, month: '2026-02' })).toEqual(['CUM-202602-aaaa1111-000001']);
    expect(numbers({ projectId: null, limit: 2, offset: 1 })).toEqual(['CUM-202601-Ddefault-000003', 'CUM-202601-aaaa1111-000001']);
    expect(numbers({ projectId: "' OR 1=1 --" })).toEqual([]);

    // A second store on the same database (a restart) carries on the sequences.
    const again = createStatementStore({ db, clock });
    const third = content(projectScope('eeee3333'), '1.00');
    expect(again.issue(third, statementDigest(third), 'job').issued.number).toBe('CUM-202601-eeee3333-000004');
  });
});
