/**
 * The notifier: the evaluator's TransitionSink and a Lifecycle. It persists every
 * transition, keeps Alertmanager-style alert groups (per route and group_by values) with
 * their timers in SQLite, and at each group's flush applies silences and inhibition and
 * writes the notifications into the outbox, which the receivers' drainer delivers.
 * Aodh's own alarm actions (alarm_actions, ok_actions, insufficient_data_actions) bypass
 * the tree: one Aodh body per transition and URL, through the same outbox.
 */
import { errorMessage, type Clock, type ComponentTelemetry, type Lifecycle, type Logger, type StateDatabase } from '../../core/index.ts';
import type { AlarmState, ClickHouseDriver } from '../../storage/index.ts';
import type { AlarmTransition, TransitionSink } from '../contracts.ts';
import { ALERT_DELIVERIES_TABLE, clickhouseTime, createOutboxDrainer, enqueueNotifications, type DeliveryRecord, type DrainResult, type OutboxEntry } from '../receivers/outbox.ts';
import { pagerDutyRequest } from '../receivers/pagerduty.ts';
import { slackRequest } from '../receivers/slack.ts';
import type { AlertStatus, AlertView, GroupNotification, OutboundRequest } from '../receivers/types.ts';
import { aodhActionBody, aodhActionRequest, stableId, webhookRequests } from '../receivers/webhook.ts';
import { configSecrets, type ReceiverConfig, type RoutingConfig } from './config.ts';
import { alertLabels } from './labels.ts';
import { matchesAll, type Matcher } from './matchers.ts';
import { createSilenceStore, type Silence, type SilenceStore } from './silences.ts';
import { migrateRouting, type AlertRow, type GroupRow, type NotifiedState } from './state.ts';
import { findRoute, groupOf, matchRoutes } from './tree.ts';

export interface NotifierDeps {
  db: StateDatabase;
  store: ClickHouseDriver;
  clock: Clock;
  logger: Logger;
  telemetry?: ComponentTelemetry;
  fetch?: typeof fetch;
  /** [0, 1): the retry jitter's source (tests pin it). */
  random?: () => number;
}

export interface Notifier extends TransitionSink, Lifecycle {
  /** One round of the loop: flush the due groups, then drain the due outbox rows. */
  tick(): Promise<void>;
  /** Flushes every group whose timer is due; returns how many notifications were enqueued. */
  flushDue(): number;
  drain(): Promise<DrainResult>;
  readonly silences: SilenceStore;
  /**
   * Silences alarm `alarmId` (matcher alarm_id="<id>") for `durationMs` (default: the
   * config's false_positive_duration), flags the silence as a false positive and records
   * it in the delivery log (kind 'false-positive', status 'silenced').
   */
  markFalsePositive(alarmId: string, by: { createdBy: string; comment: string; durationMs?: number; projectId?: string }): Promise<Silence>;
  /**
   * Ends the alerts of deleted (or disabled) alarms: each is resolved as if it went to ok,
   * with reason {@link FORGOTTEN_REASON}, so the groups tell what they had announced
   * (PagerDuty incidents close) instead of repeating it forever. Returns how many were open.
   */
  forget(alarmIds: readonly string[]): number;
  /** The alert the notifier holds for an alarm (its labels and status), if any. */
  alert(alarmId: string): { labels: Record<string, string>; status: AlertStatus } | undefined;
}

/** The reason an alert of a deleted or disabled alarm resolves with. */
export const FORGOTTEN_REASON = 'Alarm deleted or disabled';

const statusOf = (state: AlarmState): AlertStatus => (state === 'alarm' ? 'firing' : state === 'ok' ? 'resolved' : 'insufficient');

function actionsFor(t: AlarmTransition): string[] {
  const a = t.alarm;
  return a.state === 'alarm' ? a.alarm_actions : a.state === 'ok' ? a.ok_actions : a.insufficient_data_actions;
}

