/**
 * PagerDuty Events API v2 (POST /v2/enqueue): `trigger` while the group has firing
 * alarms, `resolve` when none is left. The dedup_key is stable per alert group and
 * receiver, so every re-notification updates the same incident, and a retried request
 * after a crash is dropped by PagerDuty itself. `insufficient data` does not page by
 * default (`send_insufficient_data: false`): missing data is not an outage, and an open
 * incident stays open until the alarm really resolves.
 */
import { createHash } from 'node:crypto';
import type { AlarmSeverity } from '../../storage/index.ts';
import { affectedService, alarmLink, countByStatus, groupTitle, statusTag, truncate, worstSeverity } from './common.ts';
import { redactUrl } from './redact.ts';
import type { GroupNotification, OutboundRequest } from './types.ts';

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';
export const PAGERDUTY_SUMMARY_MAX = 1024;

export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

export interface PagerDutyConfig {
  /** The integration's routing key (a secret: never logged). */
  routing_key: string;
  /** Events API endpoint (tests and proxies); default {@link PAGERDUTY_EVENTS_URL}. */
  url: string;
  send_resolved: boolean;
  /** Page on `insufficient data` alarms too; default false. */
  send_insufficient_data: boolean;
  /** payload.source; default: the alarms' common `host` or `resource_id` label, else 'cumulus'. */
  source?: string;
  /** payload.severity for every event; default: mapped from the worst alarm severity. */
  severity?: PagerDutySeverity;
  /** payload.class; default: the alarms' common `type` label. */
  class?: string;
  /** payload.group; default: the alarms' common `project_id` label. */
  group?: string;
}

/** Aodh's severities on PagerDuty's scale. */
export const PAGERDUTY_SEVERITY: Record<AlarmSeverity, PagerDutySeverity> = { low: 'info', moderate: 'warning', critical: 'critical' };

/** Stable per alert group and receiver: one incident per group. */
export function pagerDutyDedupKey(groupKey: string, receiver: string): string {
  return createHash('sha256').update(`${receiver}\u0000${groupKey}`).digest('hex');
}

export function pagerDutyEvent(config: PagerDutyConfig, n: GroupNotification): Record<string, unknown> {
  const dedup_key = pagerDutyDedupKey(n.groupKey, n.receiver);
  const open = n.alerts.filter((a) => a.status !== 'resolved');
  if (open.length === 0) return { routing_key: config.routing_key, event_action: 'resolve', dedup_key };
  const counts = countByStatus(n);
  const service = affectedService(n);
  const summary = truncate(`${statusTag(n)} ${groupTitle(n)} on ${service}: ${open.map((a) => a.reason).filter((r) => r !== '')[0] ?? 'state changed'}`, PAGERDUTY_SUMMARY_MAX);
  const links = n.externalUrl === '' ? [] : open.slice(0, 5).map((a) => ({ href: alarmLink(n.externalUrl, a.alarmId), text: `Alarm ${a.alarmName}` }));
  const payload: Record<string, unknown> = {
    summary,
    source: config.source ?? n.commonLabels.host ?? n.commonLabels.resource_id ?? 'cumulus',
    severity: config.severity ?? PAGERDUTY_SEVERITY[worstSeverity(n)],
    timestamp: n.timestamp,
    component: service,
    group: config.group ?? n.commonLabels.project_id ?? '',
    class: config.class ?? n.commonLabels.type ?? '',
    custom_details: {
      firing: counts.firing,
      insufficient_data: counts.insufficient,
      resolved: counts.resolved,
      group_labels: n.groupLabels,
      alarms: n.alerts.map((a) => ({ alarm_id: a.alarmId, alarm_name: a.alarmName, status: a.status, previous: a.previous, current: a.state, severity: a.severity, reason: a.reason, starts_at: a.startsAt, labels: a.labels })),
      notification_id: n.id,
    },
  };
  return { routing_key: config.routing_key, event_action: 'trigger', dedup_key, payload, ...(links.length > 0 ? { links } : {}), client: 'Cumulus', ...(n.externalUrl ? { client_url: n.externalUrl } : {}) };
}

export function pagerDutyRequest(config: PagerDutyConfig, n: GroupNotification): OutboundRequest {
  return {
    kind: 'pagerduty',
    url: config.url,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(pagerDutyEvent(config, n)),
    // The routing key travels in the body; the target names only the endpoint's host.
    target: `${redactUrl(config.url)} (routing key [redacted])`,
  };
}
