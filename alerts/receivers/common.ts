/** What the receivers' message builders share: severity order, titles, links. */
import type { AlarmSeverity } from '../../storage/index.ts';
import type { AlertView, GroupNotification } from './types.ts';

const SEVERITY_ORDER: readonly AlarmSeverity[] = ['low', 'moderate', 'critical'];

/** The worst severity among the alerts that are not resolved (all alerts when every one is). */
export function worstSeverity(n: GroupNotification): AlarmSeverity {
  const open = n.alerts.filter((a) => a.status !== 'resolved');
  const pool = open.length > 0 ? open : n.alerts;
  let worst: AlarmSeverity = 'low';
  for (const a of pool) if (SEVERITY_ORDER.indexOf(a.severity) > SEVERITY_ORDER.indexOf(worst)) worst = a.severity;
  return worst;
}

export const countByStatus = (n: GroupNotification) => ({
  firing: n.alerts.filter((a) => a.status === 'firing').length,
  insufficient: n.alerts.filter((a) => a.status === 'insufficient').length,
  resolved: n.alerts.filter((a) => a.status === 'resolved').length,
});

/** `[FIRING:2]`, `[INSUFFICIENT DATA:1]` or `[RESOLVED]`: the prefix Alertmanager's users recognise. */
export function statusTag(n: GroupNotification): string {
  const c = countByStatus(n);
  if (c.firing > 0) return `[FIRING:${c.firing}]`;
  if (c.insufficient > 0) return `[INSUFFICIENT DATA:${c.insufficient}]`;
  return '[RESOLVED]';
}

/** The alarm's name for one alert, else the group's label values, else a count. */
export function groupTitle(n: GroupNotification): string {
  if (n.alerts.length === 1) return (n.alerts[0] as AlertView).alarmName;
  const values = Object.values(n.groupLabels);
  return values.length > 0 ? values.join(' / ') : `${n.alerts.length} alarms`;
}

/** The service affected: the `service` label all alerts share, else the distinct ones. */
export function affectedService(n: GroupNotification): string {
  if (n.commonLabels.service) return n.commonLabels.service;
  const services = [...new Set(n.alerts.map((a) => a.labels.service).filter((s): s is string => !!s))];
  return services.length > 0 ? services.join(', ') : 'n/a';
}

/** Where an operator looks the alarm up (Aodh's API path under the external URL); '' without one. */
export function alarmLink(externalUrl: string, alarmId: string): string {
  return externalUrl === '' ? '' : `${externalUrl.replace(/\/+$/, '')}/alarming/v2/alarms/${encodeURIComponent(alarmId)}`;
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export const stateChange = (a: AlertView) => (a.previous === a.state ? `still ${a.state}` : `${a.previous} → ${a.state}`);
