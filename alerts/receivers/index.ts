/** alerts/receivers/: Slack, PagerDuty, webhooks (Alertmanager and Aodh bodies) and the outbox drainer (issue 8). Experimental. */
export * from './types.ts';
export { slackMessage, slackRequest, type SlackConfig } from './slack.ts';
export { PAGERDUTY_EVENTS_URL, PAGERDUTY_SEVERITY, pagerDutyDedupKey, pagerDutyEvent, pagerDutyRequest, type PagerDutyConfig, type PagerDutySeverity } from './pagerduty.ts';
export { aodhActionBody, aodhActionRequest, alertmanagerWebhookBody, stableId, webhookRequests, type AodhActionBody, type WebhookConfig } from './webhook.ts';
export * from './outbox.ts';
export { redactUrl } from './redact.ts';
