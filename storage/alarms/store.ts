/**
 * Alarm definitions and their current state in the transactional store (SQLite). Every
 * change returns the history entries it makes (Aodh's alarm_history: creation, rule
 * change, state transition, deletion); the caller writes them to ClickHouse
 * (storage/queries/alarm-history.ts). Names are unique per project, as in Aodh. Stable API.
 */
import { randomUUID } from 'node:crypto';
import { migrateState, systemClock, type Clock, type StateDatabase } from '../../core/index.ts';
import { AlarmError, DEFAULT_STATE_REASON, type Alarm, type AlarmDefinition, type AlarmSeverity, type AlarmState, type ParsedAlarm } from './model.ts';

/** The component name under which core's migrateState records this store's schema. */
export const ALARM_STORE_COMPONENT = 'alarms';

export const ALARM_CHANGE_TYPES = ['creation', 'rule change', 'state transition', 'deletion'] as const;
export type AlarmChangeType = (typeof ALARM_CHANGE_TYPES)[number];

/** One history entry (Aodh's AlarmChange), with the reason Cumulus adds to state transitions. */
export interface AlarmChange {
  event_id: string;
  alarm_id: string;
  type: AlarmChangeType;
  /** JSON text: the whole alarm (creation), the changed fields (rule change), {state, state_reason} (transition). */
  detail: string;
  /** Why: the state reason for a transition, '' otherwise. */
  reason: string;
  /** ISO 8601 (UTC). */
  timestamp: string;
  /** Who made the change. */
  user_id: string;
  project_id: string;
  /** The project that owns the alarm. */
  on_behalf_of: string;
  severity: AlarmSeverity;
}

/** Who changes an alarm (a token's user and project; the evaluator names itself). */
export interface AlarmActor {
  user_id: string;
  project_id: string;
}

export interface AlarmStore {
  /** 409 when the project already has an alarm of that name. */
  create(parsed: ParsedAlarm, by: AlarmActor): { alarm: Alarm; changes: AlarmChange[] };
  /** undefined when absent. */
  find(alarmId: string): Alarm | undefined;
  /** Every alarm of `projectId` (null: all), oldest first. */
  list(projectId: string | null): Alarm[];
  /** Replaces the definition (Aodh's PUT); a rule change and, when the state moved, a transition. 404 / 409. */
  update(alarmId: string, parsed: ParsedAlarm, by: AlarmActor): { alarm: Alarm; changes: AlarmChange[] };
  /** Sets the state (same state: the reason and timestamp are kept, no history). 404 when absent. */
  setState(alarmId: string, state: AlarmState, reason: string, by: AlarmActor): { alarm: Alarm; changes: AlarmChange[] };
  /** 404 when absent. */
  delete(alarmId: string, by: AlarmActor): AlarmChange[];
}

const MIGRATIONS = [
  // The definition is one JSON document; the columns beside it are what lists and the evaluator select on.
  `CREATE TABLE alarms (
    alarm_id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    state TEXT NOT NULL,
    state_reason TEXT NOT NULL,
    state_timestamp TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    created_seq INTEGER NOT NULL,
    definition TEXT NOT NULL,
    UNIQUE (project_id, name)
  )`,
  'CREATE INDEX alarms_type_enabled ON alarms (type, enabled)',
];

interface AlarmRow {
  alarm_id: string;
  state: AlarmState;
  state_reason: string;
  state_timestamp: string;
  timestamp: string;
  definition: string;
}

const fromRow = (row: AlarmRow): Alarm => ({
  alarm_id: row.alarm_id,
  ...(JSON.parse(row.definition) as AlarmDefinition),
  state: row.state,
  state_reason: row.state_reason,
  state_timestamp: row.state_timestamp,
  timestamp: row.timestamp,
});

const notFound = (alarmId: string) => new AlarmError('NOT_FOUND', `Alarm ${alarmId} not found`);
const duplicate = (name: string, projectId: string) => new AlarmError('CONFLICT', `Alarm with name='${name}' exists in project ${projectId}; names are unique per project`);
const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';

/** The fields a rule change compares (what a caller defines; timestamps and state aside). */
function definitionFields(alarm: Alarm): Record<string, unknown> {
  const { rule, ...rest } = definitionOf(alarm);
  return { ...rest, [`${alarm.type}_rule`]: rule };
}

