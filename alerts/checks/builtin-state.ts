/**
 * The built-in rules' state: one row per built-in alarm key (`service-health:nova-api`,
 * `brute-force:203.0.113.9`, `short-outage:keystone-token-issue`) in SQLite, so a restart
 * knows what already fired and does not fire it again. Built-in alarms are not rows of the
 * alarm store: their keys appear and go with the data (a new attacking address, a new
 * process), they have no owner who could edit or delete them, and Aodh's API must not
 * list them as a project's alarms.
 */
import { migrateState, type StateDatabase } from '../../core/index.ts';
import type { AlarmSeverity } from '../../storage/index.ts';

export const BUILTIN_STATE_COMPONENT = 'builtin-alarms';
export const BUILTIN_RULE_KINDS = ['service-health', 'brute-force', 'short-outage'] as const;
export type BuiltinRuleKind = (typeof BUILTIN_RULE_KINDS)[number];
export type BuiltinState = 'ok' | 'alarm';

/** What a rule concludes about one key. */
export interface BuiltinFinding {
  key: string;
  kind: BuiltinRuleKind;
  state: BuiltinState;
  severity: AlarmSeverity;
  reason: string;
  reasonData: Record<string, unknown>;
  labels: Record<string, string>;
}

/** One built-in alarm's current state: its last finding and when it changed. */
export interface BuiltinAlarmRecord extends BuiltinFinding {
  /** ISO 8601: the last change of state or severity. */
  stateTimestamp: string;
  /** ISO 8601: when it was last evaluated with data. */
  timestamp: string;
}

export interface BuiltinStateStore {
  all(): BuiltinAlarmRecord[];
  get(key: string): BuiltinAlarmRecord | undefined;
  /** Writes all records in one transaction. */
  putAll(records: readonly BuiltinAlarmRecord[]): void;
}

const MIGRATIONS = [
  `CREATE TABLE builtin_alarms (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    severity TEXT NOT NULL,
    reason TEXT NOT NULL,
    reason_data TEXT NOT NULL,
    labels TEXT NOT NULL,
    state_timestamp TEXT NOT NULL,
    timestamp TEXT NOT NULL
  )`,
];

interface Row {
  key: string;
  kind: BuiltinRuleKind;
  state: BuiltinState;
  severity: AlarmSeverity;
  reason: string;
  reason_data: string;
  labels: string;
  state_timestamp: string;
  timestamp: string;
}

const fromRow = (r: Row): BuiltinAlarmRecord => ({
  key: r.key,
  kind: r.kind,
  state: r.state,
  severity: r.severity,
  reason: r.reason,
  reasonData: JSON.parse(r.reason_data) as Record<string, unknown>,
  labels: JSON.parse(r.labels) as Record<string, string>,
  stateTimestamp: r.state_timestamp,
  timestamp: r.timestamp,
});

export function createBuiltinStateStore(db: StateDatabase): BuiltinStateStore {
  migrateState(db, BUILTIN_STATE_COMPONENT, MIGRATIONS);
  const COLUMNS = 'key, kind, state, severity, reason, reason_data, labels, state_timestamp, timestamp';
  const selectAll = db.prepare<[], Row>(`SELECT ${COLUMNS} FROM builtin_alarms ORDER BY key`);
  const selectOne = db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM builtin_alarms WHERE key = ?`);
  const upsert = db.prepare(
    `INSERT INTO builtin_alarms (${COLUMNS}) VALUES (@key, @kind, @state, @severity, @reason, @reason_data, @labels, @state_timestamp, @timestamp)
     ON CONFLICT(key) DO UPDATE SET kind = excluded.kind, state = excluded.state, severity = excluded.severity, reason = excluded.reason,
       reason_data = excluded.reason_data, labels = excluded.labels, state_timestamp = excluded.state_timestamp, timestamp = excluded.timestamp`,
  );
  const putAll = db.transaction((records: readonly BuiltinAlarmRecord[]) => {
    for (const r of records) {
      upsert.run({ key: r.key, kind: r.kind, state: r.state, severity: r.severity, reason: r.reason, reason_data: JSON.stringify(r.reasonData), labels: JSON.stringify(r.labels), state_timestamp: r.stateTimestamp, timestamp: r.timestamp });
    }
  });
  return {
    all: () => selectAll.all().map(fromRow),
    get: (key) => {
      const row = selectOne.get(key);
      return row ? fromRow(row) : undefined;
    },
    putAll: (records) => putAll(records),
  };
}
