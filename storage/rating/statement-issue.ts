/**
 * Issuing statements: the one path the API (on demand) and the monthly job take, so a
 * statement gets the same number whoever renders it first. Stable API.
 */
import type { Clock } from '../../core/index.ts';
import type { ClickHouseDriver } from '../driver.ts';
import { selectRatedProjects } from '../queries/rating-reports.ts';
import { DEFAULT_STATEMENT_CLOSE_DELAY_MS, STATEMENT_ROUNDING_RULE, StatementError, loadStatementContent, projectScope, statementDigest, type Statement, type StatementContent, type StatementMonth, type StatementScope } from './statement.ts';
import type { IssuedStatement, StatementStore } from './statement-store.ts';

export interface StatementDeps {
  readonly store: ClickHouseDriver;
  readonly statements: StatementStore;
  readonly clock: Clock;
  readonly closeDelayMs?: number;
}

/** Whether the month's statements are issued (numbered) rather than drafts, at `now`. */
export function isMonthClosed(month: StatementMonth, nowMs: number, closeDelayMs = DEFAULT_STATEMENT_CLOSE_DELAY_MS): boolean {
  return nowMs >= month.end.getTime() + closeDelayMs;
}

/** The statement with its number attached (or as a draft when `issued` is null). */
export function numberedStatement(content: StatementContent, issued: IssuedStatement | null): Statement {
  return {
    number: issued?.number ?? null,
    revision: issued?.revision ?? null,
    status: issued ? 'issued' : 'draft',
    issued_at: issued?.issued_at ?? null,
    supersedes: issued?.supersedes ?? null,
    rounding: STATEMENT_ROUNDING_RULE,
    ...content,
  };
}

/**
 * The statement of a scope for a month, as of now: a draft while the month is open; once
 * closed, issued: the same number as long as its content is unchanged, a new revision when
 * reprocessing changed it. A scope without rated usage in the month has no statement (404).
 */
export async function currentStatement(deps: StatementDeps, scope: StatementScope, month: StatementMonth, issuedBy: string): Promise<{ statement: Statement; created: boolean }> {
  const content = await loadStatementContent(deps.store, scope, month);
  if (content.services.length === 0) {
    throw new StatementError('CUMULUS_RATING_NO_STATEMENT', 404, `No statement: ${scope.type} ${scope.id} has no rated usage in ${month.month}.`);
  }
  if (!isMonthClosed(month, deps.clock.nowMs(), deps.closeDelayMs)) return { statement: numberedStatement(content, null), created: false };
  const { issued, created } = deps.statements.issue(content, statementDigest(content), issuedBy);
  return { statement: numberedStatement(content, issued), created };
}

export interface MonthIssue {
  readonly month: string;
  readonly statements: ReadonlyArray<{ readonly project_id: string; readonly number: string; readonly revision: number; readonly outcome: 'issued' | 'unchanged'; readonly total: string; readonly currency: string }>;
}

/** Issues the statement of every project with rated usage in a closed month (the monthly job, and POST .../statements/issue). */
export async function issueMonthStatements(deps: StatementDeps, month: StatementMonth, issuedBy: string): Promise<MonthIssue> {
  if (!isMonthClosed(month, deps.clock.nowMs(), deps.closeDelayMs)) {
    throw new StatementError('CUMULUS_RATING_MONTH_OPEN', 409, `Statements of ${month.month} cannot be issued before ${new Date(month.end.getTime() + (deps.closeDelayMs ?? DEFAULT_STATEMENT_CLOSE_DELAY_MS)).toISOString()}: the month is still open.`);
  }
  const projects = await deps.store.query<{ project_id: string }>(selectRatedProjects(month.start, month.end));
  const statements: Array<MonthIssue['statements'][number]> = [];
  for (const { project_id } of projects) {
    const current = await currentStatement(deps, projectScope(project_id), month, issuedBy).catch((err: unknown) => {
      // Re-rated to nothing between the two reads: nothing to issue.
      if (err instanceof StatementError && err.code === 'CUMULUS_RATING_NO_STATEMENT') return null;
      throw err;
    });
    if (current === null) continue;
    const { statement, created } = current;
    statements.push({ project_id, number: statement.number as string, revision: statement.revision as number, outcome: created ? 'issued' : 'unchanged', total: statement.total, currency: statement.currency });
  }
  return { month: month.month, statements };
}
