import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, openStateDatabase, silentLogger, TelemetryRegistry } from '../../core/index.ts';
import { createStatementStore, parseMonth, type StatementStore } from '../../storage/index.ts';
import { openTempStore, type TempStore } from '../../test/support/temp-store.ts';
import { createStatementJob, DEFAULT_STATEMENT_SCHEDULE } from './statements-job.ts';

const frame = (projectId: string, start: string, cost: string) => ({
  project_id: projectId,
  user_id: 'u',
  resource_id: `vm-${projectId}`,
  resource_type: 'instance',
  service: 'instance',
  period_start: start,
  period_end: new Date(Date.parse(start) + 3_600_000).toISOString(),
  quantity: '1',
  unit: 'instance',
  price: cost,
  cost,
  currency: 'EUR',
  rule_id: 'r1',
  groupby: {},
  metadata: {},
  rated_at: '2026-03-01T00:00:00.000Z',
});

let temp: TempStore;
let statements: StatementStore;
const clock = new ManualClock(new Date('2026-03-01T07:00:00Z'));
const telemetry = new TelemetryRegistry();

beforeAll(async () => {
  temp = await openTempStore('cumulus-statement-job-');
  statements = createStatementStore({ db: openStateDatabase(':memory:'), clock });
  await temp.store.insert('rated_usage', [
    frame('p-a', '2026-02-01T00:00:00Z', '1.234567891'),
    frame('p-a', '2026-02-28T23:00:00Z', '0.005000000'),
    frame('p-b', '2026-02-10T05:00:00Z', '10.000000001'),
    // Another month: not this run's.
    frame('p-c', '2026-03-01T00:00:00Z', '5.000000000'),
  ]);
});
afterAll(async () => {
  await temp?.close();
});

describe('the monthly statement job', () => {
  it('refuses a schedule that is not a cron expression, naming it', () => {
    expect(() => createStatementJob({ schedule: 'monthly' }, { store: temp.store, statements, clock, logger: silentLogger(), telemetry: telemetry.component('t') })).toThrow(/schedule must be a cron expression.*"monthly"/);
    expect(DEFAULT_STATEMENT_SCHEDULE).toBe('0 7 1 * *');
  });

  it("issues every rated project's statement of the previous month, and the same numbers again on a second run", async () => {
    const job = createStatementJob({}, { store: temp.store, statements, clock, logger: silentLogger(), telemetry: telemetry.component('pipeline.statements') });
    await job.stop(); // safe before start
    await job.start();
    const first = await job.run();
    expect(first.month).toBe('2026-02');
    expect(first.statements).toEqual([
      // 1.234567891 -> 1.23 and 0.005 -> 0.01 (half-up): 1.24
      { project_id: 'p-a', number: 'CUM-202602-pa-000001', revision: 1, outcome: 'issued', total: '1.24', currency: 'EUR' },
      { project_id: 'p-b', number: 'CUM-202602-pb-000002', revision: 1, outcome: 'issued', total: '10.00', currency: 'EUR' },
    ]);
    const second = await job.run();
    expect(second.statements.map((s) => [s.number, s.outcome])).toEqual([
      ['CUM-202602-pa-000001', 'unchanged'],
      ['CUM-202602-pb-000002', 'unchanged'],
    ]);
    expect(telemetry.component('pipeline.statements').snapshot()).toMatchObject({ accepted: 2, batches: 2 });
    await job.stop();
    await job.stop();
  });

  it('refuses a month that is not closed yet', async () => {
    const job = createStatementJob({}, { store: temp.store, statements, clock, logger: silentLogger(), telemetry: telemetry.component('t') });
    await expect(job.run(parseMonth('2026-03')!)).rejects.toMatchObject({ code: 'CUMULUS_RATING_MONTH_OPEN', httpStatus: 409 });
  });
});
