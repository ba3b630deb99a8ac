/**
 * The evaluator's own state in the transactional store (component `alarm-evaluator`):
 * - members: who evaluates, each with a lease renewed by its heartbeat; alarms are split
 *   over the live members by rendezvous hashing of the alarm id, so a member's alarms
 *   move only when membership changes;
 * - evaluations: when each alarm was last evaluated; a claim must move this forward by at
 *   least half a schedule period, so two members whose views of membership differ for a
 *   moment (one joined, one's lease ran out) still evaluate an alarm once per round;
 * - pending notifications: the outbox of transitions committed with the state change and
 *   not yet in alarm_history and handed to the sink; drained in order every round.
 * The SQL is plain (INSERT ... ON CONFLICT, no SQLite-only functions) so it ports to PostgreSQL.
 */
import { createHash } from 'node:crypto';
import { migrateState, type StateDatabase } from '../../core/index.ts';
import type { AlarmTransition } from '../contracts.ts';
import type { AlarmChange } from '../../storage/index.ts';
import { EVALUATOR_COMPONENT } from './config.ts';

const MIGRATIONS = [
  `CREATE TABLE alarm_evaluator_members (
    member_id TEXT PRIMARY KEY,
    expires_at_ms BIGINT NOT NULL
  )`,
  `CREATE TABLE alarm_evaluations (
    alarm_id TEXT PRIMARY KEY,
    evaluated_at_ms BIGINT NOT NULL,
    member_id TEXT NOT NULL
  )`,
  // id INTEGER PRIMARY KEY is SQLite's row id (PostgreSQL: BIGSERIAL): the delivery order.
  `CREATE TABLE alarm_pending_notifications (
    id INTEGER PRIMARY KEY,
    alarm_id TEXT NOT NULL,
    transition TEXT NOT NULL,
    history TEXT NOT NULL,
    history_written INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    created_at_ms BIGINT NOT NULL
  )`,
];

export interface PendingNotification {
  id: number;
  alarmId: string;
  transition: AlarmTransition;
  history: AlarmChange[];
  historyWritten: boolean;
  attempts: number;
}

interface PendingRow {
  id: number;
  alarm_id: string;
  transition: string;
  history: string;
  history_written: number;
  attempts: number;
}

export interface EvaluatorState {
  /** Renews this member's lease until nowMs + leaseMs. */
  heartbeat(memberId: string, nowMs: number, leaseMs: number): void;
  /** Gives the lease up (a clean stop): the others take the alarms at their next round. */
  leave(memberId: string): void;
  /** Members whose lease runs past nowMs, sorted. */
  liveMembers(nowMs: number): string[];
  /** Takes alarm for this round unless someone evaluated it less than guardMs ago. */
  claim(alarmId: string, memberId: string, nowMs: number, guardMs: number): boolean;
  /** When the alarm was last evaluated (ms), if ever. */
  lastEvaluatedMs(alarmId: string): number | undefined;
  /** Adds to the outbox; call inside the transaction that changed the alarm. */
  addPending(transition: AlarmTransition, history: readonly AlarmChange[], nowMs: number): number;
  /** The outbox, oldest first. */
  pending(): PendingNotification[];
  historyWritten(id: number): void;
  failed(ids: readonly number[], error: string): void;
  delivered(ids: readonly number[]): void;
}

/** The member that evaluates `alarmId` among `members` (rendezvous hashing: highest score wins). */
export function ownerOf(alarmId: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const member of members) {
    const score = createHash('sha1').update(member).update('\u0000').update(alarmId).digest().readUInt32BE(0);
    if (score > bestScore || (score === bestScore && best !== undefined && member < best)) {
      best = member;
      bestScore = score;
    }
  }
  return best;
}

export function createEvaluatorState(db: StateDatabase): EvaluatorState {
  migrateState(db, EVALUATOR_COMPONENT, MIGRATIONS);
  const upsertMember = db.prepare<[string, number]>('INSERT INTO alarm_evaluator_members (member_id, expires_at_ms) VALUES (?, ?) ON CONFLICT (member_id) DO UPDATE SET expires_at_ms = excluded.expires_at_ms');
  const deleteMember = db.prepare<[string]>('DELETE FROM alarm_evaluator_members WHERE member_id = ?');
  const selectLive = db.prepare<[number], { member_id: string }>('SELECT member_id FROM alarm_evaluator_members WHERE expires_at_ms > ? ORDER BY member_id');
  // Dead members' rows are kept a day for the record, then dropped.
  const pruneMembers = db.prepare<[number]>('DELETE FROM alarm_evaluator_members WHERE expires_at_ms < ?');
  const claim = db.prepare<{ alarm_id: string; member_id: string; now: number; before: number }>(
    `INSERT INTO alarm_evaluations (alarm_id, evaluated_at_ms, member_id) VALUES (@alarm_id, @now, @member_id)
     ON CONFLICT (alarm_id) DO UPDATE SET evaluated_at_ms = excluded.evaluated_at_ms, member_id = excluded.member_id
     WHERE alarm_evaluations.evaluated_at_ms <= @before`,
  );
  const selectEvaluated = db.prepare<[string], { evaluated_at_ms: number }>('SELECT evaluated_at_ms FROM alarm_evaluations WHERE alarm_id = ?');
  const insertPending = db.prepare<[string, string, string, number]>('INSERT INTO alarm_pending_notifications (alarm_id, transition, history, created_at_ms) VALUES (?, ?, ?, ?)');
  const selectPending = db.prepare<[], PendingRow>('SELECT id, alarm_id, transition, history, history_written, attempts FROM alarm_pending_notifications ORDER BY id');
  const markWritten = db.prepare<[number]>('UPDATE alarm_pending_notifications SET history_written = 1 WHERE id = ?');
  const markFailed = db.prepare<[string, number]>('UPDATE alarm_pending_notifications SET attempts = attempts + 1, last_error = ? WHERE id = ?');
  const deletePending = db.prepare<[number]>('DELETE FROM alarm_pending_notifications WHERE id = ?');

  return {
    heartbeat: (memberId, nowMs, leaseMs) => {
      upsertMember.run(memberId, nowMs + leaseMs);
      pruneMembers.run(nowMs - 86_400_000);
    },
    leave: (memberId) => void deleteMember.run(memberId),
    liveMembers: (nowMs) => selectLive.all(nowMs).map((r) => r.member_id),
    claim: (alarmId, memberId, nowMs, guardMs) => claim.run({ alarm_id: alarmId, member_id: memberId, now: nowMs, before: nowMs - guardMs }).changes === 1,
    lastEvaluatedMs: (alarmId) => selectEvaluated.get(alarmId)?.evaluated_at_ms,
    addPending: (transition, history, nowMs) => Number(insertPending.run(transition.alarm.alarm_id, JSON.stringify(transition), JSON.stringify(history), nowMs).lastInsertRowid),
    pending: () =>
      selectPending.all().map((r) => ({ id: r.id, alarmId: r.alarm_id, transition: JSON.parse(r.transition) as AlarmTransition, history: JSON.parse(r.history) as AlarmChange[], historyWritten: r.history_written === 1, attempts: r.attempts })),
    historyWritten: (id) => void markWritten.run(id),
    failed: (ids, error) => db.transaction(() => ids.forEach((id) => markFailed.run(error.slice(0, 2000), id)))(),
    delivered: (ids) => db.transaction(() => ids.forEach((id) => deletePending.run(id)))(),
  };
}
