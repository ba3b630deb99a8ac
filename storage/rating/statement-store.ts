/**
 * Issued statements and their numbers, in the transactional store (SQLite): a number is
 * given once and never reused, so this needs uniqueness and atomic changes that ClickHouse
 * does not give. Stable API.
 *
 * Numbering: `CUM-<yyyymm>-<scope>-<seq>[-R<revision>]`, where <scope> is the first 8
 * letters and digits of the project id (`D` and the domain id's for a domain statement),
 * <seq> the statement's 6-digit sequence within the month (given at its first issue), and
 * a re-issue after the content changed (reprocessing) keeps the sequence and adds
 * `-R2`, `-R3`... Issuing content equal to the latest revision's (same digest) returns that
 * revision: rendering a statement again never renumbers it.
 */
import { migrateState, systemClock, type Clock, type StateDatabase } from '../../core/index.ts';
import type { StatementContent } from './statement.ts';

export const DEFAULT_STATEMENT_LIST_LIMIT = 100;
export const MAX_STATEMENT_LIST_LIMIT = 1000;

/** One issue (revision) of a statement, without its content. */
export interface IssuedStatement {
  readonly number: string;
  readonly revision: number;
  readonly scope: { readonly type: 'project' | 'domain'; readonly id: string; readonly project_ids: readonly string[] };
  readonly month: string;
  readonly currency: string;
  readonly total: string;
  readonly line_count: number;
  /** SHA-256 of the content (./statement.ts statementDigest). */
  readonly digest: string;
  /** ISO 8601. */
  readonly issued_at: string;
  /** `job` for the monthly job, else the user id that caused the issue. */
  readonly issued_by: string;
  /** The previous revision's number, for a re-issue. */
  readonly supersedes: string | null;
  /** The next revision's number, once re-issued. */
  readonly superseded_by: string | null;
}

export interface StatementListFilter {
  /** Only this month (`YYYY-MM`). */
  readonly month?: string;
  /** Only this project's own statements; null: every statement (operators). */
  readonly projectId: string | null;
  readonly limit?: number;
  readonly offset?: number;
}

export interface StatementStore {
  /**
   * Issues the content (atomically): the latest revision when its digest is `digest`
   * (`created` false), else a new revision with the scope's sequence in the month (given
   * now for the first issue).
   */
  issue(content: StatementContent, digest: string, issuedBy: string): { issued: IssuedStatement; created: boolean };
  /** Newest month first, then by number. */
  list(filter: StatementListFilter): IssuedStatement[];
  /** An issued revision with the content it was issued with; undefined when unknown. */
  get(number: string): { issued: IssuedStatement; content: StatementContent } | undefined;
}

const MIGRATIONS = [
  // The last sequence given per month: numbers are never reused, even if a row is removed by hand.
  'CREATE TABLE statement_sequences (month TEXT PRIMARY KEY, last_seq INTEGER NOT NULL)',
  `CREATE TABLE statements (
    number TEXT PRIMARY KEY,
    scope_type TEXT NOT NULL CHECK (scope_type IN ('project', 'domain')),
    scope_id TEXT NOT NULL,
    project_ids TEXT NOT NULL,
    month TEXT NOT NULL,
    seq INTEGER NOT NULL,
    revision INTEGER NOT NULL CHECK (revision >= 1),
    digest TEXT NOT NULL,
    currency TEXT NOT NULL,
    total TEXT NOT NULL,
    line_count INTEGER NOT NULL,
    issued_at INTEGER NOT NULL,
    issued_by TEXT NOT NULL,
    content TEXT NOT NULL,
    UNIQUE (scope_type, scope_id, month, revision)
  )`,
  'CREATE INDEX statements_by_month ON statements (month, scope_type, scope_id)',
];

interface StatementRow {
  number: string;
  scope_type: 'project' | 'domain';
  scope_id: string;
  project_ids: string;
  month: string;
  seq: number;
  revision: number;
  digest: string;
  currency: string;
  total: string;
  line_count: number;
  issued_at: number;
  issued_by: string;
  supersedes: string | null;
  superseded_by: string | null;
}

/** The scope part of a number: up to 8 lower-case letters and digits of the id. */
export function numberScope(type: 'project' | 'domain', id: string): string {
  const short = id.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 8) || 'x';
  return type === 'domain' ? `D${short}` : short;
}

