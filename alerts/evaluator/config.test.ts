import { describe, expect, it } from 'vitest';
import { DEFAULT_EVALUATION_SCHEDULE, DEFAULT_EVENT_GROUP_ID, DEFAULT_LEASE_MS, resolveEvaluatorConfig, schedulePeriodMs } from './config.ts';

describe('evaluator config', () => {
  it('defaults: every 10 s, a 30 s lease, its own consumer group', () => {
    const resolved = resolveEvaluatorConfig({ memberId: 'm1' });
    expect(resolved).toMatchObject({ schedule: DEFAULT_EVALUATION_SCHEDULE, periodMs: 10_000, leaseMs: DEFAULT_LEASE_MS, eventGroupId: DEFAULT_EVENT_GROUP_ID, memberId: 'm1', ingestionLagSeconds: 0, actor: { user_id: '', project_id: '' } });
    expect(resolveEvaluatorConfig({}).memberId).toMatch(/^.+:\d+:[0-9a-f]{8}$/);
  });

  it('knows the shortest gap of a schedule, down to one second', () => {
    expect(schedulePeriodMs('* * * * * *')).toBe(1000);
    expect(schedulePeriodMs('*/15 * * * * *')).toBe(15_000);
    expect(schedulePeriodMs('*/5 * * * *')).toBe(300_000);
    expect(schedulePeriodMs('0 9,17 * * *')).toBe(8 * 3_600_000);
  });

  it('refuses bad settings with the key and what it must be', () => {
    const refused = (message: RegExp) => expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID', message: expect.stringMatching(message) });
    expect(() => resolveEvaluatorConfig({ schedule: 'every 10 seconds' })).toThrow(refused(/alerts\.evaluator\.schedule must be a node-cron expression/));
    expect(() => resolveEvaluatorConfig({ leaseMs: 10 })).toThrow(refused(/alerts\.evaluator\.leaseMs must be .* >= 1000, got 10/));
    expect(() => resolveEvaluatorConfig({ memberId: ' ' })).toThrow(refused(/alerts\.evaluator\.memberId/));
    expect(() => resolveEvaluatorConfig({ ingestionLagSeconds: -1 })).toThrow(refused(/ingestionLagSeconds/));
  });
});
