/**
 * What the alerts stage's parts hand each other. The evaluator decides states and emits
 * transitions (and repeats, for repeat_actions); the notifier routes them (routing tree,
 * grouping, inhibition, silences) into the persisted outbox that the receivers drain.
 * Both sides depend on this file only, never on each other's modules.
 */
import type { Alarm, AlarmState } from '../storage/alarms/index.ts';

/** One evaluation result that changes (or, with repeat_actions, re-announces) an alarm's state. */
export interface AlarmTransition {
  /** The alarm as stored after the change (its new state, reason and timestamps). */
  alarm: Alarm;
  /** The state before; equal to `alarm.state` for a repeat (repeat_actions). */
  previous: AlarmState;
  /** Human-readable why, as written to state_reason and history. */
  reason: string;
  /** The data that caused it (Aodh's reason_data: type, disposition, count, most_recent, ...). */
  reasonData: Record<string, unknown>;
  /** ISO 8601 (UTC): when the evaluation decided it. */
  timestamp: string;
  /** Extra labels for routing (region, service, host, check ...), beyond those derived from the alarm. */
  labels?: Record<string, string>;
}

/** Where the evaluator sends transitions: the notifier. Must persist before resolving. */
export interface TransitionSink {
  notify(transitions: readonly AlarmTransition[]): Promise<void>;
}
