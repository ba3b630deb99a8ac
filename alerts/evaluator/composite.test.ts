import { describe, expect, it } from 'vitest';
import type { Alarm, AlarmRule, AlarmState } from '../../storage/index.ts';
import { compositeDecision } from './composite.ts';
import { insufficient, processStatistics, type RuleEvaluation } from './threshold.ts';

// Sub-rules judged by their own data: each leaf names the points it "reads" (threshold 10, gt).
const leaf = (name: string, points: number[] | null): AlarmRule => ({ type: 'outage', check: name, comparison_operator: 'gt', threshold: 10, window: 60, points });
const judge = async (rule: AlarmRule): Promise<RuleEvaluation> => (rule.points === null ? insufficient('no data') : processStatistics({ comparison_operator: 'gt', threshold: 10 }, rule.points as number[]));
const alarm = (rule: AlarmRule, state: AlarmState = 'insufficient data', repeat_actions = false): Alarm =>
  ({ alarm_id: 'c1', name: 'c', description: '', type: 'composite', enabled: true, severity: 'low', repeat_actions, time_constraints: [], alarm_actions: [], ok_actions: [], insufficient_data_actions: [], project_id: 'p', user_id: 'u', rule, state, state_reason: '', state_timestamp: '', timestamp: '' }) as Alarm;

const BREACH = [20];
const CALM = [1];

describe('composite rules (Aodh composite evaluator)', () => {
  it('and: all alarm -> alarm; one ok -> ok; alarm with unknown -> insufficient data', async () => {
    expect(await compositeDecision(alarm({ and: [leaf('a', BREACH), leaf('b', BREACH)] }), judge)).toMatchObject({
      state: 'alarm',
      reason: 'Composite rule alarm with composition form: (rule1 and rule2) transition to alarm, due to rules: rule1, rule2 outside their threshold.',
      reasonData: { type: 'composite', composition_form: '(rule1 and rule2)', causative_rules: { rule1: leaf('a', BREACH), rule2: leaf('b', BREACH) } },
    });
    expect(await compositeDecision(alarm({ and: [leaf('a', BREACH), leaf('b', CALM)] }), judge)).toMatchObject({ state: 'ok', reason: 'Composite rule alarm with composition form: (rule1 and rule2) transition to ok, due to rules: rule2 inside their threshold.' });
    // Unknown and alarm: neither holds; already unknown, so nothing to announce; from ok it is announced.
    expect(await compositeDecision(alarm({ and: [leaf('a', BREACH), leaf('b', null)] }), judge)).toBeNull();
    expect(await compositeDecision(alarm({ and: [leaf('a', BREACH), leaf('b', null)] }, 'ok'), judge)).toMatchObject({
      state: 'insufficient data',
      reason: 'Composite rule alarm with composition form: (rule1 and rule2) transition to insufficient data, due to rules: rule2 state evaluated to unknown.',
    });
  });

  it('or: one alarm -> alarm even with unknowns; all ok -> ok; unknown with ok -> insufficient data; nesting numbers rules depth first', async () => {
    expect(await compositeDecision(alarm({ or: [leaf('a', null), leaf('b', BREACH)] }), judge)).toMatchObject({ state: 'alarm' });
    expect(await compositeDecision(alarm({ or: [leaf('a', CALM), leaf('b', CALM)] }, 'alarm'), judge)).toMatchObject({ state: 'ok' });
    expect(await compositeDecision(alarm({ or: [leaf('a', CALM), leaf('b', null)] }, 'alarm'), judge)).toMatchObject({ state: 'insufficient data' });
    const nested = await compositeDecision(alarm({ or: [leaf('a', CALM), { and: [leaf('b', BREACH), leaf('c', BREACH)] }] }), judge);
    expect(nested).toMatchObject({ state: 'alarm', reasonData: { composition_form: '(rule1 or (rule2 and rule3))' } });
  });

  it('same state: nothing, unless repeat_actions ("remaining as")', async () => {
    expect(await compositeDecision(alarm({ and: [leaf('a', BREACH)] }, 'alarm'), judge)).toBeNull();
    expect((await compositeDecision(alarm({ and: [leaf('a', BREACH)] }, 'alarm', true), judge))?.reason).toMatch(/remaining as alarm/);
  });

  it('mixed sub-rules take their trend when the alarm is unknown', async () => {
    // Two points, mixed, the newest breaching: trending alarm.
    expect(await compositeDecision(alarm({ and: [leaf('a', [1, 20]), leaf('b', BREACH)] }), judge)).toMatchObject({ state: 'alarm' });
  });
});
