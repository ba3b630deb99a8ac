import { describe, expect, it } from 'vitest';
import { pagerDutyDedupKey, pagerDutyRequest } from './pagerduty.ts';
import { slackRequest } from './slack.ts';
import type { AlertView, GroupNotification } from './types.ts';
import { aodhActionBody, aodhActionRequest, webhookRequests } from './webhook.ts';

const alert = (over: Partial<AlertView> = {}): AlertView => ({
  alarmId: 'a1',
  alarmName: 'nova-api errors',
  description: 'Alarm when errors > 5',
  status: 'firing',
  state: 'alarm',
  previous: 'ok',
  severity: 'critical',
  reason: 'Transition to alarm due to 3 samples outside threshold, most recent: 12.0',
  reasonData: { type: 'threshold', disposition: 'outside', count: 3, most_recent: 12 },
  labels: { alarm_id: 'a1', alarm_name: 'nova-api errors', severity: 'critical', project_id: 'p1', type: 'log', service: 'nova', region: 'r1' },
  startsAt: '2026-03-01T10:00:00.000Z',
  endsAt: '',
  changedAt: '2026-03-01T10:00:00.000Z',
  ...over,
});

const notification = (alerts: AlertView[], over: Partial<GroupNotification> = {}): GroupNotification => ({
  id: '11111111-2222-3333-4444-555555555555',
  receiver: 'oncall',
  groupKey: '0:{alarm_name="nova-api errors"}',
  groupLabels: { alarm_name: 'nova-api errors' },
  commonLabels: alerts[0]!.labels,
  status: alerts.some((a) => a.status !== 'resolved') ? 'firing' : 'resolved',
  alerts,
  externalUrl: 'https://cumulus.example',
  timestamp: '2026-03-01T10:00:30.000Z',
  ...over,
});

describe('Slack Block Kit message', () => {
  it('has the fallback text, the service, severity, state change, reason and a link', () => {
    const req = slackRequest({ api_url: 'https://hooks.slack.com/services/T0/B0/SECRET', channel: '#ops', send_resolved: true }, notification([alert()]));
    expect(req.target).toBe('https://hooks.slack.com/[redacted]');
    expect(req.headers).toEqual({ 'content-type': 'application/json', 'x-cumulus-notification-id': '11111111-2222-3333-4444-555555555555' });
    expect(JSON.parse(req.body)).toEqual({
      channel: '#ops',
      text: '[FIRING:1] nova-api errors (service: nova, severity: critical)',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: '[FIRING:1] nova-api errors', emoji: true } },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Service*\nnova' },
            { type: 'mrkdwn', text: '*Severity*\ncritical' },
            { type: 'mrkdwn', text: '*Project*\np1' },
            { type: 'mrkdwn', text: '*Alarms*\n1 firing, 0 insufficient data, 0 resolved' },
          ],
        },
        { type: 'divider' },
        {
          type: 'section',
          text: { type: 'mrkdwn', text: ':red_circle: *<https://cumulus.example/alarming/v2/alarms/a1|nova-api errors>*: ok → alarm (critical) at 2026-03-01T10:00:00.000Z\nTransition to alarm due to 3 samples outside threshold, most recent: 12.0' },
        },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'Cumulus notification 11111111-2222-3333-4444-555555555555' }] },
      ],
    });
  });

  it('escapes mrkdwn and says RESOLVED when every alarm is ok', () => {
    const body = JSON.parse(slackRequest({ api_url: 'https://hooks.slack.com/x', send_resolved: true }, notification([alert({ status: 'resolved', state: 'ok', previous: 'alarm', alarmName: 'a<b>&c', reason: 'back <ok>' })], { externalUrl: '' })).body);
    expect(body.text).toBe('[RESOLVED] a<b>&c (service: nova, severity: critical)');
    expect(body.blocks[3].text.text).toBe(':large_green_circle: *a&lt;b&gt;&amp;c*: alarm → ok (critical) at 2026-03-01T10:00:00.000Z\nback &lt;ok&gt;');
    expect(body.channel).toBeUndefined();
  });
});

