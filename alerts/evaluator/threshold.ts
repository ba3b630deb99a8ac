/**
 * Aodh's threshold semantics (aodh/evaluator/threshold.py), shared by every rule that
 * compares numbers with a threshold (the gnocchi rules, log, outage): the last
 * `evaluation_periods` points all breaching -> alarm, none breaching -> ok, mixed -> no
 * change but a trend, too few -> insufficient data; and how a result becomes a state
 * change (or a repeat, with repeat_actions), with Aodh's reason texts and reason_data.
 */
import type { Alarm, AlarmState, ComparisonOperator } from '../../storage/index.ts';

export const UNKNOWN: AlarmState = 'insufficient data';

const COMPARATORS: Record<ComparisonOperator, (value: number, limit: number) => boolean> = {
  gt: (v, l) => v > l,
  lt: (v, l) => v < l,
  ge: (v, l) => v >= l,
  le: (v, l) => v <= l,
  eq: (v, l) => v === l,
  ne: (v, l) => v !== l,
};

/** What a rule's data says, before the alarm's current state is taken into account. */
export interface RuleEvaluation {
  /** alarm / ok when every point agrees, insufficient data when there were too few, null when mixed. */
  state: AlarmState | null;
  /** When mixed: the state the most recent point points to. */
  trending: 'ok' | 'alarm' | null;
  /** The points compared, oldest first. */
  statistics: number[];
  /** How many points breach the threshold. */
  outside: number;
  /** Why the data was insufficient (with state = insufficient data). */
  unknownReason?: string;
  /** Whether the points are whole counts (log lines, check failures) rather than measures. */
  counts?: boolean;
  /** Extra facts for reason_data (window, runs...). */
  details?: Record<string, unknown>;
  /** Labels for routing (check, service, region, host...). */
  labels?: Record<string, string>;
}

/** A change the evaluator will commit: a new state, or the same one again (a repeat). */
export interface Decision {
  state: AlarmState;
  reason: string;
  reasonData: Record<string, unknown>;
  /** Record a history entry even when the state stays (Aodh's event alarms with repeat_actions). */
  alwaysRecord?: boolean;
  labels?: Record<string, string>;
}

export const insufficient = (reason: string, statistics: number[] = [], extra: Partial<RuleEvaluation> = {}): RuleEvaluation => ({ state: UNKNOWN, trending: null, statistics, outside: 0, unknownReason: reason, ...extra });

/** Aodh's _process_statistics. */
export function processStatistics(rule: { comparison_operator: ComparisonOperator; threshold: number }, statistics: number[], extra: Partial<RuleEvaluation> = {}): RuleEvaluation {
  const compare = COMPARATORS[rule.comparison_operator];
  const compared = statistics.map((value) => compare(value, rule.threshold));
  const distilled = compared.every(Boolean);
  const unequivocal = distilled || !compared.some(Boolean);
  const outside = compared.filter(Boolean).length;
  if (unequivocal) return { state: distilled ? 'alarm' : 'ok', trending: null, statistics, outside, ...extra };
  return { state: null, trending: compared[compared.length - 1] ? 'alarm' : 'ok', statistics, outside, ...extra };
}

/** The last `periods` points, or insufficient data as Aodh says it (`_sanitize`, `evaluate_rule`). */
export function thresholdOfPoints(rule: { comparison_operator: ComparisonOperator; threshold: number; granularity: number; evaluation_periods: number }, points: number[], extra: Partial<RuleEvaluation> = {}): RuleEvaluation {
  if (points.length === 0) return insufficient(`No datapoint for granularity ${rule.granularity}`, [], extra);
  const statistics = points.slice(-rule.evaluation_periods);
  if (statistics.length < rule.evaluation_periods) return insufficient(`${rule.evaluation_periods} datapoints are unknown`, statistics, extra);
  return processStatistics(rule, statistics, extra);
}

/** A number as Python's str() prints it in Aodh's reasons: floats keep a `.0`, counts do not. */
export function pythonNumber(value: number | null | undefined, integer = false): string {
  if (value === null || value === undefined) return 'None';
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (integer || !Number.isInteger(value)) return String(value);
  return Math.abs(value) < 1e16 ? `${value}.0` : String(value);
}

/** Aodh's _reason: the sentence and reason_data of a threshold state. */
export function thresholdReason(alarm: Alarm, evaluation: RuleEvaluation, state: AlarmState): { reason: string; reasonData: Record<string, unknown> } {
  const { statistics } = evaluation;
  const disposition = state === 'ok' ? 'inside' : 'outside';
  const count = state === 'ok' ? statistics.length - evaluation.outside : evaluation.outside;
  const last = statistics.length > 0 ? (statistics[statistics.length - 1] as number) : null;
  const reasonData = { type: 'threshold', disposition, count, most_recent: last, ...evaluation.details };
  const verb = alarm.state !== state ? 'Transition to' : 'Remaining as';
  return { reason: `${verb} ${state} due to ${count} samples ${disposition} threshold, most recent: ${pythonNumber(last, evaluation.counts)}`, reasonData };
}

/** Aodh's _transition_alarm: the decision for a threshold-type alarm, or null when nothing is to be done. */
export function thresholdDecision(alarm: Alarm, evaluation: RuleEvaluation, evaluationPeriods: number): Decision | null {
  const unknown = alarm.state === UNKNOWN;
  const continuous = alarm.repeat_actions;
  const labels = evaluation.labels === undefined ? {} : { labels: evaluation.labels };
  if (evaluation.trending !== null) {
    // Mixed points: an unknown alarm takes the trend; with repeat_actions the state is re-announced.
    if (unknown || continuous) {
      const state = unknown ? evaluation.trending : alarm.state;
      return { state, ...thresholdReason(alarm, evaluation, state), ...labels };
    }
    return null;
  }
  const state = evaluation.state;
  if (state === UNKNOWN && !unknown) {
    const last = evaluation.statistics.length > 0 ? (evaluation.statistics[evaluation.statistics.length - 1] as number) : null;
    return { state, reason: evaluation.unknownReason ?? `${evaluationPeriods} datapoints are unknown`, reasonData: { type: 'threshold', disposition: 'unknown', count: evaluationPeriods, most_recent: last, ...evaluation.details }, ...labels };
  }
  if (state !== null && (alarm.state !== state || continuous)) return { state, ...thresholdReason(alarm, evaluation, state), ...labels };
  return null;
}
