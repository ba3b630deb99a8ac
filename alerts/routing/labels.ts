/**
 * An alert's labels: what routing, grouping, silences and inhibition match on. Derived
 * from the alarm (alarm_id, alarm_name, severity, project_id, type) and its rule
 * (resource_id, resource_type and metric for gnocchi rules, service for log rules, check
 * for outage rules, event_type for event rules; `service` derived from the resource or
 * event type when the rule does not name one), then the transition's own labels
 * (region, service, host ...), which win.
 */
import type { AlarmTransition } from '../contracts.ts';

const RULE_LABELS = ['resource_id', 'resource_type', 'metric', 'service', 'check', 'event_type'] as const;

/**
 * The OpenStack service behind a Gnocchi resource type (Ceilometer's types), so an alarm on
 * an instance's metric routes and reads as a compute alert without saying so itself.
 */
const SERVICE_OF_RESOURCE_TYPE: Readonly<Record<string, string>> = {
  instance: 'nova',
  instance_disk: 'nova',
  instance_network_interface: 'nova',
  volume: 'cinder',
  image: 'glance',
  network: 'neutron',
  identity: 'keystone',
  stack: 'heat',
  swift_account: 'swift',
};

/** An event type's service: its first dotted part as OpenStack names them (compute.instance.* -> nova). */
const SERVICE_OF_EVENT_PREFIX: Readonly<Record<string, string>> = { compute: 'nova', volume: 'cinder', image: 'glance', network: 'neutron', port: 'neutron', floatingip: 'neutron', identity: 'keystone', orchestration: 'heat' };

export function alertLabels(t: AlarmTransition): Record<string, string> {
  const a = t.alarm;
  const labels: Record<string, string> = { alarm_id: a.alarm_id, alarm_name: a.name, severity: a.severity, project_id: a.project_id, type: a.type };
  for (const key of RULE_LABELS) {
    const v = a.rule[key];
    if (typeof v === 'string' && v !== '' && v !== '*') labels[key] = v;
  }
  if (labels.service === undefined) {
    const derived = (labels.resource_type && SERVICE_OF_RESOURCE_TYPE[labels.resource_type]) || (labels.event_type && SERVICE_OF_EVENT_PREFIX[labels.event_type.split('.')[0] ?? '']);
    if (derived) labels.service = derived;
  }
  for (const [k, v] of Object.entries(t.labels ?? {})) if (typeof v === 'string') labels[k] = v;
  return labels;
}