describe('PagerDuty Events API v2', () => {
  const config = { routing_key: 'R0UT1NGKEY', url: 'https://events.pagerduty.com/v2/enqueue', send_resolved: true, send_insufficient_data: false };

  it('triggers with a stable dedup_key and the payload fields', () => {
    const req = pagerDutyRequest(config, notification([alert()]));
    expect(req.url).toBe('https://events.pagerduty.com/v2/enqueue');
    expect(req.target).toBe('https://events.pagerduty.com/[redacted] (routing key [redacted])');
    expect(req.target).not.toContain('R0UT1NGKEY');
    const body = JSON.parse(req.body);
    expect(body.routing_key).toBe('R0UT1NGKEY');
    expect(body.event_action).toBe('trigger');
    expect(body.dedup_key).toBe(pagerDutyDedupKey('0:{alarm_name="nova-api errors"}', 'oncall'));
    expect(body.dedup_key).toMatch(/^[0-9a-f]{64}$/);
    expect(body.payload.summary).toBe('[FIRING:1] nova-api errors on nova: Transition to alarm due to 3 samples outside threshold, most recent: 12.0');
    expect(body.payload.source).toBe('cumulus');
    expect(body.payload.severity).toBe('critical');
    expect(body.payload.timestamp).toBe('2026-03-01T10:00:30.000Z');
    expect(body.payload.component).toBe('nova');
    expect(body.payload.group).toBe('p1');
    expect(body.payload.class).toBe('log');
    expect(body.payload.custom_details).toEqual({
      firing: 1,
      insufficient_data: 0,
      resolved: 0,
      group_labels: { alarm_name: 'nova-api errors' },
      alarms: [{ alarm_id: 'a1', alarm_name: 'nova-api errors', status: 'firing', previous: 'ok', current: 'alarm', severity: 'critical', reason: 'Transition to alarm due to 3 samples outside threshold, most recent: 12.0', starts_at: '2026-03-01T10:00:00.000Z', labels: alert().labels }],
      notification_id: '11111111-2222-3333-4444-555555555555',
    });
    expect(body.links).toEqual([{ href: 'https://cumulus.example/alarming/v2/alarms/a1', text: 'Alarm nova-api errors' }]);
    expect(body.client).toBe('Cumulus');
    expect(body.client_url).toBe('https://cumulus.example');
    expect(Object.keys(body).sort()).toEqual(['client', 'client_url', 'dedup_key', 'event_action', 'links', 'payload', 'routing_key']);
  });

  it('resolves with the same dedup_key; maps severities; caps the summary at 1024', () => {
    const firing = JSON.parse(pagerDutyRequest(config, notification([alert()])).body);
    const resolved = JSON.parse(pagerDutyRequest(config, notification([alert({ status: 'resolved', state: 'ok' })])).body);
    expect(resolved).toEqual({ routing_key: 'R0UT1NGKEY', event_action: 'resolve', dedup_key: firing.dedup_key });
    const moderate = JSON.parse(pagerDutyRequest(config, notification([alert({ severity: 'moderate', reason: 'x'.repeat(2000) })])).body);
    expect(moderate.payload.severity).toBe('warning');
    expect(moderate.payload.summary).toHaveLength(1024);
    expect(JSON.parse(pagerDutyRequest(config, notification([alert({ severity: 'low' })])).body).payload.severity).toBe('info');
  });
});

describe('webhooks', () => {
  it("Aodh's alarm action body and headers, exactly", () => {
    const body = aodhActionBody(alert());
    expect(body).toEqual({ alarm_name: 'nova-api errors', alarm_id: 'a1', severity: 'critical', previous: 'ok', current: 'alarm', reason: 'Transition to alarm due to 3 samples outside threshold, most recent: 12.0', reason_data: { type: 'threshold', disposition: 'outside', count: 3, most_recent: 12 } });
    const req = aodhActionRequest('http://hook.example:8080/alarm/s3cr3t?token=x', body, '11111111-2222-3333-4444-555555555555');
    expect(req).toMatchObject({ kind: 'aodh', target: 'http://hook.example:8080/[redacted]?[redacted]' });
    expect(req.headers).toEqual({ 'content-type': 'application/json', 'x-openstack-request-id': 'req-11111111-2222-3333-4444-555555555555', 'x-cumulus-notification-id': '11111111-2222-3333-4444-555555555555' });
    expect(aodhActionRequest('log://', body, 'id').kind).toBe('log');
  });

  it("Alertmanager's webhook body (version 4) by default, one Aodh body per alarm with format: aodh", () => {
    const n = notification([alert(), alert({ alarmId: 'a2', status: 'resolved', state: 'ok', previous: 'alarm', endsAt: '2026-03-01T10:00:20.000Z', labels: { ...alert().labels, alarm_id: 'a2' } })]);
    const [am] = webhookRequests({ url: 'http://h/x', send_resolved: true, format: 'alertmanager', max_alerts: 0 }, n);
    const body = JSON.parse(am!.request.body);
    expect(body).toMatchObject({ version: '4', groupKey: n.groupKey, truncatedAlerts: 0, status: 'firing', receiver: 'oncall', groupLabels: n.groupLabels, externalURL: 'https://cumulus.example' });
    expect(body.alerts.map((a: { status: string; endsAt: string }) => [a.status, a.endsAt])).toEqual([['firing', '0001-01-01T00:00:00Z'], ['resolved', '2026-03-01T10:00:20.000Z']]);
    const aodh = webhookRequests({ url: 'http://h/x', send_resolved: true, format: 'aodh', max_alerts: 0 }, n);
    expect(aodh.map((r) => JSON.parse(r.request.body).current)).toEqual(['alarm', 'ok']);
    expect(new Set(aodh.map((r) => r.id)).size).toBe(2);
  });
});