function commonLabels(alerts: readonly AlertView[]): Record<string, string> {
  const [first, ...rest] = alerts;
  if (!first) return {};
  return Object.fromEntries(Object.entries(first.labels).filter(([k, v]) => rest.every((a) => a.labels[k] === v)));
}

/** One integration of a receiver: what it is told and how it renders. */
interface Integration {
  key: string;
  sendResolved: boolean;
  includeInsufficient: boolean;
  render(n: GroupNotification): { id: string; request: OutboundRequest; alarmIds: string[] }[];
}

function integrationsOf(r: ReceiverConfig): Integration[] {
  const one = (n: GroupNotification, request: OutboundRequest) => [{ id: n.id, request, alarmIds: n.alerts.map((a) => a.alarmId) }];
  return [
    ...r.slack.map((c, i) => ({ key: `slack:${i}`, sendResolved: c.send_resolved, includeInsufficient: true, render: (n: GroupNotification) => one(n, slackRequest(c, n)) })),
    ...r.pagerduty.map((c, i) => ({ key: `pagerduty:${i}`, sendResolved: c.send_resolved, includeInsufficient: c.send_insufficient_data, render: (n: GroupNotification) => one(n, pagerDutyRequest(c, n)) })),
    ...r.webhook.map((c, i) => ({ key: `webhook:${i}`, sendResolved: c.send_resolved, includeInsufficient: true, render: (n: GroupNotification) => webhookRequests(c, n) })),
  ];
}

