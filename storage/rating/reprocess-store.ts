/**
 * The rating processor's transactional state (SQLite): which periods are rated, under
 * which generation, and the reprocessing requests (CloudKitty's /v2/task/reprocesses),
 * kept with who asked, when and why. Experimental API.
 *
 * A period's generation and its `rated_at` are fixed here BEFORE its frames are written:
 * a rating interrupted between the insert and `completePeriod` is resumed with the same
 * generation, so it writes the same rows under the same deduplication token. `rated_at`
 * only grows from one generation of a period to the next, which is what makes a new
 * generation's rows replace the old ones in `rated_usage` (ReplacingMergeTree(rated_at)).
 */
import { ConfigError, InvalidInputError, migrateState, systemClock, type Clock, type StateDatabase } from '../../core/index.ts';

/** One rated (or being rated) period. */
export interface RatingPeriodState {
  readonly periodStart: Date;
  readonly periodEnd: Date;
  /** `pending` from the moment a generation begins until its frames are written and its stale rows gone. */
  readonly state: 'pending' | 'rated';
  /** 1 for the first rating, +1 per reprocess. */
  readonly generation: number;
  /** The generation's `rated_at` in `rated_usage`. */
  readonly ratedAt: Date;
  /** The projects the generation re-rates; null = every project. */
  readonly scope: readonly string[] | null;
  /** The reprocess request the generation serves (null for the first rating). */
  readonly reprocessId: number | null;
  /** Frames written by the generation (null while pending). */
  readonly frames: number | null;
  readonly updatedAt: Date;
}

/** Who asked for a reprocess (from the caller's token). */
export interface Requester {
  readonly userId: string;
  readonly userName: string;
  readonly projectId: string | null;
}

export interface ReprocessRequest {
  readonly id: number;
  /** The projects to re-rate; null = ALL. */
  readonly scopeIds: readonly string[] | null;
  /** [start, end): period starts, aligned to the rating period. */
  readonly start: Date;
  readonly end: Date;
  readonly reason: string;
  readonly requestedBy: Requester;
  readonly requestedAt: Date;
  /** pending (not started), running (some periods re-rated), done. */
  readonly state: 'pending' | 'running' | 'done';
  /** Start of the last period re-rated (CloudKitty's current_reprocess_time); null before the first. */
  readonly currentTime: Date | null;
  readonly completedAt: Date | null;
}

export interface ReprocessInput {
  /** CloudKitty's scope_ids: project ids, or ['ALL']. */
  readonly scopeIds: readonly string[];
  readonly start: Date;
  readonly end: Date;
  readonly reason: string;
  readonly requestedBy: Requester;
}

export interface ReprocessListQuery {
  /** Requests touching any of these projects (ALL requests included); every request when empty. */
  readonly scopeIds?: readonly string[];
  /** By request time (then id). Default desc, as CloudKitty. */
  readonly order?: 'asc' | 'desc';
}

export interface ReprocessStore {
  /** Seconds per rated period; reprocess windows must be aligned to it. */
  readonly periodSeconds: number;

  // --- the processor's period state ---
  period(start: Date): RatingPeriodState | undefined;
  /** Periods whose generation began but did not complete (a crash, a failed write), oldest first. */
  pendingPeriods(): RatingPeriodState[];
  /** The latest period ever begun. */
  lastPeriod(): RatingPeriodState | undefined;
  /** The earliest period ever begun. */
  firstPeriod(): RatingPeriodState | undefined;
  /**
   * The first generation of a period, pending, with `ratedAt` (when absent); the period's
   * state as it is otherwise (a pending one is resumed as it was begun).
   */
  beginPeriod(start: Date, end: Date, ratedAt: Date): RatingPeriodState;
  /**
   * A new generation of a rated period for a reprocess request: pending, generation + 1,
   * `ratedAt` = max(now, previous + 1 ms), the request's scope. Returns the pending
   * generation as it is when it already serves this request; undefined when the period was
   * never rated. Throws when another generation is pending (resume that first).
   */
  beginRegeneration(start: Date, reprocessId: number, now: Date): RatingPeriodState | undefined;
  /** Marks the generation rated (and moves its reprocess request on), in one transaction. */
  completePeriod(start: Date, generation: number, frames: number, now: Date): RatingPeriodState;