export function createAlarmStore(db: StateDatabase, deps: { clock?: Clock } = {}): AlarmStore {
  const clock = deps.clock ?? systemClock;
  migrateState(db, ALARM_STORE_COMPONENT, MIGRATIONS);
  const now = () => new Date(clock.nowMs()).toISOString();

  const select = db.prepare<[string], AlarmRow>('SELECT alarm_id, state, state_reason, state_timestamp, timestamp, definition FROM alarms WHERE alarm_id = ?');
  const selectAll = db.prepare<[], AlarmRow>('SELECT alarm_id, state, state_reason, state_timestamp, timestamp, definition FROM alarms ORDER BY created_seq, alarm_id');
  const selectProject = db.prepare<[string], AlarmRow>('SELECT alarm_id, state, state_reason, state_timestamp, timestamp, definition FROM alarms WHERE project_id = ? ORDER BY created_seq, alarm_id');
  const nextSeq = db.prepare<[], { seq: number }>('SELECT COALESCE(MAX(created_seq), 0) + 1 AS seq FROM alarms');
  const insert = db.prepare(
    `INSERT INTO alarms (alarm_id, project_id, name, type, enabled, state, state_reason, state_timestamp, timestamp, created_seq, definition)
     VALUES (@alarm_id, @project_id, @name, @type, @enabled, @state, @state_reason, @state_timestamp, @timestamp, @created_seq, @definition)`,
  );
  const updateRow = db.prepare(
    `UPDATE alarms SET project_id = @project_id, name = @name, type = @type, enabled = @enabled, state = @state, state_reason = @state_reason,
     state_timestamp = @state_timestamp, timestamp = @timestamp, definition = @definition WHERE alarm_id = @alarm_id`,
  );
  const deleteRow = db.prepare<[string]>('DELETE FROM alarms WHERE alarm_id = ?');

  const change = (alarm: Alarm, type: AlarmChangeType, detail: unknown, by: AlarmActor, timestamp: string, reason = ''): AlarmChange => ({
    event_id: randomUUID(),
    alarm_id: alarm.alarm_id,
    type,
    detail: JSON.stringify(detail),
    reason,
    timestamp,
    user_id: by.user_id,
    project_id: by.project_id,
    on_behalf_of: alarm.project_id,
    severity: alarm.severity,
  });

  const rowOf = (alarm: Alarm) => ({
    alarm_id: alarm.alarm_id,
    project_id: alarm.project_id,
    name: alarm.name,
    type: alarm.type,
    enabled: alarm.enabled ? 1 : 0,
    state: alarm.state,
    state_reason: alarm.state_reason,
    state_timestamp: alarm.state_timestamp,
    timestamp: alarm.timestamp,
    definition: JSON.stringify(definitionOf(alarm)),
  });

  const get = (alarmId: string): Alarm => {
    const row = select.get(alarmId);
    if (!row) throw notFound(alarmId);
    return fromRow(row);
  };

  return {
    create: (parsed, by) => {
      const at = now();
      const alarm: Alarm = {
        alarm_id: randomUUID(),
        ...parsed.definition,
        state: parsed.state ?? 'insufficient data',
        state_reason: parsed.state_reason ?? DEFAULT_STATE_REASON,
        state_timestamp: at,
        timestamp: at,
      };
      try {
        db.transaction(() => insert.run({ ...rowOf(alarm), created_seq: nextSeq.get()!.seq }))();
      } catch (err) {
        if (isUniqueViolation(err)) throw duplicate(alarm.name, alarm.project_id);
        throw err;
      }
      return { alarm, changes: [change(alarm, 'creation', { alarm_id: alarm.alarm_id, ...definitionFields(alarm), state: alarm.state, state_reason: alarm.state_reason }, by, at)] };
    },
    find: (alarmId) => {
      const row = select.get(alarmId);
      return row ? fromRow(row) : undefined;
    },
    list: (projectId) => (projectId === null ? selectAll.all() : selectProject.all(projectId)).map(fromRow),
    update: (alarmId, parsed, by) =>
      db.transaction(() => {
        const before = get(alarmId);
        const at = now();
        const state = parsed.state ?? before.state;
        const moved = state !== before.state;
        const after: Alarm = {
          ...before,
          ...parsed.definition,
          state,
          state_reason: moved ? (parsed.state_reason ?? `Set by ${by.user_id} (alarm update)`) : before.state_reason,
          state_timestamp: moved ? at : before.state_timestamp,
          timestamp: at,
        };
        const old = definitionFields(before);
        const changed = Object.fromEntries(Object.entries(definitionFields(after)).filter(([key, value]) => JSON.stringify(value) !== JSON.stringify(old[key])));
        try {
          updateRow.run(rowOf(after));
        } catch (err) {
          if (isUniqueViolation(err)) throw duplicate(after.name, after.project_id);
          throw err;
        }
        const changes: AlarmChange[] = [];
        if (Object.keys(changed).length > 0) changes.push(change(after, 'rule change', changed, by, at));
        if (moved) changes.push(change(after, 'state transition', { state: after.state, state_reason: after.state_reason }, by, at, after.state_reason));
        return { alarm: after, changes };
      })(),
    setState: (alarmId, state, reason, by) =>
      db.transaction(() => {
        const before = get(alarmId);
        if (before.state === state) return { alarm: before, changes: [] };
        const at = now();
        const after: Alarm = { ...before, state, state_reason: reason, state_timestamp: at, timestamp: at };
        updateRow.run(rowOf(after));
        return { alarm: after, changes: [change(after, 'state transition', { state, state_reason: reason }, by, at, reason)] };
      })(),
    delete: (alarmId, by) =>
      db.transaction(() => {
        const before = get(alarmId);
        deleteRow.run(alarmId);
        return [change(before, 'deletion', { ...definitionFields(before), alarm_id: before.alarm_id, state: before.state, state_reason: before.state_reason }, by, now())];
      })(),
  };
}

/** The stored document: the definition only (state and timestamps have their columns). */
function definitionOf(alarm: Alarm): AlarmDefinition {
  const { name, description, type, enabled, severity, repeat_actions, time_constraints, alarm_actions, ok_actions, insufficient_data_actions, project_id, user_id, rule } = alarm;
  return { name, description, type, enabled, severity, repeat_actions, time_constraints, alarm_actions, ok_actions, insufficient_data_actions, project_id, user_id, rule };
}
