/**
 * The built-in rules, from the operations advice: (a) a service down on some controllers
 * is a warning, on all of them critical; (b) many failed Keystone authentications from
 * one address in a short window is a security alert; (c) any failure of a 1-second
 * synthetic check is an outage alert, however short. Each rule is a pure function of
 * stored rows (check_results, audit_records) to findings; the component keeps their
 * state in SQLite and hands the changes to the evaluator's TransitionSink as system
 * alarms. Experimental API.
 */
import { deriveId, errorMessage, type Clock, type ComponentTelemetry, type Lifecycle, type Logger, type StateDatabase } from '../../core/index.ts';
import { selectAuditBySource, type Alarm, type AlarmSeverity, type AlarmState, type AlarmType, type AuditSourceRow, type ClickHouseDriver } from '../../storage/index.ts';
import type { AlarmTransition, TransitionSink } from '../contracts.ts';
import { createBuiltinStateStore, type BuiltinAlarmRecord, type BuiltinFinding, type BuiltinRuleKind, type BuiltinState, type BuiltinStateStore } from './builtin-state.ts';
import { CheckConfigError } from './errors.ts';
import { selectCheckWindowStats, selectLatestResults, storedRow, type CheckWindowStats, type StoredCheckResult } from './queries.ts';
import { processCheckName } from './transactions.ts';

/** The reserved project that owns built-in (system) alarms in transitions; no Keystone project has this id. */
export const BUILTIN_PROJECT_ID = 'cumulus-builtin';
export const DEFAULT_EVALUATION_INTERVAL_MS = 10_000;
/** Process-health rows older than this are stale (the prober stopped): they decide nothing. */
export const DEFAULT_HEALTH_FRESHNESS_SECONDS = 60;
/** The operations advice's brute-force threshold: 20 failed authentications from one address within 60 s. */
export const DEFAULT_BRUTE_FORCE_FAILURES = 20;
export const DEFAULT_BRUTE_FORCE_WINDOW_SECONDS = 60;
/** How far back a failure of a fast check still holds the outage alarm. */
export const DEFAULT_SHORT_OUTAGE_WINDOW_SECONDS = 60;
/** The checks the short-outage rule watches by default: those running every second. */
export const FAST_CHECK_MAX_INTERVAL_MS = 1_000;
/** Addresses reported per evaluation at most (the worst first). */
const MAX_SOURCES = 1_000;

export type { BuiltinFinding } from './builtin-state.ts';

/**
 * A rule's findings. `complete`: the rule saw data, so a key of its kind that it did not
 * report is back to ok (an attacker who stopped); otherwise such keys keep their state
 * (no fresh data must not look like recovery).
 */
export interface RuleResult {
  kind: BuiltinRuleKind;
  findings: BuiltinFinding[];
  complete: boolean;
}

/** (a) Per process, over the latest fresh process-health rows of every host: down on some hosts -> moderate, on all -> critical. */
export function evaluateServiceHealth(latest: readonly StoredCheckResult[]): RuleResult {
  const byProcess = new Map<string, StoredCheckResult[]>();
  for (const row of latest) {
    if (!row.check_name.startsWith(processCheckName(''))) continue;
    const process = row.check_name.slice(processCheckName('').length);
    byProcess.set(process, [...(byProcess.get(process) ?? []), row]);
  }
  const findings: BuiltinFinding[] = [];
  for (const [process, rows] of [...byProcess].sort(([a], [b]) => a.localeCompare(b))) {
    const down = rows.filter((r) => r.ok === 0);
    const service = rows[0]!.service;
    const labels = { builtin: 'service-health', category: 'availability', service, process, region: rows[0]!.region };
    const reasonData = { type: 'service-health', process, service, hosts: rows.map((r) => r.host), down_hosts: down.map((r) => r.host), errors: Object.fromEntries(down.map((r) => [r.host, r.error])) };
    if (down.length === 0) {
      findings.push({ key: `service-health:${process}`, kind: 'service-health', state: 'ok', severity: 'moderate', reason: `${process} runs on all ${rows.length} hosts`, reasonData, labels });
    } else if (down.length < rows.length) {
      findings.push({ key: `service-health:${process}`, kind: 'service-health', state: 'alarm', severity: 'moderate', reason: `${process} is down on ${down.map((r) => r.host).join(', ')} (${down.length} of ${rows.length} hosts); the others still serve`, reasonData, labels });
    } else {
      findings.push({ key: `service-health:${process}`, kind: 'service-health', state: 'alarm', severity: 'critical', reason: `${process} is down on all ${rows.length} hosts`, reasonData, labels });
    }
  }
  return { kind: 'service-health', findings, complete: false };
}

