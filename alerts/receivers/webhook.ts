/**
 * Webhooks: the generic receiver of the routing tree (Alertmanager's webhook body,
 * version 4, so existing consumers work unchanged, or Aodh's body per alarm with
 * `format: aodh`), and Aodh's alarm actions (alarm_actions, ok_actions,
 * insufficient_data_actions), which get Aodh's body exactly: one POST per transition,
 * {alarm_name, alarm_id, severity, previous, current, reason, reason_data}, with an
 * `x-openstack-request-id` header. Both carry the notification id in
 * `X-Cumulus-Notification-Id`, the same on every retry, so a receiver can drop a duplicate.
 */
import { createHash } from 'node:crypto';
import type { AlarmSeverity, AlarmState } from '../../storage/index.ts';
import { alarmLink } from './common.ts';
import { redactUrl } from './redact.ts';
import { NOTIFICATION_ID_HEADER, type AlertView, type GroupNotification, type OutboundRequest } from './types.ts';

export interface WebhookConfig {
  url: string;
  send_resolved: boolean;
  /** Alertmanager's webhook body (default) or Aodh's alarm-action body, one request per alarm. */
  format: 'alertmanager' | 'aodh';
  /** At most this many alerts in one body (0: all); Alertmanager's max_alerts. */
  max_alerts: number;
}

/** A UUID-shaped id derived from `parts`: the same input always gives the same id. */
export function stableId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Aodh's alarm-action body (aodh/notifier/rest.py). */
export interface AodhActionBody {
  alarm_name: string;
  alarm_id: string;
  severity: AlarmSeverity;
  previous: AlarmState;
  current: AlarmState;
  reason: string;
  reason_data: Record<string, unknown>;
}

export function aodhActionBody(a: Pick<AlertView, 'alarmName' | 'alarmId' | 'severity' | 'previous' | 'state' | 'reason' | 'reasonData'>): AodhActionBody {
  return { alarm_name: a.alarmName, alarm_id: a.alarmId, severity: a.severity, previous: a.previous, current: a.state, reason: a.reason, reason_data: a.reasonData };
}

/** One Aodh action: a POST to an alarm's own action URL, or a log:// line. */
export function aodhActionRequest(url: string, body: AodhActionBody, notificationId: string): OutboundRequest {
  const isLog = url.startsWith('log:');
  return {
    kind: isLog ? 'log' : 'aodh',
    url,
    // Aodh sends a fresh request id per POST; ours is derived from the notification id so a retry repeats it.
    headers: { 'content-type': 'application/json', 'x-openstack-request-id': `req-${notificationId}`, [NOTIFICATION_ID_HEADER]: notificationId },
    body: JSON.stringify(body),
    target: redactUrl(url),
  };
}

function alertmanagerAlert(n: GroupNotification, a: AlertView): Record<string, unknown> {
  return {
    status: a.status === 'resolved' ? 'resolved' : 'firing',
    labels: a.labels,
    annotations: { summary: a.alarmName, description: a.description, reason: a.reason, state: a.state, previous: a.previous },
    startsAt: a.startsAt,
    endsAt: a.endsAt === '' ? '0001-01-01T00:00:00Z' : a.endsAt,
    generatorURL: alarmLink(n.externalUrl, a.alarmId),
    fingerprint: createHash('sha256').update(a.alarmId).digest('hex').slice(0, 16),
  };
}

/** Alertmanager's webhook body (version 4) for the group. */
export function alertmanagerWebhookBody(config: WebhookConfig, n: GroupNotification): Record<string, unknown> {
  const alerts = config.max_alerts > 0 ? n.alerts.slice(0, config.max_alerts) : n.alerts;
  const common = (pick: (a: AlertView) => Record<string, string>) => {
    const first = alerts[0] ? pick(alerts[0]) : {};
    return Object.fromEntries(Object.entries(first).filter(([k, v]) => alerts.every((a) => pick(a)[k] === v)));
  };
  return {
    version: '4',
    groupKey: n.groupKey,
    truncatedAlerts: n.alerts.length - alerts.length,
    status: n.status,
    receiver: n.receiver,
    groupLabels: n.groupLabels,
    commonLabels: n.commonLabels,
    commonAnnotations: common((a) => ({ summary: a.alarmName, description: a.description })),
    externalURL: n.externalUrl,
    alerts: alerts.map((a) => alertmanagerAlert(n, a)),
  };
}

/** The requests for a generic webhook: one (Alertmanager body) or one per alarm (Aodh body). */
export function webhookRequests(config: WebhookConfig, n: GroupNotification): { id: string; request: OutboundRequest; alarmIds: string[] }[] {
  if (config.format === 'aodh') {
    return n.alerts.map((a) => {
      const id = stableId(n.id, a.alarmId);
      return { id, request: { ...aodhActionRequest(config.url, aodhActionBody(a), id), kind: 'webhook' as const }, alarmIds: [a.alarmId] };
    });
  }
  return [
    {
      id: n.id,
      request: { kind: 'webhook', url: config.url, headers: { 'content-type': 'application/json', [NOTIFICATION_ID_HEADER]: n.id }, body: JSON.stringify(alertmanagerWebhookBody(config, n)), target: redactUrl(config.url) },
      alarmIds: n.alerts.map((a) => a.alarmId),
    },
  ];
}
