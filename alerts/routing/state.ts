/**
 * The notifier's SQLite tables: the current alert per alarm, the alert groups with their
 * timers and what each integration was last told, and group membership. Everything the
 * flush decides from lives here, so a restart resumes the same timers.
 */
import { migrateState, type StateDatabase } from '../../core/index.ts';
import type { AlarmSeverity, AlarmState } from '../../storage/index.ts';
import type { AlertStatus } from '../receivers/types.ts';

export const ROUTING_COMPONENT = 'alert-routing';

const MIGRATIONS = [
  `CREATE TABLE routing_alerts (
    alarm_id TEXT PRIMARY KEY,
    labels TEXT NOT NULL,
    status TEXT NOT NULL,
    state TEXT NOT NULL,
    previous TEXT NOT NULL,
    severity TEXT NOT NULL,
    alarm_name TEXT NOT NULL,
    description TEXT NOT NULL,
    reason TEXT NOT NULL,
    reason_data TEXT NOT NULL,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER,
    changed_at TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  )`,
  'CREATE INDEX routing_alerts_status ON routing_alerts (status)',
  `CREATE TABLE routing_groups (
    group_key TEXT PRIMARY KEY,
    route_id TEXT NOT NULL,
    receiver TEXT NOT NULL,
    labels TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    next_flush_at INTEGER NOT NULL,
    notified TEXT NOT NULL DEFAULT '{}'
  )`,
  'CREATE INDEX routing_groups_due ON routing_groups (next_flush_at)',
  `CREATE TABLE routing_group_alerts (
    group_key TEXT NOT NULL REFERENCES routing_groups (group_key) ON DELETE CASCADE,
    alarm_id TEXT NOT NULL,
    PRIMARY KEY (group_key, alarm_id)
  )`,
];

export function migrateRouting(db: StateDatabase): void {
  migrateState(db, ROUTING_COMPONENT, MIGRATIONS);
}

export interface AlertRow {
  alarm_id: string;
  labels: string;
  status: AlertStatus;
  state: AlarmState;
  previous: AlarmState;
  severity: AlarmSeverity;
  alarm_name: string;
  description: string;
  reason: string;
  reason_data: string;
  starts_at: number;
  ends_at: number | null;
  changed_at: string;
  updated_at: number;
}

export interface GroupRow {
  group_key: string;
  route_id: string;
  receiver: string;
  labels: string;
  created_at: number;
  next_flush_at: number;
  notified: string;
}

/** What one integration of a group was last sent: the open alerts (`alarm_id:status`) and when. */
export type NotifiedState = Record<string, { open: string[]; at: number }>;
