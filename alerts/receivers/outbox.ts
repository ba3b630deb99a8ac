/**
 * The notification outbox (SQLite) and its drainer. The notifier writes a notification
 * into the outbox in the same transaction that records why (the group's state), so a
 * restart loses none; the drainer claims due rows, sends them, retries 5xx, 429 and
 * network errors with exponential backoff and jitter up to a maximum age, gives up on any
 * other 4xx, and writes every attempt to ClickHouse `alert_deliveries`.
 *
 * Exactly once, precisely: a row is marked delivered in SQLite right after its 2xx, before
 * anything else happens. The one window left is a crash after the receiver answered 2xx
 * and before that mark commits (or a 2xx lost to a timeout): the row is then sent again
 * once, with the same notification id (`X-Cumulus-Notification-Id`, Aodh's
 * `x-openstack-request-id: req-<id>`, PagerDuty's stable dedup_key, which PagerDuty
 * dedups itself), so a receiver that keeps the ids it saw drops it. Nothing else is ever
 * sent twice: a failed attempt is recorded before the next one is scheduled.
 */
import type { Clock, ComponentTelemetry, Logger, StateDatabase } from '../../core/index.ts';
import { errorMessage, migrateState, refusedByReason } from '../../core/index.ts';
import type { ClickHouseDriver } from '../../storage/index.ts';
import { scrubSecrets } from './redact.ts';
import type { OutboundRequest, ReceiverKind } from './types.ts';

/** The component name under which core's migrateState records the outbox table. */
export const OUTBOX_COMPONENT = 'alert-outbox';
/** The delivery log (storage migration 7). */
export const ALERT_DELIVERIES_TABLE = 'alert_deliveries';

export const DEFAULT_DELIVERY_TIMEOUT_MS = 10_000;
export const DEFAULT_INITIAL_BACKOFF_MS = 5_000;
export const DEFAULT_MAX_BACKOFF_MS = 5 * 60_000;
/** A notification not delivered after a day is stale: the on-call has moved on. */
export const DEFAULT_MAX_AGE_MS = 24 * 3_600_000;
export const DEFAULT_DRAIN_BATCH = 20;
/** Delivered and failed rows stay this long (for `outboxEntries`), then go. */
export const OUTBOX_RETENTION_MS = 7 * 24 * 3_600_000;
/** A claim outlives the request's timeout by this much, so a slow send is never taken twice. */
const CLAIM_MARGIN_MS = 5_000;
/** Error text kept per attempt. */
const ERROR_MAX = 500;

