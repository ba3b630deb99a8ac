/**
 * The evaluator's settings, defaults as named constants with their units. Experimental:
 * the config keys may still change while issue 8 settles.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import cron from 'node-cron';
import { ConfigError } from '../../core/index.ts';
import type { AlarmActor } from '../../storage/index.ts';

/** Every 10 s (node-cron's six-field form: the first field is seconds). */
export const DEFAULT_EVALUATION_SCHEDULE = '*/10 * * * * *';
/** How long a member counts as alive after its last heartbeat: three default rounds. */
export const DEFAULT_LEASE_MS = 30_000;
/** The stream consumer group event alarms read `cumulus.events` with (its own, beside the pipeline's). */
export const DEFAULT_EVENT_GROUP_ID = 'cumulus-alarm-events';
/** Events handed to the event alarms at most at once. */
export const DEFAULT_EVENT_BATCH_RECORDS = 500;
/** Aodh's `additional_ingestion_lag`: seconds added to every threshold window. */
export const DEFAULT_INGESTION_LAG_SECONDS = 0;
/** Who the history says changed a state (Aodh records its service user; Cumulus has none). */
export const DEFAULT_EVALUATOR_ACTOR: AlarmActor = { user_id: '', project_id: '' };
/** The name under which core's migrateState records the evaluator's SQLite tables. */
export const EVALUATOR_COMPONENT = 'alarm-evaluator';
/** A resource search of a by-resources alarm aggregates at most this many resources. */
export const MAX_SEARCHED_RESOURCES = 10_000;

export interface AlarmEvaluatorConfig {
  /** node-cron expression, 5 fields or 6 with seconds first; at most one round a second. */
  schedule?: string;
  /** This instance's name among the evaluators sharing the state database; default host:pid:random. */
  memberId?: string;
  /** A member not heard from for this long is dead and its alarms move to the others (ms). */
  leaseMs?: number;
  /** Consumer group of the event alarms. */
  eventGroupId?: string;
  /** Seconds added to the threshold windows, for late measures (Aodh's additional_ingestion_lag). */
  ingestionLagSeconds?: number;
  /** Who state changes are recorded as. */
  actor?: AlarmActor;
}

export interface ResolvedEvaluatorConfig {
  schedule: string;
  /** The shortest time between two rounds of the schedule (ms). */
  periodMs: number;
  memberId: string;
  leaseMs: number;
  eventGroupId: string;
  ingestionLagSeconds: number;
  actor: AlarmActor;
}

const DAY_S = 86_400;

/**
 * The shortest gap between two firings of a schedule, ignoring day restrictions (which
 * only lengthen gaps): a lower bound of the real period, what the per-alarm claim needs.
 */
export function schedulePeriodMs(schedule: string): number {
  const fields = cron.parse(schedule);
  const times: number[] = [];
  for (const h of fields.hour) for (const m of fields.minute) for (const s of fields.second) times.push(h * 3600 + m * 60 + s);
  times.sort((a, b) => a - b);
  let gap = DAY_S - (times[times.length - 1] as number) + (times[0] as number);
  for (let i = 1; i < times.length; i++) gap = Math.min(gap, (times[i] as number) - (times[i - 1] as number));
  return gap * 1000;
}

export function resolveEvaluatorConfig(config: AlarmEvaluatorConfig): ResolvedEvaluatorConfig {
  const schedule = config.schedule ?? DEFAULT_EVALUATION_SCHEDULE;
  if (typeof schedule !== 'string' || !cron.validate(schedule)) throw new ConfigError(`alerts.evaluator.schedule must be a node-cron expression such as '${DEFAULT_EVALUATION_SCHEDULE}' (seconds field allowed), got ${JSON.stringify(schedule)}`);
  const leaseMs = config.leaseMs ?? DEFAULT_LEASE_MS;
  if (!Number.isInteger(leaseMs) || leaseMs < 1000) throw new ConfigError(`alerts.evaluator.leaseMs must be a whole number of milliseconds >= 1000, got ${JSON.stringify(config.leaseMs)}`);
  const memberId = config.memberId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  if (typeof memberId !== 'string' || memberId.trim() === '' || memberId.length > 255) throw new ConfigError(`alerts.evaluator.memberId must be a non-empty name of at most 255 characters, got ${JSON.stringify(config.memberId)}`);
  const eventGroupId = config.eventGroupId ?? DEFAULT_EVENT_GROUP_ID;
  if (typeof eventGroupId !== 'string' || eventGroupId.trim() === '') throw new ConfigError(`alerts.evaluator.eventGroupId must be a non-empty consumer group name, got ${JSON.stringify(config.eventGroupId)}`);
  const ingestionLagSeconds = config.ingestionLagSeconds ?? DEFAULT_INGESTION_LAG_SECONDS;
  if (!Number.isInteger(ingestionLagSeconds) || ingestionLagSeconds < 0 || ingestionLagSeconds > DAY_S) throw new ConfigError(`alerts.evaluator.ingestionLagSeconds must be a whole number of seconds from 0 to ${DAY_S}, got ${JSON.stringify(config.ingestionLagSeconds)}`);
  return { schedule, periodMs: schedulePeriodMs(schedule), memberId, leaseMs, eventGroupId, ingestionLagSeconds, actor: config.actor ?? DEFAULT_EVALUATOR_ACTOR };
}
