/**
 * The alarm evaluator: on its schedule, each member of the evaluator group evaluates its
 * share of the enabled threshold-type alarms (gnocchi, log, outage, composite); event
 * alarms are evaluated as events stream in. A decision is committed to the alarm store
 * together with an outbox row, then written to alarm_history and handed to the sink;
 * whatever fails there stays in the outbox and goes first at the next round.
 */
import { randomUUID } from 'node:crypto';
import cron, { type ScheduledTask } from 'node-cron';
import { TOPICS, errorMessage, type Clock, type ComponentTelemetry, type Event, type Lifecycle, type Logger, type StateDatabase, type Stream, type StreamBatch, type StreamConsumerHandle } from '../../core/index.ts';
import {
  alarmHistoryInsert,
  createResourceTypeStore,
  resourcesOfTypeExist,
  type Alarm,
  type AlarmChange,
  type AlarmStore,
  type ClickHouseDriver,
  type ResourceType,
} from '../../storage/index.ts';
import type { AlarmTransition, TransitionSink } from '../contracts.ts';
import { compositeDecision } from './composite.ts';
import { DEFAULT_EVENT_BATCH_RECORDS, resolveEvaluatorConfig, type AlarmEvaluatorConfig } from './config.ts';
import { eventDecision, eventProject, parseEvent } from './event-alarms.ts';
import { createEvaluatorState, ownerOf, type PendingNotification } from './state.ts';
import { STATISTICS, batchMetricsStatistics, batchResourcesAggregationStatistics, batchResourcesStatistics, type StatisticsContext, type StatisticsDeps } from './statistics.ts';
import { thresholdDecision, type Decision, type RuleEvaluation } from './threshold.ts';
import { withinTimeConstraints } from './time-constraints.ts';

export interface AlarmEvaluatorDeps {
  alarms: AlarmStore;
  /** The state database the alarm store lives in; the evaluator keeps its own tables there. */
  db: StateDatabase;
  store: ClickHouseDriver;
  /** For event alarms (`cumulus.events`); without it, event alarms are evaluated only through evaluateEvents(). */
  stream?: Stream;
  sink: TransitionSink;
  clock: Clock;
  logger: Logger;
  /** accepted: alarms evaluated; refused: evaluations that failed; dropped: skipped outside their time constraints; batches: rounds. */
  telemetry?: ComponentTelemetry;
  /** accepted: transitions handed to the sink; refused: hand-overs that failed (retried). */
  transitionTelemetry?: ComponentTelemetry;
  /** Resource types for by-resources rules; default: storage's store on `db`. */
  resourceTypes?: { find(name: string): ResourceType | undefined };
}

export type SkipReason = 'outside time constraints' | 'evaluated by another member';

/** What one round did. */
export interface EvaluationRound {
  /** ISO 8601: the round's time. */
  at: string;
  member: string;
  /** The live members the alarms were split over. */
  members: string[];
  /** Alarm ids evaluated by this member, in order. */
  evaluated: string[];
  skipped: Array<{ alarmId: string; why: SkipReason }>;
  failed: Array<{ alarmId: string; error: string }>;
  /** Transitions (and repeats) committed in this round. */
  transitions: AlarmTransition[];
  /** Notifications handed to the sink in this round (earlier rounds' included). */
  delivered: number;
  /** Notifications still waiting (the sink or the history insert failed). */
  pending: number;
}

export interface AlarmEvaluator extends Lifecycle {
  readonly memberId: string;
  /** Runs one round now (tests, the bench, `cumulus alarm evaluate`). */
  evaluateNow(): Promise<EvaluationRound>;
  /** Evaluates event alarms against these events (what the stream consumer does); the transitions committed. */
  evaluateEvents(events: readonly Event[]): Promise<AlarmTransition[]>;
}

