/**
 * The status board's verdict: per service good / warning / failed, from the latest
 * synthetic check results and the built-in alarms. Experimental API.
 *
 * - failed: a check through the load balancer failed its latest run, a multi-host check
 *   (process health) is down on every host, or a critical built-in alarm is active;
 * - warning: a process is down on some hosts only, a check failed within the window but
 *   passes now, or another built-in alarm is active;
 * - good: otherwise.
 */
import type { Clock } from '../../core/index.ts';
import type { ClickHouseDriver } from '../../storage/index.ts';
import { selectCheckWindowStats, selectLatestResults, storedRow, type BuiltinAlarmRecord, type CheckWindowStats, type StoredCheckResult } from '../checks/index.ts';

export const SERVICE_STATES = ['good', 'warning', 'failed'] as const;
export type ServiceState = (typeof SERVICE_STATES)[number];
/** The window the board looks back over (failures, median latency), seconds. */
export const DEFAULT_STATUS_WINDOW_SECONDS = 300;
export const MIN_STATUS_WINDOW_SECONDS = 10;
export const MAX_STATUS_WINDOW_SECONDS = 86_400;

export interface HostResult {
  host: string;
  ok: boolean;
  at: string;
  error: string;
}

/** One check's place on the board. */
export interface CheckStatus {
  check: string;
  /** The latest run (for a multi-host check: ok only when every host was). */
  last: { at: string; ok: boolean; latency_ms: number; error: string };
  /** Per host, for checks that report per host (process health). */
  hosts: HostResult[];
  runs: number;
  failures: number;
  latency_p50_ms: number | null;
  last_failure: string | null;
  last_error: string | null;
}

export interface ActiveAlarm {
  key: string;
  kind: string;
  severity: string;
  reason: string;
  since: string;
}

export interface ServiceStatus {
  service: string;
  status: ServiceState;
  /** Why it is not good (empty when good). */
  reasons: string[];
  checks: CheckStatus[];
  alarms: ActiveAlarm[];
}

export interface StatusReport {
  generated_at: string;
  window_seconds: number;
  /** The worst service's state. */
  overall: ServiceState;
  services: ServiceStatus[];
}

export interface StatusDeps {
  store: ClickHouseDriver;
  clock: Clock;
  /** The built-in alarms' current states (BuiltinRules.states); absent: checks only. */
  builtinStates?: () => readonly BuiltinAlarmRecord[];
}

const RANK: Readonly<Record<ServiceState, number>> = { good: 0, warning: 1, failed: 2 };
const worst = (a: ServiceState, b: ServiceState): ServiceState => (RANK[b] > RANK[a] ? b : a);

/** The board from rows already read: pure, so the rules are testable without a store. */
export function summarize(latest: readonly StoredCheckResult[], stats: readonly CheckWindowStats[], alarms: readonly BuiltinAlarmRecord[], generatedAt: string, windowSeconds: number): StatusReport {
  const services = new Map<string, ServiceStatus>();
  const serviceOf = (name: string) => {
    let s = services.get(name);
    if (!s) {
      s = { service: name, status: 'good', reasons: [], checks: [], alarms: [] };
      services.set(name, s);
    }
    return s;
  };
  const raise = (s: ServiceStatus, to: ServiceState, reason: string) => {
    s.status = worst(s.status, to);
    s.reasons.push(reason);
  };
  const statsOf = new Map(stats.map((st) => [st.check_name, st]));
  const byCheck = new Map<string, StoredCheckResult[]>();
  for (const row of latest) byCheck.set(row.check_name, [...(byCheck.get(row.check_name) ?? []), row]);

  for (const [check, rows] of [...byCheck].sort(([a], [b]) => a.localeCompare(b))) {
    const newest = rows.reduce((a, b) => (b.at > a.at ? b : a));
    const st = statsOf.get(check);
    const multiHost = rows.some((r) => r.host !== '');
    const down = rows.filter((r) => r.ok === 0);
    const status: CheckStatus = {
      check,
      last: { at: newest.at, ok: down.length === 0, latency_ms: newest.latency_ms, error: down[0]?.error ?? '' },
      hosts: multiHost ? rows.map((r) => ({ host: r.host, ok: r.ok === 1, at: r.at, error: r.error })).sort((a, b) => a.host.localeCompare(b.host)) : [],
      runs: Number(st?.runs ?? 0),
      failures: Number(st?.failures ?? 0),
      latency_p50_ms: st?.latency_p50_ms === null || st?.latency_p50_ms === undefined ? null : Number(st.latency_p50_ms),
      last_failure: st?.last_failure ? st.last_failure.replace(/(\.\d{3})\d*Z$/, '$1Z') : null,
      last_error: st?.last_failure ? st.last_error : null,
    };
    const service = serviceOf(newest.service);
    service.checks.push(status);
    if (multiHost && down.length > 0) {
      const hosts = down.map((r) => r.host).join(', ');
      if (down.length === rows.length) raise(service, 'failed', `${check} down on all ${rows.length} hosts`);
      else raise(service, 'warning', `${check} down on ${hosts} (${down.length} of ${rows.length})`);
    } else if (!multiHost && down.length > 0) {
      raise(service, 'failed', `${check} failed its latest run: ${status.last.error}`);
    } else if (status.failures > 0) {
      raise(service, 'warning', `${check} failed ${status.failures} of ${status.runs} runs in the last ${windowSeconds} s (last: ${status.last_error ?? ''})`);
    }
  }

  for (const alarm of alarms) {
    if (alarm.state !== 'alarm') continue;
    const service = serviceOf(alarm.labels.service ?? alarm.kind);
    service.alarms.push({ key: alarm.key, kind: alarm.kind, severity: alarm.severity, reason: alarm.reason, since: alarm.stateTimestamp });
    raise(service, alarm.severity === 'critical' ? 'failed' : 'warning', `built-in alarm ${alarm.key}: ${alarm.reason}`);
  }

  const list = [...services.values()].sort((a, b) => a.service.localeCompare(b.service));
  return { generated_at: generatedAt, window_seconds: windowSeconds, overall: list.reduce<ServiceState>((acc, s) => worst(acc, s.status), 'good'), services: list };
}

/** Reads the latest results and the window's statistics, then summarizes. */
export async function serviceStatus(deps: StatusDeps, options: { windowSeconds?: number } = {}): Promise<StatusReport> {
  const windowSeconds = options.windowSeconds ?? DEFAULT_STATUS_WINDOW_SECONDS;
  const now = deps.clock.now();
  const since = new Date(now.getTime() - windowSeconds * 1000);
  const [latest, stats] = await Promise.all([
    deps.store.query<Parameters<typeof storedRow>[0]>(selectLatestResults(since, now)),
    deps.store.query<CheckWindowStats>(selectCheckWindowStats(since, now)),
  ]);
  return summarize(latest.map(storedRow), stats, deps.builtinStates?.() ?? [], now.toISOString(), windowSeconds);
}