/** (b) Every source address with at least `threshold` failed authentications in the window is an alarm. */
export function evaluateBruteForce(sources: readonly AuditSourceRow[], threshold: number, windowSeconds: number): RuleResult {
  const findings: BuiltinFinding[] = [];
  for (const source of sources) {
    const count = Number(source.count);
    if (source.address === null || source.address === '' || count < threshold) continue;
    findings.push({
      key: `brute-force:${source.address}`,
      kind: 'brute-force',
      state: 'alarm',
      severity: 'critical',
      reason: `${count} failed authentications from ${source.address} in the last ${windowSeconds} s (threshold ${threshold})`,
      reasonData: { type: 'brute-force', address: source.address, count, threshold, window_seconds: windowSeconds, first: source.first, last: source.last, users: source.initiator_names, user_ids: source.initiator_ids },
      labels: { builtin: 'brute-force', category: 'security', service: 'identity', address: source.address },
    });
  }
  return { kind: 'brute-force', findings, complete: true };
}

/** (c) Per fast check: any failed run in the window is an alarm; runs and no failure is ok; no run decides nothing. */
export function evaluateShortOutage(stats: readonly CheckWindowStats[], checks: readonly string[], windowSeconds: number): RuleResult {
  const findings: BuiltinFinding[] = [];
  for (const s of stats) {
    if (!checks.includes(s.check_name)) continue;
    const failures = Number(s.failures);
    const runs = Number(s.runs);
    const labels = { builtin: 'short-outage', category: 'availability', service: s.service, check: s.check_name };
    const reasonData = { type: 'short-outage', check: s.check_name, service: s.service, runs, failures, window_seconds: windowSeconds, last_failure: s.last_failure, last_error: s.last_error };
    findings.push(
      failures > 0
        ? { key: `short-outage:${s.check_name}`, kind: 'short-outage', state: 'alarm', severity: 'moderate', reason: `${s.check_name} failed ${failures} of ${runs} runs in the last ${windowSeconds} s (last: ${s.last_error})`, reasonData, labels }
        : { key: `short-outage:${s.check_name}`, kind: 'short-outage', state: 'ok', severity: 'moderate', reason: `${s.check_name} passed all ${runs} runs in the last ${windowSeconds} s`, reasonData, labels },
    );
  }
  return { kind: 'short-outage', findings, complete: false };
}

const ALARM_TYPE_OF: Readonly<Record<BuiltinRuleKind, AlarmType>> = { 'service-health': 'outage', 'short-outage': 'outage', 'brute-force': 'event' };

/** The built-in alarm as the evaluator's transitions carry an alarm (id derived from its key: stable across restarts). */
export function builtinAlarm(record: BuiltinAlarmRecord): Alarm {
  return {
    alarm_id: deriveId('builtin-alarm', record.key),
    name: `builtin:${record.key}`,
    description: `Cumulus built-in rule ${record.kind} (alerts/checks/builtin-rules.ts)`,
    type: ALARM_TYPE_OF[record.kind],
    enabled: true,
    severity: record.severity,
    repeat_actions: false,
    time_constraints: [],
    alarm_actions: [],
    ok_actions: [],
    insufficient_data_actions: [],
    project_id: BUILTIN_PROJECT_ID,
    user_id: '',
    rule: { builtin: record.kind, key: record.key },
    state: record.state,
    state_reason: record.reason,
    state_timestamp: record.stateTimestamp,
    timestamp: record.timestamp,
  };
}

export interface BuiltinRulesOptions {
  /** Evaluation period; 0: no timer (the owner calls evaluate()). */
  evaluationIntervalMs?: number;
  serviceHealth?: { enabled?: boolean; freshnessSeconds?: number };
  bruteForce?: { enabled?: boolean; failures?: number; windowSeconds?: number };
  /** The fast checks to watch (names, or a function the prober answers once its checks are known). */
  shortOutage?: { enabled?: boolean; windowSeconds?: number; checks?: readonly string[] | (() => readonly string[]) };
}

export interface BuiltinRulesDeps {
  store: ClickHouseDriver;
  stateDb: StateDatabase;
  sink: TransitionSink;
  clock: Clock;
  logger: Logger;
  /** accepted: transitions handed over; refused: evaluations the sink refused. */
  telemetry?: ComponentTelemetry;
}

export interface BuiltinRules extends Lifecycle {
  /** Evaluates every enabled rule once and hands the changes to the sink; resolves to what it sent. */
  evaluate(): Promise<AlarmTransition[]>;
  /** The current state of every built-in alarm seen so far. */
  states(): BuiltinAlarmRecord[];
}

const positive = (value: number | undefined, fallback: number, field: string): number => {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new CheckConfigError(field, 'a positive integer', value);
  return v;
};

