import { describe, expect, it } from 'vitest';
import type { Alarm, AlarmState } from '../../storage/index.ts';
import { processStatistics, pythonNumber, thresholdDecision, thresholdOfPoints } from './threshold.ts';

const rule = (comparison_operator: 'lt' | 'le' | 'eq' | 'ne' | 'ge' | 'gt', threshold = 10, evaluation_periods = 3) => ({ comparison_operator, threshold, granularity: 60, evaluation_periods, aggregation_method: 'mean' });
const alarm = (state: AlarmState, repeat_actions = false): Alarm =>
  ({ alarm_id: 'a1', name: 'n', description: '', type: 'gnocchi_resources_threshold', enabled: true, severity: 'low', repeat_actions, time_constraints: [], alarm_actions: [], ok_actions: [], insufficient_data_actions: [], project_id: 'p', user_id: 'u', rule: rule('gt'), state, state_reason: '', state_timestamp: '', timestamp: '' }) as Alarm;

describe('threshold semantics (Aodh)', () => {
  it('compares with each operator: all breaching is alarm, none is ok, mixed is a trend', () => {
    const cases: Array<[Parameters<typeof rule>[0], number[], AlarmState | null, 'ok' | 'alarm' | null]> = [
      ['gt', [11, 12, 13], 'alarm', null],
      ['gt', [10, 9, 8], 'ok', null],
      ['ge', [10, 10, 11], 'alarm', null],
      ['lt', [9, 1, 0], 'alarm', null],
      ['le', [10, 11, 12], null, 'ok'],
      ['eq', [10, 10, 10], 'alarm', null],
      ['ne', [10, 10, 10], 'ok', null],
      ['gt', [11, 9, 12], null, 'alarm'],
    ];
    for (const [op, points, state, trending] of cases) {
      const evaluation = processStatistics(rule(op), points);
      expect({ op, points, state: evaluation.state, trending: evaluation.trending }).toEqual({ op, points, state, trending });
    }
  });

  it('keeps the last evaluation_periods points; too few or none is insufficient data with Aodh reasons', () => {
    expect(thresholdOfPoints(rule('gt', 10, 2), [1, 20, 30])).toMatchObject({ state: 'alarm', statistics: [20, 30], outside: 2 });
    expect(thresholdOfPoints(rule('gt', 10, 3), [20, 30])).toMatchObject({ state: 'insufficient data', unknownReason: '3 datapoints are unknown', statistics: [20, 30] });
    expect(thresholdOfPoints(rule('gt', 10, 1), [])).toMatchObject({ state: 'insufficient data', unknownReason: 'No datapoint for granularity 60' });
  });

  it('decides transitions, trends and repeats as _transition_alarm does', () => {
    const breach = processStatistics(rule('gt'), [11, 12, 91]);
    expect(thresholdDecision(alarm('ok'), breach, 3)).toEqual({ state: 'alarm', reason: 'Transition to alarm due to 3 samples outside threshold, most recent: 91.0', reasonData: { type: 'threshold', disposition: 'outside', count: 3, most_recent: 91 } });
    // Same state: nothing, unless repeat_actions, which re-announces it as "Remaining as".
    expect(thresholdDecision(alarm('alarm'), breach, 3)).toBeNull();
    expect(thresholdDecision(alarm('alarm', true), breach, 3)?.reason).toBe('Remaining as alarm due to 3 samples outside threshold, most recent: 91.0');
    // ok counts the points inside.
    const calm = processStatistics(rule('gt'), [1, 2, 3.5]);
    expect(thresholdDecision(alarm('alarm'), calm, 3)).toMatchObject({ state: 'ok', reason: 'Transition to ok due to 3 samples inside threshold, most recent: 3.5', reasonData: { disposition: 'inside', count: 3 } });
    // Mixed: an unknown alarm takes the trend; a known one stays; with repeat_actions it is re-announced.
    const mixed = processStatistics(rule('gt'), [11, 1, 12]);
    expect(thresholdDecision(alarm('insufficient data'), mixed, 3)).toMatchObject({ state: 'alarm', reason: 'Transition to alarm due to 2 samples outside threshold, most recent: 12.0' });
    expect(thresholdDecision(alarm('ok'), mixed, 3)).toBeNull();
    expect(thresholdDecision(alarm('ok', true), mixed, 3)).toMatchObject({ state: 'ok', reason: 'Remaining as ok due to 1 samples inside threshold, most recent: 12.0' });
    // Insufficient data: announced when coming from another state, with the unknown reason data.
    const none = thresholdOfPoints(rule('gt', 10, 3), [5]);
    expect(thresholdDecision(alarm('ok'), none, 3)).toEqual({ state: 'insufficient data', reason: '3 datapoints are unknown', reasonData: { type: 'threshold', disposition: 'unknown', count: 3, most_recent: 5 } });
    expect(thresholdDecision(alarm('insufficient data'), none, 3)).toBeNull();
  });

  it('prints numbers as Python does in the reasons', () => {
    expect([pythonNumber(91), pythonNumber(3.25), pythonNumber(null), pythonNumber(7, true), pythonNumber(-0.5)]).toEqual(['91.0', '3.25', 'None', '7', '-0.5']);
  });
});