export function statementNumber(month: string, type: 'project' | 'domain', id: string, seq: number, revision: number): string {
  return `CUM-${month.replace('-', '')}-${numberScope(type, id)}-${String(seq).padStart(6, '0')}${revision > 1 ? `-R${revision}` : ''}`;
}

const COLUMNS = `s.number, s.scope_type, s.scope_id, s.project_ids, s.month, s.seq, s.revision, s.digest, s.currency, s.total, s.line_count, s.issued_at, s.issued_by,
  (SELECT p.number FROM statements p WHERE p.scope_type = s.scope_type AND p.scope_id = s.scope_id AND p.month = s.month AND p.revision = s.revision - 1) AS supersedes,
  (SELECT n.number FROM statements n WHERE n.scope_type = s.scope_type AND n.scope_id = s.scope_id AND n.month = s.month AND n.revision = s.revision + 1) AS superseded_by`;

const fromRow = (row: StatementRow): IssuedStatement => ({
  number: row.number,
  revision: row.revision,
  scope: { type: row.scope_type, id: row.scope_id, project_ids: JSON.parse(row.project_ids) as string[] },
  month: row.month,
  currency: row.currency,
  total: row.total,
  line_count: row.line_count,
  digest: row.digest,
  issued_at: new Date(row.issued_at).toISOString(),
  issued_by: row.issued_by,
  supersedes: row.supersedes,
  superseded_by: row.superseded_by,
});

export function createStatementStore(deps: { readonly db: StateDatabase; readonly clock?: Clock }): StatementStore {
  const { db } = deps;
  const clock = deps.clock ?? systemClock;
  migrateState(db, 'storage.rating.statements', MIGRATIONS);
  const sql = {
    latest: db.prepare(`SELECT ${COLUMNS} FROM statements s WHERE s.scope_type = ? AND s.scope_id = ? AND s.month = ? ORDER BY s.revision DESC LIMIT 1`),
    byNumber: db.prepare(`SELECT ${COLUMNS}, s.content FROM statements s WHERE s.number = ?`),
    nextSeq: db.prepare('INSERT INTO statement_sequences (month, last_seq) VALUES (?, 1) ON CONFLICT(month) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq'),
    insert: db.prepare(
      `INSERT INTO statements (number, scope_type, scope_id, project_ids, month, seq, revision, digest, currency, total, line_count, issued_at, issued_by, content)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
  };

  // IMMEDIATE: the read of the latest revision and the insert of the next are one step, also across processes.
  const issue = db.transaction((content: StatementContent, digest: string, issuedBy: string) => {
    const { type, id, project_ids } = content.scope;
    const month = content.period.month;
    const latest = sql.latest.get(type, id, month) as StatementRow | undefined;
    if (latest && latest.digest === digest) return { issued: fromRow(latest), created: false };
    const seq = latest?.seq ?? (sql.nextSeq.get(month) as { last_seq: number }).last_seq;
    const revision = (latest?.revision ?? 0) + 1;
    const number = statementNumber(month, type, id, seq, revision);
    const lineCount = content.services.reduce((n, s) => n + s.lines.length, 0);
    sql.insert.run(number, type, id, JSON.stringify(project_ids), month, seq, revision, digest, content.currency, content.total, lineCount, clock.nowMs(), issuedBy, JSON.stringify(content));
    return { issued: fromRow(sql.latest.get(type, id, month) as StatementRow), created: true };
  });

  return {
    issue: (content, digest, issuedBy) => issue.immediate(content, digest, issuedBy),
    list(filter) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.month !== undefined) {
        where.push('s.month = ?');
        params.push(filter.month);
      }
      if (filter.projectId !== null) {
        where.push("s.scope_type = 'project' AND s.scope_id = ?");
        params.push(filter.projectId);
      }
      const limit = Math.min(filter.limit ?? DEFAULT_STATEMENT_LIST_LIMIT, MAX_STATEMENT_LIST_LIMIT);
      params.push(limit, filter.offset ?? 0);
      const rows = db.prepare(`SELECT ${COLUMNS} FROM statements s ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY s.month DESC, s.number LIMIT ? OFFSET ?`).all(...params) as StatementRow[];
      return rows.map(fromRow);
    },
    get(number) {
      const row = sql.byNumber.get(number) as (StatementRow & { content: string }) | undefined;
      return row ? { issued: fromRow(row), content: JSON.parse(row.content) as StatementContent } : undefined;
    },
  };
}