export interface DeliveryPolicy {
  timeoutMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  maxAgeMs: number;
  batchSize: number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = {
  timeoutMs: DEFAULT_DELIVERY_TIMEOUT_MS,
  initialBackoffMs: DEFAULT_INITIAL_BACKOFF_MS,
  maxBackoffMs: DEFAULT_MAX_BACKOFF_MS,
  maxAgeMs: DEFAULT_MAX_AGE_MS,
  batchSize: DEFAULT_DRAIN_BATCH,
};

const MIGRATIONS = [
  `CREATE TABLE alert_outbox (
    id TEXT PRIMARY KEY,
    receiver TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    request TEXT NOT NULL,
    group_key TEXT NOT NULL,
    alarm_ids TEXT NOT NULL,
    resolved INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending',
    claimed_until INTEGER NOT NULL DEFAULT 0,
    last_http_status INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
  )`,
  'CREATE INDEX alert_outbox_due ON alert_outbox (status, next_attempt_at)',
];

export function migrateOutbox(db: StateDatabase): void {
  migrateState(db, OUTBOX_COMPONENT, MIGRATIONS);
}

/** A notification to deliver. `id` is its idempotency key: enqueueing the same id twice keeps one. */
export interface OutboxEntry {
  id: string;
  receiver: string;
  groupKey: string;
  alarmIds: string[];
  resolved: boolean;
  request: OutboundRequest;
}

export type OutboxStatus = 'pending' | 'delivered' | 'failed';

export interface OutboxRow {
  id: string;
  receiver: string;
  kind: ReceiverKind;
  target: string;
  groupKey: string;
  alarmIds: string[];
  resolved: boolean;
  request: OutboundRequest;
  createdAt: number;
  nextAttemptAt: number;
  attempts: number;
  status: OutboxStatus;
  lastHttpStatus: number;
  lastError: string;
}

interface RawRow {
  id: string;
  receiver: string;
  kind: ReceiverKind;
  target: string;
  request: string;
  group_key: string;
  alarm_ids: string;
  resolved: number;
  created_at: number;
  next_attempt_at: number;
  attempts: number;
  status: OutboxStatus;
  last_http_status: number;
  last_error: string;
}

const fromRaw = (r: RawRow): OutboxRow => ({
  id: r.id,
  receiver: r.receiver,
  kind: r.kind,
  target: r.target,
  groupKey: r.group_key,
  alarmIds: JSON.parse(r.alarm_ids) as string[],
  resolved: r.resolved === 1,
  request: JSON.parse(r.request) as OutboundRequest,
  createdAt: r.created_at,
  nextAttemptAt: r.next_attempt_at,
  attempts: r.attempts,
  status: r.status,
  lastHttpStatus: r.last_http_status,
  lastError: r.last_error,
});

/**
 * Adds entries to the outbox; call it inside the caller's transaction so the notification
 * commits together with the state that caused it. Returns how many were new.
 */
export function enqueueNotifications(db: StateDatabase, entries: readonly OutboxEntry[], nowMs: number): number {
  const insert = db.prepare(
    `INSERT OR IGNORE INTO alert_outbox (id, receiver, kind, target, request, group_key, alarm_ids, resolved, created_at, next_attempt_at, updated_at)
     VALUES (@id, @receiver, @kind, @target, @request, @group_key, @alarm_ids, @resolved, @now, @now, @now)`,
  );
  let added = 0;
  for (const e of entries) {
    added += insert.run({ id: e.id, receiver: e.receiver, kind: e.request.kind, target: e.request.target, request: JSON.stringify(e.request), group_key: e.groupKey, alarm_ids: JSON.stringify(e.alarmIds), resolved: e.resolved ? 1 : 0, now: nowMs }).changes;
  }
  return added;
}

/** The outbox's rows, oldest first (operators and tests). */
export function outboxEntries(db: StateDatabase, filter: { status?: OutboxStatus } = {}): OutboxRow[] {
  const rows = filter.status === undefined
    ? db.prepare<[], RawRow>('SELECT * FROM alert_outbox ORDER BY created_at, id').all()
    : db.prepare<[string], RawRow>('SELECT * FROM alert_outbox WHERE status = ? ORDER BY created_at, id').all(filter.status);
  return rows.map(fromRaw);
}

/** One row of `alert_deliveries`. */
export interface DeliveryRecord {
  notification_id: string;
  at: string;
  attempt: number;
  receiver: string;
  kind: string;
  target: string;
  group_key: string;
  alarm_ids: string[];
  status: 'delivered' | 'retrying' | 'failed' | 'silenced';
  resolved: number;
  http_status: number;
  error: string;
  duration_ms: number;
}

/** ClickHouse DateTime64(3) text from epoch ms (it parses 'YYYY-MM-DD hh:mm:ss.sss'). */
export const clickhouseTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

export interface DrainResult {
  delivered: number;
  retrying: number;
  failed: number;
}

export interface OutboxDrainer {
  /** Sends every due notification once; resolves when their outcomes are recorded. */
  drain(): Promise<DrainResult>;
}

export interface OutboxDrainerDeps {
  db: StateDatabase;
  store: ClickHouseDriver;
  clock: Clock;
  logger: Logger;
  fetch?: typeof fetch;
  telemetry?: ComponentTelemetry;
  /** [0, 1): the jitter's source (tests pin it). */
  random?: () => number;
  /** Secrets to scrub from error texts (webhook URLs, routing keys); the rows' own URLs are always scrubbed. */
  secrets?: () => readonly string[];
}

interface Outcome {
  ok: boolean;
  retryable: boolean;
  httpStatus: number;
  error: string;
  retryAfterMs: number;
  durationMs: number;
}

/** The backoff before attempt `attempt + 1`: doubling from the initial one, capped, half of it jittered. */
export function backoffMs(policy: DeliveryPolicy, attempt: number, random: () => number): number {
  const full = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + (random() * full) / 2);
}