export function createBuiltinRules(options: BuiltinRulesOptions, deps: BuiltinRulesDeps): BuiltinRules {
  const interval = options.evaluationIntervalMs ?? DEFAULT_EVALUATION_INTERVAL_MS;
  if (!Number.isInteger(interval) || interval < 0) throw new CheckConfigError('evaluationIntervalMs', 'an integer >= 0 (0: no timer)', options.evaluationIntervalMs);
  const freshness = positive(options.serviceHealth?.freshnessSeconds, DEFAULT_HEALTH_FRESHNESS_SECONDS, 'serviceHealth.freshnessSeconds');
  const failures = positive(options.bruteForce?.failures, DEFAULT_BRUTE_FORCE_FAILURES, 'bruteForce.failures');
  const bruteWindow = positive(options.bruteForce?.windowSeconds, DEFAULT_BRUTE_FORCE_WINDOW_SECONDS, 'bruteForce.windowSeconds');
  const outageWindow = positive(options.shortOutage?.windowSeconds, DEFAULT_SHORT_OUTAGE_WINDOW_SECONDS, 'shortOutage.windowSeconds');
  const fastChecks = options.shortOutage?.checks ?? [];
  if (typeof fastChecks !== 'function' && !Array.isArray(fastChecks)) throw new CheckConfigError('shortOutage.checks', 'a list of check names or a function returning one', fastChecks);
  const { store, clock, logger } = deps;
  const states: BuiltinStateStore = createBuiltinStateStore(deps.stateDb);
  let timer: NodeJS.Timeout | null = null;
  let evaluating: Promise<AlarmTransition[]> | null = null;

  async function results(now: Date): Promise<RuleResult[]> {
    const out: RuleResult[] = [];
    if (options.serviceHealth?.enabled !== false) {
      const rows = await store.query<Parameters<typeof storedRow>[0]>(selectLatestResults(new Date(now.getTime() - freshness * 1000), now));
      out.push(evaluateServiceHealth(rows.map(storedRow)));
    }
    if (options.bruteForce?.enabled !== false) {
      // The end bound is exclusive: one millisecond past now includes a failure logged at this instant.
      const filters = { projectId: null, action: 'authenticate', outcome: 'failure', start: new Date(now.getTime() - bruteWindow * 1000), end: new Date(now.getTime() + 1) };
      out.push(evaluateBruteForce(await store.query<AuditSourceRow>(selectAuditBySource(filters, MAX_SOURCES, 20)), failures, bruteWindow));
    }
    const checks = typeof fastChecks === 'function' ? fastChecks() : fastChecks;
    if (options.shortOutage?.enabled !== false && checks.length > 0) {
      const stats = await store.query<CheckWindowStats>(selectCheckWindowStats(new Date(now.getTime() - outageWindow * 1000), now, checks));
      out.push(evaluateShortOutage(stats, checks, outageWindow));
    }
    return out;
  }

  async function evaluateOnce(): Promise<AlarmTransition[]> {
    const now = clock.now();
    const at = now.toISOString();
    // 1. Read the rows and let each rule conclude.
    const ruleResults = await results(now);
    const known = new Map(states.all().map((r) => [r.key, r]));
    const updates: BuiltinAlarmRecord[] = [];
    const transitions: AlarmTransition[] = [];
    const decide = (finding: BuiltinFinding) => {
      const before = known.get(finding.key);
      const changed = before === undefined ? finding.state === 'alarm' : before.state !== finding.state || (finding.state === 'alarm' && before.severity !== finding.severity);
      const record: BuiltinAlarmRecord = { ...finding, stateTimestamp: changed || before === undefined ? at : before.stateTimestamp, timestamp: at };
      updates.push(record);
      if (!changed) return;
      const previous: AlarmState = before?.state ?? 'insufficient data';
      transitions.push({ alarm: builtinAlarm(record), previous, reason: finding.reason, reasonData: finding.reasonData, timestamp: at, labels: finding.labels });
    };
    for (const result of ruleResults) {
      const reported = new Set(result.findings.map((f) => f.key));
      result.findings.forEach(decide);
      if (!result.complete) continue;
      for (const before of known.values()) {
        if (before.kind !== result.kind || reported.has(before.key) || before.state === 'ok') continue;
        decide({ key: before.key, kind: before.kind, state: 'ok', severity: before.severity, reason: `no longer seen: ${before.reason}`, reasonData: { ...before.reasonData, cleared: true }, labels: before.labels });
      }
    }
    // 2. Hand the changes over first: the sink persists them before it resolves.
    if (transitions.length > 0) {
      try {
        await deps.sink.notify(transitions);
      } catch (err) {
        deps.telemetry?.refused(transitions.length);
        throw err;
      }
      deps.telemetry?.accepted(transitions.length);
    }
    // 3. Only then record the new states: a refused notify leaves them unrecorded, so the next evaluation sends them again
    //    (a crash between 2 and 3 sends them once more: at least once, never lost).
    states.putAll(updates);
    return transitions;
  }

  const evaluate = () => {
    evaluating ??= evaluateOnce().finally(() => {
      evaluating = null;
    });
    return evaluating;
  };

  return {
    evaluate,
    states: () => states.all(),
    async start() {
      if (timer || interval === 0) return;
      timer = setInterval(() => {
        evaluate().catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'built-in rules: evaluation failed; retrying at the next period'));
      }, interval);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      if (evaluating) await evaluating.catch(() => undefined);
    },
  };
}