export function createNotifier(config: RoutingConfig, deps: NotifierDeps): Notifier {
  const { db, store, clock, logger } = deps;
  migrateRouting(db);
  const silences = createSilenceStore(db, { clock });
  const secrets = configSecrets(config);
  const drainer = createOutboxDrainer(config.delivery, { db, store, clock, logger, fetch: deps.fetch, telemetry: deps.telemetry, random: deps.random, secrets: () => secrets });

  const selectAlert = db.prepare<[string], AlertRow>('SELECT * FROM routing_alerts WHERE alarm_id = ?');
  const upsertAlert = db.prepare(
    `INSERT INTO routing_alerts (alarm_id, labels, status, state, previous, severity, alarm_name, description, reason, reason_data, starts_at, ends_at, changed_at, updated_at)
     VALUES (@alarm_id, @labels, @status, @state, @previous, @severity, @alarm_name, @description, @reason, @reason_data, @starts_at, @ends_at, @changed_at, @updated_at)
     ON CONFLICT (alarm_id) DO UPDATE SET labels = excluded.labels, status = excluded.status, state = excluded.state, previous = excluded.previous, severity = excluded.severity,
       alarm_name = excluded.alarm_name, description = excluded.description, reason = excluded.reason, reason_data = excluded.reason_data, starts_at = excluded.starts_at,
       ends_at = excluded.ends_at, changed_at = excluded.changed_at, updated_at = excluded.updated_at`,
  );
  const insertGroup = db.prepare(
    `INSERT OR IGNORE INTO routing_groups (group_key, route_id, receiver, labels, created_at, next_flush_at) VALUES (@group_key, @route_id, @receiver, @labels, @now, @next_flush_at)`,
  );
  const insertMember = db.prepare<[string, string]>('INSERT OR IGNORE INTO routing_group_alerts (group_key, alarm_id) VALUES (?, ?)');
  const selectDueGroups = db.prepare<[number], { group_key: string }>('SELECT group_key FROM routing_groups WHERE next_flush_at <= ? ORDER BY next_flush_at, group_key');
  const selectDueGroup = db.prepare<[string, number], GroupRow>('SELECT * FROM routing_groups WHERE group_key = ? AND next_flush_at <= ?');
  const selectMembers = db.prepare<[string], AlertRow>('SELECT a.* FROM routing_group_alerts m JOIN routing_alerts a ON a.alarm_id = m.alarm_id WHERE m.group_key = ? ORDER BY a.starts_at, a.alarm_id');
  const selectFiring = db.prepare<[], AlertRow>("SELECT * FROM routing_alerts WHERE status = 'firing'");
  const deleteMember = db.prepare<[string, string]>('DELETE FROM routing_group_alerts WHERE group_key = ? AND alarm_id = ?');
  const deleteGroup = db.prepare<[string]>('DELETE FROM routing_groups WHERE group_key = ?');
  const updateGroup = db.prepare<[number, string, string]>('UPDATE routing_groups SET next_flush_at = ?, notified = ? WHERE group_key = ?');
  const resolveForgotten = db.prepare<[string, number, string, number, string]>(
    "UPDATE routing_alerts SET status = 'resolved', previous = state, state = 'ok', reason = ?, reason_data = '{}', ends_at = ?, changed_at = ?, updated_at = ? WHERE alarm_id = ? AND status != 'resolved'",
  );
  const pruneAlerts = db.prepare("DELETE FROM routing_alerts WHERE status = 'resolved' AND alarm_id NOT IN (SELECT alarm_id FROM routing_group_alerts)");

  const viewOf = (r: AlertRow): AlertView => ({
    alarmId: r.alarm_id,
    alarmName: r.alarm_name,
    description: r.description,
    status: r.status,
    state: r.state,
    previous: r.previous,
    severity: r.severity,
    reason: r.reason,
    reasonData: JSON.parse(r.reason_data) as Record<string, unknown>,
    labels: JSON.parse(r.labels) as Record<string, string>,
    startsAt: new Date(r.starts_at).toISOString(),
    endsAt: r.ends_at === null ? '' : new Date(r.ends_at).toISOString(),
    changedAt: r.changed_at,
  });

  /** Persists the transitions, their groups and Aodh's actions in one transaction. */
  const persist = db.transaction((transitions: readonly AlarmTransition[], now: number) => {
    const entries: OutboxEntry[] = [];
    for (const t of transitions) {
      const a = t.alarm;
      const labels = alertLabels(t);
      const status = statusOf(a.state);
      const changedMs = Number.isNaN(Date.parse(t.timestamp)) ? now : Date.parse(t.timestamp);
      const before = selectAlert.get(a.alarm_id);
      // An episode starts when the alarm leaves ok; firing <-> insufficient data keeps it.
      const startsAt = before && before.status !== 'resolved' ? before.starts_at : changedMs;
      upsertAlert.run({
        alarm_id: a.alarm_id,
        labels: JSON.stringify(labels),
        status,
        state: a.state,
        previous: t.previous,
        severity: a.severity,
        alarm_name: a.name,
        description: a.description,
        reason: t.reason,
        reason_data: JSON.stringify(t.reasonData),
        starts_at: startsAt,
        ends_at: status === 'resolved' ? changedMs : null,
        changed_at: new Date(changedMs).toISOString(),
        updated_at: now,
      });
      // A resolution only updates the groups the alert is in; it never opens one.
      if (status !== 'resolved') {
        for (const route of matchRoutes(config.route, labels)) {
          const g = groupOf(route, labels);
          insertGroup.run({ group_key: g.key, route_id: route.id, receiver: route.receiver, labels: JSON.stringify(g.labels), now, next_flush_at: now + route.groupWaitMs });
          insertMember.run(g.key, a.alarm_id);
        }
      }
      const body = aodhActionBody({ alarmName: a.name, alarmId: a.alarm_id, severity: a.severity, previous: t.previous, state: a.state, reason: t.reason, reasonData: t.reasonData });
      for (const url of actionsFor(t)) {
        // The same transition handed over twice (an evaluator retry) makes the same id: one delivery.
        const id = stableId('aodh-action', a.alarm_id, t.timestamp, a.state, url);
        entries.push({ id, receiver: 'alarm-actions', groupKey: `alarm:${a.alarm_id}`, alarmIds: [a.alarm_id], resolved: a.state === 'ok', request: aodhActionRequest(url, body, id) });
      }
    }
    enqueueNotifications(db, entries, now);
  });

  const isSilenced = (labels: Record<string, string>, active: { matchers: Matcher[] }[]) => active.some((s) => matchesAll(s.matchers, labels));
  const isInhibited = (alarmId: string, labels: Record<string, string>, sources: { alarmId: string; labels: Record<string, string> }[]) =>
    config.inhibitRules.some(
      (r) => matchesAll(r.target, labels) && sources.some((s) => s.alarmId !== alarmId && matchesAll(r.source, s.labels) && r.equal.every((l) => (s.labels[l] ?? '') === (labels[l] ?? ''))),
    );

  /** One group's flush, in one transaction: what to send, the outbox rows, the group's new state. */
  const flushGroup = db.transaction((groupKey: string, now: number, active: { matchers: Matcher[] }[], sources: { alarmId: string; labels: Record<string, string> }[]): number => {
    // 1. The group, read again inside the (immediate) transaction: another notifier on the
    // same database that flushed it first has moved its timer, and then this one skips it.
    const group = selectDueGroup.get(groupKey, now);
    if (!group) return 0;
    // The group's alerts; an empty group is gone (a new alert waits group_wait again).
    const members = selectMembers.all(group.group_key).map(viewOf);
    if (members.length === 0) {
      deleteGroup.run(group.group_key);
      return 0;
    }
    const route = findRoute(config.route, group.route_id) ?? config.route;
    const receiver = config.receivers.get(group.receiver) ?? (config.receivers.get(route.receiver) as ReceiverConfig);
    const notified = JSON.parse(group.notified) as NotifiedState;
    const wasOpen = (key: string, alarmId: string) => (notified[key]?.open ?? []).some((k) => k.startsWith(`${alarmId}:`));
    // 2. Silences and inhibition, decided now (not when the alert came): a silence created
    // during group_wait mutes what has not been sent yet.
    const muted = new Set(members.filter((a) => isSilenced(a.labels, active) || isInhibited(a.alarmId, a.labels, sources)).map((a) => a.alarmId));
    deps.telemetry?.dropped(muted.size);
    const entries: OutboxEntry[] = [];
    const timestamp = new Date(now).toISOString();
    for (const integration of integrationsOf(receiver)) {
      const prev = notified[integration.key];
      const prevOpen = new Set(prev?.open ?? []);
      const open = members.filter((a) => !muted.has(a.alarmId) && (a.status === 'firing' || (a.status === 'insufficient' && integration.includeInsufficient)));
      const openKeys = open.map((a) => `${a.alarmId}:${a.status}`);
      // A resolution closes what was announced, even while muted: an incident must not stay open because a silence began.
      const resolved = members.filter((a) => a.status === 'resolved' && wasOpen(integration.key, a.alarmId));
      // 3. Alertmanager's rule: tell when something new is open, when something closed (send_resolved), or when repeat_interval has passed.
      const changed = openKeys.some((k) => !prevOpen.has(k));
      const closed = integration.sendResolved && resolved.length > 0;
      const repeat = open.length > 0 && prev !== undefined && now - prev.at >= route.repeatIntervalMs;
      if (!changed && !closed && !repeat) continue;
      const alerts = [...open, ...(integration.sendResolved ? resolved : [])];
      if (alerts.length === 0) continue;
      const n: GroupNotification = {
        id: stableId('group', group.group_key, receiver.name, integration.key, String(now)),
        receiver: receiver.name,
        groupKey: group.group_key,
        groupLabels: JSON.parse(group.labels) as Record<string, string>,
        commonLabels: commonLabels(alerts),
        status: open.length > 0 ? 'firing' : 'resolved',
        alerts,
        externalUrl: config.externalUrl,
        timestamp,
      };
      for (const r of integration.render(n)) entries.push({ id: r.id, receiver: receiver.name, groupKey: group.group_key, alarmIds: r.alarmIds, resolved: n.status === 'resolved', request: r.request });
      if (open.length > 0) notified[integration.key] = { open: openKeys, at: now };
      else delete notified[integration.key];
    }
    // 4. Resolved alerts leave the group (told or not) and are forgotten by every integration,
    // so the same alarm firing again is news.
    const resolvedIds = members.filter((a) => a.status === 'resolved').map((a) => a.alarmId);
    for (const id of resolvedIds) {
      deleteMember.run(group.group_key, id);
      for (const state of Object.values(notified)) state.open = state.open.filter((k) => !k.startsWith(`${id}:`));
    }
    // 5. The outbox rows commit with the group's new state: a crash re-runs neither or both.
    enqueueNotifications(db, entries, now);
    if (resolvedIds.length === members.length) deleteGroup.run(group.group_key);
    else updateGroup.run(now + route.groupIntervalMs, JSON.stringify(notified), group.group_key);
    return entries.length;
  });

  function flushDue(): number {
    const now = clock.nowMs();
    const due = selectDueGroups.all(now);
    if (due.length === 0) return 0;
    const active = silences.active();
    const sources = selectFiring.all().map((r) => ({ alarmId: r.alarm_id, labels: JSON.parse(r.labels) as Record<string, string> }));
    let enqueued = 0;
    for (const g of due) enqueued += flushGroup.immediate(g.group_key, now, active, sources);
    pruneAlerts.run();
    return enqueued;
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  async function tick(): Promise<void> {
    const started = performance.now();
    flushDue();
    await drainer.drain();
    deps.telemetry?.observeBatch(performance.now() - started);
  }

  const loop = () => {
    if (running) return;
    running = tick()
      .catch((err: unknown) => logger.error({ err: errorMessage(err) }, 'notifier round failed; next round retries'))
      .finally(() => {
        running = undefined;
      });
  };

  return {
    silences,
    async notify(transitions) {
      if (transitions.length === 0) return;
      // Persist before resolving: once notify() resolves, a crash loses nothing.
      persist.immediate(transitions, clock.nowMs());
      deps.telemetry?.accepted(transitions.length);
    },
    tick,
    flushDue,
    drain: () => drainer.drain(),
    async markFalsePositive(alarmId, by) {
      const silence = silences.markFalsePositive(alarmId, { createdBy: by.createdBy, comment: by.comment, durationMs: by.durationMs ?? config.falsePositiveMs, ...(by.projectId === undefined ? {} : { projectId: by.projectId }) });
      const record: DeliveryRecord = {
        notification_id: silence.id,
        at: clickhouseTime(clock.nowMs()),
        attempt: 0,
        receiver: '',
        kind: 'false-positive',
        target: `silence:${silence.id}`,
        group_key: '',
        alarm_ids: [alarmId],
        status: 'silenced',
        resolved: 0,
        http_status: 0,
        error: '',
        duration_ms: 0,
      };
      try {
        await store.insert(ALERT_DELIVERIES_TABLE, [record], { dedupToken: `false-positive:${silence.id}` });
      } catch (err) {
        logger.warn({ err: errorMessage(err), silence: silence.id }, 'false positive not written to the delivery log; the silence records it');
      }
      logger.info({ alarm: alarmId, silence: silence.id, by: by.createdBy }, 'alarm marked as false positive');
      return silence;
    },
    forget(alarmIds) {
      const now = clock.nowMs();
      return db.transaction(() => alarmIds.reduce((n, id) => n + resolveForgotten.run(FORGOTTEN_REASON, now, new Date(now).toISOString(), now, id).changes, 0)).immediate();
    },
    alert(alarmId) {
      const r = selectAlert.get(alarmId);
      return r ? { labels: JSON.parse(r.labels) as Record<string, string>, status: r.status } : undefined;
    },
    async start() {
      if (timer || stopped) return;
      timer = setInterval(loop, config.tickMs);
      timer.unref();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