function parseRetryAfter(value: string | null, nowMs: number): number {
  if (!value) return 0;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? 0 : Math.max(0, at - nowMs);
}

export function createOutboxDrainer(policy: DeliveryPolicy, deps: OutboxDrainerDeps): OutboxDrainer {
  const { db, store, clock, logger } = deps;
  const doFetch = deps.fetch ?? globalThis.fetch;
  const random = deps.random ?? Math.random;
  migrateOutbox(db);

  const selectDue = db.prepare<[number, number, number], RawRow>(
    "SELECT * FROM alert_outbox WHERE status = 'pending' AND next_attempt_at <= ? AND claimed_until <= ? ORDER BY next_attempt_at, id LIMIT ?",
  );
  const claim = db.prepare<[number, number, string]>('UPDATE alert_outbox SET claimed_until = ?, updated_at = ? WHERE id = ?');
  const markDelivered = db.prepare<[number, number, number, string]>(
    "UPDATE alert_outbox SET status = 'delivered', attempts = ?, last_http_status = ?, last_error = '', claimed_until = 0, updated_at = ? WHERE id = ?",
  );
  const markRetry = db.prepare<[number, number, number, string, number, string]>(
    'UPDATE alert_outbox SET attempts = ?, next_attempt_at = ?, last_http_status = ?, last_error = ?, claimed_until = 0, updated_at = ? WHERE id = ?',
  );
  const markFailed = db.prepare<[number, number, string, number, string]>(
    "UPDATE alert_outbox SET status = 'failed', attempts = ?, last_http_status = ?, last_error = ?, claimed_until = 0, updated_at = ? WHERE id = ?",
  );
  const prune = db.prepare<[number]>("DELETE FROM alert_outbox WHERE status != 'pending' AND updated_at < ?");

  const scrub = (text: string, row: OutboxRow) => {
    const secrets = [row.request.url, ...(deps.secrets?.() ?? [])];
    try {
      const u = new URL(row.request.url);
      secrets.push(u.pathname, u.search);
    } catch {
      // not a URL: nothing more to scrub
    }
    return scrubSecrets(text, secrets.filter((s) => s.length > 1)).slice(0, ERROR_MAX);
  };

  async function send(row: OutboxRow): Promise<Outcome> {
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 1000) / 1000;
    if (row.kind === 'log') {
      // Aodh's log:// action: the body at info level, nothing sent anywhere.
      logger.info({ notification: row.id, action: 'log', body: JSON.parse(row.request.body) as unknown }, 'alarm action');
      return { ok: true, retryable: false, httpStatus: 0, error: '', retryAfterMs: 0, durationMs: elapsed() };
    }
    try {
      const res = await doFetch(row.request.url, { method: 'POST', headers: row.request.headers, body: row.request.body, signal: AbortSignal.timeout(policy.timeoutMs), redirect: 'error' });
      const text = await res.text().catch(() => '');
      if (res.ok) return { ok: true, retryable: false, httpStatus: res.status, error: '', retryAfterMs: 0, durationMs: elapsed() };
      const retryable = res.status >= 500 || res.status === 429;
      return { ok: false, retryable, httpStatus: res.status, error: scrub(`HTTP ${res.status}: ${text.slice(0, 200)}`, row), retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), clock.nowMs()), durationMs: elapsed() };
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      const message = cause === undefined ? errorMessage(err) : `${errorMessage(err)}: ${errorMessage(cause)}`;
      return { ok: false, retryable: true, httpStatus: 0, error: scrub(message, row), retryAfterMs: 0, durationMs: elapsed() };
    }
  }

  return {
    async drain() {
      const result: DrainResult = { delivered: 0, retrying: 0, failed: 0 };
      const now = clock.nowMs();
      // 1. Claim due rows in one transaction: another notifier on the same database skips them until the claim lapses.
      const rows = db.transaction(() => {
        const due = selectDue.all(now, now, policy.batchSize).map(fromRaw);
        for (const r of due) claim.run(now + policy.timeoutMs + CLAIM_MARGIN_MS, now, r.id);
        return due;
      }).immediate();
      if (rows.length === 0) {
        prune.run(now - OUTBOX_RETENTION_MS);
        return result;
      }
      // 2. Send them concurrently (one slow receiver must not hold the others back), and
      // 3. record each outcome in SQLite the moment it is known: a 2xx is marked delivered
      // before anything else happens, which keeps the duplicate window as short as it can be.
      const records: DeliveryRecord[] = [];
      const record = (row: OutboxRow, o: Outcome) => {
        const at = clock.nowMs();
        const attempt = row.attempts + 1;
        let status: DeliveryRecord['status'];
        if (o.ok) {
          markDelivered.run(attempt, o.httpStatus, at, row.id);
          status = 'delivered';
          result.delivered += 1;
        } else {
          const next = at + Math.max(backoffMs(policy, attempt, random), o.retryAfterMs);
          if (o.retryable && next - row.createdAt <= policy.maxAgeMs) {
            markRetry.run(attempt, next, o.httpStatus, o.error, at, row.id);
            status = 'retrying';
            result.retrying += 1;
          } else {
            const why = o.retryable ? `${o.error} (gave up: older than ${policy.maxAgeMs} ms)` : o.error;
            markFailed.run(attempt, o.httpStatus, why, at, row.id);
            status = 'failed';
            result.failed += 1;
          }
        }
        records.push({ notification_id: row.id, at: clickhouseTime(at), attempt, receiver: row.receiver, kind: row.kind, target: row.target, group_key: row.groupKey, alarm_ids: row.alarmIds, status, resolved: row.resolved ? 1 : 0, http_status: o.httpStatus, error: o.error, duration_ms: o.durationMs });
      };
      await Promise.all(rows.map(async (row) => record(row, await send(row))));
      records.sort((a, b) => (a.notification_id < b.notification_id ? -1 : a.notification_id > b.notification_id ? 1 : 0));
      for (const r of records) {
        const line = { notification: r.notification_id, receiver: r.receiver, kind: r.kind, target: r.target, attempt: r.attempt, httpStatus: r.http_status };
        if (r.status === 'delivered') logger.info(line, 'notification delivered');
        else if (r.status === 'retrying') logger.warn({ ...line, error: r.error }, 'notification not delivered; will retry');
        else logger.error({ ...line, error: r.error }, 'notification failed; not retried');
      }
      deps.telemetry?.accepted(result.delivered);
      // By receiver kind: which kind of delivery fails is what an operator acts on.
      if (deps.telemetry) refusedByReason(deps.telemetry, records.filter((r) => r.status === 'failed').map((r) => r.kind));
      // 4. Then the delivery log. Best effort: the outbox row already holds the outcome, and a
      // retried insert of the same attempts is dropped by the table (dedup token).
      try {
        await store.insert(ALERT_DELIVERIES_TABLE, records, { dedupToken: `alert-deliveries:${records.map((r) => `${r.notification_id}#${r.attempt}`).join(',')}` });
      } catch (err) {
        logger.warn({ err: errorMessage(err), attempts: records.length }, 'delivery log insert failed; outcomes are kept in the outbox');
      }
      return result;
    },
  };
}