  // --- reprocess requests ---
  /** Records a request after checking it (400s name the field: RatingReprocessError). */
  createReprocess(input: ReprocessInput, now?: Date): ReprocessRequest;
  reprocess(id: number): ReprocessRequest | undefined;
  /** The requests, filtered and ordered (the API pages them). */
  listReprocesses(query?: ReprocessListQuery): ReprocessRequest[];
  /** Requests not done, oldest first: what the processor works through. */
  openReprocesses(): ReprocessRequest[];
  finishReprocess(id: number, now: Date): ReprocessRequest;
}

/** CloudKitty's word for every scope. */
export const ALL_SCOPES = 'ALL';
export const DEFAULT_RATING_PERIOD_SECONDS = 3600;
const MAX_SCOPE_ID_LENGTH = 255;
const MAX_REASON_LENGTH = 4096;

/** A reprocess request that cannot be accepted; names the field (CloudKitty's body field). */
export class RatingReprocessError extends InvalidInputError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('CUMULUS_RATING_REPROCESS_INVALID', `${field}: ${message}`);
    this.name = 'RatingReprocessError';
    this.field = field;
  }
}

/** The store was asked for a transition its state does not allow (a processor bug, or two processors). */
export class RatingStateError extends InvalidInputError {
  constructor(message: string) {
    super('CUMULUS_RATING_STATE_CONFLICT', message);
    this.name = 'RatingStateError';
  }
}

const MIGRATIONS = [
  `CREATE TABLE rating_reprocesses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope_ids TEXT,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL CHECK (end_ms > start_ms),
    reason TEXT NOT NULL,
    requested_by_user_id TEXT NOT NULL,
    requested_by_user_name TEXT NOT NULL,
    requested_by_project_id TEXT,
    requested_at_ms INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done')),
    current_ms INTEGER,
    completed_at_ms INTEGER
  )`,
  `CREATE TABLE rating_periods (
    period_start_ms INTEGER PRIMARY KEY,
    period_end_ms INTEGER NOT NULL CHECK (period_end_ms > period_start_ms),
    state TEXT NOT NULL CHECK (state IN ('pending', 'rated')),
    generation INTEGER NOT NULL CHECK (generation >= 1),
    rated_at_ms INTEGER NOT NULL,
    scope TEXT,
    reprocess_id INTEGER REFERENCES rating_reprocesses(id),
    frames INTEGER,
    updated_at_ms INTEGER NOT NULL
  )`,
  'CREATE INDEX rating_periods_pending ON rating_periods (state) WHERE state = \'pending\'',
];

interface PeriodRow {
  period_start_ms: number;
  period_end_ms: number;
  state: 'pending' | 'rated';
  generation: number;
  rated_at_ms: number;
  scope: string | null;
  reprocess_id: number | null;
  frames: number | null;
  updated_at_ms: number;
}

interface ReprocessRow {
  id: number;
  scope_ids: string | null;
  start_ms: number;
  end_ms: number;
  reason: string;
  requested_by_user_id: string;
  requested_by_user_name: string;
  requested_by_project_id: string | null;
  requested_at_ms: number;
  state: 'pending' | 'running' | 'done';
  current_ms: number | null;
  completed_at_ms: number | null;
}

const periodOf = (row: PeriodRow): RatingPeriodState => ({
  periodStart: new Date(row.period_start_ms),
  periodEnd: new Date(row.period_end_ms),
  state: row.state,
  generation: row.generation,
  ratedAt: new Date(row.rated_at_ms),
  scope: row.scope === null ? null : (JSON.parse(row.scope) as string[]),
  reprocessId: row.reprocess_id,
  frames: row.frames,
  updatedAt: new Date(row.updated_at_ms),
});

