/**
 * Silences (maintenance windows and false positives) in SQLite: matchers, a time window,
 * who and why. Alertmanager API v2's shapes (`startsAt`, `endsAt`, `createdBy`, `comment`,
 * `status.state` active|pending|expired); a silence is never deleted, only expired (its
 * end moved to now), so the record of who muted what stays. "Mark as false positive" is a
 * silence on the alarm's id with `falsePositive: true`. Experimental.
 */
import { randomUUID } from 'node:crypto';
import { migrateState, type Clock, type StateDatabase } from '../../core/index.ts';
import { SilenceError } from './errors.ts';
import { MatcherError } from './errors.ts';
import { fromApiMatcher, matchesAll, toApiMatcher, type ApiMatcher, type Matcher } from './matchers.ts';

export const SILENCES_COMPONENT = 'alert-silences';
export const MAX_SILENCE_COMMENT = 4096;

export type SilenceState = 'active' | 'pending' | 'expired';

export interface Silence {
  id: string;
  matchers: ApiMatcher[];
  /** ISO 8601 (UTC). */
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  updatedAt: string;
  status: { state: SilenceState };
  /** Cumulus: set by "mark as false positive", with the alarm it names. */
  falsePositive: boolean;
  alarmId: string | null;
}

/** What a caller posts (Alertmanager's PostableSilence); `id` updates an existing silence. */
export interface SilenceInput {
  id?: string;
  matchers: ApiMatcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

export interface SilenceStore {
  /** Creates (no id) or replaces (id) a silence; returns it. 400 / 404. */
  upsert(input: unknown): Silence;
  /** 404 when absent. */
  get(id: string): Silence;
  /** Every silence, newest first; `state` filters, `labels` keeps those whose matchers match them. */
  list(filter?: { state?: SilenceState; labels?: Record<string, string> }): Silence[];
  /** Ends it now (Alertmanager's DELETE); an expired silence stays expired. 404. */
  expire(id: string): Silence;
  /** The active silences' matchers, for the notifier's flush. */
  active(): { id: string; matchers: Matcher[] }[];
  /**
   * A silence of alarm `alarmId` flagged as a false positive, from now for `durationMs`;
   * with `projectId`, also matching project_id (the alarm's project), so its project's members see it.
   */
  markFalsePositive(alarmId: string, by: { createdBy: string; comment: string; durationMs: number; projectId?: string }): Silence;
}

const MIGRATIONS = [
  `CREATE TABLE alert_silences (
    id TEXT PRIMARY KEY,
    matchers TEXT NOT NULL,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    comment TEXT NOT NULL,
    false_positive INTEGER NOT NULL DEFAULT 0,
    alarm_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  )`,
  'CREATE INDEX alert_silences_window ON alert_silences (ends_at, starts_at)',
];

interface Row {
  id: string;
  matchers: string;
  starts_at: number;
  ends_at: number;
  created_by: string;
  comment: string;
  false_positive: number;
  alarm_id: string | null;
  updated_at: number;
}

const invalid = (message: string) => new SilenceError('invalid', message);
const shown = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));
const iso = (ms: number) => new Date(ms).toISOString();

function time(value: unknown, field: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw invalid(`${field}: expected an ISO 8601 time such as 2026-03-01T10:00:00Z, got ${shown(value)}`);
  return ms;
}

function text(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(`${field}: expected a non-empty string, got ${shown(value)}`);
  if (value.length > max) throw invalid(`${field}: expected at most ${max} characters, got ${value.length}`);
  return value;
}

/** Validates a posted silence (Alertmanager's PostableSilence). */
export function parseSilenceInput(value: unknown): SilenceInput & { parsed: Matcher[] } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`silence: expected an object {matchers, startsAt, endsAt, createdBy, comment}, got ${shown(value)}`);
  const v = value as Record<string, unknown>;
  const known = ['id', 'matchers', 'startsAt', 'endsAt', 'createdBy', 'comment', 'status', 'updatedAt'];
  const extra = Object.keys(v).filter((k) => !known.includes(k));
  if (extra.length > 0) throw invalid(`silence: unknown field(s) ${extra.map((k) => `'${k}'`).join(', ')} (expected ${known.slice(0, 6).join(', ')})`);
  if (!Array.isArray(v.matchers) || v.matchers.length === 0) throw invalid(`matchers: expected a non-empty list of {name, value, isRegex, isEqual}, got ${shown(v.matchers)}`);
  const matchers = v.matchers.map((m, i) => {
    const where = `matchers[${i}]`;
    if (typeof m !== 'object' || m === null) throw invalid(`${where}: expected {name, value, isRegex, isEqual}, got ${shown(m)}`);
    const o = m as Record<string, unknown>;
    if (typeof o.name !== 'string' || typeof o.value !== 'string' || typeof o.isRegex !== 'boolean') throw invalid(`${where}: expected {name: string, value: string, isRegex: boolean, isEqual?: boolean}, got ${shown(m)}`);
    if (o.isEqual !== undefined && typeof o.isEqual !== 'boolean') throw invalid(`${where}.isEqual: expected true or false, got ${shown(o.isEqual)}`);
    return { name: o.name, value: o.value, isRegex: o.isRegex, isEqual: o.isEqual === undefined ? true : o.isEqual };
  });
  let parsed: Matcher[];
  try {
    parsed = matchers.map((m, i) => fromApiMatcher(m, `matchers[${i}]`));
  } catch (err) {
    if (err instanceof MatcherError) throw new SilenceError('invalid', err.message, err);
    throw err;
  }
  // A silence that matches every alert (every matcher matches '') would mute everything: refuse it, as Alertmanager does.
  if (matchesAll(parsed, {})) throw invalid('matchers: expected at least one matcher that does not match an empty label (a silence must not mute every alert)');
  const startsAt = time(v.startsAt, 'startsAt');
  const endsAt = time(v.endsAt, 'endsAt');
  if (endsAt <= startsAt) throw invalid(`endsAt: expected a time after startsAt (${shown(v.startsAt)}), got ${shown(v.endsAt)}`);
  if (v.id !== undefined && (typeof v.id !== 'string' || v.id === '')) throw invalid(`id: expected the id of an existing silence, got ${shown(v.id)}`);
  return {
    ...(v.id === undefined ? {} : { id: v.id as string }),
    matchers,
    parsed,
    startsAt: iso(startsAt),
    endsAt: iso(endsAt),
    createdBy: text(v.createdBy, 'createdBy', 255),
    comment: text(v.comment, 'comment', MAX_SILENCE_COMMENT),
  };
}

