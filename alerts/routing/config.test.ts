import { describe, expect, it } from 'vitest';
import { parseDuration, parseRoutingConfig } from './config.ts';
import { matches, parseMatcher } from './matchers.ts';
import { groupOf, matchRoutes } from './tree.ts';

const receivers = ['default', 'pager', 'db-team', 'slack', 'audit'].map((name) => ({ name }));

describe('matchers', () => {
  it('parses the four operators, quoted or not, and anchors regexes', () => {
    expect(parseMatcher('severity="critical"')).toEqual({ name: 'severity', operator: '=', value: 'critical' });
    expect(parseMatcher('service != nova')).toEqual({ name: 'service', operator: '!=', value: 'nova' });
    const re = parseMatcher('service=~"nova|cinder"');
    expect(matches(re, { service: 'nova' })).toBe(true);
    expect(matches(re, { service: 'nova-api' })).toBe(false);
    expect(matches(parseMatcher('region!~"r[0-9]+"'), { region: 'r12' })).toBe(false);
    expect(matches(parseMatcher('region!~"r[0-9]+"'), {})).toBe(true);
    expect(matches(parseMatcher('region=""'), {})).toBe(true);
  });

  it('refuses a bad operator or regex with a coded error naming the key', () => {
    expect(() => parseMatcher('severity>critical', 'route.matchers[0]')).toThrow(expect.objectContaining({ code: 'CUMULUS_ROUTING_MATCHER_INVALID', message: expect.stringMatching(/^route.matchers\[0\]: expected name="value"/) }));
    expect(() => parseMatcher('service=~"(nova"')).toThrow(expect.objectContaining({ message: expect.stringMatching(/valid regular expression/) }));
  });
});

describe('routing config', () => {
  it('fills Alertmanager defaults and inherits settings down the tree', () => {
    const c = parseRoutingConfig({ route: { receiver: 'default', group_by: ['alarm_name'], routes: [{ matchers: ['severity="critical"'], receiver: 'pager', group_wait: '10s', routes: [{ matchers: ['service="db"'], repeat_interval: '1h30m' }] }] }, receivers });
    expect(c.route).toMatchObject({ id: '0', receiver: 'default', groupBy: ['alarm_name'], groupWaitMs: 30_000, groupIntervalMs: 300_000, repeatIntervalMs: 14_400_000 });
    expect(c.route.routes[0]!.routes[0]).toMatchObject({ id: '0.0.0', receiver: 'pager', groupBy: ['alarm_name'], groupWaitMs: 10_000, groupIntervalMs: 300_000, repeatIntervalMs: 5_400_000 });
    expect(c.delivery).toMatchObject({ timeoutMs: 10_000, maxAgeMs: 86_400_000 });
    expect(parseDuration('1d2h')).toBe(93_600_000);
    expect(parseDuration('5 minutes')).toBeUndefined();
  });

  it('names the key in every refusal', () => {
    const bad = (value: unknown, message: RegExp) => expect(() => parseRoutingConfig(value)).toThrow(expect.objectContaining({ code: 'CUMULUS_ROUTING_CONFIG_INVALID', message: expect.stringMatching(message) }));
    bad({ route: { receiver: 'default', routes: [{ group_wait: '5 min' }] }, receivers }, /route\.routes\[0\]\.group_wait: expected a duration such as 30s/);
    bad({ route: { receiver: 'nobody' }, receivers }, /route\.receiver: expected one of the receivers \(default, pager.*got "nobody"/);
    bad({ route: { receiver: 'default' }, receivers: [{ name: 's', slack_configs: [{ api_url: 'ftp://x' }] }] }, /receivers\[0\]\.slack_configs\[0\]\.api_url: expected an http/);
    bad({ route: { receiver: 'default', routes: [{ matchers: ['sev>1'] }] }, receivers }, /route\.routes\[0\]\.matchers\[0\]: expected name="value"/);
    bad({ route: { receiver: 'default', grop_by: [] }, receivers }, /route: .*grop_by/);
    bad({ route: { receiver: 'default' }, receivers: [{ name: 'a' }, { name: 'a' }] }, /receivers\[1\]\.name: expected a unique name/);
    bad({ route: { receiver: 'default' }, receivers, inhibit_rules: [{ source_matchers: [], target_matchers: ['a="b"'] }] }, /inhibit_rules\[0\]\.source_matchers/);
  });
});

describe('routing tree', () => {
  const config = parseRoutingConfig({
    route: {
      receiver: 'default',
      group_by: ['alarm_name'],
      routes: [
        { matchers: ['severity="critical"'], receiver: 'pager', continue: true },
        { matchers: ['service=~"db|mysql.*"'], receiver: 'db-team', routes: [{ matchers: ['project_id="audit"'], receiver: 'audit' }] },
        { matchers: ['service=~".+"'], receiver: 'slack', group_by: ['...'] },
      ],
    },
    receivers,
  });
  const receiversOf = (labels: Record<string, string>) => matchRoutes(config.route, labels).map((r) => r.receiver);

  it('first match wins among siblings unless it continues; children refine; the root catches the rest', () => {
    expect(receiversOf({ severity: 'critical', service: 'mysql-main' })).toEqual(['pager', 'db-team']);
    expect(receiversOf({ severity: 'low', service: 'db' })).toEqual(['db-team']);
    expect(receiversOf({ severity: 'low', service: 'db', project_id: 'audit' })).toEqual(['audit']);
    expect(receiversOf({ severity: 'low', service: 'nova' })).toEqual(['slack']);
    expect(receiversOf({ severity: 'critical' })).toEqual(['pager']);
    expect(receiversOf({ severity: 'low' })).toEqual(['default']);
  });

  it('groups by the route and the group_by values; ... groups by every label', () => {
    const [route] = matchRoutes(config.route, { severity: 'low', alarm_name: 'cpu' });
    expect(groupOf(route!, { alarm_name: 'cpu', severity: 'low' })).toEqual({ key: '0:{alarm_name="cpu"}', labels: { alarm_name: 'cpu' } });
    const [all] = matchRoutes(config.route, { service: 'nova', alarm_name: 'x' });
    expect(groupOf(all!, { service: 'nova', alarm_name: 'x' }).key).toBe('0.2:{alarm_name="x",service="nova"}');
  });
});