const reprocessOf = (row: ReprocessRow): ReprocessRequest => ({
  id: row.id,
  scopeIds: row.scope_ids === null ? null : (JSON.parse(row.scope_ids) as string[]),
  start: new Date(row.start_ms),
  end: new Date(row.end_ms),
  reason: row.reason,
  requestedBy: { userId: row.requested_by_user_id, userName: row.requested_by_user_name, projectId: row.requested_by_project_id },
  requestedAt: new Date(row.requested_at_ms),
  state: row.state,
  currentTime: row.current_ms === null ? null : new Date(row.current_ms),
  completedAt: row.completed_at_ms === null ? null : new Date(row.completed_at_ms),
});

const iso = (ms: number) => new Date(ms).toISOString();

/** Whether two scopes (null = ALL) share a project. */
const scopesMeet = (a: readonly string[] | null, b: readonly string[] | null) => a === null || b === null || a.some((id) => b.includes(id));

export function createReprocessStore(db: StateDatabase, config: { periodSeconds?: number; clock?: Clock } = {}): ReprocessStore {
  const periodSeconds = config.periodSeconds ?? DEFAULT_RATING_PERIOD_SECONDS;
  if (!Number.isInteger(periodSeconds) || periodSeconds < 60 || 86_400 % periodSeconds !== 0) {
    throw new ConfigError(`rating: periodSeconds must be a whole number of seconds from 60 that divides a day (3600 = hourly), got ${periodSeconds}`);
  }
  const periodMs = periodSeconds * 1000;
  const clock = config.clock ?? systemClock;
  migrateState(db, 'storage.rating-periods', MIGRATIONS);

  const sql = {
    period: db.prepare('SELECT * FROM rating_periods WHERE period_start_ms = ?'),
    pending: db.prepare("SELECT * FROM rating_periods WHERE state = 'pending' ORDER BY period_start_ms"),
    last: db.prepare('SELECT * FROM rating_periods ORDER BY period_start_ms DESC LIMIT 1'),
    first: db.prepare('SELECT * FROM rating_periods ORDER BY period_start_ms ASC LIMIT 1'),
    ratedIn: db.prepare("SELECT count(*) AS n FROM rating_periods WHERE period_start_ms >= ? AND period_start_ms < ? AND state = 'rated'"),
    insertPeriod: db.prepare(
      "INSERT INTO rating_periods (period_start_ms, period_end_ms, state, generation, rated_at_ms, scope, reprocess_id, frames, updated_at_ms) VALUES (?, ?, 'pending', 1, ?, NULL, NULL, NULL, ?)",
    ),
    regenerate: db.prepare("UPDATE rating_periods SET state = 'pending', generation = generation + 1, rated_at_ms = ?, scope = ?, reprocess_id = ?, frames = NULL, updated_at_ms = ? WHERE period_start_ms = ? AND state = 'rated'"),
    complete: db.prepare("UPDATE rating_periods SET state = 'rated', frames = ?, updated_at_ms = ? WHERE period_start_ms = ? AND generation = ? AND state = 'pending'"),
    insertReprocess: db.prepare(
      `INSERT INTO rating_reprocesses (scope_ids, start_ms, end_ms, reason, requested_by_user_id, requested_by_user_name, requested_by_project_id, requested_at_ms, state, current_ms, completed_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', NULL, NULL)`,
    ),
    reprocess: db.prepare('SELECT * FROM rating_reprocesses WHERE id = ?'),
    reprocesses: db.prepare('SELECT * FROM rating_reprocesses ORDER BY requested_at_ms, id'),
    open: db.prepare("SELECT * FROM rating_reprocesses WHERE state != 'done' ORDER BY id"),
    advance: db.prepare("UPDATE rating_reprocesses SET state = 'running', current_ms = max(coalesce(current_ms, 0), ?) WHERE id = ?"),
    finish: db.prepare("UPDATE rating_reprocesses SET state = 'done', completed_at_ms = ? WHERE id = ? AND state != 'done'"),
  };

  const readPeriod = (start: number) => {
    const row = sql.period.get(start) as PeriodRow | undefined;
    return row ? periodOf(row) : undefined;
  };
  const readReprocess = (id: number) => {
    const row = sql.reprocess.get(id) as ReprocessRow | undefined;
    return row ? reprocessOf(row) : undefined;
  };

  /** Checks a request the way CloudKitty's API does, with our fields' names in each message. */
  function checkRequest(input: ReprocessInput): readonly string[] | null {
    // 1. the fields alone
    if (input.reason.trim() === '') throw new RatingReprocessError('reason', 'expected the reason for reprocessing periods already rated; got an empty or blank text');
    if (input.reason.length > MAX_REASON_LENGTH) throw new RatingReprocessError('reason', `expected at most ${MAX_REASON_LENGTH} characters, got ${input.reason.length}`);
    if (input.scopeIds.length === 0) throw new RatingReprocessError('scope_ids', `expected project ids or "${ALL_SCOPES}", got none`);
    for (const id of input.scopeIds) {
      if (id.trim() === '' || id.length > MAX_SCOPE_ID_LENGTH) throw new RatingReprocessError('scope_ids', `expected project ids of 1 to ${MAX_SCOPE_ID_LENGTH} characters, got ${JSON.stringify(id)}`);
    }
    const all = input.scopeIds.includes(ALL_SCOPES);
    if (all && input.scopeIds.length !== 1) throw new RatingReprocessError('scope_ids', `"${ALL_SCOPES}" reprocesses every project and cannot be combined with project ids; got ${JSON.stringify(input.scopeIds)}`);
    const start = input.start.getTime();
    const end = input.end.getTime();
    if (!Number.isFinite(start)) throw new RatingReprocessError('start_reprocess_time', 'expected an ISO 8601 time');
    if (!Number.isFinite(end)) throw new RatingReprocessError('end_reprocess_time', 'expected an ISO 8601 time');
    if (end <= start) throw new RatingReprocessError('end_reprocess_time', `expected a time after start_reprocess_time ${iso(start)}, got ${iso(end)}`);
    // 2. the window against the rating period
    if (start % periodMs !== 0 || end % periodMs !== 0) {
      const validStart = Math.floor(start / periodMs) * periodMs;
      const validEnd = Math.max(Math.ceil(end / periodMs) * periodMs, validStart + periodMs);
      const field = start % periodMs !== 0 ? 'start_reprocess_time' : 'end_reprocess_time';
      throw new RatingReprocessError(field, `expected a time window aligned to the rating period (${periodSeconds} s); a valid time window near the provided one is [${iso(validStart)}, ${iso(validEnd)})`);
    }
    // 3. only what was rated can be re-rated
    const rated = (sql.ratedIn.get(start, end) as { n: number }).n;
    if (rated !== (end - start) / periodMs) {
      const first = sql.first.get() as PeriodRow | undefined;
      if (first === undefined) throw new RatingReprocessError('end_reprocess_time', 'no period has been rated yet: there is nothing to reprocess');
      if (start < first.period_start_ms) throw new RatingReprocessError('start_reprocess_time', `expected a time at or after the first rated period ${iso(first.period_start_ms)}, got ${iso(start)}`);
      const last = sql.last.get() as PeriodRow;
      throw new RatingReprocessError('end_reprocess_time', `expected a time at or before the end of the last rated period ${iso(last.period_end_ms)} (every period in the window rated), got ${iso(end)}`);
    }
    // 4. one open request per scope and time
    const scope = all ? null : [...new Set(input.scopeIds)].sort();
    for (const open of (sql.open.all() as ReprocessRow[]).map(reprocessOf)) {
      if (open.start.getTime() < end && start < open.end.getTime() && scopesMeet(open.scopeIds, scope)) {
        throw new RatingReprocessError(
          'scope_ids',
          `cannot schedule a reprocessing of [${iso(start)}, ${iso(end)}) for ${scope === null ? ALL_SCOPES : scope.join(', ')}: request ${open.id} for ${open.scopeIds === null ? ALL_SCOPES : open.scopeIds.join(', ')} over [${open.start.toISOString()}, ${open.end.toISOString()}) is not done yet`,
        );
      }
    }
    return scope;
  }

  return {
    periodSeconds,

    period: (start) => readPeriod(start.getTime()),
    pendingPeriods: () => (sql.pending.all() as PeriodRow[]).map(periodOf),
    lastPeriod: () => {
      const row = sql.last.get() as PeriodRow | undefined;
      return row ? periodOf(row) : undefined;
    },
    firstPeriod: () => {
      const row = sql.first.get() as PeriodRow | undefined;
      return row ? periodOf(row) : undefined;
    },

    beginPeriod(start, end, ratedAt) {
      return db.transaction(() => {
        const existing = readPeriod(start.getTime());
        if (existing) return existing;
        sql.insertPeriod.run(start.getTime(), end.getTime(), ratedAt.getTime(), clock.nowMs());
        return readPeriod(start.getTime()) as RatingPeriodState;
      })();
    },

    beginRegeneration(start, reprocessId, now) {
      return db.transaction(() => {
        const existing = readPeriod(start.getTime());
        if (!existing) return undefined;
        if (existing.state === 'pending') {
          if (existing.reprocessId === reprocessId) return existing;
          throw new RatingStateError(`period ${start.toISOString()} has generation ${existing.generation} pending; it must complete before reprocess ${reprocessId} re-rates it`);
        }
        const request = readReprocess(reprocessId);
        if (!request) throw new RatingStateError(`reprocess ${reprocessId} does not exist`);
        const ratedAt = Math.max(now.getTime(), existing.ratedAt.getTime() + 1);
        sql.regenerate.run(ratedAt, request.scopeIds === null ? null : JSON.stringify(request.scopeIds), reprocessId, clock.nowMs(), start.getTime());
        return readPeriod(start.getTime()) as RatingPeriodState;
      })();
    },

    completePeriod(start, generation, frames, now) {
      return db.transaction(() => {
        const existing = readPeriod(start.getTime());
        if (!existing || existing.generation !== generation) throw new RatingStateError(`period ${start.toISOString()} is not at generation ${generation} (found ${existing ? existing.generation : 'none'})`);
        if (existing.state === 'rated') return existing;
        sql.complete.run(frames, now.getTime(), start.getTime(), generation);
        if (existing.reprocessId !== null) sql.advance.run(start.getTime(), existing.reprocessId);
        return readPeriod(start.getTime()) as RatingPeriodState;
      })();
    },

    createReprocess(input, now = clock.now()) {
      return db.transaction(() => {
        const scope = checkRequest(input);
        const result = sql.insertReprocess.run(
          scope === null ? null : JSON.stringify(scope),
          input.start.getTime(),
          input.end.getTime(),
          input.reason,
          input.requestedBy.userId,
          input.requestedBy.userName,
          input.requestedBy.projectId,
          now.getTime(),
        );
        return readReprocess(Number(result.lastInsertRowid)) as ReprocessRequest;
      })();
    },

    reprocess: (id) => readReprocess(id),

    listReprocesses(query = {}) {
      const wanted = query.scopeIds ?? [];
      let all = (sql.reprocesses.all() as ReprocessRow[]).map(reprocessOf);
      if (wanted.length > 0) all = all.filter((r) => scopesMeet(r.scopeIds, wanted));
      if ((query.order ?? 'desc') === 'desc') all.reverse();
      return all;
    },

    openReprocesses: () => (sql.open.all() as ReprocessRow[]).map(reprocessOf),

    finishReprocess(id, now) {
      sql.finish.run(now.getTime(), id);
      const request = readReprocess(id);
      if (!request) throw new RatingStateError(`reprocess ${id} does not exist`);
      return request;
    },
  };
}
