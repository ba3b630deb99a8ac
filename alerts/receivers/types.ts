/**
 * What the receivers render and send: an alert group's notification as the notifier hands
 * it over, and the HTTP request a receiver makes of it. Experimental while issue 8 settles.
 */
import type { AlarmSeverity, AlarmState } from '../../storage/index.ts';

/** An alert's status in a notification: `insufficient` is Aodh's third state, routed on its own. */
export type AlertStatus = 'firing' | 'insufficient' | 'resolved';

/** One alarm as a notification shows it. */
export interface AlertView {
  alarmId: string;
  alarmName: string;
  description: string;
  status: AlertStatus;
  state: AlarmState;
  previous: AlarmState;
  severity: AlarmSeverity;
  reason: string;
  reasonData: Record<string, unknown>;
  labels: Record<string, string>;
  /** ISO 8601 (UTC): when the alarm entered its current non-ok episode. */
  startsAt: string;
  /** ISO 8601 (UTC): when it resolved; '' while it is not resolved. */
  endsAt: string;
  /** ISO 8601 (UTC): the transition that set the current state. */
  changedAt: string;
}

/** One notification of one alert group to one receiver integration. */
export interface GroupNotification {
  /** Stable: written once into the outbox, carried by every retry (idempotency key). */
  id: string;
  receiver: string;
  groupKey: string;
  groupLabels: Record<string, string>;
  /** Labels every alert of the notification shares. */
  commonLabels: Record<string, string>;
  /** 'firing' when any alert is not resolved. */
  status: 'firing' | 'resolved';
  alerts: AlertView[];
  /** Where operators look an alarm up (links); '' when not configured. */
  externalUrl: string;
  /** ISO 8601 (UTC): when the notifier flushed the group. */
  timestamp: string;
}

/**
 * A request ready to send, as persisted in the outbox. `target` is the redacted form of
 * where it goes: the only form a log line or the delivery log may show.
 */
export interface OutboundRequest {
  kind: ReceiverKind;
  /** http(s) URL, or `log://...` for Aodh's log actions (written to the logger, no HTTP). */
  url: string;
  headers: Record<string, string>;
  /** JSON text. */
  body: string;
  target: string;
}

export const RECEIVER_KINDS = ['slack', 'pagerduty', 'webhook', 'aodh', 'log'] as const;
export type ReceiverKind = (typeof RECEIVER_KINDS)[number];

/** The header every webhook-style request carries: the notification id, for receivers to drop a duplicate. */
export const NOTIFICATION_ID_HEADER = 'x-cumulus-notification-id';