export function createAlarmEvaluator(config: AlarmEvaluatorConfig, deps: AlarmEvaluatorDeps): AlarmEvaluator {
  const settings = resolveEvaluatorConfig(config);
  const { memberId: me, leaseMs, actor } = settings;
  // Two members evaluating "the same round" are at most half a period apart.
  const guardMs = Math.floor(settings.periodMs / 2);
  const state = createEvaluatorState(deps.db);
  const { clock, logger } = deps;
  let resourceTypes = deps.resourceTypes;
  const statisticsDeps: StatisticsDeps = {
    store: deps.store,
    resourceType: (name) => {
      resourceTypes ??= createResourceTypeStore(deps.db, { resourcesExist: resourcesOfTypeExist(deps.store) });
      return resourceTypes.find(name);
    },
  };

  // Rounds, event batches and deliveries run one at a time: the outbox is drained in order.
  let chain: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const next = chain.then(work, work);
    chain = next.catch(() => undefined);
    return next;
  };

  /** `batched`: this round's statistics read together (batch*Statistics); an alarm not there is read alone. */
  async function decide(alarm: Alarm, ctx: StatisticsContext, batched?: ReadonlyMap<string, RuleEvaluation>): Promise<Decision | null> {
    if (alarm.type === 'composite') {
      return compositeDecision(alarm, (rule) => {
        const leaf = STATISTICS[String(rule.type)];
        if (!leaf) throw new Error(`composite rule: no evaluator for sub-rule type ${String(rule.type)}`);
        return leaf(statisticsDeps, rule, ctx);
      });
    }
    const statistics = STATISTICS[alarm.type];
    if (!statistics) throw new Error(`no evaluator for alarm type ${alarm.type}`);
    const evaluation = batched?.get(alarm.alarm_id) ?? (await statistics(statisticsDeps, alarm.rule, ctx));
    return thresholdDecision(alarm, evaluation, Number(alarm.rule.evaluation_periods ?? 1));
  }

  /** Reason data goes into the history entry's detail beside Aodh's {state, state_reason}. */
  const withReasonData = (change: AlarmChange, decision: Decision): AlarmChange => ({ ...change, detail: JSON.stringify({ ...(JSON.parse(change.detail) as object), reason_data: decision.reasonData }) });

  /**
   * Commits a decision: the state change and its outbox row in one SQLite transaction, so a
   * crash after it loses nothing and before it changes nothing. Returns the transition, or
   * null when there is nothing to announce (alarm deleted, same state without repeat_actions).
   */
  function commit(alarmId: string, decision: Decision, nowMs: number): AlarmTransition | null {
    return deps.db.transaction((): AlarmTransition | null => {
      const before = deps.alarms.find(alarmId);
      if (!before) return null;
      let after = before;
      let history: AlarmChange[] = [];
      if (decision.state !== before.state) ({ alarm: after, changes: history } = deps.alarms.setState(alarmId, decision.state, decision.reason, actor));
      else if (!before.repeat_actions) return null;
      else if (decision.alwaysRecord) {
        history = [
          { event_id: randomUUID(), alarm_id: alarmId, type: 'state transition', detail: JSON.stringify({ state: before.state, state_reason: decision.reason }), reason: decision.reason, timestamp: new Date(nowMs).toISOString(), user_id: actor.user_id, project_id: actor.project_id, on_behalf_of: before.project_id, severity: before.severity },
        ];
      }
      const transition: AlarmTransition = { alarm: after, previous: before.state, reason: decision.reason, reasonData: decision.reasonData, timestamp: new Date(nowMs).toISOString(), ...(decision.labels ? { labels: decision.labels } : {}) };
      state.addPending(transition, history.map((c) => withReasonData(c, decision)), nowMs);
      return transition;
    })();
  }

  /** Drains the outbox rows `select` picks, oldest first. Call inside exclusive(). */
  async function deliver(select: (p: PendingNotification) => boolean): Promise<{ delivered: number; pending: number }> {
    const ready: PendingNotification[] = [];
    for (const p of state.pending().filter(select)) {
      // 1. the history entry first (its dedup token makes a retried insert count once): what
      //    is announced must be on record. A failure stops here so each alarm's order holds.
      if (!p.historyWritten && p.history.length > 0) {
        try {
          const insert = alarmHistoryInsert(p.history);
          await deps.store.insert(insert.table, insert.rows, { dedupToken: insert.dedupToken });
          state.historyWritten(p.id);
        } catch (err) {
          state.failed([p.id], errorMessage(err));
          logger.warn({ err: errorMessage(err), alarmId: p.alarmId }, 'alarm history insert failed; retried next round');
          break;
        }
      }
      ready.push(p);
    }
    let delivered = 0;
    if (ready.length > 0) {
      const ids = ready.map((p) => p.id);
      try {
        // 2. the sink persists before resolving; 3. only then the outbox rows go. A crash
        //    between 2 and 3 announces them again (at least once).
        await deps.sink.notify(ready.map((p) => p.transition));
        state.delivered(ids);
        delivered = ids.length;
        deps.transitionTelemetry?.accepted(ids.length);
      } catch (err) {
        state.failed(ids, errorMessage(err));
        deps.transitionTelemetry?.refused(ids.length);
        logger.warn({ err: errorMessage(err), count: ids.length }, 'transition sink failed; the notifications stay pending and are retried next round');
      }
    }
    return { delivered, pending: state.pending().filter(select).length };
  }

  const round = async (): Promise<EvaluationRound> => {
    const startedMs = clock.nowMs();
    // 1. heartbeat, then the split: my alarms are those the live members' hash gives me.
    state.heartbeat(me, startedMs, leaseMs);
    const members = state.liveMembers(startedMs);
    const mine = (alarmId: string) => ownerOf(alarmId, members) === me;
    // 2. what earlier rounds left pending goes before anything new (per alarm, commit order).
    const earlier = await deliver((p) => mine(p.alarmId));
    const result: EvaluationRound = { at: new Date(startedMs).toISOString(), member: me, members, evaluated: [], skipped: [], failed: [], transitions: [], delivered: earlier.delivered, pending: 0 };
    const ctx: StatisticsContext = { nowMs: startedMs, ingestionLagSeconds: settings.ingestionLagSeconds };
    // 3. the statistics of the alarms reading the same kind of data, in a few queries rather
    //    than two per alarm: a chDB query costs milliseconds, 10,000 of them a minute.
    const candidates = deps.alarms.list(null).filter((alarm) => alarm.enabled && alarm.type !== 'event' && mine(alarm.alarm_id));
    const batched = new Map<string, RuleEvaluation>();
    try {
      for (const batch of [batchResourcesStatistics, batchMetricsStatistics, batchResourcesAggregationStatistics]) for (const [alarmId, evaluation] of await batch(statisticsDeps, candidates, ctx)) batched.set(alarmId, evaluation);
    } catch (err) {
      // Only a speed-up: each alarm is then read alone, and fails alone, as before.
      logger.warn({ err: errorMessage(err) }, 'batched alarm statistics failed; reading each alarm alone');
    }
    // 4. evaluate; each decision commits on its own, so a failure leaves the others done.
    for (const alarm of candidates) {
      if (!withinTimeConstraints(alarm.time_constraints, startedMs)) {
        result.skipped.push({ alarmId: alarm.alarm_id, why: 'outside time constraints' });
        deps.telemetry?.dropped();
        continue;
      }
      if (!state.claim(alarm.alarm_id, me, startedMs, guardMs)) {
        result.skipped.push({ alarmId: alarm.alarm_id, why: 'evaluated by another member' });
        continue;
      }
      try {
        const decision = await decide(alarm, ctx, batched);
        result.evaluated.push(alarm.alarm_id);
        deps.telemetry?.accepted();
        const transition = decision ? commit(alarm.alarm_id, decision, startedMs) : null;
        if (transition) result.transitions.push(transition);
      } catch (err) {
        result.failed.push({ alarmId: alarm.alarm_id, error: errorMessage(err) });
        deps.telemetry?.refused();
        logger.warn({ err: errorMessage(err), alarmId: alarm.alarm_id }, 'alarm evaluation failed; retried next round');
      }
    }
    // 5. announce this round's transitions.
    const now = await deliver((p) => mine(p.alarmId));
    result.delivered += now.delivered;
    result.pending = now.pending;
    deps.telemetry?.observeBatch(clock.nowMs() - startedMs);
    if (result.transitions.length > 0 || result.failed.length > 0) logger.info({ evaluated: result.evaluated.length, transitions: result.transitions.length, failed: result.failed.length, pending: result.pending }, 'alarm evaluation round');
    return result;
  };

  const events = async (batch: readonly Event[]): Promise<AlarmTransition[]> => {
    const nowMs = clock.nowMs();
    const transitions: AlarmTransition[] = [];
    const created = new Set<string>();
    const byProject = new Map<string, Alarm[]>();
    for (const event of batch) {
      const project = eventProject(event);
      let alarms = byProject.get(project);
      if (!alarms) {
        alarms = deps.alarms.list(project).filter((a) => a.type === 'event' && a.enabled);
        byProject.set(project, alarms);
      }
      for (const [i, alarm] of alarms.entries()) {
        if (!withinTimeConstraints(alarm.time_constraints, nowMs)) continue;
        const decision = eventDecision(alarm, event);
        deps.telemetry?.accepted();
        if (!decision) continue;
        const transition = commit(alarm.alarm_id, decision, nowMs);
        if (!transition) continue;
        transitions.push(transition);
        created.add(transition.alarm.alarm_id);
        // The next event of the batch sees the new state (an alarm fired once is not fired again).
        alarms[i] = transition.alarm;
      }
    }
    if (created.size > 0) await deliver((p) => created.has(p.alarmId));
    return transitions;
  };

  let task: ScheduledTask | null = null;
  let heartbeat: NodeJS.Timeout | null = null;
  let subscription: StreamConsumerHandle | null = null;
  const evaluateNow = () => exclusive(round);

  return {
    memberId: me,
    evaluateNow,
    evaluateEvents: (batch) => exclusive(() => events(batch)),
    async start() {
      if (task) return;
      state.heartbeat(me, clock.nowMs(), leaseMs);
      // The lease is renewed between rounds too: a schedule slower than the lease keeps the member alive.
      heartbeat = setInterval(() => state.heartbeat(me, clock.nowMs(), leaseMs), Math.max(250, Math.floor(leaseMs / 3)));
      heartbeat.unref();
      if (deps.stream) {
        const consume = async (batch: StreamBatch) => {
          const parsed = batch.records.map((r) => parseEvent(r.value)).filter((e): e is Event => e !== null);
          // Resolving commits the offsets: after the state changes and their outbox rows are committed.
          if (parsed.length > 0) await exclusive(() => events(parsed));
        };
        subscription = await deps.stream.subscribe({ groupId: settings.eventGroupId, topics: [TOPICS.events], fromBeginning: false, maxBatchRecords: DEFAULT_EVENT_BATCH_RECORDS }, { consume });
      }
      task = cron.schedule(settings.schedule, () => evaluateNow().catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'alarm evaluation round failed')), { noOverlap: true, name: 'alarm-evaluator' });
    },
    async stop() {
      const current = task;
      task = null;
      if (current) await current.destroy();
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = null;
      const handle = subscription;
      subscription = null;
      await handle?.close().catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'closing the event alarm consumer failed'));
      // A round or batch in flight finishes; then the lease is given up so the others take over at once.
      await chain;
      state.leave(me);
    },
  };
}
