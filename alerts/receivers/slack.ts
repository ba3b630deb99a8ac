/**
 * Slack incoming webhooks with a Block Kit message: a header with the status and the
 * alarm, fields for the service affected, severity, project and state change, one section
 * per alarm (what changed and why, with a link), and `text` as the fallback notifications
 * and old clients show. Limits from Slack's docs: header text 150 characters, section
 * text 3000, at most 50 blocks.
 */
import { affectedService, alarmLink, countByStatus, groupTitle, stateChange, statusTag, truncate, worstSeverity } from './common.ts';
import { redactUrl } from './redact.ts';
import { NOTIFICATION_ID_HEADER, type GroupNotification, type OutboundRequest } from './types.ts';

export interface SlackConfig {
  /** The incoming-webhook URL (a secret: never logged). */
  api_url: string;
  /** Overrides the webhook's default channel when the app allows it. */
  channel?: string;
  username?: string;
  send_resolved: boolean;
}

/** Alarm sections per message; the rest are counted in a closing line (the 50-block limit). */
export const MAX_SLACK_ALERT_SECTIONS = 20;
const HEADER_MAX = 150;
const SECTION_MAX = 3000;
const FIELD_MAX = 2000;

/** Slack's mrkdwn needs &, < and > escaped; everything else is literal. */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const ICON: Record<string, string> = { firing: ':red_circle:', insufficient: ':grey_question:', resolved: ':large_green_circle:' };

export function slackMessage(config: SlackConfig, n: GroupNotification): Record<string, unknown> {
  const title = groupTitle(n);
  const severity = worstSeverity(n);
  const service = affectedService(n);
  const counts = countByStatus(n);
  const fallback = truncate(`${statusTag(n)} ${title} (service: ${service}, severity: ${severity})`, SECTION_MAX);
  const fields = [
    { type: 'mrkdwn', text: truncate(`*Service*\n${esc(service)}`, FIELD_MAX) },
    { type: 'mrkdwn', text: `*Severity*\n${severity}` },
    { type: 'mrkdwn', text: truncate(`*Project*\n${esc(n.commonLabels.project_id ?? 'several')}`, FIELD_MAX) },
    { type: 'mrkdwn', text: `*Alarms*\n${counts.firing} firing, ${counts.insufficient} insufficient data, ${counts.resolved} resolved` },
  ];
  const shown = n.alerts.slice(0, MAX_SLACK_ALERT_SECTIONS);
  const alertBlocks = shown.map((a) => {
    const link = alarmLink(n.externalUrl, a.alarmId);
    const name = link === '' ? `*${esc(a.alarmName)}*` : `*<${link}|${esc(a.alarmName)}>*`;
    const text = `${ICON[a.status]} ${name}: ${esc(stateChange(a))} (${a.severity}) at ${a.changedAt}\n${esc(a.reason)}`;
    return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, SECTION_MAX) } };
  });
  const more = n.alerts.length - shown.length;
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(`${statusTag(n)} ${title}`, HEADER_MAX), emoji: true } },
    { type: 'section', fields },
    { type: 'divider' },
    ...alertBlocks,
    ...(more > 0 ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: `and ${more} more alarm(s)` }] }] : []),
    { type: 'context', elements: [{ type: 'mrkdwn', text: `Cumulus notification ${n.id}` }] },
  ];
  return {
    ...(config.channel ? { channel: config.channel } : {}),
    ...(config.username ? { username: config.username } : {}),
    text: fallback,
    blocks,
  };
}

export function slackRequest(config: SlackConfig, n: GroupNotification): OutboundRequest {
  return {
    kind: 'slack',
    url: config.api_url,
    headers: { 'content-type': 'application/json', [NOTIFICATION_ID_HEADER]: n.id },
    body: JSON.stringify(slackMessage(config, n)),
    target: redactUrl(config.api_url),
  };
}