export function createSilenceStore(db: StateDatabase, deps: { clock: Clock }): SilenceStore {
  const { clock } = deps;
  migrateState(db, SILENCES_COMPONENT, MIGRATIONS);
  const selectOne = db.prepare<[string], Row>('SELECT * FROM alert_silences WHERE id = ?');
  const selectAll = db.prepare<[], Row>('SELECT * FROM alert_silences ORDER BY created_at DESC, id');
  const selectActive = db.prepare<[number, number], Row>('SELECT * FROM alert_silences WHERE starts_at <= ? AND ends_at > ?');
  const insert = db.prepare(
    `INSERT INTO alert_silences (id, matchers, starts_at, ends_at, created_by, comment, false_positive, alarm_id, created_at, updated_at)
     VALUES (@id, @matchers, @starts_at, @ends_at, @created_by, @comment, @false_positive, @alarm_id, @now, @now)`,
  );
  const update = db.prepare('UPDATE alert_silences SET matchers = @matchers, starts_at = @starts_at, ends_at = @ends_at, created_by = @created_by, comment = @comment, updated_at = @now WHERE id = @id');
  const setEnd = db.prepare<[number, number, string]>('UPDATE alert_silences SET ends_at = ?, updated_at = ? WHERE id = ?');

  const stateOf = (r: Row, now: number): SilenceState => (r.ends_at <= now ? 'expired' : r.starts_at > now ? 'pending' : 'active');
  const view = (r: Row): Silence => ({
    id: r.id,
    matchers: JSON.parse(r.matchers) as ApiMatcher[],
    startsAt: iso(r.starts_at),
    endsAt: iso(r.ends_at),
    createdBy: r.created_by,
    comment: r.comment,
    updatedAt: iso(r.updated_at),
    status: { state: stateOf(r, clock.nowMs()) },
    falsePositive: r.false_positive === 1,
    alarmId: r.alarm_id,
  });
  const row = (id: string) => {
    const r = selectOne.get(id);
    if (!r) throw new SilenceError('notFound', `silence ${id} not found`);
    return r;
  };

  return {
    upsert(input) {
      const s = parseSilenceInput(input);
      const now = clock.nowMs();
      const fields = { matchers: JSON.stringify(s.matchers), starts_at: Date.parse(s.startsAt), ends_at: Date.parse(s.endsAt), created_by: s.createdBy, comment: s.comment, now };
      if (s.id !== undefined) {
        const existing = row(s.id);
        // As Alertmanager: an expired silence is not revived; the change makes a new one.
        if (stateOf(existing, now) !== 'expired') {
          update.run({ ...fields, id: s.id });
          return view(row(s.id));
        }
      }
      const id = randomUUID();
      insert.run({ ...fields, id, false_positive: 0, alarm_id: null });
      return view(row(id));
    },
    get: (id) => view(row(id)),
    list(filter = {}) {
      return selectAll
        .all()
        .map(view)
        .filter((s) => filter.state === undefined || s.status.state === filter.state)
        .filter((s) => filter.labels === undefined || matchesAll(s.matchers.map((m) => fromApiMatcher(m)), filter.labels));
    },
    expire(id) {
      const r = row(id);
      const now = clock.nowMs();
      if (stateOf(r, now) !== 'expired') setEnd.run(Math.max(now, r.starts_at), now, id);
      return view(row(id));
    },
    active() {
      const now = clock.nowMs();
      return selectActive.all(now, now).map((r) => ({ id: r.id, matchers: (JSON.parse(r.matchers) as ApiMatcher[]).map((m) => fromApiMatcher(m)) }));
    },
    markFalsePositive(alarmId, by) {
      if (!Number.isFinite(by.durationMs) || by.durationMs <= 0) throw invalid(`duration: expected a positive number of milliseconds, got ${shown(by.durationMs)}`);
      const now = clock.nowMs();
      const matchers = [toApiMatcher({ name: 'alarm_id', operator: '=', value: alarmId }), ...(by.projectId === undefined ? [] : [toApiMatcher({ name: 'project_id', operator: '=', value: by.projectId })])];
      const id = randomUUID();
      insert.run({ id, matchers: JSON.stringify(matchers), starts_at: now, ends_at: now + by.durationMs, created_by: text(by.createdBy, 'createdBy', 255), comment: text(by.comment, 'comment', MAX_SILENCE_COMMENT), false_positive: 1, alarm_id: alarmId, now });
      return view(row(id));
    },
  };
}
